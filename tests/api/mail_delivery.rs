//! Mail reaches a real SMTP server (`smtp.rs`) or the folder, survives the sender being killed
//! mid-batch, waits while the server is down or refusing for now, and is given up with its
//! reason when the server refuses for good. Each test runs on the suite's backend.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDateTime;
use consular_desk::clock::Clock;
use consular_desk::db::schema::outbox;
use consular_desk::db::write_transaction;
use consular_desk::mail::outbox::enqueue;
use consular_desk::mail::{Kind, Letter};
use consular_desk::wording::Lang;
use diesel::prelude::*;

use crate::helpers::{db_conn, run_cli, spawn_on, tuesday_10_mex, ServeBinary, TestDb};
use crate::smtp::{wait_for, Inbox, Mode, SmtpServer};

/// The emergency number every message's footer carries, in both bodies.
const EMERGENCY: &str = "+52 55 5080 2000";

/// What a test may wait for one thing at most; far beyond what it needs.
const PATIENCE: Duration = Duration::from_secs(30);

/// Creates the tables, as a deployment's `migrate` does, so messages can be queued before any
/// sender runs.
fn migrate(url: &str) {
    let out = run_cli(url, &["migrate"], &[], None);
    assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
}

/// Queues `n` password-changed messages due at `now` in one transaction, to
/// `person{i}@example.com`, alternating English and Spanish; returns their rows' ids.
fn queue(url: &str, n: usize, now: NaiveDateTime) -> Vec<i64> {
    let mut conn = db_conn(url);
    write_transaction(&mut conn, |c| {
        (0..n)
            .map(|i| {
                let lang = if i % 2 == 0 { Lang::En } else { Lang::Es };
                let letter = Letter::new(Kind::PasswordChanged, &format!("person{i}@example.com"), lang)
                    .with("name", format!("Person {i}"));
                enqueue(c, &letter, now)
            })
            .collect::<QueryResult<Vec<i64>>>()
    })
    .expect("queue the messages")
}

/// One outbox row as these tests look at it.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    state: String,
    tries: i32,
    last_error: Option<String>,
    created_at: NaiveDateTime,
}

fn rows(url: &str) -> Vec<Row> {
    outbox::table
        .order(outbox::id)
        .select((outbox::id, outbox::state, outbox::tries, outbox::last_error, outbox::created_at))
        .load::<(i64, String, i32, Option<String>, NaiveDateTime)>(&mut db_conn(url))
        .expect("read the outbox")
        .into_iter()
        .map(|(id, state, tries, last_error, created_at)| Row { id, state, tries, last_error, created_at })
        .collect()
}

/// Waits until every row satisfies `done`; returns the rows.
async fn wait_for_rows(url: &str, what: &str, done: impl Fn(&Row) -> bool) -> Vec<Row> {
    wait_for(what, PATIENCE, || {
        let rows = rows(url);
        rows.iter().all(&done).then_some(rows)
    })
    .await
}

/// The Message-ID (without brackets) up to its `@`, for every row: `outbox.{id}.{created_unix}`.
fn expected_ids(url: &str) -> HashMap<String, i64> {
    rows(url)
        .into_iter()
        .map(|r| (format!("outbox.{}.{}", r.id, r.created_at.and_utc().timestamp()), r.id))
        .collect()
}

/// A Message-ID's part before the `@`.
fn local_part(message_id: &str) -> &str {
    message_id.split('@').next().unwrap_or_default()
}

