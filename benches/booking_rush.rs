//! The booking rush: seats are released and many clients book them at once.
//!
//! For each backend (SQLite always; PostgreSQL when `BENCH_DATABASE_URL`, or else
//! `TEST_DATABASE_URL`, is a `postgres://` URL) the benchmark measures, on fresh databases:
//!
//! 1. **Availability**: `--clients` concurrent clients poll
//!    `GET /api/v1/posts/MEX/availability?service=notarial&from=<today>&to=<today+30>` for
//!    `--availability-secs` seconds through real HTTP (this also warms the connections).
//! 2. **HTTP rush**: `--seats` seats spread over `--slots` MEX/notarial slots more than two days
//!    ahead are released (their capacity raised), then the same clients book them with
//!    `POST /api/v1/appointments`, one fresh applicant per attempt, about 10% more attempts
//!    than seats. Every slot receives exactly its capacity plus its share of the extra
//!    attempts, so the expected outcome is fixed: one 201 per seat and one
//!    `409 slot_full` per extra attempt, whatever the interleaving.
//! 3. **Ceiling**: the same booking transaction (`booking::appointments::book`) from as many OS
//!    threads sharing one pool of the same size, without HTTP, on another fresh database set
//!    up identically.
//! 4. **Ceiling with the attempt counter**: as 3, but each booking first runs
//!    `booking::count_attempt` (the per-applicant and per-address throttle the HTTP handler runs
//!    before booking, in its own statements), which splits the HTTP gap into what the
//!    counter costs and what HTTP costs.
//!
//! After each rush the database is checked: no slot may hold more than its capacity, and every
//! slot's `booked` must equal the seats of its `booked` appointments. The table goes to
//! stdout, progress to stderr; the process fails when a check or an expected count fails.
//!
//! Run it (the `bench` profile is the optimized release profile):
//!
//! ```text
//! cargo bench --bench booking_rush
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench booking_rush
//! cargo bench --bench booking_rush -- --seats 1000 --slots 20 --clients 32
//! ```
//!
//! On PostgreSQL the URL names a server and a database to connect to; each run creates a
//! `bench_<name>_<random>` database there (`benches/support/db.rs`) and drops it at the end.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use actix_web::http::header;
use anyhow::{bail, ensure, Context};
use chrono::Utc;
use clap::Parser;
use consular_desk::auth::tokens::{Audience, Keys};
use consular_desk::auth::Actor;
use consular_desk::booking::appointments::{self, BookingRequest, Rules};
use consular_desk::booking::party::PersonInput;
use consular_desk::booking::{self, slots};
use consular_desk::config::{BookingSettings, Secret, Settings};
use consular_desk::db::schema::slots as slots_t;
use consular_desk::db::{self, write_transaction, DbConn, Pool};
use consular_desk::error::{AppError, Code};
use consular_desk::startup;
use diesel::prelude::*;
use futures_util::future::join_all;
use rand::seq::SliceRandom;
use serde_json::{json, Value};

mod support;

use support::db::BenchDb;
use support::latency::{Load, Tally};
use support::load::{get_load, http_client, Expect};
use support::server::{ServerThread, THROTTLES_RAISED};

const PUBLIC_SECRET: &str = "bench-public-secret-0123456789abcdef0123456789";
const STAFF_SECRET: &str = "bench-staff-secret-0123456789abcdef01234567890";
/// The post and service whose slots are released and booked.
const POST: &str = "MEX";
const SERVICE: &str = "notarial";

