//! The test harness: every test gets its own app on port 0 and its own database, so tests run
//! in parallel. `TEST_DATABASE_URL=postgres://…` runs the suite on PostgreSQL (a fresh database
//! per test, dropped afterwards); without it the suite runs on SQLite and says so.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Once;

use actix_web::dev::ServerHandle;
use chrono::{DateTime, Utc};
use consular_desk::clock::Clock;
use consular_desk::config::Settings;
use consular_desk::startup::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};

pub const PUBLIC_SECRET: &str = "test-public-secret-0123456789abcdef0123456789";
pub const STAFF_SECRET: &str = "test-staff-secret-0123456789abcdef01234567890";
pub const STAFF_PASSWORD: &str = "staff passphrase 1";

static ANNOUNCE: Once = Once::new();

/// Where the test databases live.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))
}

fn announce_backend() {
    ANNOUNCE.call_once(|| {
        // Written to the real stderr, past libtest's capture, so a developer sees it once.
        let line = match postgres_admin_url() {
            Some(_) => "consular-desk tests: running against PostgreSQL (TEST_DATABASE_URL)\n",
            None => "consular-desk tests: TEST_DATABASE_URL is not set, running against SQLite only\n",
        };
        let _ = std::io::stderr().write_all(line.as_bytes());
    });
}

/// A database of the test's own, removed when dropped.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { admin_url: String, name: String, url: String },
}

