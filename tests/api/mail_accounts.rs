//! The applicant's mail through the API, read back from the folder the app writes to: the
//! address confirmed before booking, "forgot your password", a new address, the appointment's
//! messages with their PDF and calendar file, the reminder (once, with two instances), a
//! closure's request to choose another time, and the document notice (and turning it off).

use std::str::FromStr;

use chrono::Duration;
use icalendar::Component;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, person, spawn_on, Caller, TestApp, TestDb};
use crate::mailbox::{Mailbox, Received};

const PASSWORD: &str = "applicant passphrase";

/// An app writing its mail to `mailbox`, with the default rule: an address is confirmed before
/// booking.
async fn app_with(db: &TestDb, mailbox: &Mailbox, extra: &[(&str, &str)]) -> TestApp {
    let settings = mailbox.settings();
    let mut overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.push(("CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL", ""));
    overrides.extend_from_slice(extra);
    spawn_on(db, &overrides).await
}

async fn register(app: &TestApp, email: &str, language: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD, "full_name": "Ana López", "language": language});
    let r = app.post("/api/v1/auth/register", None, &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    sign_in(app, email, PASSWORD).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
    let r = app.post("/api/v1/auth/login", None, &json!({"email": email, "password": password})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["token"].as_str().expect("token").to_string()
}

/// Registers, opens the confirmation link, signs in.
async fn confirmed(app: &TestApp, mailbox: &Mailbox, email: &str, language: &str) -> String {
    let token = register(app, email, language).await;
    let message = mailbox.wait_for(email, "").await;
    let r = app
        .post("/api/v1/auth/confirm-email", None, &json!({"token": message.token("/confirm-email")}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    token
}

fn ics(message: &Received) -> (String, icalendar::Event) {
    let (_, kind, bytes) =
        message.attachment(".ics").unwrap_or_else(|| panic!("a calendar file in {message:?}"));
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    let calendar = icalendar::Calendar::from_str(&text).expect("a calendar a real parser reads");
    let method = calendar.property_value("METHOD").unwrap_or_default().to_string();
    assert!(kind.starts_with("text/calendar"), "{kind}");
    let event = calendar.events().next().cloned().expect("one event");
    (method, event)
}

fn pdf(message: &Received) -> String {
    let (_, kind, bytes) = message.attachment(".pdf").unwrap_or_else(|| panic!("a PDF in {message:?}"));
    assert_eq!(kind, "application/pdf");
    crate::helpers::pdf_text(bytes)
}

#[actix_web::test]
async fn an_address_is_confirmed_by_its_link_before_the_account_books() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let token = register(&app, "ana@example.mx", "es").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["email_confirmed"], false);

    // The message: in the account's language, both bodies, the footer's emergency line.
    let message = mailbox.wait_for("ana@example.mx", "Confirme su correo").await;
    assert!(
        message.text.contains("Hola, Ana López") && message.text.contains("+52 55 5080 2000"),
        "{}",
        message.text
    );
    assert!(
        message.html.contains("<a href=\"http://127.0.0.1:8080/confirm-email?token="),
        "{}",
        message.html
    );
    assert!(message.html.contains("+52 55 5080 2000"));
    assert!(message.message_id.starts_with("outbox."), "{}", message.message_id);
    assert!(message.from.starts_with("no-reply@"), "{}", message.from);

    // Not confirmed: no booking (and the answer says what to do).
    let slot = app.slots("MEX", "passport-renewal").await[0]["slot_id"].clone();
    let body = json!({"slot_id": slot, "applicants": [person("Ana", "López")]});
    let refused = app.post("/api/v1/appointments", Some(&token), &body).await;
    assert_problem(&refused, 403, "email_not_confirmed");

    // A wrong link changes nothing; the right one confirms, once.
    assert_problem(
        &app.post("/api/v1/auth/confirm-email", None, &json!({"token": "nope"})).await,
        400,
        "link_not_valid",
    );
    let link = message.token("/confirm-email");
    // Thirty clicks at once: one confirms, the rest find it used.
    let click = json!({"token": link});
    let clicks =
        futures_util::future::join_all((0..30).map(|_| app.post("/api/v1/auth/confirm-email", None, &click)))
            .await;
    assert_eq!(clicks.iter().filter(|r| r.status == 204).count(), 1);
    assert!(clicks.iter().filter(|r| r.status != 204).all(|r| r.code() == "link_not_valid"));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["email_confirmed"], true);
    assert_eq!(app.post("/api/v1/appointments", Some(&token), &body).await.status, 201);

    // Asking for another link once confirmed: 409.
    assert_problem(
        &app.post("/api/v1/me/confirm-email", Some(&token), &json!({})).await,
        409,
        "already_confirmed",
    );
}

