//! Server-rendered pages (maud), in English and Spanish, for people who don't use curl. They
//! call the same operations as the JSON API, so no business rule is written twice, and work
//! without JavaScript. Every page goes out through [`page`], the one place the security
//! headers are set.

pub mod account;
pub mod account_mail;
pub mod booking;
pub mod extract;
pub mod feedback;
pub mod field_errors;
pub mod i18n;
pub mod intake;
pub mod layout;
pub mod local_path;
pub mod names;
pub mod numbers;
pub mod once;
pub mod pickers;
pub mod public;
pub mod receipt_check;
pub mod registry;
pub mod schedules;
pub mod session;
pub mod staff;
pub mod typed;

use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpMessage, HttpResponse};
use maud::Markup;

use crate::web::i18n::{Lang, PageLang};

/// The longest form a page takes. The longest real one, an appointment's pre-fill for four
/// people or a week of 28 openings, is a few kilobytes.
pub const MAX_FORM_BYTES: usize = 32 * 1024;

/// The pages' routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(MAX_FORM_BYTES).error_handler(unreadable_form));
    cfg.service(public::home)
        .service(public::track)
        .service(public::switch_language)
        .service(public::display)
        .service(
            web::scope("/feedback")
                .app_data(
                    web::FormConfig::default().limit(feedback::MAX_FORM_BYTES).error_handler(unreadable_form),
                )
                .service(feedback::feedback_form)
                .service(feedback::send_feedback)
                .service(feedback::thanks),
        )
        .service(receipt_check::check)
        .service(account::sign_in_form)
        .service(account::sign_in)
        .service(account::register_form)
        .service(account::register)
        .service(account::sign_out)
        .service(account::my_appointments)
        .service(account::password_form)
        .service(account::change_password)
        .service(account_mail::confirm_form)
        .service(account_mail::confirm)
        .service(account_mail::forgot_form)
        .service(account_mail::forgot)
        .service(account_mail::reset_form)
        .service(account_mail::reset)
        .service(account_mail::settings)
        .service(account_mail::save_settings)
        .service(account_mail::resend)
        .service(account_mail::change_email)
        .service(registry::register_form)
        .service(registry::register)
        .service(registry::manage)
        .service(registry::change)
        .service(registry::confirm)
        .service(registry::delete_form)
        .service(registry::delete)
        .service(registry::unsubscribe_form)
        .service(registry::unsubscribe)
        .service(booking::choose)
        .service(booking::slots)
        .service(booking::book)
        .service(booking::confirmation)
        .service(booking::calendar_file)
        .service(intake::prefill_form)
        .service(intake::prefill)
        .service(intake::window_form)
        .service(intake::record_at_window)
        .service(intake::correction::correction_form)
        .service(intake::correction::correct)
        .service(booking::cancel)
        .service(booking::reschedule_form)
        .service(booking::reschedule)
        .service(booking::appointment)
        .service(staff::sign_in_form)
        .service(staff::sign_in)
        .service(staff::sign_out)
        .service(staff::board)
        .service(staff::check_in)
        .service(staff::ticket_pdf)
        .service(staff::call_next)
        .service(staff::walk_in)
        .service(staff::complete_visit)
        .service(staff::no_show_visit)
        .service(staff::recall_visit)
        .service(staff::not_served_list)
        .service(staff::rebook_visit)
        .service(staff::closing_time_page)
        .service(staff::set_closing_time_page)
        .service(staff::fee_form)
        .service(staff::record_fee)
        .service(staff::receipts_page)
        .service(staff::visit_page)
        .service(staff::receipt_pdf)
        .service(staff::receipt)
        .service(staff::void)
        .service(staff::reports)
        .service(staff::feedback_page)
        .service(staff::feedback_csv)
        .service(staff::audit_log)
        .service(staff::cash)
        .service(staff::set_rate)
        .service(staff::count)
        .service(staff::sign_close)
        .service(staff::close_sheet_pdf)
        .service(staff::documents)
        .service(staff::move_document)
        .service(staff::documents_at_post)
        .service(staff::document)
        .service(staff::hand_over)
        .service(staff::slip_pdf)
        .service(staff::register)
        .service(staff::search_page)
        .service(staff::accounts)
        .service(staff::open_account)
        .service(staff::reset_password)
        .service(staff::reassign)
        .service(staff::set_email)
        .service(staff::switch_account)
        .service(staff::closures)
        .service(staff::close_day)
        .service(staff::remove_closure)
        .service(staff::mail_page)
        .service(staff::send_mail_again)
        .service(schedules::schedules)
        .service(schedules::set_week)
        .service(staff::fee_schedule_page)
        .service(staff::add_fee_version)
        .service(staff::withdraw_fee_version)
        .service(staff::registry_page)
        .service(staff::emergency_page)
        .service(staff::emergency_compose)
        .service(staff::approve_emergency)
        .service(staff::newsletter_page)
        .service(staff::newsletter_compose)
        .route("/static/site.css", web::get().to(stylesheet))
        .route("/static/refresh.js", web::get().to(refresh_script));
}

