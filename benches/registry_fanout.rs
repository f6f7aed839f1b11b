//! An emergency message to every registrant: how long the fan-out takes to commit, what it
//! does to the server's memory, and how fast the messages then go to a local SMTP server.
//!
//! For each backend (SQLite always; PostgreSQL when `BENCH_DATABASE_URL`, or else
//! `TEST_DATABASE_URL`, is a `postgres://` URL) the benchmark, on a fresh database:
//!
//! 1. registers `--registrants` confirmed stays in Guadalajara's district in one statement;
//! 2. starts the optimized `consular-desk serve` binary with `CONSULAR_DESK_SMTP_URL` pointing
//!    at the mail tests' SMTP server (`tests/api/smtp_server.py`, python3-aiosmtpd) and a duty
//!    officer of GDL;
//! 3. times `POST /api/v1/staff/emergency-messages` (the answer comes once every outbox row is
//!    committed) and reads the server's resident memory before it and its peak (`VmHWM`) after;
//! 4. counts the messages arriving for `--deliver-secs` seconds and reports the rate.
//!
//! ```text
//! cargo bench --bench registry_fanout
//! cargo bench --bench registry_fanout -- --registrants 10000 --deliver-secs 10
//! ```

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use clap::Parser;
use consular_desk::clock::Clock;
use diesel::RunQueryDsl;

mod support;

use support::db::{is_postgres, BenchDb};
use support::memory::mib;
use support::server::{Server, PASSWORD};
use support::smtp::{count_files, SmtpServer};

