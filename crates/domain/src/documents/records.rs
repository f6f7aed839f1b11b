//! The operations on intake and tracked documents: an applicant pre-fills the intake, the
//! clerk records each application or notarial job at the window (a tracked document, and a
//! register entry for a notarial act), staff move documents along their state machine, and
//! anyone with the number and the surname looks one up. Each checks the post itself and
//! writes its audit entry in its transaction.

use crate::mail::{notices, Kind as MailKind};
use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, sealed, Action, Event};
use crate::auth::Actor;
use crate::booking::reference_code::Reference;
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::config::TrackingSettings;
use crate::db::schema::{appointments, document_events, documents, intakes, notarial_register, posts, staff};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::documents::identity::MatchingKey;
use crate::documents::intake::{self, CheckedItem, Form, IntakeItem, Stage, MAX_ITEMS};
use crate::documents::register::{self, NewEntry};
use crate::documents::tracking::{self, Kind, Status, TrackingNumber, MAX_NOTE_CHARS};
use crate::error::{AppError, Code, FieldError};
use crate::rule::Rule;
use crate::throttle::{self, Limit};
use crate::window::visits;

/// The window the tracking lookup's throttles count in.
fn lookup_window() -> Duration {
    Duration::minutes(15)
}

/// A pre-filled intake: the applications or notarial jobs the appointment is for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct IntakeRequest {
    #[schema(min_items = 1, max_items = 8)]
    pub items: Vec<IntakeItem>,
}

/// An intake as kept: names in NFC, document numbers masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeView {
    pub reference: String,
    pub items: Vec<CheckedItem>,
    pub updated_at: String,
}

/// One state a document has been in.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DocumentStep)]
pub struct Step {
    pub status: Status,
    pub at: String,
    /// The staff member who moved it (username).
    pub staff: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A tracked document as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// `7KQM-4XPT-9ABCD`: what the applicant tracks it by.
    pub tracking_number: String,
    pub kind: Kind,
    pub form: Form,
    pub status: Status,
    /// The visit it was taken at.
    pub reference: String,
    pub post: String,
    pub recorded_at: String,
    pub updated_at: String,
    /// The notarial register's entries for it (the first, then any corrections).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub register_entries: Vec<String>,
    pub details: CheckedItem,
    pub history: Vec<Step>,
    /// The applicant, or a notarial job's first signer.
    pub person: String,
    /// Who collected it, once handed over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handover: Option<HandoverView>,
}

/// A step as the public sees it: status and time only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStep {
    pub status: Status,
    pub at: String,
}

/// What the public lookup shows: status and dates, nothing personal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingView {
    pub tracking_number: String,
    pub kind: Kind,
    pub status: Status,
    pub updated_at: String,
    pub history: Vec<PublicStep>,
}

/// Moves a document to its next state.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransitionRequest {
    pub to: Status,
    /// For the history (1 to 500 characters).
    #[schema(schema_with = crate::field_schemas::note)]
    pub note: Option<String>,
}

/// The applicant's own appointment, with what pre-filling decides on.
struct Own {
    id: i64,
    status: Option<AppointmentStatus>,
    service: String,
    starts_at: NaiveDateTime,
    post: String,
    tz: Tz,
}

fn zone(post: &str, name: &str) -> Result<Tz, AppError> {
    name.parse().map_err(|_| AppError::internal(anyhow::anyhow!("post {post} has a bad zone")))
}

/// id, owner, status, service, start, post, zone.
type OwnRow = (i64, Option<i64>, String, String, NaiveDateTime, String, String);

fn own_appointment(conn: &mut DbConn, actor: &Actor, reference: &Reference) -> Result<Own, AppError> {
    let Actor::Applicant(applicant) = actor else {
        return Err(AppError::new(Code::StaffTokenNotApplicant, "only the applicant pre-fills"));
    };
    let row: Option<OwnRow> = appointments::table
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .filter(appointments::reference.eq(reference.as_str()))
        .select((
            appointments::id,
            appointments::applicant_id,
            appointments::status,
            appointments::service_code,
            appointments::starts_at,
            appointments::post_code,
            posts::timezone,
        ))
        .first(conn)
        .optional()?;
    match row {
        Some((id, Some(owner), status, service, starts_at, post, zone_name)) if owner == *applicant => {
            let tz = zone(&post, &zone_name)?;
            Ok(Own { id, status: AppointmentStatus::parse(&status), service, starts_at, post, tz })
        }
        _ => Err(AppError::not_found("no such appointment")),
    }
}

