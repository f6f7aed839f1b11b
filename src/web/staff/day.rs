//! The post's day board: check-in, walk-ins, calling the next ticket.

use super::*;

fn local_time(rfc3339: &str) -> &str {
    rfc3339.get(11..16).unwrap_or("")
}

/// The board after a check-in or a walk-in names the visit (`?ticket=` its reference), to
/// print its ticket at once.
#[derive(Deserialize)]
pub struct JustTicketed {
    ticket: Option<String>,
}

/// Where a check-in or walk-in leads: the board of the visit's post, offering its ticket.
fn ticketed(visit: &crate::window::visits::VisitView) -> String {
    format!("/staff?post={}&ticket={}", visit.post, visit.reference)
}

#[get("/staff")]
pub async fn board(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<BoardQuery>,
    just: web::Query<JustTicketed>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
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
                None => calendar::local_date(now, calendar::post_zone(conn, &post)?),
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
    let wanted = just.into_inner().ticket;
    let just_ticketed =
        board.visits.iter().find(|v| Some(&v.reference) == wanted.as_ref() && v.ticket.is_some());
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            @if let Some(visit) = just_ticketed {
                p.notice role="status" {
                    (lang.t(("Ticket", "Turno"))) " " strong { (visit.ticket.as_deref().unwrap_or("")) } ". "
                    a href={ "/staff/visits/" (visit.reference) "/ticket.pdf" } {
                        (lang.t(("Print ticket", "Imprimir turno")))
                        span.visually-hidden { " " (visit.ticket.as_deref().unwrap_or("")) }
                    }
                }
            }
            p { (lang.date(board.date)) " · " (lang.t(("Signed in as", "Sesión de"))) " " strong { (clerk.username) } }
            form method="post" action="/staff/call-next" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name=(once::FIELD) value=(once::token());
                input type="hidden" name="post" value=(board.post);
                label for="window" { (lang.t(("Window", "Ventanilla"))) }
                input #window name="window" type="text" inputmode="numeric" maxlength="20" value="1" required;
                button type="submit" { (lang.t(("Call the next ticket", "Llamar al siguiente turno"))) }
            }
            details {
                summary { (lang.t(("Record a walk-in (an emergency without an appointment)", "Registrar una visita sin cita (emergencia)"))) }
                form method="post" action="/staff/walk-ins" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name=(once::FIELD) value=(once::token());
                    input type="hidden" name="post" value=(board.post);
                    label for="walk_service" { (lang.t(("Service", "Servicio"))) }
                    select #walk_service name="service" {
                        @for code in ["passport-new", "passport-renewal", "passport-correction", "crba", "notarial"] {
                            option value=(code) { (names::service(lang, code)) }
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
                                } @else if visit.status == "checked_in" {
                                    a href={ "/staff/visits/" (visit.reference) "/ticket.pdf" } { (lang.t(("Print ticket", "Imprimir turno"))) span.visually-hidden { " " (people) } }
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
    let now = state.clock.naive();
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
        .db(move |conn| crate::window::visits::check_in(conn, &settings, &actor, &reference, None, now))
        .await;
    match done {
        Ok(visit) => Ok(redirect(&ticketed(&visit))),
        Err(e) => refused(&req, lang, e),
    }
}

/// A visit's queue ticket (PDF, 80 mm wide), for staff of its post.
#[get("/staff/visits/{reference}/ticket.pdf")]
pub async fn ticket_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let staff = match member::<AnyStaff>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    let Some(reference) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    match crate::window::tickets::printed(&state, staff.actor(), reference).await {
        Ok((pdf, name)) => Ok(crate::api::fees::pdf_response(pdf, &name)),
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
    form: web::Form<CallForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let CallForm { csrf, once: token, post, window } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) || !once::well_formed(&token) {
        return Ok(expired(&req, lang));
    }
    let (actor, post) = (clerk.actor(), crate::reference::normalise_post(&post));
    // Once per rendering: a double click calls one ticket, not the next two.
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                crate::window::visits::call_next(c, &actor, &post, &window, now)?;
                Ok("/staff".to_string())
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct WalkInForm {
    csrf: String,
    #[serde(default)]
    once: String,
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
    let now = state.clock.naive();
    use crate::booking::party::PersonInput;
    use crate::window::visits::WalkInRequest;
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) || !once::well_formed(&form.once) {
        return Ok(expired(&req, lang));
    }
    let request = WalkInRequest {
        service: form.service,
        reason: form.reason,
        applicant: PersonInput { given_names: form.given_names, surname: form.surname, date_of_birth: None },
    };
    let (actor, post, token) = (clerk.actor(), crate::reference::normalise_post(&form.post), form.once);
    // Once per rendering: a double click registers one walk-in, with one ticket.
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                let visit = crate::window::visits::walk_in(c, &actor, &post, &request, now)?;
                Ok(ticketed(&visit))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(e) => refused(&req, lang, e),
    }
}
