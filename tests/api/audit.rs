//! The audit trail: every state change leaves its entry (driven from /openapi.json), the chains
//! hold under concurrent writers and two instances, tampering is found and named, the
//! triggers refuse changes, and auditors read but write nothing.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, create_staff_cli, db_conn, person, run_cli, spawn_app, spawn_on, TestApp, STAFF_PASSWORD,
};

/// Sign-ins answer 200 without changing anything; their failures are what the trail records
/// (see `failed_and_throttled_sign_ins_are_recorded_by_account_id_only`).
/// Operations that change nothing recorded: signing in, and the mail requests that only queue a
/// message with a link (what the link then does is recorded when it is opened).
const NOT_STATE_CHANGES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/staff/auth/login"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/me/confirm-email"),
    ("POST", "/api/v1/me/email"),
    // Counting who a message would reach changes nothing.
    ("POST", "/api/v1/staff/emergency-messages/preview"),
    ("POST", "/api/v1/staff/newsletters/preview"),
    // The registry is confidential: a person's own registration, changed by the holder of its
    // link, is not copied into the trail (which records staff reads, bulletins and the
    // retention's counts instead).
    ("POST", "/api/v1/registry/stays"),
    ("PUT", "/api/v1/registry/stays/{id}"),
    ("DELETE", "/api/v1/registry/stays/{id}"),
    ("POST", "/api/v1/registry/stays/{id}/confirm"),
    ("POST", "/api/v1/registry/stays/{id}/unsubscribe"),
];

/// Every entry recorded after entry `after`, read as `reader`.
async fn entries_after(app: &TestApp, reader: &str, after: i64) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/audit/log?after={after}&limit=500"), Some(reader)).await;
    assert_eq!(r.status, 200, "audit log: {}", r.body);
    r.body["entries"].as_array().cloned().unwrap_or_default()
}

async fn last_id(app: &TestApp, reader: &str) -> i64 {
    let mut after = 0;
    loop {
        let page = entries_after(app, reader, after).await;
        match page.last() {
            Some(last) => after = last["id"].as_i64().expect("id"),
            None => return after,
        }
    }
}