#[actix_web::test]
async fn messages_arrive_over_smtp_with_both_bodies_and_the_emergency_number() {
    let db = TestDb::fresh();
    migrate(db.url());
    let received = tempfile::tempdir().expect("dir");
    let smtp = SmtpServer::start(received.path(), Mode::Accept);
    let ids = queue(db.url(), 4, tuesday_10_mex().naive_utc());
    let url = smtp.url();
    let _app = spawn_on(&db, &[("CONSULAR_DESK_SMTP_URL", &url), ("CONSULAR_DESK_MAIL_POLL_MS", "50")]).await;

    let mut inbox = Inbox::new(received.path());
    inbox.wait_until("the four messages", PATIENCE, |i| i.len() >= 4).await;
    wait_for_rows(db.url(), "every row marked sent", |r| r.state == "sent").await;
    let expected = expected_ids(db.url());
    inbox.refresh();
    assert_eq!(inbox.len(), 4, "each message once");
    for m in &inbox.messages() {
        let id =
            expected.get(local_part(&m.message_id)).unwrap_or_else(|| panic!("unknown id {}", m.message_id));
        let i = ids.iter().position(|x| x == id).expect("a queued row");
        assert_eq!(m.to, format!("person{i}@example.com"));
        assert_eq!(m.from, "no-reply@consular-desk.invalid");
        let subject = if i % 2 == 0 { "Your password was changed" } else { "Su contraseña cambió" };
        assert_eq!(m.subject, subject);
        let text = m.text.as_deref().expect("a text/plain part");
        let html = m.html.as_deref().expect("a text/html part");
        for body in [text, html] {
            assert!(
                body.contains(EMERGENCY),
                "the footer's emergency number in {}: {body}",
                m.file.display()
            );
            assert!(body.contains(&format!("Person {i}")), "the name in {}", m.file.display());
        }
    }
}

#[actix_web::test]
async fn without_an_smtp_url_messages_are_private_eml_files_in_the_mail_folder() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::fresh();
    migrate(db.url());
    let parent = tempfile::tempdir().expect("dir");
    let folder = parent.path().join("mail");
    queue(db.url(), 3, tuesday_10_mex().naive_utc());
    let folder_text = folder.display().to_string();
    let _app =
        spawn_on(&db, &[("CONSULAR_DESK_MAIL_DIR", &folder_text), ("CONSULAR_DESK_MAIL_POLL_MS", "50")])
            .await;

    let mut inbox = Inbox::new(&folder);
    inbox.wait_until("three .eml files", PATIENCE, |i| i.len() >= 3).await;
    wait_for_rows(db.url(), "every row marked sent", |r| r.state == "sent").await;
    inbox.refresh();
    assert_eq!(inbox.len(), 3, "one file a message");
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700, "the folder it made is private");
    let expected = expected_ids(db.url());
    for m in &inbox.messages() {
        let name = m.file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(name.ends_with(".eml"), "{name}");
        assert_eq!(mode(&m.file), 0o600, "{name} is readable by its owner only");
        assert!(expected.contains_key(local_part(&m.message_id)), "{} is a queued row's", m.message_id);
        assert!(name.contains(local_part(&m.message_id)), "{name} is named after its Message-ID");
        assert!(m.text.as_deref().is_some_and(|t| t.contains(EMERGENCY)), "{name}: text part");
        assert!(m.html.as_deref().is_some_and(|t| t.contains(EMERGENCY)), "{name}: html part");
    }
}

/// On PostgreSQL, lets this test database's commits return before their WAL reaches the disk
/// (`synchronous_commit = off` for its new sessions). The sender marks each message in a
/// commit of its own, and ten thousand WAL flushes would make the test measure the disk; a
/// killed client loses no committed row either way (only a crash of PostgreSQL itself would).
fn commits_without_waiting_for_disk(url: &str) {
    if let consular_desk::db::DbConn::Postgres(_) = db_conn(url) {
        diesel::sql_query(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off', current_database()); END $$",
        )
        .execute(&mut db_conn(url))
        .expect("set synchronous_commit for the test database");
    }
}