#[derive(Parser, Debug)]
#[command(about = "Booking rush: HTTP bookings against the direct-database ceiling")]
struct Args {
    /// Seats released for the rush, spread evenly over the slots.
    #[arg(long, env = "BENCH_SEATS", default_value_t = 2000)]
    seats: usize,
    /// Slots the seats are spread over.
    #[arg(long, env = "BENCH_SLOTS", default_value_t = 40)]
    slots: usize,
    /// Concurrent clients (HTTP tasks, or OS threads for the ceiling).
    #[arg(long, env = "BENCH_CLIENTS", default_value_t = 64)]
    clients: usize,
    /// Database pool size of the server and of the ceiling run.
    #[arg(long, env = "BENCH_POOL_SIZE", default_value_t = 16)]
    pool_size: u32,
    /// How long the availability load runs.
    #[arg(long, env = "BENCH_AVAILABILITY_SECS", default_value_t = 5)]
    availability_secs: u64,
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

impl Args {
    /// The PostgreSQL admin URL, if one was given in either variable.
    fn postgres_url(&self) -> Option<String> {
        self.postgres
            .clone()
            .or_else(|| std::env::var("TEST_DATABASE_URL").ok())
            .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    }

    /// Each slot's capacity: the seats split as evenly as possible.
    fn capacities(&self) -> Vec<i32> {
        let (base, rest) = (self.seats / self.slots, self.seats % self.slots);
        (0..self.slots).map(|i| i32::try_from(base + usize::from(i < rest)).unwrap_or(i32::MAX)).collect()
    }

    /// Booking attempts aimed at a slot of `capacity`: its seats plus about 10% that must lose.
    fn attempts_for(capacity: i32) -> usize {
        let capacity = usize::try_from(capacity).unwrap_or(0);
        capacity + (capacity / 10).max(1)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.slots >= 1, "--slots must be at least 1");
    ensure!(args.seats >= args.slots, "--seats must be at least --slots");
    ensure!(args.clients >= 1, "--clients must be at least 1");

    let mut backends = Vec::new();
    if !args.skip_sqlite {
        backends.push(DbKind::Sqlite);
    }
    match args.postgres_url() {
        Some(url) => backends.push(DbKind::Postgres(url)),
        None => eprintln!(
            "booking_rush: BENCH_DATABASE_URL / TEST_DATABASE_URL is not a postgres:// URL; \
             measuring SQLite only"
        ),
    }
    ensure!(!backends.is_empty(), "nothing to measure");

    let mut reports = Vec::new();
    for kind in &backends {
        let started = Instant::now();
        eprintln!("booking_rush: {} ...", kind.name());
        let report = measure_backend(kind, &args)?;
        eprintln!("booking_rush: {} done in {:.1} s", kind.name(), started.elapsed().as_secs_f64());
        reports.push(report);
    }
    print_report(&args, &reports);
    if let Some(peak) = support::memory::own_peak_memory() {
        println!("peak resident memory of this process (server, clients and direct threads): {peak}");
    }