/// The chain check, once the instances' sealers have chained every entry written so far.
pub(crate) async fn verify(app: &TestApp, reader: &str) -> Value {
    for _ in 0..200 {
        let r = app.get("/api/v1/audit/log/verify", Some(reader)).await;
        assert_eq!(r.status, 200, "verify: {}", r.body);
        if r.body["pending"] == 0 {
            return r.body;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("entries still wait for their sealer after 10 s");
}

fn slot(slots: &[Value], i: usize) -> i64 {
    slots[i]["slot_id"].as_i64().expect("slot_id")
}

pub(crate) fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// Performs one successful call of `method path` and returns the answer's status and the
/// action (and actor kind) it must have recorded; `None` for an operation with no scenario.
async fn exercise(
    app: &TestApp,
    t: &Tokens,
    method: &str,
    path: &str,
) -> Option<(u16, &'static str, &'static str)> {
    let slots = app.slots("MEX", "notarial").await;
    let admin = Some(t.admin.as_str());
    let r = match (method, path) {
        ("POST", "/api/v1/auth/register") => {
            let email = format!("new.{:x}@example.mx", rand::random::<u32>());
            let body = json!({"email": email, "password": "applicant passphrase", "full_name": "José Núñez"});
            return Some((app.post(path, None, &body).await.status, "applicant.registered", "applicant"));
        }
        ("POST", "/api/v1/me/password") => {
            let token = app.applicant_token(&format!("pw.{:x}@example.mx", rand::random::<u32>())).await;
            let body =
                json!({"current_password": "applicant passphrase", "new_password": "a new passphrase"});
            (app.post(path, Some(&token), &body).await, "applicant.password_changed", "applicant")
        }
        ("POST", "/api/v1/auth/confirm-email") | ("POST", "/api/v1/auth/password-reset/confirm") => {
            let email = format!("link.{:x}@example.mx", rand::random::<u32>());
            app.applicant_token(&email).await;
            let mut conn = crate::helpers::db_conn(&app.db_url);
            let id: i64 = consular_desk::db::schema::applicants::table
                .filter(consular_desk::db::schema::applicants::email.eq(&email))
                .select(consular_desk::db::schema::applicants::id)
                .first(&mut conn)
                .expect("the account");
            use consular_desk::accounts::links::{issue, Purpose};
            let now = app.clock.naive();
            return Some(if path.ends_with("confirm-email") {
                let token = issue(&mut conn, Purpose::ConfirmEmail, id, &email, now).expect("a link");
                (
                    app.post(path, None, &json!({"token": token})).await.status,
                    "applicant.email_confirmed",
                    "applicant",
                )
            } else {
                let token = issue(&mut conn, Purpose::ResetPassword, id, &email, now).expect("a link");
                let body = json!({"token": token, "new_password": "a reset passphrase"});
                (app.post(path, None, &body).await.status, "applicant.password_reset", "applicant")
            });
        }
        ("PUT", "/api/v1/me/preferences") => {
            let token = app.applicant_token(&format!("pref.{:x}@example.mx", rand::random::<u32>())).await;
            let body = json!({"language": "es", "document_notices": false});
            (
                app.call("PUT", path, Some(&token), Some(&body)).await,
                "applicant.preferences_changed",
                "applicant",
            )
        }
        ("POST", "/api/v1/appointments") => {
            let token = app.applicant_token(&format!("b.{:x}@example.mx", rand::random::<u32>())).await;
            (app.book(&token, slot(&slots, 0), 1).await, "appointment.booked", "applicant")
        }
        ("POST", "/api/v1/appointments/{reference}/cancel")
        | ("POST", "/api/v1/appointments/{reference}/reschedule") => {
            let token = app.applicant_token(&format!("c.{:x}@example.mx", rand::random::<u32>())).await;
            let booked =
                app.book(&token, slot(&slots, if path.ends_with("cancel") { 3 } else { 4 }), 1).await;
            let reference = text(&booked.body, "reference");
            if path.ends_with("cancel") {
                let r = app
                    .post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&token), &json!({}))
                    .await;
                (r, "appointment.cancelled", "applicant")
            } else {
                let body = json!({"slot_id": slot(&slots, 5)});
                let r = app
                    .post(&format!("/api/v1/appointments/{reference}/reschedule"), Some(&token), &body)
                    .await;
                (r, "appointment.rescheduled", "applicant")
            }
        }
        ("POST", "/api/v1/staff/appointments") => {
            let body = json!({"slot_id": slot(&slots, 2), "applicants": [person("Ana", "O'Brien")]});
            (app.post(path, Some(&t.clerk), &body).await, "appointment.booked", "staff")
        }
        ("POST", "/api/v1/admin/staff") => {
            let name = format!("made.{:x}", rand::random::<u32>());
            let body = json!({"username": name, "password": STAFF_PASSWORD, "role": "clerk", "post": "MEX"});
            (app.post(path, admin, &body).await, "staff.created", "staff")
        }
        ("POST", "/api/v1/admin/staff/{username}/disable") => (
            app.post("/api/v1/admin/staff/target.clerk/disable", admin, &json!({})).await,
            "staff.disabled",
            "staff",
        ),
        ("POST", "/api/v1/admin/staff/{username}/enable") => {
            app.post("/api/v1/admin/staff/target.clerk/disable", admin, &json!({})).await;
            (
                app.post("/api/v1/admin/staff/target.clerk/enable", admin, &json!({})).await,
                "staff.enabled",
                "staff",
            )
        }
        ("POST", "/api/v1/admin/staff/{username}/password") => {
            let body = json!({"password": "another passphrase"});
            (
                app.post("/api/v1/admin/staff/target.clerk/password", admin, &body).await,
                "staff.password_reset",
                "staff",
            )
        }
        ("PUT", "/api/v1/admin/staff/{username}/email") => {
            let body = json!({"email": "target@example.mx"});
            let r = app.call("PUT", "/api/v1/admin/staff/target.clerk/email", admin, Some(&body)).await;
            (r, "staff.email_changed", "staff")
        }
        ("PUT", "/api/v1/admin/mexican-states/{code}") => {
            let r = app
                .call("PUT", "/api/v1/admin/mexican-states/SON", admin, Some(&json!({"district": "NOG"})))
                .await;
            (r, "mexican_state.reassigned", "staff")
        }
        ("POST", "/api/v1/staff/emergency-messages") | ("POST", "/api/v1/staff/newsletters") => {
            let mut body = json!({
                "districts": ["*"], "from": "2026-12-08", "to": "2026-12-09",
                "subject_en": "Test", "body_en": "Test.", "subject_es": "Prueba", "body_es": "Prueba.",
            });
            if path.ends_with("newsletters") {
                if let Some(b) = body.as_object_mut() {
                    b.retain(|k, _| k != "from" && k != "to");
                }
            }
            (app.post(path, admin, &body).await, "bulletin.written", "staff")
        }
        ("POST", "/api/v1/staff/emergency-messages/{id}/approve") => {
            // One written with approval required, by another officer.
            let body = json!({
                "districts": ["*"], "from": "2026-12-08", "to": "2026-12-09",
                "subject_en": "Test", "body_en": "Test.", "subject_es": "Prueba", "body_es": "Prueba.",
            });
            let officer =
                app.staff_token(&format!("duty.{:x}", rand::random::<u32>()), "duty_officer", None).await;
            let written = app.post("/api/v1/staff/emergency-messages", Some(&officer), &body).await;
            let id = written.body["id"].as_i64().unwrap_or_default();
            sql(&app.db_url, &format!("UPDATE bulletins SET state = 'awaiting_approval' WHERE id = {id}"))
                .ok();
            let r =
                app.post(&format!("/api/v1/staff/emergency-messages/{id}/approve"), admin, &json!({})).await;
            (r, "bulletin.approved", "staff")
        }
        ("POST", "/api/v1/admin/mail/{id}/send-again") => {
            // A message given up (as the sender leaves one after its last try).
            use consular_desk::db::schema::outbox;
            use diesel::prelude::*;
            let mut conn = crate::helpers::db_conn(&app.db_url);
            let letter = consular_desk::mail::Letter::new(
                consular_desk::mail::Kind::PasswordChanged,
                "ana@example.mx",
                consular_desk::wording::Lang::En,
            );
            let id = consular_desk::mail::enqueue(&mut conn, &letter, app.clock.naive()).expect("queued");
            diesel::update(outbox::table.find(id))
                .set((outbox::state.eq("failed"), outbox::last_error.eq("refused")))
                .execute(&mut conn)
                .expect("given up");
            let r = app.post(&format!("/api/v1/admin/mail/{id}/send-again"), admin, &json!({})).await;
            (r, "mail.sent_again", "staff")
        }
        ("PUT", "/api/v1/admin/staff/{username}/assignment") => {
            let body = json!({"role": "supervisor", "post": "MEX"});
            let r = app.call("PUT", "/api/v1/admin/staff/target.clerk/assignment", admin, Some(&body)).await;
            (r, "staff.reassigned", "staff")
        }
        ("PUT", "/api/v1/admin/posts/{post}/schedules") => {
            let week = json!([{"weekdays": [1, 2, 3, 4, 5], "opens": "09:00", "closes": "12:00", "slot_minutes": 30, "capacity": 4}]);
            let body = json!({"service": "passport-renewal", "openings": week});
            let r = app.call("PUT", "/api/v1/admin/posts/MEX/schedules", admin, Some(&body)).await;
            (r, "schedule.replaced", "staff")
        }
        ("POST", "/api/v1/admin/posts/{post}/closures")
        | ("DELETE", "/api/v1/admin/posts/{post}/closures/{id}") => {
            let day = &text(&slots[slots.len() - 1], "starts_at")[..10];
            let from = if method == "POST" { "08:00" } else { "08:30" };
            let body = json!({"date": day, "from": from, "to": if method == "POST" { "08:30" } else { "09:00" }, "reason": "drill"});
            let created = app.post("/api/v1/admin/posts/MEX/closures", admin, &body).await;
            if method == "POST" {
                (created, "closure.created", "staff")
            } else {
                let id = created.body["id"].as_i64().expect("closure id");
                let r =
                    app.call("DELETE", &format!("/api/v1/admin/posts/MEX/closures/{id}"), admin, None).await;
                (r, "closure.deleted", "staff")
            }
        }
        ("POST", "/api/v1/staff/appointments/{reference}/check-in") => {
            let reference = app.soon_appointment(&t.clerk, "MEX", "crba").await;
            let r = app
                .post(&format!("/api/v1/staff/appointments/{reference}/check-in"), Some(&t.clerk), &json!({}))
                .await;
            (r, "appointment.checked_in", "staff")
        }
        ("POST", "/api/v1/staff/posts/{post}/walk-ins") => {
            (walk_in(app, &t.clerk).await, "appointment.walked_in", "staff")
        }
        ("POST", "/api/v1/staff/posts/{post}/queue/next") => {
            walk_in(app, &t.clerk).await;
            (call_next(app, &t.clerk).await, "appointment.called", "staff")
        }
        ("POST", "/api/v1/staff/appointments/{reference}/cancel") => {
            let reference = app.soon_appointment(&t.clerk, "MEX", "crba").await;
            let body = json!({"reason": "asked at the window"});
            let r = app
                .post(&format!("/api/v1/staff/appointments/{reference}/cancel"), Some(&t.clerk), &body)
                .await;
            (r, "appointment.cancelled", "staff")
        }
        ("POST", "/api/v1/staff/appointments/{reference}/reschedule") => {
            let reference = app.soon_appointment(&t.clerk, "MEX", "crba").await;
            let later =
                app.get("/api/v1/staff/posts/MEX/availability?service=crba", Some(&t.clerk)).await.body;
            let slot = later["slots"]
                .as_array()
                .and_then(|s| s.last())
                .map(|s| s["slot_id"].clone())
                .unwrap_or_default();
            let body = json!({"slot_id": slot, "reason": "phoned to move it"});
            let r = app
                .post(&format!("/api/v1/staff/appointments/{reference}/reschedule"), Some(&t.clerk), &body)
                .await;
            (r, "appointment.rescheduled", "staff")
        }
        ("POST", "/api/v1/staff/appointments/{reference}/recall") => {
            walk_in(app, &t.clerk).await;
            let called = text(&call_next(app, &t.clerk).await.body, "reference");
            let r = app
                .post(&format!("/api/v1/staff/appointments/{called}/recall"), Some(&t.clerk), &json!({}))
                .await;
            (r, "appointment.called", "staff")
        }
        ("POST", "/api/v1/staff/appointments/{reference}/complete")
        | ("POST", "/api/v1/staff/appointments/{reference}/no-show") => {
            walk_in(app, &t.clerk).await;
            let called = text(&call_next(app, &t.clerk).await.body, "reference");
            let step = path.rsplit('/').next().unwrap_or_default();
            let r = app
                .post(&format!("/api/v1/staff/appointments/{called}/{step}"), Some(&t.clerk), &json!({}))
                .await;
            (r, if step == "complete" { "appointment.completed" } else { "appointment.no_show" }, "staff")
        }
        ("POST", "/api/v1/staff/appointments/{reference}/rebook") => {
            // A walk-in left waiting when the day closed (the sweep, a day later).
            let reference = text(&walk_in(app, &t.clerk).await.body, "reference");
            let later = (app.now() + chrono::Duration::days(1)).naive_utc();
            consular_desk::window::closing::sweep(&mut crate::helpers::db_conn(&app.db_url), later)
                .expect("sweep");
            let r =
                app.post(&format!("/api/v1/staff/appointments/{reference}/rebook"), admin, &json!({})).await;
            (r, "appointment.rebooked", "staff")
        }
        ("PUT", "/api/v1/admin/posts/{post}/closing-time") => {
            let body = json!({"closes": "18:00"});
            let r = app.call("PUT", "/api/v1/admin/posts/MEX/closing-time", admin, Some(&body)).await;
            (r, "post.closing_time_set", "staff")
        }
        ("PUT", "/api/v1/appointments/{reference}/intake") => {
            let token = app.applicant_token(&format!("i.{:x}@example.mx", rand::random::<u32>())).await;
            let reference = text(&app.book(&token, slot(&slots, 6), 1).await.body, "reference");
            let item = json!({"form": "notarial", "act": "jurat", "document_title": "Affidavit", "pages": 1, "certificates": 1,
                "signers": [{"given_names": "Ana", "surname": "Núñez", "id_proof": {"kind": "personally_known"}}]});
            let path = format!("/api/v1/appointments/{reference}/intake");
            (
                app.call("PUT", &path, Some(&token), Some(&json!({"items": [item]}))).await,
                "intake.prefilled",
                "applicant",
            )
        }
        ("POST", "/api/v1/staff/appointments/{reference}/documents") => {
            (notarial_document(app, &t.clerk).await, "document.recorded", "staff")
        }
        ("POST", "/api/v1/staff/documents/{tracking_number}/transitions") => {
            let pending = notarial_document(app, &t.clerk).await;
            let tracking = text(&pending.body, "tracking_number");
            let body = json!({"to": "ready_for_pickup"});
            let r = app
                .post(&format!("/api/v1/staff/documents/{tracking}/transitions"), Some(&t.clerk), &body)
                .await;
            (r, "document.transitioned", "staff")
        }
        ("POST", "/api/v1/staff/documents/{tracking_number}/handover") => {
            let pending = notarial_document(app, &t.clerk).await;
            let tracking = text(&pending.body, "tracking_number");
            let ready = json!({"to": "ready_for_pickup"});
            app.post(&format!("/api/v1/staff/documents/{tracking}/transitions"), Some(&t.clerk), &ready)
                .await;
            let body = json!({"collector": "someone_else", "name": "Ana Núñez", "id_type": "passport", "id_last4": "1234"});
            let r = app
                .post(&format!("/api/v1/staff/documents/{tracking}/handover"), Some(&t.clerk), &body)
                .await;
            (r, "document.transitioned", "staff")
        }
        ("POST", "/api/v1/staff/posts/{post}/notarial-register/{entry_number}/corrections") => {
            let recorded = notarial_document(app, &t.clerk).await;
            let entry = recorded.body["register_entries"][0].as_str().unwrap_or_default().to_string();
            let body = json!({"act": "oath", "document_title": "Affidavit", "pages": 1, "certificates": 1, "reason": "an oath, not a jurat",
                "signers": [{"given_names": "Ana", "surname": "Núñez", "id_proof": {"kind": "personally_known"}}]});
            let path = format!("/api/v1/staff/posts/MEX/notarial-register/{entry}/corrections");
            (app.post(&path, Some(&t.clerk), &body).await, "register_entry.corrected", "staff")
        }
        ("POST", "/api/v1/staff/fees") => (paid_fee(app, &t.clerk).await, "receipt.issued", "staff"),
        ("POST", "/api/v1/staff/receipts/{receipt_number}/void") => {
            let number = text(&paid_fee(app, &t.clerk).await.body, "receipt_number");
            let body = json!({"reason": "charged twice"});
            (
                app.post(&format!("/api/v1/staff/receipts/{number}/void"), admin, &body).await,
                "receipt.voided",
                "staff",
            )
        }
        ("PUT", "/api/v1/staff/posts/{post}/exchange-rates/{date}") => {
            let body = json!({"currency": "MXN", "rate_micros": 17_250_000});
            let r = app
                .call("PUT", "/api/v1/staff/posts/MEX/exchange-rates/2030-01-15", admin, Some(&body))
                .await;
            (r, "exchange_rate.set", "staff")
        }
        ("POST", "/api/v1/staff/posts/{post}/closeouts")
        | ("POST", "/api/v1/staff/posts/{post}/closeouts/{id}/sign") => {
            // A clerk of its own, so the signed day locks nobody else's receipts.
            let closer =
                app.staff_token(&format!("closer.{:x}", rand::random::<u32>()), "clerk", Some("MEX")).await;
            let closed =
                app.post("/api/v1/staff/posts/MEX/closeouts", Some(&closer), &json!({"counted": []})).await;
            if path.ends_with("closeouts") {
                (closed, "closeout.submitted", "staff")
            } else {
                let id = closed.body["id"].clone();
                let r = app
                    .post(&format!("/api/v1/staff/posts/MEX/closeouts/{id}/sign"), admin, &json!({}))
                    .await;
                (r, "closeout.signed", "staff")
            }
        }
        ("POST", "/api/v1/admin/fees") => {
            let body = json!({"code": format!("fee-{:x}", rand::random::<u32>()), "description": "A new fee", "cfr_item": "22 CFR 22.1", "amount_cents": 2_500, "effective_from": "2031-01-01"});
            (app.post(path, admin, &body).await, "fee.version_added", "staff")
        }
        ("DELETE", "/api/v1/admin/fees/{code}/versions/{effective_from}") => {
            let code = format!("fee-{:x}", rand::random::<u32>());
            let body = json!({"code": code, "description": "A new fee", "cfr_item": "22 CFR 22.1", "amount_cents": 2_500, "effective_from": "2031-01-01"});
            assert_eq!(app.post("/api/v1/admin/fees", admin, &body).await.status, 201);
            let concrete = format!("/api/v1/admin/fees/{code}/versions/2031-01-01");
            let r = app.call("DELETE", &concrete, admin, Some(&json!({"reason": "mistyped"}))).await;
            (r, "fee.version_withdrawn", "staff")
        }
        ("POST", "/api/v1/auth/logout" | "/api/v1/auth/logout-everywhere") => {
            let token = app.applicant_token(&format!("out.{:x}@example.mx", rand::random::<u32>())).await;
            let action =
                if path.ends_with("everywhere") { "session.ended_everywhere" } else { "session.ended" };
            (app.post(path, Some(&token), &json!({})).await, action, "applicant")
        }
        ("POST", "/api/v1/feedback") => {
            // Sent by anyone: the trail records it as anonymous, by the feedback's id.
            let body = json!({"post": "MEX", "service": "notarial", "text": "Muy bien atendido", "email": "ana@example.mx"});
            return Some((app.post(path, None, &body).await.status, "feedback.submitted", "anonymous"));
        }
        ("POST", "/api/v1/staff/auth/logout" | "/api/v1/staff/auth/logout-everywhere") => {
            let token =
                app.staff_token(&format!("out.{:x}", rand::random::<u32>()), "clerk", Some("MEX")).await;
            let action =
                if path.ends_with("everywhere") { "session.ended_everywhere" } else { "session.ended" };
            (app.post(path, Some(&token), &json!({})).await, action, "staff")
        }
        _ => return None,
    };
    Some((r.0.status, r.1, r.2))
}

