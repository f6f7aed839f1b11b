//! `/metrics` in the Prometheus text format: the HTTP requests (a middleware records them by
//! method, route *template* and status), and, read at scrape time, the database pool, the
//! hashing queue and the database's backlogs; the use-cases' counters come from
//! [`crate::ops`]. Labels never carry personal data: no raw path, query, name or reference.

use std::net::SocketAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::error::AppError;
use crate::ops::{self, Backlog};
use crate::state::AppState;

/// The exposition format's content type: `text/plain; version=0.0.4`.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// Request latencies from 5 ms to 10 s: a page is fast, an export or a sign-in storm is not.
const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The route label of a request no route matched: never its path, which may hold a reference.
pub const UNMATCHED: &str = "unmatched";

/// One application's registry and the metrics it sets.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_in_use: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    hash_queued: IntGauge,
    hash_capacity: IntGauge,
    database_up: IntGauge,
    sealer_lag: IntGauge,
    mail_waiting: IntGauge,
    mail_failed: IntGauge,
    /// The listener that serves `/metrics` alone and without a token, when there is one.
    listener: Option<SocketAddr>,
}

fn gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let gauge = IntGauge::new(name, help)?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

impl Metrics {
    /// A registry with every metric in it; `listener` is the metrics-only address, if any.
    pub fn new(listener: Option<SocketAddr>) -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new(
                "consular_desk_http_requests_total",
                "HTTP requests answered, by method, route template and status",
            ),
            &labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "consular_desk_http_request_duration_seconds",
                "Time to the response's head, by method, route template and status",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &labels,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(ops::BOOKINGS.clone()))?;
        registry.register(Box::new(ops::RECEIPTS.clone()))?;
        registry.register(Box::new(crate::db::waiting::DB_WAITING.clone()))?;
        let r = &registry;
        Ok(Metrics {
            requests,
            latency,
            pool_in_use: gauge(r, "consular_desk_db_pool_in_use", "Database connections handed out now")?,
            pool_idle: gauge(r, "consular_desk_db_pool_idle", "Database connections open and idle")?,
            pool_max: gauge(r, "consular_desk_db_pool_max", "Database connections the pool may open")?,
            hash_queued: gauge(r, "consular_desk_hash_queue_depth", "Password hashes waiting for a thread")?,
            hash_capacity: gauge(
                r,
                "consular_desk_hash_queue_capacity",
                "Password hashes that may wait before sign-ins are refused with 503",
            )?,
            database_up: gauge(r, "consular_desk_database_up", "1 when the scrape could read the database")?,
            sealer_lag: gauge(
                r,
                "consular_desk_audit_sealer_lag_seconds",
                "Seconds since the oldest audit entry still waiting to be sealed was written (0: none)",
            )?,
            mail_waiting: gauge(
                r,
                "consular_desk_outbox_waiting",
                "Messages waiting to be sent or being sent",
            )?,
            mail_failed: gauge(r, "consular_desk_outbox_failed", "Messages given up after their last try")?,
            registry,
            listener,
        })
    }

    /// The metrics-only listener's address.
    pub fn listener(&self) -> Option<SocketAddr> {
        self.listener
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Reads what is read at scrape time and encodes everything.
    pub async fn render(&self, state: &AppState) -> Result<String, AppError> {
        let pool = state.pool.state();
        self.pool_in_use.set(i64::from(pool.connections.saturating_sub(pool.idle_connections)));
        self.pool_idle.set(i64::from(pool.idle_connections));
        self.pool_max.set(i64::from(state.pool.max_size()));
        self.hash_queued.set(i64::try_from(state.hasher.queued()).unwrap_or(i64::MAX));
        self.hash_capacity.set(i64::try_from(state.hasher.capacity()).unwrap_or(i64::MAX));
        let now = state.clock.naive();
        match state.db(move |conn| Ok(ops::backlog(conn, now)?)).await {
            Ok(backlog) => {
                self.database_up.set(1);
                self.set_backlog(&backlog);
            }
            // The rest still says something; the backlogs would be stale, so they read 0.
            Err(e) => {
                tracing::warn!(error = %e, "metrics could not read the database");
                self.database_up.set(0);
                self.set_backlog(&Backlog::default());
            }
        }
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text).map_err(AppError::internal)?;
        String::from_utf8(text).map_err(AppError::internal)
    }

    fn set_backlog(&self, backlog: &Backlog) {
        self.sealer_lag.set(backlog.sealer_lag_secs);
        self.mail_waiting.set(backlog.mail_waiting);
        self.mail_failed.set(backlog.mail_failed);
    }
}

/// A method as a label: the standard ones by name, anything else as `other`, so that a client
/// can't grow the label set.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts every request and times it to its response's head, under its route template.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    let method = method_label(req.method());
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_string());
    let started = Instant::now();
    let outcome = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        metrics.observe(method, &route, status, started.elapsed().as_secs_f64());
    }
    outcome
}

/// On the metrics-only listener, everything but `/metrics` is not found.
pub async fn only_metrics_on_its_listener(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let listener = req.app_data::<web::Data<AppState>>().and_then(|s| s.metrics.listener());
    if listener.is_some_and(|l| l == req.app_config().local_addr()) && req.path() != "/metrics" {
        let error = AppError::not_found("this address serves /metrics only");
        return Ok(req.error_response(crate::http::HttpError(error)).map_into_right_body());
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

/// Whether `req` came in on the metrics-only listener.
pub fn on_metrics_listener(req: &actix_web::HttpRequest, metrics: &Metrics) -> bool {
    metrics.listener.is_some_and(|l| l == req.app_config().local_addr())
}
