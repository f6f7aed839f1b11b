//! A post-bound admin manages only staff of its post and can't mint unbound accounts.

use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, STAFF_PASSWORD};

fn new_staff(username: &str, role: &str, post: Option<&str>) -> serde_json::Value {
    json!({"username": username, "password": STAFF_PASSWORD, "role": role, "post": post})
}

#[actix_web::test]
async fn a_post_bound_admin_creates_staff_of_its_post_only() {
    let (app, _db) = spawn_app().await;
    let mex_admin = app.staff_token("admin.mex", "admin", Some("MEX")).await;

    // The reported escalation: an unbound admin created by a MEX admin, reading GDL.
    let r = app.post("/api/v1/admin/staff", Some(&mex_admin), &new_staff("escape", "admin", None)).await;
    assert_problem(&r, 403, "wrong_post");
    let r = app
        .post("/api/v1/admin/staff", Some(&mex_admin), &new_staff("elsewhere", "clerk", Some("GDL")))
        .await;
    assert_problem(&r, 403, "wrong_post");
    let r = app
        .post("/api/v1/staff/auth/login", None, &json!({"username": "escape", "password": STAFF_PASSWORD}))
        .await;
    assert_problem(&r, 401, "invalid_credentials");

    let r = app
        .post("/api/v1/admin/staff", Some(&mex_admin), &new_staff("clerk.mex", "clerk", Some("mex")))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["post"], "MEX");
    assert_problem(&app.get("/api/v1/admin/posts/GDL/schedules", Some(&mex_admin)).await, 403, "wrong_post");

    // An unbound admin creates unbound staff.
    let root = app.admin_token().await;
    let r = app.post("/api/v1/admin/staff", Some(&root), &new_staff("auditor.all", "auditor", None)).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[actix_web::test]
async fn a_post_bound_admin_sees_and_manages_only_its_posts_staff() {
    let (app, _db) = spawn_app().await;
    let mex_admin = app.staff_token("admin.mex", "admin", Some("MEX")).await;
    app.staff_token("clerk.mex", "clerk", Some("MEX")).await;
    app.staff_token("clerk.gdl", "clerk", Some("GDL")).await;
    app.staff_token("root", "admin", None).await;

    let r = app.get("/api/v1/admin/staff", Some(&mex_admin)).await;
    let names: Vec<&str> =
        r.body.as_array().expect("list").iter().filter_map(|s| s["username"].as_str()).collect();
    assert_eq!(names, ["admin.mex", "clerk.mex"]);

    for target in ["clerk.gdl", "root"] {
        for action in ["disable", "enable"] {
            let r = app
                .post(&format!("/api/v1/admin/staff/{target}/{action}"), Some(&mex_admin), &json!({}))
                .await;
            assert_problem(&r, 403, "wrong_post");
        }
        let r = app
            .post(
                &format!("/api/v1/admin/staff/{target}/password"),
                Some(&mex_admin),
                &json!({"password": "taken over now"}),
            )
            .await;
        assert_problem(&r, 403, "wrong_post");
        let path = format!("/api/v1/admin/staff/{target}/assignment");
        let r =
            app.call("PUT", &path, Some(&mex_admin), Some(&json!({"role": "clerk", "post": "MEX"}))).await;
        assert_problem(&r, 403, "wrong_post");
    }
    // Nothing changed: both still sign in with their passwords.
    for target in ["clerk.gdl", "root"] {
        let r = app
            .post("/api/v1/staff/auth/login", None, &json!({"username": target, "password": STAFF_PASSWORD}))
            .await;
        assert_eq!(r.status, 200, "{target}: {}", r.body);
    }

    // Its own clerk it manages, but can't move out of its post or make unbound.
    let path = "/api/v1/admin/staff/clerk.mex/assignment";
    for post in [Some("GDL"), None] {
        let r = app.call("PUT", path, Some(&mex_admin), Some(&json!({"role": "clerk", "post": post}))).await;
        assert_problem(&r, 403, "wrong_post");
    }
    let r =
        app.call("PUT", path, Some(&mex_admin), Some(&json!({"role": "supervisor", "post": "MEX"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/v1/admin/staff/clerk.mex/disable", Some(&mex_admin), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
