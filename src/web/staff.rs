//! The staff pages under `/staff`: sign-in, the post's day board (check-in, calling the next
//! ticket, which refreshes itself), recording a fee and the receipt with its PDF, voiding it
//! (supervisors), and the fee report's downloads (auditors). The staff session is a staff
//! token in its own cookie (`staff_session`: HttpOnly, SameSite=Strict, path `/staff`), checked
//! exactly as a bearer token with the role each page needs, so disabling an account or
//! changing its role or post ends its session at once. Staff pages are never cached.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use crate::accounts::login as login_flow;
use crate::api::client_address;
use crate::auth::roles::{AnyStaff, AuditorOrAdmin, ClerkPlus, Requirement, SupervisorPlus};
use crate::auth::tokens::Audience;
use crate::auth::{Actor, Role, Staff};
use crate::booking::reference_code::Reference;
use crate::calendar;
use crate::error::{AppError, Code};
use crate::fees::money::format_cents;
use crate::fees::pricing::ItemInput;
use crate::fees::receipts::{self, FeeRequest, Method, PaymentInput, VoidRequest};
use crate::reports::export::Format;
use crate::reports::fee_report::Scope;
use crate::state::AppState;
use crate::web::i18n::{Lang, Text};
use crate::web::names;
use crate::web::{form_page, once, redirect, session};

/// The staff session cookie.
pub const STAFF_SESSION: &str = "staff_session";

/// A message page: what went wrong, and the way back to the board.
pub(crate) fn said(req: &HttpRequest, status: StatusCode, lang: Lang, text: &str) -> HttpResponse {
    let title = lang.t(("Staff desk", "Escritorio del personal"));
    form_page(req, status, lang, title, "/staff", |_| {
        html! {
            p.error role="alert" { (text) }
            p { a href="/staff" { (lang.t(("Back to the day board", "Volver al tablero del día"))) } }
        }
    })
}

/// A form sent with a missing or stale CSRF token: nothing was done.
pub(crate) fn expired(req: &HttpRequest, lang: Lang) -> HttpResponse {
    said(req, StatusCode::FORBIDDEN, lang, lang.t(crate::web::FORM_EXPIRED))
}

/// The signed-in staff member with role `R`; else the sign-in page (no or stale session) or
/// a 403 page (a role that may not).
pub(crate) async fn member<R: Requirement>(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Staff<R>, HttpResponse> {
    let lang = Lang::of(req);
    let Some(token) = req.cookie(STAFF_SESSION).map(|c| c.value().to_string()) else {
        return Err(redirect("/staff/sign-in"));
    };
    match Staff::<R>::from_token(state, &token).await {
        Ok(staff) => Ok(staff),
        Err(e) if e.code() == Code::InsufficientRole => Err(said(
            req,
            StatusCode::FORBIDDEN,
            lang,
            lang.t(("Your role can't open this page.", "Su función no permite abrir esta página.")),
        )),
        Err(_) => Err(redirect("/staff/sign-in")),
    }
}

/// What an operation's refusal tells the clerk, in the page's language (the code's meaning
/// for the ones without their own words).
pub(crate) fn refusal(lang: Lang, e: &AppError) -> String {
    let text: Option<Text> = match e.code() {
        Code::WrongPost => Some(("That belongs to another post.", "Eso pertenece a otra sede.")),
        Code::TooEarly => Some((
            "It is too early to check this appointment in.",
            "Aún es temprano para registrar la llegada de esta cita.",
        )),
        Code::TooLate => Some((
            "Too late to check in without a reason.",
            "Demasiado tarde para registrar la llegada sin un motivo.",
        )),
        Code::AlreadyCheckedIn => Some(("Already checked in.", "Ya se registró su llegada.")),
        Code::QueueEmpty => Some(("Nobody is waiting.", "No hay nadie esperando.")),
        Code::AlreadyVoided => Some(("This receipt is already void.", "Este recibo ya está anulado.")),
        Code::OwnReceipt => Some((
            "A receipt is voided by a supervisor who did not collect it.",
            "Un recibo lo anula un supervisor que no lo cobró.",
        )),
        Code::DayClosed => {
            Some(("That day's cash close is signed.", "El corte de caja de ese día está firmado."))
        }
        Code::NotFound => Some(("Not found.", "No se encontró.")),
        _ => None,
    };
    match (text, e) {
        (Some(text), _) => lang.t(text).to_string(),
        (None, AppError::Validation { errors, .. }) => {
            errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
        }
        (None, e) => format!("{} ({})", e.code().meaning(), e.code().as_str()),
    }
}

/// An operation's refusal (4xx) as a page saying why; a failure (5xx) goes on as the error.
pub(crate) fn refused(req: &HttpRequest, lang: Lang, e: AppError) -> Result<HttpResponse, AppError> {
    let status = e.code().status();
    if status >= 500 {
        return Err(e);
    }
    Ok(said(req, StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT), lang, &refusal(lang, &e)))
}

// --- signing in and out ---------------------------------------------------------------------

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    csrf: String,
}

fn sign_in_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let title = lang.t(("Staff sign-in", "Acceso del personal"));
    form_page(req, status, lang, title, "/staff/sign-in", |csrf| {
        html! {
            form method="post" action="/staff/sign-in" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                label for="username" { (lang.t(("Username", "Usuario"))) }
                @if let Some(error) = error {
                    p.error id="username-error" { (error) }
                    input #username name="username" type="text" value=(username) autocomplete="username" aria-invalid="true" aria-describedby="username-error" required;
                } @else {
                    input #username name="username" type="text" value=(username) autocomplete="username" required;
                }
                label for="password" { (lang.t(("Password", "Contraseña"))) }
                input #password name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (lang.t(("Sign in", "Iniciar sesión"))) }
            }
        }
    })
}

#[get("/staff/sign-in")]
pub async fn sign_in_form(req: HttpRequest) -> HttpResponse {
    sign_in_page(&req, Lang::of(&req), StatusCode::OK, "", None)
}

#[post("/staff/sign-in")]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let SignInForm { username, password, csrf } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        let expired = lang.t((
            "This form has expired. Please sign in again.",
            "Este formulario caducó. Inicie sesión de nuevo.",
        ));
        return Ok(sign_in_page(&req, lang, StatusCode::FORBIDDEN, &username, Some(expired)));
    }
    let checked = login_flow::check_password(
        &state,
        Actor::Anonymous,
        Audience::Staff,
        &username,
        password,
        client_address(&req),
    )
    .await;
    let signed_in = match checked {
        Ok(signed_in) => signed_in,
        Err(e) if e.code() == Code::InvalidCredentials => {
            let wrong = lang.t((
                "The username or the password is not correct.",
                "El usuario o la contraseña no son correctos.",
            ));
            return Ok(sign_in_page(&req, lang, StatusCode::UNAUTHORIZED, &username, Some(wrong)));
        }
        Err(e) if e.code() == Code::TooManyRequests => {
            let wait = lang.t((
                "Too many attempts. Please wait a few minutes.",
                "Demasiados intentos. Espere unos minutos.",
            ));
            return Ok(sign_in_page(&req, lang, StatusCode::TOO_MANY_REQUESTS, &username, Some(wait)));
        }
        Err(e) => return Err(e),
    };
    let now = Utc::now();
    let (token, expires_at) = state
        .keys
        .issue(Audience::Staff, &signed_in.subject.to_string(), signed_in.credential_version, now)
        .map_err(AppError::internal)?;
    let cookie = Cookie::build(STAFF_SESSION, token)
        .path("/staff")
        .http_only(true)
        .secure(session::over_tls(&req))
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds((expires_at - now).num_seconds()))
        .finish();
    let home = match signed_in.role.as_deref().and_then(Role::parse) {
        Some(Role::Auditor) => "/staff/reports",
        _ => "/staff",
    };
    let mut response = redirect(home);
    let _ = response.add_cookie(&cookie);
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