/// What a form sent with a missing or stale CSRF token says: nothing was done.
pub const FORM_EXPIRED: i18n::Text =
    ("This form has expired. Please send it again.", "Este formulario caducó. Envíelo de nuevo.");

/// No inline script or style anywhere, so the policy can forbid both; no framing (clickjacking).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// An HTML page with `status`, in `lang`, with the headers every page carries.
pub fn page(status: actix_web::http::StatusCode, lang: Lang, body: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .insert_header((header::VARY, "Accept-Language, Cookie"))
        .body(body.into_string())
}

/// A page with forms on it or someone's own data: never cached, and setting the visitor's CSRF
/// cookie when they had none (`body` gets the token to put in its forms).
pub fn form_page(
    req: &actix_web::HttpRequest,
    status: actix_web::http::StatusCode,
    lang: Lang,
    title: &str,
    path: &str,
    body: impl FnOnce(&str) -> Markup,
) -> HttpResponse {
    let (token, cookie) = session::csrf_token(req);
    let staff = req.extensions().get::<layout::StaffHeader>().cloned();
    let mut response = page(status, lang, layout::frame_for(lang, title, path, staff.as_ref(), body(&token)));
    if let Some(cookie) = cookie {
        let _ = response.add_cookie(&cookie);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// Whatever a staff or applicant page sends, a receipt's PDF, a report or a redirect as much
/// as a page, is never cached (pages with forms already say so; this covers the rest).
pub async fn never_cached(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let private = req.path().starts_with("/staff") || req.path().starts_with("/my");
    let mut response = next.call(req).await?;
    if private && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// HSTS: a year, sent only on what came over HTTPS ([`session::over_tls`]); over plain HTTP
/// it means nothing to a browser, and a client's forged `X-Forwarded-Proto` must not pin it.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Adds `Strict-Transport-Security` to every answer to a request that came over HTTPS.
pub async fn strict_transport(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let tls = session::over_tls(req.request());
    let mut response = next.call(req).await?;
    if tls {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    Ok(response)
}

/// 303 to `to` (after a form, or to the sign-in page); to the home page when `to`, which
/// may hold what someone typed in a URL, is not a path of this site ([`local_path`]).
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, local_path::or_home(to).to_string())).finish()
}

/// A form too long (413) or not a form (400), answered as a page: nothing was done.
fn unreadable_form(err: UrlencodedError, req: &actix_web::HttpRequest) -> actix_web::Error {
    let lang = Lang::of(req);
    let (status, text): (StatusCode, i18n::Text) = match err {
        UrlencodedError::Overflow { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            (
                "This form is far longer than any this site takes; nothing was saved.",
                "Este formulario es mucho más largo de lo que el sitio admite; no se guardó nada.",
            ),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            (
                "This form could not be read; nothing was saved.",
                "No se pudo leer este formulario; no se guardó nada.",
            ),
        ),
    };
    let title = lang.t(("Form not accepted", "Formulario no aceptado"));
    let content = maud::html! { p.error role="alert" { (lang.t(text)) } };
    let response = page(status, lang, layout::frame(lang, title, req.path(), content));
    InternalError::from_response(err, response).into()
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("site.css"))
}

async fn refresh_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("refresh.js"))
}
