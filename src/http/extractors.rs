//! The only way a handler learns who is calling: typed extractors over the bearer token, and
//! [`Guarded`], which settles who is calling before the body is read.
//!
//! [`Applicant`] and [`Staff`] wrap the domain's `auth::Applicant` and `auth::Staff` (which the
//! orphan rule keeps actix's `FromRequest` off) and deref to them.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth;
use crate::auth::roles::Requirement;
use crate::error::{AppError, Code};
use crate::http::HttpError;
use crate::state::AppState;

/// The signed-in applicant calling, from the bearer token.
#[derive(Debug, Clone)]
pub struct Applicant(pub auth::Applicant);

impl Deref for Applicant {
    type Target = auth::Applicant;
    fn deref(&self) -> &auth::Applicant {
        &self.0
    }
}

/// The signed-in staff member calling, from the bearer token, whose role satisfies `R`.
#[derive(Debug, Clone)]
pub struct Staff<R>(pub auth::Staff<R>);

impl<R> Deref for Staff<R> {
    type Target = auth::Staff<R>;
    fn deref(&self) -> &auth::Staff<R> {
        &self.0
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("AppState is not registered")))
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::new(Code::MissingToken, "sign in first: no bearer token"))?;
    let value = value.to_str().map_err(|_| AppError::new(Code::InvalidToken, "the token is not valid"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_string())
        }
        _ => Err(AppError::new(Code::InvalidToken, "expected an Authorization: Bearer <token> header")),
    }
}

impl FromRequest for Applicant {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = state(req).and_then(|state| Ok((state, bearer(req)?)));
        Box::pin(async move {
            let (state, token) = checked?;
            let who = crate::accounts::token_check::applicant(&state.pool, &state.keys, &state.clock, &token)
                .await?;
            Ok(Applicant(who))
        })
    }
}

impl<R: Requirement + 'static> FromRequest for Staff<R> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = state(req).and_then(|state| Ok((state, bearer(req)?)));
        Box::pin(async move {
            let (state, token) = checked?;
            let who =
                crate::accounts::token_check::staff(&state.pool, &state.keys, &state.clock, &token).await?;
            Ok(Staff(who))
        })
    }
}

/// Extracts `W` (who is calling) to completion before reading the body `B`.
///
/// actix polls a handler's extractors concurrently, so with separate arguments a malformed body
/// could answer 422 before a staff lookup answers 403, telling a caller who may not use an
/// endpoint what it expects. Handlers that take a body take it through this.
pub struct Guarded<W, B>(pub W, pub B);

impl<W, B> FromRequest for Guarded<W, B>
where
    W: FromRequest + 'static,
    B: FromRequest + 'static,
    W::Error: Into<actix_web::Error>,
    B::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let who = W::from_request(&req, &mut Payload::None).await.map_err(Into::into)?;
            let body = B::from_request(&req, &mut payload).await.map_err(Into::into)?;
            Ok(Guarded(who, body))
        })
    }
}
