//! Backups and restores (docs/OPERATIONS.md, "Backups"): the restore drill under load on
//! either backend, what backup and restore refuse, and scheduled backups with two instances.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{json, Value};

use consular_desk::backup::lock::DatabaseLock;
use consular_desk::clock::Clock;

use crate::helpers::{
    db_conn, person, postgres_admin_url, run_cli, spawn_on, spawn_with_clock, tuesday_10_mex, with_database,
    TestApp, TestDb,
};

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A walk-in at MEX to charge a fee to.
async fn walk_in(app: &TestApp, clerk: &str, i: usize) -> String {
    let body = json!({"service": "passport-new", "kind": "emergency", "reason": "arrest",
                      "applicant": person(&format!("Persona {i}"), "Núñez")});
    let r = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "walk-in: {}", r.body);
    text(&r.body, "reference")
}

/// Records an adult passport book on `reference`; the receipt number.
async fn receipt(app: &TestApp, clerk: &str, reference: &str) -> String {
    let body = json!({
        "appointment_reference": reference,
        "items": [{"fee_code": "passport-book-adult", "quantity": 1}, {"fee_code": "passport-execution", "quantity": 1}],
        "payment": {"method": "card"},
    });
    let r = app.post("/api/v1/staff/fees", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "fee: {}", r.body);
    text(&r.body, "receipt_number")
}

/// MEX's receipts in a database: `(number, seq)` by seq.
fn receipts_in(url: &str) -> Vec<(String, i64)> {
    use consular_desk::db::schema::receipts;
    let mut conn = db_conn(url);
    receipts::table
        .filter(receipts::post_code.eq("MEX"))
        .order(receipts::seq)
        .select((receipts::receipt_number, receipts::seq))
        .load(&mut conn)
        .expect("receipts")
}

fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("desk.db").display());
    TestDb::Sqlite { _dir: dir, url }
}

fn sqlite_path(url: &str) -> PathBuf {
    PathBuf::from(url.trim_start_matches("sqlite://"))
}