#[actix_web::test]
async fn a_sender_killed_mid_batch_loses_nothing_and_repeats_at_most_one_batch() {
    const MESSAGES: usize = 10_000;
    const BATCH: usize = 50;
    let db = TestDb::fresh();
    migrate(db.url());
    commits_without_waiting_for_disk(db.url());
    let received = tempfile::tempdir().expect("dir");
    let smtp = SmtpServer::start(received.path(), Mode::Accept);
    // The binary runs on the system clock.
    let ids: HashSet<i64> = queue(db.url(), MESSAGES, Clock::system().naive()).into_iter().collect();
    let url = smtp.url();
    let batch = BATCH.to_string();
    let env = [
        ("CONSULAR_DESK_SMTP_URL", url.as_str()),
        ("CONSULAR_DESK_MAIL_LEASE_SECONDS", "2"),
        ("CONSULAR_DESK_MAIL_BATCH", batch.as_str()),
        ("CONSULAR_DESK_MAIL_POLL_MS", "50"),
    ];
    let mut inbox = Inbox::new(received.path());

    let mut first = ServeBinary::start(db.url(), &env);
    inbox.wait_until("some hundreds of messages before the kill", PATIENCE, |i| i.len() >= 300).await;
    first.kill();
    let before_kill = inbox.refresh();
    assert!(before_kill < MESSAGES, "the kill came before the end ({before_kill} arrived)");

    let _second = ServeBinary::start(db.url(), &env);
    // A deadline far past the ~20 s this takes on an idle machine: CI runs other tests beside it.
    inbox
        .wait_until("every message after the restart", Duration::from_secs(120), |i| i.distinct() >= MESSAGES)
        .await;
    wait_for_rows(db.url(), "every row marked sent", |r| r.state == "sent").await;
    inbox.refresh();

    let expected = expected_ids(db.url());
    let counts = inbox.counts();
    let arrived: HashSet<i64> = counts
        .keys()
        .map(|m| *expected.get(local_part(m)).unwrap_or_else(|| panic!("unknown Message-ID {m}")))
        .collect();
    assert_eq!(arrived, ids, "every queued message arrived");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    eprintln!(
        "mail_delivery: {before_kill} of {MESSAGES} arrived before the kill; {} received, {duplicates} twice",
        inbox.len()
    );
    assert!(duplicates <= BATCH, "{duplicates} messages arrived twice; at most one batch ({BATCH}) may");
}

#[actix_web::test]
async fn messages_wait_while_the_smtp_server_is_down_and_go_when_it_is_back() {
    let db = TestDb::fresh();
    migrate(db.url());
    let received = tempfile::tempdir().expect("dir");
    // A port that was just free; nothing listens on it until the server comes back.
    let port = SmtpServer::start(received.path(), Mode::Accept);
    let (url, number) = (port.url(), port.port);
    port.stop();
    queue(db.url(), 5, tuesday_10_mex().naive_utc());
    let _app = spawn_on(
        &db,
        &[
            ("CONSULAR_DESK_SMTP_URL", &url),
            ("CONSULAR_DESK_MAIL_RETRY_SECONDS", "1"),
            ("CONSULAR_DESK_MAIL_POLL_MS", "50"),
        ],
    )
    .await;

    let down = wait_for_rows(db.url(), "every message tried and waiting with its reason", |r| {
        r.state == "waiting" && r.tries >= 1 && r.last_error.is_some()
    })
    .await;
    assert!(down.iter().all(|r| !r.last_error.as_deref().unwrap_or_default().is_empty()), "{down:?}");

    let _back = SmtpServer::start_on(number, received.path(), Mode::Accept);
    let mut inbox = Inbox::new(received.path());
    inbox.wait_until("the five messages", PATIENCE, |i| i.distinct() >= 5).await;
    wait_for_rows(db.url(), "every row marked sent", |r| r.state == "sent").await;
}

#[actix_web::test]
async fn a_temporary_refusal_is_tried_again_until_the_server_accepts() {
    let db = TestDb::fresh();
    migrate(db.url());
    let received = tempfile::tempdir().expect("dir");
    let refusing = SmtpServer::start(received.path(), Mode::Temporary);
    let (url, port) = (refusing.url(), refusing.port);
    queue(db.url(), 5, tuesday_10_mex().naive_utc());
    let _app = spawn_on(
        &db,
        &[
            ("CONSULAR_DESK_SMTP_URL", &url),
            ("CONSULAR_DESK_MAIL_RETRY_SECONDS", "1"),
            ("CONSULAR_DESK_MAIL_POLL_MS", "50"),
        ],
    )
    .await;

    let refused = wait_for_rows(db.url(), "every message refused for now and waiting", |r| {
        r.state == "waiting" && r.last_error.as_deref().is_some_and(|e| e.contains("451"))
    })
    .await;
    assert!(refused.iter().all(|r| r.tries >= 1), "{refused:?}");
    assert_eq!(Inbox::new(received.path()).refresh(), 0, "nothing was kept");

    refusing.stop();
    let _accepting = SmtpServer::start_on(port, received.path(), Mode::Accept);
    let mut inbox = Inbox::new(received.path());
    inbox.wait_until("the five messages", PATIENCE, |i| i.distinct() >= 5).await;
    wait_for_rows(db.url(), "every row marked sent", |r| r.state == "sent").await;
}

