//! Administration: staff accounts.

use actix_web::{get, post, put, web, HttpResponse};

use crate::accounts::fields::NewPassword;
use chrono::{DateTime, Utc};
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
}

#[derive(Serialize, ToSchema)]
pub struct StaffView {
    username: String,
    role: Role,
    post: Option<String>,
    disabled: bool,
    created_at: DateTime<Utc>,
}

impl From<StaffRecord> for StaffView {
    fn from(r: StaffRecord) -> Self {
        StaffView {
            username: r.username,
            role: r.role,
            post: r.post_code,
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
    let new = NewStaff::parse(&body.username, &body.password, &body.role, body.post.as_deref())?;
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
