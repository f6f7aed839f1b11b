//! The window's operations on visits: check-in with a queue ticket, walk-ins, calling the next
//! ticket, completing, no-shows, and the day board. Each takes the acting staff member,
//! checks the visit's post itself, and writes its audit entry in its transaction.

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::{Actor, StaffMember};
use crate::booking::appointments::stored_status;
use crate::booking::party::{Party, PersonInput};
use crate::booking::reference_code::Reference;
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::config::WindowSettings;
use crate::counters;
use crate::db::schema::{appointments, posts};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::error::{AppError, Code, FieldError};
use crate::rule::Rule;
use crate::window::rules::{self, Timing, Waiting, WalkIn};

/// A visit as the window sees it. Times carry the post's offset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisitView {
    pub reference: String,
    /// `booked` or `walk_in`.
    pub kind: String,
    pub status: AppointmentStatus,
    pub post: String,
    pub service: String,
    /// The appointment's time, or a walk-in's arrival.
    pub starts_at: String,
    /// The queue ticket, e.g. `P-014`, once checked in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The window the ticket was last called to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_at: Option<String>,
    /// When it was completed or marked a no-show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub party_size: i32,
    pub applicants: Vec<PersonInput>,
    /// A walk-in's reason: `routine`, or the emergency's code (`arrest`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_in_reason: Option<String>,
    /// A visit not served by closing time that a supervisor booked again: the new reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebooked_as: Option<String>,
}

/// A post's visits of one local day, for the clerks' board.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayBoard {
    pub post: String,
    pub date: NaiveDate,
    pub timezone: String,
    /// By time: appointments by their slot, walk-ins by their arrival.
    pub visits: Vec<VisitView>,
}

/// A walk-in as the clerk records it: routine (the service's line, behind the hour's
/// appointments) or an emergency from the fixed list of reasons (an `E` ticket, called first).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WalkInRequest {
    /// The service needed (`notarial`, `passport-new`, ...).
    #[schema(schema_with = crate::field_schemas::window_service)]
    pub service: String,
    /// `routine` or `emergency`.
    #[schema(schema_with = crate::field_schemas::walk_in_kind)]
    pub kind: String,
    /// An emergency's reason (required for one, refused for a routine walk-in):
    /// `lost_passport_travel_72h`, `arrest`, `death`, `destitution`, `crime_victim` or
    /// `child_in_danger`.
    #[serde(default)]
    #[schema(schema_with = crate::field_schemas::walk_in_reason)]
    pub reason: Option<String>,
    /// The clerk's note, 1 to 500 characters; optional.
    #[serde(default)]
    #[schema(schema_with = crate::field_schemas::window_reason_optional)]
    pub note: Option<String>,
    pub applicant: PersonInput,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    Option<String>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    i32,
    String,
    String,
    Option<String>,
    Option<String>,
);

macro_rules! visit_columns {
    () => {
        (
            appointments::id,
            appointments::reference,
            appointments::kind,
            appointments::status,
            appointments::post_code,
            appointments::service_code,
            appointments::starts_at,
            appointments::ticket,
            appointments::called_to,
            appointments::checked_in_at,
            appointments::called_at,
            appointments::finished_at,
            appointments::party_size,
            appointments::party,
            posts::timezone,
            appointments::walk_in_reason,
            appointments::rebooked_as,
        )
    };
}

/// A visit's row with what operations decide on.
pub(crate) struct Visit {
    pub(crate) id: i64,
    pub(crate) status: Option<AppointmentStatus>,
    pub(crate) post: String,
    pub(crate) service: String,
    pub(crate) starts_at: NaiveDateTime,
    pub(crate) tz: Tz,
}

