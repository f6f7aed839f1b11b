//! The mail sender's throughput: how fast one server instance empties a full outbox.
//!
//! For each backend (SQLite always; PostgreSQL when `BENCH_DATABASE_URL`, or else
//! `TEST_DATABASE_URL`, is a `postgres://` URL) and each transport (`--transports`, default both)
//! the benchmark, on a fresh database:
//!
//! 1. queues `--messages` password-changed messages (English and Spanish alternating) with
//!    `mail::outbox::enqueue`, in one transaction, due now;
//! 2. starts the optimized `consular-desk serve` binary as a child process with
//!    `CONSULAR_DESK_MAIL_BATCH=--batch` and either `CONSULAR_DESK_SMTP_URL` pointing at the mail
//!    tests' SMTP server (`tests/api/smtp_server.py`, python3-aiosmtpd, writing each message to
//!    a file) or no SMTP URL (the `.eml` folder);
//! 3. counts the received files every 10 ms until all arrived, and reports messages/s from the
//!    server's start and from the first message to the last, the server's peak resident memory
//!    (`VmHWM`), and the CPU seconds the server and the SMTP server used;
//! 4. checks every queued message arrived once: as many distinct Message-IDs as messages, and
//!    every outbox row `sent`.
//!
//! The table goes to stdout, progress to stderr, the server's log (JSON, WARN and above) to a
//! file whose last lines are shown if something fails.
//!
//! With `--outage-secs N` (SMTP only) the SMTP server is killed once a quarter of the messages
//! arrived and started again on the same port N seconds later: the run then shows that the
//! messages waited and went, once each, and how long the last took after the server returned.
//!
//! ```text
//! cargo bench --bench mail_delivery
//! cargo bench --bench mail_delivery -- --messages 2000 --transports smtp --outage-secs 60
//! cargo bench --bench mail_delivery -- --messages 5000 --transports smtp
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench mail_delivery
//! ```

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use chrono::Utc;
use clap::Parser;
use consular_desk::db::schema::outbox;
use consular_desk::db::write_transaction;
use consular_desk::mail::outbox::enqueue;
use consular_desk::mail::{Kind, Letter};
use consular_desk::wording::Lang;
use diesel::prelude::*;

mod support;

use support::db::{is_postgres, BenchDb};
use support::memory::mib;
use support::server::Server;
use support::smtp::{count_files, cpu_seconds, distinct_message_ids, SmtpServer};

#[derive(Parser, Debug)]
#[command(about = "Mail sender throughput: a full outbox sent by one server instance")]
struct Args {
    /// Messages queued before the server starts.
    #[arg(long, env = "BENCH_MESSAGES", default_value_t = 20_000)]
    messages: usize,
    /// `CONSULAR_DESK_MAIL_BATCH`: messages claimed at once.
    #[arg(long, env = "BENCH_MAIL_BATCH", default_value_t = 50)]
    batch: u32,
    /// Transports to measure, comma-separated: `smtp`, `folder`.
    #[arg(long, default_value = "smtp,folder", value_delimiter = ',')]
    transports: Vec<String>,
    /// Stop the SMTP server for this many seconds once a quarter of the messages arrived.
    #[arg(long)]
    outage_secs: Option<u64>,
    /// How long all messages may take before the run fails.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
    /// Server and database for the PostgreSQL runs; `TEST_DATABASE_URL` when unset.
    #[arg(long, env = "BENCH_DATABASE_URL", hide_env_values = true)]
    postgres: Option<String>,
    /// Skip SQLite (e.g. to measure PostgreSQL alone).
    #[arg(long)]
    skip_sqlite: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One run's figures.
struct Report {
    backend: &'static str,
    transport: String,
    from_start: Duration,
    first_to_last: Duration,
    peak_kib: u64,
    server_cpu: f64,
    smtp_cpu: Option<f64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.messages >= 2, "--messages must be at least 2");
    for transport in &args.transports {
        ensure!(
            transport == "smtp" || transport == "folder",
            "unknown transport {transport}: smtp or folder"
        );
    }
    let postgres = args
        .postgres
        .clone()
        .or_else(|| std::env::var("TEST_DATABASE_URL").ok())
        .filter(|url| is_postgres(url));
    let mut backends: Vec<Option<&str>> = Vec::new();
    if !args.skip_sqlite {
        backends.push(None);
    }
    match &postgres {
        Some(url) => backends.push(Some(url)),
        None => eprintln!(
            "mail_delivery: no postgres:// URL in BENCH_DATABASE_URL / TEST_DATABASE_URL; SQLite only"
        ),
    }
    ensure!(!backends.is_empty(), "nothing to measure");

