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
        json!({"username": "b.lopez", "password": "window two passphrase", "role": "clerk", "post": "Z1Z"}),
        json!({"username": " b.lopez", "password": "window two passphrase", "role": "clerk"}),
        json!({"username": "b.lopez", "role": "clerk"}),
    ];
    for body in attempts {
        let r = app.post("/api/v1/admin/staff", Some(&admin), &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
    }
    // A well-formed post code that names no post is not found.
    let body =
        json!({"username": "b.lopez", "password": "window two passphrase", "role": "clerk", "post": "ZZZ"});
    assert_problem(&app.post("/api/v1/admin/staff", Some(&admin), &body).await, 404, "not_found");
    let listed = app.get("/api/v1/admin/staff", Some(&admin)).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1), "{}", listed.body);
}

#[actix_web::test]
async fn names_with_invisible_or_bidi_characters_are_refused_and_names_are_stored_nfc() {
    let (app, _db) = spawn_app().await;
    for name in ["Ana\u{200B}López", "\u{202E}zeñúN anA", "Ana\u{2066}López\u{2069}", "Ana\u{FEFF}"] {
        let r = app
            .post(
                REGISTER,
                None,
                &json!({"email": "ana@example.mx", "password": "a good passphrase", "full_name": name}),
            )
            .await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "full_name", "{name:?}");
    }
    assert_still_free(&app, "ana@example.mx").await;

    // Combining marks arrive as precomposed letters.
    let r = app
        .post(REGISTER, None, &json!({"email": "jose@example.mx", "password": "a good passphrase", "full_name": "Jose\u{0301} Nu\u{0301}n\u{0303}ez"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["full_name"], "José Núñez");

    // The same rule holds for the people of a booking.
    let token = app.applicant_token("luis@example.mx").await;
    let slot = app.slots("MEX", "notarial").await[0]["slot_id"].as_i64().expect("slot");
    let party = json!({"slot_id": slot, "applicants": [{"given_names": "Luis\u{200D}", "surname": "Pérez"}]});
    let r = app.post("/api/v1/appointments", Some(&token), &party).await;
    assert_problem(&r, 422, "validation_failed");
}

#[actix_web::test]
async fn a_sixty_kilobyte_body_under_the_limit_is_a_quick_422() {
    let (app, _db) = spawn_app().await;
    let name = "A".repeat(60 * 1024);
    let r = app
        .post(
            REGISTER,
            None,
            &json!({"email": "ana@example.mx", "password": "a good passphrase", "full_name": name}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_still_free(&app, "ana@example.mx").await;
}

#[actix_web::test]
async fn a_week_naming_a_day_twice_is_a_quick_422() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let days: Vec<u8> = vec![1; 20_000];
    let r = app
        .call(
            "PUT",
            "/api/v1/admin/posts/MEX/schedules",
            Some(&admin),
            Some(&json!({"service": "notarial", "openings": [{"weekdays": days, "opens": "08:00", "closes": "12:00", "slot_minutes": 20, "capacity": 2}]})),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["message"], "names a day more than once");
}

#[actix_web::test]
async fn nul_characters_are_refused_alike_on_both_backends() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    for path in [
        "/api/v1/posts/M%00X/availability?service=notarial",
        "/api/v1/posts/MEX/availability?service=nota%00rial",
    ] {
        assert_problem(&app.get(path, None).await, 400, "invalid_path");
    }
    assert_problem(
        &app.post("/api/v1/admin/staff/ad%00min/disable", Some(&admin), &json!({})).await,
        400,
        "invalid_path",
    );
    let r = app
        .post(
            "/api/v1/staff/auth/login",
            None,
            &json!({"username": "ad\u{0}min", "password": "whatever it is"}),
        )
        .await;
    assert_problem(&r, 401, "invalid_credentials");
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "ana\u{0}@example.mx", "password": "whatever it is"}),
        )
        .await;
    assert_problem(&r, 401, "invalid_credentials");
    let body = json!({"service": "nota\u{0}rial", "openings": []});
    assert_problem(
        &app.call("PUT", "/api/v1/admin/posts/MEX/schedules", Some(&admin), Some(&body)).await,
        404,
        "not_found",
    );
}