fn intake_view(
    conn: &mut DbConn,
    appointment_id: i64,
    reference: &Reference,
    tz: Tz,
) -> Result<IntakeView, AppError> {
    let (items, updated_at): (String, NaiveDateTime) = intakes::table
        .find(appointment_id)
        .select((intakes::items, intakes::updated_at))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("nothing pre-filled for this appointment"))?;
    let items: Vec<CheckedItem> =
        serde_json::from_str(&items).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
    Ok(IntakeView {
        reference: reference.to_string(),
        items: items.iter().map(CheckedItem::shown).collect(),
        updated_at: calendar::rfc3339(updated_at, tz),
    })
}

/// Replaces the applicant's pre-filled intake, checked as the window will check it, until the
/// appointment starts.
pub fn prefill(
    conn: &mut DbConn,
    key: &MatchingKey,
    actor: &Actor,
    reference: &Reference,
    request: &IntakeRequest,
    now: NaiveDateTime,
) -> Result<IntakeView, AppError> {
    let own = own_appointment(conn, actor, reference)?;
    if own.status != Some(AppointmentStatus::Booked) {
        return Err(AppError::new(Code::NotActive, "the appointment is no longer booked"));
    }
    if own.starts_at <= now {
        return Err(AppError::new(
            Code::AlreadyStarted,
            "the appointment has started: the clerk takes the intake",
        ));
    }
    if request.items.is_empty() || request.items.len() > MAX_ITEMS {
        return Err(AppError::invalid(vec![FieldError::new("items", Rule::ItemCount { max: MAX_ITEMS })]));
    }
    let date = calendar::local_date(own.starts_at, own.tz);
    let mut checked = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in request.items.iter().enumerate() {
        match intake::check(item, &own.service, date, Stage::Prefill, key, &format!("items[{i}]")) {
            Ok(item) => checked.push(item),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let json = serde_json::to_string(&checked).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
    write_transaction(conn, |c| -> Result<(), AppError> {
        let replaced = diesel::update(intakes::table.find(own.id))
            .set((intakes::items.eq(&json), intakes::updated_at.eq(now)))
            .execute(c)?;
        if replaced == 0 {
            let inserted = recoverable(c, |c| {
                diesel::insert_into(intakes::table)
                    .values((
                        intakes::appointment_id.eq(own.id),
                        intakes::items.eq(&json),
                        intakes::updated_at.eq(now),
                    ))
                    .execute(c)
            });
            match inserted {
                Ok(_) => {}
                // A second pre-fill of the same appointment won the insert: replace its items.
                Err(e) if is_unique_violation(&e) => {
                    diesel::update(intakes::table.find(own.id))
                        .set((intakes::items.eq(&json), intakes::updated_at.eq(now)))
                        .execute(c)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let forms: Vec<&str> = checked.iter().map(|i| i.form.as_str()).collect();
        let event = Event::new(Action::IntakePrefilled, reference.as_str())
            .at_post(Some(&own.post))
            .with(json!({"forms": forms}));
        audit::record(c, actor, event, now)?;
        Ok(())
    })?;
    intake_view(conn, own.id, reference, own.tz)
}

/// The applicant's own pre-filled intake.
pub fn intake_for_applicant(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
) -> Result<IntakeView, AppError> {
    let own = own_appointment(conn, actor, reference)?;
    intake_view(conn, own.id, reference, own.tz)
}

/// A visit's pre-filled intake, for the clerk reviewing it at the window.
pub fn intake_for_staff(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
) -> Result<IntakeView, AppError> {
    let visit = visits::find(conn, actor, reference)?;
    intake_view(conn, visit.id, reference, visit.tz)
}

/// Records one application or notarial job taken at the window: a tracked document, its first
/// state, and for a notarial act its register entry. The visit must be at a window (called or
/// in service); a called visit is then in service.
pub fn record(
    conn: &mut DbConn,
    key: &MatchingKey,
    actor: &Actor,
    reference: &Reference,
    item: &IntakeItem,
    now: NaiveDateTime,
) -> Result<DocumentView, AppError> {
    let clerk = actor.staff()?.id;
    let visit = visits::find(conn, actor, reference)?;
    let at_window = match visit.status {
        Some(s @ (AppointmentStatus::Called | AppointmentStatus::InService)) => s,
        other => {
            let now = other.map(|s| s.as_str()).unwrap_or("unknown");
            return Err(AppError::new(
                Code::InvalidTransition,
                format!("a visit that is {now} takes no documents: call its ticket to a window first"),
            ));
        }
    };
    let checked =
        intake::check(item, &visit.service, calendar::local_date(now, visit.tz), Stage::Window, key, "")
            .map_err(AppError::invalid)?;
    let kind = item.form().kind();
    let status = match (kind, checked.pending) {
        (Kind::Notarial, Some(true)) => Status::Pending,
        (Kind::Notarial, _) => Status::Completed,
        _ => Status::Received,
    };
    let details = serde_json::to_string(&checked).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
    let surname_key = key.surname_key(checked.surname());
    let id = write_transaction(conn, |c| {
        let moved = diesel::update(
            appointments::table.find(visit.id).filter(appointments::status.eq(at_window.as_str())),
        )
        .set((
            appointments::status.eq(AppointmentStatus::InService.as_str()),
            appointments::updated_at.eq(now),
        ))
        .execute(c)?;
        if moved == 0 {
            return Err(AppError::new(Code::AppointmentChanged, "the visit changed meanwhile; look again"));
        }
        let (id, tracking) =
            insert_document(c, &visit, item.form(), status, &surname_key, &checked, &details, clerk, now)?;
        crate::search::index::document(c, id)?;
        let written = diesel::insert_into(document_events::table)
            .values((
                document_events::document_id.eq(id),
                document_events::status.eq(status.as_str()),
                document_events::at.eq(now),
                document_events::staff_id.eq(clerk),
            ))
            .returning(document_events::id)
            .get_result::<i64>(c)?;
        let written: sealed::DocumentEvent =
            document_events::table.find(written).select(sealed::DocumentEvent::as_select()).first(c)?;
        let change = json!({"reference": reference.as_str(), "form": item.form().as_str()});
        let event = Event::new(Action::DocumentRecorded, tracking.as_str())
            .at_post(Some(&visit.post))
            .with(sealed::with_fields(change, written.fields(true)));
        audit::record(c, actor, event, now)?;
        if kind == Kind::Notarial {
            let venue = match &checked.venue {
                Some(venue) => venue.clone(),
                None => posts::table.find(&visit.post).select(posts::name).first(c)?,
            };
            let entry = NewEntry {
                post: &visit.post,
                tz: visit.tz,
                performed_at: now,
                venue: &venue,
                job: &checked,
                appointment_id: visit.id,
                document_id: id,
                corrects: None,
            };
            register::append(c, actor, entry, now)?;
        }
        Ok(id)
    })?;
    view(conn, id)
}

/// Inserts the document with a fresh tracking number; a number already taken (one chance in
/// 2^60 per document held) is drawn again.
#[allow(clippy::too_many_arguments)]
fn insert_document(
    conn: &mut DbConn,
    visit: &visits::Visit,
    form: Form,
    status: Status,
    surname_key: &str,
    checked: &CheckedItem,
    details: &str,
    clerk: i64,
    now: NaiveDateTime,
) -> Result<(i64, TrackingNumber), AppError> {
    for _ in 0..3 {
        let tracking = TrackingNumber::generate();
        let inserted = recoverable(conn, |c| {
            diesel::insert_into(documents::table)
                .values((
                    documents::tracking_number.eq(tracking.as_str()),
                    documents::appointment_id.eq(visit.id),
                    documents::post_code.eq(&visit.post),
                    documents::kind.eq(form.kind().as_str()),
                    documents::form.eq(form.as_str()),
                    documents::status.eq(status.as_str()),
                    documents::surname_key.eq(surname_key),
                    documents::number_hash.eq(checked.number_hash()),
                    documents::details.eq(details),
                    documents::recorded_at.eq(now),
                    documents::recorded_by.eq(clerk),
                    documents::updated_at.eq(now),
                ))
                .returning(documents::id)
                .get_result::<i64>(c)
        });
        match inserted {
            Ok(id) => return Ok((id, tracking)),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(anyhow::anyhow!("three tracking numbers in a row were taken")))
}

/// What a tracking number that `actor` may not see answers: the very words of one never issued.
pub fn no_such_document() -> AppError {
    AppError::not_found("no such document")
}

/// Whether `actor` may see a document of `post`. A document of another post is no document to
/// a member bound elsewhere (404 [`no_such_document`], not 403 or a 422 of its own), so no
/// answer tells a clerk which tracking numbers another post has issued.
pub fn sees_post(actor: &Actor, post: &str) -> bool {
    actor.ensure_post(post).is_ok()
}

/// The document's id, post, kind and status, if `actor` may see it ([`sees_post`]).
fn find_document(
    conn: &mut DbConn,
    actor: &Actor,
    tracking: &TrackingNumber,
) -> Result<(i64, String, Kind, Status), AppError> {
    let row: Option<(i64, String, String, String)> = documents::table
        .filter(documents::tracking_number.eq(tracking.as_str()))
        .select((documents::id, documents::post_code, documents::kind, documents::status))
        .first(conn)
        .optional()?;
    let (id, post, kind, status) =
        row.filter(|(_, post, _, _)| sees_post(actor, post)).ok_or_else(no_such_document)?;
    let bad = || AppError::internal(anyhow::anyhow!("document {id} has an unknown kind or status"));
    Ok((id, post, Kind::parse(&kind).ok_or_else(bad)?, Status::parse(&status).ok_or_else(bad)?))
}

/// Moves a document along its state machine, with the staff member's note in its history.
pub fn transition(
    conn: &mut DbConn,
    actor: &Actor,
    tracking: &TrackingNumber,
    request: &TransitionRequest,
    now: NaiveDateTime,
) -> Result<DocumentView, AppError> {
    let clerk = actor.staff()?.id;
    let (id, post, kind, from) = find_document(conn, actor, tracking)?;
    let note = request
        .note
        .as_deref()
        .map(|n| crate::booking::free_text("note", n, MAX_NOTE_CHARS))
        .transpose()
        .map_err(|e| AppError::invalid(vec![e]))?;
    let to = request.to;
    if !tracking::allowed(kind, from, to) {
        return Err(AppError::new(
            Code::InvalidTransition,
            format!("a {} document that is {} can't become {}", kind.as_str(), from.as_str(), to.as_str()),
        ));
    }
    write_transaction(conn, |c| {
        let moved = diesel::update(documents::table.find(id).filter(documents::status.eq(from.as_str())))
            .set((documents::status.eq(to.as_str()), documents::updated_at.eq(now)))
            .execute(c)?;
        if moved == 0 {
            return Err(AppError::new(Code::DocumentChanged, "the document moved on meanwhile; look again"));
        }
        let written = diesel::insert_into(document_events::table)
            .values((
                document_events::document_id.eq(id),
                document_events::status.eq(to.as_str()),
                document_events::at.eq(now),
                document_events::staff_id.eq(clerk),
                document_events::note.eq(&note),
            ))
            .returning(document_events::id)
            .get_result::<i64>(c)?;
        let written: sealed::DocumentEvent =
            document_events::table.find(written).select(sealed::DocumentEvent::as_select()).first(c)?;
        let event = Event::new(Action::DocumentTransitioned, tracking.as_str())
            .at_post(Some(&post))
            .with(sealed::with_fields(json!({"from": from.as_str()}), written.fields(false)));
        audit::record(c, actor, event, now)?;
        if to == Status::ReadyForPickup {
            notices::document(c, MailKind::DocumentReady, id, now)?;
        }
        Ok(())
    })?;
    view(conn, id)
}

/// A document, for staff of its post (and auditors).
pub fn show(conn: &mut DbConn, actor: &Actor, tracking: &TrackingNumber) -> Result<DocumentView, AppError> {
    let (id, _, _, _) = find_document(conn, actor, tracking)?;
    view(conn, id)
}

/// The documents taken at a visit, in the order they were recorded.
pub fn for_visit(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
) -> Result<Vec<DocumentView>, AppError> {
    let visit = visits::find(conn, actor, reference)?;
    let ids: Vec<i64> = documents::table
        .filter(documents::appointment_id.eq(visit.id))
        .order(documents::id)
        .select(documents::id)
        .load(conn)?;
    ids.into_iter().map(|id| view(conn, id)).collect()
}

fn history(conn: &mut DbConn, id: i64, tz: Tz) -> QueryResult<Vec<Step>> {
    let rows: Vec<(String, NaiveDateTime, Option<String>, Option<String>)> = document_events::table
        .left_join(staff::table.on(staff::id.nullable().eq(document_events::staff_id)))
        .filter(document_events::document_id.eq(id))
        .order(document_events::id)
        .select((
            document_events::status,
            document_events::at,
            staff::username.nullable(),
            document_events::note,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(status, at, staff, note)| {
            Some(Step { status: Status::parse(&status)?, at: calendar::rfc3339(at, tz), staff, note })
        })
        .collect())
}

fn view(conn: &mut DbConn, id: i64) -> Result<DocumentView, AppError> {
    let (tracking, form, status, reference, post, zone_name, details, recorded, updated): (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
    ) = documents::table
        .inner_join(appointments::table)
        .inner_join(posts::table.on(posts::code.eq(documents::post_code)))
        .filter(documents::id.eq(id))
        .select((
            documents::tracking_number,
            documents::form,
            documents::status,
            appointments::reference,
            documents::post_code,
            posts::timezone,
            documents::details,
            documents::recorded_at,
            documents::updated_at,
        ))
        .first(conn)?;
    let tz = zone(&post, &zone_name)?;
    let details: CheckedItem =
        serde_json::from_str(&details).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
    let bad = || AppError::internal(anyhow::anyhow!("document {id} has an unknown form or status"));
    let form: Form = serde_json::from_value(json!(form)).map_err(|_| bad())?;
    let register_entries = notarial_register::table
        .filter(notarial_register::document_id.eq(id))
        .order(notarial_register::id)
        .select(notarial_register::entry_number)
        .load(conn)?;
    Ok(DocumentView {
        tracking_number: tracking,
        kind: form.kind(),
        form,
        status: Status::parse(&status).ok_or_else(bad)?,
        reference,
        post,
        recorded_at: calendar::rfc3339(recorded, tz),
        updated_at: calendar::rfc3339(updated, tz),
        register_entries,
        person: crate::documents::slips::person(&details),
        details: details.shown(),
        history: history(conn, id, tz)?,
        handover: handover_of(conn, id, tz)?,
    })
}

/// The public lookup: a document's status and dates for whoever has its number and the
/// surname on it. An unknown number and a wrong surname are the same 404 after the same work
/// (the same queries, the same keyed-hash comparison). Throttled per address, and per number
/// after failures, so a surname can't be guessed from many addresses either (successes don't
/// count against a number). A number whose
/// check symbol is wrong (which anyone can compute) has no bucket of its own.
pub fn lookup(
    conn: &mut DbConn,
    key: &MatchingKey,
    limits: &TrackingSettings,
    number: &str,
    surname: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<TrackingView, AppError> {
    let window = lookup_window();
    let per_address = Limit { max: limits.lookups_per_address, window };
    if let Some(wait) = throttle::take(conn, &format!("track:address:{address}"), per_address, now)? {
        return Err(AppError::too_many_requests(wait));
    }
    let tracking = TrackingNumber::parse(number);
    // Every lookup of a number counts before it is answered, so a burst of guesses can't all
    // slip in before the first failure is counted; a lookup that succeeds is taken back.
    let failures = Limit { max: limits.failures_per_number.saturating_add(1), window };
    let mut counted = None;
    if let Some(t) = &tracking {
        let bucket = format!("track:number:{}", t.as_str());
        let (started, hits) = throttle::count_all(conn, std::slice::from_ref(&bucket), window, now)?[0];
        if let Some(wait) = throttle::retry_after(started, hits, failures, now) {
            return Err(AppError::too_many_requests(wait));
        }
        counted = Some((bucket, started));
    }
    let wanted = tracking.as_ref().map(|t| t.as_str()).unwrap_or("");
    let found: Option<(i64, String, String, String, NaiveDateTime, String)> = documents::table
        .inner_join(posts::table.on(posts::code.eq(documents::post_code)))
        .filter(documents::tracking_number.eq(wanted))
        .select((
            documents::id,
            documents::kind,
            documents::status,
            documents::surname_key,
            documents::updated_at,
            posts::timezone,
        ))
        .first(conn)
        .optional()?;
    let stored_key = found.as_ref().map(|f| f.3.as_str()).unwrap_or("");
    // Over-long input is folded no further than a name can be long.
    let surname: String = surname.chars().take(crate::accounts::fields::PersonName::MAX_CHARS).collect();
    let matches = key.surname_matches(&surname, stored_key);
    let (Some((id, kind, status, _, updated, zone_name)), true) = (found, matches) else {
        return Err(AppError::not_found("no document with that tracking number and surname"));
    };
    if let Some((bucket, started)) = counted {
        throttle::uncount(conn, &bucket, started)?;
    }
    public_view(conn, id, wanted, &kind, &status, updated, zone("?", &zone_name)?)
}

/// A document as the public sees it: status and dates.
fn public_view(
    conn: &mut DbConn,
    id: i64,
    tracking: &str,
    kind: &str,
    status: &str,
    updated: NaiveDateTime,
    tz: Tz,
) -> Result<TrackingView, AppError> {
    let bad = || AppError::internal(anyhow::anyhow!("document {id} has an unknown kind or status"));
    Ok(TrackingView {
        tracking_number: tracking.to_string(),
        kind: Kind::parse(kind).ok_or_else(bad)?,
        status: Status::parse(status).ok_or_else(bad)?,
        updated_at: calendar::rfc3339(updated, tz),
        history: history(conn, id, tz)?
            .into_iter()
            .map(|s| PublicStep { status: s.status, at: s.at })
            .collect(),
    })
}

/// A document of the applicant's own visit, as their appointment page lists it.
#[derive(Debug, Clone)]
pub struct OwnDocument {
    /// Whose it is ([`CheckedItem::person_name`]).
    pub person: String,
    pub kind: Kind,
    pub tracking_number: String,
    pub status: Status,
}

/// The documents taken at one of the applicant's own visits (another's visit is 404), with
/// whose each is, in the order they were recorded.
pub fn own_documents(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
) -> Result<Vec<OwnDocument>, AppError> {
    let own = own_appointment(conn, actor, reference)?;
    let rows: Vec<(i64, String, String, String, String)> = documents::table
        .filter(documents::appointment_id.eq(own.id))
        .order(documents::id)
        .select((
            documents::id,
            documents::tracking_number,
            documents::kind,
            documents::status,
            documents::details,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, tracking_number, kind, status, details)| {
            let bad = || AppError::internal(anyhow::anyhow!("document {id} has an unknown kind or status"));
            let details: CheckedItem =
                serde_json::from_str(&details).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
            Ok(OwnDocument {
                person: details.person_name(),
                kind: Kind::parse(&kind).ok_or_else(bad)?,
                tracking_number,
                status: Status::parse(&status).ok_or_else(bad)?,
            })
        })
        .collect()
}

/// The documents taken at one of the applicant's own visits, as the public lookup shows them:
/// an applicant signed in tracks without typing the number.
pub fn for_applicant(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
) -> Result<Vec<TrackingView>, AppError> {
    let own = own_appointment(conn, actor, reference)?;
    let rows: Vec<(i64, String, String, String, NaiveDateTime)> = documents::table
        .filter(documents::appointment_id.eq(own.id))
        .order(documents::id)
        .select((
            documents::id,
            documents::tracking_number,
            documents::kind,
            documents::status,
            documents::updated_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, tracking, kind, status, updated)| {
            public_view(conn, id, &tracking, &kind, &status, updated, own.tz)
        })
        .collect()
}

// --- the post's documents, and handing one over ------------------------------------------

/// Longest list the post's documents answer with.
pub const MAX_LISTED: i64 = 500;

/// One document in the post's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentListItem {
    pub tracking_number: String,
    pub kind: Kind,
    pub status: Status,
    /// The applicant, or a notarial job's first signer.
    pub person: String,
    /// The visit it was taken at.
    pub reference: String,
    /// When it entered its current state, in the post's zone.
    pub since: String,
}

/// The documents of `post` (in `status`, or all), the longest waiting first, at most
/// [`MAX_LISTED`]. Staff of the post, and staff bound to none.
pub fn at_post(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    status: Option<Status>,
) -> Result<Vec<DocumentListItem>, AppError> {
    actor.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let mut query = documents::table
        .inner_join(appointments::table)
        .filter(documents::post_code.eq(post))
        .order((documents::updated_at, documents::id))
        .limit(MAX_LISTED)
        .select((
            documents::tracking_number,
            documents::kind,
            documents::status,
            documents::details,
            appointments::reference,
            documents::updated_at,
        ))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(documents::status.eq(status.as_str()));
    }
    let rows: Vec<(String, String, String, String, String, NaiveDateTime)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(tracking_number, kind, status, details, reference, updated)| {
            let details: CheckedItem = serde_json::from_str(&details).ok()?;
            Some(DocumentListItem {
                tracking_number,
                kind: Kind::parse(&kind)?,
                status: Status::parse(&status)?,
                person: crate::documents::slips::person(&details),
                reference,
                since: calendar::rfc3339(updated, tz),
            })
        })
        .collect())
}

/// Who collected a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Collector {
    /// The person it was issued to, in person.
    Applicant,
    /// Someone else, named, with the ID they showed.
    SomeoneElse,
}

impl Collector {
    pub fn as_str(self) -> &'static str {
        match self {
            Collector::Applicant => "applicant",
            Collector::SomeoneElse => "someone_else",
        }
    }
}

/// The kind of ID the collector showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    Passport,
    VoterCard,
    DrivingLicence,
    Other,
}