#[actix_web::test]
async fn a_permanent_refusal_gives_the_message_up_after_max_tries_keeping_the_reason() {
    let db = TestDb::fresh();
    migrate(db.url());
    let received = tempfile::tempdir().expect("dir");
    let smtp = SmtpServer::start(received.path(), Mode::Refuse);
    queue(db.url(), 3, tuesday_10_mex().naive_utc());
    let url = smtp.url();
    let _app = spawn_on(
        &db,
        &[
            ("CONSULAR_DESK_SMTP_URL", &url),
            ("CONSULAR_DESK_MAIL_MAX_TRIES", "2"),
            ("CONSULAR_DESK_MAIL_RETRY_SECONDS", "1"),
            ("CONSULAR_DESK_MAIL_POLL_MS", "50"),
        ],
    )
    .await;

    let failed = wait_for_rows(db.url(), "every message given up", |r| r.state == "failed").await;
    for row in &failed {
        assert_eq!(row.tries, 2, "{row:?}");
        let reason = row.last_error.as_deref().unwrap_or_default();
        assert!(
            reason.contains("550") && reason.contains("Delivery refused"),
            "the server's reason is kept: {row:?}"
        );
    }
    assert_eq!(Inbox::new(received.path()).refresh(), 0, "nothing was kept");
}

/// Registers `n` confirmed stays in Guadalajara's district, present from yesterday to ten days
/// on (system clock: the binary's), at `registrant{i}@example.com`, alternating languages.
fn registrants(url: &str, n: usize) {
    use consular_desk::db::schema::stays;
    let now = Clock::system().naive();
    let rows: Vec<_> = (0..n)
        .map(|i| {
            (
                stays::email.eq(format!("registrant{i}@example.com")),
                stays::language.eq(if i % 2 == 0 { "en" } else { "es" }),
                stays::arrives.eq(now.date() - chrono::Duration::days(1)),
                stays::departs.eq(now.date() + chrono::Duration::days(10)),
                stays::district.eq("GDL"),
                stays::emergency_messages.eq(true),
                stays::newsletter.eq(false),
                stays::confirmed_at.eq(Some(now)),
                stays::created_at.eq(now),
                stays::updated_at.eq(now),
            )
        })
        .collect();
    write_transaction(&mut db_conn(url), |c| {
        rows.iter()
            .try_for_each(|row| diesel::insert_into(stays::table).values(row.clone()).execute(c).map(|_| ()))
    })
    .expect("registrants");
}

/// A port that was free a moment ago, for a server whose address the test must know.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a port")
}

