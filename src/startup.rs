//! Building the application: database, migrations, seed data, keys, HTTP server.
//! Tests call [`Application::build`] with port 0 and read the port it got.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::rt::task::JoinHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use chrono::NaiveDateTime;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::accounts::staff;
use crate::api;
use crate::auth::hash_pool::HashPool;
use crate::auth::tokens::Keys;
use crate::backup::{self, lock::DatabaseLock};
use crate::booking;
use crate::booking::availability_cache::AvailabilityCache;
use crate::clock::Clock;
use crate::config::{DatabaseUrl, Settings};
use crate::db::{self, Backend, Pool};
use crate::documents::identity::MatchingKey;
use crate::fees::verification::ReceiptKey;
use crate::maintenance;
use crate::pdf::Templates;
use crate::reference;
use crate::registry::links::StayKey;
use crate::secrets::Key;
use crate::server_keys::{KeyName, ServerKeys};
use crate::shutdown;
use crate::state::AppState;
use crate::telemetry::RequestSpan;

pub struct Application {
    address: SocketAddr,
    /// The metrics-only listener's address (`CONSULAR_DESK_METRICS_BIND`), if there is one.
    metrics_address: Option<SocketAddr>,
    backend: Backend,
    first_admin_missing: bool,
    server: Server,
    /// The sealer, the maintenance timer and the mail sender: ended after the server stops.
    timers: Vec<JoinHandle<()>>,
    pool: Pool,
}

/// [`prepare_tables`] and the token signers: what a server (or the benchmark) needs before
/// the first request.
pub fn prepare_database(settings: &Settings) -> anyhow::Result<(Pool, Keys, Backend)> {
    let (pool, backend) = prepare_tables(settings, Clock::system().naive())?;
    let keys = load_keys(settings, &pool)?;
    Ok((pool, keys.tokens(settings), backend))
}

/// The server keys, from wherever they live. Only the server loads them: the other commands
/// neither need them nor may generate them.
fn load_keys(settings: &Settings, pool: &Pool) -> anyhow::Result<ServerKeys> {
    let mut conn = pool.get().context("cannot get a database connection")?;
    ServerKeys::load(settings, &mut conn).context("loading the server keys failed")
}

/// Opens the pool, applies migrations, seeds reference data and slots: what `serve`,
/// `migrate` and `create-staff` need.
pub fn prepare_tables(settings: &Settings, now: NaiveDateTime) -> anyhow::Result<(Pool, Backend)> {
    let pool = db::build_pool(&settings.database_url, settings.pool_size)
        .with_context(|| format!("cannot open the database {:?}", settings.database_url))?;
    let applied = db::run_migrations(&settings.database_url)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let backend = conn.backend();
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    let seeded = reference::seed(&mut conn, now).context("seeding reference data failed")?;
    if seeded > 0 {
        tracing::info!(rows = seeded, "reference data seeded");
    }
    let post_codes: Vec<String> = reference::list_posts(&mut conn)?.into_iter().map(|p| p.code).collect();
    booking::schedule::seed_defaults(&mut conn, &post_codes).context("seeding default schedules failed")?;
    let generated = booking::slots::extend_horizons(&mut conn, settings.booking.horizon_days, now)
        .context("generating slots failed")?;
    if generated > 0 {
        tracing::info!(slots = generated, "slots generated");
    }
    Ok((pool, backend))
}

