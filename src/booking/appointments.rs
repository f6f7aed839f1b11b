//! Appointments: book, cancel, reschedule, read. Each operation owns its transaction, and the
//! first statement of every transaction that takes seats is the conditional seat UPDATE.

use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::booking::party::{parse_phone, Party, PersonInput};
use crate::booking::reference_code::Reference;
use crate::booking::slots::{self, SeatRefusal, Slot};
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::config::BookingSettings;
use crate::db::schema::{appointments, idempotency_keys, posts, seat_holds, services, slots as slots_t};
use crate::db::{write_transaction, DbConn};
use crate::error::AppError;

/// The booking rules in force (from the settings).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub min_notice: Duration,
    pub horizon: Duration,
    pub release_delay: Duration,
}

impl From<&BookingSettings> for Rules {
    fn from(s: &BookingSettings) -> Self {
        Rules {
            min_notice: s.min_notice,
            horizon: Duration::days(i64::from(s.horizon_days)),
            release_delay: s.release_delay,
        }
    }
}

/// Who is booking. Staff book for people who phone: bound by capacity, not by the applicant
/// limits (minimum notice, one active appointment per service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booker {
    Applicant(i64),
    Staff(i64),
}

impl Booker {
    fn scope(self) -> String {
        match self {
            Booker::Applicant(id) => format!("applicant:{id}"),
            Booker::Staff(id) => format!("staff:{id}"),
        }
    }
}

/// A booking request as received.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingRequest {
    #[serde(deserialize_with = "crate::wire::i64_whole")]
    pub slot_id: i64,
    /// The people to be served: one seat each, as many as the service takes (4 at most).
    #[schema(min_items = 1, max_items = 4)]
    pub applicants: Vec<PersonInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::api::schemas::phone)]
    pub phone: Option<String>,
}

/// An appointment as applicants and staff see it. Times carry the post's offset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentView {
    /// Nine symbols, e.g. `K7Q-M4X-PT9`; quote it at the window.
    pub reference: String,
    /// `booked`, `cancelled`, `checked_in`, `completed` or `no_show`.
    pub status: String,
    pub post: String,
    pub service: String,
    pub slot_id: i64,
    pub starts_at: String,
    pub ends_at: String,
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

/// The window in which `booker` may take a seat: applicants need the minimum notice, staff
/// only need the slot not to have started; nobody books past the horizon. Pure rule.
pub fn booking_window(rules: &Rules, booker: Booker, now: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let earliest = match booker {
        Booker::Applicant(_) => now + rules.min_notice,
        Booker::Staff(_) => now,
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
        errors: vec![crate::error::FieldError::new("slot_id", "is outside the booking window")],
    }
}

fn refused(refusal: SeatRefusal) -> AppError {
    match refusal {
        SeatRefusal::Full => AppError::conflict("slot_full", "this slot has no seats left; pick another"),
        SeatRefusal::Closed => {
            AppError::conflict("slot_closed", "the post is closed at this time; pick another slot")
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

/// Books a slot. Checks the request, then in one transaction takes the seats (first
/// statement), enforces one active appointment per applicant and service, writes the
/// appointment and, with an `Idempotency-Key`, its answer.
pub fn book(
    conn: &mut DbConn,
    rules: &Rules,
    booker: Booker,
    request: &BookingRequest,
    idempotency: Option<Idempotency>,
    now: NaiveDateTime,
) -> Result<Booked, AppError> {
    let scope = booker.scope();
    if let Some(replayed) = replay(conn, booker, idempotency.as_ref())? {
        return Ok(replayed);
    }
    let slot = slots::find(conn, request.slot_id)?.ok_or_else(|| AppError::not_found("no such slot"))?;
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
    let (earliest, latest) = booking_window(rules, booker, now);
    if slot.starts_at < earliest || slot.starts_at > latest {
        return Err(outside_window(rules));
    }

    let outcome = write_transaction(conn, |c| {
        slots::take_seats(c, slot.id, party.seats(), earliest)?.map_err(refused)?;
        let active_key = match booker {
            Booker::Applicant(id) => {
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
            Booker::Staff(_) => None,
        };
        let reference = insert_appointment(c, booker, &slot, &party, phone.as_deref(), active_key, now)?;
        let view = view(c, &reference)?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("appointment vanished")))?;
        if let Some(idem) = &idempotency {
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
                    AppError::conflict("idempotency_race", "the same request is in progress")
                } else {
                    e.into()
                });
            }
        }
        Ok(view)
    });
    match outcome {
        Ok(view) => Ok(Booked::Created(Box::new(view))),
        // A conflict may be a concurrent retry with the same key that committed first (its
        // appointment holds the one-active key, or its key row exists): answer as it did.
        Err(conflict @ AppError::Conflict { .. }) => {
            Ok(replay(conn, booker, idempotency.as_ref())?.ok_or(conflict)?)
        }
        Err(e) => Err(e),
    }
}