fn to_view(row: Row) -> QueryResult<VisitView> {
    let (
        _,
        reference,
        kind,
        status,
        post,
        service,
        starts_at,
        ticket,
        window,
        checked_in,
        called,
        finished,
        size,
        party,
        zone,
        walk_in_reason,
        rebooked_as,
    ) = row;
    let tz: Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let local = |t: NaiveDateTime| calendar::rfc3339(t, tz);
    Ok(VisitView {
        reference,
        kind,
        status: stored_status(&status)?,
        post,
        service,
        starts_at: local(starts_at),
        ticket,
        window,
        checked_in_at: checked_in.map(local),
        called_at: called.map(local),
        finished_at: finished.map(local),
        party_size: size,
        applicants: Party::from_json(&party).people().to_vec(),
        walk_in_reason,
        rebooked_as,
    })
}

fn no_such_visit() -> AppError {
    AppError::not_found("no such appointment")
}

/// The visit `reference` names, if `actor` may act on its post (403 `wrong_post`).
pub(crate) fn find(conn: &mut DbConn, actor: &Actor, reference: &Reference) -> Result<Visit, AppError> {
    let row: Row = appointments::table
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .filter(appointments::reference.eq(reference.as_str()))
        .select(visit_columns!())
        .first(conn)
        .optional()?
        .ok_or_else(no_such_visit)?;
    actor.ensure_post(&row.4)?;
    let tz: Tz =
        row.14.parse().map_err(|_| AppError::internal(anyhow::anyhow!("post {} has a bad zone", row.4)))?;
    Ok(Visit {
        id: row.0,
        status: AppointmentStatus::parse(&row.3),
        post: row.4,
        service: row.5,
        starts_at: row.6,
        tz,
    })
}

/// The visit `reference` names as the window sees it, if `actor` may act on its post.
pub fn show(conn: &mut DbConn, actor: &Actor, reference: &Reference) -> Result<VisitView, AppError> {
    let visit = find(conn, actor, reference)?;
    view_by_id(conn, visit.id)
}

pub(crate) fn view_by_id(conn: &mut DbConn, id: i64) -> Result<VisitView, AppError> {
    let row: Row = appointments::table
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .filter(appointments::id.eq(id))
        .select(visit_columns!())
        .first(conn)?;
    Ok(to_view(row)?)
}

pub(crate) fn invalid_transition(status: Option<AppointmentStatus>, step: &str) -> AppError {
    let now = status.map(|s| s.as_str()).unwrap_or("unknown");
    AppError::new(Code::InvalidTransition, format!("a visit that is {now} can't be {step}"))
}

/// Gives a checked-in visit its ticket: the letter's next number at the post today.
fn assign_ticket(
    conn: &mut DbConn,
    visit_id: i64,
    post: &str,
    letter: char,
    today: NaiveDate,
) -> Result<String, AppError> {
    let number = counters::next(conn, &rules::ticket_counter(post, today, letter))?;
    let ticket = rules::ticket(letter, number);
    diesel::update(appointments::table.find(visit_id))
        .set((appointments::ticket.eq(&ticket), appointments::ticket_day.eq(today)))
        .execute(conn)?;
    Ok(ticket)
}

/// The refusal of a check-in before it opens, saying when it does in the post's time
/// (`check-in opens at 09:30 (2026-12-08T09:30:00-06:00)`); [`check_in_opens`] reads the time
/// back for a page.
fn too_early(opens_at: NaiveDateTime, tz: Tz) -> AppError {
    let local = chrono::TimeZone::from_utc_datetime(&tz, &opens_at);
    AppError::new(
        Code::TooEarly,
        format!("{TOO_EARLY}{} ({})", local.format("%H:%M"), calendar::rfc3339(opens_at, tz)),
    )
}

const TOO_EARLY: &str = "check-in opens at ";

/// The local time (`09:30`) a `too_early` refusal says check-in opens at.
pub fn check_in_opens(e: &AppError) -> Option<String> {
    if e.code() != Code::TooEarly {
        return None;
    }
    let detail = e.to_string();
    let time = detail.strip_prefix(TOO_EARLY)?.get(..5)?;
    crate::calendar::clock_time(time).map(|_| time.to_string())
}

