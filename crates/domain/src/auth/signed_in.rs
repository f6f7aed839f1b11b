//! Who is calling: the applicant or staff member a token signs in. `accounts::token_check`
//! holds a token against its account on every request, for the HTTP extractors and the
//! pages' session cookie alike.
//!
//! A token of the other audience is a 403 (a real credential, the wrong door); anything else
//! that doesn't verify is a 401.

use std::marker::PhantomData;

use crate::auth::actor::{Actor, StaffMember};
use crate::auth::roles::{AnyStaff, Requirement};
use crate::auth::tokens::{Audience, Keys, Session, TokenError, Verified};
use crate::clock::Clock;
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
/// Returns the account id, the credential version the token was issued at, and its session:
/// `accounts::token_check` then holds them against the account.
pub fn subject(
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

impl<R: Requirement> Staff<R> {
    /// `member`, signed in with `session`, as one whose role satisfies `R`; 403
    /// `insufficient_role` if it does not.
    pub fn admitted(member: StaffMember, session: Session) -> Result<Staff<R>, AppError> {
        if !R::admits(member.role) {
            return Err(AppError::new(
                Code::InsufficientRole,
                format!("this needs the role {}", R::DESCRIPTION),
            ));
        }
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
