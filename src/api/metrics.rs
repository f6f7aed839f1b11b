//! `GET /metrics` (see `crate::metrics`): open on the metrics-only listener; on the main one
//! only with the metrics token, and not there at all (404) when none is configured.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AppError, Code};
use crate::http::HttpError;
use crate::state::AppState;

/// The service's metrics in the Prometheus text format (version 0.0.4).
///
/// On the main listener it needs `Authorization: Bearer <CONSULAR_DESK_METRICS_TOKEN>`, and is
/// not found when no token is configured; on `CONSULAR_DESK_METRICS_BIND` it needs nothing.
#[utoipa::path(tag = "health", security(("metrics_token" = [])), responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String),
    (status = 401, description = "No token (`missing_token`) or not the metrics token (`invalid_token`)",
        body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, description = "No metrics token is configured: metrics are not served here",
        body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/metrics")]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    if !crate::metrics::on_metrics_listener(&req, &state.metrics) {
        let Some(token) = &state.settings.metrics.token else {
            return Err(AppError::not_found("no such endpoint: GET /metrics").into());
        };
        check_token(&req, token.expose())?;
    }
    let text = state.metrics.render(&state).await?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)).body(text))
}

/// 401 unless the request's bearer token is `expected`. Compared as SHA-256 digests in
/// constant time, so neither the content nor the length of the token leaks through timing.
fn check_token(req: &HttpRequest, expected: &[u8]) -> Result<(), AppError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::new(Code::MissingToken, "send the metrics token as a bearer token"))?;
    let same: bool = Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected)).into();
    match same {
        true => Ok(()),
        false => Err(AppError::new(Code::InvalidToken, "that is not the metrics token")),
    }
}
