//! An applicant's own booking, as the API and the pages both make it: a replay of an earlier
//! request with the same idempotency key, or an attempt counted against the applicant and
//! their address, then the booking; a seat taken makes this instance's cached availability of
//! the post stale.

use chrono::NaiveDateTime;

use crate::auth::Applicant;
use crate::booking::appointments::{self, AppointmentView, Booked, BookingRequest, Idempotency, Rules};
use crate::booking::availability_cache::AvailabilityCache;
use crate::booking::ics;
use crate::booking::reference_code::Reference;
use crate::clock::Clock;
use crate::config::BookingSettings;
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::reference::Post;
use crate::wording::Lang;

#[allow(clippy::too_many_arguments)] // what booking uses, each named, rather than the whole state
pub async fn book(
    pool: &Pool,
    availability: &AvailabilityCache,
    settings: &BookingSettings,
    now: NaiveDateTime,
    who: Applicant,
    request: BookingRequest,
    idempotency: Option<Idempotency>,
    client_address: String,
) -> Result<Booked, AppError> {
    let settings = settings.clone();
    let outcome = db::run(pool, move |conn| {
        if let Some(replayed) = appointments::replay(conn, &who.actor(), idempotency.as_ref())? {
            return Ok(replayed);
        }
        crate::booking::count_attempt(conn, &settings, who.id, &client_address, now)?;
        appointments::book(conn, &Rules::from(&settings), &who.actor(), &request, idempotency, now)
    })
    .await?;
    seat_taken(availability, &outcome);
    Ok(outcome)
}

/// A booking took a seat: this instance's cached availability of the post is stale.
pub fn seat_taken(availability: &AvailabilityCache, outcome: &Booked) {
    if let Booked::Created(view) = outcome {
        availability.invalidate(&view.post);
    }
}

/// The applicant's own appointment and its post's name and address; 404 for anyone else's.
pub async fn own_with_post(
    pool: &Pool,
    who: Applicant,
    reference: Reference,
) -> Result<(AppointmentView, Option<Post>), AppError> {
    db::run(pool, move |conn| {
        let view = appointments::view_own(conn, &reference, who.id)?;
        let post = crate::reference::list_posts(conn)?.into_iter().find(|p| p.code == view.post);
        Ok((view, post))
    })
    .await
}

/// The calendar file (iCalendar) of the applicant's own appointment in `lang`, and its file
/// name: the event as booked or moved, or, once cancelled, the file that removes it.
pub async fn calendar_file(
    pool: &Pool,
    clock: &Clock,
    who: Applicant,
    reference: Reference,
    lang: Lang,
) -> Result<(String, String), AppError> {
    let (view, sequence, post) = db::run(pool, move |conn| {
        let (view, sequence) = appointments::view_own_with_sequence(conn, &reference, who.id)?;
        let post = crate::reference::list_posts(conn)?.into_iter().find(|p| p.code == view.post);
        Ok((view, sequence, post))
    })
    .await?;
    let event = ics::appointment_event(&view, post.as_ref(), sequence, lang, clock.now())?;
    Ok((ics::calendar(&event), format!("appointment-{}.ics", view.reference)))
}

/// The applicant cancels their own appointment; the seat goes back after the release delay,
/// so this instance's cached availability of the post is stale.
pub async fn cancel(
    pool: &Pool,
    availability: &AvailabilityCache,
    rules: Rules,
    now: NaiveDateTime,
    who: Applicant,
    reference: Reference,
) -> Result<AppointmentView, AppError> {
    let view =
        db::run(pool, move |conn| appointments::cancel(conn, &rules, &who.actor(), &reference, None, now))
            .await?;
    availability.invalidate(&view.post);
    Ok(view)
}

/// The applicant moves their own appointment to `slot_id` (counted as a booking attempt):
/// the new seat is held and the old one given up, or nothing changes.
#[allow(clippy::too_many_arguments)] // what moving uses, each named, rather than the whole state
pub async fn reschedule(
    pool: &Pool,
    availability: &AvailabilityCache,
    settings: &BookingSettings,
    now: NaiveDateTime,
    who: Applicant,
    reference: Reference,
    slot_id: i64,
    client_address: String,
) -> Result<AppointmentView, AppError> {
    let settings = settings.clone();
    let view = db::run(pool, move |conn| {
        crate::booking::count_attempt(conn, &settings, who.id, &client_address, now)?;
        appointments::reschedule(conn, &Rules::from(&settings), &who.actor(), &reference, slot_id, None, now)
    })
    .await?;
    // The appointment may have moved between posts: drop every cached answer.
    availability.invalidate_all();
    Ok(view)
}
