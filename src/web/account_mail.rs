//! The pages behind the links in the account's mail: confirming the address, "forgot your
//! password" and choosing a new one, and the account's settings (language, document notices,
//! a new address, the confirmation sent again). Each calls the API's use-case.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

use crate::accounts::email::{self, Preferences};
use crate::accounts::fields::{Email, NewPassword};
use crate::accounts::{applicants, recovery};
use crate::error::{AppError, Code};
use crate::http::{client_address, HttpError};
use crate::state::AppState;
use crate::web::account::{error_for, field};
use crate::web::extract::ApplicantPage;
use crate::web::field_errors::PageError;
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::{form_page, session};

const EXPIRED: Text =
    ("This form has expired. Please try again", "Este formulario expiró. Inténtelo de nuevo");
const LINK_NOT_VALID: Text = (
    "This link can't be used: it was used already, has expired, or a newer one was sent.",
    "Este enlace no se puede usar: ya se usó, venció o se envió uno más reciente.",
);
const TOO_MANY: Text = ("Too many attempts. Please wait a while", "Demasiados intentos. Espere un rato");

/// A page that only says something, with a link on.
fn notice(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    title: &str,
    path: &str,
    text: &str,
) -> HttpResponse {
    form_page(req, status, lang, title, path, |_| {
        html! {
            p role="status" { (text) }
            p { a href="/my" { (lang.t(("My appointments", "Mis citas"))) } " · " a href="/sign-in" { (lang.t(("Sign in", "Iniciar sesión"))) } }
        }
    })
}

/// The address this applicant must still confirm before booking, when the rule asks for it;
/// `None` when they may book.
pub async fn unconfirmed_address(state: &AppState, applicant_id: i64) -> Result<Option<String>, AppError> {
    if !state.settings.booking.require_confirmed_email {
        return Ok(None);
    }
    let account = state.db(move |conn| Ok(applicants::find(conn, applicant_id)?)).await?;
    Ok(account.filter(|a| a.email_confirmed_at.is_none()).map(|a| a.email))
}

/// What an applicant whose address is not confirmed reads where booking would be: why, and the
/// way to a new link. One wording for /my, the booking pages and a refused booking.
pub fn confirm_first(lang: Lang, address: &str) -> maud::Markup {
    html! {
        p.error role="alert" {
            (lang.t(("Before you book, confirm your e-mail address: open the link we sent to", "Antes de reservar, confirme su correo electrónico: abra el enlace que enviamos a")))
            " " strong { (address) } ". "
            a href="/my/settings" { (lang.t(("Send the link again", "Enviar el enlace de nuevo"))) }
        }
    }
}

/// The booking pages' answer while the address is not confirmed (403, as the API's
/// `email_not_confirmed`).
pub fn confirm_first_page(req: &HttpRequest, lang: Lang, address: &str) -> HttpResponse {
    let title = lang.t(("Book an appointment", "Reservar una cita"));
    form_page(req, StatusCode::FORBIDDEN, lang, title, "/book", |_| {
        html! {
            (confirm_first(lang, address))
            p { a href="/my" { (lang.t(("My appointments", "Mis citas"))) } }
        }
    })
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: String,
    csrf: String,
}

/// The link in the confirmation message opens this page; the button confirms (a link
/// followed by a mail scanner confirms nothing).
#[get("/confirm-email")]
pub async fn confirm_form(req: HttpRequest, query: web::Query<TokenQuery>) -> HttpResponse {
    let lang = Lang::of(&req);
    let title = lang.t(("Confirm your e-mail address", "Confirme su correo electrónico"));
    let token = query.into_inner().token;
    form_page(&req, StatusCode::OK, lang, title, "/confirm-email", |csrf| {
        html! {
            form method="post" action="/confirm-email" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="token" value=(token);
                button type="submit" { (lang.t(("Confirm my address", "Confirmar mi dirección"))) }
            }
        }
    })
}