    let failures: Vec<String> = reports.iter().flat_map(BackendReport::failures).collect();
    if !failures.is_empty() {
        bail!("the booking rush found problems:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Databases and settings

/// Which backend a run uses; PostgreSQL carries the admin URL to create databases with.
enum DbKind {
    Sqlite,
    Postgres(String),
}

impl DbKind {
    fn name(&self) -> &'static str {
        match self {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres(_) => "postgres",
        }
    }

    /// A fresh database of this kind, dropped (on PostgreSQL) when the run is over.
    fn fresh(&self) -> anyhow::Result<BenchDb> {
        match self {
            DbKind::Sqlite => BenchDb::fresh(None, "booking_rush"),
            DbKind::Postgres(admin_url) => BenchDb::fresh(Some(admin_url), "booking_rush"),
        }
    }
}

/// Settings for the server and the ceiling run: fixed secrets (so tokens can be minted), a free
/// port, throttles out of the way, and no maintenance tick during the run.
fn settings(db_url: &str, pool_size: u32) -> anyhow::Result<Settings> {
    let pool_size = pool_size.to_string();
    let env: HashMap<&str, &str> = [
        ("DATABASE_URL", db_url),
        ("CONSULAR_DESK_BIND", "127.0.0.1:0"),
        ("CONSULAR_DESK_PUBLIC_JWT_SECRET", PUBLIC_SECRET),
        ("CONSULAR_DESK_STAFF_JWT_SECRET", STAFF_SECRET),
        ("CONSULAR_DESK_DB_POOL_SIZE", pool_size.as_str()),
        ("CONSULAR_DESK_MAINTENANCE_SECONDS", "3600"),
    ]
    .into_iter()
    // Every client connects from 127.0.0.1: the attempt counter must not refuse anyone.
    .chain(THROTTLES_RAISED)
    .collect();
    Settings::from_lookup(|key| env.get(key).map(|v| v.to_string())).context("benchmark settings are invalid")
}

// ---------------------------------------------------------------------------------------------
// Setup: applicants, tokens, slots

/// One booking attempt: a fresh applicant, their token and the slot they go for.
struct Job {
    applicant_id: i64,
    token: String,
    slot_id: i64,
}

/// A prepared rush: the slots to release with their new capacities, and the shuffled attempts.
struct Rush {
    slots: Vec<(i64, i32)>,
    jobs: Vec<Job>,
}

impl Rush {
    fn seats(&self) -> usize {
        self.slots.iter().map(|&(_, c)| usize::try_from(c).unwrap_or(0)).sum()
    }
}

/// Picks the slots, creates one applicant per attempt and mints their tokens. The slots keep
/// their normal capacity until [`release`].
fn setup(pool: &Pool, settings: &Settings, args: &Args) -> anyhow::Result<Rush> {
    let mut conn = pool.get().context("no database connection for setup")?;
    let capacities = args.capacities();
    let slot_ids = pick_slots(&mut conn, settings, capacities.len())?;
    let targets: Vec<i64> = slot_ids
        .iter()
        .zip(&capacities)
        .flat_map(|(&id, &capacity)| std::iter::repeat_n(id, Args::attempts_for(capacity)))
        .collect();
    let applicant_ids =
        support::seed::applicants(&mut conn, &format!("rush-{:08x}", rand::random::<u32>()), targets.len())?;

    let keys =
        Keys::new(&settings.jwt, &Secret::new(PUBLIC_SECRET.into()), &Secret::new(STAFF_SECRET.into()));
    let now = Utc::now();
    let mut jobs = applicant_ids
        .into_iter()
        .zip(targets)
        .map(|(applicant_id, slot_id)| {
            let (token, _) = keys.issue(Audience::Public, &applicant_id.to_string(), 1, now)?;
            Ok(Job { applicant_id, token, slot_id })
        })
        .collect::<anyhow::Result<Vec<Job>>>()?;
    // Arrivals in random order; the per-slot counts, and so the expected outcome, stay fixed.
    jobs.shuffle(&mut rand::rng());
    Ok(Rush { slots: slot_ids.into_iter().zip(capacities).collect(), jobs })
}

/// The first `count` bookable MEX/notarial slots starting more than two days from now, well
/// clear of the minimum notice.
fn pick_slots(conn: &mut DbConn, settings: &Settings, count: usize) -> anyhow::Result<Vec<i64>> {
    let now = Utc::now().naive_utc();
    let earliest = now + chrono::Duration::days(2);
    let latest = now + chrono::Duration::days(i64::from(settings.booking.horizon_days));
    let found = slots::bookable(
        conn,
        POST,
        SERVICE,
        earliest.date() - chrono::Duration::days(1),
        latest.date() + chrono::Duration::days(1),
        earliest,
        latest,
    )?;
    ensure!(found.len() >= count, "only {} bookable {POST}/{SERVICE} slots, {count} wanted", found.len());
    Ok(found.into_iter().take(count).map(|s| s.id).collect())
}

/// Releases the seats: sets the rush slots' capacities (and the seats they offer) in one
/// transaction.
fn release(pool: &Pool, rush: &Rush) -> anyhow::Result<()> {
    let mut conn = pool.get().context("no database connection to release seats")?;
    write_transaction(&mut conn, |c| {
        for &(id, capacity) in &rush.slots {
            diesel::update(slots_t::table.find(id))
                .set((slots_t::capacity.eq(capacity), slots_t::offered.eq(capacity)))
                .execute(c)?;
        }
        QueryResult::Ok(())
    })
    .context("cannot release the seats")
}

// ---------------------------------------------------------------------------------------------
// Measuring

/// How one booking attempt ended.
enum Attempt {
    Booked,
    SlotFull,
    /// Anything else, keyed by status and problem code; `detail` is shown once per key.
    Other {
        key: String,
        detail: String,
    },
}

impl Attempt {
    /// Counts this attempt, a booking as good and a full slot as an expected refusal.
    fn record(self, tally: &mut Tally, latency: Duration) {
        tally.latencies.push(latency);
        match self {
            Attempt::Booked => tally.ok += 1,
            Attempt::SlotFull => tally.refused += 1,
            Attempt::Other { key, detail } => tally.record_unexpected(key, &detail),
        }
    }
}

/// Books every job through `POST /api/v1/appointments` with `clients` concurrent tasks
/// pulling from one queue.
async fn http_rush(client: &awc::Client, base: &str, jobs: Vec<Job>, clients: usize) -> Load {
    let url = format!("{base}/api/v1/appointments");
    let queue = RefCell::new(jobs);
    let started = Instant::now();
    let tallies = join_all((0..clients).map(|_| async {
        let mut tally = Tally::default();
        loop {
            // Take the job in its own statement: no borrow may live across an await.
            let next = queue.borrow_mut().pop();
            let Some(job) = next else { break };
            let sent = Instant::now();
            let attempt = book_over_http(client, &url, &job).await;
            attempt.record(&mut tally, sent.elapsed());
        }
        tally
    }))
    .await;
    let elapsed = started.elapsed();
    tallies.into_iter().fold(Tally::default(), Tally::merge).finish(elapsed)
}

/// One booking request, read to the end and classified.
async fn book_over_http(client: &awc::Client, url: &str, job: &Job) -> Attempt {
    let body = json!({
        "slot_id": job.slot_id,
        "applicants": [{"given_names": "Ana", "surname": "López"}],
    });
    let sent = client
        .post(url)
        .insert_header((header::AUTHORIZATION, format!("Bearer {}", job.token)))
        .send_json(&body)
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) => return Attempt::Other { key: "transport error".into(), detail: e.to_string() },
    };
    let status = response.status().as_u16();
    let body = match response.body().limit(1 << 20).await {
        Ok(body) => body,
        Err(e) => return Attempt::Other { key: format!("{status} unreadable body"), detail: e.to_string() },
    };
    let code = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .unwrap_or_default();
    match (status, code.as_str()) {
        (201, _) => Attempt::Booked,
        (409, "slot_full") => Attempt::SlotFull,
        _ => Attempt::Other {
            key: format!("{status} {code}"),
            detail: String::from_utf8_lossy(&body).into_owned(),
        },
    }
}

/// `clients` tasks requesting the MEX/notarial availability of the next 30 days until `for_`
/// has passed. Tallies a 200 as good.
async fn availability_load(client: &awc::Client, base: &str, clients: usize, for_: Duration) -> Load {
    let today = Utc::now().date_naive();
    let to = today + chrono::Duration::days(30);
    let url = format!("{base}/api/v1/posts/{POST}/availability?service={SERVICE}&from={today}&to={to}");
    let deadline = Instant::now() + for_;
    get_load(client, &url, Expect::Any, clients, &|| Instant::now() >= deadline).await
}
/// What a direct booking runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direct {
    /// The booking transaction alone: the ceiling.
    Book,
    /// The per-applicant and per-address attempt counter first, as the HTTP handler does.
    CountThenBook,
}

