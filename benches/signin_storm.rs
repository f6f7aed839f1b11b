//! The sign-in storm: slot-release readiness, measured on the real server binary.
//!
//! When a consulate releases slots, thousands of applicants sign in within minutes, and each
//! sign-in costs one argon2id verification (19 MiB, 2 passes). This benchmark asks whether the
//! server stays responsive and bounded in memory while that happens. It starts the optimized
//! `consular-desk` binary as a child process (so the memory figures are the server's alone) on a
//! fresh database, with every throttle raised out of the way, and measures:
//!
//! 1. **Idle memory**: the server's `VmRSS` as soon as `GET /readyz` answers 200.
//! 2. **Throughput**: `--clients` concurrent keep-alive HTTP/1.1 clients request `GET /healthz`
//!    for `--secs` seconds, then
//!    `GET /api/v1/posts/MEX/availability?service=passport-renewal&from=<today>&to=<today+30>`
//!    (today in America/Mexico_City) for as long. Every availability answer must be a 200 that
//!    lists at least one slot.
//! 3. **Sign-in storm**: `--signins` applicant accounts that share one password are prepared
//!    up front (one real `POST /api/v1/auth/register` for a genuine argon2id hash, the rest
//!    inserted directly with that same hash, bypassing registration throttles and hashing
//!    time). Then `--clients` clients sign each account in once with
//!    `POST /api/v1/auth/login`, while `--pollers` other clients keep requesting the
//!    availability above. A `503` with `Retry-After` (the server shedding load when its
//!    hashing queue is full) is retried after that many seconds plus up to 250 ms of jitter,
//!    as a polite client would; any other answer than 200 is unexpected. Meanwhile the server's
//!    `/proc/<pid>/status` is sampled every 50 ms; `VmHWM` gives the peak, and `VmRSS` is read
//!    again 5 s after the storm to see whether the memory came back.
//!
//! The table goes to stdout, progress to stderr, the server's own log (JSON, `RUST_LOG=warn`)
//! to a file whose last lines are shown if something fails. The server is killed at the end,
//! also on error, and the process fails when any unexpected answer appeared.
//!
//! Run it (the `bench` profile is the optimized release profile; Linux only, for `/proc`):
//!
//! ```text
//! cargo bench --bench signin_storm
//! cargo bench --bench signin_storm -- --secs 5 --clients 32 --signins 1000 --pollers 4
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench signin_storm
//! ```
//!
//! On PostgreSQL the URL names a server and a database to connect to; each run creates a
//! `bench_<name>_<random>` database there (`benches/support/db.rs`) and drops it at the end.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::rt::time::sleep;
use anyhow::{bail, ensure, Context};
use chrono::Utc;
use clap::Parser;
use consular_desk::db::schema::applicants;
use consular_desk::db::write_transaction;
use diesel::prelude::*;
use futures_util::future::{join, join_all};
use rand::Rng;
use serde_json::{json, Value};

mod support;

use support::db::{is_postgres, BenchDb};
use support::latency::{Load, Tally};
use support::load::{get_load, http_client, Expect};
use support::memory::{mib, Memory, Sampler, Samples};
use support::server::{Server, THROTTLES_RAISED};

/// The availability every load requests.
const POST: &str = "MEX";
const SERVICE: &str = "passport-renewal";
/// The one password of every storm account.
const PASSWORD: &str = "storm-password-0123456789";
/// How often the server's memory is sampled during the storm.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);
/// How long after the storm the resident memory is read again.
const SETTLE: Duration = Duration::from_secs(5);
/// Retries of one sign-in after which the client gives up (counted as unexpected).
const MAX_RETRIES: usize = 50;

