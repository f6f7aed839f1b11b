//! The admins' mail view and the staff's own messages: a day's counts and the failed messages
//! (made by a sender whose SMTP server never answers), sending one again, who may, and the
//! messages a staff member gets when an admin resets their password or moves them, read back
//! from the `.eml` files with a real parser.

use std::path::Path;
use std::time::Duration;

use consular_desk::mail::{enqueue, Kind, Letter};
use consular_desk::wording::Lang;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, create_staff_cli, db_conn, run_cli, spawn_on, TestApp, TestDb, STAFF_PASSWORD,
};
use crate::pages::{page, post_form, staff_session};

/// A sender whose every try fails at once (nothing listens on port 9) and gives up after
/// `tries`, looking for due mail every 50 ms.
fn failing_smtp(tries: &'static str) -> [(&'static str, &'static str); 4] {
    [
        ("CONSULAR_DESK_SMTP_URL", "smtp://127.0.0.1:9"),
        ("CONSULAR_DESK_MAIL_MAX_TRIES", tries),
        ("CONSULAR_DESK_MAIL_POLL_MS", "50"),
        ("CONSULAR_DESK_MAIL_RETRY_SECONDS", "3600"),
    ]
}

/// Queues a message of `kind` to `to` as the events do, on the app's clock.
fn queue(app: &TestApp, kind: Kind, to: &str) -> i64 {
    let mut conn = db_conn(&app.db_url);
    let letter = Letter::new(kind, to, Lang::En).with("username", "someone").with("name", "Ana");
    enqueue(&mut conn, &letter, app.clock.naive()).expect("queued")
}

/// The app's today (UTC).
fn today(app: &TestApp) -> String {
    app.now().date_naive().to_string()
}

/// The mail view of `date` once `done` holds of it (at most 15 s).
async fn mail_when(app: &TestApp, admin: &str, date: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        let r = app.get(&format!("/api/v1/admin/mail?date={date}"), Some(admin)).await;
        assert_eq!(r.status, 200, "mail view: {}", r.body);
        if done(&r.body) {
            return r.body;
        }
        last = r.body;
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the mail view never got there: {last}");
}

fn counts<'a>(view: &'a Value, kind: &str) -> &'a Value {
    view["kinds"].as_array().and_then(|k| k.iter().find(|c| c["kind"] == kind)).unwrap_or(&Value::Null)
}

fn failed_total(view: &Value) -> i64 {
    view["kinds"].as_array().map_or(0, |k| k.iter().map(|c| c["failed"].as_i64().unwrap_or(0)).sum())
}

#[actix_web::test]
async fn the_view_counts_a_days_messages_by_kind_and_lists_the_failed_ones_without_addresses() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &failing_smtp("1")).await;
    let admin = app.admin_token().await;
    let first = queue(&app, Kind::StaffPasswordReset, "hidden.one@example.mx");
    queue(&app, Kind::StaffPasswordReset, "hidden.two@example.mx");
    queue(&app, Kind::ConfirmEmail, "hidden.three@example.mx");

    let view = mail_when(&app, &admin, &today(&app), |v| failed_total(v) == 3).await;
    assert_eq!(view["date"], today(&app));
    assert_eq!(
        *counts(&view, "staff_password_reset"),
        json!({"kind": "staff_password_reset", "sent": 0, "waiting": 0, "failed": 2, "withdrawn": 0})
    );
    assert_eq!(
        *counts(&view, "confirm_email"),
        json!({"kind": "confirm_email", "sent": 0, "waiting": 0, "failed": 1, "withdrawn": 0})
    );
    let failed = view["failed"].as_array().expect("failed list");
    assert_eq!(failed.len(), 3, "{view}");
    let one = failed.iter().find(|m| m["id"] == first).expect("the first message");
    assert_eq!(one["kind"], "staff_password_reset");
    assert_eq!(one["tries"], 1);
    assert!(one["queued_at"].as_str().is_some_and(|t| t.starts_with(&today(&app))), "{one}");
    assert!(!one["reason"].as_str().unwrap_or_default().is_empty(), "the reason is kept: {one}");
    let text = view.to_string();
    assert!(!text.contains("example.mx") && !text.contains("Ana"), "no address, no values: {text}");

    // Today is the default; another day has nothing.
    let default = app.get("/api/v1/admin/mail", Some(&admin)).await;
    assert_eq!(default.body["date"], today(&app));
    assert_eq!(failed_total(&default.body), 3);
    let before = app.get("/api/v1/admin/mail?date=2026-12-07", Some(&admin)).await.body;
    assert_eq!(before, json!({"date": "2026-12-07", "kinds": [], "failed": []}));
    assert_eq!(app.get("/api/v1/admin/mail?date=yesterday", Some(&admin)).await.status, 400);
    app.stop().await;
}

