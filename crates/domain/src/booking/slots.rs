//! Materialized slots: generating them ahead, finding bookable ones, and taking and giving
//! back seats. Seats are only ever taken by one conditional UPDATE (docs/DOMAIN.md, "Capacity").

use chrono::{Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use crate::booking::schedule;
use crate::booking::slot_times::{self, SlotTime};
use crate::calendar;
use crate::db::schema::{closures, posts, slot_horizons, slots};
use crate::db::{write_transaction, DbConn};

/// A slot as read back: every column, in table order.
#[derive(Debug, Clone, Queryable)]
pub struct Slot {
    pub id: i64,
    pub post_code: String,
    pub service_code: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub local_date: NaiveDate,
    /// The hard limit: `booked` never exceeds it (a CHECK in the database too).
    pub capacity: i32,
    pub booked: i32,
    /// Seats the current week offers; below `capacity` on a slot a schedule change shrank or
    /// retired while it had bookings.
    pub offered: i32,
}

impl Slot {
    /// Seats that can still be booked.
    pub fn remaining(&self) -> i32 {
        (self.capacity.min(self.offered) - self.booked).max(0)
    }
}

/// Rows per INSERT: well under SQLite's 32 766 bind parameters.
const INSERT_BATCH: usize = 500;

/// Inserts new slots; returns how many.
pub fn insert(conn: &mut DbConn, post: &str, service: &str, new: &[SlotTime]) -> QueryResult<usize> {
    let mut inserted = 0;
    for batch in new.chunks(INSERT_BATCH) {
        let rows: Vec<_> = batch
            .iter()
            .map(|s| {
                (
                    slots::post_code.eq(post),
                    slots::service_code.eq(service),
                    slots::starts_at.eq(s.starts_at),
                    slots::ends_at.eq(s.ends_at),
                    slots::local_date.eq(s.local_date),
                    slots::capacity.eq(s.capacity as i32),
                    slots::booked.eq(0),
                    slots::offered.eq(s.capacity as i32),
                )
            })
            .collect();
        // Multi-row INSERT exists on both backends but not on diesel's multi-backend type.
        inserted += match conn {
            DbConn::Sqlite(c) => diesel::insert_into(slots::table).values(&rows).execute(c)?,
            DbConn::Postgres(c) => diesel::insert_into(slots::table).values(&rows).execute(c)?,
        };
    }
    Ok(inserted)
}

/// Re-fits a slot to a new week: it offers `seats` and ends at `ends_at`. The hard capacity
/// follows, but never below what is booked; a slot with more bookings than the new figure
/// keeps them and takes no more until it is under it again.
pub fn refit(conn: &mut DbConn, id: i64, seats: i32, ends_at: NaiveDateTime) -> QueryResult<()> {
    let fits = diesel::update(slots::table.find(id).filter(slots::booked.le(seats)))
        .set((slots::capacity.eq(seats), slots::offered.eq(seats), slots::ends_at.eq(ends_at)))
        .execute(conn)?;
    if fits == 0 {
        diesel::update(slots::table.find(id))
            .set((slots::offered.eq(seats), slots::ends_at.eq(ends_at)))
            .execute(conn)?;
    }
    Ok(())
}

/// Closes a slot the new week doesn't have: it offers no seats, its bookings stay. Returns
/// whether it was offering any.
pub fn retire(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let changed = diesel::update(slots::table.find(id).filter(slots::offered.gt(0)))
        .set(slots::offered.eq(0))
        .execute(conn)?;
    Ok(changed > 0)
}

/// Generates slots up to `horizon_days` ahead of each post's today, for every post and
/// service. Each (post, service) claims its range with a conditional update of its horizon
/// row, so two instances running this at once never generate the same days; the unique
/// (post, service, starts_at) constraint is the backstop. Returns the slots inserted.
pub fn extend_horizons(conn: &mut DbConn, horizon_days: u32, now: NaiveDateTime) -> QueryResult<usize> {
    let rows: Vec<(String, String, NaiveDate, String)> = slot_horizons::table
        .inner_join(posts::table)
        .select((
            slot_horizons::post_code,
            slot_horizons::service_code,
            slot_horizons::generated_through,
            posts::timezone,
        ))
        .load(conn)?;
    let mut inserted = 0;
    for (post, service, through, zone) in rows {
        let Ok(tz) = zone.parse::<Tz>() else {
            tracing::error!(post = %post, "post has an unknown time zone; no slots generated");
            continue;
        };
        let today = calendar::local_date(now, tz);
        let target = today + Duration::days(i64::from(horizon_days));
        if through >= target {
            continue;
        }
        let first = through.max(today - Duration::days(1)) + Duration::days(1);
        inserted += write_transaction(conn, |c| {
            let claimed = diesel::update(
                slot_horizons::table
                    .find((&post, &service))
                    .filter(slot_horizons::generated_through.eq(through)),
            )
            .set(slot_horizons::generated_through.eq(target))
            .execute(c)?;
            if claimed == 0 {
                return Ok(0); // another instance got here first
            }
            let week = schedule::openings(c, &post, &service)?;
            let mut new = Vec::new();
            let mut day = first;
            while day <= target {
                new.extend(slot_times::slots_on(day, tz, &week));
                day += Duration::days(1);
            }
            insert(c, &post, &service, &new)
        })?;
    }
    Ok(inserted)
}

/// Bookable slots of one post and service with local dates in `from..=to`, starting within
/// `earliest..=latest`: free seats, and no closure overlapping.
pub fn bookable(
    conn: &mut DbConn,
    post: &str,
    service: &str,
    from: NaiveDate,
    to: NaiveDate,
    earliest: NaiveDateTime,
    latest: NaiveDateTime,
) -> QueryResult<Vec<Slot>> {
    slots::table
        .filter(slots::post_code.eq(post))
        .filter(slots::service_code.eq(service))
        .filter(slots::local_date.between(from, to))
        .filter(slots::starts_at.between(earliest, latest))
        .filter(slots::booked.lt(slots::capacity))
        .filter(slots::booked.lt(slots::offered))
        .filter(not(exists(
            closures::table
                .filter(closures::post_code.eq(slots::post_code))
                .filter(closures::starts_at.lt(slots::ends_at))
                .filter(closures::ends_at.gt(slots::starts_at)),
        )))
        .order(slots::starts_at)
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Slot>> {
    slots::table.find(id).first(conn).optional()
}

/// Whether a closure covers any part of the slot.
pub fn is_closed(conn: &mut DbConn, slot: &Slot) -> QueryResult<bool> {
    closed(conn, &slot.post_code, slot.starts_at, slot.ends_at)
}

/// Whether a closure of `post` overlaps `starts_at..ends_at`.
fn closed(
    conn: &mut DbConn,
    post: &str,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(exists(
        closures::table
            .filter(closures::post_code.eq(post))
            .filter(closures::starts_at.lt(ends_at))
            .filter(closures::ends_at.gt(starts_at)),
    ))
    .get_result(conn)
}

/// Why seats could not be taken.
#[derive(Debug, PartialEq, Eq)]
pub enum SeatRefusal {
    Full,
    Closed,
    Gone,
}

/// Takes `seats` in slot `id` with one conditional UPDATE, which must be the first statement
/// of the caller's transaction: it both checks and takes, so concurrent callers can never
/// overbook (PostgreSQL re-checks the row after a concurrent update; SQLite runs writers one at
/// a time). The slot must also start no earlier than `not_before` and have no closure.
///
/// The closure is checked again in a second statement: on PostgreSQL the UPDATE's subquery
/// reads the snapshot from before it waited on the row, and a closure committed meanwhile
/// (which locks the slots it covers, see `closures::create`) must still win.
pub fn take_seats(
    conn: &mut DbConn,
    id: i64,
    seats: i32,
    not_before: NaiveDateTime,
) -> QueryResult<Result<(), SeatRefusal>> {
    let taken: Option<(String, NaiveDateTime, NaiveDateTime)> = diesel::update(
        slots::table
            .find(id)
            .filter((slots::booked + seats).le(slots::capacity))
            .filter((slots::booked + seats).le(slots::offered))
            .filter(slots::starts_at.ge(not_before))
            .filter(not(exists(
                closures::table
                    .filter(closures::post_code.eq(slots::post_code))
                    .filter(closures::starts_at.lt(slots::ends_at))
                    .filter(closures::ends_at.gt(slots::starts_at)),
            ))),
    )
    .set(slots::booked.eq(slots::booked + seats))
    .returning((slots::post_code, slots::starts_at, slots::ends_at))
    .get_result(conn)
    .optional()?;
    if let Some((post, starts_at, ends_at)) = taken {
        return Ok(if closed(conn, &post, starts_at, ends_at)? { Err(SeatRefusal::Closed) } else { Ok(()) });
    }
    let refusal = match find(conn, id)? {
        None => SeatRefusal::Gone,
        Some(slot) if slot.starts_at < not_before => SeatRefusal::Gone,
        Some(slot) if is_closed(conn, &slot)? => SeatRefusal::Closed,
        Some(_) => SeatRefusal::Full,
    };
    Ok(Err(refusal))
}

/// Returns `seats` to slot `id` (within the caller's transaction).
pub fn give_back(conn: &mut DbConn, id: i64, seats: i32) -> QueryResult<()> {
    let returned = diesel::update(slots::table.find(id).filter(slots::booked.ge(seats)))
        .set(slots::booked.eq(slots::booked - seats))
        .execute(conn)?;
    if returned == 0 {
        // Never expected: the count already disagrees with the seats held.
        tracing::error!(slot = id, seats, "slot holds fewer seats than are being returned");
    }
    Ok(())
}
