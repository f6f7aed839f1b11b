//! Appointments: book, cancel, reschedule, read. Each operation owns its transaction, and the
//! first statement of every transaction that takes seats is the conditional seat UPDATE.

use crate::mail::{notices, Kind};
use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::booking::party::{parse_phone, Party, PersonInput};
use crate::booking::reference_code::Reference;
use crate::booking::slots::{self, SeatRefusal, Slot};
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::config::BookingSettings;
use crate::db::schema::{appointments, idempotency_keys, posts, seat_holds, services, slots as slots_t};
use crate::db::{recoverable, write_transaction, DbConn};
use crate::error::{AppError, Code};
use crate::rule::Rule;

/// The booking rules in force (from the settings).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub min_notice: Duration,
    pub horizon: Duration,
    pub release_delay: Duration,
    /// An applicant books only once their account's address is confirmed.
    pub require_confirmed_email: bool,
}

impl From<&BookingSettings> for Rules {
    fn from(s: &BookingSettings) -> Self {
        Rules {
            min_notice: s.min_notice,
            horizon: Duration::days(i64::from(s.horizon_days)),
            release_delay: s.release_delay,
            require_confirmed_email: s.require_confirmed_email,
        }
    }
}

/// Whose `Idempotency-Key`s a key belongs to: keys are per caller.
fn idempotency_scope(actor: &Actor) -> String {
    format!("{}:{}", actor.kind(), actor.id().unwrap_or(0))
}

/// Checks who may change the appointment `reference`, and why: an applicant their own (404
/// for anyone else's), staff any at their post (403 `wrong_post` elsewhere) with a reason,
/// which is returned checked. Returns the appointment's id and the reason.
fn changeable(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
    reason: Option<&str>,
) -> Result<(i64, Option<String>), AppError> {
    let row: Option<(i64, Option<i64>, String)> = appointments::table
        .filter(appointments::reference.eq(reference.as_str()))
        .select((appointments::id, appointments::applicant_id, appointments::post_code))
        .first(conn)
        .optional()?;
    let (id, owner, post) = row.ok_or_else(no_such_appointment)?;
    match actor {
        Actor::Applicant(who) if owner == Some(*who) => Ok((id, None)),
        Actor::Applicant(_) => Err(no_such_appointment()),
        staff => {
            staff.ensure_post(&post)?;
            let reason = reason.ok_or_else(|| AppError::invalid_field("reason", Rule::ReasonForChange))?;
            let reason = crate::booking::free_text("reason", reason, STAFF_REASON_CHARS)
                .map_err(|e| AppError::invalid(vec![e]))?;
            Ok((id, Some(reason)))
        }
    }
}

/// The longest reason staff may give for changing someone's appointment.
pub const STAFF_REASON_CHARS: usize = 500;

/// A booking request as received.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingRequest {
    #[serde(deserialize_with = "crate::wire::i64_whole")]
    pub slot_id: i64,
    /// The people to be served: one seat each, as many as the service takes (4 at most).
    #[schema(min_items = 1, max_items = 4)]
    pub applicants: Vec<PersonInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::field_schemas::phone)]
    pub phone: Option<String>,
}

/// An appointment as applicants and staff see it. Times carry the post's offset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentView {
    /// Nine symbols, e.g. `K7Q-M4X-PT9`; quote it at the window.
    pub reference: String,
    /// `booked` (an appointment with a slot) or `walk_in` (a visit without one).
    pub kind: String,
    pub status: AppointmentStatus,
    pub post: String,
    pub service: String,
    /// The slot of a booked visit; a walk-in has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_id: Option<i64>,
    /// The slot's start, or a walk-in's arrival.
    pub starts_at: String,
    /// The slot's end; a walk-in has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    pub timezone: String,
    pub party_size: i32,
    pub applicants: Vec<PersonInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// True when staff booked it for someone who phoned.
    pub booked_by_staff: bool,
}

/// What `book` produced: a new appointment, or the stored first answer to a repeated
/// `Idempotency-Key`.
pub enum Booked {
    Created(Box<AppointmentView>),
    Replayed { status: u16, body: String },
}

