//! Pages anyone can open: the home page (posts and their emergency lines, services, fees in
//! force) and tracking a document by number and surname, through the same operation (and the
//! same throttles) as `GET /api/v1/track/{n}`; and the language switch.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use crate::documents::records::{self, TrackingView};
use crate::error::Code;
use crate::http::{client_address, HttpError};
use crate::reference;
use crate::state::AppState;
use crate::web::i18n::{self, Lang, PageLang, Text};
use crate::web::layout::{frame, SITE};
use crate::web::names;
use crate::web::page;

/// A service's name in the visitor's language (the reference data holds the English).
pub fn service_name(lang: Lang, code: &str, english: &str) -> String {
    // English pages keep the reference data's own name, which admins may edit.
    match lang {
        Lang::En => english.to_string(),
        Lang::Es => names::service(lang, code),
    }
}

#[get("/")]
pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let now = state.clock.naive();
    let (today, posts, services, fees) = state
        .db(move |conn| {
            let today = crate::calendar::today_at(conn, None, now)?;
            Ok((
                today,
                reference::list_posts(conn)?,
                reference::list_services(conn)?,
                reference::fees_on(conn, today)?,
            ))
        })
        .await?;
    let content = html! {
        p { (lang.t(("Book an appointment, check what it costs, and follow your passport or report of birth.",
                     "Reserve una cita, consulte los costos y dé seguimiento a su pasaporte o registro de nacimiento."))) }
        section.notice aria-labelledby="registry-heading" {
            h2 #registry-heading { (lang.t(("Staying in Mexico?", "¿Está de estancia en México?"))) }
            p {
                (lang.t(("Register your stay, no account needed, so the embassy can reach you in an emergency.",
                         "Registre su estancia, sin necesidad de cuenta, para que la embajada pueda comunicarse con usted en una emergencia.")))
                " " a href="/registry" { (lang.t(("Register your stay", "Registre su estancia"))) }
            }
        }
        h2 { (lang.t(("Offices and emergency lines", "Oficinas y teléfonos de emergencia"))) }
        table {
            thead { tr {
                th scope="col" { (lang.t(("Office", "Oficina"))) }
                th scope="col" { (lang.t(("Address", "Dirección"))) }
                th scope="col" { (lang.t(("Emergency line", "Teléfono de emergencia"))) }
            } }
            tbody {
                @for post in &posts {
                    tr {
                        th scope="row" { (post.name) }
                        td { (post.address) }
                        td { a href={ "tel:" (post.emergency_phone.replace(' ', "")) } { (post.emergency_phone) } }
                    }
                }
            }
        }
        p { (lang.t(("Every office's line is the embassy's 24-hour line: ext. 4440 in business hours; after hours, ext. 0 reaches the duty officer.",
                     "El teléfono de cada oficina es la línea de 24 horas de la embajada: ext. 4440 en horario de oficina; fuera de horario, la ext. 0 comunica con el oficial de guardia."))) }
        h2 { (lang.t(("Services", "Servicios"))) }
        ul {
            @for service in &services {
                li {
                    strong { (service_name(lang, &service.code, &service.name)) }
                    @if let Some(form) = &service.form { " (" (form) ")" }
                }
            }
        }
        h2 { (lang.t(("Fees", "Tarifas"))) }
        p { (lang.t(("In force on", "Vigentes al"))) " " (lang.date(today)) ". "
            (lang.t(("Paid at the window in dollars, pesos or by card.", "Se pagan en ventanilla en dólares, pesos o con tarjeta."))) }
        table {
            thead { tr {
                th scope="col" { (lang.t(("Fee", "Concepto"))) }
                th.amount scope="col" { (lang.t(("Amount", "Importe"))) }
            } }
            tbody {
                @for fee in &fees {
                    tr { td { (fee.description) } td.amount { (lang.money(fee.amount_cents, &fee.currency)) } }
                }
            }
        }
        h2 { (lang.t(("Your opinion", "Su opinión"))) }
        p {
            (lang.t(("How was your visit? ", "¿Cómo fue su visita? ")))
            a href="/feedback" { (lang.t(("Tell us what you think", "Díganos qué opina"))) }
            "."
        }
    };
    Ok(page(StatusCode::OK, lang, frame(lang, lang.t(SITE), "/", content)))
}