#[actix_web::test]
async fn a_new_link_replaces_the_old_and_expires_after_seven_days() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let token = register(&app, "luis@example.mx", "en").await;
    let first = mailbox.wait_for("luis@example.mx", "Confirm").await;
    assert_eq!(app.post("/api/v1/me/confirm-email", Some(&token), &json!({})).await.status, 202);
    let all = loop {
        let all = mailbox.all();
        if all.len() == 2 {
            break all;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let second = all.iter().find(|m| m.message_id != first.message_id).expect("a second message");
    let stale =
        app.post("/api/v1/auth/confirm-email", None, &json!({"token": first.token("/confirm-email")})).await;
    assert_problem(&stale, 400, "link_not_valid");
    app.clock.advance(Duration::days(7) + Duration::minutes(1));
    let token = sign_in(&app, "luis@example.mx", PASSWORD).await;
    let late =
        app.post("/api/v1/auth/confirm-email", None, &json!({"token": second.token("/confirm-email")})).await;
    assert_problem(&late, 400, "link_not_valid");
    // Five asks an hour per account.
    let empty = json!({});
    let asks = futures_util::future::join_all(
        (0..30).map(|_| app.post("/api/v1/me/confirm-email", Some(&token), &empty)),
    )
    .await;
    assert_eq!(
        asks.iter().filter(|r| r.status == 202).count(),
        5,
        "{:?}",
        asks.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(asks.iter().filter(|r| r.status != 202).all(|r| r.status == 429));
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_once_by_a_thirty_minute_link_that_ends_every_session() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let before = confirmed(&app, &mailbox, "rosa@example.mx", "en").await;

    // The same answer for an address nobody has; only the account's address gets a message.
    let unknown = app.post("/api/v1/auth/password-reset", None, &json!({"email": "nobody@example.mx"})).await;
    let known = app.post("/api/v1/auth/password-reset", None, &json!({"email": "Rosa@Example.MX"})).await;
    assert_eq!((unknown.status, known.status), (202, 202));
    assert_eq!(unknown.text, known.text);
    let message = mailbox.wait_for("rosa@example.mx", "new password").await;
    assert!(message.text.contains("30 minutes"), "{}", message.text);
    assert!(mailbox.settled_for("nobody@example.mx").await.is_empty());
    let link = message.token("/reset-password");

    // A too-short password changes nothing and leaves the link usable.
    let short = app
        .post("/api/v1/auth/password-reset/confirm", None, &json!({"token": link, "new_password": "short"}))
        .await;
    assert_eq!(short.status, 422, "{}", short.body);
    let new_password = "a brand new passphrase";
    let done = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"token": link, "new_password": new_password}),
        )
        .await;
    assert_eq!(done.status, 204, "{}", done.body);
    // Every token from before ends; the new password works, the old does not; the link is spent.
    assert_problem(&app.get("/api/v1/me", Some(&before)).await, 401, "invalid_token");
    let old = app
        .post("/api/v1/auth/login", None, &json!({"email": "rosa@example.mx", "password": PASSWORD}))
        .await;
    assert_eq!(old.status, 401);
    sign_in(&app, "rosa@example.mx", new_password).await;
    let again = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"token": link, "new_password": "another passphrase"}),
        )
        .await;
    assert_problem(&again, 400, "link_not_valid");
    // The account is told.
    mailbox.wait_for("rosa@example.mx", "password was changed").await;

    // A link older than 30 minutes: refused.
    assert_eq!(
        app.post("/api/v1/auth/password-reset", None, &json!({"email": "rosa@example.mx"})).await.status,
        202
    );
    let later = loop {
        let resets: Vec<Received> = mailbox
            .all()
            .into_iter()
            .filter(|m| m.subject.contains("new password") && m.message_id != message.message_id)
            .collect();
        if let Some(m) = resets.into_iter().next() {
            break m;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    app.clock.advance(Duration::minutes(31));
    let expired = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"token": later.token("/reset-password"), "new_password": "another passphrase"}),
        )
        .await;
    assert_problem(&expired, 400, "link_not_valid");
}

