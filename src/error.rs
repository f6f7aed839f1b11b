//! One error type for every handler, rendered as `application/problem+json` (RFC 9457) with a
//! stable snake_case `code` that clients can switch on.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field in a 422 answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// The body of every 4xx/5xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// 400: the request can't be read (malformed JSON, bad query string).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401: no credentials, or credentials that don't hold.
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    /// 403: known caller, not allowed.
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// 404: unknown, or not the caller's.
    #[error("{detail}")]
    NotFound { detail: String },
    /// 405: the path exists, the method doesn't (`Allow` lists the ones that do).
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: String },
    /// 409: conflicts with the current state.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 413: the body is larger than the configured limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: not JSON.
    #[error("expected a JSON body (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// 422: well-formed but invalid.
    #[error("{detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    /// 429: throttled; try again after this many seconds.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a dependency (the database) is not answering, or the server is shedding load
    /// (the password-hashing queue is full); `Retry-After` when it knows how long.
    #[error("{detail}")]
    Unavailable { detail: String, retry_after_secs: Option<u64> },
    /// 500: logged in full, shown to nobody. Shared so that one failure can answer several
    /// waiting requests (the availability cache).
    #[error("internal error")]
    Internal(std::sync::Arc<anyhow::Error>),
}

impl AppError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::BadRequest { code, detail: detail.into() }
    }
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Unauthorized { code, detail: detail.into() }
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Forbidden { code, detail: detail.into() }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        AppError::NotFound { detail: detail.into() }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Conflict { code, detail: detail.into() }
    }
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        AppError::Validation { detail: "the request has invalid fields".into(), errors }
    }
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }
    /// 429 with `Retry-After` for a throttle that stays closed `wait` longer (at least 1 s).
    pub fn too_many_requests(wait: chrono::Duration) -> Self {
        AppError::TooManyRequests { retry_after_secs: wait.num_seconds().max(1) as u64 }
    }
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(std::sync::Arc::new(err.into()))
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Unauthorized { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::Conflict { code, .. } => code,
            AppError::NotFound { .. } => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Validation { .. } => "validation_failed",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let errors = match self {
            AppError::Validation { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        Problem {
            type_: format!("urn:consular-desk:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code().to_string(),
            errors,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(source) = self {
            tracing::error!(error = %format!("{source:#}"), "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            AppError::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::TooManyRequests { retry_after_secs }
            | AppError::Unavailable { retry_after_secs: Some(retry_after_secs), .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        AppError::internal(err)
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %err, "database pool exhausted or unreachable");
        AppError::Unavailable {
            detail: "the database is not answering; try again shortly".into(),
            retry_after_secs: Some(1),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert_eq!(problem.code, "internal_error");
        assert!(!problem.detail.contains("hunter2"));
    }

    #[test]
    fn validation_lists_fields() {
        let problem = AppError::invalid_field("email", "is not an email address").problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "email");
        assert_eq!(problem.type_, "urn:consular-desk:problem:validation_failed");
    }
}
