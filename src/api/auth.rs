//! Registration and sign-in for applicants and staff, and "who am I".

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::applicants::{self, Registration};
use crate::accounts::fields::NewPassword;
use crate::accounts::login as login_flow;
use crate::accounts::sessions;
use crate::api::Denied;
use crate::auth::roles::AnyStaff;
use crate::auth::tokens::Audience;
use crate::auth::Actor;
use crate::error::{AppError, Code};
use crate::field_schemas as schemas;
use crate::http::{client_address, Applicant, Guarded, HttpError, Staff};
use crate::state::AppState;
use crate::wording::Lang;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(schema_with = schemas::email)]
    email: String,
    #[schema(schema_with = schemas::new_password)]
    password: String,
    #[schema(schema_with = schemas::person_name)]
    full_name: String,
    /// The language of the account's messages: `en` (the default) or `es`.
    #[schema(value_type = Option<String>, pattern = "^(en|es)$")]
    #[serde(default)]
    language: Option<Lang>,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicantView {
    id: i64,
    email: String,
    full_name: String,
    created_at: DateTime<Utc>,
    /// `en` or `es`: the language of the account's messages.
    language: String,
    /// False until the link sent to the address is opened; booking needs it (unless the
    /// server is set otherwise).
    email_confirmed: bool,
    /// Whether the account gets a message when a document is ready for pickup or mailed.
    document_notices: bool,
}

impl From<applicants::ApplicantRecord> for ApplicantView {
    fn from(r: applicants::ApplicantRecord) -> Self {
        ApplicantView {
            id: r.id,
            email: r.email,
            full_name: r.full_name,
            created_at: r.created_at.and_utc(),
            language: r.language,
            email_confirmed: r.email_confirmed_at.is_some(),
            document_notices: r.document_notices,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct StaffLoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    token: String,
    expires_at: DateTime<Utc>,
    /// Staff tokens only.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StaffSelf {
    username: String,
    role: crate::auth::Role,
    post: Option<String>,
}

/// Creates an applicant account and sends the link that confirms its address (valid 7 days).
#[utoipa::path(tag = "accounts", request_body = RegisterRequest, responses(
    (status = 201, body = ApplicantView),
    (status = 409, description = "e-mail already registered (`email_taken`)", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "`too_many_requests`: too many registrations from this address this hour (`CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, HttpError> {
    let language = body.language.unwrap_or(Lang::En);
    let registration = Registration::parse(&body.email, &body.password, &body.full_name, language)?;
    let record = applicants::register(&state.account_tools(), registration, client_address(&req)).await?;
    Ok(HttpResponse::Created().json(ApplicantView::from(record)))
}

async fn sign_in(
    state: web::Data<AppState>,
    req: &HttpRequest,
    audience: Audience,
    identifier: String,
    password: String,
) -> Result<HttpResponse, HttpError> {
    let signed_in = login_flow::check_password(
        &state.account_tools(),
        Actor::Anonymous,
        audience,
        &identifier,
        password,
        client_address(req),
    )
    .await?;
    let (token, expires_at) = state
        .keys
        .issue(audience, &signed_in.subject.to_string(), signed_in.credential_version, state.clock.now())
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().json(TokenResponse { token, expires_at, role: signed_in.role }))
}

/// Signs an applicant in; returns a public token.
#[utoipa::path(tag = "accounts", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "`invalid_credentials`, the same for an unknown e-mail and a wrong password", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many failures for this account or address", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, HttpError> {
    let LoginRequest { email, password } = body.into_inner();
    sign_in(state, &req, Audience::Public, email, password).await
}

/// Signs a staff member in; returns a staff token and the role.
#[utoipa::path(tag = "accounts", request_body = StaffLoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/staff/auth/login")]
pub async fn staff_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<StaffLoginRequest>,
) -> Result<HttpResponse, HttpError> {
    let StaffLoginRequest { username, password } = body.into_inner();
    sign_in(state, &req, Audience::Staff, username, password).await
}

