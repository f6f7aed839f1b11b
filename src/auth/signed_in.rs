//! Who is calling: the applicant or staff member a token signs in, checked against the
//! account on every request. The HTTP extractors (`crate::http::extractors`) and the pages'
//! session cookie both come here.
//!
//! A token of the other audience is a 403 (a real credential, the wrong door); anything else
//! that doesn't verify is a 401.

use std::marker::PhantomData;

use crate::accounts::applicants;
use crate::accounts::staff::{self, StaffRecord};
use crate::auth::actor::{Actor, StaffMember};
use crate::auth::roles::{AnyStaff, Requirement};
use crate::auth::tokens::{Audience, Keys, Session, TokenError, Verified};
use crate::clock::Clock;
use crate::db::Pool;
use crate::error::{AppError, Code};

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

/// Verifies `token` for `wanted`; a token that verifies for the other audience is a 403.
/// Returns the account id, the credential version the token was issued at, and its session.
fn subject(
    keys: &Keys,
    clock: &Clock,
    wanted: Audience,
    token: &str,
) -> Result<(i64, i32, Session), AppError> {
    let other = match wanted {
        Audience::Public => Audience::Staff,
        Audience::Staff => Audience::Public,
    };
    match keys.verify(wanted, token, clock.now()) {
        Ok(Verified { subject, credential_version, session }) => subject
            .parse::<i64>()
            .map(|id| (id, credential_version, session))
            .map_err(|_| AppError::new(Code::InvalidToken, "the token is not valid")),
        Err(TokenError::Expired) => {
            Err(AppError::new(Code::TokenExpired, "the token has expired; sign in again"))
        }
        Err(TokenError::Invalid) if keys.verify(other, token, clock.now()).is_ok() => Err(match wanted {
            Audience::Public => {
                AppError::new(Code::StaffTokenNotApplicant, "a staff token does not act as an applicant")
            }
            Audience::Staff => AppError::new(Code::PublicTokenNotStaff, "this endpoint is for staff only"),
        }),
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
    pub async fn from_token(
        pool: &Pool,
        keys: &Keys,
        clock: &Clock,
        token: &str,
    ) -> Result<Applicant, AppError> {
        let (id, version, session) = subject(keys, clock, Audience::Public, token)?;
        let sid = session.id.clone();
        let current =
            crate::db::run(pool, move |conn| Ok(applicants::credential_version(conn, id, &sid)?)).await?;
        if current != Some((version, false)) {
            return Err(no_longer_valid());
        }
        Ok(Applicant { id, credential_version: version, session })
    }
}

impl<R: Requirement> Staff<R> {
    /// The staff member a staff token names, if the token still holds and the role is
    /// enough. The account is read every time so that disabling it, resetting its password or
    /// changing its role or post ends its tokens at once. The bearer header and the staff
    /// pages' session cookie both come here.
    pub async fn from_token(
        pool: &Pool,
        keys: &Keys,
        clock: &Clock,
        token: &str,
    ) -> Result<Staff<R>, AppError> {
        let (id, version, session) = subject(keys, clock, Audience::Staff, token)?;
        let sid = session.id.clone();
        let found: Option<(StaffRecord, bool)> =
            crate::db::run(pool, move |conn| Ok(staff::find_active(conn, id, &sid)?)).await?;
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