#[actix_web::test]
async fn a_failed_message_is_sent_again_once_and_the_trail_says_who() {
    let db = TestDb::fresh();
    // Two tries an hour apart: a message sent again waits (or is being tried) afterwards,
    // whenever the sender comes round, instead of failing again at once.
    let app = spawn_on(&db, &failing_smtp("2")).await;
    let admin = app.admin_token().await;
    let id = queue(&app, Kind::PasswordChanged, "ana@example.mx");
    let date = today(&app);
    mail_when(&app, &admin, &date, |v| counts(v, "password_changed")["waiting"] == 1).await;
    // The first try failed; an hour on, the second one does and the message is given up.
    let mut conn = db_conn(&app.db_url);
    wait_for_tries(&mut conn, id, 1).await;
    app.clock.advance(chrono::Duration::minutes(61));
    let view = mail_when(&app, &admin, &date, |v| failed_total(v) == 1).await;
    assert_eq!(view["failed"][0]["tries"], 2);

    let path = format!("/api/v1/admin/mail/{id}/send-again");
    let r = app.post(&path, Some(&admin), &json!({})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let view = app.get(&format!("/api/v1/admin/mail?date={date}"), Some(&admin)).await.body;
    assert_eq!(
        *counts(&view, "password_changed"),
        json!({"kind": "password_changed", "sent": 0, "waiting": 1, "failed": 0, "withdrawn": 0})
    );
    assert_eq!(view["failed"], json!([]));
    // Waiting (or being tried) now: not failed, so not sent again twice.
    assert_problem(&app.post(&path, Some(&admin), &json!({})).await, 409, "not_failed");
    assert_problem(
        &app.post("/api/v1/admin/mail/999999/send-again", Some(&admin), &json!({})).await,
        404,
        "not_found",
    );
    assert_eq!(app.post("/api/v1/admin/mail/nine/send-again", Some(&admin), &json!({})).await.status, 400);

    let log = app.get("/api/v1/audit/log?action=mail.sent_again", Some(&admin)).await.body;
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["entity"], "mail");
    assert_eq!(entries[0]["entity_id"], id.to_string());
    assert!(!log.to_string().contains("example.mx"));
    app.stop().await;
}