#[post("/confirm-email")]
pub async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let title = lang.t(("Confirm your e-mail address", "Confirme su correo electrónico"));
    let TokenForm { token, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(notice(&req, lang, StatusCode::FORBIDDEN, title, "/confirm-email", lang.t(EXPIRED)));
    }
    match email::confirm(&state.pool, &state.clock, token).await {
        Ok(()) => {
            let done = lang.t((
                "Your address is confirmed. You can book now.",
                "Su dirección está confirmada. Ya puede reservar.",
            ));
            Ok(notice(&req, lang, StatusCode::OK, title, "/confirm-email", done))
        }
        Err(e) if e.code() == Code::LinkNotValid => {
            Ok(notice(&req, lang, StatusCode::BAD_REQUEST, title, "/confirm-email", lang.t(LINK_NOT_VALID)))
        }
        Err(e) if e.code() == Code::EmailTaken => {
            let taken =
                lang.t(("Another account has this address now.", "Otra cuenta tiene ahora esta dirección."));
            Ok(notice(&req, lang, StatusCode::CONFLICT, title, "/confirm-email", taken))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
    csrf: String,
}

fn forgot_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    email: &str,
    errors: &[PageError],
) -> HttpResponse {
    let title = lang.t(("Forgot your password?", "¿Olvidó su contraseña?"));
    form_page(req, status, lang, title, "/forgot-password", |csrf| {
        html! {
            @if let Some(general) = error_for(errors, "form") { p.error role="alert" { (general) } }
            p { (lang.t(("We will send a link to choose a new password to your account's address.", "Enviaremos a la dirección de su cuenta un enlace para elegir una contraseña nueva."))) }
            form method="post" action="/forgot-password" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (field(lang, "email", ("E-mail address", "Correo electrónico"), "email", email, "username", error_for(errors, "email").as_deref()))
                button type="submit" { (lang.t(("Send the link", "Enviar el enlace"))) }
            }
        }
    })
}

#[get("/forgot-password")]
pub async fn forgot_form(req: HttpRequest) -> HttpResponse {
    forgot_page(&req, Lang::of(&req), StatusCode::OK, "", &[])
}

/// The same answer whether or not an account has the address.
#[post("/forgot-password")]
pub async fn forgot(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let ForgotForm { email, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(forgot_page(
            &req,
            lang,
            StatusCode::FORBIDDEN,
            &email,
            &[PageError::new("form", lang.t(EXPIRED))],
        ));
    }
    let parsed = match Email::parse(&email) {
        Ok(parsed) => parsed,
        Err(rule) => {
            let error = PageError::new("email", lang.rule(&rule));
            return Ok(forgot_page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, &email, &[error]));
        }
    };
    match recovery::request(&state.account_tools(), parsed, client_address(&req)).await {
        Ok(()) => {
            let title = lang.t(("Check your mail", "Revise su correo"));
            let sent = lang.t((
                "If an account has this address, a link to choose a new password is on its way. It works once, for 30 minutes.",
                "Si una cuenta tiene esta dirección, le enviamos un enlace para elegir una contraseña nueva. Vale una sola vez, durante 30 minutos.",
            ));
            Ok(notice(&req, lang, StatusCode::OK, title, "/forgot-password", sent))
        }
        Err(e) if e.code() == Code::TooManyRequests => Ok(forgot_page(
            &req,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &email,
            &[PageError::new("form", lang.t(TOO_MANY))],
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    new_password: String,
    csrf: String,
}

fn reset_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    token: &str,
    errors: &[PageError],
) -> HttpResponse {
    let title = lang.t(("Choose a new password", "Elija una contraseña nueva"));
    form_page(req, status, lang, title, "/reset-password", |csrf| {
        html! {
            @if let Some(general) = error_for(errors, "form") { p.error role="alert" { (general) } }
            form method="post" action="/reset-password" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="token" value=(token);
                (field(lang, "new_password", ("New password (10 characters or more)", "Contraseña nueva (10 caracteres o más)"), "password", "", "new-password", error_for(errors, "new_password").as_deref()))
                button type="submit" { (title) }
            }
        }
    })
}

