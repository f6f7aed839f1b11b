//! Liveness and readiness probes for a load balancer.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use diesel::r2d2::R2D2Connection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::DatabaseUrl;
use crate::ops::{self, NotReady};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// What `/readyz` found.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `not_ready` (with 503).
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    /// The checks that passed: `database`, `sealer`, `outbox`.
    checks_passed: Vec<&'static str>,
    /// Why not ready, each with its `code`: `database_unreachable`, `sealer_behind` (with
    /// `lag_seconds`), `failed_mail` (with `count` and `oldest_age_seconds`). Empty when ready.
    #[schema(value_type = Vec<Object>)]
    reasons: Vec<NotReady>,
}

/// A probe waits this long for a pooled connection: a balancer's probe times out soon after,
/// and a pool this busy is an answer too.
const CONNECTION_WAIT: Duration = Duration::from_secs(2);

/// The process is up. No database: a liveness probe that fails restarts the process, which a
/// database outage must not do.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The instance can serve: its database answers, the audit sealer is at most a minute behind
/// (by the app's clock), and no message was given up more than an hour ago. One pooled
/// connection, indexed reads.
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Readiness, description = "Every check passed"),
    (status = 503, body = Readiness, description = "Not ready; `reasons` says why"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.settings.database_url {
        DatabaseUrl::Sqlite(_) => "sqlite",
        DatabaseUrl::Postgres(_) => "postgres",
    };
    let (pool, now) = (state.pool.clone(), state.clock.naive());
    let read = crate::blocking::run(move || -> anyhow::Result<ops::Backlog> {
        let mut conn = pool.get_timeout(CONNECTION_WAIT)?;
        conn.ping()?;
        Ok(ops::backlog(&mut conn, now)?)
    })
    .await;
    let (checks_passed, reasons) = match read.map_err(|e| anyhow::anyhow!("{e}")).and_then(|r| r) {
        Ok(backlog) => {
            let reasons = ops::not_ready(&backlog);
            (passed(&reasons), reasons)
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "readiness check: the database is not answering");
            (Vec::new(), vec![NotReady::DatabaseUnreachable])
        }
    };
    let ready = reasons.is_empty();
    let body =
        Readiness { status: if ready { "ready" } else { "not_ready" }, database, checks_passed, reasons };
    match ready {
        true => HttpResponse::Ok().json(body),
        false => HttpResponse::ServiceUnavailable().json(body),
    }
}

/// The checks that `reasons` (the database answered) doesn't name.
fn passed(reasons: &[NotReady]) -> Vec<&'static str> {
    let mut passed = vec!["database"];
    if !reasons.iter().any(|r| matches!(r, NotReady::SealerBehind { .. })) {
        passed.push("sealer");
    }
    if !reasons.iter().any(|r| matches!(r, NotReady::FailedMail { .. })) {
        passed.push("outbox");
    }
    passed
}
