//! The search page, `/staff/search?q=`: what the box in every staff page's header sends. A
//! scanned confirmation (its QR code holds the reference) that names one visit goes straight
//! to that visit's page.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::roles::AnyStaff;
use crate::http::HttpError;
use crate::search::{self as finder, Kind, Matched, QueryError, SearchResult, SearchResults};
use crate::state::AppState;
use crate::web::extract::StaffPage;
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::staff::refused;
use crate::web::{form_page, redirect};

#[derive(Deserialize)]
pub struct SearchPageQuery {
    q: Option<String>,
    post: Option<String>,
}

const LABEL: Text = (
    "Name, reference, receipt, register entry, tracking number, phone or last four of a document",
    "Nombre, referencia, recibo, asiento, número de seguimiento, teléfono o últimos cuatro de un documento",
);

fn kind_words(kind: Kind) -> Text {
    match kind {
        Kind::Visit => ("Visit", "Visita"),
        Kind::Receipt => ("Receipt", "Recibo"),
        Kind::RegisterEntry => ("Register entry", "Asiento del registro"),
        Kind::Document => ("Document", "Documento"),
    }
}

fn matched_words(matched: Matched) -> Text {
    match matched {
        Matched::Reference => ("reference", "referencia"),
        Matched::TrackingNumber => ("tracking number", "número de seguimiento"),
        Matched::ReceiptNumber => ("receipt number", "número de recibo"),
        Matched::EntryNumber => ("entry number", "número de asiento"),
        Matched::Name => ("name", "nombre"),
        Matched::Phone => ("phone", "teléfono"),
        Matched::LastFour => ("last four of a document number", "últimos cuatro de un número de documento"),
    }
}

/// A state as a person reads it; one this page doesn't know yet shows its words, not its code.
fn status_words(lang: Lang, status: &str) -> String {
    let words: Option<Text> = match status {
        "booked" => Some(("Booked", "Reservada")),
        "cancelled" => Some(("Cancelled", "Cancelada")),
        "checked_in" => Some(("Checked in", "Llegada registrada")),
        "called" => Some(("Called to a window", "Llamada a ventanilla")),
        "in_service" => Some(("At the window", "En ventanilla")),
        "completed" => Some(("Completed", "Concluido")),
        "no_show" => Some(("Did not come", "No se presentó")),
        "not_served" => Some(("Not served", "No atendida")),
        "received" => Some(("Received", "Recibido")),
        "sent_for_adjudication" => Some(("Sent for adjudication", "Enviado a resolución")),
        "more_information_needed" => Some(("More information needed", "Se necesita más información")),
        "approved" => Some(("Approved", "Aprobado")),
        "printed" => Some(("Printed", "Impreso")),
        "received_at_post" => Some(("Received at the post", "Recibido en la sede")),
        "ready_for_pickup" => Some(("Ready for pickup", "Listo para recoger")),
        "delivered" => Some(("Delivered", "Entregado")),
        "denied" => Some(("Denied", "Denegado")),
        "withdrawn" => Some(("Withdrawn", "Retirado")),
        "pending" => Some(("Pending", "Pendiente")),
        "issued" => Some(("Issued", "Emitido")),
        "voided" => Some(("Voided", "Anulado")),
        "recorded" => Some(("Recorded", "Asentado")),
        "corrected" => Some(("Corrected by a later entry", "Corregido por un asiento posterior")),
        _ => None,
    };
    match words {
        Some(words) => lang.t(words).to_string(),
        None => status.replace('_', " "),
    }
}