#[post("/staff/sign-out")]
pub async fn sign_out(req: HttpRequest, form: web::Form<CsrfOnly>) -> HttpResponse {
    if !session::csrf_holds(&req, &form.csrf) {
        return redirect("/staff");
    }
    let mut removal = Cookie::build(STAFF_SESSION, "").path("/staff").finish();
    removal.make_removal();
    let mut response = redirect("/staff/sign-in");
    let _ = response.add_cookie(&removal);
    response
}

pub(crate) fn sign_out_button(lang: Lang, csrf: &str) -> Markup {
    html! {
        form method="post" action="/staff/sign-out" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (lang.t(("Sign out", "Cerrar sesión"))) }
        }
    }
}

// --- the day board --------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct BoardQuery {
    post: Option<String>,
    /// The board's local date: today by default.
    date: Option<NaiveDate>,
}

/// The post a page is about: the member's own, or (for one bound to none) the one asked for,
/// Mexico City by default.
pub(crate) fn post_of(member: &crate::auth::StaffMember, asked: Option<String>) -> String {
    member.post.clone().unwrap_or_else(|| {
        asked.map(|p| crate::reference::normalise_post(&p)).unwrap_or_else(|| "MEX".into())
    })
}

fn local_time(rfc3339: &str) -> &str {
    rfc3339.get(11..16).unwrap_or("")
}

#[get("/staff")]
pub async fn board(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let BoardQuery { post, date } = query.into_inner();
    let post = post_of(&clerk, post);
    let reader = (*clerk).clone();
    let found = state
        .db(move |conn| {
            let date = match date {
                Some(date) => date,
                None => calendar::local_date(Utc::now().naive_utc(), calendar::post_zone(conn, &post)?),
            };
            crate::window::visits::day_board(conn, &reader, &post, date)
        })
        .await;
    let board = match found {
        Ok(board) => board,
        Err(e) if matches!(e.code(), Code::NotFound | Code::WrongPost) => {
            return Ok(said(&req, StatusCode::NOT_FOUND, lang, &refusal(lang, &e)))
        }
        Err(e) => return Err(e),
    };
    let title = format!("{} · {}", lang.t(("Day board", "Tablero del día")), board.post);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            p { (lang.date(board.date)) " · " (lang.t(("Signed in as", "Sesión de"))) " " strong { (clerk.username) } }
            form method="post" action="/staff/call-next" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(board.post);
                label for="window" { (lang.t(("Window", "Ventanilla"))) }
                input #window name="window" type="text" inputmode="numeric" maxlength="20" value="1" required;
                button type="submit" { (lang.t(("Call the next ticket", "Llamar al siguiente turno"))) }
            }
            details {
                summary { (lang.t(("Record a walk-in (an emergency without an appointment)", "Registrar una visita sin cita (emergencia)"))) }
                form method="post" action="/staff/walk-ins" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="post" value=(board.post);
                    label for="walk_service" { (lang.t(("Service", "Servicio"))) }
                    select #walk_service name="service" {
                        @for code in ["passport-new", "passport-renewal", "passport-correction", "crba", "notarial"] {
                            option value=(code) { (code) }
                        }
                    }
                    label for="walk_given" { (lang.t(("Given names", "Nombre(s)"))) }
                    input #walk_given name="given_names" type="text" maxlength="100" autocomplete="off" required;
                    label for="walk_surname" { (lang.t(("Surnames", "Apellidos"))) }
                    input #walk_surname name="surname" type="text" maxlength="100" autocomplete="off" required;
                    label for="walk_reason" { (lang.t(("Reason", "Motivo"))) }
                    input #walk_reason name="reason" type="text" maxlength="500" required;
                    button type="submit" { (lang.t(("Give an E ticket", "Dar un turno E"))) }
                }
            }
            table #board data-refresh="20" {
                caption { (lang.t(("Today's visits (refreshes every 20 seconds)", "Visitas de hoy (se actualiza cada 20 segundos)"))) }
                thead { tr {
                    th scope="col" { (lang.t(("Time", "Hora"))) }
                    th scope="col" { (lang.t(("Ticket", "Turno"))) }
                    th scope="col" { (lang.t(("People", "Personas"))) }
                    th scope="col" { (lang.t(("Service", "Servicio"))) }
                    th scope="col" { (lang.t(("Status", "Estado"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                } }
                tbody {
                    @for visit in &board.visits {
                        @let people = visit.applicants.iter().map(|p| format!("{} {}", p.given_names, p.surname)).collect::<Vec<_>>().join(", ");
                        tr {
                            td { (local_time(&visit.starts_at)) }
                            td { (visit.ticket.as_deref().unwrap_or("")) @if let Some(w) = &visit.window { " → " (w) } }
                            td { (people) }
                            td { (names::service(lang, &visit.service)) }
                            td { (names::appointment_status(lang, &visit.status)) }
                            td {
                                @if visit.status == "booked" {
                                    form method="post" action={ "/staff/visits/" (visit.reference) "/check-in" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" aria-label={ (lang.t(("Check in", "Registrar llegada"))) " " (people) } { (lang.t(("Check in", "Registrar llegada"))) }
                                    }
                                } @else if visit.status == "called" || visit.status == "in_service" {
                                    a href={ "/staff/visits/" (visit.reference) "/fee" } { (lang.t(("Record a fee", "Registrar un pago"))) span.visually-hidden { " " (people) } }
                                    " · "
                                    a href={ "/staff/visits/" (visit.reference) "/documents" } { (lang.t(("Documents", "Documentos"))) span.visually-hidden { " " (people) } }
                                    " · "
                                    a href={ "/staff/visits/" (visit.reference) "/intake" } { (lang.t(("Intake", "Solicitudes"))) span.visually-hidden { " " (people) } }
                                } @else if visit.status == "completed" {
                                    a href={ "/staff/visits/" (visit.reference) "/documents" } { (lang.t(("Documents", "Documentos"))) span.visually-hidden { " " (people) } }
                                }
                            }
                        }
                    }
                }
            }
            (sign_out_button(lang, csrf))
            script src="/static/refresh.js" defer {}
        }
    }))
}