/// The signed-in applicant's account.
#[utoipa::path(tag = "accounts", security(("public_token" = [])), responses(
    (status = 200, body = ApplicantView),
    Denied,
))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, who: Applicant) -> Result<HttpResponse, HttpError> {
    let record = state.db(move |conn| Ok(applicants::find(conn, who.id)?)).await?;
    let record = record.ok_or_else(|| AppError::new(Code::InvalidToken, "this account no longer exists"))?;
    Ok(HttpResponse::Ok().json(ApplicantView::from(record)))
}

/// The signed-in staff member: username, role and post.
#[utoipa::path(tag = "accounts", security(("staff_token" = [])), responses(
    (status = 200, body = StaffSelf),
    Denied,
))]
#[get("/staff/me")]
pub async fn staff_me(who: Staff<AnyStaff>) -> HttpResponse {
    let actor = who.0.member;
    HttpResponse::Ok().json(StaffSelf { username: actor.username, role: actor.role, post: actor.post })
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    current_password: String,
    #[schema(schema_with = schemas::new_password)]
    new_password: String,
}

/// Changes the signed-in applicant's password. Every token issued before, this one included,
/// stops working: sign in again with the new password.
#[utoipa::path(tag = "accounts", security(("public_token" = [])), request_body = ChangePasswordRequest, responses(
    (status = 204, description = "changed; sign in again"),
    (status = 401, description = "`missing_token`, `invalid_token`, `token_expired`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 403, description = "`wrong_current_password`, `public_token_not_staff`, `staff_token_not_applicant`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: the new password is too short or too long", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: Guarded<Applicant, web::Json<ChangePasswordRequest>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(who, body) = request;
    let ChangePasswordRequest { current_password, new_password } = body.into_inner();
    let new_password =
        NewPassword::parse(&new_password).map_err(|m| AppError::invalid_field("new_password", m))?;
    applicants::change_password(
        &state.account_tools(),
        who.0,
        current_password,
        new_password,
        client_address(&req),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs this token out: its session ends on every instance at once. Other sessions of the
/// account go on.
#[utoipa::path(tag = "accounts", security(("public_token" = [])), responses(
    (status = 204, description = "signed out; the token no longer works"),
    Denied,
))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, who: Applicant) -> Result<HttpResponse, HttpError> {
    sessions::sign_out(&state.pool, state.clock.naive(), who.actor(), Audience::Public, who.0.session)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs out every session of the applicant's account, this one included.
#[utoipa::path(tag = "accounts", security(("public_token" = [])), responses(
    (status = 204, description = "every token of the account stopped working"),
    Denied,
))]
#[post("/auth/logout-everywhere")]
pub async fn logout_everywhere(
    state: web::Data<AppState>,
    who: Applicant,
) -> Result<HttpResponse, HttpError> {
    sessions::sign_out_everywhere(&state.pool, state.clock.naive(), who.actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs this staff token out: its session ends on every instance at once.
#[utoipa::path(tag = "accounts", security(("staff_token" = [])), responses(
    (status = 204, description = "signed out; the token no longer works"),
    Denied,
))]
#[post("/staff/auth/logout")]
pub async fn staff_logout(
    state: web::Data<AppState>,
    who: Staff<AnyStaff>,
) -> Result<HttpResponse, HttpError> {
    sessions::sign_out(&state.pool, state.clock.naive(), who.actor(), Audience::Staff, who.session.clone())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs out every session of the staff member's account, this one included.
#[utoipa::path(tag = "accounts", security(("staff_token" = [])), responses(
    (status = 204, description = "every token of the account stopped working"),
    Denied,
))]
#[post("/staff/auth/logout-everywhere")]
pub async fn staff_logout_everywhere(
    state: web::Data<AppState>,
    who: Staff<AnyStaff>,
) -> Result<HttpResponse, HttpError> {
    sessions::sign_out_everywhere(&state.pool, state.clock.naive(), who.actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}