/// The stored first answer to this booker's `Idempotency-Key`, if there is one; 422 when the
/// key came with another request. Handlers ask before counting an attempt, so a retry of a
/// booking that went through is never throttled.
pub fn replay(
    conn: &mut DbConn,
    booker: Booker,
    idem: Option<&Idempotency>,
) -> Result<Option<Booked>, AppError> {
    let Some(idem) = idem else {
        return Ok(None);
    };
    let stored: Option<(String, i32, String)> = idempotency_keys::table
        .find((booker.scope(), &idem.key))
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
            errors: vec![crate::error::FieldError::new(
                "Idempotency-Key",
                "was used with a different request",
            )],
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
    booker: Booker,
    slot: &Slot,
    party: &Party,
    phone: Option<&str>,
    active_key: Option<String>,
    now: NaiveDateTime,
) -> Result<Reference, AppError> {
    let (applicant_id, staff_id) = match booker {
        Booker::Applicant(id) => (Some(id), None),
        Booker::Staff(id) => (None, Some(id)),
    };
    for _ in 0..5 {
        let reference = Reference::generate();
        // A savepoint, so a failed insert doesn't poison the PostgreSQL transaction.
        let inserted = conn.transaction(|c| {
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
                return Err(AppError::conflict(
                    "already_booked",
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
    i64,
    NaiveDateTime,
    NaiveDateTime,
    String,
    i32,
    String,
    Option<String>,
    Option<i64>,
);

fn select_views(conn: &mut DbConn, filter: impl FnOnce() -> ViewFilter) -> QueryResult<Vec<AppointmentView>> {
    let query = appointments::table
        .inner_join(slots_t::table)
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .select((
            appointments::reference,
            appointments::status,
            appointments::post_code,
            appointments::service_code,
            appointments::slot_id,
            appointments::starts_at,
            slots_t::ends_at,
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
    Ok(rows.into_iter().map(to_view).collect())
}

enum ViewFilter {
    Reference(String),
    Applicant(i64),
}

fn to_view(row: Row) -> AppointmentView {
    let (
        reference,
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
    AppointmentView {
        reference,
        status,
        post,
        service,
        slot_id,
        starts_at: calendar::rfc3339(starts_at, tz),
        ends_at: calendar::rfc3339(ends_at, tz),
        timezone: zone,
        party_size,
        applicants: Party::from_json(&party).people().to_vec(),
        phone,
        booked_by_staff: staff.is_some(),
    }
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

fn no_such_appointment() -> AppError {
    AppError::not_found("no such appointment")
}

/// What the current state of an appointment forbids, for a cancel or reschedule that changed
/// no row.
fn explain_unchanged(
    conn: &mut DbConn,
    reference: &Reference,
    applicant_id: i64,
    now: NaiveDateTime,
) -> AppError {
    let row: Result<Option<(Option<i64>, String, NaiveDateTime)>, _> = appointments::table
        .filter(appointments::reference.eq(reference.as_str()))
        .select((appointments::applicant_id, appointments::status, appointments::starts_at))
        .first(conn)
        .optional();
    match row {
        Ok(Some((Some(owner), status, starts_at))) if owner == applicant_id => {
            if !AppointmentStatus::parse(&status).is_some_and(AppointmentStatus::is_active) {
                AppError::conflict("not_active", format!("the appointment is {status}"))
            } else if starts_at <= now {
                AppError::conflict("already_started", "the appointment time has passed")
            } else {
                AppError::conflict("appointment_changed", "the appointment changed meanwhile; try again")
            }
        }
        Ok(_) => no_such_appointment(),
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

/// Cancels one of the applicant's booked, future appointments.
pub fn cancel(
    conn: &mut DbConn,
    rules: &Rules,
    reference: &Reference,
    applicant_id: i64,
    now: NaiveDateTime,
) -> Result<AppointmentView, AppError> {
    write_transaction(conn, |c| {
        let changed = diesel::update(
            appointments::table
                .filter(appointments::reference.eq(reference.as_str()))
                .filter(appointments::applicant_id.eq(applicant_id))
                .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
                .filter(appointments::starts_at.gt(now)),
        )
        .set((
            appointments::status.eq(AppointmentStatus::Cancelled.as_str()),
            appointments::active_key.eq(None::<String>),
            appointments::cancelled_at.eq(now),
            appointments::updated_at.eq(now),
        ))
        .execute(c)?;
        if changed == 0 {
            return Err(explain_unchanged(c, reference, applicant_id, now));
        }
        let (id, slot_id, seats): (i64, i64, i32) = appointments::table
            .filter(appointments::reference.eq(reference.as_str()))
            .select((appointments::id, appointments::slot_id, appointments::party_size))
            .first(c)?;
        vacate(c, rules, slot_id, id, seats, now)?;
        view(c, reference)?.ok_or_else(no_such_appointment)
    })
}

/// Moves one of the applicant's appointments to another slot of the same service. Atomic:
/// the new seats are taken first; if that fails, or the appointment changed meanwhile,
/// nothing changes and the old seat is kept.
pub fn reschedule(
    conn: &mut DbConn,
    rules: &Rules,
    reference: &Reference,
    applicant_id: i64,
    new_slot_id: i64,
    now: NaiveDateTime,
) -> Result<AppointmentView, AppError> {
    let current: (i64, i64, String, i32, String, NaiveDateTime, Option<i64>) = appointments::table
        .filter(appointments::reference.eq(reference.as_str()))
        .select((
            appointments::id,
            appointments::slot_id,
            appointments::service_code,
            appointments::party_size,
            appointments::status,
            appointments::starts_at,
            appointments::applicant_id,
        ))
        .first(conn)
        .optional()?
        .filter(|row: &(i64, i64, String, i32, String, NaiveDateTime, Option<i64>)| {
            row.6 == Some(applicant_id)
        })
        .ok_or_else(no_such_appointment)?;
    let (id, old_slot, service, seats, status, starts_at, _) = current;
    if !AppointmentStatus::parse(&status).is_some_and(AppointmentStatus::is_active) {
        return Err(AppError::conflict("not_active", format!("the appointment is {status}")));
    }
    if starts_at <= now {
        return Err(AppError::conflict("already_started", "the appointment time has passed"));
    }
    let new_slot = slots::find(conn, new_slot_id)?.ok_or_else(|| AppError::not_found("no such slot"))?;
    if new_slot.service_code != service {
        return Err(AppError::invalid_field("slot_id", format!("is not a {service} slot")));
    }
    if new_slot.id == old_slot {
        return Err(AppError::conflict("same_slot", "the appointment is already in this slot"));
    }
    let (earliest, latest) = booking_window(rules, Booker::Applicant(applicant_id), now);
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
            appointments::updated_at.eq(now),
        ))
        .execute(c)?;
        if moved == 0 {
            return Err(explain_unchanged(c, reference, applicant_id, now));
        }
        vacate(c, rules, old_slot, id, seats, now)?;
        view(c, reference)?.ok_or_else(no_such_appointment)
    })
}

/// Returns held seats whose delay has passed; safe to run from every instance at once (each
/// hold is released by exactly one conditional update). Returns the holds released.
pub fn release_due_holds(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let due: Vec<(i64, i64, i32)> = seat_holds::table
        .filter(seat_holds::released_at.is_null())
        .filter(seat_holds::release_at.le(now))
        .order(seat_holds::release_at)
        .limit(1000)
        .select((seat_holds::id, seat_holds::slot_id, seat_holds::seats))
        .load(conn)?;
    let mut released = 0;
    for (id, slot_id, seats) in due {
        released += write_transaction(conn, |c| {
            let claimed =
                diesel::update(seat_holds::table.find(id).filter(seat_holds::released_at.is_null()))
                    .set(seat_holds::released_at.eq(now))
                    .execute(c)?;
            if claimed == 1 {
                slots::give_back(c, slot_id, seats)?;
            }
            QueryResult::Ok(claimed)
        })?;
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn applicants_need_notice_staff_do_not() {
        let rules = Rules {
            min_notice: Duration::hours(24),
            horizon: Duration::days(90),
            release_delay: Duration::minutes(10),
        };
        let now = NaiveDate::from_ymd_opt(2026, 11, 27).and_then(|d| d.and_hms_opt(12, 0, 0)).expect("time");
        assert_eq!(
            booking_window(&rules, Booker::Applicant(1), now),
            (now + Duration::hours(24), now + Duration::days(90))
        );
        assert_eq!(booking_window(&rules, Booker::Staff(1), now).0, now);
    }
}