#[derive(Parser, Debug)]
#[command(about = "Emergency fan-out: queue time, memory and delivery rate")]
struct Args {
    #[arg(long, env = "BENCH_REGISTRANTS", default_value_t = 100_000)]
    registrants: u32,
    /// How long delivery is watched after the fan-out.
    #[arg(long, default_value_t = 30)]
    deliver_secs: u64,
    #[arg(long, env = "BENCH_DATABASE_URL", hide_env_values = true)]
    postgres: Option<String>,
    #[arg(long)]
    skip_sqlite: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

struct Report {
    backend: &'static str,
    fan_out: Duration,
    recipients: i64,
    rss_before_kib: u64,
    peak_kib: u64,
    delivered: usize,
    delivery_secs: f64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let postgres = args
        .postgres
        .clone()
        .or_else(|| std::env::var("TEST_DATABASE_URL").ok())
        .filter(|url| is_postgres(url));
    let mut backends: Vec<Option<&str>> = Vec::new();
    if !args.skip_sqlite {
        backends.push(None);
    }
    if let Some(url) = &postgres {
        backends.push(Some(url));
    }
    ensure!(!backends.is_empty(), "nothing to measure");
    let mut reports = Vec::new();
    for backend in backends {
        reports.push(measure(&args, backend)?);
    }
    println!(
        "registry fan-out: one emergency message to {} registrants, one server instance",
        args.registrants
    );
    println!(
        "  {:<9} {:>12} {:>11} {:>14} {:>14} {:>14}",
        "backend", "fan-out", "recipients", "RSS before", "VmHWM after", "delivery msg/s"
    );
    for r in &reports {
        println!(
            "  {:<9} {:>10.2} s {:>11} {:>14} {:>14} {:>14.0}",
            r.backend,
            r.fan_out.as_secs_f64(),
            r.recipients,
            mib(r.rss_before_kib),
            mib(r.peak_kib),
            r.delivered as f64 / r.delivery_secs.max(1e-9),
        );
    }
    Ok(())
}

fn measure(args: &Args, postgres: Option<&str>) -> anyhow::Result<Report> {
    let db = BenchDb::fresh(postgres, "fanout")?;
    eprintln!("registry_fanout: {}: registering {} stays", db.backend(), args.registrants);
    cli(db.url(), &["migrate"], None)?;
    register(&db, args.registrants)?;
    cli(
        db.url(),
        &[
            "create-staff",
            "--username",
            "bench.duty",
            "--role",
            "duty_officer",
            "--post",
            "GDL",
            "--password-stdin",
        ],
        Some(PASSWORD),
    )?;
    let received = db.dir().join("received");
    std::fs::create_dir_all(&received)?;
    let smtp = SmtpServer::start(&received, 0)?;
    let url = smtp.url();
    let log = db.dir().join("server.log");
    let mut server = Server::logging_to(db.url(), &[("CONSULAR_DESK_SMTP_URL", url.as_str())], &log)?;
    let outcome = actix_web::rt::System::new().block_on(fan_out(&mut server, args, &received));
    let report = match outcome {
        Ok(r) => r,
        Err(e) => {
            server.print_log_tail(20);
            return Err(e);
        }
    };
    server.stop()?;
    drop(smtp);
    Ok(Report { backend: db.backend(), ..report })
}

async fn fan_out(server: &mut Server, args: &Args, received: &Path) -> anyhow::Result<Report> {
    let client = awc::Client::builder().timeout(Duration::from_secs(600)).finish();
    server.wait_ready(&client).await?;
    let base = server.base.clone();
    let login = serde_json::json!({"username": "bench.duty", "password": PASSWORD});
    let mut signed = client
        .post(format!("{base}/api/v1/staff/auth/login"))
        .send_json(&login)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token: serde_json::Value = signed.json().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = token["token"].as_str().context("no officer token")?.to_string();
    let today = Clock::system().naive().date().to_string();
    let message = serde_json::json!({
        "districts": ["GDL"], "from": today, "to": today,
        "subject_en": "Hurricane warning", "body_en": "A hurricane reaches the coast tonight. Stay indoors.",
        "subject_es": "Alerta de huracán", "body_es": "Un huracán llega a la costa esta noche. Permanezca en interiores.",
    });
    let rss_before_kib = server.memory()?.rss_kib;
    server.reset_peak_memory().context("cannot reset the server's peak memory")?;
    let started = Instant::now();
    let mut answer = client
        .post(format!("{base}/api/v1/staff/emergency-messages"))
        .bearer_auth(&token)
        .send_json(&message)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let fan_out = started.elapsed();
    ensure!(answer.status().as_u16() == 202, "the message was refused: {}", answer.status());
    let body: serde_json::Value = answer.json().limit(1 << 20).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let recipients = body["recipients"].as_i64().unwrap_or_default();
    ensure!(
        recipients == i64::from(args.registrants),
        "{recipients} recipients for {} registrants",
        args.registrants
    );
    eprintln!("registry_fanout: queued {recipients} in {:.2} s; watching delivery", fan_out.as_secs_f64());
    let watch = Instant::now();
    let first = loop {
        server.ensure_running()?;
        if count_files(received) > 0 || watch.elapsed() > Duration::from_secs(60) {
            break Instant::now();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let start_count = count_files(received);
    std::thread::sleep(Duration::from_secs(args.deliver_secs));
    let delivered = count_files(received) - start_count;
    let peak_kib = server.memory()?.hwm_kib;
    Ok(Report {
        backend: "",
        fan_out,
        recipients,
        rss_before_kib,
        peak_kib,
        delivered,
        delivery_secs: first.elapsed().as_secs_f64(),
    })
}

/// Registers `n` confirmed stays in GDL present today (system clock, the server's), in one
/// statement on either backend.
fn register(db: &BenchDb, n: u32) -> anyhow::Result<()> {
    let now = Clock::system().naive();
    let (from, to, at) = (
        (now.date() - chrono::Duration::days(1)).to_string(),
        (now.date() + chrono::Duration::days(14)).to_string(),
        now.format("%Y-%m-%d %H:%M:%S").to_string(),
    );
    let columns = "email, language, arrives, departs, district, emergency_messages, newsletter, confirmed_at, created_at, updated_at";
    let sql = if db.backend() == "postgres" {
        format!(
            "INSERT INTO stays ({columns}) SELECT 'registrant' || i || '@example.com', \
             CASE WHEN i % 2 = 0 THEN 'en' ELSE 'es' END, DATE '{from}', DATE '{to}', 'GDL', TRUE, FALSE, \
             TIMESTAMP '{at}', TIMESTAMP '{at}', TIMESTAMP '{at}' FROM generate_series(1, {n}) AS i"
        )
    } else {
        format!(
            "INSERT INTO stays ({columns}) WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) \
             SELECT 'registrant' || i || '@example.com', CASE WHEN i % 2 = 0 THEN 'en' ELSE 'es' END, '{from}', '{to}', 'GDL', 1, 0, \
             '{at}', '{at}', '{at}' FROM seq"
        )
    };
    diesel::sql_query(sql).execute(&mut db.connect()?).context("cannot register the stays")?;
    Ok(())
}

fn cli(db_url: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<()> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot run the binary")?;
    if let (Some(mut pipe), Some(text)) = (child.stdin.take(), stdin) {
        use std::io::Write;
        writeln!(pipe, "{text}")?;
    }
    ensure!(child.wait()?.success(), "consular-desk {} failed", args.join(" "));
    Ok(())
}