/// Searches the member's post (every post, or `?post=`, for staff bound to none) and lists
/// what was found; a reference that names exactly one visit opens it.
#[get("/staff/search")]
pub async fn search_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    query: web::Query<SearchPageQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let SearchPageQuery { q, post } = query.into_inner();
    let Some(typed) = q else {
        return Ok(page(&req, lang, StatusCode::OK, "", None, None));
    };
    // What was typed comes back in the box, cut to the box's length.
    let kept: String = typed.chars().take(finder::MAX_QUERY_CHARS).collect();
    let parsed = match finder::parse(&typed) {
        Ok(parsed) => parsed,
        Err(error) => {
            let said: Text = match error {
                QueryError::Empty => (
                    "Type a name, a reference or a number to search for.",
                    "Escriba un nombre, una referencia o un número para buscar.",
                ),
                QueryError::TooLong => (
                    "That is too long to search for: at most 100 characters.",
                    "Es demasiado largo para buscar: 100 caracteres como máximo.",
                ),
            };
            return Ok(page(&req, lang, StatusCode::BAD_REQUEST, &kept, Some(lang.t(said)), None));
        }
    };
    let actor = staff.actor();
    let scanned = parsed.reference.is_some();
    let found = state
        .db(move |conn| {
            let posts = finder::scope(conn, &actor, post.as_deref())?;
            finder::search(conn, &posts, &parsed)
        })
        .await;
    let found = match found {
        Ok(found) => found,
        Err(e) => return refused(&req, lang, e),
    };
    if let [only] = found.results.as_slice() {
        if scanned && only.kind == Kind::Visit && only.matched == Matched::Reference {
            return Ok(redirect(&only.href));
        }
    }
    let shown = found.query.clone();
    Ok(page(&req, lang, StatusCode::OK, &shown, None, Some(&found)))
}

fn page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    typed: &str,
    error: Option<&str>,
    found: Option<&SearchResults>,
) -> HttpResponse {
    let title = lang.t(("Search", "Buscar"));
    form_page(req, status, lang, title, "/staff/search", |_| {
        html! {
            form role="search" method="get" action="/staff/search" novalidate {
                label for="q" { (lang.t(LABEL)) }
                @if let Some(error) = error {
                    p.error #q-error { (error) }
                    input #q type="search" name="q" value=(typed) maxlength="100" autocomplete="off"
                        aria-invalid="true" aria-describedby="q-error";
                } @else {
                    input #q type="search" name="q" value=(typed) maxlength="100" autocomplete="off";
                }
                button type="submit" { (lang.t(("Search", "Buscar"))) }
            }
            @if let Some(found) = found { (results(lang, found)) }
        }
    })
}

fn results(lang: Lang, found: &SearchResults) -> Markup {
    let several_posts = found.posts.len() > 1;
    html! {
        @if found.results.is_empty() {
            p role="status" {
                (lang.t(("Nothing found for", "No se encontró nada para"))) " “" (found.query) "”."
            }
        } @else {
            p role="status" {
                @if found.truncated {
                    (lang.t((
                        "The first 50 results. Type more of the name or the number to narrow them down.",
                        "Los primeros 50 resultados. Escriba más del nombre o del número para acotarlos.",
                    )))
                } @else {
                    (found.results.len()) " " (lang.t(("found for", "encontrados para"))) " “" (found.query) "”."
                }
            }
            table {
                caption.visually-hidden { (lang.t(("Search results", "Resultados de la búsqueda"))) }
                thead { tr {
                    th scope="col" { (lang.t(("What", "Qué"))) }
                    th scope="col" { (lang.t(("Number", "Número"))) }
                    th scope="col" { (lang.t(("Name", "Nombre"))) }
                    th scope="col" { (lang.t(("Date", "Fecha"))) }
                    th scope="col" { (lang.t(("Status", "Estado"))) }
                    @if several_posts { th scope="col" { (lang.t(("Post", "Sede"))) } }
                    th scope="col" { (lang.t(("Found by", "Encontrado por"))) }
                } }
                tbody {
                    @for r in &found.results { (row(lang, r, several_posts)) }
                }
            }
        }
    }
}

fn row(lang: Lang, r: &SearchResult, several_posts: bool) -> Markup {
    html! {
        tr {
            td { (lang.t(kind_words(r.kind))) }
            td { a href=(r.href) { (r.id) } }
            td { (r.name) }
            td { (lang.date_time(&r.at)) }
            td { (status_words(lang, &r.status)) }
            @if several_posts { td { (r.post) } }
            td { (lang.t(matched_words(r.matched))) }
        }
    }
}