/// The ceiling: the same booking transaction from `clients` OS threads sharing `pool`.
fn direct_rush(
    pool: &Pool,
    booking: &BookingSettings,
    direct: Direct,
    jobs: Vec<Job>,
    clients: usize,
) -> Load {
    let rules = Rules::from(booking);
    let queue = Mutex::new(jobs);
    let started = Instant::now();
    let tally = thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| {
                    let mut tally = Tally::default();
                    loop {
                        let next = queue.lock().expect("job queue lock poisoned").pop();
                        let Some(job) = next else { break };
                        let sent = Instant::now();
                        let attempt = book_directly(pool, booking, &rules, direct, &job);
                        attempt.record(&mut tally, sent.elapsed());
                    }
                    tally
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a booking thread panicked"))
            .fold(Tally::default(), Tally::merge)
    });
    tally.finish(started.elapsed())
}

/// One booking through the library, classified like its HTTP answer would be.
fn book_directly(
    pool: &Pool,
    booking: &BookingSettings,
    rules: &Rules,
    direct: Direct,
    job: &Job,
) -> Attempt {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => return Attempt::Other { key: "pool timeout".into(), detail: e.to_string() },
    };
    let request = BookingRequest {
        slot_id: job.slot_id,
        applicants: vec![PersonInput {
            given_names: "Ana".into(),
            surname: "López".into(),
            date_of_birth: None,
        }],
        phone: None,
    };
    let now = Utc::now().naive_utc();
    let booked = match direct {
        Direct::Book => Ok(()),
        // The handler's client address, for every client: the benchmark runs on loopback.
        Direct::CountThenBook => {
            booking::count_attempt(&mut conn, booking, job.applicant_id, "127.0.0.1", now)
        }
    }
    .and_then(|()| {
        appointments::book(&mut conn, rules, &Actor::Applicant(job.applicant_id), &request, None, now)
    });
    match booked {
        Ok(_) => Attempt::Booked,
        Err(e) if e.code() == Code::SlotFull => Attempt::SlotFull,
        Err(e) => Attempt::Other {
            key: format!("{} {}", e.code().status(), e.code().as_str()),
            detail: match &e {
                AppError::Internal(source) => format!("{source:#}"),
                other => other.to_string(),
            },
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Verification

/// What the database says after a rush.
struct Integrity {
    /// Slots with `booked > capacity`: must be 0.
    overbooked: i64,
    /// Slots whose `booked` differs from the seats of their `booked` appointments: must be 0.
    miscounted: i64,
    /// Appointments with status `booked`: must equal the successful bookings.
    appointments: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `SELECT COUNT(*) AS n ...` on whichever backend `conn` is.
fn count(conn: &mut DbConn, sql: &str) -> QueryResult<i64> {
    let row: Count = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).get_result(c)?,
        DbConn::Postgres(c) => diesel::sql_query(sql).get_result(c)?,
    };
    Ok(row.n)
}

/// Checks every slot of the database, not just the rush's.
fn verify(pool: &Pool) -> anyhow::Result<Integrity> {
    let mut conn = pool.get().context("no database connection to verify")?;
    let overbooked = count(&mut conn, "SELECT COUNT(*) AS n FROM slots WHERE booked > capacity")?;
    let miscounted = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM slots s \
         LEFT JOIN (SELECT slot_id, SUM(party_size) AS seats FROM appointments \
                    WHERE status = 'booked' GROUP BY slot_id) a ON a.slot_id = s.id \
         WHERE s.booked <> COALESCE(a.seats, 0)",
    )?;
    let appointments = count(&mut conn, "SELECT COUNT(*) AS n FROM appointments WHERE status = 'booked'")?;
    Ok(Integrity { overbooked, miscounted, appointments })
}

