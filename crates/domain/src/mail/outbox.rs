//! The outbox table: queue a message with its event, claim due ones, mark what happened, and
//! what the admins' view counts.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use serde::Serialize;

use crate::db::schema::outbox;
use crate::db::{write_transaction, DbConn};
use crate::mail::Kind;
use crate::wording::Lang;

/// The longest failure reason kept (an SMTP reply can be long).
const MAX_REASON_CHARS: usize = 300;

/// A message to queue: its kind, where it goes, its language and the values it needs.
#[derive(Debug, Clone)]
pub struct Letter {
    pub kind: Kind,
    pub to: String,
    pub lang: Lang,
    /// The template's values; an appointment's message names its `reference` here and gets
    /// the rest from the appointment when it is sent.
    pub values: serde_json::Map<String, serde_json::Value>,
}

impl Letter {
    pub fn new(kind: Kind, to: &str, lang: Lang) -> Letter {
        Letter { kind, to: to.to_string(), lang, values: serde_json::Map::new() }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Letter {
        self.values.insert(name.to_string(), serde_json::Value::String(value.into()));
        self
    }
}

/// Queues `letter`, due now, on the caller's connection: called inside the event's
/// transaction, it commits or rolls back with the event. Returns the row's id.
pub fn enqueue(conn: &mut DbConn, letter: &Letter, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::kind.eq(letter.kind.code()),
            outbox::recipient.eq(&letter.to),
            outbox::language.eq(letter.lang.code()),
            outbox::payload.eq(serde_json::Value::Object(letter.values.clone()).to_string()),
            outbox::state.eq("waiting"),
            outbox::tries.eq(0),
            outbox::due_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .returning(outbox::id)
        .get_result(conn)
}

/// A message this instance has claimed and must now send and mark.
#[derive(Debug, Clone, QueryableByName, Queryable)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Text)]
    pub language: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    /// Tries so far, this one included.
    #[diesel(sql_type = Integer)]
    pub tries: i32,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
}

/// Claims up to `batch` due messages until `now + lease`: waiting ones whose time has come, and
/// ones another sender claimed and never marked (it crashed) once their claim has run out.
/// Each claim counts as a try. PostgreSQL skips rows other instances are claiming at the same
/// moment (`FOR UPDATE SKIP LOCKED`); SQLite has one writer, so one transaction decides.
pub fn claim(
    conn: &mut DbConn,
    batch: i64,
    lease: Duration,
    now: NaiveDateTime,
) -> QueryResult<Vec<Claimed>> {
    let until = now + lease;
    match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "UPDATE outbox SET state = 'sending', tries = tries + 1, claimed_until = $1 \
             WHERE id IN (SELECT id FROM outbox \
                 WHERE (state = 'waiting' AND due_at <= $2) OR (state = 'sending' AND claimed_until <= $2) \
                 ORDER BY priority, due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, recipient, language, payload, tries, created_at",
        )
        .bind::<Timestamp, _>(until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(batch)
        .load(pg),
        DbConn::Sqlite(_) => write_transaction(conn, |c| {
            let ids: Vec<i64> = outbox::table
                .filter(
                    (outbox::state.eq("waiting").and(outbox::due_at.le(now)))
                        .or(outbox::state.eq("sending").and(outbox::claimed_until.le(now))),
                )
                .order((outbox::priority, outbox::due_at, outbox::id))
                .limit(batch)
                .select(outbox::id)
                .load(c)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                .set((
                    outbox::state.eq("sending"),
                    outbox::tries.eq(outbox::tries + 1),
                    outbox::claimed_until.eq(until),
                ))
                .execute(c)?;
            outbox::table
                .filter(outbox::id.eq_any(&ids))
                .order((outbox::due_at, outbox::id))
                .select((
                    outbox::id,
                    outbox::kind,
                    outbox::recipient,
                    outbox::language,
                    outbox::payload,
                    outbox::tries,
                    outbox::created_at,
                ))
                .load(c)
        }),
    }
}

