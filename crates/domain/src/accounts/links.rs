//! Single-use links sent by mail: confirming an address and resetting a password. The link
//! carries 32 random bytes; only their SHA-256 is stored, so a copy of the database opens no
//! account. A link works once and until it expires.

use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::schema::account_links;
use crate::db::DbConn;

/// How long a link to confirm an address works.
pub const CONFIRM_EMAIL_TTL: Duration = Duration::days(7);
/// How long a password-reset link works.
pub const RESET_PASSWORD_TTL: Duration = Duration::minutes(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ConfirmEmail,
    ResetPassword,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::ConfirmEmail => "confirm_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes a link's token for `applicant_id` and `email` (the address it confirms, or the
/// account's for a reset); returns the token to put in the message. For a reset, the account's
/// earlier unused reset links stop working: only the newest message's link opens.
pub fn issue(
    conn: &mut DbConn,
    purpose: Purpose,
    applicant_id: i64,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let ttl = match purpose {
        Purpose::ConfirmEmail => CONFIRM_EMAIL_TTL,
        Purpose::ResetPassword => RESET_PASSWORD_TTL,
    };
    diesel::update(
        account_links::table
            .filter(account_links::applicant_id.eq(applicant_id))
            .filter(account_links::purpose.eq(purpose.code()))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::expires_at.eq(now))
    .execute(conn)?;
    diesel::insert_into(account_links::table)
        .values((
            account_links::token_hash.eq(hash(&token)),
            account_links::purpose.eq(purpose.code()),
            account_links::applicant_id.eq(applicant_id),
            account_links::email.eq(email),
            account_links::expires_at.eq(now + ttl),
            account_links::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Uses the link `token` for `purpose`: `(applicant_id, email)` if it exists, is unused and has
/// not expired, and it is then used up (one conditional update, so two clicks at once open it
/// once). Call inside the transaction that acts on it.
pub fn consume(
    conn: &mut DbConn,
    purpose: Purpose,
    token: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, String)>> {
    let hashed = hash(token.trim());
    let used = diesel::update(
        account_links::table
            .find(&hashed)
            .filter(account_links::purpose.eq(purpose.code()))
            .filter(account_links::used_at.is_null())
            .filter(account_links::expires_at.gt(now)),
    )
    .set(account_links::used_at.eq(now))
    .execute(conn)?;
    if used == 0 {
        return Ok(None);
    }
    account_links::table
        .find(&hashed)
        .select((account_links::applicant_id, account_links::email))
        .first(conn)
        .optional()
}

/// True when `token` is a live link for `purpose` (exists, unused, unexpired), without using
/// it: asked before costly work (hashing a new password) that a dead link would waste.
pub fn usable(conn: &mut DbConn, purpose: Purpose, token: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        account_links::table
            .find(hash(token.trim()))
            .filter(account_links::purpose.eq(purpose.code()))
            .filter(account_links::used_at.is_null())
            .filter(account_links::expires_at.gt(now)),
    ))
    .get_result(conn)
}

/// The answer to a link that can't be used, the same for every purpose.
pub fn not_valid() -> crate::error::AppError {
    crate::error::AppError::new(
        crate::error::Code::LinkNotValid,
        "this link can't be used: it was used already, has expired, or a newer one was sent",
    )
}

/// Drops links that expired more than a day ago (maintenance).
pub fn prune(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(account_links::table.filter(account_links::expires_at.lt(now - Duration::days(1))))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stored_hash_is_sha256_hex() {
        assert_eq!(super::hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