impl TestDb {
    pub fn fresh() -> TestDb {
        announce_backend();
        match postgres_admin_url() {
            Some(admin_url) => {
                let name = format!("cd_test_{:016x}", rand::random::<u64>());
                let mut conn = PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let url = with_database(&admin_url, &name);
                TestDb::Postgres { admin_url, name, url }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name, .. } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// `postgres://u@h:5432/postgres?x=y` with the database swapped for `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

/// Who sends a request: a client (bound to some local address) and extra headers.
pub struct Caller<'a> {
    pub client: std::borrow::Cow<'a, awc::Client>,
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Caller<'a> {
    fn default_for(app: &'a TestApp) -> Caller<'a> {
        Caller { client: std::borrow::Cow::Borrowed(&app.client), headers: &[] }
    }

    /// A client whose connections leave from `local`: all of 127/8 is loopback, so one test
    /// can play several client addresses.
    pub fn from(local: &str) -> Caller<'static> {
        let local: std::net::IpAddr = local.parse().expect("local address");
        let client = awc::Client::builder()
            .connector(awc::Connector::new().local_address(local).limit(512))
            .timeout(std::time::Duration::from_secs(60))
            .finish();
        Caller { client: std::borrow::Cow::Owned(client), headers: &[] }
    }

    pub fn with_headers(self, headers: &'a [(&'a str, &'a str)]) -> Caller<'a> {
        Caller { headers, ..self }
    }
}

/// A reply, read whole: status, problem or JSON body, content type and headers.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// The body as text (for CSV and other files).
    pub text: String,
    /// The body as sent (PDFs).
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub headers: actix_web::http::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

pub struct TestApp {
    pub address: String,
    /// The metrics-only listener (`http://127.0.0.1:port`), when the test asked for one.
    pub metrics_address: Option<String>,
    pub db_url: String,
    pub client: awc::Client,
    /// The app's clock: it starts at [`TUESDAY_10_MEX`] and runs on; tests move it.
    pub clock: Clock,
    /// None for a server this process doesn't run (the binary, in `shutdown`).
    handle: Option<ServerHandle>,
}

/// Where every test app's clock starts: Tuesday 8 December 2026, 10:00 in Mexico City
/// (16:00 UTC), a working morning, whatever the day and hour CI runs.
pub fn tuesday_10_mex() -> DateTime<Utc> {
    DateTime::from_timestamp(TUESDAY_10_MEX, 0).unwrap_or_default()
}

/// [`tuesday_10_mex`] in seconds since 1970.
pub const TUESDAY_10_MEX: i64 = 1_796_745_600;

/// Where the test apps' messages go unless a test says otherwise: one folder per test process.
static MAIL_DIR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::temp_dir().join(format!("consular-desk-test-mail-{}", std::process::id())).display().to_string()
});

/// Settings for a test app; `overrides` wins over the defaults (fixed signing secrets, port 0).
/// An override with an empty value unsets a variable.
pub fn settings(db_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", db_url),
        ("CONSULAR_DESK_BIND", "127.0.0.1:0"),
        ("CONSULAR_DESK_PUBLIC_JWT_SECRET", PUBLIC_SECRET),
        ("CONSULAR_DESK_STAFF_JWT_SECRET", STAFF_SECRET),
        ("CONSULAR_DESK_DB_POOL_SIZE", "8"),
        // Two weeks of slots is plenty for tests and keeps start-up quick.
        ("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "14"),
        // Every test client is 127.0.0.1; the throttling tests lower these again.
        ("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR_PER_ADDRESS", "1000000"),
        ("CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", "1000000"),
        // A sign-in counts against its address while its password is being checked, and the
        // race tests sign a hundred people in at once from here.
        ("CONSULAR_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS", "100000"),
        // Race tests sign in a hundred people at once; the shedding test lowers this.
        ("CONSULAR_DESK_HASH_QUEUE", "100000"),
        // Booking tests sign up and book at once; the mail tests (`mail`) confirm addresses
        // with the default rule, unsetting this.
        ("CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL", "false"),
        // Each app writes its messages here unless a test points it elsewhere; nothing reads them.
        ("CONSULAR_DESK_MAIL_DIR", MAIL_DIR.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        env.insert(k.to_string(), v.to_string());
    }
    Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid")
}

/// A fresh app on a fresh database. Keep the returned `TestDb` alive for the test's length.
pub async fn spawn_app() -> (TestApp, TestDb) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    (app, db)
}

/// Another app (a restart, or a second instance) on an existing database.
pub async fn spawn_on(db: &TestDb, overrides: &[(&str, &str)]) -> TestApp {
    spawn_with_clock(db, overrides, Clock::starting_at(tuesday_10_mex())).await
}

/// As [`spawn_on`], on `clock` (a restart keeps the first app's clock).
pub async fn spawn_with_clock(db: &TestDb, overrides: &[(&str, &str)], clock: Clock) -> TestApp {
    let app =
        Application::build_with_clock(settings(db.url(), overrides), clock.clone()).expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_address().map(|a| format!("http://{a}"));
    let server = app.server();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    TestApp { handle: Some(handle), metrics_address, ..TestApp::served_at(address, db.url(), clock) }
}

impl TestApp {
    /// Now on the app's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The helpers for a server that runs elsewhere (the binary), on `db_url`, on `clock`.
    pub fn served_at(address: String, db_url: &str, clock: Clock) -> TestApp {
        TestApp {
            address,
            db_url: db_url.to_string(),
            client: awc::Client::builder()
                .connector(
                    awc::Connector::new().limit(512).conn_keep_alive(std::time::Duration::from_secs(30)),
                )
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
            clock,
            metrics_address: None,
            handle: None,
        }
    }

    pub async fn stop(&self) {
        if let Some(handle) = &self.handle {
            handle.stop(true).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        self.call_as(&Caller::default_for(self), method, path, token, body).await
    }

    /// As [`TestApp::call`], from another client address and with extra headers.
    pub async fn call_as(
        &self,
        caller: &Caller<'_>,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = caller.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        for (k, v) in caller.headers {
            req = req.append_header((*k, *v));
        }
        let resp = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        };
        read(resp.expect("request sent")).await
    }

    /// Sends raw bytes with the given content type and headers.
    pub async fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        read(req.send_body(body).await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.call("POST", path, token, Some(body)).await
    }