/// Waits until the sender has tried message `id` `tries` times and left it waiting.
async fn wait_for_tries(conn: &mut consular_desk::db::DbConn, id: i64, tries: i32) {
    use consular_desk::db::schema::outbox;
    use diesel::prelude::*;
    for _ in 0..300 {
        let (state, n): (String, i32) =
            outbox::table.find(id).select((outbox::state, outbox::tries)).first(conn).expect("the message");
        if state == "waiting" && n == tries {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {id} was not tried {tries} times");
}

#[actix_web::test]
async fn only_admins_read_the_mail_view_and_a_sent_message_is_not_sent_again() {
    let db = TestDb::fresh();
    let mail = tempfile::tempdir().expect("mail dir");
    let dir = mail.path().display().to_string();
    let app = spawn_on(&db, &[("CONSULAR_DESK_MAIL_DIR", &dir), ("CONSULAR_DESK_MAIL_POLL_MS", "50")]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let auditor = app.staff_token("the.auditor", "auditor", None).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let id = queue(&app, Kind::PasswordChanged, "ana@example.mx");
    mail_when(&app, &admin, &today(&app), |v| counts(v, "password_changed")["sent"] == 1).await;
    let path = format!("/api/v1/admin/mail/{id}/send-again");
    assert_problem(&app.post(&path, Some(&admin), &json!({})).await, 409, "not_failed");

    for (token, status, code) in [
        (Some(clerk.as_str()), 403, "insufficient_role"),
        (Some(auditor.as_str()), 403, "insufficient_role"),
        (Some(ana.as_str()), 403, "public_token_not_staff"),
        (None, 401, "missing_token"),
    ] {
        assert_problem(&app.get("/api/v1/admin/mail", token).await, status, code);
        assert_problem(&app.post(&path, token, &json!({})).await, status, code);
    }
    app.stop().await;
}

/// The one message in `dir` whose subject is `subject`, parsed: (to, subject, text, raw).
async fn message_in(dir: &Path, subject: &str) -> (String, String, String, String) {
    for _ in 0..300 {
        let files = std::fs::read_dir(dir).expect("mail dir").flatten().map(|e| e.path());
        for path in files.filter(|p| p.extension().is_some_and(|e| e == "eml")) {
            let raw = std::fs::read(&path).expect("message file");
            let parsed = mail_parser::MessageParser::default().parse(&raw).expect("a message");
            if parsed.subject() == Some(subject) {
                let to = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default();
                let text = parsed.body_text(0).unwrap_or_default().to_string();
                return (
                    to.to_string(),
                    subject.to_string(),
                    text,
                    String::from_utf8_lossy(&raw).into_owned(),
                );
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no message {subject:?} in {}", dir.display());
}

fn outbox_rows(app: &TestApp) -> i64 {
    use consular_desk::db::schema::outbox;
    use diesel::prelude::*;
    outbox::table.count().get_result(&mut db_conn(&app.db_url)).expect("count")
}

#[actix_web::test]
async fn staff_with_an_address_hear_of_a_reset_password_and_a_move_and_staff_without_one_do_not() {
    let db = TestDb::fresh();
    let mail = tempfile::tempdir().expect("mail dir");
    let dir = mail.path().display().to_string();
    let app = spawn_on(&db, &[("CONSULAR_DESK_MAIL_DIR", &dir), ("CONSULAR_DESK_MAIL_POLL_MS", "50")]).await;
    let admin = app.admin_token().await;

    // Opened by the API with an address (stored lower-cased), shown to the admin.
    let body = json!({"username": "gdl.clerk", "password": STAFF_PASSWORD, "role": "clerk", "post": "GDL", "email": "GDL.Clerk@Example.mx"});
    let created = app.post("/api/v1/admin/staff", Some(&admin), &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["email"], "gdl.clerk@example.mx");
    let bad = json!({"username": "bad.clerk", "password": STAFF_PASSWORD, "role": "clerk", "email": "not an address"});
    let refused = app.post("/api/v1/admin/staff", Some(&admin), &bad).await;
    assert_problem(&refused, 422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "email");

    let secret = "a new clerk passphrase";
    let reset =
        app.post("/api/v1/admin/staff/gdl.clerk/password", Some(&admin), &json!({"password": secret})).await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let (to, _, text, raw) = message_in(mail.path(), "Your consular-desk password was reset").await;
    assert_eq!(to, "gdl.clerk@example.mx");
    assert!(text.contains("gdl.clerk"), "{text}");
    assert!(!raw.contains(secret) && !raw.contains(STAFF_PASSWORD), "no password in the message");

    let moved = json!({"role": "supervisor", "post": "MEX"});
    let r = app.call("PUT", "/api/v1/admin/staff/gdl.clerk/assignment", Some(&admin), Some(&moved)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (to, _, text, _) = message_in(mail.path(), "Your consular-desk role or post changed").await;
    assert_eq!(to, "gdl.clerk@example.mx");
    assert!(text.contains("supervisor") && text.contains("MEX"), "{text}");

    // Without an address, nothing is queued.
    create_staff_cli(&app.db_url, "quiet.clerk", "clerk", Some("MEX"), STAFF_PASSWORD).expect("created");
    let rows = outbox_rows(&app);
    let r = app
        .post("/api/v1/admin/staff/quiet.clerk/password", Some(&admin), &json!({"password": secret}))
        .await;
    assert_eq!(r.status, 200);
    let r = app.call("PUT", "/api/v1/admin/staff/quiet.clerk/assignment", Some(&admin), Some(&moved)).await;
    assert_eq!(r.status, 200);
    assert_eq!(outbox_rows(&app), rows, "no address, no message");

    // An admin gives it one (and can take it away); the next reset is told.
    let path = "/api/v1/admin/staff/quiet.clerk/email";
    let r = app.call("PUT", path, Some(&admin), Some(&json!({"email": "quiet@example.mx"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["email"], "quiet@example.mx");
    assert_problem(
        &app.call("PUT", path, Some(&admin), Some(&json!({"email": "nope"}))).await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.call("PUT", "/api/v1/admin/staff/nobody/email", Some(&admin), Some(&json!({"email": null})))
            .await,
        404,
        "not_found",
    );
    let r = app
        .post(
            "/api/v1/admin/staff/quiet.clerk/password",
            Some(&admin),
            &json!({"password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(outbox_rows(&app), rows + 1);
    let cleared = app.call("PUT", path, Some(&admin), Some(&json!({"email": null}))).await;
    assert_eq!(cleared.body["email"], Value::Null);
    let log = app.get("/api/v1/audit/log?action=staff.email_changed", Some(&admin)).await.body;
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(2), "{log}");
    assert!(!log.to_string().contains("quiet@example.mx"), "the trail holds no address");
    app.stop().await;
}

#[actix_web::test]
async fn the_operator_gives_a_staff_account_an_address_from_the_command_line() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    let args = [
        "create-staff",
        "--username",
        "mex.super",
        "--role",
        "supervisor",
        "--post",
        "MEX",
        "--email",
        "Super@Example.mx",
        "--password-stdin",
    ];
    let out = run_cli(&app.db_url, &args, &[], Some(STAFF_PASSWORD));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad =
        ["create-staff", "--username", "mex.other", "--role", "clerk", "--email", "nope", "--password-stdin"];
    let out = run_cli(&app.db_url, &bad, &[], Some(STAFF_PASSWORD));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("email"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let staff = app.get("/api/v1/admin/staff", Some(&admin)).await.body;
    let listed = staff.as_array().and_then(|s| s.iter().find(|m| m["username"] == "mex.super")).cloned();
    assert_eq!(listed.map(|m| m["email"].clone()), Some(json!("super@example.mx")));
    app.stop().await;
}

#[actix_web::test]
async fn the_mail_page_shows_the_counts_and_sends_a_failed_message_again() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &failing_smtp("1")).await;
    let admin = app.admin_token().await;
    app.staff_token("head.admin", "admin", None).await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let id = queue(&app, Kind::AppointmentReminder, "ana@example.mx");
    mail_when(&app, &admin, &today(&app), |v| failed_total(v) == 1).await;

    let (admins, token, _) = staff_session(&app, "head.admin").await;
    let shown = page(&app, "/staff/admin/mail", &[("Cookie", &admins)]).await;
    assert_eq!(shown.status, 200);
    assert!(shown.text.contains("href=\"/staff/admin/mail\""), "the menu links the page");
    assert!(
        shown.text.contains("Appointment reminder") && shown.text.contains("id=\"counts\""),
        "{}",
        shown.text
    );
    let action = format!("action=\"/staff/admin/mail/{id}/send-again\"");
    assert!(shown.text.contains(&action) && shown.text.contains("Send again"), "{}", shown.text);
    assert!(!shown.text.contains("ana@example.mx"));
    let spanish = page(&app, "/staff/admin/mail", &[("Cookie", &format!("{admins}; lang=es"))]).await;
    assert!(spanish.text.contains("Recordatorio de cita") && spanish.text.contains("Enviar de nuevo"));

    let again = format!("/staff/admin/mail/{id}/send-again");
    let date = today(&app);
    assert_eq!(post_form(&app, &again, &admins, &format!("date={date}&csrf=forged")).await.status, 403);
    let done = post_form(&app, &again, &admins, &format!("date={date}&csrf={token}")).await;
    assert_eq!(done.status, 303, "{}", done.text);
    let back = done.headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(back, format!("/staff/admin/mail?date={date}&again={id}"));
    let notice = page(&app, &back, &[("Cookie", &admins)]).await;
    assert!(notice.text.contains("is in the queue again"), "{}", notice.text);
    let log = app.get("/api/v1/audit/log?action=mail.sent_again", Some(&admin)).await.body;
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(
        post_form(&app, "/staff/admin/mail/424242/send-again", &admins, &format!("csrf={token}"))
            .await
            .status,
        404
    );

    let (clerks, clerk_token, _) = staff_session(&app, "mex.clerk").await;
    assert_eq!(page(&app, "/staff/admin/mail", &[("Cookie", &clerks)]).await.status, 403);
    assert_eq!(post_form(&app, &again, &clerks, &format!("csrf={clerk_token}")).await.status, 403);
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_sets_a_staff_address_from_the_accounts_page() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    app.staff_token("head.admin", "admin", None).await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let (admins, token, _) = staff_session(&app, "head.admin").await;
    let path = "/staff/admin/accounts/mex.clerk/email";
    assert_eq!(post_form(&app, path, &admins, "email=clerk%40example.mx&csrf=forged").await.status, 403);
    let bad = post_form(&app, path, &admins, &format!("email=not+an+address&csrf={token}")).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.text.contains(r#"id="email-mex.clerk-error""#) && bad.text.contains(r#"value="not an address""#),
        "said beside the field, as typed: {}",
        bad.text
    );
    let set = post_form(&app, path, &admins, &format!("email=+Clerk%40Example.mx+&csrf={token}")).await;
    assert_eq!(set.status, 303, "{}", set.text);
    let listed = page(&app, "/staff/admin/accounts", &[("Cookie", &admins)]).await;
    assert!(listed.text.contains(r#"value="clerk@example.mx""#), "{}", listed.text);
    let staff = app.get("/api/v1/admin/staff", Some(&admin)).await.body;
    let clerk = staff.as_array().and_then(|s| s.iter().find(|m| m["username"] == "mex.clerk")).cloned();
    assert_eq!(clerk.map(|m| m["email"].clone()), Some(json!("clerk@example.mx")));
    // Empty removes it.
    assert_eq!(post_form(&app, path, &admins, &format!("email=&csrf={token}")).await.status, 303);
    let staff = app.get("/api/v1/admin/staff", Some(&admin)).await.body;
    let clerk = staff.as_array().and_then(|s| s.iter().find(|m| m["username"] == "mex.clerk")).cloned();
    assert_eq!(clerk.map(|m| m["email"].clone()), Some(Value::Null));

    // Opening an account with an address from the page.
    let password = STAFF_PASSWORD.replace(' ', "+");
    let new = format!(
        "username=gdl.clerk&password={password}&role=clerk&post=GDL&email=gdl%40example.mx&csrf={token}"
    );
    assert_eq!(post_form(&app, "/staff/admin/accounts", &admins, &new).await.status, 303);
    let staff = app.get("/api/v1/admin/staff", Some(&admin)).await.body;
    let gdl = staff.as_array().and_then(|s| s.iter().find(|m| m["username"] == "gdl.clerk")).cloned();
    assert_eq!(gdl.map(|m| m["email"].clone()), Some(json!("gdl@example.mx")));
    app.stop().await;
}
