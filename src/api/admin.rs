//! Administration: staff accounts and mail.

use actix_web::{get, post, put, web, HttpResponse};

use crate::accounts::fields::NewPassword;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::staff::{self, Assignment, NewStaff, StaffRecord};
use crate::api::Denied;
use crate::auth::roles::AdminOnly;
use crate::auth::Role;
use crate::error::AppError;
use crate::field_schemas as schemas;
use crate::http::{Guarded, HttpError, Staff};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct CreateStaffRequest {
    #[schema(schema_with = schemas::username)]
    username: String,
    #[schema(schema_with = schemas::new_password)]
    password: String,
    #[schema(value_type = Role)]
    role: String,
    /// Binds the account to one post (e.g. `GDL`); omit for every post.
    #[schema(schema_with = schemas::optional_post)]
    post: Option<String>,
    /// Where the messages about the account go (a password reset, a new role or post); omit
    /// for none.
    #[schema(schema_with = schemas::optional_email)]
    email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StaffView {
    username: String,
    role: Role,
    post: Option<String>,
    /// The account's address for the messages about it; null when it has none.
    email: Option<String>,
    disabled: bool,
    created_at: DateTime<Utc>,
}

impl From<StaffRecord> for StaffView {
    fn from(r: StaffRecord) -> Self {
        StaffView {
            username: r.username,
            role: r.role,
            post: r.post_code,
            email: r.email,
            disabled: r.disabled_at.is_some(),
            created_at: r.created_at.and_utc(),
        }
    }
}

/// Creates a staff account.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), request_body = CreateStaffRequest, responses(
    (status = 201, body = StaffView),
    Denied,
    (status = 404, description = "`not_found`: no post of that code", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "`username_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/admin/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<CreateStaffRequest>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(admin, body) = request;
    let new = NewStaff::parse(
        &body.username,
        &body.password,
        &body.role,
        body.post.as_deref(),
        body.email.as_deref(),
    )?;
    let record = staff::open_account(&state.account_tools(), admin.actor(), new).await?;
    tracing::info!(by = %admin.username, role = record.role.as_str(), "staff account created");
    Ok(HttpResponse::Created().json(StaffView::from(record)))
}

/// Lists staff accounts.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), responses(
    (status = 200, body = [StaffView]),
    Denied,
))]
#[get("/admin/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    admin: Staff<AdminOnly>,
) -> Result<HttpResponse, HttpError> {
    let records = state.db(move |conn| Ok(staff::list(conn, &admin)?)).await?;
    Ok(HttpResponse::Ok().json(records.into_iter().map(StaffView::from).collect::<Vec<_>>()))
}

#[derive(Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    #[schema(schema_with = schemas::new_password)]
    password: String,
}

/// Disables a staff account; its tokens stop working at once.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("username" = String, Path,)), responses(
    (status = 200, body = StaffView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "`cannot_disable_self`, `account_changed` (changed by someone else meanwhile)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/admin/staff/{username}/disable")]
pub async fn disable_staff(
    state: web::Data<AppState>,
    admin: Staff<AdminOnly>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let username = username.into_inner();
    let record =
        state.db(move |conn| staff::set_disabled(conn, &admin.actor(), &username, true, now)).await?;
    Ok(HttpResponse::Ok().json(StaffView::from(record)))
}

/// Re-enables a disabled staff account.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("username" = String, Path,)), responses(
    (status = 200, body = StaffView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "`account_changed` (changed by someone else meanwhile)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/admin/staff/{username}/enable")]
pub async fn enable_staff(
    state: web::Data<AppState>,
    admin: Staff<AdminOnly>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let username = username.into_inner();
    let record =
        state.db(move |conn| staff::set_disabled(conn, &admin.actor(), &username, false, now)).await?;
    Ok(HttpResponse::Ok().json(StaffView::from(record)))
}

/// Sets a new password for a staff account.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("username" = String, Path,)), request_body = ResetPasswordRequest, responses(
    (status = 200, body = StaffView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "`account_changed` (changed by someone else meanwhile)", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/admin/staff/{username}/password")]
pub async fn reset_staff_password(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<ResetPasswordRequest>>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(admin, body) = request;
    let password = NewPassword::parse(&body.password).map_err(|m| AppError::invalid_field("password", m))?;
    let record =
        staff::reset_password(&state.account_tools(), &admin.actor(), username.into_inner(), password)
            .await?;
    Ok(HttpResponse::Ok().json(StaffView::from(record)))
}

#[derive(Deserialize, ToSchema)]
pub struct AssignmentRequest {
    #[schema(value_type = Role)]
    role: String,
    /// The post the account acts on; omit (or null) for every post.
    #[schema(schema_with = schemas::optional_post)]
    post: Option<String>,
}

/// Changes a staff account's role and post; its earlier tokens stop working at once.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("username" = String, Path,)), request_body = AssignmentRequest, responses(
    (status = 200, body = StaffView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "`cannot_reassign_self`, `account_changed` (changed by someone else meanwhile)", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/admin/staff/{username}/assignment")]
pub async fn reassign_staff(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<AssignmentRequest>>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(admin, body) = request;
    let assignment = Assignment::parse(&body.role, body.post.as_deref())?;
    let username = username.into_inner();
    let record =
        state.db(move |conn| staff::reassign(conn, &admin.actor(), &username, &assignment, now)).await?;
    Ok(HttpResponse::Ok().json(StaffView::from(record)))
}

#[derive(Deserialize, ToSchema)]
pub struct EmailRequest {
    /// The new address; null (or empty) to remove it.
    #[schema(schema_with = schemas::optional_email)]
    email: Option<String>,
}

/// Sets or removes the address a staff account's messages go to; its sessions go on.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("username" = String, Path,)), request_body = EmailRequest, responses(
    (status = 200, body = StaffView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "`account_changed` (changed by someone else meanwhile)", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/admin/staff/{username}/email")]
pub async fn set_staff_email(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<EmailRequest>>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(admin, body) = request;
    let email = staff::parse_email(body.email.as_deref()).map_err(|e| AppError::invalid(vec![e]))?;
    let username = username.into_inner();
    let record = state.db(move |conn| staff::set_email(conn, &admin.actor(), &username, email, now)).await?;
    Ok(HttpResponse::Ok().json(StaffView::from(record)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailQuery {
    /// The UTC day the messages were queued on; today by default.
    #[param(value_type = Option<String>, format = Date)]
    date: Option<NaiveDate>,
}

/// One day of mail: per kind, how many messages went, wait and were given up, and the ones
/// given up with their reasons. No address and no body.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(MailQuery), responses(
    (status = 200, body = crate::mail::admin::MailDay),
    Denied,
))]
#[get("/admin/mail")]
pub async fn mail_day(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Query<MailQuery>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(_admin, query) = request;
    let date = query.date.unwrap_or_else(|| state.clock.naive().date());
    let day = state.db(move |conn| crate::mail::admin::day(conn, date)).await?;
    Ok(HttpResponse::Ok().json(day))
}

/// Puts a message that was given up back in the queue, due now, with its tries counted anew.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), params(("id" = i64, Path,)), responses(
    (status = 204, description = "queued again"),
    Denied,
    (status = 404, description = "`not_found`: no such message", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "`not_failed`: the message was not given up", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/admin/mail/{id}/send-again")]
pub async fn send_mail_again(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Path<i64>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(admin, id) = request;
    let id = id.into_inner();
    state.db(move |conn| crate::mail::admin::send_again(conn, &admin.actor(), id, now)).await?;
    tracing::info!(outbox_id = id, "mail queued again");
    Ok(HttpResponse::NoContent().finish())
}
