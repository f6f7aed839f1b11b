//! The account's mail: confirming the address, "forgot your password", changing the address,
//! and the account's language and document notices (docs/MAIL.md).

use actix_web::{post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::email::{self, Preferences};
use crate::accounts::fields::{Email, NewPassword};
use crate::accounts::recovery;
use crate::api::auth::ApplicantView;
use crate::api::Denied;
use crate::error::AppError;
use crate::field_schemas as schemas;
use crate::http::{client_address, Applicant, Guarded, HttpError};
use crate::state::AppState;
use crate::wording::Lang;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkToken {
    /// The `token` of the link in the message.
    #[schema(max_length = 200)]
    token: String,
}

/// Opens the link that confirms an address: the account's own (then it may book), or a new one
/// it asked to change to (then the account moves to it and the old address is told).
#[utoipa::path(tag = "accounts", request_body = LinkToken, responses(
    (status = 204, description = "confirmed"),
    (status = 400, description = "`link_not_valid`: used already, expired, or a newer one was sent", body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`email_taken`: another account took the new address meanwhile", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/auth/confirm-email")]
pub async fn confirm_email(
    state: web::Data<AppState>,
    body: web::Json<LinkToken>,
) -> Result<HttpResponse, HttpError> {
    email::confirm(&state.pool, &state.clock, body.into_inner().token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends the confirmation link again to the signed-in account's address.
#[utoipa::path(tag = "accounts", security(("public_token" = [])), responses(
    (status = 202, description = "a new link is on its way; earlier ones stop working"),
    Denied,
    (status = 409, description = "`already_confirmed`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 429, description = "`too_many_requests`: five an hour per account", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/me/confirm-email")]
pub async fn resend_confirmation(
    state: web::Data<AppState>,
    who: Applicant,
) -> Result<HttpResponse, HttpError> {
    email::resend(&state.pool, &state.clock, &state.settings.public_url, who.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[schema(schema_with = schemas::email)]
    email: String,
}

/// "Forgot your password": when an account has this address, a link valid once for 30 minutes
/// goes to it. The answer is the same whether or not it does.
#[utoipa::path(tag = "accounts", request_body = ResetRequest, responses(
    (status = 202, description = "if an account has this address, the link is on its way"),
    (status = 429, description = "`too_many_requests`: ten an hour per client address, three an hour per e-mail address", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/auth/password-reset")]
pub async fn request_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, HttpError> {
    let email = Email::parse(&body.email).map_err(|rule| AppError::invalid_field("email", rule))?;
    recovery::request(&state.account_tools(), email, client_address(&req)).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    #[schema(max_length = 200)]
    token: String,
    #[schema(schema_with = schemas::new_password)]
    new_password: String,
}

/// Sets a new password with the link from the reset message. Every session of the account
/// ends; sign in with the new password.
#[utoipa::path(tag = "accounts", request_body = ResetConfirm, responses(
    (status = 204, description = "the password is set; every earlier token stopped working"),
    (status = 400, description = "`link_not_valid`: used already, expired, or a newer one was sent", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/auth/password-reset/confirm")]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    body: web::Json<ResetConfirm>,
) -> Result<HttpResponse, HttpError> {
    let ResetConfirm { token, new_password } = body.into_inner();
    let new_password =
        NewPassword::parse(&new_password).map_err(|m| AppError::invalid_field("new_password", m))?;
    recovery::reset(&state.account_tools(), token, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmail {
    #[schema(schema_with = schemas::email)]
    email: String,
    current_password: String,
}

/// Changes the account's address: a confirmation link goes to the new address, and the
/// account keeps the old one until it is opened; the old address is then told.
#[utoipa::path(tag = "accounts", security(("public_token" = [])), request_body = ChangeEmail, responses(
    (status = 202, description = "the link is on its way to the new address"),
    Denied,
    (status = 409, description = "`email_taken`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 429, description = "too many wrong passwords", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/me/email")]
pub async fn change_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: Guarded<Applicant, web::Json<ChangeEmail>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(who, body) = request;
    let ChangeEmail { email: new_email, current_password } = body.into_inner();
    let new_email = Email::parse(&new_email).map_err(|rule| AppError::invalid_field("email", rule))?;
    email::change(&state.account_tools(), who.0, new_email, current_password, client_address(&req)).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    /// `en` or `es`: the language of the account's messages.
    #[schema(value_type = String, pattern = "^(en|es)$")]
    language: Lang,
    /// A message when a document is ready for pickup or mailed.
    document_notices: bool,
}

/// Sets the account's language and whether it gets the notices about its documents.
#[utoipa::path(tag = "accounts", security(("public_token" = [])), request_body = PreferencesRequest, responses(
    (status = 200, body = ApplicantView),
    Denied,
))]
#[put("/me/preferences")]
pub async fn set_preferences(
    state: web::Data<AppState>,
    request: Guarded<Applicant, web::Json<PreferencesRequest>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(who, body) = request;
    let preferences = Preferences { language: body.language, document_notices: body.document_notices };
    let record = email::set_preferences(&state.pool, &state.clock, who.0, preferences).await?;
    Ok(HttpResponse::Ok().json(ApplicantView::from(record)))
}
