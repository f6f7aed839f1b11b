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

/// Signs `email` (registered by `applicant_token`) in again: a second session of the account.
async fn another_applicant_session(app: &crate::helpers::TestApp, email: &str) -> String {
    let login = json!({"email": email, "password": "applicant passphrase"});
    let r = app.post("/api/v1/auth/login", None, &login).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["token"].as_str().expect("token").to_string()
}

async fn another_staff_session(app: &crate::helpers::TestApp, username: &str) -> String {
    let r = app.post("/api/v1/staff/auth/login", None, &staff_login(username, STAFF_PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["token"].as_str().expect("token").to_string()
}

#[actix_web::test]
async fn logging_out_ends_that_token_on_every_instance_and_no_other_session() {
    let db = TestDb::fresh();
    let one = spawn_on(&db, &[]).await;
    let two = spawn_on(&db, &[]).await;
    let first = one.applicant_token("ana@example.mx").await;
    let second = another_applicant_session(&one, "ana@example.mx").await;
    let clerk = one.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let clerk_elsewhere = another_staff_session(&one, "mex.clerk").await;
    for (app, token, me) in [(&two, &first, "/api/v1/me"), (&two, &clerk, "/api/v1/staff/me")] {
        assert_eq!(app.get(me, Some(token)).await.status, 200);
    }

    assert_eq!(one.post("/api/v1/auth/logout", Some(&first), &json!({})).await.status, 204);
    assert_eq!(one.post("/api/v1/staff/auth/logout", Some(&clerk), &json!({})).await.status, 204);
    // The other instance refuses them at once: no cache to wait for.
    assert_problem(&two.get("/api/v1/me", Some(&first)).await, 401, "invalid_token");
    assert_problem(&two.get("/api/v1/staff/me", Some(&clerk)).await, 401, "invalid_token");
    assert_problem(&one.post("/api/v1/auth/logout", Some(&first), &json!({})).await, 401, "invalid_token");
    // The account's other sessions go on.
    assert_eq!(two.get("/api/v1/me", Some(&second)).await.status, 200);
    assert_eq!(two.get("/api/v1/staff/me", Some(&clerk_elsewhere)).await.status, 200);
    // A token of the other audience is still the wrong door, not a way to end a session.
    assert_problem(
        &one.post("/api/v1/auth/logout", Some(&clerk_elsewhere), &json!({})).await,
        403,
        "staff_token_not_applicant",
    );
    assert_problem(
        &one.post("/api/v1/staff/auth/logout", Some(&second), &json!({})).await,
        403,
        "public_token_not_staff",
    );
    one.stop().await;
    two.stop().await;
}

#[actix_web::test]
async fn logging_out_everywhere_ends_every_token_of_the_account_only() {
    let (app, _db) = spawn_app().await;
    let first = app.applicant_token("ana@example.mx").await;
    let second = another_applicant_session(&app, "ana@example.mx").await;
    let bob = app.applicant_token("bob@example.mx").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let clerk_elsewhere = another_staff_session(&app, "mex.clerk").await;
    let other_clerk = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;

    assert_eq!(app.post("/api/v1/auth/logout-everywhere", Some(&second), &json!({})).await.status, 204);
    assert_eq!(app.post("/api/v1/staff/auth/logout-everywhere", Some(&clerk), &json!({})).await.status, 204);
    for token in [&first, &second] {
        assert_problem(&app.get("/api/v1/me", Some(token)).await, 401, "invalid_token");
    }
    for token in [&clerk, &clerk_elsewhere] {
        assert_problem(&app.get("/api/v1/staff/me", Some(token)).await, 401, "invalid_token");
    }
    assert_eq!(app.get("/api/v1/me", Some(&bob)).await.status, 200, "another account");
    assert_eq!(app.get("/api/v1/staff/me", Some(&other_clerk)).await.status, 200, "another account");
    // Signing in again works.
    let fresh = another_applicant_session(&app, "ana@example.mx").await;
    assert_eq!(app.get("/api/v1/me", Some(&fresh)).await.status, 200);
    app.stop().await;
}

#[actix_web::test]
async fn thirty_parallel_logouts_of_one_token_end_it_once() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let empty = json!({});
    let sends = (0..30).map(|_| app.post("/api/v1/staff/auth/logout", Some(&clerk), &empty));
    let replies = futures_util::future::join_all(sends).await;
    for r in &replies {
        assert!(r.status == 204 || r.code() == "invalid_token", "{} {}", r.status, r.body);
    }
    assert!(replies.iter().any(|r| r.status == 204));
    assert_problem(&app.get("/api/v1/staff/me", Some(&clerk)).await, 401, "invalid_token");
    let log = app.get("/api/v1/audit/log?action=session.ended", Some(&admin)).await;
    assert_eq!(log.body["entries"].as_array().map(Vec::len), Some(1), "{}", log.body);
    app.stop().await;
}

#[actix_web::test]
async fn signing_out_of_the_pages_ends_the_token_on_the_api_too() {
    use crate::pages::{cookie_value, hidden_csrf, page, post_form, set_cookie, staff_session, web_session};
    let (app, _db) = spawn_app().await;

    // Staff: the cookie's token no longer opens the pages nor the API.
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let (cookies, token, cookie) = staff_session(&app, "mex.clerk").await;
    let bearer = cookie_value(&cookie).trim_start_matches("staff_session=").to_string();
    assert_eq!(app.get("/api/v1/staff/me", Some(&bearer)).await.status, 200);
    let out = post_form(&app, "/staff/sign-out", &cookies, &format!("csrf={token}")).await;
    assert_eq!(out.status, 303);
    assert!(set_cookie(&out, "staff_session").is_some_and(|c| c.contains("Max-Age=0")));
    assert_problem(&app.get("/api/v1/staff/me", Some(&bearer)).await, 401, "invalid_token");
    let replayed = page(&app, "/staff", &[("Cookie", &cookies)]).await;
    assert_eq!(replayed.headers.get("location").and_then(|v| v.to_str().ok()), Some("/staff/sign-in"));

    // Staff, everywhere: a page session ends the API tokens of the account too.
    let api_token = another_staff_session(&app, "mex.clerk").await;
    let (cookies, token, _) = staff_session(&app, "mex.clerk").await;
    let out = post_form(&app, "/staff/sign-out", &cookies, &format!("csrf={token}&everywhere=1")).await;
    assert_eq!(out.status, 303);
    assert_problem(&app.get("/api/v1/staff/me", Some(&api_token)).await, 401, "invalid_token");

    // Applicants the same.
    app.applicant_token("ana@example.mx").await;
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let session = cookies.split(';').next().unwrap_or("").trim_start_matches("session=").to_string();
    assert_eq!(app.get("/api/v1/me", Some(&session)).await.status, 200);
    let mine = page(&app, "/my", &[("Cookie", &cookies)]).await;
    assert!(mine.text.contains("Sign out on every device"));
    assert_eq!(hidden_csrf(&mine.text), token);
    let out = post_form(&app, "/sign-out", &cookies, &format!("csrf={token}")).await;
    assert_eq!(out.status, 303);
    assert_problem(&app.get("/api/v1/me", Some(&session)).await, 401, "invalid_token");
    assert_eq!(page(&app, "/my", &[("Cookie", &cookies)]).await.status, 303, "the old cookie opens nothing");
    app.stop().await;
}

#[actix_web::test]
async fn a_form_token_belongs_to_one_session_and_a_planted_cookie_is_worth_nothing() {
    use crate::pages::{cookie_value, post_form, set_cookie, staff_session};
    let (app, _db) = spawn_app().await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let (cookies, token, cookie) = staff_session(&app, "mex.clerk").await;
    let bearer = cookie_value(&cookie).trim_start_matches("staff_session=").to_string();

    // An attacker who planted `csrf=X` in the victim's browser, and a form sending `csrf=X`.
    let planted = "A".repeat(43);
    let forged = format!("{}; csrf={planted}", cookie_value(&cookie));
    let r = post_form(&app, "/staff/sign-out", &forged, &format!("csrf={planted}")).await;
    assert!(set_cookie(&r, "staff_session").is_none(), "the forged form did nothing");
    assert_eq!(app.get("/api/v1/staff/me", Some(&bearer)).await.status, 200);

    // The token of an earlier session of the same member is refused in a later one.
    let (later, later_token, later_cookie) = staff_session(&app, "mex.clerk").await;
    assert_ne!(later_token, token, "a new token at every sign-in");
    let r = post_form(&app, "/staff/sign-out", &later, &format!("csrf={token}")).await;
    assert!(set_cookie(&r, "staff_session").is_none(), "an old session's token did nothing");
    let later_bearer = cookie_value(&later_cookie).trim_start_matches("staff_session=").to_string();
    assert_eq!(app.get("/api/v1/staff/me", Some(&later_bearer)).await.status, 200);
    // Its own token works.
    let r = post_form(&app, "/staff/sign-out", &later, &format!("csrf={later_token}")).await;
    assert!(set_cookie(&r, "staff_session").is_some());
    assert_problem(&app.get("/api/v1/staff/me", Some(&later_bearer)).await, 401, "invalid_token");
    drop(cookies);
    app.stop().await;
}