fn reason(field: &str, raw: &str) -> Result<String, FieldError> {
    crate::booking::free_text(field, raw, rules::MAX_REASON_CHARS)
}

/// Checks an arrived applicant in and gives them a ticket. Within the check-in window, or
/// later with the clerk's `late_reason` (recorded); earlier is 409 `too_early`.
pub fn check_in(
    conn: &mut DbConn,
    settings: &WindowSettings,
    actor: &Actor,
    reference: &Reference,
    late_reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<VisitView, AppError> {
    let clerk = actor.staff()?.id;
    let visit = find(conn, actor, reference)?;
    match visit.status {
        Some(AppointmentStatus::Booked) => {}
        Some(AppointmentStatus::CheckedIn | AppointmentStatus::Called | AppointmentStatus::InService) => {
            return Err(AppError::new(Code::AlreadyCheckedIn, "the visit is checked in already"))
        }
        other => return Err(invalid_transition(other, "checked in")),
    }
    let late_reason =
        late_reason.map(|r| reason("late_reason", r)).transpose().map_err(|e| AppError::invalid(vec![e]))?;
    let late = match rules::check_in_timing(settings, visit.starts_at, now) {
        Timing::TooEarly { opens_at } => return Err(too_early(opens_at, visit.tz)),
        Timing::TooLate if late_reason.is_none() => {
            return Err(AppError::new(
                Code::TooLate,
                "the grace period is over; check in with a late_reason to override",
            ))
        }
        Timing::TooLate => true,
        Timing::OnTime => false,
    };
    let letter = rules::ticket_letter(&visit.service, false)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no ticket letter for {}", visit.service)))?;
    let today = calendar::local_date(now, visit.tz);
    write_transaction(conn, |c| {
        let moved = diesel::update(
            appointments::table
                .find(visit.id)
                .filter(appointments::status.eq(AppointmentStatus::Booked.as_str())),
        )
        .set((
            appointments::status.eq(AppointmentStatus::CheckedIn.as_str()),
            appointments::checked_in_at.eq(now),
            appointments::checked_in_by.eq(clerk),
            appointments::late_check_in_reason.eq(late.then_some(late_reason.as_deref()).flatten()),
            appointments::active_key.eq(None::<String>),
            appointments::updated_at.eq(now),
        ))
        .execute(c)?;
        if moved == 0 {
            return Err(AppError::new(
                Code::AppointmentChanged,
                "the appointment changed meanwhile; look again",
            ));
        }
        let ticket = assign_ticket(c, visit.id, &visit.post, letter, today)?;
        let event = Event::new(Action::AppointmentCheckedIn, reference.as_str())
            .at_post(Some(&visit.post))
            .with(json!({"ticket": ticket, "late_override": late}));
        audit::record(c, actor, event, now)?;
        view_by_id(c, visit.id)
    })
}

/// Records a walk-in at `post`, checked in with a ticket: an emergency's `E`, a routine one's
/// service line. Like any visit, documents and fees will hang off its reference.
pub fn walk_in(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    request: &WalkInRequest,
    now: NaiveDateTime,
) -> Result<VisitView, AppError> {
    let clerk = actor.staff()?.id;
    actor.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let mut errors = Vec::new();
    if rules::ticket_letter(&request.service, true).is_none() {
        errors.push(FieldError::new("service", Rule::NotAWindowService));
    }
    let kind = WalkIn::parse(&request.kind, request.reason.as_deref()).map_err(|e| errors.push(e)).ok();
    let note = match request.note.as_deref().map(|n| reason("note", n)) {
        Some(Ok(note)) => Some(note),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    let today = calendar::local_date(now, tz);
    let party = Party::parse(std::slice::from_ref(&request.applicant), 1, today)
        .map_err(|e| {
            errors.extend(
                e.into_iter().map(|f| FieldError::new(f.field.replace("applicants[0]", "applicant"), f.rule)),
            )
        })
        .ok();
    let (Some(kind), Some(party)) = (kind, party.filter(|_| errors.is_empty())) else {
        return Err(AppError::invalid(errors));
    };
    let letter = rules::ticket_letter(&request.service, kind.is_emergency())
        .ok_or_else(|| AppError::invalid_field("service", Rule::NotAWindowService))?;
    let walk_in = WalkInRecord { reason: kind.code(), note: note.as_deref() };
    write_transaction(conn, |c| {
        let (id, reference) = insert_walk_in(c, clerk, post, &request.service, &party, &walk_in, now)?;
        crate::search::index::visit(c, reference.as_str())?;
        let ticket = assign_ticket(c, id, post, letter, today)?;
        let event = Event::new(Action::AppointmentWalkedIn, reference.as_str())
            .at_post(Some(post))
            .with(json!({"service": request.service, "ticket": ticket, "reason": kind.code()}));
        audit::record(c, actor, event, now)?;
        view_by_id(c, id)
    })
}

/// What a walk-in's row records of why it came: the reason's code and the clerk's note.
pub(crate) struct WalkInRecord<'a> {
    pub(crate) reason: &'a str,
    pub(crate) note: Option<&'a str>,
}

/// Writes a walk-in visit under a fresh reference, drawing again on the (rare) collision.
fn insert_walk_in(
    conn: &mut DbConn,
    clerk: i64,
    post: &str,
    service: &str,
    party: &Party,
    walk_in: &WalkInRecord<'_>,
    now: NaiveDateTime,
) -> Result<(i64, Reference), AppError> {
    for _ in 0..5 {
        let reference = Reference::generate();
        let inserted = recoverable(conn, |c| {
            diesel::insert_into(appointments::table)
                .values((
                    appointments::reference.eq(reference.as_str()),
                    appointments::kind.eq("walk_in"),
                    appointments::post_code.eq(post),
                    appointments::service_code.eq(service),
                    appointments::starts_at.eq(now),
                    appointments::booked_by_staff_id.eq(clerk),
                    appointments::party_size.eq(party.seats()),
                    appointments::party.eq(party.to_json()),
                    appointments::walk_in_reason.eq(walk_in.reason),
                    appointments::walk_in_note.eq(walk_in.note),
                    appointments::status.eq(AppointmentStatus::CheckedIn.as_str()),
                    appointments::checked_in_at.eq(now),
                    appointments::checked_in_by.eq(clerk),
                    appointments::created_at.eq(now),
                    appointments::updated_at.eq(now),
                ))
                .returning(appointments::id)
                .get_result::<i64>(c)
        });
        match inserted {
            Ok(id) => return Ok((id, reference)),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(anyhow::anyhow!("no free reference after 5 draws")))
}

/// The visit a window of `post` holds on local day `day` (called, or being served), other
/// than `except`: its id, reference and ticket.
fn held_at(
    conn: &mut DbConn,
    post: &str,
    day: NaiveDate,
    window: &str,
    except: Option<i64>,
) -> QueryResult<Option<(i64, String, Option<String>)>> {
    appointments::table
        .filter(appointments::post_code.eq(post))
        .filter(appointments::ticket_day.eq(day))
        .filter(appointments::called_to.eq(window))
        .filter(
            appointments::status
                .eq_any([AppointmentStatus::Called.as_str(), AppointmentStatus::InService.as_str()]),
        )
        .filter(appointments::id.ne(except.unwrap_or(0)))
        .select((appointments::id, appointments::reference, appointments::ticket))
        .first(conn)
        .optional()
}

/// Inside a write transaction: takes the window's lock (its call counter's row, held to the
/// commit, so calls to one window are one at a time on every instance) and refuses with 409
/// `window_busy`, naming the visit, while the window holds one today. Only today's count:
/// whatever yesterday left at a window never blocks it.
fn claim_window(
    conn: &mut DbConn,
    post: &str,
    today: NaiveDate,
    window: &str,
    except: Option<i64>,
) -> Result<(), AppError> {
    counters::next(conn, &format!("window:{post}:{window}"))?;
    if let Some((_, reference, ticket)) = held_at(conn, post, today, window, except)? {
        return Err(AppError::new(
            Code::WindowBusy,
            format!(
                "window {window} still has {} ({reference}) called: complete it, mark it a no-show or recall it first",
                ticket.as_deref().unwrap_or("a visit")
            ),
        ));
    }
    Ok(())
}

/// A checked-in visit's row: id, kind, walk-in reason, time and check-in time.
type WaitingRow = (i64, String, Option<String>, NaiveDateTime, Option<NaiveDateTime>);

/// Calls the next waiting ticket at `post` to `window`: emergencies first, then hour by hour
/// the appointments and then the routine walk-ins of the hour ([`rules::queue_order`]). A
/// window holds one called visit at a time: while it has one, the call is 409 `window_busy`.
/// Two clerks pressing at once get different tickets: each call is a conditional update, and a
/// ticket another clerk took is skipped.
pub fn call_next(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    window: &str,
    now: NaiveDateTime,
) -> Result<VisitView, AppError> {
    actor.ensure_post(post)?;
    let window = window_label(window)?;
    let window = window.as_str();
    let tz = calendar::post_zone(conn, post)?;
    let today = calendar::local_date(now, tz);
    write_transaction(conn, |c| {
        claim_window(c, post, today, window, None)?;
        let rows: Vec<WaitingRow> = appointments::table
            .filter(appointments::post_code.eq(post))
            .filter(appointments::ticket_day.eq(today))
            .filter(appointments::status.eq(AppointmentStatus::CheckedIn.as_str()))
            .select((
                appointments::id,
                appointments::kind,
                appointments::walk_in_reason,
                appointments::starts_at,
                appointments::checked_in_at,
            ))
            .load(c)?;
        let mut waiting: Vec<Waiting> = rows
            .into_iter()
            .map(|(id, kind, reason, starts_at, checked_in_at)| Waiting {
                id,
                kind: match (kind.as_str(), reason) {
                    ("walk_in", Some(r)) if !rules::is_emergency_reason(&r) => rules::Kind::Routine,
                    ("walk_in", _) => rules::Kind::Emergency,
                    _ => rules::Kind::Booked,
                },
                starts_at,
                checked_in_at: checked_in_at.unwrap_or(starts_at),
            })
            .collect();
        rules::queue_order(&mut waiting, tz);
        for candidate in waiting {
            let taken = diesel::update(
                appointments::table
                    .find(candidate.id)
                    .filter(appointments::status.eq(AppointmentStatus::CheckedIn.as_str())),
            )
            .set((
                appointments::status.eq(AppointmentStatus::Called.as_str()),
                appointments::called_at.eq(now),
                appointments::called_to.eq(window),
                appointments::updated_at.eq(now),
            ))
            .execute(c)?;
            if taken == 0 {
                continue;
            }
            let view = view_by_id(c, candidate.id)?;
            let event = Event::new(Action::AppointmentCalled, &view.reference)
                .at_post(Some(post))
                .with(json!({"ticket": view.ticket, "window": window}));
            audit::record(c, actor, event, now)?;
            return Ok(view);
        }
        Err(AppError::new(Code::QueueEmpty, "nobody is waiting at this post today"))
    })
}

/// Ends a visit: `Completed` (served) or `NoShow` (called and not at the window, or never
/// checked in by the end of the grace period).
pub fn finish(
    conn: &mut DbConn,
    settings: &WindowSettings,
    actor: &Actor,
    reference: &Reference,
    outcome: AppointmentStatus,
    now: NaiveDateTime,
) -> Result<VisitView, AppError> {
    let visit = find(conn, actor, reference)?;
    let step = if outcome == AppointmentStatus::Completed { "completed" } else { "marked a no-show" };
    let from = visit
        .status
        .filter(|s| s.can_become(outcome))
        .ok_or_else(|| invalid_transition(visit.status, step))?;
    if from == AppointmentStatus::Booked && now <= rules::no_show_after(settings, visit.starts_at) {
        return Err(AppError::new(Code::TooEarly, "the appointment's check-in grace period is not over yet"));
    }
    write_transaction(conn, |c| {
        let moved =
            diesel::update(appointments::table.find(visit.id).filter(appointments::status.eq(from.as_str())))
                .set((
                    appointments::status.eq(outcome.as_str()),
                    appointments::finished_at.eq(now),
                    appointments::active_key.eq(None::<String>),
                    appointments::updated_at.eq(now),
                ))
                .execute(c)?;
        if moved == 0 {
            return Err(AppError::new(Code::AppointmentChanged, "the visit changed meanwhile; look again"));
        }
        let action = if outcome == AppointmentStatus::Completed {
            Action::AppointmentCompleted
        } else {
            Action::AppointmentNoShow
        };
        let event = Event::new(action, reference.as_str())
            .at_post(Some(&visit.post))
            .with(json!({"from": from.as_str()}));
        audit::record(c, actor, event, now)?;
        view_by_id(c, visit.id)
    })
}

/// Marks as no-shows the booked appointments whose check-in grace period ended before `now`,
/// as the system (every instance's maintenance timer; a conditional update decides who).
/// Returns how many it marked.
pub fn sweep_no_shows(
    conn: &mut DbConn,
    settings: &WindowSettings,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let due: Vec<(i64, String, String)> = appointments::table
        .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
        .filter(appointments::starts_at.lt(now - settings.check_in_grace))
        .order(appointments::starts_at)
        .limit(1000)
        .select((appointments::id, appointments::reference, appointments::post_code))
        .load(conn)?;
    let mut marked = 0;
    for (id, reference, post) in due {
        marked += write_transaction(conn, |c| {
            let moved = diesel::update(
                appointments::table
                    .find(id)
                    .filter(appointments::status.eq(AppointmentStatus::Booked.as_str())),
            )
            .set((
                appointments::status.eq(AppointmentStatus::NoShow.as_str()),
                appointments::finished_at.eq(now),
                appointments::active_key.eq(None::<String>),
                appointments::updated_at.eq(now),
            ))
            .execute(c)?;
            if moved == 1 {
                let event = Event::new(Action::AppointmentNoShow, &reference)
                    .at_post(Some(&post))
                    .with(json!({"from": "booked", "by": "grace_period"}));
                audit::record(c, &Actor::System, event, now)?;
            }
            QueryResult::Ok(moved)
        })?;
    }
    Ok(marked)
}

/// A post's visits of the local day `date` (by their time, or checked in that day), for
/// `reader` (403 outside its post).
pub fn day_board(
    conn: &mut DbConn,
    reader: &StaffMember,
    post: &str,
    date: NaiveDate,
) -> Result<DayBoard, AppError> {
    reader.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let (from, to) = calendar::day_bounds(date, tz);
    let rows: Vec<Row> = appointments::table
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .filter(appointments::post_code.eq(post))
        // The day's appointments, and any visit checked in that day: one checked in before
        // midnight for a slot after it is still in today's queue.
        .filter(
            appointments::starts_at
                .ge(from)
                .and(appointments::starts_at.lt(to))
                .or(appointments::ticket_day.eq(date)),
        )
        .order((appointments::starts_at, appointments::id))
        .select(visit_columns!())
        .load(conn)?;
    Ok(DayBoard {
        post: post.to_string(),
        date,
        timezone: tz.name().to_string(),
        visits: rows.into_iter().map(to_view).collect::<QueryResult<_>>()?,
    })
}

/// The visits of `post`'s local day `date` that closing time found still waiting
/// (`not_served`), with what became of each (`rebooked_as`), for `reader` (403 outside its
/// post).
pub fn not_served(
    conn: &mut DbConn,
    reader: &StaffMember,
    post: &str,
    date: NaiveDate,
) -> Result<DayBoard, AppError> {
    reader.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let rows: Vec<Row> = appointments::table
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .filter(appointments::post_code.eq(post))
        .filter(appointments::ticket_day.eq(date))
        .filter(appointments::status.eq(AppointmentStatus::NotServed.as_str()))
        .order((appointments::ticket, appointments::id))
        .select(visit_columns!())
        .load(conn)?;
    Ok(DayBoard {
        post: post.to_string(),
        date,
        timezone: tz.name().to_string(),
        visits: rows.into_iter().map(to_view).collect::<QueryResult<_>>()?,
    })
}

/// Calls a called ticket again (the person didn't come up), to the same window or `window`;
/// another window must not hold a called visit (409 `window_busy`).
pub fn recall(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
    window: Option<&str>,
    now: NaiveDateTime,
) -> Result<VisitView, AppError> {
    let visit = find(conn, actor, reference)?;
    if visit.status != Some(AppointmentStatus::Called) {
        return Err(invalid_transition(visit.status, "recalled"));
    }
    let window = window.map(window_label).transpose()?;
    let today = calendar::local_date(now, visit.tz);
    write_transaction(conn, |c| {
        if let Some(window) = &window {
            claim_window(c, &visit.post, today, window, Some(visit.id))?;
        }
        let moved = diesel::update(
            appointments::table
                .find(visit.id)
                .filter(appointments::status.eq(AppointmentStatus::Called.as_str())),
        )
        .set((appointments::called_at.eq(now), appointments::updated_at.eq(now)))
        .execute(c)?;
        if moved == 0 {
            return Err(AppError::new(Code::AppointmentChanged, "the visit changed meanwhile; look again"));
        }
        if let Some(window) = &window {
            diesel::update(appointments::table.find(visit.id))
                .set(appointments::called_to.eq(window))
                .execute(c)?;
        }
        let view = view_by_id(c, visit.id)?;
        let event = Event::new(Action::AppointmentCalled, reference.as_str())
            .at_post(Some(&visit.post))
            .with(json!({"ticket": view.ticket, "window": view.window, "recall": true}));
        audit::record(c, actor, event, now)?;
        Ok(view)
    })
}

/// A ticket on the waiting-room screen: no names, only the ticket and where to go.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalledTicket {
    pub ticket: String,
    pub window: String,
    pub called_at: String,
}

/// What the waiting-room screen shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueDisplay {
    pub post: String,
    pub timezone: String,
    /// Tickets called in the last [`DISPLAY_MINUTES`] minutes, the latest first.
    pub called: Vec<CalledTicket>,
}

