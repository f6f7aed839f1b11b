//! What the HTTP benchmarks share: the optimized server binary as a child process on a fresh
//! database (SQLite, or `BENCH_DATABASE_URL`'s PostgreSQL server), an admin made with the real
//! `create-staff`, and the server's peak resident memory.
// Each benchmark is its own crate and uses only part of this.
#![allow(dead_code)]

pub mod seed;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};

pub const PASSWORD: &str = "benchmark passphrase";

/// The server binary running on a database of its own; killed (and its PostgreSQL database
/// dropped) when dropped, also if the benchmark fails half-way.
pub struct Server {
    child: Child,
    pub base: String,
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Creates `bench.admin` and starts the server with `env` on a fresh database.
    pub fn start(name: &str, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        let admin_url = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
        let (db_url, pg) = match &admin_url {
            Some(url) => {
                let (db_url, db_name) = fresh_postgres(url, name)?;
                (db_url, Some((url.clone(), db_name)))
            }
            None => (format!("sqlite://{}", dir.path().join(format!("{name}.db")).display()), None),
        };
        create_admin(&db_url)?;
        let mut server = Server::on(&db_url, env, Some(dir))?;
        server.pg = pg;
        Ok(server)
    }

    /// Starts the server with `env` on the database `db_url` as it is.
    pub fn on(db_url: &str, env: &[(&str, &str)], dir: Option<tempfile::TempDir>) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_consular-desk"));
        command
            .env("DATABASE_URL", db_url)
            .env("CONSULAR_DESK_BIND", format!("127.0.0.1:{port}"))
            .env("CONSULAR_DESK_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().context("cannot start the server binary")?;
        let dir = match dir {
            Some(dir) => dir,
            None => tempfile::tempdir()?,
        };
        Ok(Server { child, base: format!("http://127.0.0.1:{port}"), pg: None, _dir: dir })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts the server's peak-memory count again (`VmHWM`), so one run can measure two loads.
    pub fn reset_peak_memory(&self) -> std::io::Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
    }

    /// `VmHWM` of the server, e.g. `61.2 MiB`.
    pub fn peak_memory(&self) -> Option<String> {
        peak_memory_of(&self.child.id().to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((url, name)) = &self.pg {
            use diesel::{Connection, RunQueryDsl};
            if let Ok(mut conn) = diesel::PgConnection::establish(url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// Creates `bench.admin` with the real `create-staff` (which also migrates the database).
pub fn create_admin(db_url: &str) -> anyhow::Result<()> {
    let mut create = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
        .args(["create-staff", "--username", "bench.admin", "--role", "admin", "--password-stdin"])
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    if let Some(mut pipe) = create.stdin.take() {
        use std::io::Write;
        writeln!(pipe, "{PASSWORD}")?;
    }
    ensure!(create.wait()?.success(), "create-staff failed");
    Ok(())
}

/// `VmHWM` of this process.
pub fn own_peak_memory() -> Option<String> {
    peak_memory_of("self")
}

fn peak_memory_of(pid: &str) -> Option<String> {
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
pub fn fresh_postgres(url: &str, prefix: &str) -> anyhow::Result<(String, String)> {
    use diesel::{Connection, RunQueryDsl};
    let name = format!("bench_{prefix}_{:08x}", rand::random::<u32>());
    let mut conn = diesel::PgConnection::establish(url)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn)?;
    let (head, _) = url.rsplit_once('/').context("a postgres:// URL with a database")?;
    Ok((format!("{head}/{name}"), name))
}

/// Waits for `/readyz`, signs the admin in and returns its token.
pub async fn admin_token(client: &awc::Client, base: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
        ensure!(started.elapsed() < Duration::from_secs(60), "the server was not ready within 60 s");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let body = serde_json::json!({"username": "bench.admin", "password": PASSWORD});
    let mut response = client
        .post(format!("{base}/api/v1/staff/auth/login"))
        .send_json(&body)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let signed: serde_json::Value = response.json().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(signed["token"].as_str().context("no token")?.to_string())
}

/// Latencies sorted, as (p50, p99, max) in milliseconds.
pub fn percentiles(latencies: &mut [Duration]) -> (f64, f64, f64) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| {
        latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1))).copied()
    };
    (
        at(0.5).map(ms).unwrap_or(0.0),
        at(0.99).map(ms).unwrap_or(0.0),
        latencies.last().copied().map(ms).unwrap_or(0.0),
    )
}
