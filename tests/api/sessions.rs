//! Tokens die with the credential: password reset or change, disabling, a role or post change.
//! And signing keys rotate without signing everybody out.

use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, spawn_on, TestDb, STAFF_PASSWORD, STAFF_SECRET};

fn staff_login(username: &str, password: &str) -> serde_json::Value {
    json!({"username": username, "password": password})
}

#[actix_web::test]
async fn a_password_reset_ends_the_members_earlier_tokens() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("clerk.reset", "clerk", Some("MEX")).await;
    assert_eq!(app.get("/api/v1/staff/me", Some(&clerk)).await.status, 200);

    let r = app
        .post(
            "/api/v1/admin/staff/clerk.reset/password",
            Some(&admin),
            &json!({"password": "a new passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_problem(&app.get("/api/v1/staff/me", Some(&clerk)).await, 401, "invalid_token");

    let r = app.post("/api/v1/staff/auth/login", None, &staff_login("clerk.reset", "a new passphrase")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fresh = r.body["token"].as_str().expect("token").to_string();
    assert_eq!(app.get("/api/v1/staff/me", Some(&fresh)).await.status, 200);
}

#[actix_web::test]
async fn disabling_and_re_enabling_does_not_bring_old_tokens_back() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("clerk.paused", "clerk", Some("MEX")).await;
    for action in ["disable", "enable"] {
        let r =
            app.post(&format!("/api/v1/admin/staff/clerk.paused/{action}"), Some(&admin), &json!({})).await;
        assert_eq!(r.status, 200, "{action}: {}", r.body);
    }
    assert_problem(&app.get("/api/v1/staff/me", Some(&clerk)).await, 401, "invalid_token");
    let r = app.post("/api/v1/staff/auth/login", None, &staff_login("clerk.paused", STAFF_PASSWORD)).await;
    assert_eq!(r.status, 200, "signing in again works: {}", r.body);
}

#[actix_web::test]
async fn a_role_or_post_change_ends_tokens_and_takes_effect() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let member = app.staff_token("m.ruiz", "clerk", Some("MEX")).await;

    let assign = |role: &str, post: Option<&str>| json!({"role": role, "post": post});
    let r = app
        .call(
            "PUT",
            "/api/v1/admin/staff/m.ruiz/assignment",
            Some(&admin),
            Some(&assign("supervisor", Some("gdl"))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["role"].as_str(), r.body["post"].as_str()), (Some("supervisor"), Some("GDL")));
    assert_problem(&app.get("/api/v1/staff/me", Some(&member)).await, 401, "invalid_token");

    let r = app.post("/api/v1/staff/auth/login", None, &staff_login("m.ruiz", STAFF_PASSWORD)).await;
    assert_eq!(r.body["role"], "supervisor");
    let token = r.body["token"].as_str().expect("token").to_string();
    let me = app.get("/api/v1/staff/me", Some(&token)).await;
    assert_eq!((me.body["role"].as_str(), me.body["post"].as_str()), (Some("supervisor"), Some("GDL")));

    // Bad input changes nothing, and nobody reassigns themselves.
    let r = app
        .call("PUT", "/api/v1/admin/staff/m.ruiz/assignment", Some(&admin), Some(&assign("root", None)))
        .await;
    assert_problem(&r, 422, "validation_failed");
    let r = app
        .call(
            "PUT",
            "/api/v1/admin/staff/m.ruiz/assignment",
            Some(&admin),
            Some(&assign("clerk", Some("XXX"))),
        )
        .await;
    assert_problem(&r, 404, "not_found");
    assert_eq!(app.get("/api/v1/staff/me", Some(&token)).await.status, 200, "refusals left the token alone");
    let me = app.get("/api/v1/staff/me", Some(&admin)).await;
    let own = format!("/api/v1/admin/staff/{}/assignment", me.body["username"].as_str().expect("username"));
    assert_problem(
        &app.call("PUT", &own, Some(&admin), Some(&assign("clerk", None))).await,
        409,
        "cannot_reassign_self",
    );
    let r = app
        .call("PUT", "/api/v1/admin/staff/nobody/assignment", Some(&admin), Some(&assign("clerk", None)))
        .await;
    assert_problem(&r, 404, "not_found");
}

#[actix_web::test]
async fn an_applicant_changes_their_password_and_every_earlier_token_ends() {
    let (app, _db) = spawn_app().await;
    let first = app.applicant_token("ana@example.mx").await;
    let login = |password: &str| json!({"email": "ana@example.mx", "password": password});
    let second = app.post("/api/v1/auth/login", None, &login("applicant passphrase")).await.body["token"]
        .as_str()
        .expect("token")
        .to_string();

    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let r =
        app.post("/api/v1/me/password", Some(&first), &change("not my password", "a fresh passphrase")).await;
    assert_problem(&r, 403, "wrong_current_password");
    let r = app.post("/api/v1/me/password", Some(&first), &change("applicant passphrase", "short")).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "new_password");
    assert_eq!(app.get("/api/v1/me", Some(&first)).await.status, 200, "refusals changed nothing");

    let r = app
        .post("/api/v1/me/password", Some(&first), &change("applicant passphrase", "a fresh passphrase"))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    for token in [&first, &second] {
        assert_problem(&app.get("/api/v1/me", Some(token)).await, 401, "invalid_token");
    }
    assert_problem(
        &app.post("/api/v1/auth/login", None, &login("applicant passphrase")).await,
        401,
        "invalid_credentials",
    );
    let r = app.post("/api/v1/auth/login", None, &login("a fresh passphrase")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["token"].as_str().expect("token");
    assert_eq!(app.get("/api/v1/me", Some(token)).await.status, 200);

    // A staff token is not an applicant.
    let clerk = app.staff_token("clerk.x", "clerk", None).await;
    let r = app
        .post("/api/v1/me/password", Some(&clerk), &change("a fresh passphrase", "another passphrase"))
        .await;
    assert_problem(&r, 403, "staff_token_not_applicant");
}

#[actix_web::test]
async fn rotated_signing_keys_keep_people_signed_in() {
    let db = TestDb::fresh();
    let before = spawn_on(&db, &[]).await;
    let clerk = before.staff_token("clerk.rotating", "clerk", None).await;
    before.stop().await;

    let new_secret = "rotated-staff-secret-0123456789abcdef0123456789";
    let rotated = spawn_on(
        &db,
        &[
            ("CONSULAR_DESK_STAFF_JWT_SECRET", new_secret),
            ("CONSULAR_DESK_STAFF_JWT_SECRET_PREVIOUS", STAFF_SECRET),
        ],
    )
    .await;
    assert_eq!(rotated.get("/api/v1/staff/me", Some(&clerk)).await.status, 200, "old token, previous key");
    let r =
        rotated.post("/api/v1/staff/auth/login", None, &staff_login("clerk.rotating", STAFF_PASSWORD)).await;
    let fresh = r.body["token"].as_str().expect("token").to_string();
    assert_eq!(rotated.get("/api/v1/staff/me", Some(&fresh)).await.status, 200);
    rotated.stop().await;

    // Once the previous key is retired, tokens signed with it are refused.
    let retired = spawn_on(&db, &[("CONSULAR_DESK_STAFF_JWT_SECRET", new_secret)]).await;
    assert_problem(&retired.get("/api/v1/staff/me", Some(&clerk)).await, 401, "invalid_token");
    assert_eq!(retired.get("/api/v1/staff/me", Some(&fresh)).await.status, 200);
}

#[actix_web::test]
async fn thirty_parallel_wrong_current_passwords_get_five_checks() {
    let (app, _db) = spawn_app().await;
    let token = app.applicant_token("ana@example.mx").await;
    let change = json!({"current_password": "a guessed password", "new_password": "taken over now!"});
    let replies = futures_util::future::join_all(
        (0..30).map(|_| app.post("/api/v1/me/password", Some(&token), &change)),
    )
    .await;
    let wrong = replies.iter().filter(|r| r.status == 403).count();
    let throttled = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!((wrong, throttled), (5, 25), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    // The password did not change and the token still works.
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
}
