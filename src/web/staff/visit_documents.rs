//! A visit's documents moved along their state machine, their tracking slips, and the
//! notarial register.

use super::*;
use crate::http::HttpError;
use crate::web::extract::{carries_csrf, CsrfForm, StaffPage};
use crate::web::i18n::PageLang;

/// The page after recording a document names it (`?recorded=`), to print its slip at once.
#[derive(Deserialize)]
pub struct RecordedQuery {
    recorded: Option<String>,
}

/// The documents taken at a visit, each with the states it may move to next.
#[get("/staff/visits/{reference}/documents")]
pub async fn documents(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: web::Path<String>,
    query: web::Query<RecordedQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
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
    let recorded = query.into_inner().recorded.and_then(|n| list.iter().find(|d| d.tracking_number == n));
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            @if let Some(doc) = recorded {
                p.notice role="status" {
                    (lang.t(("Recorded", "Registrado"))) " " strong { (doc.tracking_number) } ". "
                    a href={ "/staff/documents/" (doc.tracking_number) "/slip.pdf" } {
                        (lang.t(("Print tracking slip", "Imprimir comprobante de seguimiento")))
                        span.visually-hidden { " " (doc.tracking_number) }
                    }
                }
            }
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
                    h2 { a href={ "/staff/documents/" (doc.tracking_number) } { (doc.tracking_number) } " · " (names::document_kind(lang, doc.kind)) }
                    p { (lang.t(("Status", "Estado"))) ": " strong { (names::document_status(lang, doc.status)) } }
                    p { a href={ "/staff/documents/" (doc.tracking_number) "/slip.pdf" } {
                        (lang.t(("Print tracking slip", "Imprimir comprobante de seguimiento")))
                        span.visually-hidden { " " (doc.tracking_number) }
                    } }
                    @if doc.status == Status::ReadyForPickup {
                        p { a href={ "/staff/documents/" (doc.tracking_number) } {
                            (lang.t(("Hand over (record who collects it)", "Entregar (registrar quién lo recoge)")))
                            span.visually-hidden { " " (doc.tracking_number) }
                        } }
                    }
                    // Delivered only through the handover, which records who collected it.
                    @let next: Vec<Status> = tracking::states(doc.kind).into_iter().filter(|s| tracking::allowed(doc.kind, doc.status, *s) && *s != Status::Delivered).collect();
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

/// A document's tracking slip (PDF), for staff of its post.
#[get("/staff/documents/{tracking}/slip.pdf")]
pub async fn slip_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    number: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let Some(tracking) = TrackingNumber::parse(&number) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    match crate::pdf::slip::printed(
        &state.pool,
        &state.templates,
        &state.settings.public_url,
        staff.actor(),
        tracking,
    )
    .await
    {
        Ok((pdf, name)) => Ok(crate::http::pdf_response(pdf, &name)),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    back: String,
    to: String,
    note: Option<String>,
}

carries_csrf!(MoveForm);

#[post("/staff/documents/{tracking}/move")]
pub async fn move_document(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    number: web::Path<String>,
    form: CsrfForm<MoveForm>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let lang = clerk.lang;
    let MoveForm { back, to, note, .. } = form.into_inner();
    let (Some(tracking), Some(to)) = (TrackingNumber::parse(&number), Status::parse(&to)) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let request = TransitionRequest { to, note: note.filter(|n| !n.trim().is_empty()) };
    let actor = clerk.actor();
    let done = state.db(move |conn| records::transition(conn, &actor, &tracking, &request, now)).await;
    match done {
        // From the document's own page, back to it.
        Ok(doc) if back == "document" => Ok(redirect(&format!("/staff/documents/{}", doc.tracking_number))),
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
    staff: StaffPage<AnyStaff>,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    use chrono::Datelike;
    let lang = staff.lang;
    let RegisterQuery { from, to, post, format } = query.into_inner();
    let post = post_of(&staff, post);
    let may_correct = ClerkPlus::admits(staff.role);
    let actor = staff.actor();
    let found = state
        .db(move |conn| {
            let today = calendar::local_date(now, calendar::post_zone(conn, &post)?);
            let from = from.unwrap_or_else(|| today.with_day(1).unwrap_or(today));
            crate::documents::register::list(conn, &actor, &post, from, to.unwrap_or(today))
        })
        .await;
    let book = match found {
        Ok(book) => book,
        Err(e) => return refused(&req, lang, e),
    };
    if format.as_deref() == Some("csv") {
        return Ok(crate::http::register_csv(&book));
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
                        tr #(e.entry_number) {
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
