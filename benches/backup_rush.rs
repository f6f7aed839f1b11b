//! A backup of a big database while applicants book: what `consular-desk backup` costs the
//! people using the service.
//!
//! On a fresh SQLite database seeded with `--lines` receipt lines (a million by default, with
//! their sealed audit entries, `support::seed`), the optimized server binary runs and
//! `--clients` applicants book and cancel as fast as the server answers (release delay 0, so
//! each seat comes straight back):
//!
//! 1. **without a backup** for `--rush-secs` seconds;
//! 2. **during a backup**: the same rush, and one second in, `consular-desk backup --out FILE`
//!    (another process, as an operator or the timer would run it) copies the database through
//!    SQLite's online backup API and checks the copy (integrity check and the audit chains).
//!
//! It reports the backup's time (and its own one-line account of copy and checks), the rush's
//! rate and latency while the backup copied, and while it checked its copy, against without;
//! the backup process's peak resident memory (`VmHWM`, read while it runs) and the server's. Every answer must be a 201 or 200; the copy
//! must restore (`consular-desk restore` into a new place).
//!
//! ```text
//! cargo bench --bench backup_rush
//! cargo bench --bench backup_rush -- --lines 200000 --clients 16
//! ```

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use chrono::Utc;
use clap::Parser;
use consular_desk::auth::tokens::{Audience, Keys};
use consular_desk::booking::slots;
use consular_desk::config::{Secret, Settings};
use consular_desk::db::schema::slots as slots_t;
use consular_desk::db::{write_transaction, DbConn};
use diesel::prelude::*;
use serde_json::json;

mod support;

use support::db::BenchDb;
use support::latency::{Load, Tally};
use support::load::http_client;
use support::memory::{mib, Memory};
use support::server::{Server, THROTTLES_RAISED};

const PUBLIC_SECRET: &str = "bench-public-secret-0123456789abcdef0123456789";
const STAFF_SECRET: &str = "bench-staff-secret-0123456789abcdef01234567890";
const POST: &str = "MEX";
const SERVICE: &str = "notarial";