// ---------------------------------------------------------------------------------------------
// Running one backend

/// One rush and what the database said afterwards.
struct Run {
    outcome: Load,
    check: Integrity,
}

/// Everything measured on one backend.
struct BackendReport {
    name: &'static str,
    seats: usize,
    attempts: usize,
    availability: Load,
    http: Run,
    /// The ceiling: the booking transaction alone.
    direct: Run,
    /// The ceiling plus the attempt counter the HTTP handler runs before each booking.
    counted: Run,
}

impl BackendReport {
    /// What went wrong, if anything: overbooking, miscounts, unexpected answers or counts.
    fn failures(&self) -> Vec<String> {
        let mut found = Vec::new();
        let expected_full = self.attempts - self.seats;
        let runs = [("HTTP", &self.http), ("direct", &self.direct), ("direct+counter", &self.counted)];
        for (run, Run { outcome, check }) in runs {
            let t = &outcome.tally;
            let mut fail = |what: String| found.push(format!("{} {run}: {what}", self.name));
            if check.overbooked != 0 {
                fail(format!("{} overbooked slots", check.overbooked));
            }
            if check.miscounted != 0 {
                fail(format!("{} slots whose booked differs from their appointments", check.miscounted));
            }
            if t.ok != self.seats || t.refused != expected_full {
                fail(format!(
                    "{} booked and {} slot_full, expected {} and {expected_full}",
                    t.ok, t.refused, self.seats
                ));
            }
            if usize::try_from(check.appointments).ok() != Some(t.ok) {
                fail(format!("{} appointments stored for {} bookings", check.appointments, t.ok));
            }
            for (key, n) in &t.unexpected {
                fail(format!("{n} × {key}"));
            }
        }
        for (key, n) in &self.availability.tally.unexpected {
            found.push(format!("{} availability: {n} × {key}", self.name));
        }
        found
    }
}

