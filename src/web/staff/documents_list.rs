//! The post's documents by state (everything ready for pickup, say), one document's page with
//! its history, slip and moves, and the handover that records who collected it.

use super::*;
use crate::documents::records::{Collector, DocumentView, HandoverRequest, IdType};
use crate::http::HttpError;
use crate::web::extract::{carries_csrf, CsrfForm, StaffPage};
use crate::web::i18n::PageLang;

/// `?state=` (a document state; every state when empty) and `?post=` (for staff bound to none).
#[derive(Deserialize)]
pub struct DocumentsQuery {
    state: Option<String>,
    post: Option<String>,
}

fn id_type_name(lang: Lang, id_type: IdType) -> &'static str {
    lang.t(match id_type {
        IdType::Passport => ("Passport", "Pasaporte"),
        IdType::VoterCard => ("Voter card (INE)", "Credencial para votar (INE)"),
        IdType::DrivingLicence => ("Driving licence", "Licencia de conducir"),
        IdType::Other => ("Other official ID", "Otra identificación oficial"),
    })
}

fn not_found(req: &HttpRequest, lang: Lang) -> HttpResponse {
    said(req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró.")))
}

/// The post's documents, in one state or all, the longest waiting first.
#[get("/staff/documents")]
pub async fn documents_at_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    query: web::Query<DocumentsQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let DocumentsQuery { state: wanted, post } = query.into_inner();
    let wanted = wanted.filter(|s| !s.is_empty());
    let status = match wanted.as_deref().map(Status::parse) {
        Some(None) => return Ok(not_found(&req, lang)),
        Some(Some(status)) => Some(status),
        None => None,
    };
    let post = post_of(&staff, post);
    let (actor, bound, at) = (staff.actor(), staff.post.is_some(), post.clone());
    let found = state
        .db(move |conn| {
            use crate::db::schema::posts;
            use diesel::prelude::*;
            let posts: Vec<(String, String)> = if bound {
                Vec::new()
            } else {
                posts::table.order(posts::code).select((posts::code, posts::name)).load(conn)?
            };
            Ok((records::at_post(conn, &actor, &at, status)?, posts))
        })
        .await;
    let (list, posts) = match found {
        Ok(found) => found,
        Err(e) => return refused(&req, lang, e),
    };
    let heading = match status {
        Some(s) => format!(
            "{} · {} · {}",
            lang.t(("Documents", "Documentos")),
            names::document_status(lang, s),
            post
        ),
        None => format!("{} · {}", lang.t(("Documents", "Documentos")), post),
    };
    Ok(form_page(&req, StatusCode::OK, lang, &heading, "/staff/documents", |csrf| {
        html! {
            form method="get" action="/staff/documents" {
                @if !posts.is_empty() {
                    label for="post" { (lang.t(("Post", "Sede"))) }
                    select #post name="post" {
                        @for (code, name) in &posts { option value=(code) selected[*code == post] { (name) " (" (code) ")" } }
                    }
                }
                label for="state" { (lang.t(("State", "Estado"))) }
                select #state name="state" {
                    option value="" selected[status.is_none()] { (lang.t(("Every state", "Todos los estados"))) }
                    @for s in Status::ALL {
                        option value=(s.as_str()) selected[status == Some(*s)] { (names::document_status(lang, *s)) }
                    }
                }
                button type="submit" { (lang.t(("Show", "Mostrar"))) }
            }
            @if list.is_empty() {
                p #none { (lang.t(("No documents in that state at this post.", "No hay documentos en ese estado en esta sede."))) }
            } @else {
                table #documents {
                    caption.visually-hidden { (heading) }
                    thead { tr {
                        th scope="col" { (lang.t(("Name", "Nombre"))) }
                        th scope="col" { (lang.t(("Tracking number", "Número de seguimiento"))) }
                        th scope="col" { (lang.t(("Kind", "Tipo"))) }
                        th scope="col" { (lang.t(("State", "Estado"))) }
                        th scope="col" { (lang.t(("Since", "Desde"))) }
                    } }
                    tbody {
                        @for d in &list {
                            tr {
                                td { (d.person) }
                                td { a href={ "/staff/documents/" (d.tracking_number) } { (d.tracking_number) } }
                                td { (names::document_kind(lang, d.kind)) }
                                td { (names::document_status(lang, d.status)) }
                                td { (lang.date_time(&d.since)) }
                            }
                        }
                    }
                }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

/// What a refused handover brings back: what was typed, and the errors by field.
#[derive(Default)]
struct HandoverTyped {
    collector: String,
    name: String,
    id_type: String,
    id_last4: String,
    note: String,
    errors: Vec<(String, String)>,
}

impl HandoverTyped {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, e)| e.as_str())
    }
}

