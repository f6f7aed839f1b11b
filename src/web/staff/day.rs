//! The post's day board: check-in, walk-ins (routine or emergency), calling the next ticket to
//! the clerk's window, and finishing each called visit (complete, no-show, recall) on its row.
//! The clerk's window is remembered for the session in its own cookie.

use super::*;

use crate::booking::status::AppointmentStatus;
use crate::error::FieldError;
use crate::http::HttpError;
use crate::web::extract::{carries_csrf, remembered_window, CsrfForm, StaffPage, WINDOW_COOKIE};
use crate::web::i18n::PageLang;
use crate::window::rules::{self as window_rules, WalkIn};
use crate::window::visits::{self, DayBoard, VisitView};

fn local_time(rfc3339: &str) -> &str {
    rfc3339.get(11..16).unwrap_or("")
}

/// The cookie remembering `window` for this session (it ends with the browser): HttpOnly,
/// SameSite=Strict, scoped to `/staff`, so every board and call offers the window the clerk
/// last used instead of window 1, and the header shows it.
fn window_cookie(req: &HttpRequest, window: &str) -> Cookie<'static> {
    Cookie::build(WINDOW_COOKIE, window.to_string())
        .path("/staff")
        .http_only(true)
        .secure(session::over_tls(req))
        .same_site(SameSite::Strict)
        .finish()
}

/// A 303 to `to` that also remembers the clerk's window.
fn redirect_at_window(req: &HttpRequest, to: &str, window: &str) -> HttpResponse {
    let mut response = redirect(to);
    let _ = response.add_cookie(&window_cookie(req, window));
    response
}

/// What the board says after a step: the visit just ticketed (to print its ticket) or just
/// called (which ticket went to which window), by reference.
#[derive(Deserialize)]
pub struct JustDone {
    ticket: Option<String>,
    called: Option<String>,
}

/// Where a check-in or walk-in leads: the board of the visit's post, offering its ticket.
fn ticketed(visit: &VisitView) -> String {
    format!("/staff?post={}&ticket={}", visit.post, visit.reference)
}

/// Where a call or recall leads: the board, saying where the ticket went.
fn called(visit: &VisitView) -> String {
    format!("/staff?post={}&called={}", visit.post, visit.reference)
}

/// The board of `post`, for pages that lead back to it.
fn board_of(post: &str) -> String {
    format!("/staff?post={post}")
}

/// A walk-in form as typed, with what was wrong, to show again.
#[derive(Default)]
struct WalkInTyped {
    service: String,
    kind: String,
    given_names: String,
    surname: String,
    note: String,
    errors: Vec<FieldError>,
}

impl WalkInTyped {
    /// The error of a form field, in `lang`. The rules name the API's fields; the page's
    /// `kind` select carries both the kind and the emergency's reason.
    fn error(&self, lang: Lang, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| {
                let page_field = match e.field.as_str() {
                    "reason" | "kind" => "kind",
                    "applicant.given_names" => "given_names",
                    "applicant.surname" => "surname",
                    other => other,
                };
                page_field == field
            })
            .map(|e| lang.rule(&e.rule))
    }

    /// Errors of no field on the form (the applicant as a whole, say).
    fn general(&self, lang: Lang) -> Vec<String> {
        let known = ["service", "kind", "reason", "note", "applicant.given_names", "applicant.surname"];
        self.errors
            .iter()
            .filter(|e| !known.contains(&e.field.as_str()))
            .map(|e| lang.rule(&e.rule))
            .collect()
    }
}

/// What the board shows besides the day's visits.
#[derive(Default)]
struct Extras {
    /// A refusal or outcome to say at the top (role=alert).
    alert: Option<String>,
    /// The visit the clerk's window still holds, when a call was refused for it.
    busy: Option<String>,
    /// The walk-in form sent back with its errors (the form opens).
    walk_in: Option<WalkInTyped>,
}

/// Reads the board of `post` (today by default) for `clerk`.
async fn read_board(
    state: &AppState,
    clerk: &Staff<ClerkPlus>,
    post: String,
    date: Option<NaiveDate>,
) -> Result<DayBoard, AppError> {
    let now = state.clock.naive();
    let reader = (**clerk).clone();
    state
        .db(move |conn| {
            let date = match date {
                Some(date) => date,
                None => calendar::local_date(now, calendar::post_zone(conn, &post)?),
            };
            visits::day_board(conn, &reader, &post, date)
        })
        .await
}

