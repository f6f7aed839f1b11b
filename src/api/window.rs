//! The window, for clerks (and supervisors and admins): the day board, check-in, walk-ins,
//! calling the next ticket, and ending visits.

use actix_web::{get, post, put, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::booking::parse_reference;
use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::{AdminOnly, AnyStaff, ClerkPlus, SupervisorPlus};
use crate::booking;
use crate::booking::appointments::{AppointmentView, Rules};
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::error::AppError;
use crate::http::{Guarded, HttpError, Staff};
use crate::rule::Rule;
use crate::state::AppState;
use crate::window::closing::{self, ClosingTime};
use crate::window::visits::{self, DayBoard, QueueDisplay, VisitView, WalkInRequest};

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The post's local date; today by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    date: Option<NaiveDate>,
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInRequest {
    /// Needed only after the grace period: why the clerk checks the applicant in anyway
    /// (1 to 500 characters; recorded with the visit).
    #[schema(schema_with = crate::field_schemas::window_reason)]
    late_reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NextRequest {
    /// The window the ticket is called to, e.g. `3` (1 to 20 characters).
    #[schema(schema_with = crate::field_schemas::window_label)]
    window: String,
}

/// Every visit of a post's local day (appointments by their slot, walk-ins by arrival, and any
/// visit checked in that day), with its state, ticket and window: cheap enough to refresh
/// every few seconds.
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("post" = String, Path,), DayQuery), responses(
    (status = 200, body = DayBoard),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/day")]
pub async fn day(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Query<DayQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, query) = request;
    let (post, date) = (post.into_inner(), query.into_inner().date);
    let board = state
        .db(move |conn| {
            let date = match booking::plausible_date("date", date)? {
                Some(date) => date,
                None => calendar::local_date(now, calendar::post_zone(conn, &post)?),
            };
            visits::day_board(conn, &clerk, &post, date)
        })
        .await?;
    Ok(HttpResponse::Ok().json(board))
}

/// Checks an arrived applicant in and gives them a queue ticket (`P-014`). Opens an hour
/// before the appointment and closes 15 minutes after its start (by default); later needs a
/// `late_reason`.
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("reference" = String, Path,)), request_body = CheckInRequest, responses(
    (status = 200, body = VisitView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`too_early` (the detail says when check-in opens, in the post's time: `check-in opens at 09:30 (2026-12-08T09:30:00-06:00)`), `too_late`, `already_checked_in`, `invalid_transition`, `appointment_changed`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/check-in")]
pub async fn check_in(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<CheckInRequest>>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let reference = parse_reference(&reference)?;
    let (settings, actor) = (state.settings.window.clone(), clerk.actor());
    let late = body.into_inner().late_reason;
    let view = state
        .db(move |conn| visits::check_in(conn, &settings, &actor, &reference, late.as_deref(), now))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The queue ticket of a checked-in visit or walk-in, for an 80 mm receipt printer: a PDF as
/// long as its content with the ticket number, the service, the post and the check-in time,
/// and "watch the screen for your number" in English and Spanish. Staff of the visit's post;
/// another post's visit is 404; a visit not checked in has no ticket yet (409
/// `invalid_transition`).
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, description = "the PDF", content_type = "application/pdf", body = Vec<u8>),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition`: not checked in, no ticket yet", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/appointments/{reference}/ticket.pdf")]
pub async fn ticket_pdf(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let reference = parse_reference(&reference)?;
    let (pdf, name) =
        crate::pdf::ticket::printed(&state.pool, &state.templates, staff.actor(), reference).await?;
    Ok(crate::http::pdf_response(pdf, &name))
}

/// Records a walk-in: `routine` takes its service's line (N, P or C) and waits behind the
/// appointments of the hour it arrived in; an `emergency`, with one of the fixed reasons,
/// gets an `E` ticket and is called before everyone else.
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("post" = String, Path,)), request_body = WalkInRequest, responses(
    (status = 201, body = VisitView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/posts/{post}/walk-ins")]
pub async fn walk_in(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<WalkInRequest>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let (post, actor) = (post.into_inner(), clerk.actor());
    let view = state.db(move |conn| visits::walk_in(conn, &actor, &post, &body, now)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Calls the next ticket to a window: emergencies first, then hour by hour the appointments
/// and then the routine walk-ins of that hour. A window holds one called visit at a time:
/// while it has one, the call is 409 `window_busy` naming it (complete it, mark it a no-show
/// or recall it first). Two clerks pressing at once never get the same ticket.
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("post" = String, Path,)), request_body = NextRequest, responses(
    (status = 200, body = VisitView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`queue_empty`, `window_busy`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/posts/{post}/queue/next")]
pub async fn next(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<NextRequest>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let (post, actor) = (post.into_inner(), clerk.actor());
    let view = state.db(move |conn| visits::call_next(conn, &actor, &post, &body.window, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn finish(
    state: web::Data<AppState>,
    clerk: Staff<ClerkPlus>,
    reference: String,
    outcome: AppointmentStatus,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let reference = parse_reference(&reference)?;
    let (settings, actor) = (state.settings.window.clone(), clerk.actor());
    let view =
        state.db(move |conn| visits::finish(conn, &settings, &actor, &reference, outcome, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The visit was served: a called (or in-service) visit is completed.
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = VisitView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition`, `appointment_changed`", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    clerk: Staff<ClerkPlus>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    finish(state, clerk, reference.into_inner(), AppointmentStatus::Completed).await
}

/// Nobody came: a called ticket nobody answered, or an appointment whose check-in grace
/// period is over (the maintenance timer also marks those by itself).
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 200, body = VisitView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition`, `too_early` (the grace period is not over), `appointment_changed`", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/no-show")]
pub async fn no_show(
    state: web::Data<AppState>,
    clerk: Staff<ClerkPlus>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    finish(state, clerk, reference.into_inner(), AppointmentStatus::NoShow).await
}

#[derive(Deserialize, ToSchema)]
pub struct RecallRequest {
    /// Another window to send the ticket to; the same one when absent.
    #[schema(schema_with = crate::field_schemas::window_label)]
    window: Option<String>,
}

/// Calls a called ticket again (the person didn't come up), optionally to another window,
/// which must not hold a called visit itself (409 `window_busy`).
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("reference" = String, Path,)), request_body = RecallRequest, responses(
    (status = 200, body = VisitView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition`, `appointment_changed`, `window_busy`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/recall")]
pub async fn recall(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<RecallRequest>>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let reference = parse_reference(&reference)?;
    let (actor, window) = (clerk.actor(), body.into_inner().window);
    let view = state.db(move |conn| visits::recall(conn, &actor, &reference, window.as_deref(), now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The tickets called in the last ten minutes and their windows, for the waiting-room
/// screen. No names.
#[utoipa::path(tag = "window", params(("post" = String, Path, description = "post code, e.g. MEX")), responses(
    (status = 200, body = QueueDisplay),
    (status = 404, description = "unknown post", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/posts/{post}/queue/display")]
pub async fn display(state: web::Data<AppState>, post: PostCode) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let post = post.into_inner();
    let body = state.db(move |conn| visits::display(conn, &post, now)).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The visits of a post's local day (today by default) that closing time found still waiting
/// and closed as `not_served`, each with `rebooked_as` once booked again. Supervisors and
/// admins.
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("post" = String, Path,), DayQuery), responses(
    (status = 200, body = DayBoard),
    (status = 400, description = "`invalid_query`", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "a date outside 2000–2200", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/not-served")]
pub async fn not_served(
    state: web::Data<AppState>,
    request: Guarded<Staff<SupervisorPlus>, web::Query<DayQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(supervisor, query) = request;
    let (post, date) = (post.into_inner(), query.into_inner().date);
    let list = state
        .db(move |conn| {
            let date = match booking::plausible_date("date", date)? {
                Some(date) => date,
                None => calendar::local_date(now, calendar::post_zone(conn, &post)?),
            };
            visits::not_served(conn, &supervisor, &post, date)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Books a person not served by closing time again: the next slot of the same service with
/// room for the whole party, from now on, for the same people and phone, as a staff booking.
/// Once per visit (409 `already_rebooked` names the new reference). Supervisors and admins of
/// the visit's post.
#[utoipa::path(tag = "window", security(("staff_token" = [])), params(("reference" = String, Path,)), responses(
    (status = 201, body = AppointmentView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`invalid_transition` (not a visit closed as not served), `already_rebooked`, `no_free_slot`", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/appointments/{reference}/rebook")]
pub async fn rebook(
    state: web::Data<AppState>,
    supervisor: Staff<SupervisorPlus>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let reference = parse_reference(&reference)?;
    let (rules, actor) = (Rules::from(&state.settings.booking), supervisor.actor());
    let view = state.db(move |conn| closing::rebook(conn, &rules, &actor, &reference, now)).await?;
    state.availability.invalidate(&view.post);
    Ok(HttpResponse::Created().json(view))
}

/// A post's closing time: the setting (absent: the end of the day's last opening) and when
/// today's window day closes. At closing time the visits still waiting are closed as
/// `not_served`.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("post" = String, Path,)), responses(
    (status = 200, body = ClosingTime),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/admin/posts/{post}/closing-time")]
pub async fn show_closing_time(
    state: web::Data<AppState>,
    admin: Staff<AdminOnly>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let post = post.into_inner();
    let body = state
        .db(move |conn| {
            admin.ensure_post(&post)?;
            closing::closing_time(conn, &post, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize, ToSchema)]
pub struct ClosingTimeRequest {
    /// The local closing time, `HH:MM`; `null` (or absent) for the end of the day's last
    /// opening.
    #[serde(default)]
    #[schema(schema_with = crate::field_schemas::optional_clock_time)]
    closes: Option<String>,
}

/// Sets a post's closing time (`HH:MM`, local), or clears it with `null`.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("post" = String, Path,)), request_body = ClosingTimeRequest, responses(
    (status = 200, body = ClosingTime),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[put("/admin/posts/{post}/closing-time")]
pub async fn set_closing_time(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<ClosingTimeRequest>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(admin, body) = request;
    let (post, actor, closes) = (post.into_inner(), admin.actor(), body.into_inner().closes);
    // The schema says `HH:MM` or null: an empty string is neither (the page's empty field is
    // its own way of saying "the default").
    if closes.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(AppError::invalid_field("closes", Rule::ClosesOrNull).into());
    }
    let view =
        state.db(move |conn| closing::set_closing_time(conn, &actor, &post, closes.as_deref(), now)).await?;
    Ok(HttpResponse::Ok().json(view))
}
