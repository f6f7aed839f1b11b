//! Closing the window's day. Each post closes at its closing time (a setting, or the end of
//! the day's last opening, see [`rules::closing_at`]); the maintenance timer of every instance
//! then closes each visit of that day still checked in or called as `not_served`, as the
//! system, one conditional update and one audit entry each. A supervisor sees the day's list
//! and books each person again into the next free slot of the same service.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use diesel::dsl::max;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::booking::appointments::{self as booking, AppointmentView, Booked, BookingRequest, Rules};
use crate::booking::party::Party;
use crate::booking::reference_code::Reference;
use crate::booking::slots;
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::db::schema::{appointments, posts, schedules};
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, Code};
use crate::rule::Rule;
use crate::window::rules;
use crate::window::visits::{self, invalid_transition};

/// A post's closing time as set and as it falls today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClosingTime {
    pub post: String,
    pub timezone: String,
    /// The setting (`HH:MM`, local); absent: the end of the day's last opening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
    /// The post's local date today.
    pub today: NaiveDate,
    /// When today's window day closes, with the post's offset.
    pub closes_today_at: String,
}

/// When the last opening of any service at `post` ends on `date`'s weekday.
fn last_opening_ends(conn: &mut DbConn, post: &str, date: NaiveDate) -> QueryResult<Option<NaiveTime>> {
    schedules::table
        .filter(schedules::post_code.eq(post))
        .filter(schedules::weekday.eq(date.weekday().number_from_monday() as i32))
        .select(max(schedules::closes_local))
        .first(conn)
}

/// When `post`'s window day `date` closes (UTC).
fn closes_at(
    conn: &mut DbConn,
    post: &str,
    date: NaiveDate,
    setting: Option<NaiveTime>,
    tz: Tz,
) -> QueryResult<NaiveDateTime> {
    let last = match setting {
        Some(_) => None,
        None => last_opening_ends(conn, post, date)?,
    };
    Ok(rules::closing_at(date, setting, last, tz))
}

fn setting_of(conn: &mut DbConn, post: &str) -> Result<(Tz, Option<NaiveTime>), AppError> {
    let tz = calendar::post_zone(conn, post)?;
    let setting = posts::table.find(post).select(posts::closes_local).first(conn)?;
    Ok((tz, setting))
}

/// `post`'s closing time (404 for an unknown post).
pub fn closing_time(conn: &mut DbConn, post: &str, now: NaiveDateTime) -> Result<ClosingTime, AppError> {
    let (tz, setting) = setting_of(conn, post)?;
    let today = calendar::local_date(now, tz);
    let at = closes_at(conn, post, today, setting, tz)?;
    Ok(ClosingTime {
        post: post.to_string(),
        timezone: tz.name().to_string(),
        closes: setting.map(|t| t.format("%H:%M").to_string()),
        today,
        closes_today_at: calendar::rfc3339(at, tz),
    })
}

/// Sets (`HH:MM`, local) or clears (`None`: the end of the last opening) `post`'s closing
/// time, as an admin; recorded in the audit trail.
pub fn set_closing_time(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    closes: Option<&str>,
    now: NaiveDateTime,
) -> Result<ClosingTime, AppError> {
    actor.ensure_post(post)?;
    calendar::post_zone(conn, post)?;
    let time = match closes.map(str::trim).filter(|c| !c.is_empty()) {
        Some(raw) => Some(
            calendar::clock_time(raw).ok_or_else(|| AppError::invalid_field("closes", Rule::ClosingTime))?,
        ),
        None => None,
    };
    write_transaction(conn, |c| {
        diesel::update(posts::table.find(post)).set(posts::closes_local.eq(time)).execute(c)?;
        let event = Event::new(Action::ClosingTimeSet, post)
            .at_post(Some(post))
            .with(json!({"closes": time.map(|t| t.format("%H:%M").to_string())}));
        audit::record(c, actor, event, now)
    })?;
    closing_time(conn, post, now)
}

/// A visit still waiting: id, reference, post, status, ticket day and check-in time.
type OpenVisit = (i64, String, String, String, Option<NaiveDate>, Option<NaiveDateTime>);