#[derive(Parser, Debug)]
#[command(about = "Sign-in storm: throughput, latency and memory of the real server while many sign in")]
struct Args {
    /// Seconds of each throughput load (healthz, then availability).
    #[arg(long, env = "BENCH_SECS", default_value_t = 10)]
    secs: u64,
    /// Concurrent clients of the throughput loads and of the storm.
    #[arg(long, env = "BENCH_CLIENTS", default_value_t = 64)]
    clients: usize,
    /// Accounts prepared, each signed in once during the storm.
    #[arg(long, env = "BENCH_SIGNINS", default_value_t = 2000)]
    signins: usize,
    /// Clients polling availability during the storm.
    #[arg(long, env = "BENCH_POLLERS", default_value_t = 4)]
    pollers: usize,
    /// Server and database for a run on PostgreSQL instead of SQLite.
    #[arg(long, env = "BENCH_DATABASE_URL", hide_env_values = true)]
    postgres: Option<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.secs >= 1, "--secs must be at least 1");
    ensure!(args.clients >= 1, "--clients must be at least 1");
    ensure!(args.signins >= 1, "--signins must be at least 1");
    ensure!(args.pollers >= 1, "--pollers must be at least 1");
    if let Some(url) = &args.postgres {
        ensure!(is_postgres(url), "BENCH_DATABASE_URL must be a postgres:// URL");
    }

    // Declared in this order so they drop in reverse: the server dies before its database.
    let db = BenchDb::fresh(args.postgres.as_deref(), "signin_storm")?;
    eprintln!("signin_storm: {} database, server {}", db.backend(), env!("CARGO_BIN_EXE_consular-desk"));
    // Every client connects from 127.0.0.1, and every account signs in once with the right
    // password, so no throttle may bind.
    let mut server = Server::logging_to(db.url(), &THROTTLES_RAISED, &db.dir().join("server.log"))?;

    let measured = actix_web::rt::System::new().block_on(measure(&args, &db, &mut server));
    let report = match measured.and_then(|report| server.stop().map(|()| report)) {
        Ok(report) => report,
        Err(e) => {
            server.print_log_tail(20);
            return Err(e);
        }
    };
    let warnings = server.log_lines_at_warn_or_above();
    print_report(&args, db.backend(), &report, warnings);

    let failures = report.failures();
    if !failures.is_empty() {
        server.print_log_tail(20);
        bail!("the sign-in storm saw unexpected answers:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The accounts

/// Prepares `count` accounts with the password [`PASSWORD`] and returns their e-mails: the
/// first through the real registration (for a genuine argon2id hash), the others inserted
/// directly with a copy of that hash.
async fn create_accounts(
    client: &awc::Client,
    base: &str,
    db: &BenchDb,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let run = format!("{:08x}", rand::random::<u32>());
    let emails: Vec<String> = (0..count).map(|i| format!("storm-{run}-{i}@example.test")).collect();

    let mut response = client
        .post(format!("{base}/api/v1/auth/register"))
        .send_json(&json!({"email": emails[0], "password": PASSWORD, "full_name": "Storm Applicant 0"}))
        .await
        .map_err(|e| anyhow::anyhow!("registration request failed: {e}"))?;
    let status = response.status().as_u16();
    let body = response.body().await.context("unreadable registration answer")?;
    ensure!(status == 201, "registration answered {status}: {}", String::from_utf8_lossy(&body));
    let registered: Value = serde_json::from_slice(&body).context("registration answer is not JSON")?;
    let id = registered["id"].as_i64().context("registration answer has no id")?;

    let mut conn = db.connect()?;
    let hash: String = applicants::table
        .find(id)
        .select(applicants::password_hash)
        .first(&mut conn)
        .context("cannot read the registered password hash")?;
    ensure!(hash.starts_with("$argon2id$"), "the stored hash is not argon2id: {hash:.12}…");

    // Row by row in one transaction: diesel's multi-backend connection has no multi-row INSERT.
    let now = Utc::now().naive_utc();
    write_transaction(&mut conn, |c| {
        for (i, email) in emails.iter().enumerate().skip(1) {
            diesel::insert_into(applicants::table)
                .values((
                    applicants::email.eq(email),
                    applicants::full_name.eq(format!("Storm Applicant {i}")),
                    applicants::password_hash.eq(&hash),
                    applicants::created_at.eq(now),
                ))
                .execute(c)?;
        }
        QueryResult::Ok(())
    })
    .context("cannot insert the storm accounts")?;
    Ok(emails)
}

// ---------------------------------------------------------------------------------------------
// CPU

/// CPU time (user + system, all threads) a process has used so far, in seconds, from
/// `/proc/<pid>/stat`; `pid` may be `self`.
fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    /// The kernel reports these times in USER_HZ ticks, 100 a second on Linux.
    const TICKS_PER_SECOND: f64 = 100.0;
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // The command name (field 2) may hold spaces and parentheses; field 3 starts after the last `)`.
    let (_, rest) = stat.rsplit_once(')').with_context(|| format!("{path} has no command name"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of proc(5), so 11 and 12 counted from field 3.
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("{path}: field {} unreadable", i + 3))
    };
    Ok((ticks(11)? + ticks(12)?) as f64 / TICKS_PER_SECOND)
}

/// The CPU time of the server and of this benchmark (the client) at one moment.
struct CpuMark {
    server: f64,
    client: f64,
    at: Instant,
}

impl CpuMark {
    fn now(server_pid: u32) -> anyhow::Result<CpuMark> {
        Ok(CpuMark {
            server: cpu_seconds(&server_pid.to_string())?,
            client: cpu_seconds("self")?,
            at: Instant::now(),
        })
    }

    /// The CPU used since this mark, as a share of one core over the wall time.
    fn since(&self, server_pid: u32) -> anyhow::Result<CpuUse> {
        let now = CpuMark::now(server_pid)?;
        let wall = now.at.duration_since(self.at).as_secs_f64();
        Ok(CpuUse { server: (now.server - self.server) / wall, client: (now.client - self.client) / wall })
    }
}

/// CPU used during a phase, in cores (1.0 = one core busy all the time).
struct CpuUse {
    server: f64,
    client: f64,
}

impl CpuUse {
    fn percent(&self) -> String {
        format!("{:.0} % / {:.0} %", 100.0 * self.server, 100.0 * self.client)
    }
}

// ---------------------------------------------------------------------------------------------
// The availability

/// The availability URL: the next 30 days from today in Mexico City.
fn availability_url(base: &str) -> String {
    let today = Utc::now().with_timezone(&chrono_tz::America::Mexico_City).date_naive();
    let to = today + chrono::Duration::days(30);
    format!("{base}/api/v1/posts/{POST}/availability?service={SERVICE}&from={today}&to={to}")
}

/// How many slots one availability answer lists (fully parsed, unlike the loads' check).
async fn count_slots(client: &awc::Client, url: &str) -> anyhow::Result<usize> {
    let mut response =
        client.get(url).send().await.map_err(|e| anyhow::anyhow!("availability request failed: {e}"))?;
    let status = response.status().as_u16();
    let body = response.body().limit(16 << 20).await.context("unreadable availability answer")?;
    ensure!(status == 200, "availability answered {status}: {}", String::from_utf8_lossy(&body));
    let parsed: Value = serde_json::from_slice(&body).context("availability answer is not JSON")?;
    let slots = parsed["slots"].as_array().context("availability answer has no slots list")?;
    Ok(slots.len())
}

// ---------------------------------------------------------------------------------------------
// The storm

/// Counts of the storm's sign-ins.
#[derive(Default)]
struct SignIns {
    /// Every HTTP attempt, retries included.
    tally: Tally,
    /// 503 answers with `Retry-After`, each followed by a retry.
    shed: usize,
    /// Accounts that needed at least one retry.
    retried_accounts: usize,
    /// The longest `Retry-After` seen, in seconds.
    max_retry_after: u64,
}

impl SignIns {
    fn merge(mut self, other: SignIns) -> SignIns {
        self.tally = self.tally.merge(other.tally);
        self.shed += other.shed;
        self.retried_accounts += other.retried_accounts;
        self.max_retry_after = self.max_retry_after.max(other.max_retry_after);
        self
    }
}

/// Everything measured during the storm.
struct Storm {
    /// Sign-in attempts (latencies of each HTTP attempt) and the storm's wall time.
    attempts: Load,
    shed: usize,
    retried_accounts: usize,
    max_retry_after: u64,
    polls: Load,
    samples: Samples,
    /// Read right after the last sign-in.
    after: Memory,
}

impl Storm {
    fn signed_in(&self) -> usize {
        self.attempts.tally.ok
    }

    fn signins_per_second(&self) -> f64 {
        self.signed_in() as f64 / self.attempts.elapsed.as_secs_f64()
    }
}

/// Signs every account in once with `clients` tasks while `pollers` tasks poll availability.
async fn storm(
    client: &awc::Client,
    server: &Server,
    emails: Vec<String>,
    clients: usize,
    pollers: usize,
) -> anyhow::Result<Storm> {
    let login_url = format!("{}/api/v1/auth/login", server.base);
    let poll_url = availability_url(&server.base);
    let queue = RefCell::new(emails);
    let finished = Cell::new(false);

    let sampler = Sampler::start(server.pid(), SAMPLE_EVERY);
    let started = Instant::now();
    let signing = async {
        let per_client = join_all((0..clients).map(|_| async {
            let mut signins = SignIns::default();
            loop {
                // Take the account in its own statement: no borrow may live across an await.
                let next = queue.borrow_mut().pop();
                let Some(email) = next else { break };
                sign_in(client, &login_url, &email, &mut signins).await;
            }
            signins
        }))
        .await;
        let elapsed = started.elapsed();
        finished.set(true);
        (per_client.into_iter().fold(SignIns::default(), SignIns::merge), elapsed)
    };
    let storm_over = || finished.get();
    let polling = get_load(client, &poll_url, Expect::Slots, pollers, &storm_over);
    let ((signins, elapsed), polls) = join(signing, polling).await;
    let after = server.memory()?;
    let samples = sampler.finish()?;

    Ok(Storm {
        attempts: signins.tally.finish(elapsed),
        shed: signins.shed,
        retried_accounts: signins.retried_accounts,
        max_retry_after: signins.max_retry_after,
        polls,
        samples,
        after,
    })
}

/// Signs one account in, retrying after a 503 with `Retry-After`.
async fn sign_in(client: &awc::Client, url: &str, email: &str, signins: &mut SignIns) {
    let body = json!({"email": email, "password": PASSWORD});
    for attempt in 0..=MAX_RETRIES {
        let sent = Instant::now();
        let answer = match client.post(url).send_json(&body).await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                response
                    .body()
                    .limit(1 << 20)
                    .await
                    .map(|body| (status, retry_after, body))
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        signins.tally.latencies.push(sent.elapsed());
        let (status, retry_after, body) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                signins.tally.record_unexpected("transport error".into(), &e);
                return;
            }
        };
        let text = String::from_utf8_lossy(&body);
        match (status, retry_after) {
            (200, _) => {
                let token = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["token"].as_str().map(str::len));
                match token {
                    Some(len) if len > 0 => signins.tally.ok += 1,
                    _ => signins.tally.record_unexpected("200 without a token".into(), &text),
                }
                return;
            }
            (503, Some(secs)) => {
                signins.shed += 1;
                signins.max_retry_after = signins.max_retry_after.max(secs);
                if attempt == 0 {
                    signins.retried_accounts += 1;
                }
                let jitter = Duration::from_millis(rand::rng().random_range(0..=250));
                sleep(Duration::from_secs(secs) + jitter).await;
            }
            _ => {
                let code = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["code"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let mut key = status.to_string();
                if !code.is_empty() {
                    key = format!("{key} {code}");
                }
                if retry_after.is_some() {
                    key.push_str(" with Retry-After");
                }
                signins.tally.record_unexpected(key, &text);
                return;
            }
        }
    }
    signins.tally.record_unexpected(format!("gave up after {MAX_RETRIES} retries"), email);
}