/// The words for a handover field's error, in the page's language; never the API's.
fn handover_error(lang: Lang, field: &str) -> String {
    lang.t(match field {
        "collector" => ("Say who collects it.", "Indique quién lo recoge."),
        "name" => (
            "Write the full name of whoever collects it (up to 200 characters).",
            "Escriba el nombre completo de quien lo recoge (hasta 200 caracteres).",
        ),
        "id_type" => ("Choose the ID they showed.", "Elija la identificación que mostró."),
        "id_last4" => (
            "Write the last four letters or digits of the ID.",
            "Escriba los últimos cuatro caracteres de la identificación.",
        ),
        "note" => ("A note is up to 500 characters.", "Una nota tiene hasta 500 caracteres."),
        _ => ("Check this.", "Revise este dato."),
    })
    .to_string()
}

fn document_page(
    req: &HttpRequest,
    status: StatusCode,
    lang: Lang,
    may_move: bool,
    doc: &DocumentView,
    typed: &HandoverTyped,
) -> HttpResponse {
    let title = format!("{} · {}", doc.tracking_number, names::document_kind(lang, doc.kind));
    let next: Vec<Status> = tracking::states(doc.kind)
        .into_iter()
        .filter(|s| tracking::allowed(doc.kind, doc.status, *s) && *s != Status::Delivered)
        .collect();
    let ready = doc.status == Status::ReadyForPickup;
    form_page(req, status, lang, &title, "/staff/documents", |csrf| {
        html! {
            @if let Some(general) = typed.error("form") { p.error role="alert" { (general) } }
            dl {
                dt { (lang.t(("Name", "Nombre"))) } dd #person { (doc.person) }
                dt { (lang.t(("Tracking number", "Número de seguimiento"))) } dd { (doc.tracking_number) }
                dt { (lang.t(("Kind", "Tipo"))) } dd { (names::document_kind(lang, doc.kind)) }
                dt { (lang.t(("State", "Estado"))) } dd #status { (names::document_status(lang, doc.status)) }
                dt { (lang.t(("Visit", "Cita"))) } dd { a href={ "/staff/visits/" (doc.reference) "/documents" } { (doc.reference) } }
            }
            p { a href={ "/staff/documents/" (doc.tracking_number) "/slip.pdf" } {
                (lang.t(("Print tracking slip", "Imprimir comprobante de seguimiento")))
                span.visually-hidden { " " (doc.tracking_number) }
            } }
            h2 { (lang.t(("History", "Historial"))) }
            table #history {
                caption.visually-hidden { (lang.t(("History", "Historial"))) }
                thead { tr {
                    th scope="col" { (lang.t(("State", "Estado"))) }
                    th scope="col" { (lang.t(("When", "Cuándo"))) }
                    th scope="col" { (lang.t(("Staff", "Personal"))) }
                    th scope="col" { (lang.t(("Note", "Nota"))) }
                } }
                tbody {
                    @for step in &doc.history {
                        tr {
                            td { (names::document_status(lang, step.status)) }
                            td { (lang.date_time(&step.at)) }
                            td { (step.staff.as_deref().unwrap_or("")) }
                            td {
                                @if step.status == Status::Delivered {
                                    @if let Some(h) = &doc.handover {
                                        p.handover {
                                            (lang.t(("Collected by", "Recogido por"))) " "
                                            @match h.collector {
                                                Collector::Applicant => { (lang.t(("the applicant themself", "el propio solicitante"))) }
                                                Collector::SomeoneElse => { (h.name.as_deref().unwrap_or("")) }
                                            }
                                            @if let (Some(t), Some(l)) = (h.id_type, &h.id_last4) { " · " (id_type_name(lang, t)) " ···" (l) }
                                        }
                                    }
                                }
                                (step.note.as_deref().unwrap_or(""))
                            }
                        }
                    }
                }
            }
            @if may_move && ready {
                h2 { (lang.t(("Hand over", "Entregar"))) }
                form method="post" action={ "/staff/documents/" (doc.tracking_number) "/handover" } {
                    input type="hidden" name="csrf" value=(csrf);
                    fieldset {
                        legend { (lang.t(("Who collects it?", "¿Quién lo recoge?"))) }
                        @if let Some(e) = typed.error("collector") { p.error #collector-error { (e) } }
                        div {
                            input #collector-applicant type="radio" name="collector" value="applicant" checked[typed.collector != "someone_else"];
                            label.inline for="collector-applicant" { (lang.t(("The applicant themself", "El propio solicitante"))) }
                        }
                        div {
                            input #collector-someone type="radio" name="collector" value="someone_else" checked[typed.collector == "someone_else"];
                            label.inline for="collector-someone" { (lang.t(("Someone else (name and ID below)", "Otra persona (nombre e identificación abajo)"))) }
                        }
                    }
                    (text_field(lang, "name", ("Full name of whoever collects it", "Nombre completo de quien lo recoge"), &typed.name, "200", typed))
                    label for="id_type" { (lang.t(("ID shown", "Identificación mostrada"))) }
                    @if let Some(e) = typed.error("id_type") { p.error #id_type-error { (e) } }
                    select #id_type name="id_type" aria-invalid=[typed.error("id_type").map(|_| "true")] aria-describedby=[typed.error("id_type").map(|_| "id_type-error")] {
                        option value="" selected[typed.id_type.is_empty()] { (lang.t(("None (the applicant is known)", "Ninguna (se conoce al solicitante)"))) }
                        @for t in IdType::ALL { option value=(t.as_str()) selected[typed.id_type == t.as_str()] { (id_type_name(lang, t)) } }
                    }
                    (text_field(lang, "id_last4", ("Last four letters or digits of the ID", "Últimos cuatro caracteres de la identificación"), &typed.id_last4, "4", typed))
                    (text_field(lang, "note", ("Note (optional)", "Nota (opcional)"), &typed.note, "500", typed))
                    button type="submit" { (lang.t(("Hand over", "Entregar"))) " " (doc.tracking_number) }
                }
            }
            @if may_move && !next.is_empty() {
                h2 { (lang.t(("Move", "Pasar"))) }
                form method="post" action={ "/staff/documents/" (doc.tracking_number) "/move" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="back" value="document";
                    label for="to" { (lang.t(("Move to", "Pasar a"))) }
                    select #to name="to" { @for s in &next { option value=(s.as_str()) { (names::document_status(lang, *s)) } } }
                    label for="move-note" { (lang.t(("Note (optional)", "Nota (opcional)"))) }
                    input #move-note name="note" type="text" maxlength="500";
                    button type="submit" { (lang.t(("Move", "Pasar"))) " " (doc.tracking_number) }
                }
            }
            p { a href="/staff/documents?state=ready_for_pickup" { (lang.t(("Documents ready for pickup", "Documentos listos para recoger"))) } }
            (sign_out_button(lang, csrf))
        }
    })
}