/// A stopped in-process server lets go of its lock once its workers have ended.
async fn wait_for_release(db: &Path) {
    for _ in 0..100 {
        if DatabaseLock::for_restore(db).is_ok() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the stopped server still holds {}", db.display());
}

/// The drill: receipts and bookings go on against a running server while `backup` runs; the
/// copy is restored into a new place (SQLite) or a new empty database (PostgreSQL). Every
/// receipt acknowledged before the backup began is in it, its numbers have no gap, and
/// `audit verify` passes on it. On PostgreSQL a restore into a database with tables, and a
/// backup without pg_dump, are refused.
#[actix_web::test]
async fn the_restore_drill_keeps_every_receipt_acknowledged_before_the_backup() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "3")]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let other = app.staff_token("mex.clerk2", "clerk", Some("MEX")).await;
    let mut visits = Vec::new();
    for i in 0..60 {
        visits.push(walk_in(&app, &clerk, i).await);
    }
    let applicants = app.applicants(4).await;
    let slots: Vec<i64> =
        app.slots("MEX", "notarial").await.iter().filter_map(|s| s["slot_id"].as_i64()).take(8).collect();
    let work = tempfile::tempdir().expect("temp dir");
    let out = work.path().join("drill.backup");

    let acknowledged: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());
    let receipts = async {
        for pair in visits.chunks(2) {
            let issued = futures_util::future::join_all(
                pair.iter().zip([&clerk, &other]).map(|(visit, clerk)| receipt(&app, clerk, visit)),
            )
            .await;
            let at = Instant::now();
            acknowledged.lock().expect("list").extend(issued.into_iter().map(|n| (n, at)));
        }
    };
    let bookings = async {
        for (i, slot) in slots.iter().enumerate() {
            let r = app.book(&applicants[i % applicants.len()], *slot, 1).await;
            assert!(r.status == 201 || r.status == 409, "booking: {} {}", r.status, r.body);
        }
    };
    let backup = async {
        while acknowledged.lock().expect("list").len() < 16 {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        let (url, file) = (db.url().to_string(), out.display().to_string());
        let began = Instant::now();
        let output = actix_web::web::block(move || run_cli(&url, &["backup", "--out", &file], &[], None))
            .await
            .expect("backup ran");
        (began, Instant::now(), output)
    };
    let ((began, ended, output), (), ()) = futures_util::future::join3(backup, receipts, bookings).await;
    assert!(output.status.success(), "backup: {}", stderr(&output));
    let line = stdout(&output);
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    assert!(line.contains("audit chains ok"), "{line}");
    let acknowledged = acknowledged.into_inner().expect("list");
    let before: Vec<&String> = acknowledged.iter().filter(|(_, at)| *at < began).map(|(n, _)| n).collect();
    let after = acknowledged.iter().filter(|(_, at)| *at > ended).count();
    app.stop().await;

    let (restored_url, fresh) = match &db {
        TestDb::Sqlite { .. } => (format!("sqlite://{}", work.path().join("restored.db").display()), None),
        TestDb::Postgres { admin_url, .. } => {
            let file = out.display().to_string();
            let busy = run_cli(db.url(), &["restore", &file], &[], None);
            assert!(!busy.status.success(), "a database with tables is refused: {}", stdout(&busy));
            assert!(stderr(&busy).contains("new, empty database"), "{}", stderr(&busy));
            let elsewhere = work.path().join("no-tools.dump").display().to_string();
            let no_tools =
                run_cli(db.url(), &["backup", "--out", &elsewhere], &[("PATH", "/nonexistent")], None);
            assert!(!no_tools.status.success(), "no pg_dump, no backup: {}", stdout(&no_tools));
            assert!(stderr(&no_tools).contains("pg_dump is not on PATH"), "{}", stderr(&no_tools));
            assert!(!Path::new(&elsewhere).exists(), "nothing is pretended");
            let name = format!("cd_restore_{:016x}", rand::random::<u64>());
            let mut admin = PgConnection::establish(admin_url).expect("admin connection");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create");
            (with_database(admin_url, &name), Some((admin_url.clone(), name)))
        }
    };
    let restored = run_cli(&restored_url, &["restore", &out.display().to_string()], &[], None);
    let said = stdout(&restored);
    assert!(restored.status.success(), "restore: {}{}", said, stderr(&restored));
    assert!(said.contains("audit chains ok") && said.contains("issued again"), "{said}");
    let kept = receipts_in(&restored_url);
    let verify = run_cli(&restored_url, &["audit", "verify"], &[], None);
    if let Some((admin_url, name)) = fresh {
        let mut admin = PgConnection::establish(&admin_url).expect("admin connection");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .expect("drop");
    }
    let numbers: Vec<&String> = kept.iter().map(|(n, _)| n).collect();
    let missing: Vec<&&String> = before.iter().filter(|n| !numbers.contains(n)).collect();
    assert!(missing.is_empty(), "acknowledged before the backup, not in the copy: {missing:?}");
    let seqs: Vec<i64> = kept.iter().map(|(_, s)| *s).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap in the copy's numbers");
    let last = kept.last().map(|(n, _)| format!("last receipts {n};")).unwrap_or_default();
    assert!(line.contains(&last), "the backup's line names the copy's last receipt ({last}): {line}");
    assert!(verify.status.success(), "audit verify on the copy: {}{}", stdout(&verify), stderr(&verify));
    eprintln!(
        "backups: {} receipts acknowledged before the backup, {} in the copy, {after} after it ended: {line}",
        before.len(),
        kept.len()
    );
    eprintln!("backups: restore said: {said}");
}