/// How far back the waiting-room screen shows called tickets.
pub const DISPLAY_MINUTES: i64 = 10;

/// The tickets called at `post` in the last minutes, for the public waiting-room screen.
pub fn display(conn: &mut DbConn, post: &str, now: NaiveDateTime) -> Result<QueueDisplay, AppError> {
    let tz = calendar::post_zone(conn, post)?;
    let rows: Vec<(Option<String>, Option<String>, Option<NaiveDateTime>)> = appointments::table
        .filter(appointments::post_code.eq(post))
        .filter(appointments::ticket_day.eq(calendar::local_date(now, tz)))
        .filter(appointments::called_at.ge(now - chrono::Duration::minutes(DISPLAY_MINUTES)))
        .order(appointments::called_at.desc())
        .limit(20)
        .select((appointments::ticket, appointments::called_to, appointments::called_at))
        .load(conn)?;
    let called = rows
        .into_iter()
        .filter_map(|(ticket, window, at)| {
            Some(CalledTicket { ticket: ticket?, window: window?, called_at: calendar::rfc3339(at?, tz) })
        })
        .collect();
    Ok(QueueDisplay { post: post.to_string(), timezone: tz.name().to_string(), called })
}

/// A window's label: at most 20 characters, not only white space, no control characters.
fn window_label(raw: &str) -> Result<String, AppError> {
    crate::booking::free_text("window", raw, 20).map_err(|e| AppError::invalid(vec![e]))
}