impl IdType {
    pub const ALL: [IdType; 4] = [IdType::Passport, IdType::VoterCard, IdType::DrivingLicence, IdType::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            IdType::Passport => "passport",
            IdType::VoterCard => "voter_card",
            IdType::DrivingLicence => "driving_licence",
            IdType::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<IdType> {
        IdType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Hands a document that is ready for pickup over: it becomes `delivered`, with who took it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct HandoverRequest {
    pub collector: Collector,
    /// The collector's full name; needed for `someone_else` (1 to 200 characters).
    pub name: Option<String>,
    /// The ID the collector showed; needed for `someone_else`.
    pub id_type: Option<IdType>,
    /// The ID's last four letters or digits; needed with `id_type`.
    pub id_last4: Option<String>,
    /// For the history (1 to 500 characters).
    #[schema(schema_with = crate::field_schemas::note)]
    pub note: Option<String>,
}

/// A handover as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HandoverView {
    pub collector: Collector,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_type: Option<IdType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_last4: Option<String>,
    pub at: String,
    /// The staff member who handed it over (username).
    pub staff: String,
}

/// A handover request as checked: every field's problem at once.
struct CheckedHandover {
    name: Option<String>,
    id_type: Option<IdType>,
    id_last4: Option<String>,
    note: Option<String>,
}

const MAX_NAME_CHARS: usize = 200;

fn check_handover(request: &HandoverRequest) -> Result<CheckedHandover, AppError> {
    let mut errors = Vec::new();
    let text =
        |raw: &Option<String>| raw.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
    let mut name = None;
    match text(&request.name) {
        Some(raw) => match crate::booking::free_text("name", &raw, MAX_NAME_CHARS) {
            Ok(n) => name = Some(n),
            Err(e) => errors.push(e),
        },
        None if request.collector == Collector::SomeoneElse => {
            errors.push(FieldError::new("name", Rule::CollectorName))
        }
        None => {}
    }
    let last4 = text(&request.id_last4).map(|l| l.to_uppercase());
    if let Some(l) = &last4 {
        if l.chars().count() != 4 || !l.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(FieldError::new("id_last4", Rule::IdLast4));
        }
    }
    match (request.id_type, &last4) {
        (None, None) if request.collector == Collector::SomeoneElse => {
            errors.push(FieldError::new("id_type", Rule::IdShown));
            errors.push(FieldError::new("id_last4", Rule::IdLast4Needed));
        }
        (Some(_), None) => errors.push(FieldError::new("id_last4", Rule::IdLast4Needed)),
        (None, Some(_)) => errors.push(FieldError::new("id_type", Rule::IdShown)),
        _ => {}
    }
    let note = match text(&request.note) {
        Some(raw) => match crate::booking::free_text("note", &raw, MAX_NOTE_CHARS) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    if errors.is_empty() {
        Ok(CheckedHandover { name, id_type: request.id_type, id_last4: last4, note })
    } else {
        Err(AppError::invalid(errors))
    }
}

/// Hands a document that is ready for pickup over: it becomes `delivered`, its history says
/// so, and who collected it is kept (once: a second handover of the same document finds it
/// delivered). Audited as the document's move, with the handover's details (the name hashed).
pub fn handover(
    conn: &mut DbConn,
    actor: &Actor,
    tracking: &TrackingNumber,
    request: &HandoverRequest,
    now: NaiveDateTime,
) -> Result<DocumentView, AppError> {
    use crate::db::schema::document_handovers;
    let clerk = actor.staff()?.id;
    let (id, post, _, from) = find_document(conn, actor, tracking)?;
    let checked = check_handover(request)?;
    if from != Status::ReadyForPickup {
        return Err(AppError::new(
            Code::InvalidTransition,
            format!("a document that is {} is not ready for pickup", from.as_str()),
        ));
    }
    write_transaction(conn, |c| {
        let to = Status::Delivered;
        let moved = diesel::update(
            documents::table.find(id).filter(documents::status.eq(Status::ReadyForPickup.as_str())),
        )
        .set((documents::status.eq(to.as_str()), documents::updated_at.eq(now)))
        .execute(c)?;
        if moved == 0 {
            return Err(AppError::new(Code::DocumentChanged, "the document moved on meanwhile; look again"));
        }
        let written = diesel::insert_into(document_events::table)
            .values((
                document_events::document_id.eq(id),
                document_events::status.eq(to.as_str()),
                document_events::at.eq(now),
                document_events::staff_id.eq(clerk),
                document_events::note.eq(&checked.note),
            ))
            .returning(document_events::id)
            .get_result::<i64>(c)?;
        let inserted = recoverable(c, |c| {
            diesel::insert_into(document_handovers::table)
                .values((
                    document_handovers::document_id.eq(id),
                    document_handovers::event_id.eq(written),
                    document_handovers::collector.eq(request.collector.as_str()),
                    document_handovers::collector_name.eq(&checked.name),
                    document_handovers::id_type.eq(checked.id_type.map(IdType::as_str)),
                    document_handovers::id_last4.eq(&checked.id_last4),
                    document_handovers::handed_at.eq(now),
                    document_handovers::staff_id.eq(clerk),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::new(Code::DocumentChanged, "the document was handed over meanwhile"))
            }
            Err(e) => return Err(e.into()),
        }
        let written: sealed::DocumentEvent =
            document_events::table.find(written).select(sealed::DocumentEvent::as_select()).first(c)?;
        let handed = json!({
            "collector": request.collector.as_str(),
            "name_sha256": checked.name.as_deref().map(sealed::sha256_hex),
            "id_type": checked.id_type.map(IdType::as_str),
            "id_last4": checked.id_last4,
        });
        let event = Event::new(Action::DocumentTransitioned, tracking.as_str()).at_post(Some(&post)).with(
            sealed::with_fields(json!({"from": from.as_str(), "handover": handed}), written.fields(false)),
        );
        audit::record(c, actor, event, now)?;
        Ok(())
    })?;
    view(conn, id)
}

/// A document's handover, if it was handed over.
fn handover_of(conn: &mut DbConn, id: i64, tz: Tz) -> QueryResult<Option<HandoverView>> {
    use crate::db::schema::document_handovers;
    type Row = (String, Option<String>, Option<String>, Option<String>, NaiveDateTime, String);
    let row: Option<Row> = document_handovers::table
        .inner_join(staff::table.on(staff::id.eq(document_handovers::staff_id)))
        .filter(document_handovers::document_id.eq(id))
        .select((
            document_handovers::collector,
            document_handovers::collector_name,
            document_handovers::id_type,
            document_handovers::id_last4,
            document_handovers::handed_at,
            staff::username,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(collector, name, id_type, id_last4, at, staff)| HandoverView {
        collector: if collector == "applicant" { Collector::Applicant } else { Collector::SomeoneElse },
        name,
        id_type: id_type.as_deref().and_then(IdType::parse),
        id_last4,
        at: calendar::rfc3339(at, tz),
        staff,
    }))
}