/// Availability load and HTTP rush on one fresh database, each direct rush on another.
fn measure_backend(kind: &DbKind, args: &Args) -> anyhow::Result<BackendReport> {
    let (availability, http, seats, attempts) = http_measurement(kind, args)?;
    Ok(BackendReport {
        name: kind.name(),
        seats,
        attempts,
        availability,
        http,
        direct: direct_measurement(kind, args, Direct::Book)?,
        counted: direct_measurement(kind, args, Direct::CountThenBook)?,
    })
}

/// Starts the server on a fresh database, runs the availability load, releases the seats and
/// runs the HTTP rush. Returns the availability load, the rush, the seats and the attempts.
fn http_measurement(kind: &DbKind, args: &Args) -> anyhow::Result<(Load, Run, usize, usize)> {
    let db = kind.fresh()?;
    let settings = settings(db.url(), args.pool_size)?;
    let server = ServerThread::start(settings.clone())?;
    // A small pool of the benchmark's own for setup and checks; the server has its own.
    let pool = db::build_pool(&settings.database_url, 2)?;
    let rush = setup(&pool, &settings, args)?;
    let (seats, attempts) = (rush.seats(), rush.jobs.len());

    let base = server.base_url();
    let (availability, outcome) = actix_web::rt::System::new().block_on(async {
        let client = http_client(args.clients);
        eprintln!("  availability load, {} s", args.availability_secs);
        let for_ = Duration::from_secs(args.availability_secs);
        let availability = availability_load(&client, &base, args.clients, for_).await;
        release(&pool, &rush)?;
        eprintln!("  HTTP rush: {attempts} attempts for {seats} seats");
        let outcome = http_rush(&client, &base, rush.jobs, args.clients).await;
        anyhow::Ok((availability, outcome))
    })?;
    let check = verify(&pool)?;
    drop(pool);
    server.stop()?;
    Ok((availability, Run { outcome, check }, seats, attempts))
}

/// The same rush without HTTP, on a fresh database set up the same way.
fn direct_measurement(kind: &DbKind, args: &Args, direct: Direct) -> anyhow::Result<Run> {
    let db = kind.fresh()?;
    let settings = settings(db.url(), args.pool_size)?;
    let (pool, _keys, _backend) = startup::prepare_database(&settings)?;
    let rush = setup(&pool, &settings, args)?;
    release(&pool, &rush)?;
    eprintln!("  direct rush ({direct:?}): {} attempts", rush.jobs.len());
    let outcome = direct_rush(&pool, &settings.booking, direct, rush.jobs, args.clients);
    Ok(Run { outcome, check: verify(&pool)? })
}

// ---------------------------------------------------------------------------------------------
// Report

fn latencies(o: &Load) -> String {
    format!("{:.1} / {:.1}", o.percentile_ms(0.50), o.percentile_ms(0.99))
}

fn counts(o: &Load) -> String {
    format!("{} / {} / {}", o.tally.ok, o.tally.refused, o.unexpected())
}

fn checks(c: &Integrity) -> String {
    format!("{} / {}", c.overbooked, c.miscounted)
}

/// Bookings per second of `run` as a share of `ceiling`'s.
fn ratio(run: &Load, ceiling: &Load) -> String {
    format!("{:.0} %", 100.0 * run.ok_per_second() / ceiling.ok_per_second())
}