pub(crate) async fn walk_in(app: &TestApp, clerk: &str) -> crate::helpers::Reply {
    let body = json!({"service": "notarial", "kind": "emergency", "reason": "lost_passport_travel_72h", "applicant": person("Ana", "Núñez")});
    app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await
}

/// A fee paid by card at a walk-in's visit.
pub(crate) async fn paid_fee(app: &TestApp, clerk: &str) -> crate::helpers::Reply {
    let reference = text(&walk_in(app, clerk).await.body, "reference");
    let body = json!({"appointment_reference": reference, "items": [{"fee_code": "notarial-certificate", "quantity": 1}], "payment": {"method": "card"}});
    app.post("/api/v1/staff/fees", Some(clerk), &body).await
}

/// A notarial job recorded, pending, at a walk-in called to a window.
pub(crate) async fn notarial_document(app: &TestApp, clerk: &str) -> crate::helpers::Reply {
    walk_in(app, clerk).await;
    let called = text(&call_next(app, clerk).await.body, "reference");
    let item = json!({"form": "notarial", "act": "jurat", "document_title": "Affidavit", "pages": 1, "certificates": 1,
        "pending": true, "signers": [{"given_names": "Ana", "surname": "Núñez", "id_proof": {"kind": "personally_known"}}]});
    app.post(&format!("/api/v1/staff/appointments/{called}/documents"), Some(clerk), &item).await
}