    /// Registers an applicant and returns a public token.
    pub async fn applicant_token(&self, email: &str) -> String {
        let password = "applicant passphrase";
        let r = self
            .post(
                "/api/v1/auth/register",
                None,
                &json!({"email": email, "password": password, "full_name": "Ana López"}),
            )
            .await;
        assert_eq!(r.status, 201, "register {email}: {}", r.body);
        let r = self.post("/api/v1/auth/login", None, &json!({"email": email, "password": password})).await;
        assert_eq!(r.status, 200, "login {email}: {}", r.body);
        r.body["token"].as_str().expect("token").to_string()
    }

    /// Creates a staff account through the CLI (as an operator would) and signs it in.
    pub async fn staff_token(&self, username: &str, role: &str, post: Option<&str>) -> String {
        create_staff_cli(&self.db_url, username, role, post, STAFF_PASSWORD).expect("create-staff succeeds");
        self.sign_in_staff(username).await
    }
}

async fn read<S>(mut resp: awc::ClientResponse<S>) -> Reply
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let status = resp.status().as_u16();
    let content_type =
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let headers = resp.headers().clone();
    let bytes = resp.body().limit(64 << 20).await.expect("body read");
    let body =
        if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Reply { status, body, text, bytes: bytes.to_vec(), content_type, headers }
}