// ---------------------------------------------------------------------------------------------
// The run

/// Everything measured.
struct Report {
    ready_after: Duration,
    idle: Memory,
    slots_listed: usize,
    healthz: Load,
    healthz_cpu: CpuUse,
    availability: Load,
    availability_cpu: CpuUse,
    /// After the throughput loads, before the accounts are prepared.
    after_loads: Memory,
    /// After the accounts are prepared (one registration, so one real argon2id hash).
    before_storm: Memory,
    storm: Storm,
    storm_cpu: CpuUse,
    settled: Memory,
}

impl Report {
    /// Every unexpected answer, by phase.
    fn failures(&self) -> Vec<String> {
        let phases = [
            ("healthz load", &self.healthz.tally),
            ("availability load", &self.availability.tally),
            ("storm sign-ins", &self.storm.attempts.tally),
            ("storm availability polls", &self.storm.polls.tally),
        ];
        phases
            .into_iter()
            .flat_map(|(phase, tally)| {
                tally.unexpected.iter().map(move |(key, n)| format!("{phase}: {n} × {key}"))
            })
            .collect()
    }
}

async fn measure(args: &Args, db: &BenchDb, server: &mut Server) -> anyhow::Result<Report> {
    let client = http_client(args.clients + args.pollers);
    let ready_after = server.wait_ready(&client).await?;
    let idle = server.memory()?;
    eprintln!("signin_storm: ready after {} ms, idle RSS {}", ready_after.as_millis(), mib(idle.rss_kib));

    let for_ = Duration::from_secs(args.secs);
    let availability = availability_url(&server.base);
    let slots_listed = count_slots(&client, &availability).await?;
    ensure!(slots_listed > 0, "the availability of {POST}/{SERVICE} lists no slots");

    eprintln!("signin_storm: GET /healthz, {} clients, {} s", args.clients, args.secs);
    let deadline = Instant::now() + for_;
    let healthz_url = format!("{}/healthz", server.base);
    let mark = CpuMark::now(server.pid())?;
    let healthz =
        get_load(&client, &healthz_url, Expect::Any, args.clients, &|| Instant::now() >= deadline).await;
    let healthz_cpu = mark.since(server.pid())?;
    server.ensure_running()?;

    eprintln!("signin_storm: GET availability, {} clients, {} s", args.clients, args.secs);
    let deadline = Instant::now() + for_;
    let mark = CpuMark::now(server.pid())?;
    let availability =
        get_load(&client, &availability, Expect::Slots, args.clients, &|| Instant::now() >= deadline).await;
    let availability_cpu = mark.since(server.pid())?;
    server.ensure_running()?;

    let after_loads = server.memory()?;
    eprintln!("signin_storm: preparing {} accounts", args.signins);
    let emails = create_accounts(&client, &server.base, db, args.signins).await?;
    let before_storm = server.memory()?;

    eprintln!(
        "signin_storm: storm, {} sign-ins from {} clients, {} availability pollers",
        args.signins, args.clients, args.pollers
    );
    let mark = CpuMark::now(server.pid())?;
    let storm = storm(&client, server, emails, args.clients, args.pollers).await?;
    let storm_cpu = mark.since(server.pid())?;
    server.ensure_running()?;
    eprintln!(
        "signin_storm: storm done in {:.1} s; waiting {} s for memory to settle",
        storm.attempts.elapsed.as_secs_f64(),
        SETTLE.as_secs()
    );
    sleep(SETTLE).await;
    let settled = server.memory()?;

    Ok(Report {
        ready_after,
        idle,
        slots_listed,
        healthz,
        healthz_cpu,
        availability,
        availability_cpu,
        after_loads,
        before_storm,
        storm,
        storm_cpu,
        settled,
    })
}

