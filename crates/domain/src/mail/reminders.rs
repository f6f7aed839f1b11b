//! The reminder before an appointment, queued by every instance's maintenance timer and sent
//! once however many run: one conditional update of `reminder_queued_at` decides who queues it.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::booking::status::AppointmentStatus;
use crate::db::schema::appointments;
use crate::db::{write_transaction, DbConn};
use crate::mail::{notices, Kind};

/// Queues the reminders of booked appointments (with an account) starting within `hours`.
/// One booked inside that window gets none: its confirmation is fresh. Returns how many were
/// queued.
pub fn queue_due(conn: &mut DbConn, hours: u32, now: NaiveDateTime) -> QueryResult<usize> {
    let ahead = Duration::hours(i64::from(hours));
    let due: Vec<(i64, String, NaiveDateTime, NaiveDateTime)> = appointments::table
        .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
        .filter(appointments::applicant_id.is_not_null())
        .filter(appointments::reminder_queued_at.is_null())
        .filter(appointments::starts_at.gt(now))
        .filter(appointments::starts_at.le(now + ahead))
        .order(appointments::starts_at)
        .limit(1000)
        .select((
            appointments::id,
            appointments::reference,
            appointments::starts_at,
            appointments::updated_at,
        ))
        .load(conn)?;
    let mut queued = 0;
    for (id, reference, starts_at, changed_at) in due {
        queued += write_transaction(conn, |c| {
            let claimed = diesel::update(
                appointments::table.find(id).filter(appointments::reminder_queued_at.is_null()),
            )
            .set(appointments::reminder_queued_at.eq(now))
            .execute(c)?;
            let remind = claimed == 1 && changed_at <= starts_at - ahead;
            if remind {
                notices::appointment(c, Kind::AppointmentReminder, &reference, now)?;
            }
            QueryResult::Ok(usize::from(remind))
        })?;
    }
    Ok(queued)
}