/// Runs the real binary's `create-staff`, password on stdin. Returns stdout, or stderr on failure.
pub fn create_staff_cli(
    db_url: &str,
    username: &str,
    role: &str,
    post: Option<&str>,
    password: &str,
) -> Result<String, String> {
    let mut args = vec!["create-staff", "--username", username, "--role", role, "--password-stdin"];
    if let Some(post) = post {
        args.extend(["--post", post]);
    }
    let out = run_cli(db_url, &args, &[], Some(password));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

pub fn run_cli(
    db_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_consular-desk"));
    cmd.args(args)
        .env("DATABASE_URL", db_url)
        .env("CONSULAR_DESK_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("binary starts");
    if let Some(mut pipe) = child.stdin.take() {
        if let Some(input) = stdin {
            let _ = writeln!(pipe, "{input}");
        }
    }
    child.wait_with_output().expect("binary finishes")
}

/// The text of every page of a PDF, in order.
pub fn pdf_pages(bytes: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF");
    doc.get_pages().keys().map(|page| doc.extract_text(&[*page]).expect("its text")).collect()
}

/// The text of a whole PDF.
pub fn pdf_text(bytes: &[u8]) -> String {
    pdf_pages(bytes).concat()
}

/// A connection to the test database, for assertions the API doesn't expose (seat counts).
pub fn db_conn(url: &str) -> consular_desk::db::DbConn {
    let url = consular_desk::config::DatabaseUrl::parse(url).expect("test database URL");
    consular_desk::db::DbConn::open(&url).expect("open the test database")
}

/// Every slot's `booked` must equal the seats of its live appointments plus its unreleased
/// holds, and stay within `0..=capacity`. Returns the slots that break this.
pub fn seat_violations(url: &str) -> Vec<String> {
    use consular_desk::db::schema::{appointments, seat_holds, slots};
    use diesel::prelude::*;
    let mut conn = db_conn(url);
    let all: Vec<(i64, i32, i32)> =
        slots::table.select((slots::id, slots::capacity, slots::booked)).load(&mut conn).expect("slots");
    let live: Vec<(i64, i32)> = appointments::table
        .filter(appointments::status.ne("cancelled"))
        .select((appointments::slot_id, appointments::party_size))
        .load::<(Option<i64>, i32)>(&mut conn)
        .expect("appointments")
        .into_iter()
        .filter_map(|(slot, seats)| Some((slot?, seats)))
        .collect();
    let held: Vec<(i64, i32)> = seat_holds::table
        .filter(seat_holds::released_at.is_null())
        .select((seat_holds::slot_id, seat_holds::seats))
        .load(&mut conn)
        .expect("holds");
    let mut taken: HashMap<i64, i32> = HashMap::new();
    for (slot, seats) in live.into_iter().chain(held) {
        *taken.entry(slot).or_default() += seats;
    }
    all.into_iter()
        .filter_map(|(id, capacity, booked)| {
            let expected = taken.get(&id).copied().unwrap_or(0);
            (booked != expected || booked < 0 || booked > capacity)
                .then(|| format!("slot {id}: booked {booked}, seats taken {expected}, capacity {capacity}"))
        })
        .collect()
}

/// One person of a booking party.
pub fn person(given: &str, surname: &str) -> Value {
    json!({"given_names": given, "surname": surname})
}

impl TestApp {
    /// An admin (created through the CLI), signed in.
    pub async fn admin_token(&self) -> String {
        self.staff_token(&format!("admin.{:x}", rand::random::<u32>()), "admin", None).await
    }

    /// The bookable slots of a post and service (the API's default 30-day window).
    pub async fn slots(&self, post: &str, service: &str) -> Vec<Value> {
        let r = self.get(&format!("/api/v1/posts/{post}/availability?service={service}"), None).await;
        assert_eq!(r.status, 200, "availability: {}", r.body);
        r.body["slots"].as_array().cloned().unwrap_or_default()
    }

    /// Books `slot_id` for `people` people as the applicant holding `token`.
    pub async fn book(&self, token: &str, slot_id: i64, people: usize) -> Reply {
        let party: Vec<Value> = (0..people).map(|i| person(&format!("Person {i}"), "Núñez")).collect();
        self.post("/api/v1/appointments", Some(token), &json!({"slot_id": slot_id, "applicants": party}))
            .await
    }

    /// Replaces one service's week at a post (as an admin).
    pub async fn set_week(&self, admin: &str, post: &str, service: &str, openings: Value) -> Reply {
        let r = self
            .call(
                "PUT",
                &format!("/api/v1/admin/posts/{post}/schedules"),
                Some(admin),
                Some(&json!({"service": service, "openings": openings})),
            )
            .await;
        assert_eq!(r.status, 200, "set week: {}", r.body);
        r
    }

    /// Registers and signs in `n` applicants at once.
    pub async fn applicants(&self, n: usize) -> Vec<String> {
        let tag = rand::random::<u32>();
        futures_util::future::join_all((0..n).map(|i| {
            let email = format!("applicant{i}.{tag:x}@example.mx");
            async move { self.applicant_token(&email).await }
        }))
        .await
    }
}

/// Asserts a problem+json reply with the given status and code.
pub fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "expected {status} {code}, got {} {}", r.status, r.body);
    assert!(r.content_type.starts_with("application/problem+json"), "content type {:?}", r.content_type);
    assert_eq!(r.body["status"], status);
    assert_eq!(r.code(), code, "body: {}", r.body);
}

impl TestApp {
    /// Opens `service` at `post` around the clock (a slot every half hour, every day), so that
    /// a slot always starts within the half hour: the window's tests check people in
    /// whatever the time of day.
    pub async fn open_around_the_clock(&self, admin: &str, post: &str, service: &str) {
        // 30-minute slots up to 23:30, then one of 29 minutes (a closing time is at most 23:59),
        // so a slot starts within the half hour at any time of day, 23:xx included.
        let every_day = [1, 2, 3, 4, 5, 6, 7];
        let week = json!([
            {"weekdays": every_day, "opens": "00:00", "closes": "23:30", "slot_minutes": 30, "capacity": 50},
            {"weekdays": every_day, "opens": "23:30", "closes": "23:59", "slot_minutes": 29, "capacity": 50},
        ]);
        self.set_week(admin, post, service, week).await;
    }

    /// Books the soonest slot of `service` at `post` for someone who phoned (as `clerk`) and
    /// returns the reference: an appointment that can be checked in now.
    pub async fn soon_appointment(&self, clerk: &str, post: &str, service: &str) -> String {
        self.soon_appointment_on(clerk, post, service).await.0
    }