// ---------------------------------------------------------------------------------------------
// Report

fn print_report(args: &Args, backend: &str, r: &Report, warnings: usize) {
    let s = &r.storm;
    let unexpected_signins =
        s.attempts.tally.unexpected.iter().map(|(k, n)| format!("{n} × {k}")).collect::<Vec<_>>();
    let share = 100.0 * r.availability.per_second() / r.healthz.per_second();

    let rows: Vec<(&str, String)> = vec![
        ("# startup", String::new()),
        ("start to /readyz 200 (fresh database)", format!("{} ms", r.ready_after.as_millis())),
        ("idle RSS right after start", mib(r.idle.rss_kib)),
        ("# throughput", String::new()),
        ("GET /healthz requests/s", format!("{:.0}", r.healthz.per_second())),
        ("GET /healthz p50 / p99", r.healthz.p50_p99()),
        ("  CPU server / client (100 % = 1 core)", r.healthz_cpu.percent()),
        ("GET availability requests/s", format!("{:.0}", r.availability.per_second())),
        ("availability share of healthz rate", format!("{share:.1} %")),
        ("GET availability p50 / p99", r.availability.p50_p99()),
        ("  CPU server / client (100 % = 1 core)", r.availability_cpu.percent()),
        ("slots listed per availability answer", r.slots_listed.to_string()),
        ("non-200 or empty answers", (r.healthz.unexpected() + r.availability.unexpected()).to_string()),
        ("RSS after the throughput loads", mib(r.after_loads.rss_kib)),
        ("# sign-in storm", String::new()),
        ("accounts signed in / asked", format!("{} / {}", s.signed_in(), args.signins)),
        ("sign-ins/s (200s per second of storm)", format!("{:.1}", s.signins_per_second())),
        ("storm wall time", format!("{:.2} s", s.attempts.elapsed.as_secs_f64())),
        ("login requests (retries included)", s.attempts.requests().to_string()),
        ("  200", s.signed_in().to_string()),
        ("  503 with Retry-After (each retried)", s.shed.to_string()),
        ("  accounts that needed a retry", s.retried_accounts.to_string()),
        ("  longest Retry-After", format!("{} s", s.max_retry_after)),
        (
            "  other answers",
            if unexpected_signins.is_empty() { "0".into() } else { unexpected_signins.join(", ") },
        ),
        ("login request p50 / p99", s.attempts.p50_p99()),
        ("CPU server / client (100 % = 1 core)", r.storm_cpu.percent()),
        ("RSS before the storm (after 1 registration)", mib(r.before_storm.rss_kib)),
        ("peak RSS (VmHWM, since start)", mib(s.after.hwm_kib)),
        (
            "highest sampled RSS during the storm",
            format!("{} ({} samples)", mib(s.samples.max_rss_kib), s.samples.count),
        ),
        ("RSS right after the storm", mib(s.after.rss_kib)),
        ("RSS 5 s after the storm", mib(r.settled.rss_kib)),
        ("availability polls during the storm", s.polls.requests().to_string()),
        ("  p50 / p99", s.polls.p50_p99()),
        (
            "  max",
            format!(
                "{:.1} ms",
                s.polls.tally.latencies.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
            ),
        ),
        ("  non-200 or empty answers", s.polls.unexpected().to_string()),
        ("# server", String::new()),
        ("log lines at WARN or ERROR", warnings.to_string()),
    ];

    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    println!();
    println!(
        "sign-in storm on {backend}: {} clients, {} s per throughput load, {} sign-ins, {} availability pollers",
        args.clients, args.secs, args.signins, args.pollers
    );
    println!("availability: {POST}/{SERVICE}, 30 days from today in America/Mexico_City");
    for (label, value) in &rows {
        match label.strip_prefix("# ") {
            Some(section) => {
                println!();
                println!("{section}");
                println!("{}", "-".repeat(width + 24));
            }
            None => println!("{label:width$}  {value:>22}"),
        }
    }
    println!();
}