#[actix_web::test]
async fn reset_requests_are_throttled_per_address_asked_for_whether_or_not_it_exists_and_per_client() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    confirmed(&app, &mailbox, "eva@example.mx", "en").await;
    // Thirty at once for one address, each from its own client: three go through, whether or
    // not an account has the address.
    for (n, email) in ["eva@example.mx", "ghost@example.mx"].into_iter().enumerate() {
        let ask = json!({"email": email});
        let callers: Vec<Caller<'static>> =
            (0..30).map(|i| Caller::from(&format!("127.0.{}.{}", n + 1, i + 1))).collect();
        let asks = futures_util::future::join_all(
            callers
                .iter()
                .map(|caller| app.call_as(caller, "POST", "/api/v1/auth/password-reset", None, Some(&ask))),
        )
        .await;
        let statuses: Vec<u16> = asks.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 3, "{email}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 202 || *s == 429), "{statuses:?}");
    }
    // Three reset messages reached the account, none went anywhere else.
    let resets = mailbox.settled_for("eva@example.mx").await;
    assert_eq!(resets.iter().filter(|m| m.subject.contains("new password")).count(), 3);
    assert!(mailbox.all().iter().all(|m| m.to == "eva@example.mx"));
    // One client asking for thirty addresses: ten an hour.
    let caller = Caller::from("127.0.9.9");
    let bodies: Vec<Value> = (0..30).map(|i| json!({"email": format!("person{i}@example.mx")})).collect();
    let asks = futures_util::future::join_all(
        bodies.iter().map(|b| app.call_as(&caller, "POST", "/api/v1/auth/password-reset", None, Some(b))),
    )
    .await;
    assert_eq!(asks.iter().filter(|r| r.status == 202).count(), 10);
}

