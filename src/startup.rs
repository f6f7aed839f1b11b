//! Building the application: database, migrations, seed data, keys, HTTP server.
//! Tests call [`Application::build`] with port 0 and read the port it got.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use chrono::Utc;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::accounts::staff;
use crate::api;
use crate::auth::hash_pool::HashPool;
use crate::auth::tokens::Keys;
use crate::booking;
use crate::booking::availability_cache::AvailabilityCache;
use crate::config::Settings;
use crate::db::{self, Backend, Pool};
use crate::documents::identity::MatchingKey;
use crate::fees::verification::ReceiptKey;
use crate::maintenance;
use crate::pdf::Templates;
use crate::reference;
use crate::state::AppState;
use crate::telemetry::RequestSpan;

pub struct Application {
    address: SocketAddr,
    backend: Backend,
    first_admin_missing: bool,
    server: Server,
}

/// Opens the pool, applies migrations, seeds reference data and loads the signing keys:
/// everything `serve` and `migrate` need before the first request.
pub fn prepare_database(settings: &Settings) -> anyhow::Result<(Pool, Keys, Backend)> {
    let pool = db::build_pool(&settings.database_url, settings.pool_size)
        .with_context(|| format!("cannot open the database {:?}", settings.database_url))?;
    let applied = db::run_migrations(&settings.database_url)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let backend = conn.backend();
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    let seeded = reference::seed(&mut conn).context("seeding reference data failed")?;
    if seeded > 0 {
        tracing::info!(rows = seeded, "reference data seeded");
    }
    let post_codes: Vec<String> = reference::list_posts(&mut conn)?.into_iter().map(|p| p.code).collect();
    booking::schedule::seed_defaults(&mut conn, &post_codes).context("seeding default schedules failed")?;
    let generated =
        booking::slots::extend_horizons(&mut conn, settings.booking.horizon_days, Utc::now().naive_utc())
            .context("generating slots failed")?;
    if generated > 0 {
        tracing::info!(slots = generated, "slots generated");
    }
    let keys = Keys::load(&settings.jwt, &mut conn).context("loading signing keys failed")?;
    Ok((pool, keys, backend))
}

impl Application {
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let (pool, keys, backend) = prepare_database(&settings)?;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let address = listener.local_addr()?;
        let templates = Templates::load(&settings.pdf_templates)?;
        let (first_admin_missing, matching, receipts) = {
            let mut conn = pool.get()?;
            let matching =
                MatchingKey::load(&mut conn).context("loading the document-matching key failed")?;
            let receipts = ReceiptKey::load(&mut conn).context("loading the receipt-signing key failed")?;
            (!staff::has_active_admin(&mut conn)?, Arc::new(matching), Arc::new(receipts))
        };
        let availability = Arc::new(AvailabilityCache::default());
        // Both need a running actix runtime, as `serve` and the tests have.
        actix_web::rt::spawn(crate::audit::seal::run_forever(pool.clone()));
        actix_web::rt::spawn(maintenance::run_forever(
            pool.clone(),
            settings.booking.clone(),
            settings.window.clone(),
            availability.clone(),
        ));
        let hasher = HashPool::start(settings.hashing.threads, settings.hashing.queue)
            .context("cannot start the password-hashing threads")?;
        let exports = Arc::new(tokio::sync::Semaphore::new((settings.pool_size as usize / 4).max(1)));
        let state = AppState {
            pool,
            exports,
            keys: Arc::new(keys),
            settings: Arc::new(settings),
            hasher,
            availability,
            matching,
            receipts,
            templates: Arc::new(templates),
        };
        let server = run(listener, state)?;
        Ok(Application { address, backend, first_admin_missing, server })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// True on a fresh install: nobody can sign in to the staff side yet.
    pub fn needs_first_admin(&self) -> bool {
        self.first_admin_missing
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn server(self) -> Server {
        self.server
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let max_body = state.settings.max_body_bytes;
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        let (app, mut spec) = App::new()
            .into_utoipa_app()
            .openapi(api::ApiDoc::openapi())
            .app_data(state.clone())
            .app_data(api::json_config(max_body))
            .app_data(api::query_config())
            .app_data(api::path_config())
            .service(api::health::healthz)
            .service(api::health::readyz)
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
    .listen(listener)?
    .run();
    Ok(server)
}
