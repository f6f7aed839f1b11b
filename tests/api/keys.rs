//! Server keys outside the database (issue 18): with a key file, a copy of the database no
//! longer turns a stored hash back into a known passport number, while the server still
//! matches; `keys export` moves existing keys out without breaking receipts or tokens; a key
//! file others can read, or a database that still holds keys, stops the server.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use consular_desk::config::Secret;
use consular_desk::documents::identity::{DocumentNumber, MatchingKey};
use consular_desk::startup::Application;
use diesel::prelude::*;

use crate::client::someone;
use crate::documents::{at_window, record, renewal};
use crate::helpers::{db_conn, run_cli, settings, spawn_on, Caller, TestApp, TestDb};
use consular_desk::fees::receipts::Method;

/// The passport number `renewal` records.
const KNOWN_NUMBER: &str = "ZQXW 1234";
const WARNING: &str = "server keys live in the database";

/// No token secrets in the environment: every key comes from the database.
const IN_DATABASE: &[(&str, &str)] =
    &[("CONSULAR_DESK_PUBLIC_JWT_SECRET", ""), ("CONSULAR_DESK_STAFF_JWT_SECRET", "")];

fn random_key() -> String {
    format!("{:032x}{:032x}", rand::random::<u128>(), rand::random::<u128>())
}