#[post("/staff/visits/{reference}/check-in")]
pub async fn check_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let Some(reference) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let (settings, actor) = (state.settings.window.clone(), clerk.actor());
    let done = state
        .db(move |conn| {
            crate::window::visits::check_in(conn, &settings, &actor, &reference, None, Utc::now().naive_utc())
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff")),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct CallForm {
    csrf: String,
    post: String,
    window: String,
}

#[post("/staff/call-next")]
pub async fn call_next(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CallForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let CallForm { csrf, post, window } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let (actor, post) = (clerk.actor(), crate::reference::normalise_post(&post));
    let done = state
        .db(move |conn| {
            crate::window::visits::call_next(conn, &actor, &post, &window, Utc::now().naive_utc())
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff")),
        Err(e) => refused(&req, lang, e),
    }
}

// --- fees and receipts ----------------------------------------------------------------------

const METHODS: [(Method, Text); 4] = [
    (Method::CashUsd, ("Cash, US dollars", "Efectivo, dólares")),
    (Method::CashLocal, ("Cash, Mexican pesos", "Efectivo, pesos mexicanos")),
    (Method::Card, ("Card", "Tarjeta")),
    (Method::PrepaidOnline, ("Paid online in advance", "Pagado en línea por adelantado")),
];

#[get("/staff/visits/{reference}/fee")]
pub async fn fee_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let reference = reference.into_inner();
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    // The fees in force on the post's date, which is the date the receipt charges.
    let actor = clerk.actor();
    let found = state
        .db(move |conn| {
            let visit = crate::window::visits::show(conn, &actor, &parsed)?;
            let today = calendar::today_at(conn, Some(&visit.post))?;
            Ok(crate::reference::fees_on(conn, today)?)
        })
        .await;
    let fees = match found {
        Ok(fees) => fees,
        Err(e) => return refused(&req, lang, e),
    };
    let title = format!("{} · {}", lang.t(("Record a fee", "Registrar un pago")), reference);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            form method="post" action={ "/staff/visits/" (reference) "/fee" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name=(once::FIELD) value=(once::token());
                @for n in 1..=3 {
                    fieldset {
                        legend { (lang.t(("Fee", "Concepto"))) " " (n) @if n > 1 { " " (lang.t(("(optional)", "(opcional)"))) } }
                        label for={ "fee_" (n) } { (lang.t(("Fee code", "Código"))) }
                        select id={ "fee_" (n) } name={ "fee_" (n) } {
                            @if n > 1 { option value="" { "—" } }
                            @for fee in &fees { option value=(fee.code) { (fee.code) " · " (lang.money(fee.amount_cents, &fee.currency)) } }
                        }
                        label for={ "quantity_" (n) } { (lang.t(("Quantity", "Cantidad"))) }
                        input id={ "quantity_" (n) } name={ "quantity_" (n) } type="number" min="1" max="50" value="1";
                    }
                }
                label for="method" { (lang.t(("Payment", "Forma de pago"))) }
                select #method name="method" {
                    @for (method, text) in &METHODS { option value=(method.as_str()) { (lang.t(*text)) } }
                }
                label for="external_reference" { (lang.t(("Online payment reference (prepaid only)", "Referencia del pago en línea (solo prepago)"))) }
                input #external_reference name="external_reference" type="text" maxlength="64";
                button type="submit" { (lang.t(("Record and print the receipt", "Registrar e imprimir el recibo"))) }
            }
        }
    }))
}

#[derive(Deserialize)]
pub struct FeeForm {
    csrf: String,
    /// One receipt per rendering of the form, however often it is sent.
    #[serde(default)]
    once: String,
    fee_1: String,
    quantity_1: Option<u32>,
    fee_2: Option<String>,
    quantity_2: Option<u32>,
    fee_3: Option<String>,
    quantity_3: Option<u32>,
    method: String,
    external_reference: Option<String>,
}