pub(crate) async fn call_next(app: &TestApp, clerk: &str) -> crate::helpers::Reply {
    // A window of its own: a window holds one called visit at a time.
    let window = format!("w{:x}", rand::random::<u32>());
    app.post("/api/v1/staff/posts/MEX/queue/next", Some(clerk), &json!({"window": window})).await
}

struct Tokens {
    admin: String,
    clerk: String,
}

#[actix_web::test]
async fn every_state_changing_operation_leaves_its_entry() {
    let (app, _db) = spawn_app().await;
    let t = Tokens {
        admin: app.admin_token().await,
        clerk: app.staff_token("mex.clerk", "clerk", Some("MEX")).await,
    };
    create_staff_cli(&app.db_url, "target.clerk", "clerk", Some("MEX"), STAFF_PASSWORD).expect("target");
    app.open_around_the_clock(&t.admin, "MEX", "crba").await;
    let spec = app.get("/openapi.json", None).await.body;
    let mut missing = Vec::new();
    let mut covered = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let method = method.to_uppercase();
            let answers_2xx =
                op["responses"].as_object().is_some_and(|r| r.keys().any(|s| s.starts_with('2')));
            if method == "GET"
                || !answers_2xx
                || NOT_STATE_CHANGES.contains(&(method.as_str(), path.as_str()))
            {
                continue;
            }
            let before = last_id(&app, &t.admin).await;
            let Some((status, action, actor)) = exercise(&app, &t, &method, path).await else {
                missing.push(format!("{method} {path}"));
                continue;
            };
            assert!((200..300).contains(&status), "{method} {path} answered {status}");
            let after = entries_after(&app, &t.admin, before).await;
            let found = after.iter().find(|e| e["action"] == action);
            let entry = found.unwrap_or_else(|| panic!("{method} {path} left no {action} entry: {after:?}"));
            assert_eq!(entry["actor"]["kind"], actor, "{method} {path}: {entry}");
            covered += 1;
        }
    }
    assert!(missing.is_empty(), "state-changing operations without an audit scenario: {missing:?}");
    assert!(covered >= 32, "only {covered} operations exercised");
    // Everything written above still forms unbroken chains.
    let checked = verify(&app, &t.admin).await;
    assert_eq!(checked["ok"], true, "{checked}");
}

