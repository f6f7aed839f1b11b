//! Signing secrets generated on first start are kept in the database: a restart, or a second
//! instance, accepts the same tokens.

use crate::helpers::{spawn_on, TestDb};

/// No secrets in the environment: the app must generate and persist them.
const GENERATED: &[(&str, &str)] =
    &[("CONSULAR_DESK_PUBLIC_JWT_SECRET", ""), ("CONSULAR_DESK_STAFF_JWT_SECRET", "")];

#[actix_web::test]
async fn tokens_survive_a_restart() {
    let db = TestDb::fresh();
    let first = spawn_on(&db, GENERATED).await;
    let applicant = first.applicant_token("ana@example.mx").await;
    let admin = first.staff_token("root.admin", "admin", None).await;
    assert_eq!(first.get("/api/v1/me", Some(&applicant)).await.status, 200);
    first.stop().await;

    let restarted = spawn_on(&db, GENERATED).await;
    let r = restarted.get("/api/v1/me", Some(&applicant)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = restarted.get("/api/v1/admin/staff", Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn two_instances_accept_each_others_tokens() {
    let db = TestDb::fresh();
    let a = spawn_on(&db, GENERATED).await;
    let b = spawn_on(&db, GENERATED).await;
    let token = a.applicant_token("ana@example.mx").await;
    assert_eq!(b.get("/api/v1/me", Some(&token)).await.status, 200);
    // And the generated secrets are not the fixed test ones: a token forged with those fails.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "1", "aud": "consular-desk/public", "iss": "consular-desk", "exp": crate::helpers::tuesday_10_mex().timestamp() + 600}),
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::PUBLIC_SECRET.as_bytes()),
    )
    .expect("sign");
    assert_eq!(b.get("/api/v1/me", Some(&forged)).await.status, 401);
}