#[post("/staff/visits/{reference}/fee")]
pub async fn record_fee(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    form: web::Form<FeeForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) || !once::well_formed(&form.once) {
        return Ok(expired(&req, lang));
    }
    let items: Vec<ItemInput> = [
        (Some(form.fee_1.clone()), form.quantity_1),
        (form.fee_2.clone(), form.quantity_2),
        (form.fee_3.clone(), form.quantity_3),
    ]
    .into_iter()
    .filter_map(|(code, quantity)| {
        let code = code.filter(|c| !c.is_empty())?;
        Some(ItemInput { fee_code: code, quantity: quantity.unwrap_or(1) })
    })
    .collect();
    let Some(method) = Method::parse(&form.method) else {
        return Ok(said(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            lang.t(("Choose a payment method.", "Elija una forma de pago.")),
        ));
    };
    let request = FeeRequest {
        appointment_reference: Some(reference.into_inner()),
        tracking_number: None,
        items,
        payment: PaymentInput {
            method,
            external_reference: form.external_reference.filter(|r| !r.trim().is_empty()),
            no_fee_basis: None,
        },
        payer: None,
    };
    let (key, actor, token) = (state.receipts.clone(), clerk.actor(), form.once);
    let done = state
        .db(move |conn| {
            let now = Utc::now().naive_utc();
            once::write_once(conn, &actor, &token, now, |c| {
                let view = receipts::record(c, &key, &actor, &request, now)?;
                Ok(format!("/staff/receipts/{}", view.receipt_number))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(e) => refused(&req, lang, e),
    }
}

#[get("/staff/receipts/{number}")]
pub async fn receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let staff = match member::<AnyStaff>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    let (key, actor, wanted) = (state.receipts.clone(), staff.actor(), number.into_inner());
    let view = match state.db(move |conn| receipts::show(conn, &key, &actor, &wanted)).await {
        Ok(view) => view,
        Err(e) => return refused(&req, lang, e),
    };
    let may_void = SupervisorPlus::admits(staff.role) && view.voided.is_none();
    let title = format!("{} {}", lang.t(("Receipt", "Recibo")), view.receipt_number);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            @if let Some(voided) = &view.voided {
                p.notice role="status" { strong { (lang.t(("Void", "Anulado"))) } ": " (voided.reason) " (" (voided.voided_by) ")" }
            }
            dl {
                dt { (lang.t(("Payer", "Pagador"))) } dd { (view.payer) }
                dt { (lang.t(("Visit", "Cita"))) } dd { (view.reference) }
                dt { (lang.t(("Total", "Total"))) } dd #total { (view.total.currency.as_str()) " " (format_cents(view.total.amount_cents)) }
                dt { (lang.t(("Collected by", "Cobrado por"))) } dd { (view.clerk) }
            }
            p { a href={ "/staff/receipts/" (view.receipt_number) "/receipt.pdf" } { (lang.t(("Print the receipt (PDF)", "Imprimir el recibo (PDF)"))) } }
            @if may_void {
                form method="post" action={ "/staff/receipts/" (view.receipt_number) "/void" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="reason" { (lang.t(("Reason for voiding", "Motivo de la anulación"))) }
                    input #reason name="reason" type="text" maxlength="500" required;
                    button type="submit" { (lang.t(("Void this receipt", "Anular este recibo"))) }
                }
            }
            p { a href="/staff" { (lang.t(("Back to the day board", "Volver al tablero del día"))) } }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[get("/staff/receipts/{number}/receipt.pdf")]
pub async fn receipt_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let staff = match member::<AnyStaff>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    match receipts::printed(&state, staff.actor(), number.into_inner()).await {
        Ok((pdf, name)) => Ok(crate::api::fees::pdf_response(pdf, &name)),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct VoidForm {
    csrf: String,
    reason: String,
}

#[post("/staff/receipts/{number}/void")]
pub async fn void(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
    form: web::Form<VoidForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let supervisor = match member::<SupervisorPlus>(&state, &req).await {
        Ok(supervisor) => supervisor,
        Err(page) => return Ok(page),
    };
    let VoidForm { csrf, reason } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let (key, actor, number) = (state.receipts.clone(), supervisor.actor(), number.into_inner());
    let back = format!("/staff/receipts/{number}");
    let request = VoidRequest { reason };
    let done = state
        .db(move |conn| receipts::void(conn, &key, &actor, &number, &request, Utc::now().naive_utc()))
        .await;
    match done {
        Ok(_) => Ok(redirect(&back)),
        Err(e) => refused(&req, lang, e),
    }
}

// --- the auditors' fee report ---------------------------------------------------------------

#[derive(Deserialize)]
pub struct ReportQuery {
    post: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Option<String>,
}

#[get("/staff/reports")]
pub async fn reports(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let auditor = match member::<AuditorOrAdmin>(&state, &req).await {
        Ok(auditor) => auditor,
        Err(page) => return Ok(page),
    };
    let query = query.into_inner();
    let post = auditor.post.clone().or(query.post.clone()).unwrap_or_else(|| "all".into());
    let at = (post != "all").then(|| crate::reference::normalise_post(&post));
    let today = match state.db(move |conn| calendar::today_at(conn, at.as_deref())).await {
        Ok(today) => today,
        Err(e) => return refused(&req, lang, e),
    };
    let (from, to) = (query.from.unwrap_or(today), query.to.unwrap_or(today));
    if let Some(format) = query.format.as_deref().and_then(Format::parse) {
        let scope = Scope {
            post: (post != "all").then(|| crate::reference::normalise_post(&post)),
            from,
            to,
            service: None,
            fee_code: None,
            method: None,
            clerk: None,
        };
        return match crate::api::reports::export_response(
            &state,
            auditor,
            scope,
            format,
            format == Format::Csv,
        )
        .await
        {
            Ok(response) => Ok(response),
            Err(e) => refused(&req, lang, e),
        };
    }
    let title = lang.t(("Fee report", "Informe de derechos"));
    let link = |format: &str| format!("/staff/reports?post={post}&from={from}&to={to}&format={format}");
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/reports", |csrf| {
        html! {
            form method="get" action="/staff/reports" {
                label for="post" { (lang.t(("Post (a code, or all)", "Sede (un código, o all)"))) }
                input #post name="post" type="text" value=(post) maxlength="3";
                label for="from" { (lang.t(("From (local date)", "Desde (fecha local)"))) }
                input #from name="from" type="date" value=(from);
                label for="to" { (lang.t(("To (local date, included)", "Hasta (fecha local, incluida)"))) }
                input #to name="to" type="date" value=(to);
                button type="submit" { (lang.t(("Show the downloads", "Mostrar las descargas"))) }
            }
            h2 { (lang.t(("Download", "Descargar"))) }
            ul #downloads {
                li { a href=(link("csv")) download { "CSV" } " " (lang.t(("(spreadsheets; with a byte order mark)", "(hojas de cálculo; con marca de orden de bytes)"))) }
                li { a href=(link("xlsx")) download { "XLSX" } }
                li { a href=(link("pdf")) download { "PDF" } " " (lang.t(("(the summary)", "(el resumen)"))) }
                li { a href=(link("json")) download { "JSON" } }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

// --- the audit log --------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    after: Option<i64>,
}

/// The audit log, 50 entries a page with a link to the next, and the check of the hash
/// chains (the trail holds, or the first entry that doesn't): the API's own reads.
#[get("/staff/audit")]
pub async fn audit_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    use crate::audit::read::{self, Filter};
    let lang = Lang::of(&req);
    let auditor = match member::<AuditorOrAdmin>(&state, &req).await {
        Ok(auditor) => auditor,
        Err(page) => return Ok(page),
    };
    let AuditQuery { action, after } = query.into_inner();
    let action = action.filter(|a| !a.trim().is_empty());
    let filter = Filter {
        from: None,
        to: None,
        post: None,
        actor_kind: None,
        actor_id: None,
        action: action.clone(),
        entity: None,
        entity_id: None,
        after,
    };
    let reader = (*auditor).clone();
    const PAGE: i64 = 50;
    let (entries, check) = state
        .db(move |conn| {
            let entries = read::page_for(conn, &reader, filter, PAGE)?;
            let check = read::verify_for(conn, &reader, None, Utc::now().naive_utc())?;
            Ok((entries, check))
        })
        .await?;
    let next = (entries.len() as i64 == PAGE).then(|| entries.last().map(|e| e.entry.id)).flatten();
    let title = lang.t(("Audit log", "Bitácora de auditoría"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/audit", |csrf| {
        html! {
            @if check.ok {
                p.notice role="status" #check {
                    (lang.t(("The trail holds:", "La bitácora está íntegra:"))) " " (check.entries) " "
                    (lang.t(("entries in", "entradas en"))) " " (check.chains) " " (lang.t(("chains", "cadenas")))
                    @if check.pending > 0 { " (" (check.pending) " " (lang.t(("waiting to be sealed", "por sellar"))) ")" }
                    "."
                }
                details {
                    summary { (lang.t(("Chain heads to keep elsewhere", "Cabezas de cadena para guardar aparte"))) }
                    ul { @for head in &check.heads { li { code { (head.chain) ":" (head.seq) ":" (head.hash) } } } }
                }
            } @else {
                p.error role="alert" #check {
                    (lang.t(("The trail does not hold.", "La bitácora NO está íntegra."))) " "
                    @if let Some(bad) = &check.first_bad {
                        (lang.t(("First bad entry:", "Primera entrada con problema:"))) " "
                        (bad.chain) " #" (bad.seq.map(|s| s.to_string()).unwrap_or_default())
                        " (" (bad.problem) ")"
                    }
                }
            }
            form method="get" action="/staff/audit" {
                label for="action" { (lang.t(("Only this action (e.g. receipt.voided)", "Solo esta acción (p. ej. receipt.voided)"))) }
                input #action name="action" type="text" maxlength="64" value=(action.clone().unwrap_or_default());
                button type="submit" { (lang.t(("Filter", "Filtrar"))) }
            }
            table {
                caption { (lang.t(("Entries, oldest first", "Entradas, de la más antigua"))) }
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (lang.t(("When (UTC)", "Cuándo (UTC)"))) }
                    th scope="col" { (lang.t(("Who", "Quién"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                    th scope="col" { (lang.t(("What", "Qué"))) }
                    th scope="col" { (lang.t(("Post", "Sede"))) }
                } }
                tbody {
                    @for stored in &entries {
                        @let e = &stored.entry;
                        tr {
                            td { (e.id) }
                            td { (e.recorded_at.format("%Y-%m-%d %H:%M:%S")) }
                            td { (e.actor_kind) @if let Some(id) = e.actor_id { " " (id) } @if let Some(role) = &e.actor_role { " (" (role) ")" } }
                            td { (e.action) }
                            td { (e.entity) @if let Some(id) = &e.entity_id { " " (id) } }
                            td { (e.post.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                p { a href={ "/staff/audit?after=" (next) "&action=" (crate::web::layout::encode(&action.clone().unwrap_or_default())) } { (lang.t(("Next page", "Página siguiente"))) } }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

// --- the day's cash: the exchange rate and the closes ---------------------------------------

use crate::fees::closeouts::{self, CloseoutRequest, Tally};
use crate::fees::money::Currency;
use crate::fees::rates::{self, RateRequest};
use crate::web::numbers;

/// What the cash page's count form asks for: each method in the currency it is counted in.
const COUNTED: [(Method, Currency, &str, Text); 4] = [
    (Method::CashUsd, Currency::Usd, "cash_usd", ("Cash, US dollars (USD)", "Efectivo, dólares (USD)")),
    (Method::CashLocal, Currency::Mxn, "cash_local", ("Cash, Mexican pesos (MXN)", "Efectivo, pesos (MXN)")),
    (Method::Card, Currency::Usd, "card", ("Card (USD)", "Tarjeta (USD)")),
    (Method::PrepaidOnline, Currency::Usd, "prepaid_online", ("Paid online (USD)", "Pagado en línea (USD)")),
];

/// The post's local today, its rate and its closes; a staff member bound to a post sees it.
#[get("/staff/cash")]
pub async fn cash(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let staff = match member::<ClerkPlus>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    let post = post_of(&staff, query.into_inner().post);
    let actor = staff.actor();
    let (post_code, found) = (post.clone(), {
        let post = post.clone();
        state
            .db(move |conn| {
                let today = calendar::local_date(Utc::now().naive_utc(), calendar::post_zone(conn, &post)?);
                let rate = match rates::show(conn, &actor, &post, today) {
                    Ok(rate) => Some(rate),
                    Err(e) if e.code() == Code::NotFound => None,
                    Err(e) => return Err(e),
                };
                Ok((today, rate, closeouts::list(conn, &actor, &post, today)?))
            })
            .await
    });
    let (today, rate, closes) = match found {
        Ok(found) => found,
        Err(e) => return refused(&req, lang, e),
    };
    let supervisor = SupervisorPlus::admits(staff.role);
    let title = format!("{} · {} · {}", lang.t(("Cash", "Caja")), post_code, lang.date(today));
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff/cash", |csrf| {
        html! {
            h2 { (lang.t(("Exchange rate", "Tipo de cambio"))) }
            @if let Some(rate) = &rate {
                p #rate { (crate::fees::money::format_rate(rate.rate_micros)) " MXN = 1 USD" }
            } @else {
                p #rate { (lang.t(("No rate for today yet: payments in pesos wait for one.", "Aún no hay tipo de cambio de hoy: los pagos en pesos lo esperan."))) }
            }
            @if supervisor {
                form method="post" action="/staff/cash/rate" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="post" value=(post_code);
                    label for="rate_value" { (lang.t(("Pesos per US dollar (e.g. 17.25)", "Pesos por dólar (p. ej. 17.25)"))) }
                    input #rate_value name="rate" type="text" inputmode="decimal" maxlength="16" required;
                    button type="submit" { (lang.t(("Set today's rate", "Fijar el tipo de cambio de hoy"))) }
                }
            }
            h2 { (lang.t(("Today's cash closes", "Cortes de caja de hoy"))) }
            @if closes.is_empty() { p { (lang.t(("No count yet.", "Aún no hay conteos."))) } }
            @for close in &closes {
                section.notice {
                    p { strong { (close.clerk) } " · " (close.submitted_at.get(11..16).unwrap_or("")) }
                    ul {
                        @for d in &close.differences {
                            li { (d.method.as_str()) " " (d.currency.as_str()) ": " (format_cents(d.amount_cents)) }
                        }
                    }
                    @if let Some(explanation) = &close.explanation { p { (explanation) } }
                    @if let Some(by) = &close.signed_by {
                        p { (lang.t(("Signed by", "Firmado por"))) " " (by) }
                    } @else if supervisor {
                        form method="post" action={ "/staff/cash/closes/" (close.id) "/sign" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="post" value=(post_code);
                            button type="submit" { (lang.t(("Sign this close", "Firmar este corte"))) " (" (close.clerk) ")" }
                        }
                    }
                }
            }
            h2 { (lang.t(("My count", "Mi conteo"))) }
            form method="post" action="/staff/cash/count" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(post_code);
                @for (_, _, name, label) in &COUNTED {
                    label for=(name) { (lang.t(*label)) }
                    input id=(name) name=(name) type="text" inputmode="decimal" maxlength="16" value="0";
                }
                label for="explanation" { (lang.t(("Explanation, if the count differs", "Explicación, si el conteo difiere"))) }
                input #explanation name="explanation" type="text" maxlength="500";
                button type="submit" { (lang.t(("Submit my count", "Enviar mi conteo"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize)]
pub struct RateForm {
    csrf: String,
    post: String,
    rate: String,
}

#[post("/staff/cash/rate")]
pub async fn set_rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<RateForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let supervisor = match member::<SupervisorPlus>(&state, &req).await {
        Ok(supervisor) => supervisor,
        Err(page) => return Ok(page),
    };
    let RateForm { csrf, post, rate } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let Some(rate_micros) = numbers::rate_micros(&rate) else {
        return Ok(said(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            lang.t(("The rate is a number such as 17.25.", "El tipo de cambio es un número como 17.25.")),
        ));
    };
    let (actor, post) = (supervisor.actor(), crate::reference::normalise_post(&post));
    let request = RateRequest { currency: Currency::Mxn, rate_micros };
    let done = state
        .db(move |conn| {
            let now = Utc::now().naive_utc();
            let today = calendar::local_date(now, calendar::post_zone(conn, &post)?);
            rates::set(conn, &actor, &post, today, &request, now)
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff/cash")),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct CountForm {
    csrf: String,
    post: String,
    cash_usd: String,
    cash_local: String,
    card: String,
    prepaid_online: String,
    explanation: Option<String>,
}

#[post("/staff/cash/count")]
pub async fn count(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CountForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let typed = [&form.cash_usd, &form.cash_local, &form.card, &form.prepaid_online];
    let mut counted = Vec::new();
    for ((method, currency, _, label), text) in COUNTED.iter().zip(typed) {
        let Some(amount_cents) = numbers::cents(text) else {
            let said_text = format!(
                "{}: {}",
                lang.t(*label),
                lang.t(("an amount such as 1,234.50", "un importe como 1,234.50"))
            );
            return Ok(said(&req, StatusCode::UNPROCESSABLE_ENTITY, lang, &said_text));
        };
        if amount_cents > 0 {
            counted.push(Tally { method: *method, currency: *currency, amount_cents });
        }
    }
    let request = CloseoutRequest {
        date: None,
        counted,
        explanation: form.explanation.filter(|e| !e.trim().is_empty()),
    };
    let (actor, post) = (clerk.actor(), crate::reference::normalise_post(&form.post));
    let done =
        state.db(move |conn| closeouts::submit(conn, &actor, &post, &request, Utc::now().naive_utc())).await;
    match done {
        Ok(_) => Ok(redirect("/staff/cash")),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct PostForm {
    csrf: String,
    post: String,
}

#[post("/staff/cash/closes/{id}/sign")]
pub async fn sign_close(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let supervisor = match member::<SupervisorPlus>(&state, &req).await {
        Ok(supervisor) => supervisor,
        Err(page) => return Ok(page),
    };
    let PostForm { csrf, post } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let (actor, post) = (supervisor.actor(), crate::reference::normalise_post(&post));
    let done = state.db(move |conn| closeouts::sign(conn, &actor, &post, id, Utc::now().naive_utc())).await;
    match done {
        Ok(_) => Ok(redirect("/staff/cash")),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct WalkInForm {
    csrf: String,
    post: String,
    service: String,
    given_names: String,
    surname: String,
    reason: String,
}

#[post("/staff/walk-ins")]
pub async fn walk_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<WalkInForm>,
) -> Result<HttpResponse, AppError> {
    use crate::booking::party::PersonInput;
    use crate::window::visits::WalkInRequest;
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let request = WalkInRequest {
        service: form.service,
        reason: form.reason,
        applicant: PersonInput { given_names: form.given_names, surname: form.surname, date_of_birth: None },
    };
    let (actor, post) = (clerk.actor(), crate::reference::normalise_post(&form.post));
    let done = state
        .db(move |conn| crate::window::visits::walk_in(conn, &actor, &post, &request, Utc::now().naive_utc()))
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff")),
        Err(e) => refused(&req, lang, e),
    }
}

// --- the admins' staff accounts -------------------------------------------------------------

use crate::accounts::staff::{self as staff_accounts, NewStaff};
use crate::auth::roles::AdminOnly;

/// Staff accounts: every one the admin may manage, with a form to open one and a button to
/// disable or enable each.
#[get("/staff/admin/accounts")]
pub async fn accounts(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let reader = (*admin).clone();
    let records = state.db(move |conn| Ok(staff_accounts::list(conn, &reader)?)).await?;
    let title = lang.t(("Staff accounts", "Cuentas del personal"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/admin/accounts", |csrf| {
        html! {
            table {
                thead { tr {
                    th scope="col" { (lang.t(("Username", "Usuario"))) }
                    th scope="col" { (lang.t(("Role", "Función"))) }
                    th scope="col" { (lang.t(("Post", "Sede"))) }
                    th scope="col" { (lang.t(("State", "Estado"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                } }
                tbody {
                    @for r in &records {
                        tr {
                            td { (r.username) }
                            td { (r.role.as_str()) }
                            td { (r.post_code.as_deref().unwrap_or("—")) }
                            td { @if r.disabled_at.is_some() { (lang.t(("disabled", "deshabilitada"))) } @else { (lang.t(("active", "activa"))) } }
                            td {
                                @if r.username != admin.username {
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/password" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @let id = format!("password-{}", r.username);
                                        label for=(id) { (lang.t(("New password for", "Contraseña nueva para"))) " " (r.username) }
                                        input id=(id) name="password" type="password" autocomplete="new-password" required;
                                        button type="submit" { (lang.t(("Reset", "Restablecer"))) }
                                    }
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/assignment" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @let role_id = format!("role-{}", r.username);
                                        label for=(role_id) { (lang.t(("Role of", "Función de"))) " " (r.username) }
                                        select id=(role_id) name="role" {
                                            @for role in Role::ALL { option value=(role.as_str()) selected[role == r.role] { (role.as_str()) } }
                                        }
                                        @let post_id = format!("post-{}", r.username);
                                        label for=(post_id) { (lang.t(("Post of", "Sede de"))) " " (r.username) }
                                        input id=(post_id) name="post" type="text" maxlength="3" value=(r.post_code.as_deref().unwrap_or(""));
                                        button type="submit" { (lang.t(("Move", "Cambiar"))) }
                                    }
                                    @let (verb, text) = if r.disabled_at.is_some() { ("enable", lang.t(("Enable", "Habilitar"))) } else { ("disable", lang.t(("Disable", "Deshabilitar"))) };
                                    form method="post" action={ "/staff/admin/accounts/" (r.username) "/" (verb) } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" aria-label={ (text) " " (r.username) } { (text) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (lang.t(("Open an account", "Abrir una cuenta"))) }
            form method="post" action="/staff/admin/accounts" {
                input type="hidden" name="csrf" value=(csrf);
                label for="new_username" { (lang.t(("Username", "Usuario"))) }
                input #new_username name="username" type="text" maxlength="64" autocomplete="off" required;
                label for="new_password" { (lang.t(("Password (10 characters or more)", "Contraseña (10 caracteres o más)"))) }
                input #new_password name="password" type="password" autocomplete="new-password" required;
                label for="new_role" { (lang.t(("Role", "Función"))) }
                select #new_role name="role" {
                    @for role in Role::ALL { option value=(role.as_str()) { (role.as_str()) } }
                }
                label for="new_post" { (lang.t(("Post (empty: every post)", "Sede (vacío: todas)"))) }
                input #new_post name="post" type="text" maxlength="3";
                button type="submit" { (lang.t(("Open the account", "Abrir la cuenta"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize)]
pub struct AccountForm {
    csrf: String,
    username: String,
    password: String,
    role: String,
    post: Option<String>,
}

#[post("/staff/admin/accounts")]
pub async fn open_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let post = form.post.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let opened = match NewStaff::parse(&form.username, &form.password, &form.role, post) {
        Ok(new) => staff_accounts::open_account(&state, admin.actor(), new).await,
        Err(e) => Err(e),
    };
    match opened {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}

#[post("/staff/admin/accounts/{username}/{verb}")]
pub async fn switch_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let (username, verb) = path.into_inner();
    let disabled = match verb.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró.")))),
    };
    let actor = admin.actor();
    let done = state
        .db(move |conn| {
            staff_accounts::set_disabled(conn, &actor, &username, disabled, Utc::now().naive_utc())
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}

// --- documents of a visit, and the notarial register ----------------------------------------

use crate::documents::records::{self as records, TransitionRequest};
use crate::documents::tracking::{self as tracking, Status, TrackingNumber};

/// The documents taken at a visit, each with the states it may move to next.
#[get("/staff/visits/{reference}/documents")]
pub async fn documents(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let actor = clerk.actor();
    let found = state
        .db(move |conn| {
            let intake = match records::intake_for_staff(conn, &actor, &parsed) {
                Ok(intake) => Some(intake),
                Err(e) if e.code() == Code::NotFound => None,
                Err(e) => return Err(e),
            };
            Ok((records::for_visit(conn, &actor, &parsed)?, intake))
        })
        .await;
    let (list, intake) = match found {
        Ok(found) => found,
        Err(e) => return refused(&req, lang, e),
    };
    let title = format!("{} · {}", lang.t(("Documents", "Documentos")), reference.as_str());
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            @if let Some(intake) = &intake {
                h2 { (lang.t(("Pre-filled by the applicant", "Prellenado por el solicitante"))) }
                ul {
                    @for item in &intake.items {
                        li {
                            (item.form.as_str())
                            @if let Some(p) = &item.applicant { " · " (p.given_names) " " (p.surname) @if let Some(born) = p.date_of_birth { " (" (born) ")" } }
                            @if let Some(passport) = &item.previous_passport { " · " (passport.number.masked) ", " (passport.issued_on) }
                            @if let Some(consent) = &item.minor_consent { " · " (crate::web::intake::code(consent)) }
                            @if let Some(act) = &item.act { " · " (act.as_str()) }
                            @if let Some(title) = &item.document_title { " · " (title) }
                            @for signer in item.signers.iter().flatten() { " · " (signer.given_names) " " (signer.surname) }
                        }
                    }
                }
            }
            @if list.is_empty() { p { (lang.t(("No documents were taken at this visit.", "No se recibieron documentos en esta visita."))) } }
            @for doc in &list {
                section.notice {
                    h2 { (doc.tracking_number) " · " (names::document_kind(lang, doc.kind)) }
                    p { (lang.t(("Status", "Estado"))) ": " strong { (names::document_status(lang, doc.status)) } }
                    @let next: Vec<Status> = tracking::states(doc.kind).into_iter().filter(|s| tracking::allowed(doc.kind, doc.status, *s)).collect();
                    @if !next.is_empty() {
                        form method="post" action={ "/staff/documents/" (doc.tracking_number) "/move" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="back" value=(reference.as_str());
                            @let id = format!("to-{}", doc.tracking_number);
                            label for=(id) { (lang.t(("Move to", "Pasar a"))) }
                            select id=(id) name="to" { @for s in &next { option value=(s.as_str()) { (names::document_status(lang, *s)) } } }
                            @let note = format!("note-{}", doc.tracking_number);
                            label for=(note) { (lang.t(("Note (optional)", "Nota (opcional)"))) }
                            input id=(note) name="note" type="text" maxlength="500";
                            button type="submit" { (lang.t(("Move", "Pasar"))) " " (doc.tracking_number) }
                        }
                    }
                }
            }
            p { a href="/staff" { (lang.t(("Back to the day board", "Volver al tablero del día"))) } }
        }
    }))
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    back: String,
    to: String,
    note: Option<String>,
}

#[post("/staff/documents/{tracking}/move")]
pub async fn move_document(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let MoveForm { csrf, back, to, note } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let (Some(tracking), Some(to)) = (TrackingNumber::parse(&number), Status::parse(&to)) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let request = TransitionRequest { to, note: note.filter(|n| !n.trim().is_empty()) };
    let actor = clerk.actor();
    let done = state
        .db(move |conn| records::transition(conn, &actor, &tracking, &request, Utc::now().naive_utc()))
        .await;
    match done {
        Ok(_) => match Reference::parse(&back) {
            Some(back) => Ok(redirect(&format!("/staff/visits/{}/documents", back.as_str()))),
            None => Ok(redirect("/staff")),
        },
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct RegisterQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    post: Option<String>,
    format: Option<String>,
}

/// The post's notarial register over a range of local dates (this month by default), with
/// its CSV.
#[get("/staff/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, AppError> {
    use chrono::Datelike;
    let lang = Lang::of(&req);
    let staff = match member::<AnyStaff>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    let RegisterQuery { from, to, post, format } = query.into_inner();
    let post = post_of(&staff, post);
    let may_correct = ClerkPlus::admits(staff.role);
    let actor = staff.actor();
    let found = state
        .db(move |conn| {
            let today = calendar::local_date(Utc::now().naive_utc(), calendar::post_zone(conn, &post)?);
            let from = from.unwrap_or_else(|| today.with_day(1).unwrap_or(today));
            crate::documents::register::list(conn, &actor, &post, from, to.unwrap_or(today))
        })
        .await;
    let book = match found {
        Ok(book) => book,
        Err(e) => return refused(&req, lang, e),
    };
    if format.as_deref() == Some("csv") {
        return Ok(crate::api::documents::register_csv(&book));
    }
    let title = format!("{} · {}", lang.t(("Notarial register", "Registro notarial")), book.post);
    let csv = format!("/staff/register?post={}&from={}&to={}&format=csv", book.post, book.from, book.to);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff/register", |_| {
        html! {
            p { (lang.date(book.from)) " – " (lang.date(book.to)) }
            table {
                thead { tr {
                    th scope="col" { (lang.t(("Entry", "Asiento"))) }
                    th scope="col" { (lang.t(("Performed", "Realizado"))) }
                    th scope="col" { (lang.t(("Act", "Acto"))) }
                    th scope="col" { (lang.t(("Document", "Documento"))) }
                    th scope="col" { (lang.t(("Officer", "Funcionario"))) }
                    th scope="col" { (lang.t(("Corrections", "Correcciones"))) }
                } }
                tbody {
                    @for e in &book.entries {
                        tr {
                            td { (e.entry_number) }
                            td { (e.performed_at.get(..16).unwrap_or("").replace('T', " ")) }
                            td { (e.act.as_str()) }
                            td { (e.document_title) }
                            td { (e.officer) }
                            td {
                                @if let Some(original) = &e.corrects {
                                    (lang.t(("Corrects", "Corrige"))) " " (original)
                                    @if let Some(note) = &e.correction_note { ": " (note) }
                                    br;
                                }
                                @for later in &e.corrected_by { (lang.t(("Corrected by", "Corregido por"))) " " (later) br; }
                                @if may_correct {
                                    a href={ "/staff/register/" (book.post) "/" (e.entry_number) "/correct" } {
                                        (lang.t(("Correct", "Corregir"))) span.visually-hidden { " " (e.entry_number) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href=(csv) download { (lang.t(("Download the register (CSV)", "Descargar el registro (CSV)"))) } }
        }
    }))
}

// --- the admins' closures -------------------------------------------------------------------

use crate::booking::closures::{self as closures_op, ClosureRequest};

/// A post's closures from today over the booking horizon, and a form to close a day or part
/// of one.
#[get("/staff/admin/closures")]
pub async fn closures(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let post = post_of(&admin, query.into_inner().post);
    let horizon = i64::from(state.settings.booking.horizon_days);
    let (reader, asked) = ((*admin).clone(), post.clone());
    let found = state
        .db(move |conn| {
            let tz = calendar::post_zone(conn, &asked)?;
            let from = calendar::local_date(Utc::now().naive_utc(), tz);
            closures_op::list(conn, &reader, &asked, tz, from, from + chrono::Duration::days(horizon))
        })
        .await;
    let list = match found {
        Ok(list) => list,
        Err(e) => return refused(&req, lang, e),
    };
    let title = format!("{} · {}", lang.t(("Closures", "Cierres")), post);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff/admin/closures", |csrf| {
        html! {
            @if list.is_empty() { p { (lang.t(("No closures ahead.", "No hay cierres próximos."))) } }
            ul {
                @for c in &list {
                    li {
                        (lang.date(c.date))
                        @if let (Some(from), Some(to)) = (&c.from, &c.to) { " " (from) "–" (to) }
                        " · " (c.reason)
                        @if !c.to_rebook.is_empty() { " · " strong { (c.to_rebook.len()) " " (lang.t(("appointments to offer another time", "citas por reprogramar"))) } }
                        form method="post" action={ "/staff/admin/closures/" (c.id) "/remove" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="post" value=(post);
                            button type="submit" aria-label={ (lang.t(("Remove the closure of", "Quitar el cierre del"))) " " (lang.date(c.date)) } { (lang.t(("Remove", "Quitar"))) }
                        }
                    }
                }
            }
            h2 { (lang.t(("Close a day or part of one", "Cerrar un día o parte de él"))) }
            form method="post" action="/staff/admin/closures" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(post);
                label for="closure_date" { (lang.t(("Date (the post's)", "Fecha (de la sede)"))) }
                input #closure_date name="date" type="date" required;
                label for="closure_from" { (lang.t(("From (HH:MM, empty for the whole day)", "Desde (HH:MM, vacío para todo el día)"))) }
                input #closure_from name="from" type="text" maxlength="5" placeholder="HH:MM";
                label for="closure_to" { (lang.t(("To (HH:MM)", "Hasta (HH:MM)"))) }
                input #closure_to name="to" type="text" maxlength="5" placeholder="HH:MM";
                label for="closure_reason" { (lang.t(("Reason", "Motivo"))) }
                input #closure_reason name="reason" type="text" maxlength="200" required;
                button type="submit" { (lang.t(("Close", "Cerrar"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize)]
pub struct ClosureForm {
    csrf: String,
    post: String,
    date: Option<NaiveDate>,
    from: Option<String>,
    to: Option<String>,
    reason: String,
}

#[post("/staff/admin/closures")]
pub async fn close_day(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ClosureForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let Some(date) = form.date else {
        return Ok(said(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            lang.t(("Choose the date.", "Elija la fecha.")),
        ));
    };
    let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
    let request = ClosureRequest { date, from: blank(form.from), to: blank(form.to), reason: form.reason };
    let post = crate::reference::normalise_post(&form.post);
    match closures_op::close(&state, admin.actor(), post.clone(), request).await {
        Ok(_) => Ok(redirect(&format!("/staff/admin/closures?post={post}"))),
        Err(e) => refused(&req, lang, e),
    }
}

// --- the admins' fee schedule ---------------------------------------------------------------

use crate::fees::schedule::{self as fee_schedule, FeeVersionRequest};

/// The fees in force today, and a form to add a version of a fee from a later date (versions
/// in force are never edited).
#[get("/staff/admin/fees")]
pub async fn fee_schedule_page(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    if let Err(page) = member::<AdminOnly>(&state, &req).await {
        return Ok(page);
    }
    let list = state
        .db(move |conn| {
            let today = calendar::today_at(conn, None)?;
            Ok(crate::reference::fees_on(conn, today)?)
        })
        .await?;
    let title = lang.t(("Fee schedule", "Tarifas"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/admin/fees", |csrf| {
        html! {
            table {
                caption { (lang.t(("In force today", "Vigentes hoy"))) }
                thead { tr {
                    th scope="col" { (lang.t(("Code", "Código"))) }
                    th scope="col" { (lang.t(("Description", "Descripción"))) }
                    th scope="col" { (lang.t(("Legal basis", "Fundamento"))) }
                    th.amount scope="col" { (lang.t(("Amount", "Importe"))) }
                    th scope="col" { (lang.t(("Since", "Desde"))) }
                } }
                tbody {
                    @for f in &list {
                        tr {
                            td { (f.code) } td { (f.description) } td { (f.cfr_item) }
                            td.amount { (lang.money(f.amount_cents, &f.currency)) } td { (f.effective_from) }
                        }
                    }
                }
            }
            h2 { (lang.t(("Add a version from a later date", "Agregar una versión a partir de una fecha posterior"))) }
            form method="post" action="/staff/admin/fees" {
                input type="hidden" name="csrf" value=(csrf);
                label for="fee_code" { (lang.t(("Code (a-z, 0-9, -)", "Código (a-z, 0-9, -)"))) }
                input #fee_code name="code" type="text" maxlength="64" required;
                label for="fee_description" { (lang.t(("Description", "Descripción"))) }
                input #fee_description name="description" type="text" maxlength="200" required;
                label for="fee_cfr" { (lang.t(("Legal basis (e.g. 22 CFR 22.1 item 1)", "Fundamento (p. ej. 22 CFR 22.1 item 1)"))) }
                input #fee_cfr name="cfr_item" type="text" maxlength="200" required;
                label for="fee_amount" { (lang.t(("Amount in US dollars (e.g. 130.00)", "Importe en dólares (p. ej. 130.00)"))) }
                input #fee_amount name="amount" type="text" inputmode="decimal" maxlength="16" required;
                label for="fee_from" { (lang.t(("In force from", "Vigente desde"))) }
                input #fee_from name="effective_from" type="date" required;
                button type="submit" { (lang.t(("Add the version", "Agregar la versión"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize)]
pub struct FeeVersionForm {
    csrf: String,
    code: String,
    description: String,
    cfr_item: String,
    amount: String,
    effective_from: Option<NaiveDate>,
}

#[post("/staff/admin/fees")]
pub async fn add_fee_version(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<FeeVersionForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let (Some(amount_cents), Some(effective_from)) = (numbers::cents(&form.amount), form.effective_from)
    else {
        return Ok(said(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            lang.t((
                "The amount is a number such as 130.00, and the date is needed.",
                "El importe es un número como 130.00, y la fecha es necesaria.",
            )),
        ));
    };
    let request = FeeVersionRequest {
        code: form.code,
        description: form.description,
        cfr_item: form.cfr_item,
        amount_cents,
        effective_from,
    };
    let actor = admin.actor();
    match state
        .db(move |conn| fee_schedule::add_version(conn, &actor, &request, Utc::now().naive_utc()))
        .await
    {
        Ok(_) => Ok(redirect("/staff/admin/fees")),
        Err(e) => refused(&req, lang, e),
    }
}

#[post("/staff/admin/closures/{id}/remove")]
pub async fn remove_closure(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let PostForm { csrf, post } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let post = crate::reference::normalise_post(&post);
    match closures_op::reopen(&state, admin.actor(), post.clone(), id).await {
        Ok(()) => Ok(redirect(&format!("/staff/admin/closures?post={post}"))),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    password: String,
}

/// Sets a new password on a staff account: every session of it ends.
#[post("/staff/admin/accounts/{username}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    username: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let ResetForm { csrf, password } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let password = match crate::accounts::fields::NewPassword::parse(&password) {
        Ok(password) => password,
        Err(message) => return Ok(said(&req, StatusCode::UNPROCESSABLE_ENTITY, lang, &message)),
    };
    match staff_accounts::reset_password(&state, &admin.actor(), username.into_inner(), password).await {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct AssignmentForm {
    csrf: String,
    role: String,
    post: Option<String>,
}

/// Gives a staff account another role or post: its sessions end, so the next page it opens
/// is under the new assignment.
#[post("/staff/admin/accounts/{username}/assignment")]
pub async fn reassign(
    state: web::Data<AppState>,
    req: HttpRequest,
    username: web::Path<String>,
    form: web::Form<AssignmentForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let admin = match member::<AdminOnly>(&state, &req).await {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let AssignmentForm { csrf, role, post } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let post = post.filter(|p| !p.trim().is_empty());
    let assignment = match staff_accounts::Assignment::parse(&role, post.as_deref()) {
        Ok(assignment) => assignment,
        Err(e) => return refused(&req, lang, e),
    };
    let (actor, username) = (admin.actor(), username.into_inner());
    let done = state
        .db(move |conn| {
            staff_accounts::reassign(conn, &actor, &username, &assignment, Utc::now().naive_utc())
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/accounts")),
        Err(e) => refused(&req, lang, e),
    }
}