#[actix_web::test]
async fn entries_hold_ids_and_codes_never_names_or_emails() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let ana = app.applicant_token("ana.secret@example.mx").await;
    let slots = app.slots("MEX", "notarial").await;
    let booked = app.book(&ana, slot(&slots, 0), 2).await;
    assert_eq!(booked.status, 201);
    let log = app.get("/api/v1/audit/log", Some(&admin)).await.body.to_string();
    for secret in ["ana.secret", "example.mx", "Núñez", "Person 0", "López"] {
        assert!(!log.contains(secret), "the trail holds {secret:?}: {log}");
    }
    assert!(log.contains(&text(&booked.body, "reference")), "the booking's reference is its entity id");
}

#[actix_web::test]
async fn failed_and_throttled_sign_ins_are_recorded_by_account_id_only() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    app.applicant_token("ana@example.mx").await;
    let before = last_id(&app, &admin).await;
    let wrong = json!({"email": "ana@example.mx", "password": "not the password"});
    // Five failures, then refusals: recorded once per throttle window, however many.
    for _ in 0..9 {
        app.post("/api/v1/auth/login", None, &wrong).await;
    }
    let unknown = json!({"email": "nobody@example.mx", "password": "whatever it is"});
    assert_eq!(app.post("/api/v1/auth/login", None, &unknown).await.status, 401);
    let staff_wrong = json!({"username": "nobody.here", "password": "whatever it is"});
    assert_eq!(app.post("/api/v1/staff/auth/login", None, &staff_wrong).await.status, 401);

    let entries = entries_after(&app, &admin, before).await;
    let of = |action: &str| entries.iter().filter(|e| e["action"] == action).cloned().collect::<Vec<_>>();
    let failed = of("sign_in.failed");
    let throttled = of("sign_in.throttled");
    assert_eq!(failed.len(), 5 + 2, "{entries:?}");
    assert_eq!(throttled.len(), 1, "{entries:?}");
    assert!(failed[..5].iter().chain(&throttled).all(|e| text(e, "entity_id").starts_with("applicant:")));
    assert!(failed[5..].iter().all(|e| e.get("entity_id").is_none()), "an unknown name names no account");
    assert!(entries.iter().all(|e| e["actor"]["kind"] == "anonymous"));
    assert!(!Value::Array(entries).to_string().contains("example.mx"));
}

#[actix_web::test]
async fn released_holds_are_recorded_as_the_system() {
    let (app, db) = spawn_app().await;
    let admin = app.admin_token().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let reference =
        text(&app.book(&ana, slot(&app.slots("MEX", "notarial").await, 0), 1).await.body, "reference");
    app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    let later = app.now().naive_utc() + chrono::Duration::minutes(11);
    let released = consular_desk::booking::appointments::release_due_holds(&mut db_conn(db.url()), later)
        .expect("release");
    assert_eq!(released, 1);
    let r = app.get("/api/v1/audit/log?action=seat_hold.released", Some(&admin)).await;
    let entries = r.body["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{}", r.body);
    assert_eq!(entries[0]["actor"]["kind"], "system");
    assert_eq!(entries[0]["post"], "MEX");
}

