use crate::helpers::{postgres_admin_url, spawn_app};

#[actix_web::test]
async fn healthz_and_readyz_answer() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ready");
    assert_eq!(r.body["checks_passed"], serde_json::json!(["database", "sealer", "outbox"]));
    assert_eq!(r.body["reasons"], serde_json::json!([]));
}

/// Liveness needs no database: a process whose database is away is alive (restarting it
/// helps nothing), and readiness names the database. On PostgreSQL only: a SQLite file can't
/// be taken away from the connections that have it open.
#[actix_web::test]
async fn without_its_database_readyz_says_so_and_healthz_still_answers() {
    let (app, db) = spawn_app().await;
    if postgres_admin_url().is_none() {
        return;
    }
    drop(db); // DROP DATABASE ... WITH (FORCE): every connection goes, and none can come back
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["status"], "not_ready");
    assert_eq!(r.body["reasons"], serde_json::json!([{"code": "database_unreachable"}]));
    assert_eq!(r.body["checks_passed"], serde_json::json!([]));
    assert_eq!(r.body["database"], "postgres");
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, 200);
}

/// CI runs the suite a second time with TEST_DATABASE_URL; this proves that run really used
/// PostgreSQL (and the first one SQLite) rather than quietly falling back.
#[actix_web::test]
async fn the_suite_runs_on_the_requested_backend() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/readyz", None).await;
    let expected = if postgres_admin_url().is_some() { "postgres" } else { "sqlite" };
    assert_eq!(r.body["database"], expected);
}

#[actix_web::test]
async fn openapi_and_swagger_ui_are_served() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert!(r.body["openapi"].as_str().unwrap_or("").starts_with("3.1"));
    let paths = r.body["paths"].as_object().expect("paths");
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/staff/auth/login",
        "/api/v1/posts",
        "/api/v1/services",
        "/api/v1/fees",
        "/api/v1/admin/staff",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the spec");
    }
    let r = app.client.get(app.url("/docs/")).send().await.expect("docs");
    assert_eq!(r.status().as_u16(), 200);
}

#[actix_web::test]
async fn unknown_routes_are_problem_json() {
    let (app, _db) = spawn_app().await;
    let r = app.get("/api/v1/nothing-here", None).await;
    crate::helpers::assert_problem(&r, 404, "not_found");
    let r = app.call("DELETE", "/api/v1/posts/MEX/availability/extra", None, None).await;
    crate::helpers::assert_problem(&r, 404, "not_found");
}

#[actix_web::test]
async fn undeclared_methods_are_405_with_allow() {
    let (app, _db) = spawn_app().await;
    for (method, path, allow) in [
        ("DELETE", "/api/v1/posts", "GET"),
        ("PATCH", "/healthz", "GET"),
        ("PUT", "/api/v1/appointments", "GET, POST"),
        ("GET", "/api/v1/auth/login", "POST"),
        ("POST", "/api/v1/posts/MEX/availability", "GET"),
        ("PATCH", "/api/v1/admin/posts/MEX/closures/7", "DELETE"),
    ] {
        let r = app.call(method, path, None, None).await;
        crate::helpers::assert_problem(&r, 405, "method_not_allowed");
        assert_eq!(r.headers.get("allow").and_then(|v| v.to_str().ok()), Some(allow), "{method} {path}");
    }
}
