//! Liveness and readiness probes for a load balancer.

use actix_web::{get, web, HttpResponse};
use diesel::r2d2::R2D2Connection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::http::HttpError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The process can reach its database.
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Readiness),
    (status = 503, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let backend = state
        .db(|conn| {
            conn.ping().map_err(|e| {
                tracing::warn!(error = %e, "readiness check failed");
                AppError::Unavailable {
                    detail: "the database is not answering".into(),
                    retry_after_secs: None,
                }
            })?;
            Ok(conn.backend())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Readiness { status: "ready", database: backend.as_str() }))
}