#[actix_web::test]
async fn the_log_filters_and_pages() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let tokens = app.applicants(3).await;
    let slots = app.slots("GDL", "notarial").await;
    for (i, token) in tokens.iter().enumerate() {
        assert_eq!(app.book(token, slot(&slots, i), 1).await.status, 201);
    }
    let r = app.get("/api/v1/audit/log?post=gdl&action=appointment.booked&limit=2", Some(&admin)).await;
    assert_eq!(r.body["entries"].as_array().map(Vec::len), Some(2), "{}", r.body);
    let next = r.body["next_after"].as_i64().expect("a next page");
    let r = app
        .get(&format!("/api/v1/audit/log?post=GDL&action=appointment.booked&after={next}"), Some(&admin))
        .await;
    assert_eq!(r.body["entries"].as_array().map(Vec::len), Some(1));
    assert!(r.body.get("next_after").is_none());
    let r = app.get("/api/v1/audit/log?actor=applicant&entity=applicant", Some(&admin)).await;
    assert_eq!(r.body["entries"].as_array().map(Vec::len), Some(3), "three registrations: {}", r.body);
    let future = "2099-01-01T00:00:00Z";
    let r = app.get(&format!("/api/v1/audit/log?from={future}"), Some(&admin)).await;
    assert_eq!(r.body["entries"].as_array().map(Vec::len), Some(0));
    for bad in [
        "action=appointment.eaten",
        "actor=robot",
        "limit=0",
        "limit=501",
        "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
    ] {
        assert_problem(
            &app.get(&format!("/api/v1/audit/log?{bad}"), Some(&admin)).await,
            422,
            "validation_failed",
        );
    }
}

#[actix_web::test]
async fn auditors_read_within_their_post_and_write_nothing_anywhere() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let auditor = app.staff_token("all.auditor", "auditor", None).await;
    let mex_auditor = app.staff_token("mex.auditor", "auditor", Some("MEX")).await;
    let ana = app.applicant_token("ana@example.mx").await;
    app.book(&ana, slot(&app.slots("MEX", "notarial").await, 0), 1).await;
    app.book(&ana, slot(&app.slots("GDL", "passport-renewal").await, 0), 1).await;

    assert_eq!(verify(&app, &auditor).await["ok"], true);
    let all = app.get("/api/v1/audit/log", Some(&auditor)).await.body;
    assert!(all["entries"].as_array().is_some_and(|e| e.iter().any(|e| e["post"] == "GDL")));
    let mine = app.get("/api/v1/audit/log", Some(&mex_auditor)).await.body;
    let mine = mine["entries"].as_array().cloned().unwrap_or_default();
    assert!(!mine.is_empty() && mine.iter().all(|e| e["post"] == "MEX"), "{mine:?}");
    assert_problem(&app.get("/api/v1/audit/log?post=GDL", Some(&mex_auditor)).await, 403, "wrong_post");
    assert_problem(
        &app.get("/api/v1/audit/log/verify?post=GDL", Some(&mex_auditor)).await,
        403,
        "wrong_post",
    );
    assert_eq!(app.get("/api/v1/audit/log/verify", Some(&mex_auditor)).await.body["chains"], 1);

    // Every state-changing staff operation in the document refuses an auditor.
    let spec = app.get("/openapi.json", None).await.body;
    let before = last_id(&app, &admin).await;
    let mut tried = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let staff_only = op["security"].to_string().contains("staff_token");
            // Signing oneself out is every member's own write.
            if method == "get" || !staff_only || path.contains("/auth/logout") {
                continue;
            }
            let concrete =
                path.replace("{post}", "MEX").replace("{username}", "all.auditor").replace("{id}", "1");
            let r = app.call(&method.to_uppercase(), &concrete, Some(&auditor), Some(&json!({}))).await;
            assert_problem(&r, 403, "insufficient_role");
            tried += 1;
        }
    }
    assert!(tried >= 9, "only {tried} staff writes tried");
    assert!(entries_after(&app, &admin, before).await.is_empty(), "a refused write left an entry");
}

/// Direct SQL against the test database, as someone with database access would.
pub(crate) fn sql(db_url: &str, statement: &str) -> Result<usize, String> {
    diesel::sql_query(statement).execute(&mut db_conn(db_url)).map_err(|e| e.to_string())
}

pub(crate) fn is_postgres(db_url: &str) -> bool {
    db_url.starts_with("postgres")
}

#[actix_web::test]
async fn triggers_refuse_update_and_delete() {
    let (app, db) = spawn_app().await;
    app.applicant_token("ana@example.mx").await;
    verify(&app, &app.admin_token().await).await;
    for statement in [
        "UPDATE audit_log SET action = 'nothing.happened'",
        "DELETE FROM audit_log",
        "UPDATE audit_log SET change = '{}' WHERE id = 1",
        "UPDATE audit_seals SET hash = prev_hash",
        "DELETE FROM audit_seals",
    ] {
        let refused = sql(db.url(), statement).expect_err(statement);
        assert!(refused.contains("append-only"), "{statement}: {refused}");
    }
    if is_postgres(db.url()) {
        for table in ["audit_log", "audit_seals"] {
            let refused = sql(db.url(), &format!("TRUNCATE {table} CASCADE")).expect_err("truncate");
            assert!(refused.contains("append-only"), "{refused}");
        }
    }
}

fn drop_triggers(db_url: &str) {
    let statements: &[&str] = if is_postgres(db_url) {
        &[
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TRIGGER audit_seals_append_only ON audit_seals",
        ]
    } else {
        &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_seals_no_update",
            "DROP TRIGGER audit_seals_no_delete",
        ]
    };
    for s in statements {
        sql(db_url, s).expect("drop trigger");
    }
}

/// The id of the `seq`th entry of the global chain.
async fn global_entry(app: &TestApp, admin: &str, seq: i64) -> i64 {
    let r = app.get("/api/v1/audit/log?entity=applicant&limit=500", Some(admin)).await;
    let entries = r.body["entries"].as_array().cloned().unwrap_or_default();
    let entry = entries.iter().find(|e| e["chain"] == "*" && e["seal"]["seq"] == seq).expect("entry");
    entry["id"].as_i64().expect("id")
}

/// Ten registrations on the global chain, with the triggers dropped.
async fn tamperable() -> (TestApp, crate::helpers::TestDb, String) {
    let (app, db) = spawn_app().await;
    let admin = app.admin_token().await;
    app.applicants(10).await;
    assert_eq!(verify(&app, &admin).await["ok"], true);
    drop_triggers(db.url());
    (app, db, admin)
}