/// Prints one column per backend.
fn print_report(args: &Args, reports: &[BackendReport]) {
    let capacities = args.capacities();
    let (min_cap, max_cap) =
        (capacities.iter().min().copied().unwrap_or(0), capacities.iter().max().copied().unwrap_or(0));
    let capacity = if min_cap == max_cap {
        format!("capacity {min_cap}")
    } else {
        format!("capacity {min_cap}-{max_cap}")
    };
    let attempts = reports.first().map_or(0, |r| r.attempts);
    println!();
    println!(
        "booking rush: {} seats in {} {POST}/{SERVICE} slots ({capacity}), {attempts} attempts \
         (one fresh applicant each), {} clients, pool {}",
        args.seats, args.slots, args.clients, args.pool_size
    );
    println!();

    type Row = (&'static str, fn(&BackendReport) -> String);
    let rows: Vec<Row> = vec![
        ("HTTP bookings/s (201s per second)", |r| format!("{:.0}", r.http.outcome.ok_per_second())),
        ("HTTP booking requests/s", |r| format!("{:.0}", r.http.outcome.per_second())),
        ("HTTP booking p50 latency (ms)", |r| format!("{:.1}", r.http.outcome.percentile_ms(0.50))),
        ("HTTP booking p99 latency (ms)", |r| format!("{:.1}", r.http.outcome.percentile_ms(0.99))),
        ("HTTP rush wall time (s)", |r| format!("{:.2}", r.http.outcome.elapsed.as_secs_f64())),
        ("201 created / expected", |r| format!("{} / {}", r.http.outcome.tally.ok, r.seats)),
        ("409 slot_full / expected", |r| {
            format!("{} / {}", r.http.outcome.tally.refused, r.attempts - r.seats)
        }),
        ("other answers", |r| r.http.outcome.unexpected().to_string()),
        ("overbooked slots (booked > capacity)", |r| r.http.check.overbooked.to_string()),
        ("slots with booked != sum(party_size)", |r| r.http.check.miscounted.to_string()),
        ("direct-DB bookings/s (ceiling)", |r| format!("{:.0}", r.direct.outcome.ok_per_second())),
        ("direct-DB p50 / p99 latency (ms)", |r| latencies(&r.direct.outcome)),
        ("direct-DB booked / slot_full / other", |r| counts(&r.direct.outcome)),
        ("direct-DB overbooked / miscounted slots", |r| checks(&r.direct.check)),
        ("HTTP / ceiling", |r| ratio(&r.http.outcome, &r.direct.outcome)),
        ("direct-DB + attempt counter bookings/s", |r| format!("{:.0}", r.counted.outcome.ok_per_second())),
        ("  p50 / p99 latency (ms)", |r| latencies(&r.counted.outcome)),
        ("  booked / slot_full / other", |r| counts(&r.counted.outcome)),
        ("  overbooked / miscounted slots", |r| checks(&r.counted.check)),
        ("HTTP / (ceiling + attempt counter)", |r| ratio(&r.http.outcome, &r.counted.outcome)),
        ("availability requests/s", |r| format!("{:.0}", r.availability.ok_per_second())),
        ("availability p50 / p99 latency (ms)", |r| latencies(&r.availability)),
        ("availability non-200 answers", |r| r.availability.unexpected().to_string()),
    ];

    let label_width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let cells: Vec<Vec<String>> = rows.iter().map(|(_, cell)| reports.iter().map(cell).collect()).collect();
    let column_width = cells
        .iter()
        .flatten()
        .map(String::len)
        .chain(reports.iter().map(|r| r.name.len()))
        .max()
        .unwrap_or(0)
        .max(10);

    let header: String = reports.iter().map(|r| format!("  {:>column_width$}", r.name)).collect();
    println!("{:label_width$}{header}", "");
    println!("{}", "-".repeat(label_width + (column_width + 2) * reports.len()));
    for ((label, _), row) in rows.iter().zip(&cells) {
        let values: String = row.iter().map(|v| format!("  {v:>column_width$}")).collect();
        println!("{label:label_width$}{values}");
    }
    println!();
}
