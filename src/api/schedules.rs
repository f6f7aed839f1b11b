//! Administration of a post's week and closures.

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::AdminOnly;
use crate::booking;
use crate::booking::closures::{self, ClosureRequest, ClosureView};
use crate::booking::schedule::{self, OpeningSpec, Refit};
use crate::calendar;
use crate::http::{Guarded, HttpError, Staff};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

#[derive(Serialize, ToSchema)]
pub struct ServiceWeek {
    service: String,
    openings: Vec<OpeningSpec>,
}

#[derive(Serialize, ToSchema)]
pub struct PostSchedules {
    post: String,
    timezone: String,
    services: Vec<ServiceWeek>,
}

#[derive(Deserialize, ToSchema)]
pub struct ScheduleRequest {
    /// The service whose week this replaces (404 for an unknown one).
    service: String,
    /// The whole new week; an empty list stops new slots for the service.
    #[schema(max_items = 28)]
    openings: Vec<OpeningSpec>,
}

#[derive(Serialize, ToSchema)]
pub struct ScheduleReplaced {
    post: String,
    service: String,
    openings: Vec<OpeningSpec>,
    slots: Refit,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClosuresQuery {
    /// First local date; today by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    from: Option<NaiveDate>,
    /// Last local date; the booking horizon by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    to: Option<NaiveDate>,
}

/// Every service's week at a post.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("post" = String, Path,)), responses(
    (status = 200, body = PostSchedules),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/admin/posts/{post}/schedules")]
pub async fn show_schedules(
    state: web::Data<AppState>,
    admin: Staff<AdminOnly>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let post = post.into_inner();
    let body = state
        .db(move |conn| {
            let (tz, weeks) = schedule::weeks(conn, &admin, &post)?;
            let services =
                weeks.into_iter().map(|(service, openings)| ServiceWeek { service, openings }).collect();
            Ok(PostSchedules { post, timezone: tz.name().to_string(), services })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Replaces one service's week at a post and re-fits the slots already generated. Booked
/// slots the new week lacks keep their bookings (listed in `slots.to_rebook`).
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("post" = String, Path,)), request_body = ScheduleRequest, responses(
    (status = 200, body = ScheduleReplaced),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[put("/admin/posts/{post}/schedules")]
pub async fn replace_schedule(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<ScheduleRequest>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let Guarded(admin, body) = request;
    let post = post.into_inner();
    let ScheduleRequest { service, openings } = body.into_inner();
    let (openings, slots) = schedule::set_week(
        &state.pool,
        &state.availability,
        state.clock.naive(),
        admin.actor(),
        post.clone(),
        service.clone(),
        &openings,
    )
    .await?;
    let result = ScheduleReplaced { post, service, openings, slots };
    tracing::info!(by = %admin.username, post = %result.post, service = %result.service, "schedule replaced");
    Ok(HttpResponse::Ok().json(result))
}

/// A post's closures between two local dates, each with the appointments it displaced.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("post" = String, Path,), ClosuresQuery), responses(
    (status = 200, body = [ClosureView]),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/admin/posts/{post}/closures")]
pub async fn list_closures(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Query<ClosuresQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(admin, query) = request;
    let post = post.into_inner();
    let horizon = i64::from(state.settings.booking.horizon_days);
    let ClosuresQuery { from, to } = query.into_inner();
    let list = state
        .db(move |conn| {
            let tz = calendar::post_zone(conn, &post)?;
            let from =
                booking::plausible_date("from", from)?.unwrap_or_else(|| calendar::local_date(now, tz));
            let to = booking::plausible_date("to", to)?.unwrap_or(from + Duration::days(horizon));
            closures::list(conn, &admin, &post, tz, from, to)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Closes a whole day or part of one. Slots inside stop being offered; appointments inside
/// are kept and listed in `to_rebook`.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("post" = String, Path,)), request_body = ClosureRequest, responses(
    (status = 201, body = ClosureView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/admin/posts/{post}/closures")]
pub async fn create_closure(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<ClosureRequest>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let Guarded(admin, body) = request;
    let view = closures::close(
        &state.pool,
        &state.availability,
        state.clock.naive(),
        admin.actor(),
        post.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Removes a closure; its slots are offered again unless another closure covers them.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("post" = String, Path,), ("id" = i64, Path,)), responses(
    (status = 204),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[delete("/admin/posts/{post}/closures/{id}")]
pub async fn delete_closure(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Path<(String, i64)>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let Guarded(admin, path) = request;
    let (_, id) = path.into_inner();
    closures::reopen(
        &state.pool,
        &state.availability,
        state.clock.naive(),
        admin.actor(),
        post.into_inner(),
        id,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