#[get("/reset-password")]
pub async fn reset_form(req: HttpRequest, query: web::Query<TokenQuery>) -> HttpResponse {
    reset_page(&req, Lang::of(&req), StatusCode::OK, &query.into_inner().token, &[])
}

#[post("/reset-password")]
pub async fn reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let ResetForm { token, new_password, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(reset_page(
            &req,
            lang,
            StatusCode::FORBIDDEN,
            &token,
            &[PageError::new("form", lang.t(EXPIRED))],
        ));
    }
    let new = match NewPassword::parse(&new_password) {
        Ok(new) => new,
        Err(rule) => {
            let error = PageError::new("new_password", lang.rule(&rule));
            return Ok(reset_page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, &token, &[error]));
        }
    };
    match recovery::reset(&state.account_tools(), token.clone(), new).await {
        Ok(()) => {
            let title = lang.t(("Password changed", "Contraseña cambiada"));
            let done = lang.t((
                "Your new password is set and every session of the account was signed out. Sign in with it.",
                "Su contraseña nueva quedó guardada y se cerraron todas las sesiones de la cuenta. Inicie sesión con ella.",
            ));
            Ok(notice(&req, lang, StatusCode::OK, title, "/reset-password", done))
        }
        Err(e) if e.code() == Code::LinkNotValid => Ok(reset_page(
            &req,
            lang,
            StatusCode::BAD_REQUEST,
            &token,
            &[PageError::new("form", lang.t(LINK_NOT_VALID))],
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct SettingsForm {
    language: String,
    #[serde(default)]
    document_notices: Option<String>,
    csrf: String,
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
    current_password: String,
    csrf: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

async fn settings_page(
    state: &AppState,
    req: &HttpRequest,
    visitor: &ApplicantPage,
    status: StatusCode,
    said: Option<&str>,
    errors: &[PageError],
) -> Result<HttpResponse, HttpError> {
    let lang = visitor.lang;
    let id = visitor.applicant.id;
    let account = state.db(move |conn| Ok(applicants::find(conn, id)?)).await?;
    let account =
        account.ok_or_else(|| AppError::new(Code::InvalidToken, "this account no longer exists"))?;
    let title = lang.t(("My account", "Mi cuenta"));
    Ok(form_page(req, status, lang, title, "/my/settings", |csrf| {
        html! {
            @if let Some(said) = said { p role="status" { (said) } }
            @if let Some(general) = error_for(errors, "form") { p.error role="alert" { (general) } }
            h2 { (lang.t(("E-mail address", "Correo electrónico"))) }
            p { (account.email) " — "
                @if account.email_confirmed_at.is_some() { (lang.t(("confirmed", "confirmado"))) }
                @else { strong { (lang.t(("not confirmed yet: open the link we sent to it before booking", "sin confirmar: abra el enlace que le enviamos antes de reservar"))) } }
            }
            @if account.email_confirmed_at.is_none() {
                form method="post" action="/my/confirm-email" {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (lang.t(("Send the link again", "Enviar el enlace de nuevo"))) }
                }
            }
            h2 { (lang.t(("Messages", "Mensajes"))) }
            form method="post" action="/my/settings" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (lang.t(("Language of the messages", "Idioma de los mensajes"))) }
                    label { input type="radio" name="language" value="en" checked[account.language == "en"]; " English" }
                    label { input type="radio" name="language" value="es" checked[account.language == "es"]; " Español" }
                }
                label { input type="checkbox" name="document_notices" value="on" checked[account.document_notices];
                    " " (lang.t(("Tell me when a document is ready for pickup", "Avisarme cuando un documento esté listo para recoger"))) }
                button type="submit" { (lang.t(("Save", "Guardar"))) }
            }
            h2 { (lang.t(("A new e-mail address", "Un correo electrónico nuevo"))) }
            form method="post" action="/my/email" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (field(lang, "email", ("New e-mail address", "Correo electrónico nuevo"), "email", "", "email", error_for(errors, "email").as_deref()))
                (field(lang, "current_password", ("Current password", "Contraseña actual"), "password", "", "current-password", error_for(errors, "current_password").as_deref()))
                button type="submit" { (lang.t(("Send the confirmation link", "Enviar el enlace de confirmación"))) }
            }
        }
    }))
}