/// Signs `username` in on the binary at `base` and sends an emergency message to GDL for
/// today; returns the answer.
async fn send_emergency_through(base: &str, username: &str) -> serde_json::Value {
    let client = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
    let login = serde_json::json!({"username": username, "password": crate::helpers::STAFF_PASSWORD});
    let mut token = None;
    // The binary may still be starting.
    for _ in 0..200 {
        if let Ok(mut r) = client.post(format!("{base}/api/v1/staff/auth/login")).send_json(&login).await {
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            token = body["token"].as_str().map(String::from);
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let token = token.expect("the officer signs in");
    let today = Clock::system().naive().date().to_string();
    let message = serde_json::json!({
        "districts": ["GDL"], "from": today, "to": today,
        "subject_en": "Earthquake", "body_en": "Stay away from damaged buildings.",
        "subject_es": "Sismo", "body_es": "Aléjese de los edificios dañados.",
    });
    let mut r = client
        .post(format!("{base}/api/v1/staff/emergency-messages"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&message)
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 202);
    r.json().await.expect("the queued message")
}

#[actix_web::test]
async fn an_emergency_message_killed_mid_send_reaches_every_registrant_once_after_a_restart() {
    const REGISTRANTS: usize = 3_000;
    const BATCH: usize = 50;
    let db = TestDb::fresh();
    migrate(db.url());
    commits_without_waiting_for_disk(db.url());
    registrants(db.url(), REGISTRANTS);
    crate::helpers::create_staff_cli(
        db.url(),
        "gdl.duty",
        "duty_officer",
        Some("GDL"),
        crate::helpers::STAFF_PASSWORD,
    )
    .expect("the officer");
    let received = tempfile::tempdir().expect("dir");
    let smtp = SmtpServer::start(received.path(), Mode::Accept);
    let (url, batch) = (smtp.url(), BATCH.to_string());
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let env = [
        ("CONSULAR_DESK_SMTP_URL", url.as_str()),
        ("CONSULAR_DESK_MAIL_LEASE_SECONDS", "2"),
        ("CONSULAR_DESK_MAIL_BATCH", batch.as_str()),
        ("CONSULAR_DESK_MAIL_POLL_MS", "50"),
        ("CONSULAR_DESK_BIND", bind.as_str()),
    ];
    let mut inbox = Inbox::new(received.path());
    let mut first = ServeBinary::start(db.url(), &env);
    let queued = send_emergency_through(&format!("http://{bind}"), "gdl.duty").await;
    assert_eq!(queued["recipients"], REGISTRANTS as i64, "{queued}");
    inbox.wait_until("some hundreds before the kill", PATIENCE, |i| i.len() >= 300).await;
    first.kill();
    let before_kill = inbox.refresh();
    assert!(before_kill < REGISTRANTS, "the kill came before the end ({before_kill} arrived)");

    let _second = ServeBinary::start(db.url(), &env);
    inbox
        .wait_until("every registrant after the restart", Duration::from_secs(120), |i| {
            i.distinct() >= REGISTRANTS
        })
        .await;
    wait_for_rows(db.url(), "every row marked sent", |r| r.state == "sent").await;
    inbox.refresh();
    let messages = inbox.messages();
    let to: HashSet<&str> = messages.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to.len(), REGISTRANTS, "every registrant got it");
    // A message that arrived twice carries the same Message-ID both times.
    let mut ids_by_address: HashMap<&str, HashSet<&str>> = HashMap::new();
    for m in &messages {
        ids_by_address.entry(m.to.as_str()).or_default().insert(m.message_id.as_str());
    }
    assert!(ids_by_address.values().all(|ids| ids.len() == 1), "one Message-ID per registrant");
    let duplicates = messages.len() - REGISTRANTS;
    eprintln!("mail_delivery: emergency: {before_kill} of {REGISTRANTS} before the kill; {duplicates} twice");
    assert!(duplicates <= BATCH, "{duplicates} arrived twice; at most one batch ({BATCH}) may");
    // Each in the registration's language: half Spanish.
    let spanish: HashSet<&str> =
        messages.iter().filter(|m| m.subject == "Emergencia: Sismo").map(|m| m.to.as_str()).collect();
    assert_eq!(spanish.len(), REGISTRANTS / 2);
}

#[actix_web::test]
async fn instances_together_keep_to_the_shared_sending_rate() {
    let db = TestDb::fresh();
    migrate(db.url());
    registrants(db.url(), 60);
    let received = tempfile::tempdir().expect("dir");
    let folder = received.path().display().to_string();
    let paced = [
        ("CONSULAR_DESK_MAIL_DIR", folder.as_str()),
        ("CONSULAR_DESK_SMTP_RATE_PER_SECOND", "20"),
        ("CONSULAR_DESK_MAIL_POLL_MS", "20"),
    ];
    // Two instances on the system clock (the registrants' dates are the system's).
    let one = crate::helpers::spawn_with_clock(&db, &paced, Clock::system()).await;
    let _two = crate::helpers::spawn_with_clock(&db, &paced, Clock::system()).await;
    let admin = one.admin_token().await;
    let today = Clock::system().naive().date().to_string();
    let message = serde_json::json!({
        "districts": ["GDL"], "from": today, "to": today,
        "subject_en": "Storm", "body_en": "Stay inside.", "subject_es": "Tormenta", "body_es": "Quédese adentro.",
    });
    let started = std::time::Instant::now();
    assert_eq!(
        one.post("/api/v1/staff/emergency-messages", Some(&admin), &message).await.body["recipients"],
        60
    );
    let count = || std::fs::read_dir(received.path()).map(|d| d.count()).unwrap_or(0);
    let first_second =
        wait_for("the first messages", PATIENCE, || (count() > 0).then(std::time::Instant::now)).await;
    wait_for("all sixty", PATIENCE, || (count() >= 60).then_some(())).await;
    // Twenty a second between them: the third second's share can't go before two have passed.
    let took = first_second.elapsed();
    eprintln!("mail_delivery: 60 messages at 20/s over two instances took {took:?} after the first (and {:?} in all)", started.elapsed());
    assert!(took >= Duration::from_millis(1800), "sixty messages at twenty a second went in {took:?}");
}