#[get("/staff")]
pub async fn board(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    query: web::Query<BoardQuery>,
    just: web::Query<JustDone>,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
    let BoardQuery { post, date } = query.into_inner();
    let post = post_of(&clerk, post);
    let today = match read_board(&state, &clerk, post, date).await {
        Ok(today) => today,
        Err(e) if matches!(e.code(), Code::NotFound | Code::WrongPost) => {
            return Ok(said(&req, StatusCode::NOT_FOUND, lang, &refusal(lang, &e)))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(render(&req, lang, &clerk, &today, StatusCode::OK, &just.into_inner(), Extras::default()))
}

/// The board page: the clerk's window, what just happened, calling the next ticket, the
/// walk-in form and the day's visits with each one's next steps.
fn render(
    req: &HttpRequest,
    lang: Lang,
    clerk: &Staff<ClerkPlus>,
    day: &DayBoard,
    status: StatusCode,
    just: &JustDone,
    extras: Extras,
) -> HttpResponse {
    let title = format!("{} · {}", lang.t(("Day board", "Tablero del día")), day.post);
    let find = |reference: &Option<String>| {
        day.visits.iter().find(|v| Some(&v.reference) == reference.as_ref() && v.ticket.is_some())
    };
    let just_ticketed = find(&just.ticket);
    let just_called = find(&just.called).filter(|v| v.window.is_some());
    let busy = find(&extras.busy);
    let window = remembered_window(req);
    let walk_form = extras.walk_in.unwrap_or_default();
    let walk_in_open = !walk_form.errors.is_empty();
    form_page(req, status, lang, &title, "/staff", |csrf| {
        html! {
            p #my-window {
                @if let Some(window) = &window {
                    (lang.t(("Your window:", "Su ventanilla:"))) " " strong { (window) }
                } @else {
                    (lang.t(("No window chosen yet: call the next ticket to yours.", "Aún no eligió ventanilla: llame al siguiente turno a la suya.")))
                }
                " · " (lang.date(day.date)) " · " (lang.t(("Signed in as", "Sesión de"))) " " strong { (clerk.username) }
            }
            @if let Some(alert) = &extras.alert {
                p.error role="alert" { (alert) }
            }
            @if let Some(visit) = busy {
                div.notice #busy {
                    p { (busy_text(lang, visit)) }
                    (finish_buttons(lang, csrf, visit))
                }
            }
            @if let Some(visit) = just_called {
                p.notice role="status" #called { (called_text(lang, visit)) }
            }
            @if let Some(visit) = just_ticketed {
                p.notice role="status" {
                    (lang.t(("Ticket", "Turno"))) " " strong { (visit.ticket.as_deref().unwrap_or("")) } ". "
                    a href={ "/staff/visits/" (visit.reference) "/ticket.pdf" } {
                        (lang.t(("Print ticket", "Imprimir turno")))
                        span.visually-hidden { " " (visit.ticket.as_deref().unwrap_or("")) }
                    }
                }
            }
            form method="post" action="/staff/call-next" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name=(once::FIELD) value=(once::token());
                input type="hidden" name="post" value=(day.post);
                label for="window" { (lang.t(("Window", "Ventanilla"))) }
                input #window name="window" type="text" inputmode="numeric" maxlength="20" value=(window.as_deref().unwrap_or("")) required;
                button type="submit" { (lang.t(("Call the next ticket", "Llamar al siguiente turno"))) }
            }
            details open[walk_in_open] {
                summary { (lang.t(("Record a walk-in (no appointment)", "Registrar una visita sin cita"))) }
                (walk_in_form(lang, csrf, &day.post, &walk_form))
            }
            @if matches!(clerk.role, Role::Supervisor | Role::Admin) {
                p { a href={ "/staff/not-served?post=" (day.post) } { (lang.t(("People not served at closing", "Personas no atendidas al cierre"))) } }
            }
            table #board data-refresh="20" {
                caption { (lang.t(("Today's visits (refreshes every 20 seconds)", "Visitas de hoy (se actualiza cada 20 segundos)"))) }
                thead { tr {
                    th scope="col" { (lang.t(("Time", "Hora"))) }
                    th scope="col" { (lang.t(("Ticket", "Turno"))) }
                    th scope="col" { (lang.t(("Reference", "Referencia"))) }
                    th scope="col" { (lang.t(("People", "Personas"))) }
                    th scope="col" { (lang.t(("Service", "Servicio"))) }
                    th scope="col" { (lang.t(("Status", "Estado"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                } }
                tbody {
                    @for visit in &day.visits {
                        @let people = visit.applicants.iter().map(|p| format!("{} {}", p.given_names, p.surname)).collect::<Vec<_>>().join(", ");
                        tr {
                            td { (local_time(&visit.starts_at)) }
                            td {
                                (visit.ticket.as_deref().unwrap_or(""))
                                @if let Some(w) = &visit.window { " → " (w) }
                                @if let Some(reason) = visit.walk_in_reason.as_deref().filter(|r| window_rules::is_emergency_reason(r)) {
                                    br; small { (lang.t(window_rules::emergency_words(reason).unwrap_or(("Emergency", "Emergencia")))) }
                                }
                            }
                            td { (visit.reference) }
                            td { (people) }
                            td { (names::service(lang, &visit.service)) }
                            td { (names::appointment_status(lang, visit.status)) }
                            td {
                                @if visit.status == AppointmentStatus::Booked {
                                    form method="post" action={ "/staff/visits/" (visit.reference) "/check-in" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" aria-label={ (lang.t(("Check in", "Registrar llegada"))) " " (people) } { (lang.t(("Check in", "Registrar llegada"))) }
                                    }
                                } @else if visit.status == AppointmentStatus::CheckedIn {
                                    a href={ "/staff/visits/" (visit.reference) "/ticket.pdf" } { (lang.t(("Print ticket", "Imprimir turno"))) span.visually-hidden { " " (people) } }
                                } @else if matches!(visit.status, AppointmentStatus::Called | AppointmentStatus::InService) {
                                    a href={ "/staff/visits/" (visit.reference) "/fee" } { (lang.t(("Record a fee", "Registrar un pago"))) span.visually-hidden { " " (people) } }
                                    " · "
                                    a href={ "/staff/visits/" (visit.reference) "/documents" } { (lang.t(("Documents", "Documentos"))) span.visually-hidden { " " (people) } }
                                    " · "
                                    a href={ "/staff/visits/" (visit.reference) "/intake" } { (lang.t(("Intake", "Solicitudes"))) span.visually-hidden { " " (people) } }
                                    (finish_buttons(lang, csrf, visit))
                                } @else if visit.status == AppointmentStatus::Completed {
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
    })
}

/// "E-002 called to window 3".
fn called_text(lang: Lang, visit: &VisitView) -> String {
    let (ticket, window) = (visit.ticket.as_deref().unwrap_or(""), visit.window.as_deref().unwrap_or(""));
    match lang {
        Lang::En => format!("{ticket} called to window {window}."),
        Lang::Es => format!("{ticket} llamado a la ventanilla {window}."),
    }
}

/// Why the next ticket was not called: the window still holds a visit.
fn busy_text(lang: Lang, visit: &VisitView) -> String {
    let (ticket, window) = (visit.ticket.as_deref().unwrap_or(""), visit.window.as_deref().unwrap_or(""));
    match lang {
        Lang::En => format!(
            "Window {window} still has {ticket}. Finish it first: complete it, mark it a no-show or recall it, then call the next ticket."
        ),
        Lang::Es => format!(
            "La ventanilla {window} aún tiene el turno {ticket}. Termínelo primero: concluya la visita, márquela como no presentada o vuelva a llamarla; luego llame al siguiente turno."
        ),
    }
}

/// Complete, No-show and Recall (to this or another window) for a called visit; only
/// Complete for one being served.
fn finish_buttons(lang: Lang, csrf: &str, visit: &VisitView) -> Markup {
    let ticket = visit.ticket.as_deref().unwrap_or("");
    let recall_id = format!("recall-{}", visit.reference);
    html! {
        form method="post" action={ "/staff/visits/" (visit.reference) "/complete" } {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (lang.t(("Complete", "Concluir"))) span.visually-hidden { " " (ticket) } }
        }
        @if visit.status == AppointmentStatus::Called {
            form method="post" action={ "/staff/visits/" (visit.reference) "/no-show" } {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { (lang.t(("No-show", "No se presentó"))) span.visually-hidden { " " (ticket) } }
            }
            form method="post" action={ "/staff/visits/" (visit.reference) "/recall" } {
                input type="hidden" name="csrf" value=(csrf);
                label for=(recall_id) { (lang.t(("Recall to window", "Volver a llamar a la ventanilla"))) span.visually-hidden { " " (ticket) } }
                input id=(recall_id) name="window" type="text" inputmode="numeric" maxlength="20" size="4" value=(visit.window.as_deref().unwrap_or("")) required;
                button type="submit" { (lang.t(("Recall", "Volver a llamar"))) span.visually-hidden { " " (ticket) } }
            }
        }
    }
}

/// The walk-in form: the service, routine or one of the emergencies, the person, a note.
fn walk_in_form(lang: Lang, csrf: &str, post: &str, typed: &WalkInTyped) -> Markup {
    let field = |name: &str| typed.error(lang, name);
    let described = |name: &str| field(name).map(|_| format!("walk-{name}-error"));
    html! {
        form method="post" action="/staff/walk-ins" novalidate {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name=(once::FIELD) value=(once::token());
            input type="hidden" name="post" value=(post);
            @for general in typed.general(lang) { p.error role="alert" { (general) } }
            label for="walk_service" { (lang.t(("Service", "Servicio"))) }
            @if let Some(e) = field("service") { p.error #walk-service-error { (e) } }
            select #walk_service name="service" aria-describedby=[described("service")] {
                @for code in ["passport-new", "passport-renewal", "passport-correction", "crba", "notarial"] {
                    option value=(code) selected[typed.service == code] { (names::service(lang, code)) }
                }
            }
            label for="walk_kind" { (lang.t(("Kind", "Tipo"))) }
            @if let Some(e) = field("kind") { p.error #walk-kind-error { (e) } }
            select #walk_kind name="kind" aria-describedby=[described("kind")] {
                option value="routine" selected[typed.kind.is_empty() || typed.kind == "routine"] {
                    (lang.t(("Routine: waits in its service's line", "Ordinaria: espera en la fila de su servicio")))
                }
                optgroup label=(lang.t(("Emergency: an E ticket, called first", "Emergencia: turno E, se llama primero"))) {
                    @for (code, words) in window_rules::EMERGENCY_REASONS {
                        option value=(code) selected[typed.kind == code] { (lang.t(words)) }
                    }
                }
            }
            label for="walk_given" { (lang.t(("Given names", "Nombre(s)"))) }
            @if let Some(e) = field("given_names") { p.error #walk-given_names-error { (e) } }
            input #walk_given name="given_names" type="text" maxlength="200" autocomplete="off" required value=(typed.given_names)
                aria-invalid=[field("given_names").map(|_| "true")] aria-describedby=[described("given_names")];
            label for="walk_surname" { (lang.t(("Surnames", "Apellidos"))) }
            @if let Some(e) = field("surname") { p.error #walk-surname-error { (e) } }
            input #walk_surname name="surname" type="text" maxlength="200" autocomplete="off" required value=(typed.surname)
                aria-invalid=[field("surname").map(|_| "true")] aria-describedby=[described("surname")];
            label for="walk_note" { (lang.t(("Note (optional)", "Nota (opcional)"))) }
            @if let Some(e) = field("note") { p.error #walk-note-error { (e) } }
            input #walk_note name="note" type="text" maxlength="500" value=(typed.note)
                aria-invalid=[field("note").map(|_| "true")] aria-describedby=[described("note")];
            button type="submit" { (lang.t(("Record the walk-in and give a ticket", "Registrar la visita y dar un turno"))) }
        }
    }
}

/// A check-in's refusal in words; one refused as too early says when check-in opens.
fn check_in_refusal(lang: Lang, e: &AppError) -> String {
    match visits::check_in_opens(e) {
        Some(time) => match lang {
            Lang::En => format!("Check-in opens at {time}."),
            Lang::Es => format!("El registro de llegada abre a las {time}."),
        },
        None => refusal(lang, e),
    }
}

#[post("/staff/visits/{reference}/check-in")]
pub async fn check_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: web::Path<String>,
    _form: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
    let Some(reference) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let (settings, actor) = (state.settings.window.clone(), clerk.actor());
    let now = state.clock.naive();
    let done = state.db(move |conn| visits::check_in(conn, &settings, &actor, &reference, None, now)).await;
    match done {
        Ok(visit) => Ok(redirect(&ticketed(&visit))),
        Err(e) if e.code().status() < 500 => {
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::CONFLICT);
            Ok(said(&req, status, lang, &check_in_refusal(lang, &e)))
        }
        Err(e) => Err(e.into()),
    }
}

/// A visit's queue ticket (PDF, 80 mm wide), for staff of its post.
#[get("/staff/visits/{reference}/ticket.pdf")]
pub async fn ticket_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let Some(reference) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    match crate::pdf::ticket::printed(&state.pool, &state.templates, staff.actor(), reference).await {
        Ok((pdf, name)) => Ok(crate::http::pdf_response(pdf, &name)),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct CallForm {
    csrf: String,
    #[serde(default)]
    once: String,
    post: String,
    window: String,
}

#[post("/staff/call-next")]
pub async fn call_next(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    form: CsrfForm<CallForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
    let CallForm { once: token, post, window, .. } = form.into_inner();
    if !once::well_formed(&token) {
        return Ok(expired(&req, lang));
    }
    let label = match crate::booking::free_text("window", &window, 20) {
        Ok(label) => label,
        Err(_) => {
            let text = lang.t(("Type your window's number.", "Escriba el número de su ventanilla."));
            return Ok(said(&req, StatusCode::UNPROCESSABLE_ENTITY, lang, text));
        }
    };
    let (actor, post) = (clerk.actor(), crate::reference::normalise_post(&post));
    let now = state.clock.naive();
    // Once per rendering: a double click calls one ticket, not the next two.
    let (to, at) = (label.clone(), post.clone());
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                let visit = visits::call_next(c, &actor, &at, &to, now)?;
                Ok(called(&visit))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect_at_window(&req, &led_to, &label)),
        Err(e) if matches!(e.code(), Code::WindowBusy | Code::QueueEmpty) => {
            let today = read_board(&state, &clerk, post, None).await?;
            let busy = today
                .visits
                .iter()
                .find(|v| {
                    v.window.as_deref() == Some(label.as_str())
                        && matches!(v.status, AppointmentStatus::Called | AppointmentStatus::InService)
                })
                .map(|v| v.reference.clone());
            let extras = match busy {
                Some(reference) if e.code() == Code::WindowBusy => {
                    Extras { busy: Some(reference), ..Extras::default() }
                }
                _ => Extras { alert: Some(refusal(lang, &e)), ..Extras::default() },
            };
            let just = JustDone { ticket: None, called: None };
            let mut page = render(&req, lang, &clerk, &today, StatusCode::CONFLICT, &just, extras);
            let _ = page.add_cookie(&window_cookie(&req, &label));
            Ok(page)
        }
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct FinishForm {
    csrf: String,
    /// Recall only: the window to call the ticket to.
    #[serde(default)]
    window: Option<String>,
}

/// Complete, no-show or recall from the board; back to the board (saying where a recalled
/// ticket went), or a page saying why not.
async fn finish_from_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: String,
    form: FinishForm,
    step: &'static str,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
    let Some(reference) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let window = form.window.filter(|w| !w.trim().is_empty());
    let (settings, actor) = (state.settings.window.clone(), clerk.actor());
    let now = state.clock.naive();
    let sent_window = window.clone();
    let done = state
        .db(move |conn| match step {
            "complete" => {
                visits::finish(conn, &settings, &actor, &reference, AppointmentStatus::Completed, now)
            }
            "no-show" => visits::finish(conn, &settings, &actor, &reference, AppointmentStatus::NoShow, now),
            _ => visits::recall(conn, &actor, &reference, sent_window.as_deref(), now),
        })
        .await;
    match done {
        Ok(visit) if step == "recall" => {
            let window = visit.window.clone().unwrap_or_default();
            Ok(redirect_at_window(&req, &called(&visit), &window))
        }
        Ok(visit) => Ok(redirect(&board_of(&visit.post))),
        Err(e) if e.code() == Code::WindowBusy => {
            let text = match lang {
                Lang::En => format!(
                    "Window {} still has a called visit: finish it before sending another ticket there.",
                    window.as_deref().unwrap_or("")
                ),
                Lang::Es => format!(
                    "La ventanilla {} aún tiene una visita llamada: termínela antes de enviar otro turno allí.",
                    window.as_deref().unwrap_or("")
                ),
            };
            Ok(said(&req, StatusCode::CONFLICT, lang, &text))
        }
        Err(e) => refused(&req, lang, e),
    }
}

#[post("/staff/visits/{reference}/complete")]
pub async fn complete_visit(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: web::Path<String>,
    form: CsrfForm<FinishForm>,
) -> Result<HttpResponse, HttpError> {
    finish_from_page(state, req, clerk, reference.into_inner(), form.into_inner(), "complete").await
}

#[post("/staff/visits/{reference}/no-show")]
pub async fn no_show_visit(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: web::Path<String>,
    form: CsrfForm<FinishForm>,
) -> Result<HttpResponse, HttpError> {
    finish_from_page(state, req, clerk, reference.into_inner(), form.into_inner(), "no-show").await
}

#[post("/staff/visits/{reference}/recall")]
pub async fn recall_visit(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: web::Path<String>,
    form: CsrfForm<FinishForm>,
) -> Result<HttpResponse, HttpError> {
    finish_from_page(state, req, clerk, reference.into_inner(), form.into_inner(), "recall").await
}

#[derive(Deserialize)]
pub struct WalkInForm {
    csrf: String,
    #[serde(default)]
    once: String,
    post: String,
    service: String,
    /// `routine`, or an emergency's reason code.
    #[serde(default)]
    kind: String,
    given_names: String,
    surname: String,
    #[serde(default)]
    note: String,
}

carries_csrf!(CallForm, FinishForm, WalkInForm);

#[post("/staff/walk-ins")]
pub async fn walk_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    form: CsrfForm<WalkInForm>,
) -> Result<HttpResponse, HttpError> {
    use crate::booking::party::PersonInput;
    use crate::window::visits::WalkInRequest;
    let lang = clerk.lang;
    let form = form.into_inner();
    if !once::well_formed(&form.once) {
        return Ok(expired(&req, lang));
    }
    let (kind, reason) = match form.kind.as_str() {
        window_rules::ROUTINE => (WalkIn::Routine.code(), None),
        code => ("emergency", Some(code.to_string())),
    };
    let note = Some(form.note.clone()).filter(|n| !n.trim().is_empty());
    let request = WalkInRequest {
        service: form.service.clone(),
        kind: kind.to_string(),
        reason,
        note,
        applicant: PersonInput {
            given_names: form.given_names.clone(),
            surname: form.surname.clone(),
            date_of_birth: None,
        },
    };
    let (actor, post, token) =
        (clerk.actor(), crate::reference::normalise_post(&form.post), form.once.clone());
    let now = state.clock.naive();
    let at = post.clone();
    // Once per rendering: a double click registers one walk-in, with one ticket.
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                let visit = visits::walk_in(c, &actor, &at, &request, now)?;
                Ok(ticketed(&visit))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(AppError::Validation { errors, .. }) => {
            let today = read_board(&state, &clerk, post, None).await?;
            let typed = WalkInTyped {
                service: form.service,
                kind: form.kind,
                given_names: form.given_names,
                surname: form.surname,
                note: form.note,
                errors,
            };
            let just = JustDone { ticket: None, called: None };
            let extras = Extras { walk_in: Some(typed), ..Extras::default() };
            Ok(render(&req, lang, &clerk, &today, StatusCode::UNPROCESSABLE_ENTITY, &just, extras))
        }
        Err(e) => refused(&req, lang, e),
    }
}