/// Closes as `not_served`, as the system, every visit still checked in or called whose post's
/// day has closed by `now` (one checked in after closing time, at the day's end). Safe on every instance at once: each visit moves by a conditional
/// update, and only the instance that moved it writes its entry. Returns how many it closed.
pub fn sweep(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let open: Vec<OpenVisit> = appointments::table
        .filter(
            appointments::status
                .eq_any([AppointmentStatus::CheckedIn.as_str(), AppointmentStatus::Called.as_str()]),
        )
        .order(appointments::id)
        .limit(5000)
        .select((
            appointments::id,
            appointments::reference,
            appointments::post_code,
            appointments::status,
            appointments::ticket_day,
            appointments::checked_in_at,
        ))
        .load(conn)?;
    if open.is_empty() {
        return Ok(0);
    }
    let posts: HashMap<String, (Tz, Option<NaiveTime>)> = posts::table
        .select((posts::code, posts::timezone, posts::closes_local))
        .load::<(String, String, Option<NaiveTime>)>(conn)?
        .into_iter()
        .filter_map(|(code, zone, closes)| Some((code, (zone.parse::<Tz>().ok()?, closes))))
        .collect();
    let mut closing: HashMap<(String, NaiveDate), NaiveDateTime> = HashMap::new();
    let mut closed = 0;
    for (id, reference, post, status, ticket_day, checked_in_at) in open {
        let Some(&(tz, setting)) = posts.get(&post) else { continue };
        let Some(day) = ticket_day.or_else(|| checked_in_at.map(|t| calendar::local_date(t, tz))) else {
            continue;
        };
        let at = match closing.get(&(post.clone(), day)) {
            Some(at) => *at,
            None => {
                let at = closes_at(conn, &post, day, setting, tz)?;
                closing.insert((post.clone(), day), at);
                at
            }
        };
        // Someone let in after closing (an emergency at 18:30) is not closed under the clerk's
        // hands: their visit waits until the day ends.
        let at = match checked_in_at {
            Some(t) if t >= at => calendar::day_bounds(day, tz).1,
            _ => at,
        };
        if now < at {
            continue;
        }
        closed += write_transaction(conn, |c| {
            let moved = diesel::update(appointments::table.find(id).filter(appointments::status.eq(&status)))
                .set((
                    appointments::status.eq(AppointmentStatus::NotServed.as_str()),
                    appointments::finished_at.eq(now),
                    appointments::updated_at.eq(now),
                ))
                .execute(c)?;
            if moved == 1 {
                let event = Event::new(Action::AppointmentNotServed, &reference)
                    .at_post(Some(&post))
                    .with(json!({"from": status, "day": day, "by": "closing_time"}));
                audit::record(c, &Actor::System, event, now)?;
            }
            QueryResult::Ok(moved)
        })?;
    }
    Ok(closed)
}

/// How many of the next free slots a rebooking tries when others take them first.
const REBOOK_TRIES: usize = 5;

/// Books a person not served by closing time again, as staff of the post: the next slot of the
/// same service with room for the whole party, from now on, for the same party and phone. The
/// visit keeps the new reference (`rebooked_as`), so it is booked again once only (409
/// `already_rebooked`); no free slot within the horizon is 409 `no_free_slot`. Audited as
/// `appointment.rebooked` on the old reference (and `appointment.booked` on the new one).
pub fn rebook(
    conn: &mut DbConn,
    rules: &Rules,
    actor: &Actor,
    reference: &Reference,
    now: NaiveDateTime,
) -> Result<AppointmentView, AppError> {
    let visit = visits::find(conn, actor, reference)?;
    if visit.status != Some(AppointmentStatus::NotServed) {
        return Err(invalid_transition(visit.status, "booked again"));
    }
    let (party, phone, rebooked_as): (String, Option<String>, Option<String>) = appointments::table
        .find(visit.id)
        .select((appointments::party, appointments::phone, appointments::rebooked_as))
        .first(conn)?;
    if let Some(new) = rebooked_as {
        return Err(already_rebooked(&new));
    }
    let party = Party::from_json(&party);
    let (earliest, latest) = booking::booking_window(rules, actor, now);
    let (from, to) = (calendar::local_date(earliest, visit.tz), calendar::local_date(latest, visit.tz));
    let candidates: Vec<i64> =
        slots::bookable(conn, &visit.post, &visit.service, from, to, earliest, latest)?
            .into_iter()
            .filter(|s| s.remaining() >= party.seats())
            .take(REBOOK_TRIES)
            .map(|s| s.id)
            .collect();
    let mut last_refusal = None;
    for slot_id in candidates {
        let request = BookingRequest { slot_id, applicants: party.people().to_vec(), phone: phone.clone() };
        let outcome = write_transaction(conn, |c| {
            // Claimed first: a second supervisor at the same moment waits here, then finds it set.
            let claimed = diesel::update(
                appointments::table
                    .find(visit.id)
                    .filter(appointments::rebooked_as.is_null())
                    .filter(appointments::status.eq(AppointmentStatus::NotServed.as_str())),
            )
            .set(appointments::rebooked_as.eq(""))
            .execute(c)?;
            if claimed == 0 {
                let new: Option<String> =
                    appointments::table.find(visit.id).select(appointments::rebooked_as).first(c)?;
                return Err(already_rebooked(new.as_deref().unwrap_or("")));
            }
            let Booked::Created(view) = booking::book(c, rules, actor, &request, None, now)? else {
                return Err(AppError::internal(anyhow::anyhow!("a booking without a key was replayed")));
            };
            diesel::update(appointments::table.find(visit.id))
                .set((appointments::rebooked_as.eq(&view.reference), appointments::updated_at.eq(now)))
                .execute(c)?;
            let event = Event::new(Action::AppointmentRebooked, reference.as_str())
                .at_post(Some(&visit.post))
                .with(json!({"as": view.reference, "slot_id": slot_id}));
            audit::record(c, actor, event, now)?;
            Ok(*view)
        });
        match outcome {
            Ok(view) => return Ok(view),
            // Taken meanwhile: the next one.
            Err(e) if matches!(e.code(), Code::SlotFull | Code::SlotClosed) => last_refusal = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_refusal.map_or_else(
        || {
            AppError::new(
                Code::NoFreeSlot,
                format!(
                    "no slot of {} has room for {} people within the booking horizon",
                    visit.service,
                    party.seats()
                ),
            )
        },
        |_| AppError::new(Code::NoFreeSlot, "the free slots were taken meanwhile; try again"),
    ))
}

fn already_rebooked(new: &str) -> AppError {
    AppError::new(Code::AlreadyRebooked, format!("booked again already, as {new}"))
}