#[derive(Deserialize)]
pub struct TrackForm {
    number: Option<String>,
    surname: Option<String>,
}

const NUMBER: Text = ("Tracking number", "Número de seguimiento");
const SURNAME: Text = ("Surname on the document", "Apellido que aparece en el documento");
const REQUIRED: Text = ("Enter this to look the document up.", "Escriba este dato para buscar el documento.");
const TOO_LONG: Text =
    ("This is longer than any the service issues.", "Es más largo que cualquiera de los que emitimos.");

/// A field's error, when it has one.
fn check(value: &str, max: usize) -> Option<Text> {
    if value.trim().is_empty() {
        Some(REQUIRED)
    } else if value.chars().count() > max {
        Some(TOO_LONG)
    } else {
        None
    }
}

#[get("/track")]
pub async fn track(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Query<TrackForm>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let TrackForm { number, surname } = form.into_inner();
    let title = lang.t(("Track a document", "Seguimiento de un documento"));
    // The form was sent (even empty) when its fields are in the query; a number alone is the
    // tracking slip's QR code, which fills the number in and leaves the surname to the person.
    let asked = surname.is_some();
    let (number, surname) = (number.unwrap_or_default(), surname.unwrap_or_default());
    let errors = if asked { (check(&number, 40), check(&surname, 100)) } else { (None, None) };
    let mut status = StatusCode::OK;
    let outcome = if asked && errors == (None, None) {
        let (key, limits, address) = (state.matching.clone(), state.settings.tracking, client_address(&req));
        let (n, s) = (number.clone(), surname.clone());
        let found = state.db(move |conn| records::lookup(conn, &key, &limits, &n, &s, &address, now)).await;
        match found {
            Ok(view) => Some(found_view(lang, &view)),
            Err(e) if e.code() == Code::NotFound => {
                status = StatusCode::NOT_FOUND;
                Some(html! { p.notice role="status" { (lang.t((
                "No document matches that number and surname. Check both and try again.",
                "Ningún documento coincide con ese número y apellido. Revise ambos e intente de nuevo."))) } })
            }
            Err(e) if e.code() == Code::TooManyRequests => {
                status = StatusCode::TOO_MANY_REQUESTS;
                Some(html! { p.notice role="status" { (lang.t((
                "Too many lookups from here. Please wait a few minutes and try again.",
                "Demasiadas consultas desde aquí. Espere unos minutos e intente de nuevo."))) } })
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        if errors != (None, None) {
            status = StatusCode::UNPROCESSABLE_ENTITY;
        }
        None
    };
    let field = |id: &str, label: Text, value: &str, error: Option<Text>, autocomplete: &str| {
        let hint = format!("{id}-error");
        html! {
            label for=(id) { (lang.t(label)) }
            @if let Some(error) = error {
                p.error id=(hint) { (lang.t(error)) }
                input #(id) name=(id) type="text" value=(value) autocomplete=(autocomplete)
                    aria-invalid="true" aria-describedby=(hint) required;
            } @else {
                input #(id) name=(id) type="text" value=(value) autocomplete=(autocomplete) required;
            }
        }
    };
    let from_slip = !asked && !number.trim().is_empty();
    let content = html! {
        @if from_slip {
            p { (lang.t(("Enter the surname on the document to see where it is.",
                         "Escriba el apellido que aparece en el documento para ver dónde está."))) }
        } @else {
            p { (lang.t(("The number is on the slip you were given at the window.",
                         "El número aparece en el comprobante que recibió en la ventanilla."))) }
        }
        form method="get" action="/track" novalidate {
            (field("number", NUMBER, &number, errors.0, "off"))
            (field("surname", SURNAME, &surname, errors.1, "family-name"))
            button type="submit" { (lang.t(("Look it up", "Consultar"))) }
        }
        @if let Some(outcome) = outcome { section aria-live="polite" { (outcome) } }
    };
    Ok(page(status, lang, frame(lang, title, "/track", content)))
}

/// `2026-12-01T09:15:00-06:00` as the language writes the date, with the local time.
fn when(lang: Lang, rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => format!("{}, {}", lang.date(at.date_naive()), at.format("%H:%M")),
        Err(_) => rfc3339.to_string(),
    }
}

fn found_view(lang: Lang, view: &TrackingView) -> Markup {
    html! {
        h2 { (names::document_kind(lang, view.kind)) " " (view.tracking_number) }
        p.notice role="status" {
            (lang.t(("Status:", "Estado:"))) " " strong { (names::document_status(lang, view.status)) }
        }
        table {
            caption { (lang.t(("History", "Historial"))) }
            thead { tr { th scope="col" { (lang.t(("Date", "Fecha"))) } th scope="col" { (lang.t(("Status", "Estado"))) } } }
            tbody {
                @for step in &view.history {
                    tr { td { (when(lang, &step.at)) } td { (names::document_status(lang, step.status)) } }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    next: Option<String>,
}

/// Remembers the language for a year and goes back to the page (only a path on this site,
/// by [`crate::web::redirect`]: never an open redirect).
#[get("/lang/{code}")]
pub async fn switch_language(
    req: HttpRequest,
    code: web::Path<String>,
    query: web::Query<SwitchQuery>,
) -> HttpResponse {
    let Some(lang) = Lang::parse(&code) else {
        return HttpResponse::NotFound().finish();
    };
    let next = query.into_inner().next.unwrap_or_default();
    let cookie = actix_web::cookie::Cookie::build(i18n::COOKIE, lang.code())
        .path("/")
        .max_age(actix_web::cookie::time::Duration::days(365))
        .same_site(actix_web::cookie::SameSite::Lax)
        .http_only(true)
        .secure(crate::web::session::over_tls(&req))
        .finish();
    let mut response = crate::web::redirect(&next);
    let _ = response.add_cookie(&cookie);
    response
}

/// The waiting-room screen of a post: the tickets called in the last minutes and their
/// windows, large, the latest first; it reloads itself every 5 seconds.
#[get("/display/{post}")]
pub async fn display(
    state: web::Data<AppState>,
    req: HttpRequest,
    post: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let post = crate::reference::normalise_post(&post);
    let shown = state.db(move |conn| crate::window::visits::display(conn, &post, now)).await;
    let screen = match shown {
        Ok(screen) => screen,
        Err(e) if e.code() == Code::NotFound => {
            let title = lang.t(("No such office", "No existe esa oficina"));
            return Ok(page(StatusCode::NOT_FOUND, lang, frame(lang, title, "/", html! {})));
        }
        Err(e) => return Err(e.into()),
    };
    let title = format!("{} · {}", lang.t(("Now serving", "Atendiendo")), screen.post);
    let body = html! {
        (maud::DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/static/site.css";
            }
            body.display {
                main #main data-refresh="5" {
                    h1 { (title) }
                    @if screen.called.is_empty() {
                        p { (lang.t(("Please wait to be called.", "Espere su turno, por favor."))) }
                    } @else {
                        table {
                            thead { tr {
                                th scope="col" { (lang.t(("Ticket", "Turno"))) }
                                th scope="col" { (lang.t(("Window", "Ventanilla"))) }
                            } }
                            tbody {
                                @for called in &screen.called {
                                    tr { td { (called.ticket) } td { (called.window) } }
                                }
                            }
                        }
                    }
                    script src="/static/refresh.js" defer {}
                }
            }
        }
    };
    Ok(page(StatusCode::OK, lang, body))
}
