//! Bad input gets a 4xx problem JSON and changes nothing.

use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, TestApp};

const REGISTER: &str = "/api/v1/auth/register";

/// Proves nothing was written: the e-mail is still free to register.
async fn assert_still_free(app: &TestApp, email: &str) {
    let r = app
        .post(
            REGISTER,
            None,
            &json!({"email": email, "password": "a good passphrase", "full_name": "Ana López"}),
        )
        .await;
    assert_eq!(r.status, 201, "{email} was taken by a refused request: {}", r.body);
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let (app, _db) = spawn_app().await;
    let r = app
        .raw(
            "POST",
            REGISTER,
            &[("Content-Type", "application/json")],
            br#"{"email": "ana@example.mx", "password": "#.to_vec(),
        )
        .await;
    assert_problem(&r, 400, "malformed_json");
    assert_still_free(&app, "ana@example.mx").await;
}

#[actix_web::test]
async fn missing_fields_and_wrong_types_are_422() {
    let (app, _db) = spawn_app().await;
    let r =
        app.post(REGISTER, None, &json!({"email": "ana@example.mx", "password": "a good passphrase"})).await;
    assert_problem(&r, 422, "validation_failed");
    let r = app
        .post(
            REGISTER,
            None,
            &json!({"email": "ana@example.mx", "password": 1234567890123_i64, "full_name": "Ana"}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    let r = app.post(REGISTER, None, &json!(["ana@example.mx"])).await;
    assert_problem(&r, 422, "validation_failed");
    assert_still_free(&app, "ana@example.mx").await;
}

#[actix_web::test]
async fn invalid_email_and_short_password_name_their_fields() {
    let (app, _db) = spawn_app().await;
    let r = app
        .post(REGISTER, None, &json!({"email": "ana at example", "password": "short", "full_name": "  "}))
        .await;
    assert_problem(&r, 422, "validation_failed");
    let fields: Vec<&str> =
        r.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["email", "password", "full_name"]);
    let r = app
        .post(REGISTER, None, &json!({"email": "ana@example.mx", "password": "short", "full_name": "Ana"}))
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_still_free(&app, "ana@example.mx").await;
}

#[actix_web::test]
async fn a_one_megabyte_body_is_413() {
    let (app, _db) = spawn_app().await;
    let big =
        json!({"email": "ana@example.mx", "password": "a good passphrase", "full_name": "x".repeat(1 << 20)});
    let r = app.post(REGISTER, None, &big).await;
    assert_problem(&r, 413, "payload_too_large");
    assert_still_free(&app, "ana@example.mx").await;
}

#[actix_web::test]
async fn a_wrong_content_type_is_415() {
    let (app, _db) = spawn_app().await;
    let body =
        br#"{"email": "ana@example.mx", "password": "a good passphrase", "full_name": "Ana"}"#.to_vec();
    let r = app.raw("POST", REGISTER, &[("Content-Type", "text/plain")], body.clone()).await;
    assert_problem(&r, 415, "unsupported_media_type");
    let r = app.raw("POST", REGISTER, &[], body).await;
    assert_problem(&r, 415, "unsupported_media_type");
    assert_still_free(&app, "ana@example.mx").await;
}

#[actix_web::test]
async fn refused_staff_creation_writes_nothing() {
    let (app, _db) = spawn_app().await;
    let admin = app.staff_token("root.admin", "admin", None).await;
    let attempts = [
        json!({"username": "a", "password": "window two passphrase", "role": "clerk"}),
        json!({"username": "b.lopez", "password": "window two passphrase", "role": "root"}),
        json!({"username": "b.lopez", "password": "window two passphrase", "role": "clerk", "post": "ZZZ"}),
        json!({"username": "b.lopez", "role": "clerk"}),
    ];
    for body in attempts {
        let r = app.post("/api/v1/admin/staff", Some(&admin), &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
    }
    let listed = app.get("/api/v1/admin/staff", Some(&admin)).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1), "{}", listed.body);
}
