//! Availability and appointments: applicants book and manage their own; staff book for
//! people who phone.

use actix_web::http::header::{self, ContentType};
use actix_web::web::Bytes;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::ClerkPlus;
use crate::auth::Actor;
use crate::booking::appointments::{self, AppointmentView, Booked, BookingRequest, Idempotency, Rules};
use crate::booking::availability_cache::Key;
use crate::booking::reference_code::Reference;
use crate::booking::{self, Availability, AvailabilityQuery};
use crate::error::{AppError, Code};
use crate::http::{client_address, ics_response, Applicant, Guarded, HttpError, Staff};
use crate::state::AppState;
use crate::web::i18n::PageLang;
use crate::wording::Lang;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct RescheduleRequest {
    #[serde(deserialize_with = "crate::wire::i64_whole")]
    slot_id: i64,
}

const PROBLEM: &str = "application/problem+json";

pub(crate) fn parse_reference(raw: &str) -> Result<Reference, AppError> {
    Reference::parse(raw).ok_or_else(|| AppError::not_found("no such appointment"))
}

/// The `Idempotency-Key` header with the canonical form of the request it came with.
fn idempotency(req: &HttpRequest, body: &BookingRequest) -> Result<Option<Idempotency>, AppError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let visible = |k: &&str| (1..=255).contains(&k.len()) && k.bytes().all(|b| (b' '..=b'~').contains(&b));
    let key = value.to_str().ok().map(str::trim).filter(visible).ok_or_else(|| {
        AppError::new(Code::InvalidIdempotencyKey, "Idempotency-Key must be 1 to 255 visible characters")
    })?;
    let request = serde_json::to_string(body).map_err(AppError::internal)?;
    Ok(Some(Idempotency { key: key.to_string(), request }))
}

fn created(outcome: Booked) -> HttpResponse {
    match outcome {
        Booked::Created(view) => HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/appointments/{}", view.reference)))
            .json(view),
        Booked::Replayed { status, body } => {
            let status =
                actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::CREATED);
            let reference =
                serde_json::from_str::<AppointmentView>(&body).map(|v| v.reference).unwrap_or_default();
            HttpResponse::build(status)
                .insert_header((header::LOCATION, format!("/api/v1/appointments/{reference}")))
                .insert_header(("Idempotent-Replayed", "true"))
                .content_type("application/json")
                .body(body)
        }
    }
}

/// Bookable slots of a post and service, in the post's local time.
#[utoipa::path(tag = "booking", params(("post" = String, Path, description = "post code, e.g. MEX"), AvailabilityQuery), responses(
    (status = 200, body = Availability),
    (status = 400, body = crate::error::Problem, content_type = PROBLEM),
    (status = 404, description = "unknown post", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "unknown service or bad date range", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/posts/{post}/availability")]
pub async fn availability(
    state: web::Data<AppState>,
    post: PostCode,
    query: web::Query<AvailabilityQuery>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let post = post.into_inner();
    let query = query.into_inner();
    let key = Key { post: post.clone(), service: query.service.clone(), from: query.from, to: query.to };
    let render = || async {
        let rules = Rules::from(&state.settings.booking);
        // Anyone may look, with the applicants' window (the notice period).
        let body = state
            .db(move |conn| booking::availability(conn, &rules, &Actor::Anonymous, &post, &query, now))
            .await?;
        serde_json::to_vec(&body).map(Bytes::from).map_err(AppError::internal)
    };
    let body = state.availability.get_or_render(key, render).await?;
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body))
}