    let mut reports = Vec::new();
    for backend in &backends {
        for transport in &args.transports {
            reports.push(measure(&args, *backend, transport)?);
        }
    }

    println!("mail delivery: {} messages queued, batch {}, one server instance", args.messages, args.batch);
    println!(
        "  {:<9} {:<10} {:>12} {:>16} {:>14} {:>12} {:>10}",
        "backend", "transport", "msg/s start", "msg/s 1st-last", "server VmHWM", "server CPU", "SMTP CPU"
    );
    for r in &reports {
        let rate = |d: Duration, n: usize| n as f64 / d.as_secs_f64().max(1e-9);
        println!(
            "  {:<9} {:<10} {:>12.0} {:>16.0} {:>14} {:>11.1}s {:>10}",
            r.backend,
            r.transport,
            rate(r.from_start, args.messages),
            rate(r.first_to_last, args.messages - 1),
            mib(r.peak_kib),
            r.server_cpu,
            r.smtp_cpu.map_or("-".to_string(), |s| format!("{s:.1}s")),
        );
    }
    Ok(())
}

/// Queues the messages, starts the server and times it until every message arrived.
fn measure(args: &Args, postgres: Option<&str>, transport: &str) -> anyhow::Result<Report> {
    let db = BenchDb::fresh(postgres, "mail")?;
    eprintln!("mail_delivery: {} over {transport}: queueing {} messages", db.backend(), args.messages);
    migrate(db.url())?;
    queue(&db, args.messages)?;

    let received = db.dir().join("received");
    std::fs::create_dir_all(&received).context("cannot create the received folder")?;
    let mut smtp = match transport {
        "smtp" => Some(SmtpServer::start(&received, 0)?),
        _ => None,
    };
    let smtp_url = smtp.as_ref().map(SmtpServer::url);
    let folder = received.display().to_string();
    let batch = args.batch.to_string();
    let mut env = vec![("CONSULAR_DESK_MAIL_BATCH", batch.as_str())];
    match &smtp_url {
        Some(url) => env.push(("CONSULAR_DESK_SMTP_URL", url.as_str())),
        None => env.push(("CONSULAR_DESK_MAIL_DIR", folder.as_str())),
    }

    let log = db.dir().join("server.log");
    let started = Instant::now();
    let mut server = Server::logging_to(db.url(), &env, &log)?;
    let outcome = wait_for_all(args, &mut server, &mut smtp, &received, started);
    let (first, last) = match outcome {
        Ok(times) => times,
        Err(e) => {
            server.print_log_tail(20);
            return Err(e);
        }
    };
    let memory = server.memory()?;
    let server_cpu = cpu_seconds(server.pid())?;
    let smtp_cpu = smtp.as_ref().map(|s| cpu_seconds(s.pid())).transpose()?;
    let warnings = server.log_lines_at_warn_or_above();
    server.stop()?;
    drop(smtp);

    let (distinct, files) = distinct_message_ids(&received)?;
    ensure!(distinct == args.messages, "{distinct} distinct Message-IDs for {} messages", args.messages);
    ensure!(files == args.messages, "{files} files for {} messages: some arrived twice", args.messages);
    let unsent: i64 =
        outbox::table.filter(outbox::state.ne("sent")).count().get_result(&mut db.connect()?)?;
    ensure!(unsent == 0, "{unsent} outbox rows are not marked sent");
    if warnings > 0 {
        eprintln!("mail_delivery: the server logged {warnings} lines at WARN or above ({})", log.display());
    }
    eprintln!("mail_delivery: {} over {transport}: all arrived in {:.1} s", db.backend(), last.as_secs_f64());
    Ok(Report {
        backend: db.backend(),
        transport: transport.to_string(),
        from_start: last,
        first_to_last: last.saturating_sub(first),
        peak_kib: memory.hwm_kib,
        server_cpu,
        smtp_cpu,
    })
}