#[actix_web::test]
async fn a_new_address_is_confirmed_at_the_new_address_and_the_old_one_is_told() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let token = confirmed(&app, &mailbox, "old@example.mx", "en").await;
    let taken = confirmed(&app, &mailbox, "taken@example.mx", "en").await;
    drop(taken);

    let wrong = app
        .post(
            "/api/v1/me/email",
            Some(&token),
            &json!({"email": "new@example.mx", "current_password": "nope nope nope"}),
        )
        .await;
    assert_problem(&wrong, 403, "wrong_current_password");
    let clash = app
        .post(
            "/api/v1/me/email",
            Some(&token),
            &json!({"email": "taken@example.mx", "current_password": PASSWORD}),
        )
        .await;
    assert_problem(&clash, 409, "email_taken");
    let asked = app
        .post(
            "/api/v1/me/email",
            Some(&token),
            &json!({"email": "new@example.mx", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(asked.status, 202, "{}", asked.body);
    // Until the link is opened the account keeps its address.
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["email"], "old@example.mx");
    let message = mailbox.wait_for("new@example.mx", "Confirm").await;
    let r = app
        .post("/api/v1/auth/confirm-email", None, &json!({"token": message.token("/confirm-email")}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let me = app.get("/api/v1/me", Some(&token)).await.body;
    assert_eq!((me["email"].clone(), me["email_confirmed"].clone()), (json!("new@example.mx"), json!(true)));
    let told = mailbox.wait_for("old@example.mx", "e-mail address was changed").await;
    assert!(told.text.contains("new@example.mx"), "{}", told.text);
    sign_in(&app, "new@example.mx", PASSWORD).await;
}

#[actix_web::test]
async fn an_appointment_writes_when_booked_moved_and_cancelled_with_its_pdf_and_calendar_file() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let token = confirmed(&app, &mailbox, "pablo@example.mx", "es").await;
    let slots = app.slots("MEX", "passport-renewal").await;
    let booked = app.book(&token, slots[0]["slot_id"].as_i64().expect("slot"), 1).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let reference = booked.body["reference"].as_str().expect("reference").to_string();

    let confirmation = mailbox.wait_for("pablo@example.mx", &format!("Su cita {reference}")).await;
    assert!(
        confirmation.text.contains("Traiga:") && confirmation.text.contains(&format!("/my/{reference}")),
        "{}",
        confirmation.text
    );
    assert!(confirmation.html.contains("<li>"), "the list of what to bring: {}", confirmation.html);
    assert!(pdf(&confirmation).contains(&reference));
    let (method, event) = ics(&confirmation);
    assert_eq!((method.as_str(), event.get_sequence()), ("PUBLISH", Some(0)));

    let moved = app
        .post(
            &format!("/api/v1/appointments/{reference}/reschedule"),
            Some(&token),
            &json!({"slot_id": slots[1]["slot_id"]}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let rescheduled = mailbox.wait_for("pablo@example.mx", "cambió a").await;
    let (method, event) = ics(&rescheduled);
    assert_eq!((method.as_str(), event.get_sequence()), ("PUBLISH", Some(1)));
    assert!(pdf(&rescheduled).contains(&reference));

    let cancelled =
        app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&token), &json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let gone = mailbox.wait_for("pablo@example.mx", "cancelada").await;
    let (method, event) = ics(&gone);
    assert_eq!((method.as_str(), event.get_sequence()), ("CANCEL", Some(2)));
    assert!(gone.attachment(".pdf").is_none());
    // The three messages have three ids.
    let ids: std::collections::HashSet<String> =
        [&confirmation, &rescheduled, &gone].iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 3);
}

#[actix_web::test]
async fn one_reminder_goes_before_the_appointment_however_many_instances_run() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let fast = [("CONSULAR_DESK_MAINTENANCE_SECONDS", "1")];
    let first = app_with(&db, &mailbox, &fast).await;
    let token = confirmed(&first, &mailbox, "ines@example.mx", "en").await;
    // The last bookable slot: days away, so the reminder is not due yet.
    let slots = first.slots("MEX", "passport-renewal").await;
    let last = slots.last().expect("a slot").clone();
    let booked = first.book(&token, last["slot_id"].as_i64().expect("slot"), 1).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let second = spawn_on(&db, &[("CONSULAR_DESK_MAINTENANCE_SECONDS", "1")]).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(mailbox.all().iter().all(|m| !m.subject.starts_with("Reminder")), "not yet");

    // 47 hours before: both instances' timers look; one reminder is queued.
    let starts =
        chrono::DateTime::parse_from_rfc3339(last["starts_at"].as_str().expect("starts")).expect("time");
    let at = starts.to_utc() - Duration::hours(47);
    first.clock.set(at);
    second.clock.set(at);
    let reminder = mailbox.wait_for("ines@example.mx", "Reminder").await;
    assert!(reminder.text.contains("Bring:") && reminder.attachment(".pdf").is_some(), "{}", reminder.text);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
    let reminders = mailbox.all().into_iter().filter(|m| m.subject.starts_with("Reminder")).count();
    assert_eq!(reminders, 1);
}

#[actix_web::test]
async fn a_closure_asks_the_people_it_displaces_to_choose_another_time() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let admin = app.admin_token().await;
    let token = confirmed(&app, &mailbox, "olga@example.mx", "en").await;
    let slot = app.slots("MEX", "passport-renewal").await[0].clone();
    let booked = app.book(&token, slot["slot_id"].as_i64().expect("slot"), 1).await;
    let reference = booked.body["reference"].as_str().expect("reference").to_string();
    let day = &slot["starts_at"].as_str().expect("starts")[..10];
    let closed = app
        .post("/api/v1/admin/posts/MEX/closures", Some(&admin), &json!({"date": day, "reason": "power cut"}))
        .await;
    assert_eq!(closed.status, 201, "{}", closed.body);
    let asked = mailbox.wait_for("olga@example.mx", "choose another time").await;
    assert!(asked.link(&format!("/my/{reference}")).ends_with(&reference), "{}", asked.text);
}