impl Application {
    /// The service on the machine's clock.
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Clock::system())
    }

    /// The service on `clock`: the tests' is set to a fixed moment.
    pub fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        // Held while the server runs, so `restore` refuses (crate::backup::lock); first, so no
        // server migrates a database being restored.
        let db_lock = match &settings.database_url {
            DatabaseUrl::Sqlite(path) => Some(Arc::new(DatabaseLock::for_server(backup::sqlite_file(path))?)),
            DatabaseUrl::Postgres(_) => None,
        };
        let (pool, backend) = prepare_tables(&settings, clock.naive())?;
        let server_keys = load_keys(&settings, &pool)?;
        warn_of_keys_in_the_database(&server_keys, settings.bind);
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let address = listener.local_addr()?;
        let metrics_listener = match settings.metrics.bind {
            Some(bind) => Some(
                TcpListener::bind(bind).with_context(|| format!("cannot listen for metrics on {bind}"))?,
            ),
            None => None,
        };
        let metrics_address = metrics_listener.as_ref().map(TcpListener::local_addr).transpose()?;
        let metrics = Arc::new(
            crate::metrics::Metrics::new(metrics_address).context("cannot set up the metrics registry")?,
        );
        let templates = Arc::new(Templates::load(&settings.pdf_templates)?);
        let stay_links = Arc::new(StayKey::new(server_keys.get(KeyName::DocumentMatching).clone()));
        let mail = crate::mail_sender::Sender::new(
            pool.clone(),
            &settings.mail,
            templates.clone(),
            &settings.public_url,
            stay_links.clone(),
            clock.clone(),
        )?;
        let first_admin_missing = !staff::has_active_admin(&mut *pool.get()?)?;
        let matching = Arc::new(MatchingKey::new(server_keys.get(KeyName::DocumentMatching).clone()));
        let receipts = Arc::new(ReceiptKey::new(Key::new(server_keys.get(KeyName::ReceiptSigning).clone())));
        let availability = Arc::new(AvailabilityCache::default());
        // They need a running actix runtime, as `serve` and the tests have.
        let mut timers = vec![
            actix_web::rt::spawn(crate::audit::seal::run_forever(pool.clone())),
            actix_web::rt::spawn(maintenance::run_forever(
                pool.clone(),
                settings.booking.clone(),
                settings.window.clone(),
                availability.clone(),
                settings.mail.reminder_hours,
                settings.registry.retention_days,
                clock.clone(),
            )),
            actix_web::rt::spawn(mail.run_forever()),
        ];
        if let Some(backups) = maintenance::Backups::new(&settings.database_url, &settings.backup) {
            timers.push(actix_web::rt::spawn(backups.run_forever(
                pool.clone(),
                settings.booking.maintenance_every,
                clock.clone(),
            )));
        }
        crate::search::index::backfill_in_background(pool.clone());
        let hasher = HashPool::start(settings.hashing.threads, settings.hashing.queue)
            .context("cannot start the password-hashing threads")?;
        let exports = Arc::new(tokio::sync::Semaphore::new((settings.pool_size as usize / 4).max(1)));
        let state = AppState {
            pool,
            exports,
            keys: Arc::new(server_keys.tokens(&settings)),
            settings: Arc::new(settings),
            hasher,
            availability,
            matching,
            receipts,
            stay_links,
            templates,
            clock,
            metrics,
        };
        let pool = state.pool.clone();
        let server = run(listener, metrics_listener, state, db_lock)?;
        Ok(Application { address, metrics_address, backend, first_admin_missing, server, timers, pool })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` is served alone, without a token, when `CONSULAR_DESK_METRICS_BIND`
    /// is set (the tests bind port 0 and read it here).
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    /// True on a fresh install: nobody can sign in to the staff side yet.
    pub fn needs_first_admin(&self) -> bool {
        self.first_admin_missing
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The HTTP server alone, for tests that stop it through its handle; its timers run on.
    pub fn server(self) -> Server {
        self.server
    }

    /// Serves until a signal stops the server, then ends the timers and seals (`shutdown`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        shutdown::finish(self.timers, self.pool).await;
        served
    }
}

/// Says once, at start, when a copy of the database would carry the keys of its own hashes
/// while the server is reachable from other machines (docs/OPERATIONS.md, "Server keys").
fn warn_of_keys_in_the_database(keys: &ServerKeys, bind: SocketAddr) {
    if !keys.in_database().is_empty() && !bind.ip().is_loopback() {
        tracing::warn!(
            keys = %KeyName::list(keys.in_database()),
            "server keys live in the database while listening on a non-loopback address: a copy \
             of the database recovers document numbers; move them out with `consular-desk keys \
             export --out FILE` and set CONSULAR_DESK_KEY_FILE"
        );
    }
}

/// The server on `listener`, and on `metrics_listener` too, where a middleware lets only
/// `/metrics` through: one server, so one shutdown stops both. `db_lock` goes into the
/// server's factory, so it is held for as long as the server runs, also when a test takes the
/// server out of its [`Application`].
fn run(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    db_lock: Option<Arc<DatabaseLock>>,
) -> anyhow::Result<Server> {
    let max_body = state.settings.max_body_bytes;
    let shutdown_timeout = state.settings.shutdown_timeout.as_secs();
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        let _held = &db_lock;
        let (app, mut spec) = App::new()
            .into_utoipa_app()
            .openapi(api::ApiDoc::openapi())
            .app_data(state.clone())
            .app_data(api::json_config(max_body))
            .app_data(api::query_config())
            .app_data(api::path_config())
            .service(api::health::healthz)
            .service(api::health::readyz)
            .service(api::metrics::metrics)
            .service(utoipa_actix_web::scope("/api/v1").configure(api::routes))
            .split_for_parts();
        // After the routes are in: the shared answers go on every operation they added.
        utoipa::Modify::modify(&api::contract::SharedResponses, &mut spec);
        let methods = web::Data::new(api::methods::Methods::from_spec(&spec));
        app.app_data(methods)
            .wrap(Compress::default())
            .wrap(actix_web::middleware::from_fn(api::refuse_nul_in_url))
            .wrap(actix_web::middleware::from_fn(crate::web::never_cached))
            .wrap(actix_web::middleware::from_fn(crate::web::strict_transport))
            .wrap(DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")))
            .wrap(actix_web::middleware::from_fn(crate::metrics::only_metrics_on_its_listener))
            .wrap(actix_web::middleware::from_fn(crate::metrics::record))
            .wrap(TracingLogger::<RequestSpan>::new())
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec))
            .configure(crate::web::routes)
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
                }),
            )
            .default_service(web::to(api::methods::not_found_or_not_allowed))
    })
    // Longer than the usual load balancer's 60 s idle timeout: a server that closes an idle
    // connection first races the balancer's next request on it, which then fails.
    .keep_alive(std::time::Duration::from_secs(75))
    // SIGTERM: requests in flight get this long to finish (`shutdown`).
    .shutdown_timeout(shutdown_timeout)
    .listen(listener)?;
    let server = match metrics_listener {
        Some(metrics) => server.listen(metrics)?,
        None => server,
    };
    Ok(server.run())
}
