//! After closing: the day's visits not served (supervisors), each with a way to book the
//! person into the next free slot of the same service; and the post's closing time (admins).

use super::*;

use crate::booking::appointments::Rules;
use crate::http::HttpError;
use crate::web::extract::{carries_csrf, CsrfForm, StaffPage};
use crate::web::i18n::PageLang;
use crate::window::closing;
use crate::window::visits;

carries_csrf!(ClosingForm);

/// The day's list as a page: which day, and the other days within reach.
#[get("/staff/not-served")]
pub async fn not_served_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    supervisor: StaffPage<SupervisorPlus>,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = supervisor.lang;
    let BoardQuery { post, date } = query.into_inner();
    let post = post_of(&supervisor, post);
    let reader = (*supervisor).clone();
    let now = state.clock.naive();
    let found = state
        .db(move |conn| {
            let date = match date {
                Some(date) => date,
                None => calendar::local_date(now, calendar::post_zone(conn, &post)?),
            };
            visits::not_served(conn, &reader, &post, date)
        })
        .await;
    let list = match found {
        Ok(list) => list,
        Err(e) if matches!(e.code(), Code::NotFound | Code::WrongPost) => {
            return Ok(said(&req, StatusCode::NOT_FOUND, lang, &refusal(lang, &e)))
        }
        Err(e) => return Err(e.into()),
    };
    let title = format!("{} · {}", lang.t(("Not served at closing", "No atendidos al cierre")), list.post);
    let day = |d: NaiveDate| format!("/staff/not-served?post={}&date={d}", list.post);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff/not-served", |csrf| {
        html! {
            p {
                (lang.date(list.date)) " · "
                @if let Some(before) = list.date.pred_opt() { a href=(day(before)) { (lang.t(("Previous day", "Día anterior"))) } }
                " · "
                @if let Some(after) = list.date.succ_opt() { a href=(day(after)) { (lang.t(("Next day", "Día siguiente"))) } }
            }
            @if list.visits.is_empty() {
                p { (lang.t(("Nobody was left waiting at closing time that day.", "Ese día nadie quedó esperando a la hora de cierre."))) }
            } @else {
                table {
                    caption { (lang.t(("People still waiting when the post closed", "Personas que seguían esperando al cierre"))) }
                    thead { tr {
                        th scope="col" { (lang.t(("Ticket", "Turno"))) }
                        th scope="col" { (lang.t(("Reference", "Referencia"))) }
                        th scope="col" { (lang.t(("People", "Personas"))) }
                        th scope="col" { (lang.t(("Service", "Servicio"))) }
                        th scope="col" { (lang.t(("Booked again", "Nueva cita"))) }
                    } }
                    tbody {
                        @for visit in &list.visits {
                            @let people = visit.applicants.iter().map(|p| format!("{} {}", p.given_names, p.surname)).collect::<Vec<_>>().join(", ");
                            tr {
                                td { (visit.ticket.as_deref().unwrap_or("")) }
                                td { (visit.reference) }
                                td { (people) }
                                td { (names::service(lang, &visit.service)) }
                                td {
                                    @match visit.rebooked_as.as_deref().filter(|r| !r.is_empty()) {
                                        Some(new) => { (lang.t(("As", "Como"))) " " strong { (new) } }
                                        None => {
                                            form method="post" action={ "/staff/not-served/" (visit.reference) "/rebook" } {
                                                input type="hidden" name="csrf" value=(csrf);
                                                button type="submit" {
                                                    (lang.t(("Book the next free slot", "Reservar el siguiente horario libre")))
                                                    span.visually-hidden { " " (people) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href=(format!("/staff?post={}", list.post)) { (lang.t(("Back to the day board", "Volver al tablero del día"))) } }
            (sign_out_button(lang, csrf))
        }
    }))
}

/// Books the person again and says when, or why not.
#[post("/staff/not-served/{reference}/rebook")]
pub async fn rebook_visit(
    state: web::Data<AppState>,
    req: HttpRequest,
    supervisor: StaffPage<SupervisorPlus>,
    reference: web::Path<String>,
    _form: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, HttpError> {
    let lang = supervisor.lang;
    let Some(reference) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let (rules, actor) = (Rules::from(&state.settings.booking), supervisor.actor());
    let now = state.clock.naive();
    let done = state.db(move |conn| closing::rebook(conn, &rules, &actor, &reference, now)).await;
    match done {
        Ok(view) => {
            state.availability.invalidate(&view.post);
            let title = lang.t(("Booked again", "Nueva cita reservada"));
            let when = lang.date_time(&view.starts_at);
            Ok(form_page(&req, StatusCode::CREATED, lang, title, "/staff/not-served", |csrf| {
                html! {
                    p.notice role="status" {
                        (lang.t(("New appointment", "Nueva cita"))) " " strong { (view.reference) } ": " (when) ", "
                        (names::service(lang, &view.service)) "."
                    }
                    p { a href=(format!("/staff/not-served?post={}", view.post)) { (lang.t(("Back to the list", "Volver a la lista"))) } }
                    (sign_out_button(lang, csrf))
                }
            }))
        }
        Err(e) => {
            let text: Option<Text> = match e.code() {
                Code::NoFreeSlot => Some((
                    "No slot of this service has room for the whole party within the booking horizon.",
                    "Ningún horario de este servicio tiene lugar para todo el grupo dentro del plazo de reservas.",
                )),
                Code::AlreadyRebooked => Some(("This person was booked again already.", "A esta persona ya se le reservó otra cita.")),
                _ => None,
            };
            match text {
                Some(text) => Ok(said(&req, StatusCode::CONFLICT, lang, lang.t(text))),
                None => refused(&req, lang, e),
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ClosingQuery {
    post: Option<String>,
}

/// The post's closing time, with a form to set or clear it.
#[get("/staff/admin/closing-time")]
pub async fn closing_time_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    query: web::Query<ClosingQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = admin.lang;
    let post = post_of(&admin, query.into_inner().post);
    closing_page(&state, &req, lang, post, StatusCode::OK, None, None).await
}

async fn closing_page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    post: String,
    status: StatusCode,
    typed: Option<String>,
    error: Option<&'static str>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let found = state
        .db(move |conn| {
            let posts = crate::reference::list_posts(conn)?;
            let closing = closing::closing_time(conn, &post, now)?;
            Ok::<_, AppError>((posts, closing))
        })
        .await;
    let (posts, closing) = match found {
        Ok(found) => found,
        Err(e) if e.code() == Code::NotFound => {
            return Ok(said(req, StatusCode::NOT_FOUND, lang, &refusal(lang, &e)))
        }
        Err(e) => return Err(e.into()),
    };
    let title = format!("{} · {}", lang.t(("Closing time", "Hora de cierre")), closing.post);
    let value = typed.unwrap_or_else(|| closing.closes.clone().unwrap_or_default());
    Ok(form_page(req, status, lang, &title, "/staff/admin/closing-time", |csrf| {
        html! {
            p {
                (lang.t(("Today the window closes at", "Hoy la ventanilla cierra a las"))) " "
                strong { (local_clock(&closing.closes_today_at)) } ". "
                (lang.t((
                    "Whoever is still waiting then is closed as not served, for a supervisor to book again.",
                    "Quien siga esperando entonces queda como no atendido, para que un supervisor le reserve otra cita.",
                )))
            }
            form method="get" action="/staff/admin/closing-time" {
                label for="closing-post" { (lang.t(("Post", "Sede"))) }
                select #closing-post name="post" {
                    @for p in &posts { option value=(p.code) selected[p.code == closing.post] { (p.code) " · " (p.name) } }
                }
                button type="submit" { (lang.t(("Show", "Mostrar"))) }
            }
            form method="post" action="/staff/admin/closing-time" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(closing.post);
                label for="closes" { (lang.t(("Closing time (HH:MM, the post's time; empty: the end of the day's last opening)", "Hora de cierre (HH:MM, hora de la sede; vacía: el fin del último horario del día)"))) }
                @if let Some(error) = error { p.error #closes-error { (error) } }
                input #closes name="closes" type="text" inputmode="numeric" maxlength="5" placeholder="18:00" value=(value)
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "closes-error")];
                button type="submit" { (lang.t(("Save the closing time", "Guardar la hora de cierre"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

/// `HH:MM` of an RFC 3339 time with the post's offset.
fn local_clock(rfc3339: &str) -> &str {
    rfc3339.get(11..16).unwrap_or("")
}

#[derive(Deserialize)]
pub struct ClosingForm {
    csrf: String,
    post: String,
    #[serde(default)]
    closes: String,
}

#[post("/staff/admin/closing-time")]
pub async fn set_closing_time_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: CsrfForm<ClosingForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = admin.lang;
    let ClosingForm { post, closes, .. } = form.into_inner();
    let post = post_of(&admin, Some(post));
    let closes = closes.trim().to_string();
    let (actor, at, sent) = (admin.actor(), post.clone(), closes.clone());
    let now = state.clock.naive();
    let done = state
        .db(move |conn| {
            closing::set_closing_time(conn, &actor, &at, Some(sent.as_str()).filter(|c| !c.is_empty()), now)
        })
        .await;
    match done {
        Ok(_) => Ok(redirect(&format!("/staff/admin/closing-time?post={post}"))),
        Err(AppError::Validation { .. }) => {
            let error = lang.t((
                "Write the time as HH:MM, for example 18:00.",
                "Escriba la hora como HH:MM, por ejemplo 18:00.",
            ));
            closing_page(
                &state,
                &req,
                lang,
                post,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(closes),
                Some(error),
            )
            .await
        }
        Err(e) => refused(&req, lang, e),
    }
}