/// A key file of `lines` with `mode`.
fn write_key_file(dir: &Path, mode: u32, lines: &[(&str, &str)]) -> PathBuf {
    let path = dir.join(format!("keys-{:x}", rand::random::<u32>()));
    let text: String = lines.iter().map(|(name, value)| format!("{name} = {value}\n")).collect();
    std::fs::write(&path, text).expect("write key file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// All four keys, fresh.
fn every_key() -> Vec<(&'static str, String)> {
    ["document_matching", "receipt_signing", "jwt_public", "jwt_staff"].map(|n| (n, random_key())).to_vec()
}

fn borrowed<'a>(keys: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    keys.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// The overrides of a server that takes its keys from `file` only.
fn from_file(file: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("CONSULAR_DESK_KEY_FILE", file.display().to_string()),
        ("CONSULAR_DESK_PUBLIC_JWT_SECRET", String::new()),
        ("CONSULAR_DESK_STAFF_JWT_SECRET", String::new()),
    ]
}

async fn spawn_with(db: &TestDb, overrides: &[(&'static str, String)]) -> TestApp {
    let pairs: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_on(db, &pairs).await
}

/// Why the server refused to start with these overrides (it must refuse).
fn refusal(db: &TestDb, overrides: &[(&str, &str)]) -> String {
    match Application::build(settings(db.url(), overrides)) {
        Ok(_) => panic!("the server started with {overrides:?}"),
        Err(e) => format!("{e:#}"),
    }
}

/// Every (name, value) of `app_secrets`: what a copy of the database gives away.
fn database_secrets(url: &str) -> Vec<(String, String)> {
    use consular_desk::db::schema::app_secrets;
    app_secrets::table.select((app_secrets::name, app_secrets::value)).load(&mut db_conn(url)).expect("read")
}

fn stored_number_hash(url: &str, tracking: &str) -> String {
    use consular_desk::db::schema::documents;
    documents::table
        .filter(documents::tracking_number.eq(tracking))
        .select(documents::number_hash)
        .first::<Option<String>>(&mut db_conn(url))
        .expect("the document")
        .expect("a number hash")
}

/// What the attacker with the database does: the keyed hash of the known number under every
/// key the database holds. `true` when one reproduces the stored hash.
fn database_alone_matches(url: &str, stored_hash: &str) -> bool {
    let known = DocumentNumber::parse(KNOWN_NUMBER).expect("number");
    database_secrets(url).into_iter().any(|(_, value)| {
        MatchingKey::new(Secret::new(value)).mask(&known).hash.as_deref() == Some(stored_hash)
    })
}

/// A passport renewal with the known number, recorded at MEX; its tracking number.
async fn record_known_number(app: &TestApp, admin: &str, clerk: &str) -> String {
    app.open_around_the_clock(admin, "MEX", "passport-renewal").await;
    let visit = at_window(app, clerk, "passport-renewal").await;
    let r = record(app, clerk, &visit, &renewal("Ana", "Núñez")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["tracking_number"].as_str().expect("tracking number").to_string()
}

/// The public tracking lookup, which compares the surname under the document-matching key.
async fn track(app: &TestApp, tracking: &str, surname: &str) -> u16 {
    let path = format!("/api/v1/track/{tracking}?surname={surname}");
    app.call_as(&Caller::from("127.0.3.1"), "GET", &path, None, None).await.status
}

/// A receipt for a walk-in; its number and verification code.
async fn issue_receipt(app: &TestApp, clerk: &str) -> (String, String) {
    let visit = app.emergency_walk_in(clerk, "MEX", "passport-new", someone("José", "Ruiz")).await;
    let receipt = app.record_fee(clerk, &visit.reference, &["passport-execution"], Method::Card).await;
    (receipt.receipt_number, receipt.verification_code)
}

async fn receipt_status(app: &TestApp, number: &str, code: &str) -> String {
    let r = app.get(&format!("/api/v1/receipts/verify/{number}?sig={code}"), None).await;
    r.body["status"].as_str().unwrap_or_default().to_string()
}

#[actix_web::test]
async fn with_a_key_file_the_database_alone_no_longer_matches_a_known_number() {
    let db = TestDb::fresh();
    let dir = tempfile::tempdir().expect("dir");
    let keys = every_key();
    let file = write_key_file(dir.path(), 0o600, &borrowed(&keys));
    let app = spawn_with(&db, &from_file(&file)).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let tracking = record_known_number(&app, &admin, &clerk).await;

    let stored = stored_number_hash(db.url(), &tracking);
    assert_eq!(database_secrets(db.url()), vec![], "the database holds no key material");
    assert!(!database_alone_matches(db.url(), &stored), "a copy of the database recovers the number");
    // The attack itself is sound: with the file's key the same computation finds the number.
    let known = DocumentNumber::parse(KNOWN_NUMBER).expect("number");
    let with_file = MatchingKey::new(Secret::new(keys[0].1.clone())).mask(&known);
    assert_eq!(with_file.hash.as_deref(), Some(stored.as_str()));

    // The server still matches, and so does a restart with the same file.
    assert_eq!(track(&app, &tracking, "nunez").await, 200);
    assert_eq!(track(&app, &tracking, "ruiz").await, 404);
    app.stop().await;
    let restarted = spawn_with(&db, &from_file(&file)).await;
    assert_eq!(track(&restarted, &tracking, "N%C3%BA%C3%B1ez").await, 200);
    assert_eq!(database_secrets(db.url()), vec![], "nor did the restart put any there");
}

#[actix_web::test]
async fn keys_export_moves_every_key_out_and_receipts_and_tokens_still_verify() {
    let db = TestDb::fresh();
    let first = spawn_on(&db, IN_DATABASE).await;
    let applicant = first.applicant_token("ana@example.mx").await;
    let admin = first.admin_token().await;
    let clerk = first.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let tracking = record_known_number(&first, &admin, &clerk).await;
    let (receipt, code) = issue_receipt(&first, &clerk).await;
    let mut before = database_secrets(db.url());
    before.sort();
    assert_eq!(before.len(), 4, "the embedded default keeps every key in the database");
    assert!(database_alone_matches(db.url(), &stored_number_hash(db.url(), &tracking)), "today's weakness");
    first.stop().await;

    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("consular-desk.keys");
    let out_arg = out.display().to_string();
    let run = run_cli(db.url(), &["keys", "export", "--out", &out_arg], &[], None);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains(&out_arg), "{stdout}");
    let mode = std::fs::metadata(&out).expect("the key file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let written = std::fs::read_to_string(&out).expect("read");
    for (name, value) in &before {
        assert!(written.contains(&format!("{name} = {value}\n")), "{name} is in the file");
    }
    assert_eq!(database_secrets(db.url()), vec![], "the keys left the database");

    // The move is audited by key names only, never values.
    use consular_desk::db::schema::audit_log;
    let change: String = audit_log::table
        .filter(audit_log::action.eq("server_keys.exported"))
        .select(audit_log::change)
        .first(&mut db_conn(db.url()))
        .expect("an audit entry");
    assert!(change.contains("document_matching") && change.contains("jwt_staff"), "{change}");
    assert!(before.iter().all(|(_, value)| !change.contains(value.as_str())), "{change}");

    // Nothing is exported twice: the file is never overwritten, and the keys are gone.
    let again = run_cli(db.url(), &["keys", "export", "--out", &out_arg], &[], None);
    assert!(!again.status.success());
    assert_eq!(std::fs::read_to_string(&out).expect("read"), written, "the file is untouched");
    let elsewhere = dir.path().join("second.keys").display().to_string();
    let again = run_cli(db.url(), &["keys", "export", "--out", &elsewhere], &[], None);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && stderr.contains("moved out"), "{stderr}");
    assert!(!Path::new(&elsewhere).exists());

    // Started without the file, the server refuses rather than make new keys.
    let reason = refusal(&db, IN_DATABASE);
    assert!(reason.contains("CONSULAR_DESK_KEY_FILE"), "{reason}");
    assert_eq!(database_secrets(db.url()), vec![]);

    // With it, everything issued before the move still holds.
    let restarted = spawn_with(&db, &from_file(&out)).await;
    assert_eq!(receipt_status(&restarted, &receipt, &code).await, "valid");
    assert_eq!(restarted.get("/api/v1/me", Some(&applicant)).await.status, 200);
    assert_eq!(restarted.get("/api/v1/admin/staff", Some(&admin)).await.status, 200);
    assert_eq!(track(&restarted, &tracking, "nunez").await, 200);
    assert!(!database_alone_matches(db.url(), &stored_number_hash(db.url(), &tracking)));
}

#[actix_web::test]
async fn the_server_refuses_a_key_file_others_can_read_or_a_database_that_still_holds_keys() {
    let db = TestDb::fresh();
    let dir = tempfile::tempdir().expect("dir");
    let keys = every_key();
    let lines = borrowed(&keys);
    let refused = |file: &Path, extra: &[(&'static str, &str)]| {
        let mut overrides = from_file(file);
        overrides.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let pairs: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
        refusal(&db, &pairs)
    };

    for mode in [0o644, 0o640, 0o604, 0o660] {
        let reason = refused(&write_key_file(dir.path(), mode, &lines), &[]);
        assert!(reason.contains(&format!("mode {mode:04o}")) && reason.contains("0600"), "{reason}");
    }
    if rustix::process::geteuid().as_raw() == 0 {
        let theirs = write_key_file(dir.path(), 0o600, &lines);
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
        let reason = refused(&theirs, &[]);
        assert!(reason.contains("owned by uid 65534"), "{reason}");
    }
    let reason = refused(&write_key_file(dir.path(), 0o600, &lines[..3]), &[]);
    assert!(reason.contains("lacks jwt_staff"), "{reason}");
    let other = random_key();
    let reason =
        refused(&write_key_file(dir.path(), 0o600, &lines), &[("CONSULAR_DESK_STAFF_JWT_SECRET", &other)]);
    assert!(reason.contains("different values") && !reason.contains(&other), "{reason}");
    assert!(keys.iter().all(|(_, v)| !reason.contains(v.as_str())), "no refusal shows a key");
    assert_eq!(database_secrets(db.url()), vec![], "no refusal generated a key");

    // Keys already in the database: the file would silently split them. Export them first.
    spawn_on(&db, IN_DATABASE).await.stop().await;
    let reason = refused(&write_key_file(dir.path(), 0o600, &lines), &[]);
    assert!(reason.contains("keys export"), "{reason}");
    // Without a file, a variable may not shadow a key the database holds either.
    let reason = refusal(
        &db,
        &[
            ("CONSULAR_DESK_PUBLIC_JWT_SECRET", ""),
            ("CONSULAR_DESK_STAFF_JWT_SECRET", ""),
            ("CONSULAR_DESK_DOCUMENT_MATCHING_SECRET", &other),
        ],
    );
    assert!(reason.contains("document_matching") && reason.contains("keys export"), "{reason}");

    // The binary says why in one line and exits non-zero.
    let bad = write_key_file(dir.path(), 0o644, &lines);
    let start = serve(&db, "127.0.0.1:0", &[("CONSULAR_DESK_KEY_FILE", &bad.display().to_string())]);
    assert!(!start.listening, "{}", start.stderr);
    assert_eq!(start.stderr.lines().count(), 1, "{}", start.stderr);
    assert!(start.stderr.contains("chmod 600"), "{}", start.stderr);
}

#[test]
fn the_server_says_once_when_keys_in_the_database_meet_a_public_address() {
    let dir = tempfile::tempdir().expect("dir");
    let keys = every_key();
    let file = write_key_file(dir.path(), 0o600, &borrowed(&keys)).display().to_string();
    let warnings = |bind: &str, env: &[(&str, &str)]| {
        let started = serve(&TestDb::fresh(), bind, env);
        assert!(started.listening, "{}", started.stderr);
        started.stderr.lines().filter(|l| l.contains(WARNING)).count()
    };
    assert_eq!(warnings("0.0.0.0:0", &[]), 1);
    assert_eq!(warnings("127.0.0.1:0", &[]), 0, "on loopback the default is fine");
    assert_eq!(warnings("0.0.0.0:0", &[("CONSULAR_DESK_KEY_FILE", &file)]), 0);
}

struct Started {
    listening: bool,
    stderr: String,
}

/// Runs the real `serve` until it says it listens (then stops it) or exits.
fn serve(db: &TestDb, bind: &str, env: &[(&str, &str)]) -> Started {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_consular-desk"));
    command
        .args(["serve", "--bind", bind])
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .env("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")
        .env_remove("CONSULAR_DESK_KEY_FILE")
        .stdout(Stdio::piped())
        .stderr(log.reopen().expect("log"));
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let listening = BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.contains("listening on"));
    let _ = child.kill();
    let _ = child.wait();
    Started { listening, stderr: std::fs::read_to_string(log.path()).expect("log") }
}
