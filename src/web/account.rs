//! The applicant's account pages: register, sign in, sign out, and "my appointments". Each
//! form posts back to its own page with a CSRF token; the work is the API's own operations
//! (`applicants::register`, `login::check_password` with its throttles, the token issue).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use crate::accounts::applicants::{self, Registration};
use crate::accounts::login as login_flow;
use crate::accounts::sessions;
use crate::auth::tokens::Audience;
use crate::auth::Actor;
use crate::booking::appointments;
use crate::error::{AppError, Code};
use crate::http::{client_address, HttpError};
use crate::state::AppState;
use crate::web::extract::ApplicantPage;
use crate::web::field_errors::{worded, PageError};
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::names;
use crate::web::{form_page, redirect, session};

const EMAIL: Text = ("E-mail address", "Correo electrónico");
const PASSWORD: Text = ("Password", "Contraseña");
const FULL_NAME: Text = ("Full name, as on your passport", "Nombre completo, como en su pasaporte");
const EXPIRED: Text = (
    "This form has expired. Please fill it in again.",
    "Este formulario caducó. Llénelo de nuevo, por favor.",
);

/// A form field: its label, the value to show again, and its error, tied together for
/// screen readers. Passwords are never shown again.
pub(crate) fn field(
    lang: Lang,
    id: &str,
    label: Text,
    kind: &str,
    value: &str,
    autocomplete: &str,
    error: Option<&str>,
) -> Markup {
    let hint = format!("{id}-error");
    let value = if kind == "password" { "" } else { value };
    html! {
        label for=(id) { (lang.t(label)) }
        @if let Some(error) = error {
            p.error id=(hint) { (error) }
            input #(id) name=(id) type=(kind) value=(value) autocomplete=(autocomplete)
                aria-invalid="true" aria-describedby=(hint) required;
        } @else {
            input #(id) name=(id) type=(kind) value=(value) autocomplete=(autocomplete) required;
        }
    }
}

/// The message for `field` among `errors`, in the page's language.
pub(crate) fn error_for(errors: &[PageError], field: &str) -> Option<String> {
    errors.iter().find(|e| e.field == field).map(|e| e.text.clone())
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf: String,
}

fn sign_in_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    email: &str,
    error: Option<&str>,
) -> HttpResponse {
    let title = lang.t(("Sign in", "Iniciar sesión"));
    form_page(req, status, lang, title, "/sign-in", |csrf| {
        html! {
            form method="post" action="/sign-in" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (field(lang, "email", EMAIL, "email", email, "username", error))
                (field(lang, "password", PASSWORD, "password", "", "current-password", None))
                button type="submit" { (title) }
            }
            p { a href="/register" { (lang.t(("No account yet? Register", "¿Aún no tiene cuenta? Regístrese"))) } }
            p { a href="/forgot-password" { (lang.t(("Forgot your password?", "¿Olvidó su contraseña?"))) } }
        }
    })
}

#[get("/sign-in")]
pub async fn sign_in_form(req: HttpRequest) -> HttpResponse {
    sign_in_page(&req, Lang::of(&req), StatusCode::OK, "", None)
}

/// Signs in and answers with a redirect to the applicant's page that sets the session cookie
/// for a token issued exactly as the API issues it, and drops the pre-sign-in CSRF token.
async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
) -> Result<HttpResponse, HttpError> {
    let door = Audience::Public;
    let signed_in = login_flow::check_password(
        &state.account_tools(),
        Actor::Anonymous,
        door,
        email,
        password,
        client_address(req),
    )
    .await?;
    let now = state.clock.now();
    let (token, expires_at) = state
        .keys
        .issue(door, &signed_in.subject.to_string(), signed_in.credential_version, now)
        .map_err(AppError::internal)?;
    let mut response = redirect("/my");
    let _ = response.add_cookie(&session::session_cookie(req, &token, (expires_at - now).num_seconds()));
    let _ = response.add_cookie(&session::renewed_csrf(req));
    Ok(response)
}

