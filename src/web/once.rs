//! Forms that write what can't be taken back (a tracked document and its notarial register
//! entry, a register correction, a receipt) carry a one-time token. The write claims the token
//! in its own transaction and notes the page it led to, so a double click or a form sent again
//! writes once and lands where the first did. Tokens are kept in `idempotency_keys` (scoped to
//! the staff member, pruned after a day with the API's idempotency keys).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Actor;
use crate::db::schema::idempotency_keys;
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::error::AppError;

/// The hidden input that carries the token.
pub const FIELD: &str = "once";

/// A fresh token for one rendering of a form.
pub fn token() -> String {
    rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` is one this site made (any other is a form that didn't come from a page).
pub fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What claiming a token found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// First use: go on and write.
    Fresh,
    /// Already used; the page the first use led to.
    Used(String),
}

fn scope(actor: &Actor) -> String {
    format!("form:{}:{}", actor.kind(), actor.id().unwrap_or(0))
}

/// Claims `token` for `actor`, inside the caller's transaction: a second claim waits for the
/// first's transaction and then finds it used (or, if that one rolled back, claims it).
pub fn claim(conn: &mut DbConn, actor: &Actor, token: &str, now: NaiveDateTime) -> Result<Claim, AppError> {
    let scope = scope(actor);
    let inserted = recoverable(conn, |c| {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::scope.eq(&scope),
                idempotency_keys::idem_key.eq(token),
                idempotency_keys::request.eq("page form"),
                idempotency_keys::status.eq(303),
                idempotency_keys::response.eq(""),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(Claim::Fresh),
        Err(e) if is_unique_violation(&e) => {
            let led_to: String = idempotency_keys::table
                .find((&scope, token))
                .select(idempotency_keys::response)
                .first(conn)?;
            Ok(Claim::Used(led_to))
        }
        Err(e) => Err(e.into()),
    }
}

/// Notes the page a claimed token's write led to, in the same transaction.
pub fn settle(conn: &mut DbConn, actor: &Actor, token: &str, led_to: &str) -> Result<(), AppError> {
    diesel::update(idempotency_keys::table.find((scope(actor), token)))
        .set(idempotency_keys::response.eq(led_to))
        .execute(conn)?;
    Ok(())
}

/// Runs `write` (which returns the page it led to) once for `token`, in one transaction with
/// the claim; a token already used answers the page its first use led to, writing nothing.
pub fn write_once<F>(
    conn: &mut DbConn,
    actor: &Actor,
    token: &str,
    now: NaiveDateTime,
    write: F,
) -> Result<String, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<String, AppError>,
{
    write_transaction(conn, |c| match claim(c, actor, token, now)? {
        Claim::Used(led_to) => Ok(led_to),
        Claim::Fresh => {
            let led_to = write(c)?;
            settle(c, actor, token, &led_to)?;
            Ok(led_to)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_only_ours_are_well_formed() {
        let (a, b) = (token(), token());
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert!(!well_formed(""));
        assert!(!well_formed(&"z".repeat(32)));
        assert!(!well_formed(&format!("{a}0")));
    }
}
