use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, spawn_on, TestDb, STAFF_PASSWORD};

#[actix_web::test]
async fn register_login_and_see_own_account() {
    let (app, _db) = spawn_app().await;
    let r = app
        .post("/api/v1/auth/register", None, &json!({"email": "Jose.Nunez@Example.MX", "password": "una contraseña larga", "full_name": "José  Núñez"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["email"], "jose.nunez@example.mx");
    assert_eq!(r.body["full_name"], "José Núñez");
    assert!(r.body.get("password_hash").is_none());

    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "JOSE.NUNEZ@example.mx", "password": "una contraseña larga"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["token"].as_str().expect("token").to_string();
    assert!(r.body["expires_at"].as_str().expect("expires_at").ends_with('Z'));

    let r = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["full_name"], "José Núñez");
}

#[actix_web::test]
async fn an_email_registers_once_whatever_its_case() {
    let (app, _db) = spawn_app().await;
    app.applicant_token("ana@example.mx").await;
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "ANA@example.mx", "password": "another passphrase", "full_name": "Ana"}),
        )
        .await;
    assert_problem(&r, 409, "email_taken");
}

#[actix_web::test]
async fn unknown_user_and_wrong_password_look_the_same() {
    let (app, _db) = spawn_app().await;
    app.applicant_token("ana@example.mx").await;
    let wrong = app
        .post("/api/v1/auth/login", None, &json!({"email": "ana@example.mx", "password": "not her password"}))
        .await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "nobody@example.mx", "password": "not her password"}),
        )
        .await;
    assert_problem(&wrong, 401, "invalid_credentials");
    assert_problem(&unknown, 401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
}

#[actix_web::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let (app, _db) = spawn_app().await;
    app.applicant_token("ana@example.mx").await;
    app.applicant_token("luis@example.mx").await;
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": "ana@example.mx", "password": "guess guess guess"}),
            )
            .await;
        assert_problem(&r, 401, "invalid_credentials");
    }
    // Now even the right password is refused until the window ends.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "ana@example.mx", "password": "applicant passphrase"}),
        )
        .await;
    assert_problem(&r, 429, "too_many_requests");
    let retry: u64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry > 0 && retry <= 15 * 60, "retry after {retry}");
    // Another account from the same address is not affected.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "luis@example.mx", "password": "applicant passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn repeated_failures_from_one_address_are_throttled() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS", "3")]).await;
    app.applicant_token("ana@example.mx").await;
    for i in 0..3 {
        let r = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": format!("probe{i}@example.mx"), "password": "guess guess guess"}),
            )
            .await;
        assert_problem(&r, 401, "invalid_credentials");
    }
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "ana@example.mx", "password": "applicant passphrase"}),
        )
        .await;
    assert_problem(&r, 429, "too_many_requests");
    // Staff sign-in from the same address shares the address's bucket.
    let r = app
        .post("/api/v1/staff/auth/login", None, &json!({"username": "admin", "password": "whatever it is"}))
        .await;
    assert_problem(&r, 429, "too_many_requests");
}

#[actix_web::test]
async fn each_staff_role_signs_in_and_knows_its_role() {
    let (app, _db) = spawn_app().await;
    for role in ["clerk", "supervisor", "auditor", "admin"] {
        let token = app.staff_token(&format!("{role}.one"), role, Some("GDL")).await;
        let r = app.get("/api/v1/staff/me", Some(&token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["role"], role);
        assert_eq!(r.body["post"], "GDL");
    }
    let r = app
        .post(
            "/api/v1/staff/auth/login",
            None,
            &json!({"username": "clerk.one", "password": "wrong wrong wrong"}),
        )
        .await;
    assert_problem(&r, 401, "invalid_credentials");
    let r = app
        .post("/api/v1/staff/auth/login", None, &json!({"username": "clerk.one", "password": STAFF_PASSWORD}))
        .await;
    assert_eq!(r.body["role"], "clerk");
}

#[actix_web::test]
async fn an_admin_creates_staff_accounts() {
    let (app, _db) = spawn_app().await;
    let admin = app.staff_token("root.admin", "admin", None).await;
    let body =
        json!({"username": "M.Garcia", "password": "window two passphrase", "role": "clerk", "post": "mty"});
    let r = app.post("/api/v1/admin/staff", Some(&admin), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"username": "m.garcia", "role": "clerk", "post": "MTY", "email": null, "disabled": false, "created_at": r.body["created_at"]})
    );

    let r = app.post("/api/v1/admin/staff", Some(&admin), &body).await;
    assert_problem(&r, 409, "username_taken");

    let r = app.post("/api/v1/admin/staff", Some(&admin), &json!({"username": "x.lopez", "password": "window two passphrase", "role": "clerk", "post": "XYZ"})).await;
    assert_problem(&r, 404, "not_found");

    let r = app
        .post(
            "/api/v1/admin/staff",
            Some(&admin),
            &json!({"username": "x.lopez", "password": "short", "role": "janitor"}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    let fields: Vec<&str> =
        r.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["password", "role"]);

    let r = app
        .post(
            "/api/v1/staff/auth/login",
            None,
            &json!({"username": "m.garcia", "password": "window two passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = app.get("/api/v1/admin/staff", Some(&admin)).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn a_disabled_account_is_shut_out_at_once_and_can_come_back() {
    let (app, _db) = spawn_app().await;
    let admin = app.staff_token("root.admin", "admin", None).await;
    let clerk = app.staff_token("clerk.gone", "clerk", Some("MEX")).await;

    let r = app.post("/api/v1/admin/staff/clerk.gone/disable", Some(&admin), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["disabled"], true);
    // The token issued before is refused now, not when it expires.
    assert_problem(&app.get("/api/v1/staff/me", Some(&clerk)).await, 401, "invalid_token");
    let login = json!({"username": "clerk.gone", "password": STAFF_PASSWORD});
    assert_problem(&app.post("/api/v1/staff/auth/login", None, &login).await, 401, "invalid_credentials");

    let r = app.post("/api/v1/admin/staff/root.admin/disable", Some(&admin), &json!({})).await;
    assert_problem(&r, 409, "cannot_disable_self");
    let r = app.post("/api/v1/admin/staff/nobody/disable", Some(&admin), &json!({})).await;
    assert_problem(&r, 404, "not_found");

    let r = app.post("/api/v1/admin/staff/clerk.gone/enable", Some(&admin), &json!({})).await;
    assert_eq!(r.body["disabled"], false);
    assert_eq!(app.post("/api/v1/staff/auth/login", None, &login).await.status, 200);
}

#[actix_web::test]
async fn an_admin_resets_a_forgotten_password() {
    let (app, _db) = spawn_app().await;
    let admin = app.staff_token("root.admin", "admin", None).await;
    app.staff_token("clerk.forgetful", "clerk", None).await;
    let r = app
        .post("/api/v1/admin/staff/clerk.forgetful/password", Some(&admin), &json!({"password": "short"}))
        .await;
    assert_problem(&r, 422, "validation_failed");
    let r = app
        .post(
            "/api/v1/admin/staff/clerk.forgetful/password",
            Some(&admin),
            &json!({"password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let old = app
        .post(
            "/api/v1/staff/auth/login",
            None,
            &json!({"username": "clerk.forgetful", "password": STAFF_PASSWORD}),
        )
        .await;
    assert_problem(&old, 401, "invalid_credentials");
    let new = app
        .post(
            "/api/v1/staff/auth/login",
            None,
            &json!({"username": "clerk.forgetful", "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(new.status, 200);
}
