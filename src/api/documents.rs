//! Intake, tracked documents and the notarial register: applicants pre-fill, clerks record at
//! the window and move documents along, anyone tracks a document by number and surname.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::booking::parse_reference;
use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::{AnyStaff, ClerkPlus};
use crate::calendar;
use crate::documents::intake::IntakeItem;
use crate::documents::records::{
    self, DocumentListItem, DocumentView, HandoverRequest, IntakeRequest, IntakeView, TrackingView,
    TransitionRequest,
};
use crate::documents::register::{self, CorrectionRequest, RegisterEntry, RegisterPage};
use crate::documents::tracking::Status;
use crate::documents::tracking::TrackingNumber;
use crate::error::AppError;
use crate::http::{client_address, register_csv, Applicant, Guarded, HttpError, Staff};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

fn parse_tracking(raw: &str) -> Result<TrackingNumber, AppError> {
    TrackingNumber::parse(raw).ok_or_else(|| AppError::not_found("no such document"))
}

/// Pre-fills (or replaces) the intake of one of the caller's appointments, checked as the
/// window will check it: until the appointment starts.
#[utoipa::path(tag = "documents", security(("public_token" = [])), params(("reference" = String, Path,)), request_body = IntakeRequest, responses(
    (status = 200, body = IntakeView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`not_active`, `already_started`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[put("/appointments/{reference}/intake")]
pub async fn prefill(
    state: web::Data<AppState>,
    request: Guarded<Applicant, web::Json<IntakeRequest>>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(who, body) = request;
    let reference = parse_reference(&reference)?;
    let key = state.matching.clone();
    let view =
        state.db(move |conn| records::prefill(conn, &key, &who.actor(), &reference, &body, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The caller's pre-filled intake for one of their appointments.
#[utoipa::path(tag = "documents", security(("public_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = IntakeView),
    Denied,
    (status = 404, description = "not the caller's, or nothing pre-filled", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/appointments/{reference}/intake")]
pub async fn show_intake(
    state: web::Data<AppState>,
    who: Applicant,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let view = state.db(move |conn| records::intake_for_applicant(conn, &who.actor(), &reference)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The documents taken at one of the caller's visits, with their status and dates: what the
/// public lookup shows, without typing the tracking number.
#[utoipa::path(tag = "documents", security(("public_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = Vec<TrackingView>),
    Denied,
    (status = 404, description = "not the caller's", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/appointments/{reference}/documents")]
pub async fn my_documents(
    state: web::Data<AppState>,
    who: Applicant,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let list = state.db(move |conn| records::for_applicant(conn, &who.actor(), &reference)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A visit's pre-filled intake, for the clerk to review.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = IntakeView),
    Denied,
    (status = 404, description = "no such visit, or nothing pre-filled", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/appointments/{reference}/intake")]
pub async fn staff_intake(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let actor = staff.actor();
    let view = state.db(move |conn| records::intake_for_staff(conn, &actor, &reference)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Records one application or notarial job taken at the window: a tracked document (and a
/// notarial register entry for a notarial act). The visit must be called to a window; it is
/// then in service.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("reference" = String, Path,)), request_body = IntakeItem, responses(
    (status = 201, body = DocumentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition` (not at a window), `appointment_changed`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/documents")]
pub async fn record_document(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<IntakeItem>>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let reference = parse_reference(&reference)?;
    let (key, actor) = (state.matching.clone(), clerk.actor());
    let view = state.db(move |conn| records::record(conn, &key, &actor, &reference, &body, now)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The documents taken at a visit.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = Vec<DocumentView>),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/appointments/{reference}/documents")]
pub async fn visit_documents(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let actor = staff.actor();
    let list = state.db(move |conn| records::for_visit(conn, &actor, &reference)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A tracked document with its full history (state, time, staff member, note).
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("tracking_number" = String, Path,)), responses(
    (status = 200, body = DocumentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/documents/{tracking_number}")]
pub async fn show_document(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    tracking: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let tracking = parse_tracking(&tracking)?;
    let actor = staff.actor();
    let view = state.db(move |conn| records::show(conn, &actor, &tracking)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The tracking slip of a document, for the person it was taken from: a PDF (Letter, English
/// and Spanish) with the post, the person's name, the service, when it was recorded, the
/// tracking number, and the public tracking address with its QR code. Staff of the document's
/// post; another post's document is 404, as for `GET /api/v1/staff/documents/{tracking_number}`.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("tracking_number" = String, Path,)), responses(
    (status = 200, description = "the PDF", content_type = "application/pdf", body = Vec<u8>),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/documents/{tracking_number}/slip.pdf")]
pub async fn slip_pdf(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    tracking: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let tracking = parse_tracking(&tracking)?;
    let (pdf, name) = crate::pdf::slip::printed(
        &state.pool,
        &state.templates,
        &state.settings.public_url,
        staff.actor(),
        tracking,
    )
    .await?;
    Ok(crate::http::pdf_response(pdf, &name))
}

/// Moves a document to its next state (the machines of docs/DOMAIN.md), with an optional note.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("tracking_number" = String, Path,)), request_body = TransitionRequest, responses(
    (status = 200, body = DocumentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition`, `document_changed`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/documents/{tracking_number}/transitions")]
pub async fn transition(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<TransitionRequest>>,
    tracking: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let tracking = parse_tracking(&tracking)?;
    let actor = clerk.actor();
    let view = state.db(move |conn| records::transition(conn, &actor, &tracking, &body, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostDocumentsQuery {
    /// Only documents in this state (for example `ready_for_pickup`); every state by default.
    #[param(inline)]
    state: Option<Status>,
}

/// A post's documents (in one state, or all), the longest waiting first, each with the
/// person's name, its tracking number, its kind and since when it is in its state; at most
/// 500. Staff of the post.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("post" = String, Path,), PostDocumentsQuery), responses(
    (status = 200, body = Vec<DocumentListItem>),
    (status = 400, description = "`invalid_query`: an unknown state", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, description = "no such post", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/documents")]
pub async fn post_documents(
    state: web::Data<AppState>,
    request: Guarded<Staff<AnyStaff>, web::Query<PostDocumentsQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let Guarded(staff, query) = request;
    let (post, status, actor) = (post.into_inner(), query.into_inner().state, staff.actor());
    let list = state.db(move |conn| records::at_post(conn, &actor, &post, status)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Hands a document that is ready for pickup over: it becomes `delivered`, and who collected
/// it (the applicant themself, or someone else with their name, the ID type and its last
/// four) is kept, shown in the document and audited. Once only: the second of two at once
/// gets `document_changed`.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("tracking_number" = String, Path,)), request_body = HandoverRequest, responses(
    (status = 200, body = DocumentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition` (not ready for pickup), `document_changed` (handed over meanwhile)", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/documents/{tracking_number}/handover")]
pub async fn handover(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<HandoverRequest>>,
    tracking: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(clerk, body) = request;
    let tracking = parse_tracking(&tracking)?;
    let (actor, now) = (clerk.actor(), state.clock.naive());
    let view = state.db(move |conn| records::handover(conn, &actor, &tracking, &body, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    /// The surname on the document; case, accents and punctuation don't matter.
    surname: String,
}

/// A document's status and dates, for whoever has its tracking number and the surname on it.
/// An unknown number and a wrong surname are the same 404. Throttled: 30 lookups per address
/// in 15 minutes, and 5 failed lookups per number (`CONSULAR_DESK_TRACKING_*`).
#[utoipa::path(tag = "documents", params(("tracking_number" = String, Path,), TrackQuery), responses(
    (status = 200, body = TrackingView),
    (status = 400, description = "`invalid_query`: no surname", body = crate::error::Problem, content_type = PROBLEM),
    (status = 404, description = "unknown number or wrong surname (the same answer)", body = crate::error::Problem, content_type = PROBLEM),
    (status = 429, description = "throttled (`Retry-After`)", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/track/{tracking_number}")]
pub async fn track(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
    query: web::Query<TrackQuery>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let (key, address, limits) = (state.matching.clone(), client_address(&req), state.settings.tracking);
    let (number, surname) = (number.into_inner(), query.into_inner().surname);
    let view =
        state.db(move |conn| records::lookup(conn, &key, &limits, &number, &surname, &address, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// First local date (the first of the current month by default).
    #[param(schema_with = crate::field_schemas::plausible_date)]
    from: Option<NaiveDate>,
    /// Last local date, included (today by default); at most 400 days after `from`.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    to: Option<NaiveDate>,
    /// `json` (the default) or `csv`.
    #[param(inline)]
    format: Option<RegisterFormat>,
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RegisterFormat {
    Json,
    Csv,
}

/// A post's notarial register: its entries written in a range of local dates, in number order,
/// as JSON or as CSV (RFC 4180).
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("post" = String, Path,), RegisterQuery), responses(
    (status = 200, description = "the entries: JSON, or with `format=csv` a CSV file", content(
        (RegisterPage = "application/json"),
        (String = "text/csv"),
    )),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "`to` before `from`, or more than 400 days after", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/notarial-register")]
pub async fn notarial_register(
    state: web::Data<AppState>,
    request: Guarded<Staff<AnyStaff>, web::Query<RegisterQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(staff, query) = request;
    let (post, query, actor) = (post.into_inner(), query.into_inner(), staff.actor());
    let format = query.format.unwrap_or(RegisterFormat::Json);
    let page = state
        .db(move |conn| {
            let from = crate::booking::plausible_date("from", query.from)?;
            let to = crate::booking::plausible_date("to", query.to)?;
            let today = calendar::local_date(now, calendar::post_zone(conn, &post)?);
            let to = to.unwrap_or(today);
            let from = from.unwrap_or_else(|| to.with_day0(0).unwrap_or(to));
            register::list(conn, &actor, &post, from, to)
        })
        .await?;
    if format == RegisterFormat::Json {
        return Ok(HttpResponse::Ok().json(page));
    }
    Ok(register_csv(&page))
}

/// Corrects a register entry: a new entry, numbered like any other, naming the one it
/// corrects. The original is never changed.
#[utoipa::path(tag = "documents", security(("staff_token" = [])), params(("post" = String, Path,), ("entry_number" = String, Path,)), request_body = CorrectionRequest, responses(
    (status = 201, body = RegisterEntry),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/posts/{post}/notarial-register/{entry_number}/corrections")]
pub async fn correct_entry(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<CorrectionRequest>>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let (post, number) = path.into_inner();
    let post = crate::reference::normalise_post(&post);
    let (key, actor) = (state.matching.clone(), clerk.actor());
    let view = state
        .db(move |conn| {
            let correction = register::Correction::from(&*body);
            register::correct(conn, &key, &actor, &post, &number, &correction, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}
