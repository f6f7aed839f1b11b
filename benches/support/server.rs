//! The application under load: the optimized server binary as a child process (so its memory
//! is its own), or in process on a thread of its own (so a benchmark can also call the library
//! beside it); and the admin the HTTP benchmarks sign in as.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use anyhow::{bail, ensure, Context};
use consular_desk::config::Settings;
use consular_desk::startup::Application;

use super::db::{postgres_from_env, BenchDb};
use super::memory::{self, Memory};

/// The password of `bench.admin` (and of any staff a benchmark creates).
pub const PASSWORD: &str = "benchmark passphrase";

/// The throttles, each raised to the largest value the server accepts for it: every client
/// connects from 127.0.0.1, so none of them may bind.
pub const THROTTLES_RAISED: [(&str, &str); 6] = [
    ("CONSULAR_DESK_LOGIN_MAX_FAILURES", "1000"),
    ("CONSULAR_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS", "100000"),
    ("CONSULAR_DESK_LOGIN_ACCOUNT_CEILING", "1000000"),
    ("CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", "1000000"),
    ("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR_PER_ADDRESS", "1000000"),
    // The benchmarks' applicants book right after signing up (the mail bench measures mail).
    ("CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL", "false"),
];

/// The server binary running as a child process; killed when dropped (then its database, if
/// it owns one, is dropped too), also if the benchmark fails half-way.
pub struct Server {
    child: Child,
    pub base: String,
    /// Where its output goes, when not to this process's stderr.
    log: Option<PathBuf>,
    /// Declared last so it drops after the server is killed.
    db: Option<BenchDb>,
}

impl Server {
    /// Creates `bench.admin` and starts the server with `env` on a fresh database named after
    /// `name` (SQLite, or on `BENCH_DATABASE_URL`'s PostgreSQL server).
    pub fn start(name: &str, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let db = BenchDb::fresh(postgres_from_env().as_deref(), name)?;
        create_admin(db.url())?;
        let mut server = Server::spawn(db.url(), env, None)?;
        server.db = Some(db);
        Ok(server)
    }

    /// Starts the server with `env` on the database `db_url` as it is; its log (JSON, WARN and
    /// above) goes to this process's stderr.
    pub fn on(db_url: &str, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        Server::spawn(db_url, env, None)
    }

    /// As [`on`](Self::on), with the server's output going to the file `log`.
    pub fn logging_to(db_url: &str, env: &[(&str, &str)], log: &Path) -> anyhow::Result<Server> {
        Server::spawn(db_url, env, Some(log))
    }

    /// Starts the binary on `db_url` and a free loopback port.
    fn spawn(db_url: &str, env: &[(&str, &str)], log: Option<&Path>) -> anyhow::Result<Server> {
        let port = free_port()?;
        let mut command = Command::new(env!("CARGO_BIN_EXE_consular-desk"));
        command
            .env("DATABASE_URL", db_url)
            .env("CONSULAR_DESK_BIND", format!("127.0.0.1:{port}"))
            .env("CONSULAR_DESK_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            // Its messages go to the system's temporary folder, not the checkout (a bench that
            // measures mail sets its own).
            .env(
                "CONSULAR_DESK_MAIL_DIR",
                std::env::temp_dir().join(format!("consular-desk-bench-mail-{port}")),
            )
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        match log {
            Some(path) => {
                let output = File::create(path).context("cannot create the server log file")?;
                let errors = output.try_clone().context("cannot share the server log file")?;
                command.stdout(output).stderr(errors);
            }
            None => {
                command.stdout(Stdio::null());
            }
        }
        let child = command.spawn().context("cannot start the server binary")?;
        Ok(Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log: log.map(Path::to_path_buf),
            db: None,
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait().context("cannot query the server process")? {
            Some(status) => bail!("the server exited unexpectedly ({status})"),
            None => Ok(()),
        }
    }

    /// Polls `GET /readyz` until it answers 200; returns how long that took from now. Fails at
    /// once if the server exits.
    pub async fn wait_ready(&mut self, client: &awc::Client) -> anyhow::Result<Duration> {
        let base = self.base.clone();
        wait_ready(client, &base, &mut || self.ensure_running()).await
    }

    /// The process's memory right now.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        Memory::of(self.pid())
    }

    /// Starts the server's peak-memory count again (`VmHWM`), so one run can measure two loads.
    pub fn reset_peak_memory(&self) -> std::io::Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")
    }

