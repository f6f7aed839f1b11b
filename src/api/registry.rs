//! The citizen registry (docs/REGISTRY.md): registering a stay, the signed link's see / change
//! / confirm / delete / unsubscribe, the staff's district list (every read audited), the
//! states' districts, and emergency messages and newsletters.

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::Denied;
use crate::auth::roles::{AdminOnly, DutyOfficerOrAdmin, RegistryReaders};

use crate::http::{client_address, Guarded, HttpError, Staff};
use crate::registry::bulletins::{self, BulletinInput, BulletinKind, BulletinView};
use crate::registry::states::{self, MexicanState};
use crate::registry::stays::{self, StayInput, StayView};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

/// Registers a stay. The confirmation link goes to the address given; nothing else is sent
/// to it until the link is opened. The answer holds no link.
#[utoipa::path(tag = "registry", operation_id = "register_stay", request_body = StayInput, responses(
    (status = 202, description = "registered; a confirmation link is on its way to the address"),
    (status = 429, description = "`too_many_requests`: registrations per client address an hour (`CONSULAR_DESK_REGISTRY_PER_ADDRESS`, 20) or per e-mail address a day (`CONSULAR_DESK_REGISTRY_PER_EMAIL`, 5)", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/registry/stays")]
pub async fn register_stay(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<StayInput>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let client = client_address(&req);
    let limits = state.settings.registry;
    let input = body.into_inner();
    state.db(move |conn| stays::register(conn, &limits, &input, &client, now)).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    /// The `sig` of the link in the registry's messages.
    #[param(max_length = 64)]
    sig: String,
}

const NOT_HELD: &str =
    "`not_found`: no such registration, or the link is not whole (a changed address ends the old links)";

/// The registration, for the holder of its link.
#[utoipa::path(tag = "registry", operation_id = "show_stay", params(("id" = i64, Path,), Signed), responses(
    (status = 200, body = StayView),
    (status = 404, description = NOT_HELD, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/registry/stays/{id}")]
pub async fn show_stay(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<Signed>,
) -> Result<HttpResponse, HttpError> {
    let (id, sig, key) = (id.into_inner(), query.into_inner().sig, state.stay_links.clone());
    let view = state.db(move |conn| stays::view(conn, &key, id, &sig)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Confirms the address the link came to (double opt-in); confirming again changes nothing.
#[utoipa::path(tag = "registry", params(("id" = i64, Path,), Signed), responses(
    (status = 200, body = StayView),
    (status = 404, description = NOT_HELD, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/registry/stays/{id}/confirm")]
pub async fn confirm_stay(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<Signed>,
) -> Result<HttpResponse, HttpError> {
    let (id, sig, key, now) =
        (id.into_inner(), query.into_inner().sig, state.stay_links.clone(), state.clock.naive());
    let view = state.db(move |conn| stays::confirm(conn, &key, id, &sig, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Changes the registration. A new address must be confirmed again (a link goes to it) and
/// ends the links sent to the old one.
#[utoipa::path(tag = "registry", params(("id" = i64, Path,), Signed), request_body = StayInput, responses(
    (status = 200, body = StayView),
    (status = 404, description = NOT_HELD, body = crate::error::Problem, content_type = PROBLEM),
))]
#[put("/registry/stays/{id}")]
pub async fn change_stay(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<Signed>,
    body: web::Json<StayInput>,
) -> Result<HttpResponse, HttpError> {
    let (id, sig, key, now) =
        (id.into_inner(), query.into_inner().sig, state.stay_links.clone(), state.clock.naive());
    let input = body.into_inner();
    let view = state.db(move |conn| stays::update(conn, &key, id, &sig, &input, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Deletes the registration and its travellers; nothing more is sent to it.
#[utoipa::path(tag = "registry", params(("id" = i64, Path,), Signed), responses(
    (status = 204, description = "deleted"),
    (status = 404, description = NOT_HELD, body = crate::error::Problem, content_type = PROBLEM),
))]
#[delete("/registry/stays/{id}")]
pub async fn delete_stay(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<Signed>,
) -> Result<HttpResponse, HttpError> {
    let (id, sig, key) = (id.into_inner(), query.into_inner().sig, state.stay_links.clone());
    state.db(move |conn| stays::delete(conn, &key, id, &sig)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stops the newsletter, with the `sig` of the newsletter's unsubscribe link (the same as
/// the one-click `POST /registry/{id}/unsubscribe` mail programs use). Emergency messages go on.
#[utoipa::path(tag = "registry", params(("id" = i64, Path,), Signed), responses(
    (status = 204, description = "the newsletter stops"),
    (status = 404, description = NOT_HELD, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/registry/stays/{id}/unsubscribe")]
pub async fn unsubscribe_stay(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<Signed>,
) -> Result<HttpResponse, HttpError> {
    let (id, sig, key, now) =
        (id.into_inner(), query.into_inner().sig, state.stay_links.clone(), state.clock.naive());
    state.db(move |conn| stays::unsubscribe(conn, &key, id, &sig, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mexico's states and the consular district each is in.
#[utoipa::path(tag = "registry", responses((status = 200, body = Vec<MexicanState>)))]
#[get("/registry/states")]
pub async fn list_states(state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let list = state.db(|conn| Ok(states::list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistrictChange {
    /// The post whose district the state is in now.
    #[schema(min_length = 3, max_length = 3)]
    district: String,
}

/// Corrects a state's district; its registered stays move with it. Audited.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("code" = String, Path,)), request_body = DistrictChange, responses(
    (status = 200, body = MexicanState),
    Denied,
    (status = 404, description = "`not_found`: no such state", body = crate::error::Problem, content_type = PROBLEM),
))]
#[put("/admin/mexican-states/{code}")]
pub async fn reassign_state(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<DistrictChange>>,
    code: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(admin, body) = request;
    let (code, now) = (code.into_inner(), state.clock.naive());
    let changed =
        state.db(move |conn| states::reassign(conn, &admin.actor(), &code, &body.district, now)).await?;
    Ok(HttpResponse::Ok().json(changed))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DistrictQuery {
    /// The district's post code; staff bound to a post read their own only.
    #[param(min_length = 3, max_length = 3)]
    district: String,
    /// Stays present on this day; without it, every current and future one.
    #[param(value_type = Option<String>, format = Date)]
    on: Option<NaiveDate>,
    /// 100 stays a page, from 1.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
}

/// A district's confirmed registrations, by arrival. Every registration read is recorded in
/// the audit trail.
#[utoipa::path(tag = "registry", security(("staff_token" = [])), params(DistrictQuery), responses(
    (status = 200, body = Vec<StayView>),
    Denied,
))]
#[get("/staff/registry")]
pub async fn district_list(
    state: web::Data<AppState>,
    request: Guarded<Staff<RegistryReaders>, web::Query<DistrictQuery>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(member, query) = request;
    let DistrictQuery { district, on, page } = query.into_inner();
    let now = state.clock.naive();
    let page = i64::from(page.unwrap_or(1));
    let list =
        state.db(move |conn| stays::list_for_staff(conn, &member.actor(), &district, on, page, now)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Serialize, ToSchema)]
pub struct Reach {
    /// Addresses it would go to now (several stays at one address count once).
    recipients: i64,
}

/// How many registrants an emergency message would reach: confirmed, asking for emergency
/// messages, in the districts, present on some day of the window.
#[utoipa::path(tag = "registry", security(("staff_token" = [])), request_body = BulletinInput, responses(
    (status = 200, body = Reach),
    Denied,
))]
#[post("/staff/emergency-messages/preview")]
pub async fn preview_emergency(
    state: web::Data<AppState>,
    request: Guarded<Staff<DutyOfficerOrAdmin>, web::Json<BulletinInput>>,
) -> Result<HttpResponse, HttpError> {
    preview(&state, request.0.actor(), BulletinKind::Emergency, request.1.into_inner()).await
}

/// Sends an emergency message: queued for every registrant it reaches, at once, or after a
/// second officer approves when `CONSULAR_DESK_EMERGENCY_APPROVAL` is on (`state` says which).
#[utoipa::path(tag = "registry", security(("staff_token" = [])), request_body = BulletinInput, responses(
    (status = 202, body = BulletinView, description = "queued, or awaiting a second officer's approval"),
    Denied,
))]
#[post("/staff/emergency-messages")]
pub async fn send_emergency(
    state: web::Data<AppState>,
    request: Guarded<Staff<DutyOfficerOrAdmin>, web::Json<BulletinInput>>,
) -> Result<HttpResponse, HttpError> {
    let approval = state.settings.registry.emergency_approval;
    send(&state, request.0.actor(), BulletinKind::Emergency, request.1.into_inner(), approval).await
}

/// A second officer approves an emergency message, which queues it.
#[utoipa::path(tag = "registry", security(("staff_token" = [])), params(("id" = i64, Path,)), responses(
    (status = 202, body = BulletinView),
    Denied,
    (status = 404, description = "`not_found`: no such message in the districts this account acts on", body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`already_queued`", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/emergency-messages/{id}/approve")]
pub async fn approve_emergency(
    state: web::Data<AppState>,
    request: Guarded<Staff<DutyOfficerOrAdmin>, web::Path<i64>>,
) -> Result<HttpResponse, HttpError> {
    // Guarded: who is asking is checked before the id is read (a 401, not a 400, for no token).
    let Guarded(member, id) = request;
    let (id, now, actor) = (id.into_inner(), state.clock.naive(), member.actor());
    let view = state.db(move |conn| bulletins::approve(conn, &actor, id, now)).await?;
    Ok(HttpResponse::Accepted().json(view))
}

/// The latest emergency messages and newsletters of the districts this account acts on.
#[utoipa::path(tag = "registry", security(("staff_token" = [])), responses(
    (status = 200, body = Vec<BulletinView>),
    Denied,
))]
#[get("/staff/emergency-messages")]
pub async fn list_bulletins(
    state: web::Data<AppState>,
    member: Staff<DutyOfficerOrAdmin>,
) -> Result<HttpResponse, HttpError> {
    let actor = member.actor();
    let list = state.db(move |conn| bulletins::recent(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// How many registrants who asked for the newsletter it would reach (current and future stays).
#[utoipa::path(tag = "registry", security(("staff_token" = [])), request_body = BulletinInput, responses(
    (status = 200, body = Reach),
    Denied,
))]
#[post("/staff/newsletters/preview")]
pub async fn preview_newsletter(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<BulletinInput>>,
) -> Result<HttpResponse, HttpError> {
    preview(&state, request.0.actor(), BulletinKind::Newsletter, request.1.into_inner()).await
}

/// Sends a newsletter to everyone who asked for it, with a one-click unsubscribe.
#[utoipa::path(tag = "registry", security(("staff_token" = [])), request_body = BulletinInput, responses(
    (status = 202, body = BulletinView),
    Denied,
))]
#[post("/staff/newsletters")]
pub async fn send_newsletter(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<BulletinInput>>,
) -> Result<HttpResponse, HttpError> {
    send(&state, request.0.actor(), BulletinKind::Newsletter, request.1.into_inner(), false).await
}

async fn preview(
    state: &AppState,
    actor: crate::auth::Actor,
    kind: BulletinKind,
    input: BulletinInput,
) -> Result<HttpResponse, HttpError> {
    let today = state.clock.naive().date();
    let recipients = state.db(move |conn| bulletins::preview(conn, &actor, kind, &input, today)).await?;
    Ok(HttpResponse::Ok().json(Reach { recipients }))
}

async fn send(
    state: &AppState,
    actor: crate::auth::Actor,
    kind: BulletinKind,
    input: BulletinInput,
    approval: bool,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let view = state.db(move |conn| bulletins::send(conn, &actor, kind, &input, approval, now)).await?;
    Ok(HttpResponse::Accepted().json(view))
}