/// Books a slot for the signed-in applicant and up to three companions.
///
/// With an `Idempotency-Key` header, repeating the same request returns the first answer
/// (`Idempotent-Replayed: true`); the same key with a different body is 422.
#[utoipa::path(tag = "booking", security(("public_token" = [])), request_body = BookingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$")),
    responses(
        (status = 201, body = AppointmentView),
        Denied,
        (status = 404, description = "unknown slot", body = crate::error::Problem, content_type = PROBLEM),
        (status = 409, description = "`slot_full`, `slot_closed`, `already_booked`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 422, description = "invalid party, outside the booking window, key reused", body = crate::error::Problem, content_type = PROBLEM),
        (status = 429, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/appointments")]
pub async fn book(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: Guarded<Applicant, web::Json<BookingRequest>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(who, body) = request;
    let body = body.into_inner();
    let idem = idempotency(&req, &body)?;
    let outcome = booking::online::book(
        &state.pool,
        &state.availability,
        &state.settings.booking,
        state.clock.naive(),
        who.0,
        body,
        idem,
        client_address(&req),
    )
    .await?;
    Ok(created(outcome))
}

/// The signed-in applicant's appointments, soonest first.
#[utoipa::path(tag = "booking", security(("public_token" = [])), responses(
    (status = 200, body = [AppointmentView]),
    Denied,
))]
#[get("/appointments")]
pub async fn list(state: web::Data<AppState>, who: Applicant) -> Result<HttpResponse, HttpError> {
    let list = state.db(move |conn| Ok(appointments::list_for_applicant(conn, who.id)?)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One of the applicant's appointments; anyone else's is 404.
#[utoipa::path(tag = "booking", security(("public_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = AppointmentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/appointments/{reference}")]
pub async fn show(
    state: web::Data<AppState>,
    who: Applicant,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let view = state.db(move |conn| appointments::view_own(conn, &reference, who.id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Which language a paper is printed in.
#[derive(Deserialize, IntoParams)]
pub struct PaperQuery {
    /// `en` (the default) or `es`.
    #[param(value_type = Option<String>, pattern = "^(en|es)$")]
    lang: Option<Lang>,
}

/// The appointment's confirmation as a PDF, in English or Spanish: the reference with a QR code
/// for the window, service and state in words, the time in the post's zone, the post's street
/// address, the people, what to bring for the service, the fees to expect from the schedule in
/// force on the appointment's date, and where to cancel or change it.
#[utoipa::path(tag = "booking", security(("public_token" = [])), params(("reference" = String, Path,), PaperQuery), responses(
    (status = 200, description = "the PDF", content_type = "application/pdf", body = Vec<u8>),
    (status = 400, description = "`invalid_query`: `lang` is neither `en` nor `es`", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/appointments/{reference}/confirmation.pdf")]
pub async fn confirmation_pdf(
    state: web::Data<AppState>,
    who: Applicant,
    reference: web::Path<String>,
    query: web::Query<PaperQuery>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let lang = query.into_inner().lang.unwrap_or(Lang::En);
    let (pdf, name) = crate::pdf::confirmation::printed(
        &state.pool,
        &state.templates,
        &state.settings.public_url,
        who.0,
        reference,
        lang,
    )
    .await?;
    Ok(crate::http::pdf_response(pdf, &name))
}

/// The appointment as a calendar file (iCalendar, RFC 5545), in the language of
/// `Accept-Language` (English or Spanish): one event whose UID stays the same and whose
/// SEQUENCE grows with every reschedule, so a calendar updates its event instead of keeping two.
/// A cancelled appointment's file is `METHOD:CANCEL`, `STATUS:CANCELLED`, with a higher SEQUENCE.
#[utoipa::path(tag = "booking", security(("public_token" = [])), params(
        ("reference" = String, Path,),
        ("Accept-Language" = Option<String>, Header, description = "`es` for Spanish texts; English otherwise"),
    ), responses(
    (status = 200, description = "the calendar file", content_type = "text/calendar", body = String),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/appointments/{reference}/calendar.ics")]
pub async fn calendar_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Applicant,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let lang = crate::web::i18n::Lang::of(&req);
    let (text, name) =
        booking::online::calendar_file(&state.pool, &state.clock, who.0, reference, lang).await?;
    Ok(ics_response(text, &name))
}

/// Cancels an appointment. The seat returns to the pool after the release delay.
#[utoipa::path(tag = "booking", security(("public_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = AppointmentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`not_active`, `already_started`", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/appointments/{reference}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    who: Applicant,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let view = booking::online::cancel(
        &state.pool,
        &state.availability,
        Rules::from(&state.settings.booking),
        state.clock.naive(),
        who.0,
        reference,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Moves an appointment to another slot of the same service: either the new seat is held
/// and the old one given up, or nothing changes.
#[utoipa::path(tag = "booking", security(("public_token" = [])), params(("reference" = String, Path,)), request_body = RescheduleRequest, responses(
    (status = 200, body = AppointmentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`slot_full`, `slot_closed`, `same_slot`, `not_active`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
    (status = 429, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/appointments/{reference}/reschedule")]
pub async fn reschedule(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: Guarded<Applicant, web::Json<RescheduleRequest>>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(who, body) = request;
    let reference = parse_reference(&reference)?;
    let view = booking::online::reschedule(
        &state.pool,
        &state.availability,
        &state.settings.booking,
        state.clock.naive(),
        who.0,
        reference,
        body.slot_id,
        client_address(&req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Books for someone who phoned (clerk, supervisor, admin): bound by capacity, not by the
/// applicant limits (notice, one active appointment per service). A member bound to a post
/// books only there.
#[utoipa::path(tag = "booking", security(("staff_token" = [])), request_body = BookingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$")),
    responses(
        (status = 201, body = AppointmentView),
        Denied,
        (status = 404, body = crate::error::Problem, content_type = PROBLEM),
        (status = 409, body = crate::error::Problem, content_type = PROBLEM),
        (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments")]
pub async fn staff_book(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: Guarded<Staff<ClerkPlus>, web::Json<BookingRequest>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let body = body.into_inner();
    let idem = idempotency(&req, &body)?;
    let rules = Rules::from(&state.settings.booking);
    let actor = clerk.actor();
    let outcome = state.db(move |conn| appointments::book(conn, &rules, &actor, &body, idem, now)).await?;
    booking::online::seat_taken(&state.availability, &outcome);
    Ok(created(outcome))
}

/// Slots a clerk can book for someone who phones: like the public availability, but from now
/// on rather than after the applicants' notice period. A member bound to a post sees only it.
#[utoipa::path(tag = "booking", security(("staff_token" = [])), params(("post" = String, Path, description = "post code, e.g. MEX"), AvailabilityQuery), responses(
    (status = 200, body = Availability),
    Denied,
    (status = 400, body = crate::error::Problem, content_type = PROBLEM),
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/availability")]
pub async fn staff_availability(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Query<AvailabilityQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, query) = request;
    let post = post.into_inner();
    let rules = Rules::from(&state.settings.booking);
    let query = query.into_inner();
    let (actor, now) = (clerk.actor(), now);
    let body = state.db(move |conn| booking::availability(conn, &rules, &actor, &post, &query, now)).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize, ToSchema)]
pub struct StaffCancelRequest {
    /// Why staff cancel it (the person asked at the window or on the phone, ...).
    #[schema(schema_with = crate::field_schemas::window_reason)]
    reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct StaffRescheduleRequest {
    #[serde(deserialize_with = "crate::wire::i64_whole")]
    slot_id: i64,
    /// Why staff move it.
    #[schema(schema_with = crate::field_schemas::window_reason)]
    reason: String,
}

/// Cancels someone's appointment for them, at the window or on the phone, with a reason.
#[utoipa::path(tag = "booking", security(("staff_token" = [])), params(("reference" = String, Path,)), request_body = StaffCancelRequest, responses(
    (status = 200, body = AppointmentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`not_active`, `already_started`, `appointment_changed`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/cancel")]
pub async fn staff_cancel(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<StaffCancelRequest>>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let reference = parse_reference(&reference)?;
    let (rules, actor, reason) =
        (Rules::from(&state.settings.booking), clerk.actor(), body.into_inner().reason);
    let view = state
        .db(move |conn| appointments::cancel(conn, &rules, &actor, &reference, Some(&reason), now))
        .await?;
    state.availability.invalidate(&view.post);
    Ok(HttpResponse::Ok().json(view))
}

/// Moves someone's appointment to another slot of the same service for them, with a reason:
/// either the new seat is held and the old one given up, or nothing changes.
#[utoipa::path(tag = "booking", security(("staff_token" = [])), params(("reference" = String, Path,)), request_body = StaffRescheduleRequest, responses(
    (status = 200, body = AppointmentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`slot_full`, `slot_closed`, `same_slot`, `not_active`, `already_started`, `appointment_changed`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/reschedule")]
pub async fn staff_reschedule(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<StaffRescheduleRequest>>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let reference = parse_reference(&reference)?;
    let (rules, actor, body) = (Rules::from(&state.settings.booking), clerk.actor(), body.into_inner());
    let view = state
        .db(move |conn| {
            appointments::reschedule(conn, &rules, &actor, &reference, body.slot_id, Some(&body.reason), now)
        })
        .await?;
    state.availability.invalidate_all();
    Ok(HttpResponse::Ok().json(view))
}