#[get("/my/settings")]
pub async fn settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
) -> Result<HttpResponse, HttpError> {
    settings_page(&state, &req, &visitor, StatusCode::OK, None, &[]).await
}

#[post("/my/settings")]
pub async fn save_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = visitor.lang;
    let SettingsForm { language, document_notices, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return settings_page(
            &state,
            &req,
            &visitor,
            StatusCode::FORBIDDEN,
            None,
            &[PageError::new("form", lang.t(EXPIRED))],
        )
        .await;
    }
    let preferences = Preferences {
        language: Lang::parse(&language).unwrap_or(lang),
        document_notices: document_notices.is_some(),
    };
    email::set_preferences(&state.pool, &state.clock, visitor.applicant.clone(), preferences).await?;
    settings_page(&state, &req, &visitor, StatusCode::OK, Some(lang.t(("Saved.", "Guardado."))), &[]).await
}

#[post("/my/confirm-email")]
pub async fn resend(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = visitor.lang;
    if !session::csrf_holds(&req, &form.csrf) {
        return settings_page(
            &state,
            &req,
            &visitor,
            StatusCode::FORBIDDEN,
            None,
            &[PageError::new("form", lang.t(EXPIRED))],
        )
        .await;
    }
    match email::resend(&state.pool, &state.clock, &state.settings.public_url, visitor.applicant.clone())
        .await
    {
        Ok(()) => {
            let sent = lang.t(("A new link is on its way.", "Le enviamos un enlace nuevo."));
            settings_page(&state, &req, &visitor, StatusCode::OK, Some(sent), &[]).await
        }
        Err(e) if e.code() == Code::AlreadyConfirmed => {
            settings_page(&state, &req, &visitor, StatusCode::OK, None, &[]).await
        }
        Err(e) if e.code() == Code::TooManyRequests => {
            settings_page(
                &state,
                &req,
                &visitor,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                &[PageError::new("form", lang.t(TOO_MANY))],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[post("/my/email")]
pub async fn change_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = visitor.lang;
    let EmailForm { email: new_email, current_password, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return settings_page(
            &state,
            &req,
            &visitor,
            StatusCode::FORBIDDEN,
            None,
            &[PageError::new("form", lang.t(EXPIRED))],
        )
        .await;
    }
    let parsed = match Email::parse(&new_email) {
        Ok(parsed) => parsed,
        Err(rule) => {
            let error = PageError::new("email", lang.rule(&rule));
            return settings_page(&state, &req, &visitor, StatusCode::UNPROCESSABLE_ENTITY, None, &[error])
                .await;
        }
    };
    let who = visitor.applicant.clone();
    match email::change(&state.account_tools(), who, parsed, current_password, client_address(&req)).await {
        Ok(()) => {
            let sent = lang.t((
                "Open the link we sent to the new address; until then the account keeps this one.",
                "Abra el enlace que enviamos a la dirección nueva; mientras tanto la cuenta conserva esta.",
            ));
            settings_page(&state, &req, &visitor, StatusCode::ACCEPTED, Some(sent), &[]).await
        }
        Err(e) if e.code() == Code::WrongCurrentPassword => {
            let wrong = PageError::new(
                "current_password",
                lang.t(("is not your current password", "no es su contraseña actual")),
            );
            settings_page(&state, &req, &visitor, StatusCode::FORBIDDEN, None, &[wrong]).await
        }
        Err(e) if e.code() == Code::EmailTaken => {
            let taken = PageError::new(
                "email",
                lang.t(("another account has this address", "otra cuenta tiene esta dirección")),
            );
            settings_page(&state, &req, &visitor, StatusCode::CONFLICT, None, &[taken]).await
        }
        Err(e) if e.code() == Code::TooManyRequests => {
            settings_page(
                &state,
                &req,
                &visitor,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                &[PageError::new("form", lang.t(TOO_MANY))],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
