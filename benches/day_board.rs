//! The day board under the windows' refresh: the optimized server binary runs as a child
//! process on a fresh SQLite database (or `BENCH_DATABASE_URL`'s PostgreSQL server); an admin
//! created with the real `create-staff` opens MEX notarial around the clock; `--visits` visits
//! of today are made through HTTP (walk-ins, each with its ticket); then
//! `--clients` clients (the windows) read `GET /api/v1/staff/posts/MEX/day` back to back for
//! `--secs` seconds. Prints requests/s, latency p50/p99/max, and the server's peak resident
//! memory (`VmHWM`). Fails on any answer but 200, or a board without every visit.
//!
//! ```text
//! cargo bench --bench day_board
//! cargo bench --bench day_board -- --visits 400 --clients 10 --secs 10
//! ```

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 400)]
    visits: usize,
    #[arg(long, default_value_t = 10)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

const PASSWORD: &str = "benchmark passphrase";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let admin_url = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
    let (db_url, pg_name) = match &admin_url {
        Some(url) => fresh_postgres(url)?,
        None => (format!("sqlite://{}", dir.path().join("board.db").display()), String::new()),
    };
    let cli = |args: &[&str], stdin: &str| -> anyhow::Result<()> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
            .args(args)
            .env("DATABASE_URL", &db_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        if let Some(mut pipe) = child.stdin.take() {
            use std::io::Write;
            writeln!(pipe, "{stdin}")?;
        }
        ensure!(child.wait()?.success(), "consular-desk {args:?} failed");
        Ok(())
    };
    cli(&["create-staff", "--username", "bench.admin", "--role", "admin", "--password-stdin"], PASSWORD)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_consular-desk"))
            .env("DATABASE_URL", &db_url)
            .env("CONSULAR_DESK_BIND", format!("127.0.0.1:{port}"))
            .env("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")
            .env("CONSULAR_DESK_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start the server binary")?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let outcome = actix_web::rt::System::new().block_on(run(&args, &base));
    let peak = peak_memory(server.0.id());
    drop(server);
    if let Some(url) = &admin_url {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(url)?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")).execute(&mut conn)?;
    }
    let (rate, p50, p99, max, requests) = outcome?;
    println!("day board, {} visits, {} clients, {} s", args.visits, args.clients, args.secs);
    println!("  requests/s            {rate:.0} ({requests} requests, all 200 with every visit)");
    println!("  latency p50 / p99 / max  {p50:.1} / {p99:.1} / {max:.1} ms");
    println!("  server peak resident memory (VmHWM)  {}", peak.unwrap_or_else(|| "unknown".into()));
    Ok(())
}

/// Kills the server if the benchmark fails half-way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn run(args: &Args, base: &str) -> anyhow::Result<(f64, f64, f64, f64, usize)> {
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(args.clients * 2))
        .timeout(Duration::from_secs(30))
        .finish();
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
        ensure!(started.elapsed() < Duration::from_secs(60), "the server was not ready within 60 s");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let post = |path: String, token: Option<String>, body: Value| {
        let client = client.clone();
        async move {
            let mut request = client.post(path);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let mut response = request.send_json(&body).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let status = response.status().as_u16();
            let body: Value = response.json().limit(1 << 24).await.unwrap_or(Value::Null);
            anyhow::Ok((status, body))
        }
    };
    let (_, signed) = post(
        format!("{base}/api/v1/staff/auth/login"),
        None,
        json!({"username": "bench.admin", "password": PASSWORD}),
    )
    .await?;
    let token = signed["token"].as_str().context("no token")?.to_string();
    let week = json!({"service": "notarial", "openings": [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "23:59", "slot_minutes": 30, "capacity": 50}]});
    let mut response = client
        .put(format!("{base}/api/v1/admin/posts/MEX/schedules"))
        .bearer_auth(&token)
        .send_json(&week)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(response.status().as_u16() == 200, "schedule: {:?}", response.body().await);

    // Today's visits: walk-ins for two lines, as a busy morning's board holds.
    let made = futures_util::future::join_all((0..args.visits).map(|i| {
        let (post, token, base) = (&post, token.clone(), base.to_string());
        let service = if i % 2 == 0 { "notarial" } else { "crba" };
        let person = json!({"given_names": format!("Persona {i}"), "surname": "Núñez"});
        let body = json!({"service": service, "reason": "emergency", "applicant": person});
        async move { post(format!("{base}/api/v1/staff/posts/MEX/walk-ins"), Some(token), body).await }
    }))
    .await;
    for result in made {
        let (status, body) = result?;
        ensure!(status == 201, "a visit was not made: {status} {body}");
    }

    let deadline = Instant::now() + Duration::from_secs(args.secs);
    let readers = (0..args.clients).map(|_| {
        let (client, token, base) = (client.clone(), token.clone(), base.to_string());
        let expected = args.visits;
        async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let mut response = client
                    .get(format!("{base}/api/v1/staff/posts/MEX/day"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let body: Value = response.json().limit(1 << 24).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                latencies.push(sent.elapsed());
                let visits = body["visits"].as_array().map(Vec::len).unwrap_or(0);
                if response.status().as_u16() != 200 || visits < expected {
                    bail!("the board answered {} with {visits} visits", response.status());
                }
            }
            anyhow::Ok(latencies)
        }
    });
    let measured = Instant::now();
    let mut all = Vec::new();
    for latencies in futures_util::future::join_all(readers).await {
        all.extend(latencies?);
    }
    let elapsed = measured.elapsed().as_secs_f64();
    all.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1))).copied();
    Ok((
        all.len() as f64 / elapsed,
        at(0.5).map(ms).unwrap_or(0.0),
        at(0.99).map(ms).unwrap_or(0.0),
        all.last().copied().map(ms).unwrap_or(0.0),
        all.len(),
    ))
}

/// `VmHWM` of process `pid`, e.g. `61.2 MiB`.
fn peak_memory(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!("{:.1} MiB", kib / 1024.0))
}

/// A fresh database on the PostgreSQL server `url` names: its URL and its name.
fn fresh_postgres(url: &str) -> anyhow::Result<(String, String)> {
    use diesel::{Connection, RunQueryDsl};
    let name = format!("bench_board_{:08x}", rand::random::<u32>());
    let mut conn = diesel::PgConnection::establish(url)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn)?;
    let (head, _) = url.rsplit_once('/').context("a postgres:// URL with a database")?;
    Ok((format!("{head}/{name}"), name))
}