pub(crate) fn cli_verify(db_url: &str) -> (bool, String) {
    let out = run_cli(db_url, &["audit", "verify"], &[], None);
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

async fn assert_first_bad(app: &TestApp, admin: &str, seq: i64, problem: &str) {
    let checked = verify(app, admin).await;
    assert_eq!(checked["ok"], false, "{checked}");
    assert_eq!(checked["first_bad"]["chain"], "*", "{checked}");
    assert_eq!(checked["first_bad"]["seq"], seq, "{checked}");
    assert_eq!(checked["first_bad"]["problem"], problem, "{checked}");
    let (ok, output) = cli_verify(&app.db_url);
    assert!(!ok, "the CLI exits non-zero: {output}");
    assert!(output.contains(&format!("broken at entry {seq} ")), "{output}");
}

#[actix_web::test]
async fn an_altered_entry_is_named() {
    let (app, db, admin) = tamperable().await;
    let (ok, output) = cli_verify(db.url());
    assert!(ok, "an intact trail verifies: {output}");
    let id = global_entry(&app, &admin, 4).await;
    sql(db.url(), &format!("UPDATE audit_log SET actor_id = actor_id + 1 WHERE id = {id}")).expect("alter");
    assert_first_bad(&app, &admin, 4, "altered").await;
}

#[actix_web::test]
async fn a_deleted_entry_is_named() {
    let (app, db, admin) = tamperable().await;
    let id = global_entry(&app, &admin, 6).await;
    sql(db.url(), &format!("DELETE FROM audit_seals WHERE entry_id = {id}")).expect("delete its seal");
    sql(db.url(), &format!("DELETE FROM audit_log WHERE id = {id}")).expect("delete");
    assert_first_bad(&app, &admin, 6, "missing").await;
}

#[actix_web::test]
async fn two_swapped_entries_are_named() {
    let (app, db, admin) = tamperable().await;
    let (a, b) = (global_entry(&app, &admin, 3).await, global_entry(&app, &admin, 7).await);
    // Swap their places in the chain (the unique (chain, seq) needs a free number in between).
    sql(db.url(), &format!("UPDATE audit_seals SET seq = 1000 WHERE entry_id = {a}")).expect("move a");
    sql(db.url(), &format!("UPDATE audit_seals SET seq = 3 WHERE entry_id = {b}")).expect("move b");
    sql(db.url(), &format!("UPDATE audit_seals SET seq = 7 WHERE entry_id = {a}")).expect("move a back");
    assert_first_bad(&app, &admin, 3, "broken_link").await;
}

#[actix_web::test]
async fn a_cut_tail_is_named() {
    let (app, db, admin) = tamperable().await;
    let last = last_id(&app, &admin).await;
    let checked = verify(&app, &admin).await;
    let entries = checked["entries"].as_i64().expect("entries");
    sql(db.url(), &format!("DELETE FROM audit_seals WHERE entry_id = {last}")).expect("delete the last seal");
    sql(db.url(), &format!("DELETE FROM audit_log WHERE id = {last}")).expect("delete the last");
    let checked = verify(&app, &admin).await;
    assert_eq!(checked["ok"], false, "{checked}");
    assert_eq!(checked["entries"], entries - 1);
    assert_eq!(checked["first_bad"]["problem"], "missing", "{checked}");
}

/// Writers on both instances (on SQLite both apps share the file) at once: bookings,
/// registrations, failed sign-ins and staff changes, 30 at a time. The chains stay linear.
#[actix_web::test]
async fn the_chains_hold_under_concurrent_writers_and_two_instances() {
    let (first, db) = spawn_app().await;
    let second = spawn_on(&db, &[]).await;
    let admin = first.admin_token().await;
    let tokens = first.applicants(30).await;
    let slots = first.slots("MEX", "notarial").await;
    let apps = [&first, &second];
    let bookings = tokens.iter().enumerate().map(|(i, token)| {
        let app = apps[i % 2];
        let slot_id = slot(&slots, i % 4);
        async move { app.book(token, slot_id, 1).await.status }
    });
    let failures = (0..30).map(|i| {
        let app = apps[i % 2];
        async move {
            let body = json!({"username": format!("ghost{i}"), "password": "not a password"});
            app.post("/api/v1/staff/auth/login", None, &body).await.status
        }
    });
    // Checks run while the writers write and the sealers seal: each sees one consistent state.
    let checks = async {
        let mut seen = Vec::new();
        for _ in 0..10 {
            let r = second.get("/api/v1/audit/log/verify", Some(&admin)).await;
            seen.push(r.body);
        }
        seen
    };
    let (booked, failed, checks) = futures_util::future::join3(
        futures_util::future::join_all(bookings),
        futures_util::future::join_all(failures),
        checks,
    )
    .await;
    assert!(checks.iter().all(|c| c["ok"] == true), "a check during the writes failed: {checks:?}");
    assert!(booked.iter().all(|s| [201, 409].contains(s)), "{booked:?}");
    assert!(failed.iter().all(|s| *s == 401), "{failed:?}");
    let checked = verify(&second, &admin).await;
    assert_eq!(checked["ok"], true, "{checked}");
    let booked_entries =
        first.get("/api/v1/audit/log?action=appointment.booked&limit=500", Some(&admin)).await;
    let n = booked_entries.body["entries"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(n, booked.iter().filter(|s| **s == 201).count(), "one entry per booking");
    let (ok, output) = cli_verify(db.url());
    assert!(ok, "{output}");
}

/// Every code an error response names has that response's status.
#[actix_web::test]
async fn the_codes_each_response_names_have_its_status() {
    let (app, _db) = spawn_app().await;
    let spec = app.get("/openapi.json", None).await.body;
    let codes = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"].clone();
    assert!(codes.as_array().is_some_and(|c| c.len() > 30), "Problem.code lists the codes: {codes}");
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            for (status, response) in op["responses"].as_object().expect("responses") {
                let description = response["description"].as_str().unwrap_or_default();
                for code in consular_desk::api::contract::codes_named(description) {
                    assert_eq!(
                        code.status().to_string(),
                        *status,
                        "{method} {path} {status} names {}",
                        code.as_str()
                    );
                }
            }
        }
    }
}