#[derive(Parser, Debug)]
#[command(about = "A backup of a big database during a booking rush")]
struct Args {
    /// Receipt lines seeded before the run (even).
    #[arg(long, env = "BENCH_LINES", default_value_t = 1_000_000)]
    lines: u64,
    /// Concurrent applicants booking and cancelling.
    #[arg(long, env = "BENCH_CLIENTS", default_value_t = 32)]
    clients: usize,
    /// How long the rush without a backup runs.
    #[arg(long, default_value_t = 15)]
    rush_secs: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.clients >= 1, "--clients must be at least 1");
    let db = BenchDb::fresh(None, "backup_rush")?;
    let url = db.url().to_string();
    support::server::create_admin(&url)?;
    let started = Instant::now();
    support::seed::receipt_lines(&url, args.lines)?;
    let entries = support::seed::audit_entries(&url)?;
    // The seeded trail must hold before anything else is measured.
    let mut conn =
        DbConn::open(&consular_desk::config::DatabaseUrl::parse(&url).map_err(anyhow::Error::msg)?)?;
    let checked = consular_desk::audit::read::verify(&mut conn, None, &[], Utc::now().naive_utc())?;
    ensure!(checked.first_bad.is_none(), "the seeded trail fails: {:?}", checked.first_bad);
    drop(conn);
    eprintln!(
        "backup_rush: {} receipt lines and {entries} sealed audit entries seeded in {:.0} s",
        args.lines,
        started.elapsed().as_secs_f64()
    );
    let file = url.strip_prefix("sqlite://").context("a SQLite database")?.to_string();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);

    let env: Vec<(&str, &str)> = [
        ("CONSULAR_DESK_PUBLIC_JWT_SECRET", PUBLIC_SECRET),
        ("CONSULAR_DESK_STAFF_JWT_SECRET", STAFF_SECRET),
        ("CONSULAR_DESK_MIN_NOTICE_HOURS", "0"),
        ("CONSULAR_DESK_RELEASE_DELAY_MINUTES", "0"),
        ("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR", "1000000"),
        ("CONSULAR_DESK_MAINTENANCE_SECONDS", "3600"),
    ]
    .into_iter()
    .chain(THROTTLES_RAISED)
    .collect();
    let settings = settings(&url, &env)?;
    let jobs = setup(&settings, args.clients)?;
    let mut server = Server::on(&url, &env)?;
    let copy = db.dir().join("backup.db");

    let report = actix_web::rt::System::new().block_on(async {
        let client = http_client(args.clients);
        server.wait_ready(&client).await?;
        let secs = Duration::from_secs(args.rush_secs);
        let (answers, window) = rush(&client, &server.base, &jobs, async {
            let from = Instant::now();
            actix_web::rt::time::sleep(secs).await;
            (from, Instant::now())
        })
        .await;
        let before = load_within(&answers, window.0, window.1);
        let (answers, backup) = rush(&client, &server.base, &jobs, async {
            // The rush is under way when the backup starts.
            actix_web::rt::time::sleep(Duration::from_secs(1)).await;
            let mut backup = Backup::start(&url, &copy)?;
            loop {
                if let Some(elapsed) = backup.finished()? {
                    return anyhow::Ok((backup.started, elapsed, backup.collect(elapsed)?));
                }
                actix_web::rt::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let (from, elapsed, backup) = backup?;
        // The line says how long the copy itself took; the checks after it read the copy alone.
        let copied = copy_time(&backup.said).unwrap_or(elapsed).min(elapsed);
        let copying = load_within(&answers, from, from + copied);
        let checking = load_within(&answers, from + copied, from + elapsed);
        server.ensure_running()?;
        anyhow::Ok((before, (copying, copied), (checking, elapsed - copied), backup))
    })?;
    let (before, (during, copied), (checking, checked), backup) = report;
    let server_peak = server.peak_memory().unwrap_or_default();
    server.stop()?;

    // The copy restores, checked again by `restore` itself.
    let restored = db.dir().join("restored.db");
    let restore = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
        .args(["restore", &copy.display().to_string()])
        .env("DATABASE_URL", format!("sqlite://{}", restored.display()))
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run restore")?;
    let restore_said = String::from_utf8_lossy(&restore.stdout).into_owned();

    println!("backup_rush: SQLite, {} receipt lines, database {}", args.lines, mib(size / 1024));
    println!("| | requests/s | p50 / p99 ms | requests |");
    println!("|---|---|---|---|");
    let copying = format!("booking rush while the backup copies ({:.1} s)", copied.as_secs_f64());
    let checks = format!("booking rush while the backup checks its copy ({:.1} s)", checked.as_secs_f64());
    for (name, load) in [
        ("booking rush without a backup", &before),
        (copying.as_str(), &during),
        (checks.as_str(), &checking),
    ] {
        println!("| {name} | {:.0} | {} | {} |", load.per_second(), load.p50_p99(), load.requests());
    }
    println!(
        "backup (copy and checks, another process): {:.1} s; its peak resident memory {}; server VmHWM {server_peak}",
        backup.elapsed.as_secs_f64(),
        mib(backup.peak_rss_kib)
    );
    println!("backup said: {}", backup.said.trim());
    println!("restore said: {}", restore_said.trim());

    let mut failures = Vec::new();
    for (name, load) in [("before", &before), ("during", &during), ("after the copy of", &checking)] {
        if load.unexpected() > 0 {
            failures.push(format!("{} unexpected answers {name} the backup", load.unexpected()));
        }
    }
    if !backup.success {
        failures.push(format!("the backup failed: {}", backup.said));
    }
    if !restore.status.success() {
        failures.push(format!("the copy did not restore: {}", String::from_utf8_lossy(&restore.stderr)));
    }
    if !failures.is_empty() {
        bail!("backup_rush: {}", failures.join("; "));
    }
    Ok(())
}

fn settings(db_url: &str, env: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let env: HashMap<&str, &str> = env.iter().copied().chain([("DATABASE_URL", db_url)]).collect();
    Settings::from_lookup(|key| env.get(key).map(|v| v.to_string())).context("benchmark settings are invalid")
}

/// One applicant of the rush: their token and the slot they book and cancel, again and again.
struct Job {
    token: String,
    slot_id: i64,
}

/// One applicant per client, on slots whose capacity is raised so that nobody is turned away.
fn setup(settings: &Settings, clients: usize) -> anyhow::Result<Vec<Job>> {
    let url = &settings.database_url;
    let mut conn = DbConn::open(url).context("cannot open the database")?;
    let now = Utc::now().naive_utc();
    let earliest = now + chrono::Duration::days(2);
    let latest = now + chrono::Duration::days(i64::from(settings.booking.horizon_days));
    consular_desk::booking::slots::extend_horizons(&mut conn, settings.booking.horizon_days, now)?;
    let found = slots::bookable(
        &mut conn,
        POST,
        SERVICE,
        earliest.date() - chrono::Duration::days(1),
        latest.date() + chrono::Duration::days(1),
        earliest,
        latest,
    )?;
    ensure!(found.len() >= 10, "only {} bookable {POST}/{SERVICE} slots", found.len());
    let slot_ids: Vec<i64> = found.into_iter().take(10).map(|s| s.id).collect();
    let keys =
        Keys::new(&settings.jwt, &Secret::new(PUBLIC_SECRET.into()), &Secret::new(STAFF_SECRET.into()));
    write_transaction(&mut conn, |c| {
        diesel::update(slots_t::table.filter(slots_t::id.eq_any(&slot_ids)))
            .set((slots_t::capacity.eq(100_000), slots_t::offered.eq(100_000)))
            .execute(c)
    })?;
    support::seed::applicants(&mut conn, "backup-rush", clients)?
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let (token, _) = keys.issue(Audience::Public, &id.to_string(), 1, Utc::now())?;
            Ok(Job { token, slot_id: slot_ids[i % slot_ids.len()] })
        })
        .collect()
}