/// An `Idempotency-Key` and the canonical request it came with.
pub struct Idempotency {
    pub key: String,
    pub request: String,
}

/// The window in which `actor` may take a seat: staff (booking for someone who phoned) only
/// need the slot not to have started, everyone else needs the minimum notice; nobody books
/// past the horizon. Pure rule.
pub fn booking_window(rules: &Rules, actor: &Actor, now: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let earliest = match actor {
        Actor::Staff(_) => now,
        _ => now + rules.min_notice,
    };
    (earliest, now + rules.horizon)
}

fn outside_window(rules: &Rules) -> AppError {
    AppError::Validation {
        detail: format!(
            "appointments are booked at least {} hours and at most {} days ahead",
            rules.min_notice.num_hours(),
            rules.horizon.num_days()
        ),
        errors: vec![crate::error::FieldError::new("slot_id", Rule::OutsideBookingWindow)],
    }
}

fn refused(refusal: SeatRefusal) -> AppError {
    match refusal {
        SeatRefusal::Full => AppError::new(Code::SlotFull, "this slot has no seats left; pick another"),
        SeatRefusal::Closed => {
            AppError::new(Code::SlotClosed, "the post is closed at this time; pick another slot")
        }
        SeatRefusal::Gone => AppError::not_found("no such slot"),
    }
}

fn violates(err: &diesel::result::Error, name: &str) -> bool {
    match err {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info) => {
            info.message().contains(name) || info.constraint_name().is_some_and(|c| c.contains(name))
        }
        _ => false,
    }
}

/// The service's party limit and the post's zone for a slot.
fn slot_context(conn: &mut DbConn, slot: &Slot) -> Result<(usize, Tz), AppError> {
    let (max_party, zone): (i32, String) = services::table
        .inner_join(slots_t::table.on(slots_t::service_code.eq(services::code)))
        .inner_join(posts::table.on(posts::code.eq(slots_t::post_code)))
        .filter(slots_t::id.eq(slot.id))
        .select((services::max_party_size, posts::timezone))
        .first(conn)?;
    let tz = zone
        .parse::<Tz>()
        .map_err(|_| AppError::internal(anyhow::anyhow!("post {} has a bad zone", slot.post_code)))?;
    Ok((usize::try_from(max_party).unwrap_or(1), tz))
}