/// A text input with its label, the error beside it and what was typed.
fn text_field(lang: Lang, name: &str, label: Text, value: &str, max: &str, typed: &HandoverTyped) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        label for=(name) { (lang.t(label)) }
        @if let Some(e) = typed.error(name) {
            p.error id=(error_id) { (e) }
            input id=(name) name=(name) type="text" maxlength=(max) value=(value) aria-invalid="true" aria-describedby=(error_id);
        } @else {
            input id=(name) name=(name) type="text" maxlength=(max) value=(value);
        }
    }
}

async fn load_document(
    state: &AppState,
    actor: crate::auth::Actor,
    tracking: TrackingNumber,
) -> Result<DocumentView, AppError> {
    state.db(move |conn| records::show(conn, &actor, &tracking)).await
}

/// A document with its history, its slip, its moves and, when it is ready for pickup, the
/// handover. Another post's document is the same 404 as a number never issued.
#[get("/staff/documents/{tracking}")]
pub async fn document(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    number: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let Some(tracking) = TrackingNumber::parse(&number) else {
        return Ok(not_found(&req, lang));
    };
    match load_document(&state, staff.actor(), tracking).await {
        Ok(doc) => Ok(document_page(
            &req,
            StatusCode::OK,
            lang,
            ClerkPlus::admits(staff.role),
            &doc,
            &HandoverTyped::default(),
        )),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct HandoverForm {
    csrf: String,
    collector: Option<String>,
    name: Option<String>,
    id_type: Option<String>,
    id_last4: Option<String>,
    note: Option<String>,
}

carries_csrf!(HandoverForm);

#[post("/staff/documents/{tracking}/handover")]
pub async fn hand_over(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    number: web::Path<String>,
    form: CsrfForm<HandoverForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
    let form = form.into_inner();
    let Some(tracking) = TrackingNumber::parse(&number) else {
        return Ok(not_found(&req, lang));
    };
    let mut typed = HandoverTyped {
        collector: form.collector.clone().unwrap_or_default(),
        name: form.name.clone().unwrap_or_default(),
        id_type: form.id_type.clone().unwrap_or_default(),
        id_last4: form.id_last4.clone().unwrap_or_default(),
        note: form.note.clone().unwrap_or_default(),
        errors: Vec::new(),
    };
    let collector = match typed.collector.as_str() {
        "applicant" => Some(Collector::Applicant),
        "someone_else" => Some(Collector::SomeoneElse),
        _ => None,
    };
    let id_type = match typed.id_type.as_str() {
        "" => None,
        other => match IdType::parse(other) {
            Some(t) => Some(t),
            None => {
                typed.errors.push(("id_type".into(), handover_error(lang, "id_type")));
                None
            }
        },
    };
    let blank = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let done = match (collector, typed.errors.is_empty()) {
        (Some(collector), true) => {
            let request = HandoverRequest {
                collector,
                name: blank(&typed.name),
                id_type,
                id_last4: blank(&typed.id_last4),
                note: blank(&typed.note),
            };
            let (actor, tracking, now) = (clerk.actor(), tracking.clone(), state.clock.naive());
            state.db(move |conn| records::handover(conn, &actor, &tracking, &request, now)).await
        }
        (None, _) => {
            typed.errors.push(("collector".into(), handover_error(lang, "collector")));
            Err(AppError::invalid(Vec::new()))
        }
        (Some(_), false) => Err(AppError::invalid(Vec::new())),
    };
    let status = match done {
        Ok(doc) => return Ok(redirect(&format!("/staff/documents/{}", doc.tracking_number))),
        Err(AppError::Validation { errors, .. }) => {
            for e in errors {
                let field = e.field.clone();
                typed.errors.push((field.clone(), handover_error(lang, &field)));
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e) if matches!(e.code(), Code::InvalidTransition | Code::DocumentChanged) => {
            typed.errors.push((
                "form".into(),
                lang.t((
                    "This document is no longer ready for pickup: it was handed over or moved meanwhile.",
                    "Este documento ya no está listo para recoger: se entregó o se movió mientras tanto.",
                ))
                .to_string(),
            ));
            StatusCode::CONFLICT
        }
        Err(e) => return refused(&req, lang, e),
    };
    match load_document(&state, clerk.actor(), tracking).await {
        Ok(doc) => Ok(document_page(&req, status, lang, true, &doc, &typed)),
        Err(e) => refused(&req, lang, e),
    }
}