/// Counts arrivals every 10 ms; returns when the first and the last message arrived, from
/// `started`. With `--outage-secs`, stops the SMTP server once a quarter arrived and starts it
/// again on its port after the outage.
fn wait_for_all(
    args: &Args,
    server: &mut Server,
    smtp: &mut Option<SmtpServer>,
    received: &Path,
    started: Instant,
) -> anyhow::Result<(Duration, Duration)> {
    let mut first = None;
    let mut reported = Instant::now();
    let mut outage = args.outage_secs.filter(|_| smtp.is_some()).map(Duration::from_secs);
    let mut back: Option<Instant> = None;
    loop {
        let arrived = count_files(received);
        if arrived > 0 && first.is_none() {
            first = Some(started.elapsed());
        }
        if arrived >= args.messages {
            if let Some(back) = back {
                eprintln!(
                    "mail_delivery:   the last message arrived {:.1} s after the SMTP server came back",
                    back.elapsed().as_secs_f64()
                );
            }
            return Ok((first.unwrap_or_default(), started.elapsed()));
        }
        if let (Some(length), true) = (outage, arrived >= args.messages / 4) {
            outage = None;
            back = Some(stop_smtp_for(length, server, smtp, received)?);
            reported = Instant::now();
        }
        server.ensure_running()?;
        if started.elapsed() > Duration::from_secs(args.timeout_secs) {
            bail!("only {arrived} of {} messages arrived within {} s", args.messages, args.timeout_secs);
        }
        if reported.elapsed() > Duration::from_secs(5) {
            eprintln!("mail_delivery:   {arrived} arrived after {:.0} s", started.elapsed().as_secs_f64());
            reported = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills the SMTP server, waits `length` (the server must keep running and nothing may
/// arrive), and starts a new one on the same port; returns when it was back.
fn stop_smtp_for(
    length: Duration,
    server: &mut Server,
    smtp: &mut Option<SmtpServer>,
    received: &Path,
) -> anyhow::Result<Instant> {
    let port = smtp.as_ref().map_or(0, |s| s.port);
    drop(smtp.take());
    let before = count_files(received);
    eprintln!("mail_delivery:   SMTP server stopped with {before} arrived; back in {} s", length.as_secs());
    let stopped = Instant::now();
    while stopped.elapsed() < length {
        server.ensure_running()?;
        std::thread::sleep(Duration::from_millis(200));
    }
    ensure!(count_files(received) == before, "messages arrived while the SMTP server was down");
    *smtp = Some(SmtpServer::start(received, port)?);
    eprintln!("mail_delivery:   SMTP server back on port {port}; nothing arrived while it was down");
    Ok(Instant::now())
}

/// Creates the tables with the binary's `migrate`, as a deployment does.
fn migrate(db_url: &str) -> anyhow::Result<()> {
    let status = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
        .arg("migrate")
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("cannot run consular-desk migrate")?;
    ensure!(status.success(), "consular-desk migrate failed");
    Ok(())
}

/// Queues `n` messages due now on the system clock (the server's), in one transaction.
fn queue(db: &BenchDb, n: usize) -> anyhow::Result<()> {
    let now = Utc::now().naive_utc();
    let mut conn = db.connect()?;
    write_transaction(&mut conn, |c| {
        for i in 0..n {
            let lang = if i % 2 == 0 { Lang::En } else { Lang::Es };
            let letter = Letter::new(Kind::PasswordChanged, &format!("person{i}@example.com"), lang)
                .with("name", format!("Person {i}"));
            enqueue(c, &letter, now)?;
        }
        QueryResult::Ok(())
    })
    .context("cannot queue the messages")
}