/// SQLite: the backup is 0600 and says its checks passed in one line; it never overwrites; a
/// restore refuses while a server runs and refuses a damaged copy, changing nothing; a good
/// one keeps the database there before aside.
#[actix_web::test]
async fn backup_and_restore_refuse_what_they_must_and_change_nothing_then() {
    let db = sqlite_db();
    let app = spawn_on(&db, &[]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    for i in 0..2 {
        let visit = walk_in(&app, &clerk, i).await;
        receipt(&app, &clerk, &visit).await;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let out = work.path().join("copy.db");
    let file = out.display().to_string();
    let backup = run_cli(db.url(), &["backup", "--out", &file], &[], None);
    assert!(backup.status.success(), "backup: {}", stderr(&backup));
    let line = stdout(&backup);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains("integrity ok; audit chains ok"), "{line}");
    assert!(line.contains("last receipts MEX-2027-000002"), "{line}");
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    assert_eq!(std::fs::metadata(&out).expect("copy").permissions().mode() & 0o777, 0o600);
    let copied = std::fs::read(&out).expect("copy");

    let again = run_cli(db.url(), &["backup", "--out", &file], &[], None);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("never overwrites"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&out).expect("copy"), copied, "the existing file is untouched");

    let path = sqlite_path(db.url());
    let inode = std::fs::metadata(&path).expect("db").ino();
    let asides = || {
        std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.contains("before-restore") && !n.ends_with("-wal") && !n.ends_with("-shm"))
            .count()
    };
    let running = run_cli(db.url(), &["restore", &file], &[], None);
    assert!(!running.status.success());
    assert!(stderr(&running).contains("a server is using"), "{}", stderr(&running));

    app.stop().await;
    wait_for_release(&path).await;
    let damaged = work.path().join("damaged.db");
    let mut bytes = copied.clone();
    let pages = bytes.len() / 4096;
    for page in (pages / 3..pages * 2 / 3).step_by(3) {
        for b in &mut bytes[page * 4096..page * 4096 + 16] {
            *b ^= 0x5a;
        }
    }
    std::fs::write(&damaged, &bytes).expect("damaged copy");
    let refused = run_cli(db.url(), &["restore", &damaged.display().to_string()], &[], None);
    assert!(!refused.status.success(), "a damaged copy is refused: {}", stdout(&refused));
    assert!(stderr(&refused).contains("fails its checks; nothing was changed"), "{}", stderr(&refused));
    let not_ours = work.path().join("empty.db");
    std::fs::write(&not_ours, b"").expect("empty file");
    let refused = run_cli(db.url(), &["restore", &not_ours.display().to_string()], &[], None);
    assert!(!refused.status.success(), "an empty file is refused: {}", stdout(&refused));
    assert_eq!(std::fs::metadata(&path).expect("db").ino(), inode, "the database stayed in place");
    assert_eq!(asides(), 0, "nothing was moved aside");

    let restored = run_cli(db.url(), &["restore", &file], &[], None);
    assert!(restored.status.success(), "restore: {}", stderr(&restored));
    assert_eq!(asides(), 1, "the database before is kept: {}", stdout(&restored));
    assert_eq!(std::fs::metadata(&path).expect("db").permissions().mode() & 0o777, 0o600);
    assert!(stdout(&restored).contains("MEX-2027-000002"), "{}", stdout(&restored));
}

/// Two instances on one database, a backup an hour and two kept: one backup a period, whatever
/// the number of instances, and the oldest deleted (the app's clock is moved on an hour).
#[actix_web::test]
async fn two_instances_take_one_scheduled_backup_a_period_and_keep_the_newest() {
    let db = TestDb::fresh();
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("backups").display().to_string();
    let env = [
        ("CONSULAR_DESK_MAINTENANCE_SECONDS", "1"),
        ("CONSULAR_DESK_BACKUP_DIR", folder.as_str()),
        ("CONSULAR_DESK_BACKUP_EVERY_HOURS", "1"),
        ("CONSULAR_DESK_BACKUP_KEEP", "2"),
    ];
    let clock = Clock::starting_at(tuesday_10_mex());
    let _a = spawn_with_clock(&db, &env, clock.clone()).await;
    let _b = spawn_with_clock(&db, &env, clock.clone()).await;
    let files = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        names.retain(|n| !n.starts_with('.'));
        names.sort();
        names
    };
    let wait_for = |n: usize, last: Option<String>| async move {
        for _ in 0..200 {
            let now = files();
            if now.len() == n && (last.is_none() || now.last() != last.as_ref()) {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} backups, found {:?}", files());
    };
    wait_for(1, None).await;
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let first = files();
    assert_eq!(first.len(), 1, "one backup in the period, with two instances ticking: {first:?}");
    clock.advance(chrono::Duration::minutes(61));
    wait_for(2, None).await;
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let second = files();
    assert_eq!(second.len(), 2, "one more in the next period: {second:?}");
    clock.advance(chrono::Duration::minutes(61));
    wait_for(2, second.last().cloned()).await;
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let third = files();
    assert_eq!(third.len(), 2, "two kept: {third:?}");
    assert!(!third.contains(&first[0]), "the oldest went: {third:?}");
    assert_eq!(third[0], second[1], "the newest two are kept: {third:?}");
    let extension = if postgres_admin_url().is_some() { ".dump" } else { ".db" };
    assert!(third.iter().all(|n| n.starts_with("consular-desk-2026") && n.ends_with(extension)), "{third:?}");
}
