//! Fixed-window counters kept in the database, so every instance sees the same count.
//!
//! Every limit counts first and decides after, in the same statement that reads the count back,
//! so a burst of parallel requests can't all slip under the limit before any is counted.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::throttle_buckets;
use crate::db::{is_unique_violation, recoverable, without_waiting_for_disk, DbConn};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// How long a bucket stays closed, or `None` when it is open. Pure rule.
pub fn retry_after(
    window_started_at: NaiveDateTime,
    hits: i32,
    limit: Limit,
    now: NaiveDateTime,
) -> Option<Duration> {
    let ends = window_started_at + limit.window;
    (ends > now && hits >= 0 && hits as u32 >= limit.max).then(|| ends - now)
}

/// Counts one event in `bucket`, opening a new window when the last one has ended, and
/// returns the window's start and count after it. The common case is one statement.
fn count(
    conn: &mut DbConn,
    bucket: &str,
    window: Duration,
    now: NaiveDateTime,
) -> QueryResult<(NaiveDateTime, i32)> {
    let window_open_since = now - window;
    for _ in 0..3 {
        let counted = diesel::update(
            throttle_buckets::table
                .find(bucket)
                .filter(throttle_buckets::window_started_at.gt(window_open_since)),
        )
        .set(throttle_buckets::hits.eq(throttle_buckets::hits + 1))
        .returning((throttle_buckets::window_started_at, throttle_buckets::hits))
        .get_result(conn)
        .optional()?;
        if let Some(state) = counted {
            return Ok(state);
        }
        let restarted = diesel::update(
            throttle_buckets::table
                .find(bucket)
                .filter(throttle_buckets::window_started_at.le(window_open_since)),
        )
        .set((throttle_buckets::hits.eq(1), throttle_buckets::window_started_at.eq(now)))
        .execute(conn)?;
        if restarted > 0 {
            return Ok((now, 1));
        }
        // Recoverable: a conflicting insert must not abort the caller's transaction.
        let inserted = recoverable(conn, |c| {
            diesel::insert_into(throttle_buckets::table)
                .values((
                    throttle_buckets::bucket.eq(bucket),
                    throttle_buckets::window_started_at.eq(now),
                    throttle_buckets::hits.eq(1),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok((now, 1)),
            // Someone else opened the bucket between our update and insert: count again.
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok((now, 1))
}

/// Counts one event in each bucket and returns each window's start and count after it (in one
/// transaction on PostgreSQL; on SQLite each statement commits at once, which is as good here).
pub fn count_all(
    conn: &mut DbConn,
    buckets: &[String],
    window: Duration,
    now: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDateTime, i32)>> {
    without_waiting_for_disk(conn, |c| buckets.iter().map(|bucket| count(c, bucket, window, now)).collect())
}

/// Takes back one event counted in `bucket`'s window that started at `window_started_at` (an
/// attempt that turned out not to be a failure). A window that has since restarted is left alone.
pub fn uncount(conn: &mut DbConn, bucket: &str, window_started_at: NaiveDateTime) -> QueryResult<()> {
    without_waiting_for_disk(conn, |c| {
        diesel::update(
            throttle_buckets::table
                .find(bucket)
                .filter(throttle_buckets::window_started_at.eq(window_started_at))
                .filter(throttle_buckets::hits.gt(0)),
        )
        .set(throttle_buckets::hits.eq(throttle_buckets::hits - 1))
        .execute(c)
        .map(|_| ())
    })
}

/// Counts one attempt and says whether it is over the limit: `Some(wait)` once `bucket` has
/// seen more than `limit.max` attempts in the current window. For rate limits, where every
/// attempt counts (unlike failed logins, where only failures do).
pub fn take(
    conn: &mut DbConn,
    bucket: &str,
    limit: Limit,
    now: NaiveDateTime,
) -> QueryResult<Option<Duration>> {
    let (started, hits) = without_waiting_for_disk(conn, |c| count(c, bucket, limit.window, now))?;
    Ok(retry_after(started, hits, Limit { max: limit.max.saturating_add(1), ..limit }, now))
}

/// Drops buckets whose window ended more than `keep` ago.
pub fn prune(conn: &mut DbConn, keep: Duration, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(throttle_buckets::table.filter(throttle_buckets::window_started_at.lt(now - keep)))
        .execute(conn)
}

/// Forgets `bucket` (after a successful login, the account's failures no longer count).
pub fn clear(conn: &mut DbConn, bucket: &str) -> QueryResult<()> {
    diesel::delete(throttle_buckets::table.find(bucket)).execute(conn).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 27).and_then(|d| d.and_hms_opt(h, m, 0)).expect("valid time")
    }

    const LIMIT: Limit = Limit { max: 5, window: Duration::minutes(15) };

    #[test]
    fn open_below_the_limit() {
        assert_eq!(retry_after(at(10, 0), 4, LIMIT, at(10, 1)), None);
    }

    #[test]
    fn closed_at_the_limit_until_the_window_ends() {
        assert_eq!(retry_after(at(10, 0), 5, LIMIT, at(10, 5)), Some(Duration::minutes(10)));
        assert_eq!(retry_after(at(10, 0), 9, LIMIT, at(10, 15)), None);
    }
}