/// The message went: it is sent. Its values (which may hold a link or a name) are dropped.
pub fn mark_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::state.eq("sending")))
        .set((
            outbox::state.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
            outbox::payload.eq("{}"),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What the message was about is gone or no longer wants it (a deleted registration): it is
/// not sent, and says why.
pub fn mark_withdrawn(conn: &mut DbConn, id: i64, why: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::state.eq("sending")))
        .set((
            outbox::state.eq("withdrawn"),
            outbox::sent_at.eq(now),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(why),
            outbox::payload.eq("{}"),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The try failed: wait [`backoff`] and try again, or give up after `max_tries`, keeping why.
pub fn mark_failed(
    conn: &mut DbConn,
    claimed: &Claimed,
    reason: &str,
    max_tries: u32,
    retry_base: Duration,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
    let gave_up = u32::try_from(claimed.tries).unwrap_or(u32::MAX) >= max_tries;
    let (state, due) =
        if gave_up { ("failed", now) } else { ("waiting", now + backoff(retry_base, claimed.tries)) };
    diesel::update(outbox::table.find(claimed.id).filter(outbox::state.eq("sending")))
        .set((
            outbox::state.eq(state),
            outbox::due_at.eq(due),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(reason),
        ))
        .execute(conn)
        .map(|_| ())
}

/// How long to wait after the `tries`th failed try: `base`, doubling with each try, at most
/// six hours. Pure rule.
pub fn backoff(base: Duration, tries: i32) -> Duration {
    let doublings = u32::try_from(tries.saturating_sub(1)).unwrap_or(0).min(20);
    let wait = base * 2_i32.saturating_pow(doublings);
    wait.min(Duration::hours(6))
}

/// Puts a message that was given up back in the queue, due now, with its tries counted anew.
/// False when no failed message has this id.
pub fn send_again(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(outbox::table.find(id).filter(outbox::state.eq("failed")))
        .set((outbox::state.eq("waiting"), outbox::due_at.eq(now), outbox::tries.eq(0)))
        .execute(conn)
        .map(|n| n == 1)
}

/// Forgets sent (and withdrawn) messages queued before `before` (their values are gone
/// already; the rows only count for the admins' view).
pub fn prune_sent(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::state.eq_any(["sent", "withdrawn"]))
            .filter(outbox::created_at.lt(before)),
    )
    .execute(conn)
}

/// How many messages of one kind queued on one day are in each state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct KindCounts {
    pub kind: Kind,
    pub sent: i64,
    /// Waiting for their first or a later try, or being sent.
    pub waiting: i64,
    pub failed: i64,
    /// Not sent because what it was about went away (a registration deleted before its turn).
    pub withdrawn: i64,
}

/// A message that was given up: what it was, when, how often it was tried and the last reason.
/// Neither its address nor its body.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FailedMessage {
    pub id: i64,
    pub kind: Kind,
    #[schema(value_type = String, format = DateTime)]
    pub queued_at: NaiveDateTime,
    pub tries: i32,
    pub reason: String,
}

/// The counts of messages queued between `from` and `to` (UTC) per kind and state, and the
/// failed ones among them.
pub fn summary(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<(Vec<KindCounts>, Vec<FailedMessage>)> {
    let rows: Vec<(String, String, i64)> = outbox::table
        .filter(outbox::created_at.ge(from).and(outbox::created_at.lt(to)))
        .group_by((outbox::kind, outbox::state))
        .select((outbox::kind, outbox::state, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts: Vec<KindCounts> = Vec::new();
    for (kind, state, n) in rows {
        let Some(kind) = Kind::parse(&kind) else { continue };
        let i = match counts.iter().position(|c| c.kind == kind) {
            Some(i) => i,
            None => {
                counts.push(KindCounts { kind, sent: 0, waiting: 0, failed: 0, withdrawn: 0 });
                counts.len() - 1
            }
        };
        match state.as_str() {
            "sent" => counts[i].sent += n,
            "failed" => counts[i].failed += n,
            "withdrawn" => counts[i].withdrawn += n,
            _ => counts[i].waiting += n,
        }
    }
    counts.sort_by_key(|c| c.kind.code());
    let failed = outbox::table
        .filter(outbox::created_at.ge(from).and(outbox::created_at.lt(to)))
        .filter(outbox::state.eq("failed"))
        .order(outbox::id)
        .limit(500)
        .select((outbox::id, outbox::kind, outbox::created_at, outbox::tries, outbox::last_error))
        .load::<(i64, String, NaiveDateTime, i32, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(id, kind, queued_at, tries, reason)| {
            Some(FailedMessage {
                id,
                kind: Kind::parse(&kind)?,
                queued_at,
                tries,
                reason: reason.unwrap_or_default(),
            })
        })
        .collect();
    Ok((counts, failed))
}

/// The UTC bounds of a calendar day, for [`summary`].
pub fn day_bounds(day: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (start, start + Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_six_hours() {
        let base = Duration::seconds(30);
        assert_eq!(backoff(base, 1), Duration::seconds(30));
        assert_eq!(backoff(base, 2), Duration::seconds(60));
        assert_eq!(backoff(base, 5), Duration::seconds(480));
        assert_eq!(backoff(base, 40), Duration::hours(6));
        assert_eq!(backoff(base, 0), Duration::seconds(30));
    }
}
