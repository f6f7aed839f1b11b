//! Gapless sequential numbers: receipts, notarial-register entries and queue tickets are
//! numbered 1, 2, 3, ... per scope (a post, a US fiscal year, a kind), with no gap and no number
//! twice, also with several instances on one PostgreSQL database.
//!
//! A number is taken by one conditional statement inside the caller's transaction, the one that
//! writes the numbered record: `UPDATE counters SET last_value = last_value + 1 WHERE scope = ?
//! RETURNING last_value`. The row stays locked until that transaction ends, so the next caller
//! waits; if the caller rolls back, so does its number, and nobody has seen it. A sequence
//! would be faster and leave gaps. The first number of a scope inserts its row recoverably;
//! two first callers race on the primary key and the loser counts again.

use diesel::prelude::*;

use crate::db::schema::counters;
use crate::db::{is_unique_violation, recoverable, DbConn};

/// Takes the next number of `scope`. Call it inside the transaction that writes the record the
/// number goes on (see [`crate::db::write_transaction`]); outside one it commits at once.
pub fn next(conn: &mut DbConn, scope: &str) -> QueryResult<i64> {
    for _ in 0..3 {
        let taken = diesel::update(counters::table.find(scope))
            .set(counters::last_value.eq(counters::last_value + 1))
            .returning(counters::last_value)
            .get_result::<i64>(conn)
            .optional()?;
        if let Some(number) = taken {
            return Ok(number);
        }
        let opened = recoverable(conn, |c| {
            diesel::insert_into(counters::table)
                .values((counters::scope.eq(scope), counters::last_value.eq(1_i64)))
                .execute(c)
        });
        match opened {
            Ok(_) => return Ok(1),
            // Another caller opened the scope first (and has committed): count after it.
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    // Opened by another caller, yet not there to count: only a deleted row does that.
    Err(diesel::result::Error::NotFound)
}

/// How receipts and register entries print their number: post, US fiscal year, and the
/// number in six digits (`MEX-2027-000123`).
pub fn post_year_number(post: &str, fiscal_year: i32, number: i64) -> String {
    format!("{post}-{fiscal_year}-{number:06}")
}

/// The last number taken in `scope`, if any (for reports and checks).
pub fn last(conn: &mut DbConn, scope: &str) -> QueryResult<Option<i64>> {
    counters::table.find(scope).select(counters::last_value).first(conn).optional()
}