/// A booked visit taken at the window: its document moves to ready for pickup.
async fn document_made_ready(app: &TestApp, token: &str, window: &str) {
    let admin = app.admin_token().await;
    let clerk = app.staff_token(&format!("clerk.{:x}", rand::random::<u32>()), "clerk", Some("MEX")).await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let slot = app.slots("MEX", "passport-renewal").await[0]["slot_id"].clone();
    let booked = app
        .post(
            "/api/v1/appointments",
            Some(token),
            &json!({"slot_id": slot, "applicants": [person("Ana", "Ruiz")]}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let reference = booked.body["reference"].as_str().expect("reference").to_string();
    let soon = app.get("/api/v1/staff/posts/MEX/availability?service=passport-renewal", Some(&clerk)).await;
    let moved = app
        .post(
            &format!("/api/v1/staff/appointments/{reference}/reschedule"),
            Some(&clerk),
            &json!({"slot_id": soon.body["slots"][0]["slot_id"], "reason": "came early"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let checked_in =
        app.post(&format!("/api/v1/staff/appointments/{reference}/check-in"), Some(&clerk), &json!({})).await;
    assert_eq!(checked_in.status, 200, "{}", checked_in.body);
    let called =
        app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": window})).await;
    assert_eq!(called.status, 200, "{}", called.body);
    let doc =
        crate::documents::record(app, &clerk, &reference, &crate::documents::renewal("Ana", "Ruiz")).await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    let tracking = doc.body["tracking_number"].as_str().expect("tracking").to_string();
    for step in ["sent_for_adjudication", "approved", "printed", "received_at_post", "ready_for_pickup"] {
        let r = app
            .post(
                &format!("/api/v1/staff/documents/{tracking}/transitions"),
                Some(&clerk),
                &json!({"to": step}),
            )
            .await;
        assert_eq!(r.status, 200, "{step}: {}", r.body);
    }
}

#[actix_web::test]
async fn a_document_ready_for_pickup_is_told_unless_the_account_turned_notices_off() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let wants = confirmed(&app, &mailbox, "wants@example.mx", "en").await;
    document_made_ready(&app, &wants, "2").await;
    let ready = mailbox.wait_for("wants@example.mx", "ready for pickup").await;
    assert!(ready.text.contains("/track?number=") && ready.text.contains("/my/settings"), "{}", ready.text);

    let quiet = confirmed(&app, &mailbox, "quiet@example.mx", "en").await;
    let set = app
        .call(
            "PUT",
            "/api/v1/me/preferences",
            Some(&quiet),
            Some(&json!({"language": "es", "document_notices": false})),
        )
        .await;
    assert_eq!(
        (set.status, set.body["document_notices"].clone(), set.body["language"].clone()),
        (200, json!(false), json!("es"))
    );
    document_made_ready(&app, &quiet, "3").await;
    let got: Vec<Value> =
        mailbox.settled_for("quiet@example.mx").await.iter().map(|m| json!(m.subject)).collect();
    assert!(got.iter().all(|s| !s.as_str().unwrap_or_default().contains("recoger")), "{got:?}");
}

#[actix_web::test]
async fn the_mail_endpoints_refuse_the_wrong_tokens_and_bad_bodies() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let staff = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    for (method, path) in [
        ("POST", "/api/v1/me/confirm-email"),
        ("POST", "/api/v1/me/email"),
        ("PUT", "/api/v1/me/preferences"),
    ] {
        let body = json!({"email": "x@example.mx", "current_password": "x", "language": "en", "document_notices": true});
        assert_problem(&app.call(method, path, None, Some(&body)).await, 401, "missing_token");
        assert_problem(
            &app.call(method, path, Some(&staff), Some(&body)).await,
            403,
            "staff_token_not_applicant",
        );
    }
    let bad = app.post("/api/v1/auth/password-reset", None, &json!({"email": "not an address"})).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let extra = app.post("/api/v1/auth/confirm-email", None, &json!({"token": "x", "admin": true})).await;
    assert_eq!(extra.status, 422, "{}", extra.body);
    let huge = app.post("/api/v1/auth/confirm-email", None, &json!({"token": "x".repeat(60_000)})).await;
    assert!(huge.status == 400 || huge.status == 413, "{}", huge.status);
    // Invisible characters in an address are refused, not stored.
    let invisible =
        app.post("/api/v1/auth/password-reset", None, &json!({"email": "a\u{200b}na@example.mx"})).await;
    assert_eq!(invisible.status, 422, "{}", invisible.body);
}
