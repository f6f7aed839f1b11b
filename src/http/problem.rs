//! An [`AppError`] as an HTTP answer: `application/problem+json` with the headers its status
//! calls for. The domain's error knows no web framework, and the orphan rule keeps actix's
//! `ResponseError` off it here, so handlers and extractors answer [`HttpError`]; `?` on an
//! `AppError` (or on what converts into one) still works.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::error::AppError;

/// An [`AppError`] on its way out as a response.
#[derive(Debug, Clone)]
pub struct HttpError(pub AppError);

impl HttpError {
    /// The domain's error inside.
    pub fn into_inner(self) -> AppError {
        self.0
    }
}

impl From<AppError> for HttpError {
    fn from(err: AppError) -> Self {
        HttpError(err)
    }
}

impl From<diesel::result::Error> for HttpError {
    fn from(err: diesel::result::Error) -> Self {
        HttpError(err.into())
    }
}

impl From<diesel::r2d2::PoolError> for HttpError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        HttpError(err.into())
    }
}

impl std::ops::Deref for HttpError {
    type Target = AppError;
    fn deref(&self) -> &AppError {
        &self.0
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(source) = &self.0 {
            tracing::error!(error = %format!("{source:#}"), "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match &self.0 {
            AppError::Coded { code, .. } if code.status() == 401 => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::TooManyRequests { retry_after_secs }
            | AppError::Unavailable { retry_after_secs: Some(retry_after_secs), .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.0.problem()).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;
    use crate::error::Code;

    /// The problem's `title` (the domain's, from the `http` crate) is the reason phrase actix
    /// sends on the status line, for every code.
    #[test]
    fn every_code_answers_its_status_with_its_reason_as_title() {
        for code in Code::ALL {
            let error = HttpError(AppError::new(*code, "detail"));
            let status = error.status_code();
            assert_eq!(status.as_u16(), code.status(), "{}", code.as_str());
            let problem = error.problem();
            assert_eq!(Some(problem.title.as_str()), status.canonical_reason(), "{}", code.as_str());
            assert_eq!(problem.status, code.status());
        }
    }

    #[test]
    fn a_401_asks_for_a_bearer_token_and_a_429_says_when_to_retry() {
        let response = HttpError(AppError::new(Code::MissingToken, "sign in")).error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
        let response = HttpError(AppError::TooManyRequests { retry_after_secs: 7 }).error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()), Some(&b"7"[..]));
        let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes());
        assert_eq!(content_type, Some(&b"application/problem+json"[..]));
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(json["code"], "too_many_requests");
    }
}
