//! The only way a handler learns who is calling: typed extractors over the bearer token.
//!
//! A token of the other audience is a 403 (a real credential, the wrong door); anything else
//! that doesn't verify is a 401.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::accounts::applicants;
use crate::accounts::staff::{self, StaffRecord};
use crate::auth::actor::{Actor, StaffMember};
use crate::auth::roles::{AnyStaff, Requirement};
use crate::auth::tokens::{Audience, Session, TokenError, Verified};
use crate::error::{AppError, Code};
use crate::state::AppState;

/// A signed-in applicant (public token).
#[derive(Debug, Clone)]
pub struct Applicant {
    pub id: i64,
    /// The account's credential version the token carries (and the account still has).
    pub credential_version: i32,
    /// The session the token belongs to, for signing out.
    pub session: Session,
}

impl Applicant {
    /// This applicant as the operations' [`Actor`].
    pub fn actor(&self) -> Actor {
        Actor::Applicant(self.id)
    }
}

/// A signed-in, active staff member whose role satisfies `R`; derefs to the [`StaffMember`].
#[derive(Debug, Clone)]
pub struct Staff<R> {
    pub member: StaffMember,
    /// The session the token belongs to, for signing out.
    pub session: Session,
    _requirement: PhantomData<R>,
}

impl<R> Staff<R> {
    /// This member as the operations' [`Actor`].
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.member.clone())
    }
}

impl<R> std::ops::Deref for Staff<R> {
    type Target = StaffMember;
    fn deref(&self) -> &StaffMember {
        &self.member
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

/// Verifies `token` for `wanted`; a token that verifies for the other audience is a 403.
/// Returns the account id, the credential version the token was issued at, and its session.
fn subject(state: &AppState, wanted: Audience, token: &str) -> Result<(i64, i32, Session), AppError> {
    let other = match wanted {
        Audience::Public => Audience::Staff,
        Audience::Staff => Audience::Public,
    };
    match state.keys.verify(wanted, token, state.clock.now()) {
        Ok(Verified { subject, credential_version, session }) => subject
            .parse::<i64>()
            .map(|id| (id, credential_version, session))
            .map_err(|_| AppError::new(Code::InvalidToken, "the token is not valid")),
        Err(TokenError::Expired) => {
            Err(AppError::new(Code::TokenExpired, "the token has expired; sign in again"))
        }
        Err(TokenError::Invalid) if state.keys.verify(other, token, state.clock.now()).is_ok() => {
            Err(match wanted {
                Audience::Public => {
                    AppError::new(Code::StaffTokenNotApplicant, "a staff token does not act as an applicant")
                }
                Audience::Staff => {
                    AppError::new(Code::PublicTokenNotStaff, "this endpoint is for staff only")
                }
            })
        }
        Err(TokenError::Invalid) => Err(AppError::new(Code::InvalidToken, "the token is not valid")),
    }
}

fn no_longer_valid() -> AppError {
    AppError::new(Code::InvalidToken, "this token is no longer valid; sign in again")
}

impl Applicant {
    /// The applicant a public token names, if the token still holds: an account that is gone,
    /// whose password has changed since the token was issued, or whose session has ended
    /// signs nobody in. The bearer header and the web pages' session cookie both come here.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Applicant, AppError> {
        let (id, version, session) = subject(state, Audience::Public, token)?;
        let sid = session.id.clone();
        let current = state.db(move |conn| Ok(applicants::credential_version(conn, id, &sid)?)).await?;
        if current != Some((version, false)) {
            return Err(no_longer_valid());
        }
        Ok(Applicant { id, credential_version: version, session })
    }
}

impl FromRequest for Applicant {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = state(req).and_then(|state| Ok((state, bearer(req)?)));
        Box::pin(async move {
            let (state, token) = checked?;
            Applicant::from_token(&state, &token).await
        })
    }
}

impl<R: Requirement> Staff<R> {
    /// The staff member a staff token names, if the token still holds and the role is
    /// enough. The account is read every time so that disabling it, resetting its password or
    /// changing its role or post ends its tokens at once. The bearer header and the staff
    /// pages' session cookie both come here.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Staff<R>, AppError> {
        let (id, version, session) = subject(state, Audience::Staff, token)?;
        let sid = session.id.clone();
        let found: Option<(StaffRecord, bool)> =
            state.db(move |conn| Ok(staff::find_active(conn, id, &sid)?)).await?;
        let record = match found {
            Some((record, false)) if record.credential_version == version => record,
            _ => return Err(no_longer_valid()),
        };
        if !R::admits(record.role) {
            return Err(AppError::new(
                Code::InsufficientRole,
                format!("this needs the role {}", R::DESCRIPTION),
            ));
        }
        let member = StaffMember {
            id: record.id,
            username: record.username,
            role: record.role,
            post: record.post_code,
        };
        Ok(Staff { member, session, _requirement: PhantomData })
    }
}

impl Staff<AnyStaff> {
    /// This member as one whose role satisfies `R`, if it does.
    pub fn narrow<R: Requirement>(self) -> Option<Staff<R>> {
        R::admits(self.member.role).then_some(Staff {
            member: self.member,
            session: self.session,
            _requirement: PhantomData,
        })
    }
}

impl<R: Requirement + 'static> FromRequest for Staff<R> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = state(req).and_then(|state| Ok((state, bearer(req)?)));
        Box::pin(async move {
            let (state, token) = checked?;
            Staff::from_token(&state, &token).await
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