/// `consular-desk backup` running in another process, its peak memory read while it runs.
struct Backup {
    child: std::process::Child,
    peak_rss_kib: u64,
    started: Instant,
}

/// What the backup did.
struct BackedUp {
    elapsed: Duration,
    peak_rss_kib: u64,
    success: bool,
    said: String,
}

impl Backup {
    fn start(db_url: &str, out: &std::path::Path) -> anyhow::Result<Backup> {
        let child = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
            .args(["backup", "--out", &out.display().to_string()])
            .env("DATABASE_URL", db_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start the backup")?;
        Ok(Backup { child, peak_rss_kib: 0, started: Instant::now() })
    }

    /// Done yet? Then how long it took. Until then, its peak so far (`VmHWM`) is kept: once
    /// it has exited there is nothing left to read.
    fn finished(&mut self) -> anyhow::Result<Option<Duration>> {
        if let Ok(memory) = Memory::of(self.child.id()) {
            self.peak_rss_kib = self.peak_rss_kib.max(memory.hwm_kib);
        }
        Ok(self.child.try_wait()?.map(|_| self.started.elapsed()))
    }

    fn collect(self, elapsed: Duration) -> anyhow::Result<BackedUp> {
        let peak_rss_kib = self.peak_rss_kib;
        let output = self.child.wait_with_output()?;
        let said =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        Ok(BackedUp { elapsed, peak_rss_kib, success: output.status.success(), said })
    }
}

/// `copied in 9.8 s` in the backup's line.
fn copy_time(said: &str) -> Option<Duration> {
    let after = said.split("copied in ").nth(1)?;
    let secs: f64 = after.split(' ').next()?.parse().ok()?;
    Some(Duration::from_secs_f64(secs))
}

/// One answered request: when it was sent, how long it took, and what was wrong with it.
struct Answered {
    sent: Instant,
    latency: Duration,
    wrong: Option<String>,
}

/// Every client books its slot and cancels, again and again, until `end` completes; returns
/// every answer and what `end` returned.
async fn rush<T>(
    client: &awc::Client,
    base: &str,
    jobs: &[Job],
    end: impl std::future::Future<Output = T>,
) -> (Vec<Answered>, T) {
    let stop = std::cell::Cell::new(false);
    let clients = jobs.iter().map(|job| {
        let stop = &stop;
        async move {
            let mut answered = Vec::new();
            let person = json!([{"given_names": "Ana", "surname": "Núñez"}]);
            while !stop.get() {
                let sent = Instant::now();
                let body = json!({"slot_id": job.slot_id, "applicants": person});
                let booked = send(client, &format!("{base}/api/v1/appointments"), &job.token, &body).await;
                let reference = match &booked {
                    Ok((201, v)) => v["reference"].as_str().map(str::to_string),
                    _ => None,
                };
                answered.push(Answered { sent, latency: sent.elapsed(), wrong: wrong(&booked, 201) });
                let Some(reference) = reference else { continue };
                let sent = Instant::now();
                let url = format!("{base}/api/v1/appointments/{reference}/cancel");
                let cancelled = send(client, &url, &job.token, &json!({})).await;
                answered.push(Answered { sent, latency: sent.elapsed(), wrong: wrong(&cancelled, 200) });
            }
            answered
        }
    });
    let ending = async {
        let out = end.await;
        stop.set(true);
        out
    };
    let (answers, out) = futures_util::future::join(futures_util::future::join_all(clients), ending).await;
    (answers.into_iter().flatten().collect(), out)
}

/// The answers that ended within `from..to`, as a load over that window.
fn load_within(answers: &[Answered], from: Instant, to: Instant) -> Load {
    let mut tally = Tally::default();
    for a in answers.iter().filter(|a| a.sent >= from && a.sent + a.latency <= to) {
        tally.latencies.push(a.latency);
        match &a.wrong {
            None => tally.ok += 1,
            Some(what) => tally.record_unexpected(what.clone(), what),
        }
    }
    tally.finish(to - from)
}

/// What is wrong with an answer that should have been `expected`, if anything.
fn wrong(answer: &Result<(u16, serde_json::Value), String>, expected: u16) -> Option<String> {
    match answer {
        Ok((status, _)) if *status == expected => None,
        Ok((status, body)) => Some(format!("{status} {}", body["code"].as_str().unwrap_or(""))),
        Err(e) => Some(e.clone()),
    }
}

async fn send(
    client: &awc::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<(u16, serde_json::Value), String> {
    let mut res = client.post(url).bearer_auth(token).send_json(body).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res.json::<serde_json::Value>().await.unwrap_or(serde_json::Value::Null);
    Ok((status, body))
}