    /// As [`TestApp::soon_appointment`], with the post's local date of the slot (tomorrow's,
    /// late in the evening).
    pub async fn soon_appointment_on(&self, clerk: &str, post: &str, service: &str) -> (String, String) {
        let r = self
            .get(&format!("/api/v1/staff/posts/{post}/availability?service={service}"), Some(clerk))
            .await;
        assert_eq!(r.status, 200, "staff availability: {}", r.body);
        let slot = r.body["slots"][0]["slot_id"].as_i64().expect("a slot soon");
        let booked = self.book_for_caller(clerk, slot, &[crate::client::someone("Ana", "Núñez")]).await;
        let day = booked.starts_at.get(..10).unwrap_or_default().to_string();
        (booked.reference, day)
    }
}

/// The clerk `username` of `post` as the operations see them: for tests that call an operation
/// directly with another clock (a receipt dated on another day).
pub fn clerk_actor(
    conn: &mut consular_desk::db::DbConn,
    username: &str,
    post: &str,
) -> consular_desk::auth::Actor {
    use consular_desk::db::schema::staff;
    use diesel::prelude::*;
    let id: i64 =
        staff::table.filter(staff::username.eq(username)).select(staff::id).first(conn).expect("staff");
    consular_desk::auth::Actor::Staff(consular_desk::auth::StaffMember {
        id,
        username: username.into(),
        role: consular_desk::auth::roles::Role::Clerk,
        post: Some(post.into()),
    })
}

impl TestApp {
    /// Sets MEX's peso rate for its local today (as `supervisor`) and returns that date.
    pub async fn peso_rate_today(&self, clerk: &str, supervisor: &str, rate_micros: i64) -> String {
        let board = self.get("/api/v1/staff/posts/MEX/day", Some(clerk)).await.body;
        let today = board["date"].as_str().unwrap_or_default().to_string();
        let rate = json!({"currency": "MXN", "rate_micros": rate_micros});
        let path = format!("/api/v1/staff/posts/MEX/exchange-rates/{today}");
        let r = self.call("PUT", &path, Some(supervisor), Some(&rate)).await;
        assert_eq!(r.status, 200, "rate: {}", r.body);
        today
    }
}

/// The server binary (`serve`) on the system clock, killed by its PID when dropped.
pub struct ServeBinary(std::process::Child);

impl ServeBinary {
    /// Starts `serve` on the address `CONSULAR_DESK_BIND` in `env` gives, else a free port.
    pub fn start(db_url: &str, env: &[(&str, &str)]) -> ServeBinary {
        use std::process::{Command, Stdio};
        let bind = env.iter().find(|(k, _)| *k == "CONSULAR_DESK_BIND").map_or("127.0.0.1:0", |(_, v)| *v);
        let child = Command::new(env!("CARGO_BIN_EXE_consular-desk"))
            .args(["serve", "--bind", bind])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", db_url)
            .env("CONSULAR_DESK_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        ServeBinary(child)
    }

    /// Starts `serve` on a free port and waits until it answers `/healthz`; returns it and
    /// its base URL.
    pub async fn start_answering(db_url: &str, env: &[(&str, &str)]) -> (ServeBinary, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let bind = format!("127.0.0.1:{port}");
        let mut env = env.to_vec();
        env.push(("CONSULAR_DESK_BIND", &bind));
        let server = ServeBinary::start(db_url, &env);
        let base = format!("http://{bind}");
        let client = awc::Client::default();
        for _ in 0..600 {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    return (server, base);
                }
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the server binary did not answer /healthz within a minute");
    }

    /// SIGTERM: the graceful stop (`consular_desk::shutdown`).
    pub fn terminate(&self) {
        let pid = rustix::process::Pid::from_child(&self.0);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM sent");
    }

    /// Waits for the process to end by itself, up to `limit`; its exit status.
    pub async fn exited_within(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        None
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServeBinary {
    fn drop(&mut self) {
        self.kill();
    }
}