#[post("/sign-in")]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let SignInForm { email, password, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(sign_in_page(&req, lang, StatusCode::FORBIDDEN, &email, Some(lang.t(EXPIRED))));
    }
    match start_session(&state, &req, &email, password).await {
        Ok(response) => Ok(response),
        Err(e) if e.code() == Code::InvalidCredentials => {
            let wrong = lang.t((
                "The e-mail address or the password is not correct.",
                "El correo o la contraseña no son correctos.",
            ));
            Ok(sign_in_page(&req, lang, StatusCode::UNAUTHORIZED, &email, Some(wrong)))
        }
        Err(e) if e.code() == Code::TooManyRequests => {
            let wait = lang.t((
                "Too many attempts. Please wait a few minutes.",
                "Demasiados intentos. Espere unos minutos.",
            ));
            Ok(sign_in_page(&req, lang, StatusCode::TOO_MANY_REQUESTS, &email, Some(wait)))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RegisterForm {
    full_name: String,
    email: String,
    password: String,
    csrf: String,
}

fn register_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    form: Option<&RegisterForm>,
    errors: &[PageError],
) -> HttpResponse {
    let title = lang.t(("Create an account", "Crear una cuenta"));
    let (name, email) = form.map_or(("", ""), |f| (f.full_name.as_str(), f.email.as_str()));
    form_page(req, status, lang, title, "/register", |csrf| {
        html! {
            @if let Some(general) = error_for(errors, "form") { p.error role="alert" { (general) } }
            form method="post" action="/register" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (field(lang, "full_name", FULL_NAME, "text", name, "name", error_for(errors, "full_name").as_deref()))
                (field(lang, "email", EMAIL, "email", email, "email", error_for(errors, "email").as_deref()))
                (field(lang, "password", PASSWORD, "password", "", "new-password", error_for(errors, "password").as_deref()))
                button type="submit" { (title) }
            }
        }
    })
}

#[get("/register")]
pub async fn register_form(req: HttpRequest) -> HttpResponse {
    register_page(&req, Lang::of(&req), StatusCode::OK, None, &[])
}

#[post("/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        let expired = [PageError::new("form", lang.t(EXPIRED))];
        return Ok(register_page(&req, lang, StatusCode::FORBIDDEN, Some(&form), &expired));
    }
    // The account's messages are written in the language the page was in.
    let registered = match Registration::parse(&form.email, &form.password, &form.full_name, lang) {
        Ok(registration) => {
            applicants::register(&state.account_tools(), registration, client_address(&req)).await
        }
        Err(e) => Err(e),
    };
    match registered {
        Ok(_) => start_session(&state, &req, &form.email, form.password.clone()).await,
        Err(AppError::Validation { errors, .. }) => {
            let errors = worded(lang, &errors);
            Ok(register_page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(&form), &errors))
        }
        Err(e) if e.code() == Code::EmailTaken => {
            let taken = [PageError::new(
                "email",
                lang.t(("this address already has an account", "este correo ya tiene una cuenta")),
            )];
            Ok(register_page(&req, lang, StatusCode::CONFLICT, Some(&form), &taken))
        }
        Err(e) if e.code() == Code::TooManyRequests => {
            let wait = [PageError::new(
                "form",
                lang.t((
                    "Too many registrations from here. Please try later",
                    "Demasiados registros desde aquí. Intente más tarde",
                )),
            )];
            Ok(register_page(&req, lang, StatusCode::TOO_MANY_REQUESTS, Some(&form), &wait))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    /// Present when "Sign out everywhere" was pressed.
    everywhere: Option<String>,
}

/// Ends this session (or, with `everywhere`, every session of the account) on the server, not
/// only in this browser, and drops the cookies.
#[post("/sign-out")]
pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, HttpError> {
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(redirect("/my"));
    }
    if let Some(who) = session::applicant(&state, &req).await {
        match form.everywhere {
            Some(_) => sessions::sign_out_everywhere(&state.pool, state.clock.naive(), who.actor()).await?,
            None => {
                sessions::sign_out(
                    &state.pool,
                    state.clock.naive(),
                    who.actor(),
                    Audience::Public,
                    who.session,
                )
                .await?
            }
        }
    }
    let mut response = redirect("/");
    let _ = response.add_cookie(&session::ended_session(&req));
    let _ = response.add_cookie(&session::renewed_csrf(&req));
    Ok(response)
}

