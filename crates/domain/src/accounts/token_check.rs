//! A token held against its account on every request: signing out, a new password, a disabled
//! account or a changed role ends its tokens at once. The HTTP extractors and the pages'
//! session cookie both come here; `auth` verifies the token's signature, this reads the
//! account.

use crate::accounts::{applicants, staff};
use crate::auth::roles::Requirement;
use crate::auth::signed_in::subject;
use crate::auth::tokens::{Audience, Keys};
use crate::auth::{Applicant, Staff, StaffMember};
use crate::clock::Clock;
use crate::db::Pool;
use crate::error::{AppError, Code};

/// The applicant a public token names, if the token still holds: an account that is gone,
/// whose password has changed since the token was issued, or whose session has ended signs
/// nobody in.
pub async fn applicant(pool: &Pool, keys: &Keys, clock: &Clock, token: &str) -> Result<Applicant, AppError> {
    let (id, version, session) = subject(keys, clock, Audience::Public, token)?;
    let sid = session.id.clone();
    let current =
        crate::db::run(pool, move |conn| Ok(applicants::credential_version(conn, id, &sid)?)).await?;
    if current != Some((version, false)) {
        return Err(no_longer_valid());
    }
    Ok(Applicant { id, credential_version: version, session })
}

/// The staff member a staff token names, if the token still holds and the role is enough. The
/// account is read every time so that disabling it, resetting its password or changing its
/// role or post ends its tokens at once.
pub async fn staff<R: Requirement>(
    pool: &Pool,
    keys: &Keys,
    clock: &Clock,
    token: &str,
) -> Result<Staff<R>, AppError> {
    let (id, version, session) = subject(keys, clock, Audience::Staff, token)?;
    let sid = session.id.clone();
    let found = crate::db::run(pool, move |conn| Ok(staff::find_active(conn, id, &sid)?)).await?;
    let record = match found {
        Some((record, false)) if record.credential_version == version => record,
        _ => return Err(no_longer_valid()),
    };
    let member =
        StaffMember { id: record.id, username: record.username, role: record.role, post: record.post_code };
    Staff::admitted(member, session)
}

fn no_longer_valid() -> AppError {
    AppError::new(Code::InvalidToken, "this token is no longer valid; sign in again")
}
