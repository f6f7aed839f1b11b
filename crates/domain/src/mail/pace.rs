//! The sending pace all instances share (`CONSULAR_DESK_SMTP_RATE_PER_SECOND`): a mail provider
//! limits the whole service, not each instance. One row holds when the next claim may be
//! made; a claim takes its messages' share of time from it (n messages at r per second push it
//! n/r seconds on), in the claim's transaction, so the instances together keep to the rate.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Timestamp;

use crate::db::schema::mail_pace;
use crate::db::{write_transaction, DbConn};
use crate::mail::outbox::{self, Claimed};

/// Claims up to `batch` due messages if the pace allows it now; else how long until it does.
/// At most one second's worth is claimed at once, so the messages go evenly.
pub fn claim_paced(
    conn: &mut DbConn,
    rate_per_second: u32,
    batch: i64,
    lease: Duration,
    now: NaiveDateTime,
) -> QueryResult<Result<Vec<Claimed>, std::time::Duration>> {
    if rate_per_second == 0 {
        return outbox::claim(conn, batch, lease, now).map(Ok);
    }
    write_transaction(conn, |c| {
        let next_at: NaiveDateTime = match c {
            DbConn::Postgres(pg) => {
                #[derive(QueryableByName)]
                struct Pace {
                    #[diesel(sql_type = Timestamp)]
                    next_at: NaiveDateTime,
                }
                diesel::sql_query("SELECT next_at FROM mail_pace WHERE id = 1 FOR UPDATE")
                    .get_result::<Pace>(pg)?
                    .next_at
            }
            DbConn::Sqlite(_) => mail_pace::table.find(1).select(mail_pace::next_at).first(c)?,
        };
        if next_at > now {
            return Ok(Err((next_at - now).to_std().unwrap_or_default()));
        }
        let want = batch.min(i64::from(rate_per_second)).max(1);
        let claimed = outbox::claim(c, want, lease, now)?;
        if !claimed.is_empty() {
            let share = Duration::microseconds(claimed.len() as i64 * 1_000_000 / i64::from(rate_per_second));
            diesel::update(mail_pace::table.find(1)).set(mail_pace::next_at.eq(now + share)).execute(c)?;
        }
        Ok(Ok(claimed))
    })
}