#[actix_web::test]
async fn an_entry_taken_off_the_queue_before_its_seal_is_named() {
    let (app, db, admin) = tamperable().await;
    // Written like any entry (the trigger queues it), then taken off the queue before a
    // sealer gets to it, in one statement batch.
    let id = last_id(&app, &admin).await + 1000;
    let forged = format!(
        "INSERT INTO audit_log (id, chain, recorded_at, actor_kind, action, entity, change) \
         VALUES ({id}, '*', '2026-11-27 12:00:00', 'system', 'staff.created', 'staff', '{{}}'); \
         DELETE FROM audit_pending WHERE entry_id = {id};"
    );
    let mut conn = db_conn(db.url());
    diesel::connection::SimpleConnection::batch_execute(&mut conn, &format!("BEGIN; {forged} COMMIT;"))
        .expect("insert");
    let checked = verify(&app, &admin).await;
    assert_eq!(checked["ok"], false, "{checked}");
    assert_eq!(checked["first_bad"]["problem"], "unsealed", "{checked}");
    assert_eq!(checked["first_bad"]["id"], id, "{checked}");
    let (ok, output) = cli_verify(db.url());
    assert!(!ok && output.contains("unsealed"), "{output}");
}

/// Someone who can rewrite the whole database can re-chain an altered trail so that it holds
/// again; a head kept from an earlier check still shows it (`--expect`).
#[actix_web::test]
async fn a_rewritten_chain_is_caught_by_a_kept_head() {
    let (app, db, admin) = tamperable().await;
    let kept = verify(&app, &admin).await["heads"]
        .as_array()
        .and_then(|heads| heads.iter().find(|h| h["chain"] == "*").cloned())
        .expect("the global chain's head");
    let kept = format!("*:{}:{}", kept["seq"], text(&kept, "hash"));
    let target = global_entry(&app, &admin, 4).await;
    // Alter an entry, then throw the chain away and let the sealer build it again.
    let rewrite = format!(
        "UPDATE audit_log SET actor_id = actor_id + 1 WHERE id = {target};
         DELETE FROM audit_seals WHERE chain = '*';
         DELETE FROM audit_chains WHERE chain = '*';
         INSERT INTO audit_pending (entry_id, chain) SELECT id, chain FROM audit_log WHERE chain = '*';"
    );
    diesel::connection::SimpleConnection::batch_execute(
        &mut db_conn(db.url()),
        &format!("BEGIN; {rewrite} COMMIT;"),
    )
    .expect("rewrite");
    let checked = verify(&app, &admin).await;
    assert_eq!(checked["ok"], true, "the chain alone can't tell: {checked}");
    let out = run_cli(db.url(), &["audit", "verify", "--expect", &kept], &[], None);
    let output = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && output.contains("rewritten"), "{output}");
    let out = run_cli(db.url(), &["audit", "verify", "--expect", "*:1:nothex"], &[], None);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("CHAIN:SEQ:HASH"));
}

/// With no instance running, nothing seals: an entry that waits over a minute is `stale`.
/// The operator's own `create-staff` seals what it writes.
#[actix_web::test]
async fn entries_nobody_seals_are_stale() {
    let db = crate::helpers::TestDb::fresh();
    assert!(run_cli(db.url(), &["migrate"], &[], None).status.success());
    create_staff_cli(db.url(), "first.admin", "admin", None, STAFF_PASSWORD).expect("create-staff");
    let (ok, output) = cli_verify(db.url());
    assert!(ok, "create-staff sealed its entry: {output}");
    let old = "INSERT INTO audit_log (chain, recorded_at, actor_kind, action, entity, change) \
               VALUES ('*', '2026-01-01 00:00:00', 'system', 'staff.created', 'staff', '{}')";
    sql(db.url(), old).expect("insert");
    let (ok, output) = cli_verify(db.url());
    assert!(!ok && output.contains("stale"), "{output}");
}

/// A change that moves something between posts is on both posts' chains.
#[actix_web::test]
async fn moves_between_posts_are_on_both_chains() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let gdl_auditor = app.staff_token("gdl.auditor", "auditor", Some("GDL")).await;
    create_staff_cli(&app.db_url, "moving.clerk", "clerk", Some("MEX"), STAFF_PASSWORD).expect("clerk");
    let body = json!({"role": "clerk", "post": "GDL"});
    let r = app.call("PUT", "/api/v1/admin/staff/moving.clerk/assignment", Some(&admin), Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let seen = app.get("/api/v1/audit/log?action=staff.reassigned", Some(&gdl_auditor)).await.body;
    assert_eq!(seen["entries"].as_array().map(Vec::len), Some(1), "GDL sees who joined: {seen}");
    let all = app.get("/api/v1/audit/log?action=staff.reassigned", Some(&admin)).await.body;
    let posts: Vec<&Value> =
        all["entries"].as_array().map(|e| e.iter().map(|e| &e["post"]).collect()).unwrap_or_default();
    assert_eq!(posts, [&json!("MEX"), &json!("GDL")], "{all}");
}

/// A wrong current password on a password change is the applicant's failure, not an anonymous one.
#[actix_web::test]
async fn a_failed_password_change_names_the_applicant() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let body = json!({"current_password": "not my password", "new_password": "a new passphrase"});
    assert_problem(&app.post("/api/v1/me/password", Some(&ana), &body).await, 403, "wrong_current_password");
    let r = app.get("/api/v1/audit/log?action=sign_in.failed", Some(&admin)).await.body;
    let entry = &r["entries"][0];
    assert_eq!(entry["actor"]["kind"], "applicant", "{r}");
    assert_eq!(format!("applicant:{}", entry["actor"]["id"]), text(entry, "entity_id"));
}
