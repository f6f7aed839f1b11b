//! What operations watch: the counters the use-cases keep for `/metrics`, the backlogs read
//! from the database at scrape time, and the readiness rule `/readyz` applies to them.
//!
//! The counters are per process (each instance counts what it did; Prometheus sums the
//! instances) and carry a post code as their only label: never a name, an address, a
//! reference or a path.

use std::sync::LazyLock;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use prometheus::{IntCounterVec, Opts};
use serde::Serialize;

use crate::db::schema::{audit_log, audit_pending, outbox};
use crate::db::DbConn;

/// Appointments booked, by post: online, by staff for someone who phoned, on the pages alike
/// (they all go through `booking::appointments::book`). Walk-ins are visits, not bookings.
pub static BOOKINGS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter("consular_desk_bookings_total", "Appointments booked by this instance, by post")
});

/// Receipts issued, by post (`fees::receipts::record`, the API's and the pages').
pub static RECEIPTS: LazyLock<IntCounterVec> =
    LazyLock::new(|| counter("consular_desk_receipts_total", "Receipts issued by this instance, by post"));

fn counter(name: &str, help: &str) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), &["post"]).unwrap_or_else(|_| unreachable_metric())
}

/// The names and labels above are constants that `prometheus` accepts (the unit tests build
/// them); only a typo in them could get here.
fn unreachable_metric() -> ! {
    panic!("a metric's constant name or labels are invalid")
}

/// Counts one appointment booked at `post`.
pub fn booked(post: &str) {
    BOOKINGS.with_label_values(&[post]).inc();
}

/// Counts one receipt issued at `post`.
pub fn receipt_issued(post: &str) {
    RECEIPTS.with_label_values(&[post]).inc();
}

/// The sealer may be this far behind before the instance stops being ready.
pub const SEALER_MAX_LAG: Duration = Duration::seconds(60);

/// Messages given up longer ago than this make the instance not ready: somebody has to look.
pub const FAILED_MAIL_MAX_AGE: Duration = Duration::hours(1);

/// The database's backlogs at one moment, by the app's clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Seconds since the oldest audit entry still waiting for the sealer was written; 0 when
    /// none waits.
    pub sealer_lag_secs: i64,
    /// Messages waiting for their first or a later try, or being sent.
    pub mail_waiting: i64,
    /// Messages given up (`failed`), whenever.
    pub mail_failed: i64,
    /// Of those, given up more than [`FAILED_MAIL_MAX_AGE`] ago.
    pub mail_failed_old: i64,
    /// Seconds since the oldest message was given up; 0 when none was.
    pub oldest_failed_secs: i64,
}

/// Reads the backlogs: the first queued audit entry (the queue's primary key, entries are
/// queued in id order) and the outbox by state (its `(state, due_at)` index; a message given
/// up has `due_at` set to that moment).
pub fn backlog(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Backlog> {
    let oldest_unsealed: Option<NaiveDateTime> = audit_pending::table
        .inner_join(audit_log::table)
        .order(audit_pending::entry_id)
        .select(audit_log::recorded_at)
        .first(conn)
        .optional()?;
    let mail_waiting: i64 =
        outbox::table.filter(outbox::state.eq_any(["waiting", "sending"])).count().get_result(conn)?;
    let mail_failed: i64 = outbox::table.filter(outbox::state.eq("failed")).count().get_result(conn)?;
    let (mail_failed_old, oldest_failed) = match mail_failed {
        0 => (0, None),
        _ => {
            let old: i64 = outbox::table
                .filter(outbox::state.eq("failed"))
                .filter(outbox::due_at.lt(now - FAILED_MAIL_MAX_AGE))
                .count()
                .get_result(conn)?;
            let oldest: Option<NaiveDateTime> = outbox::table
                .filter(outbox::state.eq("failed"))
                .select(diesel::dsl::min(outbox::due_at))
                .first(conn)?;
            (old, oldest)
        }
    };
    let age = |at: Option<NaiveDateTime>| at.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0);
    Ok(Backlog {
        sealer_lag_secs: age(oldest_unsealed),
        mail_waiting,
        mail_failed,
        mail_failed_old,
        oldest_failed_secs: age(oldest_failed),
    })
}

/// Why an instance is not ready, as `/readyz` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum NotReady {
    /// The database doesn't answer.
    DatabaseUnreachable,
    /// The oldest unsealed audit entry is older than a minute.
    SealerBehind { lag_seconds: i64 },
    /// Messages were given up more than an hour ago and are still failed.
    FailedMail { count: i64, oldest_age_seconds: i64 },
}

/// The readiness rule over a backlog: the sealer at most [`SEALER_MAX_LAG`] behind, no message
/// given up longer than [`FAILED_MAIL_MAX_AGE`] ago. Pure.
pub fn not_ready(backlog: &Backlog) -> Vec<NotReady> {
    let mut reasons = Vec::new();
    if backlog.sealer_lag_secs > SEALER_MAX_LAG.num_seconds() {
        reasons.push(NotReady::SealerBehind { lag_seconds: backlog.sealer_lag_secs });
    }
    if backlog.mail_failed_old > 0 {
        reasons.push(NotReady::FailedMail {
            count: backlog.mail_failed_old,
            oldest_age_seconds: backlog.oldest_failed_secs,
        });
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counters_are_valid_metrics() {
        booked("MEX");
        receipt_issued("MEX");
        assert!(BOOKINGS.with_label_values(&["MEX"]).get() >= 1);
        assert!(RECEIPTS.with_label_values(&["MEX"]).get() >= 1);
    }

    #[test]
    fn ready_until_the_sealer_is_a_minute_behind_or_mail_failed_an_hour_ago() {
        assert!(not_ready(&Backlog::default()).is_empty());
        let behind = Backlog { sealer_lag_secs: 60, ..Backlog::default() };
        assert!(not_ready(&behind).is_empty(), "a minute exactly is still ready");
        let behind = Backlog { sealer_lag_secs: 61, ..Backlog::default() };
        assert_eq!(not_ready(&behind), vec![NotReady::SealerBehind { lag_seconds: 61 }]);
        let fresh_failure = Backlog { mail_failed: 3, oldest_failed_secs: 600, ..Backlog::default() };
        assert!(not_ready(&fresh_failure).is_empty(), "failed ten minutes ago: not yet");
        let old =
            Backlog { mail_failed: 3, mail_failed_old: 2, oldest_failed_secs: 4000, ..Backlog::default() };
        assert_eq!(not_ready(&old), vec![NotReady::FailedMail { count: 2, oldest_age_seconds: 4000 }]);
    }

    #[test]
    fn reasons_serialize_with_their_code() {
        let json = serde_json::to_value(NotReady::SealerBehind { lag_seconds: 90 }).expect("json");
        assert_eq!(json, serde_json::json!({"code": "sealer_behind", "lag_seconds": 90}));
        let json = serde_json::to_value(NotReady::DatabaseUnreachable).expect("json");
        assert_eq!(json, serde_json::json!({"code": "database_unreachable"}));
    }
}