/// Books a slot for an applicant (their own) or for someone who phoned (staff of the slot's
/// post). Checks the request, then in one transaction takes the seats (first statement),
/// enforces one active appointment per applicant and service, writes the appointment, its
/// audit entry and, with an `Idempotency-Key`, its answer.
pub fn book(
    conn: &mut DbConn,
    rules: &Rules,
    actor: &Actor,
    request: &BookingRequest,
    idempotency: Option<Idempotency>,
    now: NaiveDateTime,
) -> Result<Booked, AppError> {
    let scope = idempotency_scope(actor);
    if let Some(replayed) = replay(conn, actor, idempotency.as_ref())? {
        return Ok(replayed);
    }
    let slot = slots::find(conn, request.slot_id)?.ok_or_else(|| AppError::not_found("no such slot"))?;
    match actor {
        Actor::Applicant(id) if rules.require_confirmed_email => ensure_confirmed(conn, *id)?,
        Actor::Applicant(_) => {}
        _ => actor.ensure_post(&slot.post_code)?,
    }
    let (max_party, tz) = slot_context(conn, &slot)?;
    let mut errors = Vec::new();
    let party = Party::parse(&request.applicants, max_party, calendar::local_date(now, tz))
        .map_err(|e| errors.extend(e))
        .ok();
    let phone = match request.phone.as_deref().map(parse_phone).transpose() {
        Ok(p) => p,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let Some(party) = party.filter(|_| errors.is_empty()) else {
        return Err(AppError::invalid(errors));
    };
    let (earliest, latest) = booking_window(rules, actor, now);
    if slot.starts_at < earliest || slot.starts_at > latest {
        return Err(outside_window(rules));
    }

    let outcome = write_transaction(conn, |c| {
        slots::take_seats(c, slot.id, party.seats(), earliest)?.map_err(refused)?;
        let active_key = match actor {
            Actor::Applicant(id) => {
                let key = format!("{id}:{}", slot.service_code);
                // An appointment whose time has passed no longer blocks a new one.
                diesel::update(
                    appointments::table
                        .filter(appointments::active_key.eq(&key))
                        .filter(appointments::starts_at.lt(now)),
                )
                .set(appointments::active_key.eq(None::<String>))
                .execute(c)?;
                Some(key)
            }
            _ => None,
        };
        let reference = insert_appointment(c, actor, &slot, &party, phone.as_deref(), active_key, now)?;
        crate::search::index::visit(c, reference.as_str())?;
        let event = Event::new(Action::AppointmentBooked, reference.as_str()).at_post(Some(&slot.post_code)).with(
            json!({"slot_id": slot.id, "service": slot.service_code, "seats": party.seats(), "kind": "booked"}),
        );
        audit::record(c, actor, event, now)?;
        notices::appointment(c, Kind::AppointmentBooked, reference.as_str(), now)?;
        // The answer is read inside the transaction only when it must be stored with the key;
        // otherwise after the commit, so the seat's lock is held no longer than needed.
        if let Some(idem) = &idempotency {
            let view = view(c, &reference)?.ok_or_else(appointment_vanished)?;
            let stored = diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::scope.eq(&scope),
                    idempotency_keys::idem_key.eq(&idem.key),
                    idempotency_keys::request.eq(&idem.request),
                    idempotency_keys::status.eq(201),
                    idempotency_keys::response.eq(serde_json::to_string(&view).map_err(AppError::internal)?),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(c);
            if let Err(e) = stored {
                return Err(if violates(&e, "idem") {
                    AppError::new(Code::IdempotencyRace, "the same request is in progress")
                } else {
                    e.into()
                });
            }
            return Ok((reference, Some(view)));
        }
        Ok((reference, None))
    });
    if outcome.is_ok() {
        // Counted once it committed (or, inside a caller's transaction, with it).
        crate::ops::booked(&slot.post_code);
    }
    match outcome {
        Ok((_, Some(view))) => Ok(Booked::Created(Box::new(view))),
        Ok((reference, None)) => {
            let view = view(conn, &reference)?.ok_or_else(appointment_vanished)?;
            Ok(Booked::Created(Box::new(view)))
        }
        // A conflict may be a concurrent retry with the same key that committed first (its
        // appointment holds the one-active key, or its key row exists): answer as it did.
        Err(conflict) if conflict.code().status() == 409 => {
            Ok(replay(conn, actor, idempotency.as_ref())?.ok_or(conflict)?)
        }
        Err(e) => Err(e),
    }
}

/// 403 `email_not_confirmed` unless the applicant's account has confirmed its address.
fn ensure_confirmed(conn: &mut DbConn, applicant_id: i64) -> Result<(), AppError> {
    let confirmed: Option<Option<NaiveDateTime>> = crate::db::schema::applicants::table
        .find(applicant_id)
        .select(crate::db::schema::applicants::email_confirmed_at)
        .first(conn)
        .optional()?;
    match confirmed {
        Some(Some(_)) => Ok(()),
        _ => Err(AppError::new(
            Code::EmailNotConfirmed,
            "confirm your e-mail address first: open the link we sent to it, or ask for a new one",
        )),
    }
}

/// The stored first answer to this actor's `Idempotency-Key`, if there is one; 422 when the
/// key came with another request. Handlers ask before counting an attempt, so a retry of a
/// booking that went through is never throttled.
pub fn replay(
    conn: &mut DbConn,
    actor: &Actor,
    idem: Option<&Idempotency>,
) -> Result<Option<Booked>, AppError> {
    let Some(idem) = idem else {
        return Ok(None);
    };
    let stored: Option<(String, i32, String)> = idempotency_keys::table
        .find((idempotency_scope(actor), &idem.key))
        .select((idempotency_keys::request, idempotency_keys::status, idempotency_keys::response))
        .first(conn)
        .optional()?;
    match stored {
        None => Ok(None),
        Some((request, status, body)) if request == idem.request => {
            Ok(Some(Booked::Replayed { status: u16::try_from(status).unwrap_or(201), body }))
        }
        Some(_) => Err(AppError::Validation {
            detail: "this Idempotency-Key was used with a different request".into(),
            errors: vec![crate::error::FieldError::new("Idempotency-Key", Rule::IdempotencyKeyReused)],
        }),
    }
}

/// How long a stored answer to an `Idempotency-Key` is replayed: long enough for any client's
/// retries, short enough that the table stays small.
pub const IDEMPOTENCY_KEPT: Duration = Duration::hours(24);

/// Forgets stored answers older than [`IDEMPOTENCY_KEPT`].
pub fn prune_idempotency_keys(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now - IDEMPOTENCY_KEPT)))
        .execute(conn)
}

