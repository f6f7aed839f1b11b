//! One visit's page: its people, service, time, status, ticket and window, what can be done
//! next (check in when it is booked for today, record a fee, documents, intake, the ticket)
//! and its receipts. Search results and a scanned confirmation land here.

use super::fees::{amount, back_link, method_name};
use super::*;
use crate::booking::status::AppointmentStatus;
use crate::fees::receipts::ReceiptRowView;
use crate::http::HttpError;
use crate::web::extract::StaffPage;
use crate::web::i18n::PageLang;
use crate::window::visits::VisitView;

#[get("/staff/visits/{reference}")]
pub async fn visit_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let not_found = || said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró.")));
    // A scanned code may come in lower case or with spaces; the reference is the same.
    let Some(parsed) = Reference::parse(reference.trim()) else {
        return Ok(not_found());
    };
    let (actor, now) = (staff.actor(), state.clock.naive());
    let found = state
        .db(move |conn| {
            let visit = crate::window::visits::show(conn, &actor, &parsed)?;
            let today = calendar::local_date(now, calendar::post_zone(conn, &visit.post)?);
            let receipts = receipts::of_visit(conn, &actor, &parsed)?;
            Ok((visit, today, receipts))
        })
        .await;
    let (visit, today, receipts): (VisitView, NaiveDate, Vec<ReceiptRowView>) = match found {
        Ok(found) => found,
        // Another post's visit is no visit of this member's.
        Err(e) if matches!(e.code(), Code::NotFound | Code::WrongPost) => return Ok(not_found()),
        Err(e) => return refused(&req, lang, e),
    };
    let works_window = ClerkPlus::admits(staff.role);
    let todays = visit.starts_at.get(..10) == Some(today.to_string().as_str());
    let people: Vec<String> =
        visit.applicants.iter().map(|p| format!("{} {}", p.given_names, p.surname)).collect();
    let title = format!("{} {}", lang.t(("Visit", "Visita")), visit.reference);
    let path = format!("/staff/visits/{}", visit.reference);
    let reference = visit.reference.clone();
    Ok(form_page(&req, StatusCode::OK, lang, &title, &path, |csrf| {
        html! {
            dl #visit {
                dt { (lang.t(("People", "Personas"))) }
                dd { ul { @for p in &people { li { (p) } } } }
                dt { (lang.t(("Service", "Servicio"))) } dd { (names::service(lang, &visit.service)) }
                dt { (lang.t(("Time", "Hora"))) } dd { (lang.date_time(&visit.starts_at)) }
                dt { (lang.t(("Status", "Estado"))) } dd #status { (names::appointment_status(lang, visit.status)) }
                @if let Some(ticket) = &visit.ticket {
                    dt { (lang.t(("Ticket", "Turno"))) } dd #ticket { (ticket) }
                }
                @if let Some(window) = &visit.window {
                    dt { (lang.t(("Window", "Ventanilla"))) } dd { (window) }
                }
            }
            @if works_window {
                @if visit.status == AppointmentStatus::Booked && todays {
                    form method="post" action={ "/staff/visits/" (reference) "/check-in" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { (lang.t(("Check in", "Registrar llegada"))) }
                    }
                }
                nav aria-label=(lang.t(("This visit", "Esta visita"))) {
                    ul {
                        li { a href={ "/staff/visits/" (reference) "/fee" } { (lang.t(("Record a fee", "Registrar un pago"))) } }
                        li { a href={ "/staff/visits/" (reference) "/documents" } { (lang.t(("Documents", "Documentos"))) } }
                        li { a href={ "/staff/visits/" (reference) "/intake" } { (lang.t(("Intake", "Solicitudes"))) } }
                        @if visit.ticket.is_some() {
                            li { a href={ "/staff/visits/" (reference) "/ticket.pdf" } { (lang.t(("Print ticket", "Imprimir turno"))) } }
                        }
                    }
                }
            }
            table #visit-receipts {
                caption { (lang.t(("Receipts of this visit", "Recibos de esta visita"))) }
                thead { tr {
                    th scope="col" { (lang.t(("Number", "Número"))) }
                    th scope="col" { (lang.t(("Total", "Total"))) }
                    th scope="col" { (lang.t(("Payment", "Pago"))) }
                    th scope="col" { (lang.t(("Status", "Estado"))) }
                } }
                tbody {
                    @for r in &receipts {
                        tr {
                            td { a href={ "/staff/receipts/" (r.receipt_number) } { (r.receipt_number) } }
                            td { (amount(lang, r.total)) @if let Some(local) = r.local_amount { br; (amount(lang, local)) } }
                            td { (method_name(lang, r.method)) }
                            td { @if r.voided { strong { (lang.t(("Void", "Anulado"))) } } @else { (lang.t(("Valid", "Vigente"))) } }
                        }
                    }
                }
            }
            @if receipts.is_empty() { p { (lang.t(("No receipts yet.", "Aún no hay recibos."))) } }
            p { (back_link(lang, staff.role)) }
            (sign_out_button(lang, csrf))
        }
    }))
}
