//! The command line: bad configuration, migrate, create-staff, and the first start's message.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::{create_staff_cli, run_cli, TestDb};

#[test]
fn bad_configuration_stops_with_one_line() {
    for (var, value) in [
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("CONSULAR_DESK_BIND", "not-an-address"),
        ("CONSULAR_DESK_STAFF_TOKEN_MINUTES", "forever"),
        ("CONSULAR_DESK_PUBLIC_JWT_SECRET", "too-short"),
    ] {
        let out = run_cli("sqlite://unused.db", &["migrate"], &[(var, value)], None);
        assert!(!out.status.success(), "{var}={value} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{var}: {stderr}");
        assert!(stderr.contains(var), "{var}: {stderr}");
    }
}

#[test]
fn an_unreachable_postgres_is_an_error_not_a_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
        .arg("migrate")
        .current_dir(dir.path())
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 0, "a file was created");
    // One line saying why, not a wall of pool retries.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot open the database"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("private.db");
    let out = run_cli(&format!("sqlite://{}", path.display()), &["migrate"], &[], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for file in ["private.db", "private.db-wal", "private.db-shm"] {
        let Ok(meta) = std::fs::metadata(dir.path().join(file)) else { continue };
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
    }
}

#[test]
fn migrate_is_idempotent() {
    let db = TestDb::fresh();
    for _ in 0..2 {
        let out = run_cli(db.url(), &["migrate"], &[], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn create_staff_reads_the_password_from_stdin_and_refuses_duplicates() {
    let db = TestDb::fresh();
    let out =
        create_staff_cli(db.url(), "Admin.One", "admin", None, "a long admin passphrase").expect("created");
    assert!(out.contains("admin admin.one"), "{out}");
    let err =
        create_staff_cli(db.url(), "admin.one", "clerk", None, "another passphrase").expect_err("duplicate");
    assert!(err.contains("exists"), "{err}");
    let err =
        create_staff_cli(db.url(), "clerk.two", "clerk", Some("MEX"), "short").expect_err("short password");
    assert!(err.contains("password"), "{err}");
    let err = create_staff_cli(db.url(), "clerk.two", "clerk", Some("ABC"), "a long passphrase")
        .expect_err("unknown post");
    assert!(err.contains("post"), "{err}");
    let out = run_cli(
        db.url(),
        &["create-staff", "--username", "x.y", "--role", "clerk"],
        &[],
        Some("a long passphrase"),
    );
    assert!(!out.status.success(), "a password must never be optional on stdin");
}

#[test]
fn first_start_says_where_it_listens_and_how_to_create_an_admin() {
    let db = TestDb::fresh();
    let mut child = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let second = lines.next().and_then(Result::ok).unwrap_or_default();
    let third = lines.next().and_then(Result::ok).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("consular-desk listening on http://127.0.0.1:"), "{first}");
    assert!(!first.contains(":0 "), "the real port is shown: {first}");
    assert!(second.contains("no admin account"), "{second}");
    assert!(third.contains("create-staff") && third.contains("--password-stdin"), "{third}");
}

#[test]
fn a_broken_pdf_template_stops_the_server_naming_the_file() {
    let db = TestDb::fresh();
    let templates = tempfile::tempdir().expect("dir");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pdf_templates");
    std::fs::create_dir(templates.path().join("fonts")).expect("fonts");
    for font in ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"] {
        std::fs::copy(shipped.join("fonts").join(font), templates.path().join("fonts").join(font))
            .expect("font");
    }
    std::fs::copy(shipped.join("confirmation.json"), templates.path().join("confirmation.json"))
        .expect("copy");
    let receipt = std::fs::read_to_string(shipped.join("receipt.json")).expect("receipt");
    std::fs::write(templates.path().join("receipt.json"), receipt.replacen("\"Recibo oficial\"", "\"\"", 1))
        .expect("write");
    let dir = templates.path().display().to_string();
    let out = run_cli(
        db.url(),
        &["serve", "--bind", "127.0.0.1:0"],
        &[("CONSULAR_DESK_PDF_TEMPLATES", &dir)],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("receipt.json") && stderr.contains("`title` needs both"), "{stderr}");
}

fn one_line_failure(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn verify_on_a_missing_sqlite_file_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("absent.db");
    let out = run_cli(&format!("sqlite://{}", path.display()), &["audit", "verify"], &[], None);
    let stderr = one_line_failure(&out);
    assert!(stderr.contains("absent.db") && stderr.contains("does not exist"), "{stderr}");
    assert!(!path.exists(), "verify created the database");
    assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 0, "a file was created");
}

#[test]
fn verify_of_an_unknown_post_fails_naming_it() {
    let db = TestDb::fresh();
    let out = run_cli(db.url(), &["migrate"], &[], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = one_line_failure(&run_cli(db.url(), &["audit", "verify", "--post", "ZZZ"], &[], None));
    assert!(stderr.contains("ZZZ") && stderr.contains("no such post"), "{stderr}");
    let known = run_cli(db.url(), &["audit", "verify", "--post", "MEX"], &[], None);
    assert!(known.status.success(), "{}", String::from_utf8_lossy(&known.stderr));
}

#[cfg(unix)]
#[test]
fn an_exported_fee_report_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::fresh();
    let out = run_cli(db.url(), &["migrate"], &[], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().expect("dir");
    let (fresh, existing) = (dir.path().join("report.csv"), dir.path().join("old.csv"));
    std::fs::write(&existing, "an older report").expect("write");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    for out in [&fresh, &existing] {
        let args = ["export", "fee-report", "--post", "MEX", "--from", "2026-11-01", "--to", "2026-11-30"];
        let out_arg = out.display().to_string();
        let args: Vec<&str> = args.into_iter().chain(["--format", "csv", "--out", &out_arg]).collect();
        let run = run_cli(db.url(), &args, &[], None);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let meta = std::fs::metadata(out).expect("written");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{}", out.display());
        assert!(
            std::fs::read_to_string(out).expect("read").starts_with("kind,date,post"),
            "the report replaced it"
        );
    }
}