/// Writes the appointment under a fresh reference, drawing again on the (rare) collision.
fn insert_appointment(
    conn: &mut DbConn,
    actor: &Actor,
    slot: &Slot,
    party: &Party,
    phone: Option<&str>,
    active_key: Option<String>,
    now: NaiveDateTime,
) -> Result<Reference, AppError> {
    let (applicant_id, staff_id) = match actor {
        Actor::Applicant(id) => (Some(*id), None),
        other => (None, Some(other.staff()?.id)),
    };
    for _ in 0..5 {
        let reference = Reference::generate();
        // Recoverable: a colliding reference must not abort the transaction (PostgreSQL).
        let inserted = recoverable(conn, |c| {
            diesel::insert_into(appointments::table)
                .values((
                    appointments::reference.eq(reference.as_str()),
                    appointments::slot_id.eq(slot.id),
                    appointments::post_code.eq(&slot.post_code),
                    appointments::service_code.eq(&slot.service_code),
                    appointments::starts_at.eq(slot.starts_at),
                    appointments::applicant_id.eq(applicant_id),
                    appointments::booked_by_staff_id.eq(staff_id),
                    appointments::party_size.eq(party.seats()),
                    appointments::party.eq(party.to_json()),
                    appointments::phone.eq(phone),
                    appointments::status.eq(AppointmentStatus::Booked.as_str()),
                    appointments::active_key.eq(&active_key),
                    appointments::created_at.eq(now),
                    appointments::updated_at.eq(now),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok(reference),
            Err(e) if violates(&e, "active_key") => {
                return Err(AppError::new(
                    Code::AlreadyBooked,
                    "you already have an appointment for this service; reschedule or cancel it instead",
                ))
            }
            Err(e) if violates(&e, "reference") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(anyhow::anyhow!("no free booking reference after 5 draws")))
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    String,
    i32,
    String,
    Option<String>,
    Option<i64>,
);

fn select_views(conn: &mut DbConn, filter: impl FnOnce() -> ViewFilter) -> QueryResult<Vec<AppointmentView>> {
    let query = appointments::table
        .left_join(slots_t::table)
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .select((
            appointments::reference,
            appointments::kind,
            appointments::status,
            appointments::post_code,
            appointments::service_code,
            appointments::slot_id,
            appointments::starts_at,
            slots_t::ends_at.nullable(),
            posts::timezone,
            appointments::party_size,
            appointments::party,
            appointments::phone,
            appointments::booked_by_staff_id,
        ))
        .order(appointments::starts_at)
        .into_boxed();
    let query = match filter() {
        ViewFilter::Reference(r) => query.filter(appointments::reference.eq(r)),
        ViewFilter::Applicant(id) => query.filter(appointments::applicant_id.eq(id)),
    };
    let rows: Vec<Row> = query.load(conn)?;
    rows.into_iter().map(to_view).collect()
}

enum ViewFilter {
    Reference(String),
    Applicant(i64),
}

/// A status as stored: one the CHECK constraint admits, or the row can't be read.
pub(crate) fn stored_status(raw: &str) -> QueryResult<AppointmentStatus> {
    AppointmentStatus::parse(raw).ok_or_else(|| {
        diesel::result::Error::DeserializationError(format!("unknown appointment status {raw:?}").into())
    })
}

fn to_view(row: Row) -> QueryResult<AppointmentView> {
    let (
        reference,
        kind,
        status,
        post,
        service,
        slot_id,
        starts_at,
        ends_at,
        zone,
        party_size,
        party,
        phone,
        staff,
    ) = row;
    let tz: Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    Ok(AppointmentView {
        reference,
        kind,
        status: stored_status(&status)?,
        post,
        service,
        slot_id,
        starts_at: calendar::rfc3339(starts_at, tz),
        ends_at: ends_at.map(|e| calendar::rfc3339(e, tz)),
        timezone: zone,
        party_size,
        applicants: Party::from_json(&party).people().to_vec(),
        phone,
        booked_by_staff: staff.is_some(),
    })
}

/// One appointment by reference.
pub fn view(conn: &mut DbConn, reference: &Reference) -> QueryResult<Option<AppointmentView>> {
    let reference = reference.as_str().to_string();
    Ok(select_views(conn, || ViewFilter::Reference(reference))?.into_iter().next())
}

/// All of an applicant's appointments, soonest first.
pub fn list_for_applicant(conn: &mut DbConn, applicant_id: i64) -> QueryResult<Vec<AppointmentView>> {
    select_views(conn, || ViewFilter::Applicant(applicant_id))
}

/// One of the applicant's own appointments; anyone else's is "not found".
pub fn view_own(
    conn: &mut DbConn,
    reference: &Reference,
    applicant_id: i64,
) -> Result<AppointmentView, AppError> {
    let owner: Option<Option<i64>> = appointments::table
        .filter(appointments::reference.eq(reference.as_str()))
        .select(appointments::applicant_id)
        .first(conn)
        .optional()?;
    if owner != Some(Some(applicant_id)) {
        return Err(no_such_appointment());
    }
    view(conn, reference)?.ok_or_else(no_such_appointment)
}

/// The appointment's calendar SEQUENCE (0 when it is gone).
pub fn sequence(conn: &mut DbConn, reference: &Reference) -> QueryResult<i32> {
    appointments::table
        .filter(appointments::reference.eq(reference.as_str()))
        .select(appointments::sequence)
        .first(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

/// One of the applicant's own appointments with its calendar event's SEQUENCE, the two read
/// so that they agree: the sequence is read before and after the view, again if it moved
/// meanwhile. (Should it keep moving, the view is at least as new as the sequence returned, and
/// a calendar takes the later DTSTAMP of two files with one SEQUENCE.)
pub fn view_own_with_sequence(
    conn: &mut DbConn,
    reference: &Reference,
    applicant_id: i64,
) -> Result<(AppointmentView, i32), AppError> {
    let sequence = |c: &mut DbConn| -> QueryResult<Option<i32>> {
        appointments::table
            .filter(appointments::reference.eq(reference.as_str()))
            .select(appointments::sequence)
            .first(c)
            .optional()
    };
    let mut tries = 0;
    loop {
        let before = sequence(conn)?.ok_or_else(no_such_appointment)?;
        let view = view_own(conn, reference, applicant_id)?;
        tries += 1;
        if tries == 3 || sequence(conn)? == Some(before) {
            return Ok((view, before));
        }
    }
}

fn appointment_vanished() -> AppError {
    AppError::internal(anyhow::anyhow!("a booked appointment vanished"))
}

fn no_such_appointment() -> AppError {
    AppError::not_found("no such appointment")
}

/// What the current state of an appointment forbids, for a cancel or reschedule that changed
/// no row.
fn explain_unchanged(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> AppError {
    let row: Result<Option<(String, NaiveDateTime)>, _> = appointments::table
        .find(id)
        .select((appointments::status, appointments::starts_at))
        .first(conn)
        .optional();
    match row {
        Ok(Some((status, starts_at))) => {
            if !AppointmentStatus::parse(&status).is_some_and(AppointmentStatus::is_active) {
                AppError::new(Code::NotActive, format!("the appointment is {status}"))
            } else if starts_at <= now {
                AppError::new(Code::AlreadyStarted, "the appointment time has passed")
            } else {
                AppError::new(Code::AppointmentChanged, "the appointment changed meanwhile; try again")
            }
        }
        Ok(None) => no_such_appointment(),
        Err(e) => e.into(),
    }
}

/// Gives seats back: at once, or after the release delay through a seat hold.
fn vacate(
    conn: &mut DbConn,
    rules: &Rules,
    slot_id: i64,
    appointment_id: i64,
    seats: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if rules.release_delay <= Duration::zero() {
        return slots::give_back(conn, slot_id, seats);
    }
    diesel::insert_into(seat_holds::table)
        .values((
            seat_holds::slot_id.eq(slot_id),
            seat_holds::appointment_id.eq(appointment_id),
            seat_holds::seats.eq(seats),
            seat_holds::release_at.eq(now + rules.release_delay),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Cancels a booked, future appointment: an applicant's own, or (with a reason) one at a
/// staff member's post, for someone at the window or on the phone.
pub fn cancel(
    conn: &mut DbConn,
    rules: &Rules,
    actor: &Actor,
    reference: &Reference,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<AppointmentView, AppError> {
    let (appointment, reason) = changeable(conn, actor, reference, reason)?;
    write_transaction(conn, |c| {
        let changed = diesel::update(
            appointments::table
                .find(appointment)
                .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
                .filter(appointments::starts_at.gt(now)),
        )
        .set((
            appointments::status.eq(AppointmentStatus::Cancelled.as_str()),
            appointments::active_key.eq(None::<String>),
            appointments::cancelled_at.eq(now),
            appointments::staff_change_reason.eq(&reason),
            appointments::updated_at.eq(now),
            // The cancelling calendar file must outrank every file sent before it.
            appointments::sequence.eq(appointments::sequence + 1),
        ))
        .execute(c)?;
        if changed == 0 {
            return Err(explain_unchanged(c, appointment, now));
        }
        let (id, slot_id, seats, post): (i64, Option<i64>, i32, String) = appointments::table
            .filter(appointments::reference.eq(reference.as_str()))
            .select((
                appointments::id,
                appointments::slot_id,
                appointments::party_size,
                appointments::post_code,
            ))
            .first(c)?;
        if let Some(slot_id) = slot_id {
            vacate(c, rules, slot_id, id, seats, now)?;
        }
        let event = Event::new(Action::AppointmentCancelled, reference.as_str())
            .at_post(Some(&post))
            .with(json!({"slot_id": slot_id, "seats": seats, "held_for_minutes": rules.release_delay.num_minutes()}));
        audit::record(c, actor, event, now)?;
        notices::appointment(c, Kind::AppointmentCancelled, reference.as_str(), now)?;
        view(c, reference)?.ok_or_else(no_such_appointment)
    })
}

/// Moves one of the applicant's appointments to another slot of the same service. Atomic:
/// the new seats are taken first; if that fails, or the appointment changed meanwhile,
/// nothing changes and the old seat is kept.
pub fn reschedule(
    conn: &mut DbConn,
    rules: &Rules,
    actor: &Actor,
    reference: &Reference,
    new_slot_id: i64,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<AppointmentView, AppError> {
    let (id, reason) = changeable(conn, actor, reference, reason)?;
    type Current = (Option<i64>, String, i32, String, NaiveDateTime, String);
    let current: Current = appointments::table
        .find(id)
        .select((
            appointments::slot_id,
            appointments::service_code,
            appointments::party_size,
            appointments::status,
            appointments::starts_at,
            appointments::post_code,
        ))
        .first(conn)?;
    let (old_slot, service, seats, status, starts_at, old_post) = current;
    // Only booked visits have a slot to move from.
    let old_slot = old_slot.ok_or_else(|| AppError::new(Code::NotActive, "a walk-in has no slot to move"))?;
    if !AppointmentStatus::parse(&status).is_some_and(AppointmentStatus::is_active) {
        return Err(AppError::new(Code::NotActive, format!("the appointment is {status}")));
    }
    if starts_at <= now {
        return Err(AppError::new(Code::AlreadyStarted, "the appointment time has passed"));
    }
    let new_slot = slots::find(conn, new_slot_id)?.ok_or_else(|| AppError::not_found("no such slot"))?;
    if new_slot.service_code != service {
        return Err(AppError::invalid_field("slot_id", Rule::NotASlotOf { service: service.to_string() }));
    }
    if new_slot.id == old_slot {
        return Err(AppError::new(Code::SameSlot, "the appointment is already in this slot"));
    }
    if !matches!(actor, Actor::Applicant(_)) {
        actor.ensure_post(&new_slot.post_code)?;
    }
    let (earliest, latest) = booking_window(rules, actor, now);
    if new_slot.starts_at < earliest || new_slot.starts_at > latest {
        return Err(outside_window(rules));
    }
    write_transaction(conn, |c| {
        slots::take_seats(c, new_slot.id, seats, earliest)?.map_err(refused)?;
        let moved = diesel::update(
            appointments::table
                .find(id)
                .filter(appointments::slot_id.eq(old_slot))
                .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
                .filter(appointments::starts_at.gt(now)),
        )
        .set((
            appointments::slot_id.eq(new_slot.id),
            appointments::post_code.eq(&new_slot.post_code),
            appointments::starts_at.eq(new_slot.starts_at),
            appointments::staff_change_reason.eq(&reason),
            appointments::updated_at.eq(now),
            // In the moving UPDATE itself: concurrent reschedules can't lose a step.
            appointments::sequence.eq(appointments::sequence + 1),
            // The new time gets its own reminder.
            appointments::reminder_queued_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)?;
        if moved == 0 {
            return Err(explain_unchanged(c, id, now));
        }
        vacate(c, rules, old_slot, id, seats, now)?;
        // On the new post's chain and, for a move between posts, on the old one's too.
        let event = Event::new(Action::AppointmentRescheduled, reference.as_str())
            .with(json!({"from_slot_id": old_slot, "from_post": old_post, "to_slot_id": new_slot.id, "seats": seats}));
        audit::record(c, actor, event.clone().at_post(Some(&new_slot.post_code)), now)?;
        if new_slot.post_code != old_post {
            audit::record(c, actor, event.at_post(Some(&old_post)), now)?;
        }
        notices::appointment(c, Kind::AppointmentRescheduled, reference.as_str(), now)?;
        view(c, reference)?.ok_or_else(no_such_appointment)
    })
}

/// Returns held seats whose delay has passed, as the system; safe to run from every instance
/// at once (each hold is released by exactly one conditional update). Returns the holds
/// released.
pub fn release_due_holds(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let due: Vec<(i64, i64, i32, String)> = seat_holds::table
        .inner_join(slots_t::table)
        .filter(seat_holds::released_at.is_null())
        .filter(seat_holds::release_at.le(now))
        .order(seat_holds::release_at)
        .limit(1000)
        .select((seat_holds::id, seat_holds::slot_id, seat_holds::seats, slots_t::post_code))
        .load(conn)?;
    let mut released = 0;
    for (id, slot_id, seats, post) in due {
        released += write_transaction(conn, |c| {
            let claimed =
                diesel::update(seat_holds::table.find(id).filter(seat_holds::released_at.is_null()))
                    .set(seat_holds::released_at.eq(now))
                    .execute(c)?;
            if claimed == 1 {
                slots::give_back(c, slot_id, seats)?;
                let event = Event::new(Action::SeatHoldReleased, id)
                    .at_post(Some(&post))
                    .with(json!({"slot_id": slot_id, "seats": seats}));
                audit::record(c, &Actor::System, event, now)?;
            }
            QueryResult::Ok(claimed)
        })?;
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, StaffMember};
    use chrono::NaiveDate;

    #[test]
    fn applicants_need_notice_staff_do_not() {
        let rules = Rules {
            min_notice: Duration::hours(24),
            horizon: Duration::days(90),
            release_delay: Duration::minutes(10),
            require_confirmed_email: true,
        };
        let now = NaiveDate::from_ymd_opt(2026, 11, 27).and_then(|d| d.and_hms_opt(12, 0, 0)).expect("time");
        assert_eq!(
            booking_window(&rules, &Actor::Applicant(1), now),
            (now + Duration::hours(24), now + Duration::days(90))
        );
        assert_eq!(booking_window(&rules, &Actor::Anonymous, now).0, now + Duration::hours(24));
        let clerk = StaffMember { id: 1, username: "c".into(), role: Role::Clerk, post: None };
        assert_eq!(booking_window(&rules, &Actor::Staff(clerk), now).0, now);
    }
}
