//! The authorization matrix: every protected endpoint against every kind of wrong token.
//! The endpoint list is checked against /openapi.json, so a new endpoint that is not added
//! here fails `the_matrix_covers_every_endpoint`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Reply, TestApp, PUBLIC_SECRET, STAFF_PASSWORD, STAFF_SECRET};

#[derive(Clone, Copy)]
enum Who {
    Applicant,
    /// Staff with one of these roles.
    Staff(&'static [&'static str]),
}

struct Endpoint {
    method: &'static str,
    /// As the spec writes it; each `{placeholder}` is called with a value that names nothing.
    path: &'static str,
    who: Who,
}

const ALL_STAFF: &[&str] = &["clerk", "supervisor", "auditor", "admin", "duty_officer"];
const ADMIN: &[&str] = &["admin"];

const CLERK_PLUS: &[&str] = &["clerk", "supervisor", "admin"];
const AUDITOR_OR_ADMIN: &[&str] = &["auditor", "admin"];
const SUPERVISOR_PLUS: &[&str] = &["supervisor", "admin"];
const DUTY_OFFICER_OR_ADMIN: &[&str] = &["duty_officer", "admin"];
const REGISTRY_READERS: &[&str] = &["duty_officer", "supervisor", "admin"];

const PROTECTED: &[Endpoint] = &[
    Endpoint { method: "GET", path: "/api/v1/me", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/me/password", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/me/confirm-email", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/me/email", who: Who::Applicant },
    Endpoint { method: "PUT", path: "/api/v1/me/preferences", who: Who::Applicant },
    Endpoint { method: "GET", path: "/api/v1/appointments", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/appointments", who: Who::Applicant },
    Endpoint { method: "GET", path: "/api/v1/appointments/{reference}", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/appointments/{reference}/cancel", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/appointments/{reference}/reschedule", who: Who::Applicant },
    Endpoint { method: "GET", path: "/api/v1/staff/me", who: Who::Staff(ALL_STAFF) },
    Endpoint { method: "GET", path: "/api/v1/staff/search", who: Who::Staff(ALL_STAFF) },
    Endpoint { method: "GET", path: "/api/v1/staff/posts/{post}/search", who: Who::Staff(ALL_STAFF) },
    Endpoint { method: "POST", path: "/api/v1/staff/appointments", who: Who::Staff(CLERK_PLUS) },
    Endpoint { method: "GET", path: "/api/v1/staff/posts/{post}/availability", who: Who::Staff(CLERK_PLUS) },
    Endpoint { method: "GET", path: "/api/v1/admin/staff", who: Who::Staff(ADMIN) },
    Endpoint { method: "POST", path: "/api/v1/admin/staff", who: Who::Staff(ADMIN) },
    Endpoint { method: "POST", path: "/api/v1/admin/staff/{username}/disable", who: Who::Staff(ADMIN) },
    Endpoint { method: "POST", path: "/api/v1/admin/staff/{username}/enable", who: Who::Staff(ADMIN) },
    Endpoint { method: "POST", path: "/api/v1/admin/staff/{username}/password", who: Who::Staff(ADMIN) },
    Endpoint { method: "PUT", path: "/api/v1/admin/staff/{username}/assignment", who: Who::Staff(ADMIN) },
    Endpoint { method: "PUT", path: "/api/v1/admin/staff/{username}/email", who: Who::Staff(ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/admin/mail", who: Who::Staff(ADMIN) },
    Endpoint { method: "PUT", path: "/api/v1/admin/mexican-states/{code}", who: Who::Staff(ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/staff/registry", who: Who::Staff(REGISTRY_READERS) },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/emergency-messages/preview",
        who: Who::Staff(DUTY_OFFICER_OR_ADMIN),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/emergency-messages",
        who: Who::Staff(DUTY_OFFICER_OR_ADMIN),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/emergency-messages",
        who: Who::Staff(DUTY_OFFICER_OR_ADMIN),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/emergency-messages/{id}/approve",
        who: Who::Staff(DUTY_OFFICER_OR_ADMIN),
    },
    Endpoint { method: "POST", path: "/api/v1/staff/newsletters/preview", who: Who::Staff(ADMIN) },
    Endpoint { method: "POST", path: "/api/v1/staff/newsletters", who: Who::Staff(ADMIN) },
    Endpoint { method: "POST", path: "/api/v1/admin/mail/{id}/send-again", who: Who::Staff(ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/admin/posts/{post}/schedules", who: Who::Staff(ADMIN) },
    Endpoint { method: "PUT", path: "/api/v1/admin/posts/{post}/schedules", who: Who::Staff(ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/admin/posts/{post}/closures", who: Who::Staff(ADMIN) },
    Endpoint { method: "POST", path: "/api/v1/admin/posts/{post}/closures", who: Who::Staff(ADMIN) },
    Endpoint { method: "DELETE", path: "/api/v1/admin/posts/{post}/closures/{id}", who: Who::Staff(ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/staff/posts/{post}/day", who: Who::Staff(CLERK_PLUS) },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/posts/{post}/not-served",
        who: Who::Staff(SUPERVISOR_PLUS),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/rebook",
        who: Who::Staff(SUPERVISOR_PLUS),
    },
    Endpoint { method: "GET", path: "/api/v1/admin/posts/{post}/closing-time", who: Who::Staff(ADMIN) },
    Endpoint { method: "PUT", path: "/api/v1/admin/posts/{post}/closing-time", who: Who::Staff(ADMIN) },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/check-in",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint { method: "POST", path: "/api/v1/staff/posts/{post}/walk-ins", who: Who::Staff(CLERK_PLUS) },
    Endpoint { method: "POST", path: "/api/v1/staff/posts/{post}/queue/next", who: Who::Staff(CLERK_PLUS) },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/complete",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/no-show",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/recall",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/cancel",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/reschedule",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint { method: "PUT", path: "/api/v1/appointments/{reference}/intake", who: Who::Applicant },
    Endpoint { method: "GET", path: "/api/v1/appointments/{reference}/intake", who: Who::Applicant },
    Endpoint { method: "GET", path: "/api/v1/appointments/{reference}/documents", who: Who::Applicant },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/appointments/{reference}/intake",
        who: Who::Staff(ALL_STAFF),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/appointments/{reference}/documents",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/appointments/{reference}/documents",
        who: Who::Staff(ALL_STAFF),
    },
    Endpoint { method: "GET", path: "/api/v1/staff/documents/{tracking_number}", who: Who::Staff(ALL_STAFF) },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/documents/{tracking_number}/slip.pdf",
        who: Who::Staff(ALL_STAFF),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/appointments/{reference}/ticket.pdf",
        who: Who::Staff(ALL_STAFF),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/documents/{tracking_number}/transitions",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/documents/{tracking_number}/handover",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint { method: "GET", path: "/api/v1/staff/posts/{post}/documents", who: Who::Staff(ALL_STAFF) },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/posts/{post}/notarial-register",
        who: Who::Staff(ALL_STAFF),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/posts/{post}/notarial-register/{entry_number}/corrections",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint { method: "POST", path: "/api/v1/staff/fees", who: Who::Staff(CLERK_PLUS) },
    Endpoint { method: "GET", path: "/api/v1/staff/posts/{post}/receipts", who: Who::Staff(ALL_STAFF) },
    Endpoint { method: "GET", path: "/api/v1/staff/receipts/{receipt_number}", who: Who::Staff(ALL_STAFF) },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/receipts/{receipt_number}/receipt.pdf",
        who: Who::Staff(ALL_STAFF),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/receipts/{receipt_number}/void",
        who: Who::Staff(SUPERVISOR_PLUS),
    },
    Endpoint {
        method: "PUT",
        path: "/api/v1/staff/posts/{post}/exchange-rates/{date}",
        who: Who::Staff(SUPERVISOR_PLUS),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/posts/{post}/exchange-rates/{date}",
        who: Who::Staff(ALL_STAFF),
    },
    Endpoint { method: "POST", path: "/api/v1/staff/posts/{post}/closeouts", who: Who::Staff(CLERK_PLUS) },
    Endpoint { method: "GET", path: "/api/v1/staff/posts/{post}/closeouts", who: Who::Staff(ALL_STAFF) },
    Endpoint {
        method: "POST",
        path: "/api/v1/staff/posts/{post}/closeouts/{id}/sign",
        who: Who::Staff(SUPERVISOR_PLUS),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/staff/posts/{post}/closeouts/{id}/sheet.pdf",
        who: Who::Staff(CLERK_PLUS),
    },
    Endpoint { method: "POST", path: "/api/v1/admin/fees", who: Who::Staff(ADMIN) },
    Endpoint {
        method: "DELETE",
        path: "/api/v1/admin/fees/{code}/versions/{effective_from}",
        who: Who::Staff(ADMIN),
    },
    // Signing out ends the token used: the matrix signs in again after each of these.
    Endpoint { method: "POST", path: "/api/v1/auth/logout", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/auth/logout-everywhere", who: Who::Applicant },
    Endpoint { method: "POST", path: "/api/v1/staff/auth/logout", who: Who::Staff(ALL_STAFF) },
    Endpoint { method: "POST", path: "/api/v1/staff/auth/logout-everywhere", who: Who::Staff(ALL_STAFF) },
    Endpoint {
        method: "GET",
        path: "/api/v1/appointments/{reference}/confirmation.pdf",
        who: Who::Applicant,
    },
    Endpoint { method: "GET", path: "/api/v1/appointments/{reference}/calendar.ics", who: Who::Applicant },
    Endpoint { method: "GET", path: "/api/v1/audit/fee-report", who: Who::Staff(AUDITOR_OR_ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/staff/posts/{post}/feedback", who: Who::Staff(ALL_STAFF) },
    Endpoint { method: "GET", path: "/api/v1/audit/feedback.csv", who: Who::Staff(AUDITOR_OR_ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/audit/log", who: Who::Staff(AUDITOR_OR_ADMIN) },
    Endpoint { method: "GET", path: "/api/v1/audit/log/verify", who: Who::Staff(AUDITOR_OR_ADMIN) },
];

/// Open to anyone, by design.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/staff/auth/login"),
    ("POST", "/api/v1/auth/confirm-email"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("GET", "/api/v1/posts"),
    ("GET", "/api/v1/services"),
    ("GET", "/api/v1/fees"),
    ("GET", "/api/v1/posts/{post}/availability"),
    ("GET", "/api/v1/posts/{post}/queue/display"),
    ("GET", "/api/v1/track/{tracking_number}"),
    ("GET", "/api/v1/receipts/verify/{receipt_number}"),
    // The registry: anyone registers; the holder of a signed link (`sig`) manages it.
    ("POST", "/api/v1/registry/stays"),
    ("GET", "/api/v1/registry/stays/{id}"),
    ("PUT", "/api/v1/registry/stays/{id}"),
    ("DELETE", "/api/v1/registry/stays/{id}"),
    ("POST", "/api/v1/registry/stays/{id}/confirm"),
    ("POST", "/api/v1/registry/stays/{id}/unsubscribe"),
    ("GET", "/api/v1/registry/states"),
    ("POST", "/api/v1/feedback"),
];

/// Guarded by a token of their own, not a person's (tests/api/metrics.rs checks it).
const OWN_TOKEN: &[(&str, &str)] = &[("GET", "/metrics")];

fn sign(secret: &str, claims: Value, alg: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("sign")
}

fn claims(aud: &str, sub: &str, exp_offset_secs: i64) -> Value {
    // The app's clock, not the machine's: it decides what has expired.
    let now = crate::helpers::tuesday_10_mex().timestamp();
    json!({"sub": sub, "aud": aud, "iss": "consular-desk", "iat": now, "exp": now + exp_offset_secs, "ver": 1, "sid": "AAAAAAAAAAAAAAAAAAAAAA"})
}

/// Tokens that must never open anything, with the status each must get on `who`'s endpoint.
fn bad_tokens(who: Who) -> Vec<(&'static str, String)> {
    let (secret, other_secret, aud) = match who {
        Who::Applicant => (PUBLIC_SECRET, STAFF_SECRET, "consular-desk/public"),
        Who::Staff(_) => (STAFF_SECRET, PUBLIC_SECRET, "consular-desk/staff"),
    };
    let unsigned = |c: Value| {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(c.to_string())
        )
    };
    let mut no_sub = claims(aud, "1", 600);
    no_sub.as_object_mut().map(|o| o.remove("sub"));
    let mut no_exp = claims(aud, "1", 600);
    no_exp.as_object_mut().map(|o| o.remove("exp"));
    let mut no_version = claims(aud, "1", 600);
    no_version.as_object_mut().map(|o| o.remove("ver"));
    let mut no_session = claims(aud, "1", 600);
    no_session.as_object_mut().map(|o| o.remove("sid"));
    let mut wrong_iss = claims(aud, "1", 600);
    wrong_iss["iss"] = json!("someone-else");
    vec![
        ("malformed", "not.a.token".to_string()),
        ("garbage", "Zm9v".to_string()),
        ("expired", sign(secret, claims(aud, "1", -3_600), Algorithm::HS256)),
        ("alg none", unsigned(claims(aud, "1", 600))),
        ("other audience's secret", sign(other_secret, claims(aud, "1", 600), Algorithm::HS256)),
        (
            "this secret, other aud",
            sign(
                secret,
                claims(
                    if aud.ends_with("public") { "consular-desk/staff" } else { "consular-desk/public" },
                    "1",
                    600,
                ),
                Algorithm::HS256,
            ),
        ),
        ("HS512 instead of HS256", sign(secret, claims(aud, "1", 600), Algorithm::HS512)),
        ("no sub", sign(secret, no_sub, Algorithm::HS256)),
        ("no exp", sign(secret, no_exp, Algorithm::HS256)),
        ("no credential version", sign(secret, no_version, Algorithm::HS256)),
        ("no session", sign(secret, no_session, Algorithm::HS256)),
        ("wrong issuer", sign(secret, wrong_iss, Algorithm::HS256)),
        ("unknown subject", sign(secret, claims(aud, "999999", 600), Algorithm::HS256)),
    ]
}

/// The path with every `{placeholder}` filled with something that exists nowhere.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "nothing-here" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// An admitted caller gets past authorization: any answer but 401, 403 or a 5xx (an empty
/// body or an unknown id may well be 404 or 422).
fn assert_admitted(r: &Reply, what: &str) {
    assert!(![401, 403].contains(&r.status) && r.status < 500, "{what}: {} {}", r.status, r.body);
}

async fn call(app: &TestApp, e: &Endpoint, token: Option<&str>) -> Reply {
    let body = (e.method == "POST" || e.method == "PUT").then(|| json!({}));
    app.call(e.method, &concrete(e.path), token, body.as_ref()).await
}

#[actix_web::test]
async fn every_operation_has_its_own_id() {
    let (app, _db) = spawn_app().await;
    let spec = app.get("/openapi.json", None).await.body;
    let mut ids: Vec<String> = spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values()))
        .map(|op| op["operationId"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    let mut repeated = ids.clone();
    repeated.dedup();
    assert_eq!(
        ids.len(),
        repeated.len(),
        "operation ids used twice (clients and link inference mix them up): {ids:?}"
    );
}

#[actix_web::test]
async fn the_matrix_covers_every_endpoint() {
    let (app, _db) = spawn_app().await;
    let spec = app.get("/openapi.json", None).await.body;
    let mut in_spec = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let method = method.to_uppercase();
            let secured = op.get("security").is_some();
            in_spec.push((method.clone(), path.clone()));
            let protected = PROTECTED.iter().any(|e| e.method == method && e.path == path);
            let public = PUBLIC.iter().any(|(m, p)| *m == method && *p == path);
            let own = OWN_TOKEN.iter().any(|(m, p)| *m == method && *p == path);
            assert!(
                protected || public || own,
                "{method} {path} is in the API but not in the authorization matrix"
            );
            assert_eq!(secured, protected || own, "{method} {path}: spec security and matrix disagree");
        }
    }
    for e in PROTECTED {
        assert!(
            in_spec.contains(&(e.method.to_string(), e.path.to_string())),
            "{} {} is not in the spec",
            e.method,
            e.path
        );
    }
}

#[actix_web::test]
async fn wrong_tokens_get_401_or_403_never_200_or_500() {
    let (app, _db) = spawn_app().await;
    let mut applicant = app.applicant_token("ana@example.mx").await;
    let mut staff = Vec::new();
    for role in ALL_STAFF {
        staff.push((*role, app.staff_token(&format!("{role}.matrix"), role, None).await));
    }

    let mut signed_out = false;
    for e in PROTECTED {
        let label = format!("{} {}", e.method, e.path);
        if std::mem::replace(&mut signed_out, e.path.contains("/auth/logout")) {
            // The endpoint before signed these tokens out: sign in again.
            let login = json!({"email": "ana@example.mx", "password": "applicant passphrase"});
            applicant = app.post("/api/v1/auth/login", None, &login).await.body["token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            for (role, token) in staff.iter_mut() {
                let login = json!({"username": format!("{role}.matrix"), "password": STAFF_PASSWORD});
                *token = app.post("/api/v1/staff/auth/login", None, &login).await.body["token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
            }
        }

        let r = call(&app, e, None).await;
        assert_eq!((r.status, r.code()), (401, "missing_token"), "{label} without a token: {}", r.body);
        assert!(r.content_type.starts_with("application/problem+json"));

        let r = app.raw(e.method, e.path, &[("Authorization", "Basic YWRtaW46YWRtaW4=")], Vec::new()).await;
        assert_eq!(r.status, 401, "{label} with Basic auth");

        for (what, token) in bad_tokens(e.who) {
            let r = call(&app, e, Some(&token)).await;
            assert_eq!(r.status, 401, "{label} with a {what} token: {}", r.body);
        }
        let expired =
            bad_tokens(e.who).into_iter().find(|(w, _)| *w == "expired").map(|(_, t)| t).unwrap_or_default();
        assert_eq!(call(&app, e, Some(&expired)).await.code(), "token_expired");

        match e.who {
            Who::Applicant => {
                for (role, token) in &staff {
                    let r = call(&app, e, Some(token)).await;
                    assert_eq!(
                        (r.status, r.code()),
                        (403, "staff_token_not_applicant"),
                        "{label} with a {role} token"
                    );
                }
                let r = call(&app, e, Some(&applicant)).await;
                assert_admitted(&r, &format!("{label} as the applicant"));
            }
            Who::Staff(admitted) => {
                let r = call(&app, e, Some(&applicant)).await;
                assert_eq!(
                    (r.status, r.code()),
                    (403, "public_token_not_staff"),
                    "{label} with a public token"
                );
                for (role, token) in &staff {
                    let r = call(&app, e, Some(token)).await;
                    if admitted.contains(role) {
                        assert_admitted(&r, &format!("{label} as {role}"));
                    } else {
                        assert_eq!((r.status, r.code()), (403, "insufficient_role"), "{label} as {role}");
                    }
                }
            }
        }
    }
}