    /// `VmHWM` of the server, e.g. `61.2 MiB`.
    pub fn peak_memory(&self) -> Option<String> {
        memory::peak_of(self.pid())
    }

    /// Checks the server survived the run, then kills it.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.ensure_running()?;
        self.child.kill().context("cannot kill the server")?;
        self.child.wait().context("cannot reap the server")?;
        Ok(())
    }

    /// The server's log file so far; empty when it logs to stderr.
    fn log_text(&self) -> String {
        self.log.as_ref().and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default()
    }

    /// Log lines at WARN or ERROR (JSON lines carry `"level":"WARN"`).
    pub fn log_lines_at_warn_or_above(&self) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains("\"level\":\"WARN\"") || l.contains("\"level\":\"ERROR\""))
            .count()
    }

    /// The last `lines` of the log file to stderr, to see why a run failed.
    pub fn print_log_tail(&self, lines: usize) {
        let Some(path) = &self.log else { return };
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        eprintln!("{}: last lines of the server log ({}):", env!("CARGO_CRATE_NAME"), path.display());
        for line in &all[all.len().saturating_sub(lines)..] {
            eprintln!("  {line}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already gone after `stop`; then both calls fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now (the kernel's pick for port 0).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr().context("cannot read the free port")?.port())
}

/// Polls `GET {base}/readyz` every 10 ms until it answers 200, for 60 s at most, calling
/// `alive` before each try; returns how long that took.
async fn wait_ready(
    client: &awc::Client,
    base: &str,
    alive: &mut dyn FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let url = format!("{base}/readyz");
    loop {
        alive()?;
        if let Ok(response) = client.get(&url).send().await {
            if response.status().as_u16() == 200 {
                return Ok(started.elapsed());
            }
        }
        ensure!(started.elapsed() < Duration::from_secs(60), "the server was not ready within 60 s");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
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

/// Waits for `/readyz`, signs the admin in and returns its token.
pub async fn admin_token(client: &awc::Client, base: &str) -> anyhow::Result<String> {
    wait_ready(client, base, &mut || Ok(())).await?;
    let body = serde_json::json!({"username": "bench.admin", "password": PASSWORD});
    let mut response = client
        .post(format!("{base}/api/v1/staff/auth/login"))
        .send_json(&body)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let signed: serde_json::Value = response.json().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(signed["token"].as_str().context("no token")?.to_string())
}

/// The application in this process, on a thread of its own with its own actix system.
pub struct ServerThread {
    port: u16,
    handle: ServerHandle,
    thread: thread::JoinHandle<std::io::Result<()>>,
}

impl ServerThread {
    pub fn start(settings: Settings) -> anyhow::Result<ServerThread> {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                // `build` spawns the maintenance task, so it must run inside the system.
                let app = match Application::build(settings) {
                    Ok(app) => app,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return Ok(());
                    }
                };
                let port = app.port();
                let server = app.server();
                let _ = tx.send(Ok((port, server.handle())));
                server.await
            })
        });
        let (port, handle) = rx
            .recv()
            .context("the server thread ended before starting")?
            .context("the application did not start")?;
        Ok(ServerThread { port, handle, thread })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops at once: every request has been answered by now.
    pub fn stop(self) -> anyhow::Result<()> {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        match self.thread.join() {
            Ok(result) => result.context("the server failed"),
            Err(_) => bail!("the server thread panicked"),
        }
    }
}