#[get("/my")]
pub async fn my_appointments(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let who = visitor.applicant;
    let id = who.id;
    let (record, list) = state
        .db(move |conn| Ok((applicants::find(conn, id)?, appointments::list_for_applicant(conn, id)?)))
        .await?;
    let unconfirmed = record
        .as_ref()
        .filter(|r| state.settings.booking.require_confirmed_email && r.email_confirmed_at.is_none())
        .map(|r| r.email.clone());
    let name = record.map(|r| r.full_name).unwrap_or_default();
    let title = lang.t(("My appointments", "Mis citas"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/my", |csrf| {
        html! {
            p { (lang.t(("Signed in as", "Sesión de"))) " " strong { (name) } }
            @if let Some(address) = &unconfirmed { (crate::web::account_mail::confirm_first(lang, address)) }
            p { a href="/book" { (lang.t(("Book an appointment", "Reservar una cita"))) } " · "
                a href="/my/settings" { (lang.t(("My account", "Mi cuenta"))) } " · "
                a href="/my/password" { (lang.t(("Change my password", "Cambiar mi contraseña"))) } }
            @if list.is_empty() {
                p { (lang.t(("You have no appointments yet.", "Aún no tiene citas."))) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (lang.t(("Reference", "Referencia"))) }
                        th scope="col" { (lang.t(("Office", "Oficina"))) }
                        th scope="col" { (lang.t(("Service", "Servicio"))) }
                        th scope="col" { (lang.t(("Date and time", "Fecha y hora"))) }
                        th scope="col" { (lang.t(("Status", "Estado"))) }
                    } }
                    tbody {
                        @for a in &list {
                            tr { td { a href={ "/my/" (a.reference) } { (a.reference) } } td { (a.post) } td { (names::service(lang, &a.service)) } td { (lang.date_time(&a.starts_at)) } td { (names::appointment_status(lang, a.status)) } }
                        }
                    }
                }
            }
            (crate::web::layout::sign_out_form(lang, csrf, "/sign-out"))
        }
    }))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    csrf: String,
}

fn password_page(req: &HttpRequest, lang: Lang, status: StatusCode, errors: &[PageError]) -> HttpResponse {
    let title = lang.t(("Change my password", "Cambiar mi contraseña"));
    form_page(req, status, lang, title, "/my/password", |csrf| {
        html! {
            @if let Some(general) = error_for(errors, "form") { p.error role="alert" { (general) } }
            form method="post" action="/my/password" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (field(lang, "current_password", ("Current password", "Contraseña actual"), "password", "", "current-password", error_for(errors, "current_password").as_deref()))
                (field(lang, "new_password", ("New password (10 characters or more)", "Contraseña nueva (10 caracteres o más)"), "password", "", "new-password", error_for(errors, "new_password").as_deref()))
                button type="submit" { (title) }
            }
        }
    })
}

#[get("/my/password")]
pub async fn password_form(req: HttpRequest, visitor: ApplicantPage) -> HttpResponse {
    password_page(&req, visitor.lang, StatusCode::OK, &[])
}

/// Changes the password through the API's operation (which ends every session, this one
/// included), then signs the applicant in again with the new one.
#[post("/my/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let who = visitor.applicant;
    let PasswordForm { current_password, new_password, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(password_page(
            &req,
            lang,
            StatusCode::FORBIDDEN,
            &[PageError::new("form", lang.t(EXPIRED))],
        ));
    }
    let new = match crate::accounts::fields::NewPassword::parse(&new_password) {
        Ok(new) => new,
        Err(rule) => {
            return Ok(password_page(
                &req,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &[PageError::new("new_password", lang.rule(&rule))],
            ))
        }
    };
    let id = who.id;
    match applicants::change_password(
        &state.account_tools(),
        who,
        current_password,
        new,
        client_address(&req),
    )
    .await
    {
        Ok(()) => {
            let email = state
                .db(move |conn| Ok(applicants::find(conn, id)?))
                .await?
                .map(|r| r.email)
                .unwrap_or_default();
            start_session(&state, &req, &email, new_password).await
        }
        Err(e) if e.code() == Code::WrongCurrentPassword => {
            let wrong = lang.t(("is not your current password", "no es su contraseña actual"));
            Ok(password_page(&req, lang, StatusCode::FORBIDDEN, &[PageError::new("current_password", wrong)]))
        }
        Err(e) if e.code() == Code::TooManyRequests => {
            let wait = lang.t((
                "Too many attempts. Please wait a few minutes",
                "Demasiados intentos. Espere unos minutos",
            ));
            Ok(password_page(&req, lang, StatusCode::TOO_MANY_REQUESTS, &[PageError::new("form", wait)]))
        }
        Err(e) => Err(e.into()),
    }
}
