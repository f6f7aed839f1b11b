//! The JSON API: thin handlers per capability, the OpenAPI document, and the request-body
//! rules shared by all of them.

pub mod account_mail;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod booking;
pub mod closeouts;
pub mod contract;
pub mod documents;
pub mod feedback;
pub mod fees;
pub mod health;
pub mod methods;
pub mod metrics;
pub mod paths;
pub mod reference;
pub mod registry;
pub mod reports;
pub mod schedules;
pub mod search;
pub mod window;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::web;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, Code};
use crate::http::HttpError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "consular-desk",
        description = "Appointments, intake, fees and document tracking for American Citizen Services. \
                       Every error is application/problem+json with a stable `code`."
    ),
    modifiers(&BearerSchemes),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;

/// The two token kinds as OpenAPI security schemes.
struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = || {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            )
        };
        components.add_security_scheme("public_token", bearer());
        components.add_security_scheme("staff_token", bearer());
        // `CONSULAR_DESK_METRICS_TOKEN`, an opaque string (not a JWT), for `/metrics`.
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// What a protected endpoint answers before it runs, listed once for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its OpenAPI description is used
pub enum Denied {
    /// No token, or one that doesn't hold: `missing_token`, `invalid_token`, `token_expired`.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(crate::error::Problem),
    /// A valid token without the right: `insufficient_role`, `wrong_post`,
    /// `public_token_not_staff`, `staff_token_not_applicant`.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(crate::error::Problem),
}

/// Everything under `/api/v1`.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(auth::register)
        .service(auth::login)
        .service(auth::staff_login)
        .service(auth::me)
        .service(auth::staff_me)
        .service(auth::change_password)
        .service(auth::logout)
        .service(auth::logout_everywhere)
        .service(auth::staff_logout)
        .service(auth::staff_logout_everywhere)
        .service(account_mail::confirm_email)
        .service(account_mail::resend_confirmation)
        .service(account_mail::request_reset)
        .service(account_mail::confirm_reset)
        .service(account_mail::change_email)
        .service(account_mail::set_preferences)
        .service(registry::register_stay)
        .service(registry::show_stay)
        .service(registry::confirm_stay)
        .service(registry::change_stay)
        .service(registry::delete_stay)
        .service(registry::unsubscribe_stay)
        .service(registry::list_states)
        .service(registry::reassign_state)
        .service(registry::district_list)
        .service(registry::preview_emergency)
        .service(registry::send_emergency)
        .service(registry::approve_emergency)
        .service(registry::list_bulletins)
        .service(registry::preview_newsletter)
        .service(registry::send_newsletter)
        .service(reference::list_posts)
        .service(reference::list_services)
        .service(reference::list_fees)
        .service(admin::create_staff)
        .service(admin::list_staff)
        .service(admin::disable_staff)
        .service(admin::enable_staff)
        .service(admin::reset_staff_password)
        .service(admin::reassign_staff)
        .service(admin::set_staff_email)
        .service(admin::mail_day)
        .service(admin::send_mail_again)
        .service(booking::availability)
        .service(booking::book)
        .service(booking::list)
        .service(booking::show)
        .service(booking::cancel)
        .service(booking::reschedule)
        .service(booking::staff_book)
        .service(booking::staff_availability)
        .service(booking::staff_cancel)
        .service(booking::staff_reschedule)
        .service(schedules::show_schedules)
        .service(schedules::replace_schedule)
        .service(schedules::list_closures)
        .service(schedules::create_closure)
        .service(schedules::delete_closure)
        .service(audit::log)
        .service(audit::verify)
        .service(window::day)
        .service(window::check_in)
        .service(window::ticket_pdf)
        .service(window::walk_in)
        .service(window::next)
        .service(window::complete)
        .service(window::no_show)
        .service(window::recall)
        .service(window::display)
        .service(window::not_served)
        .service(window::rebook)
        .service(window::show_closing_time)
        .service(window::set_closing_time)
        .service(documents::prefill)
        .service(documents::show_intake)
        .service(documents::my_documents)
        .service(documents::staff_intake)
        .service(documents::record_document)
        .service(documents::visit_documents)
        .service(documents::show_document)
        .service(documents::slip_pdf)
        .service(documents::transition)
        .service(documents::handover)
        .service(documents::post_documents)
        .service(documents::track)
        .service(documents::notarial_register)
        .service(documents::correct_entry)
        .service(fees::record_fee)
        .service(fees::list_receipts)
        .service(fees::show_receipt)
        .service(fees::receipt_pdf)
        .service(fees::void_receipt)
        .service(fees::verify_receipt)
        .service(fees::set_rate)
        .service(fees::show_rate)
        .service(fees::submit_closeout)
        .service(fees::list_closeouts)
        .service(fees::sign_closeout)
        .service(closeouts::close_sheet)
        .service(fees::add_fee_version)
        .service(fees::withdraw_fee_version)
        .service(booking::confirmation_pdf)
        .service(booking::calendar_file)
        .service(reports::fee_report)
        .service(feedback::list_feedback)
        .service(feedback::export_feedback)
        // Its own body limit: a feedback's JSON is at most a few dozen kilobytes.
        .service(
            utoipa_actix_web::scope("/feedback")
                .app_data(json_config(feedback::MAX_BODY_BYTES))
                .service(feedback::submit_feedback),
        )
        .service(search::search_all)
        .service(search::search_post);
}

/// JSON bodies: size limit, and every failure as problem JSON. Syntax errors are 400; JSON
/// that parses but doesn't fit (missing field, wrong type) is 422.
pub fn json_config(max_body_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(max_body_bytes).error_handler(move |err, _req| {
        let app_error = match &err {
            JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                AppError::PayloadTooLarge { limit: max_body_bytes }
            }
            JsonPayloadError::Deserialize(e) if e.is_data() => {
                AppError::Validation { detail: format!("the body does not fit: {e}"), errors: Vec::new() }
            }
            JsonPayloadError::Deserialize(e) => {
                AppError::new(Code::MalformedJson, format!("the body is not valid JSON: {e}"))
            }
            other => AppError::new(Code::UnreadableBody, other.to_string()),
        };
        HttpError(app_error).into()
    })
}

/// Query strings: a bad value is a 400 naming what was wrong.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let detail = match &err {
            QueryPayloadError::Deserialize(e) => format!("bad query string: {e}"),
            other => other.to_string(),
        };
        HttpError(AppError::new(Code::InvalidQuery, detail)).into()
    })
}

/// Path segments that don't parse (e.g. a non-numeric id).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _req| HttpError(AppError::new(Code::InvalidPath, err.to_string())).into())
}

/// Refuses a URL whose path or query holds an encoded NUL (`%00`) before any handler sees it:
/// no post, service, reference or username contains one, and PostgreSQL refuses it in a text
/// parameter (a 500), where SQLite would simply find nothing.
pub async fn refuse_nul_in_url(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let uri = req.uri().to_string().to_ascii_lowercase();
    if uri.contains("%00") {
        let error = AppError::new(Code::InvalidPath, "the URL holds a NUL character");
        return Ok(req.error_response(HttpError(error)).map_into_right_body());
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}
