//! The admins' weekly schedules: every service's week at a post, each in its own form of
//! openings (days, hours, slot length, seats), as many a day as the API takes. Saving a form
//! replaces that service's week through the API's own operation (`schedule::set_week`).
//! Inputs carry the rule's field names (`openings[1].opens`); an opening with no day ticked is
//! left out, and the errors of the openings sent are put back on the rows they came from.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::roles::AdminOnly;
use crate::booking::schedule::{self as week_schedule, OpeningSpec, Refit, ServiceWeek, MAX_OPENINGS};
use crate::error::{AppError, FieldError};
use crate::http::HttpError;
use crate::rule::Rule;
use crate::state::AppState;
use crate::web::extract::StaffPage;
use crate::web::field_errors::{worded, PageError};
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::names;
use crate::web::staff::{post_of, refused, sign_out_button};
use crate::web::typed::{renumber, Typed};
use crate::web::{form_page, session};

const WEEKDAYS: [Text; 7] = [
    ("Mon", "lun"),
    ("Tue", "mar"),
    ("Wed", "mié"),
    ("Thu", "jue"),
    ("Fri", "vie"),
    ("Sat", "sáb"),
    ("Sun", "dom"),
];

/// A new opening's suggested slot length and seats.
const NEW_OPENING: (&str, &str) = ("20", "4");

/// The form of one service as it was sent back, with what the rules said about it.
struct Edited<'a> {
    service: &'a str,
    typed: &'a Typed,
    errors: &'a [PageError],
}

/// The inputs that show `openings`, and one empty row to add another.
fn typed_from(openings: &[OpeningSpec]) -> Typed {
    let mut typed = Typed::default();
    for (i, o) in openings.iter().enumerate() {
        for day in &o.weekdays {
            typed.set(format!("openings[{i}].d{day}"), "on");
        }
        typed.set(format!("openings[{i}].opens"), o.opens.clone());
        typed.set(format!("openings[{i}].closes"), o.closes.clone());
        typed.set(format!("openings[{i}].slot_minutes"), o.slot_minutes.to_string());
        typed.set(format!("openings[{i}].capacity"), o.capacity.to_string());
        typed.set(format!("openings[{i}].saved"), "1");
    }
    let spare = openings.len();
    typed.set(format!("openings[{spare}].slot_minutes"), NEW_OPENING.0);
    typed.set(format!("openings[{spare}].capacity"), NEW_OPENING.1);
    typed.set("rows".into(), (spare + 1).min(MAX_OPENINGS).to_string());
    typed
}

/// The openings the rows describe, the row each came from, and what couldn't be read. A saved
/// opening with no day ticked, or a new row left empty, is left out; a new row with hours but
/// no day goes to the rules, which ask for a day.
fn openings(typed: &Typed) -> (Vec<OpeningSpec>, Vec<usize>, Vec<FieldError>) {
    let (mut openings, mut rows, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for row in 0..typed.rows("rows", MAX_OPENINGS) {
        let at = |field: &str| format!("openings[{row}].{field}");
        let weekdays: Vec<u8> = (1..=7u8).filter(|d| typed.has(&at(&format!("d{d}")))).collect();
        let untouched =
            typed.get(&at("opens")).trim().is_empty() && typed.get(&at("closes")).trim().is_empty();
        if weekdays.is_empty() && (typed.has(&at("saved")) || untouched) {
            // A saved opening with every day unticked is removed; an empty new row is no opening.
            continue;
        }
        let mut whole = |field: &str| match typed.get(&at(field)).trim().parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(FieldError::new(at(field), Rule::NotAWholeNumber));
                0
            }
        };
        let (slot_minutes, capacity) = (whole("slot_minutes"), whole("capacity"));
        openings.push(OpeningSpec {
            weekdays,
            opens: typed.get(&at("opens")).trim().to_string(),
            closes: typed.get(&at("closes")).trim().to_string(),
            slot_minutes,
            capacity,
        });
        rows.push(row);
    }
    (openings, rows, errors)
}

fn row(lang: Lang, service: &str, i: usize, typed: &Typed, errors: &[PageError]) -> Markup {
    let name = |field: &str| format!("openings[{i}].{field}");
    let id = |field: &str| format!("{service}-openings[{i}].{field}");
    let error = |field: &str| errors.iter().find(|e| e.field == name(field)).map(|e| e.text.clone());
    let days_error = error("weekdays");
    let days_error_id = id("weekdays-error");
    let text = |field: &str, label: Text, numeric: bool| {
        let (input_id, error_id, message) = (id(field), id(&format!("{field}-error")), error(field));
        html! {
            label for=(input_id) { (lang.t(label)) }
            @if let Some(message) = &message { p.error id=(error_id) { (message) } }
            input id=(input_id) name=(name(field)) type="text" value=(typed.get(&name(field)))
                inputmode=[numeric.then_some("numeric")] maxlength=[(!numeric).then_some("5")]
                aria-invalid=[message.as_ref().map(|_| "true")] aria-describedby=[message.as_ref().map(|_| error_id.clone())];
        }
    };
    html! {
        fieldset {
            legend { (lang.t(("Opening", "Horario de atención"))) " " (i + 1) }
            @if typed.has(&name("saved")) { input type="hidden" name=(name("saved")) value="1"; }
            fieldset {
                legend { (lang.t(("Days", "Días"))) }
                @if let Some(message) = &days_error { p.error id=(days_error_id) { (message) } }
                @for (d, day) in WEEKDAYS.iter().enumerate() {
                    @let field = format!("d{}", d + 1);
                    input type="checkbox" id=(id(&field)) name=(name(&field)) value="on" checked[typed.has(&name(&field))]
                        aria-describedby=[days_error.as_ref().map(|_| days_error_id.clone())];
                    label.inline for=(id(&field)) { (lang.t(*day)) } " "
                }
            }
            (text("opens", ("Opens (HH:MM)", "Abre (HH:MM)"), false))
            (text("closes", ("Closes (HH:MM)", "Cierra (HH:MM)"), false))
            (text("slot_minutes", ("Minutes a slot", "Minutos por horario"), true))
            (text("capacity", ("People a slot", "Personas por horario"), true))
        }
    }
}

fn service_form(
    lang: Lang,
    csrf: &str,
    post: &str,
    service: &str,
    typed: &Typed,
    errors: &[PageError],
) -> Markup {
    let rows = typed.rows("rows", MAX_OPENINGS);
    let whole: Vec<String> =
        errors.iter().filter(|e| !e.field.starts_with("openings[")).map(|e| e.text.clone()).collect();
    html! {
        form method="post" action="/staff/admin/schedules" novalidate {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="post" value=(post);
            input type="hidden" name="service" value=(service);
            input type="hidden" name="rows" value=(rows);
            @for message in &whole { p.error role="alert" { (message) } }
            p { (lang.t(("Untick every day of an opening to remove it; untick them all to close the service to new slots.",
                         "Desmarque todos los días de un horario para quitarlo; desmárquelos todos para no abrir horarios nuevos."))) }
            @for i in 0..rows { (row(lang, service, i, typed, errors)) }
            // The main button first: it is the one Enter presses.
            button type="submit" { (lang.t(("Replace this service's week", "Reemplazar la semana de este servicio"))) }
            @if rows < MAX_OPENINGS {
                button type="submit" name="add_opening" value="1" { (lang.t(("Add an opening", "Agregar un horario"))) }
            }
        }
    }
}

/// What replacing a week did to the slots already offered, and the appointments to offer
/// another time (on slots the week no longer has, or with fewer seats than are booked).
fn refitted(lang: Lang, service: &str, refit: &Refit) -> Markup {
    html! {
        div.notice role="status" {
            p {
                strong { (names::service(lang, service)) } ": "
                (refit.slots_added) " " (lang.t(("slots added", "horarios agregados"))) ", "
                (refit.slots_changed) " " (lang.t(("changed", "modificados"))) ", "
                (refit.slots_retired) " " (lang.t(("no longer offered", "ya no ofrecidos"))) "."
            }
            @if !refit.to_rebook.is_empty() {
                p { (lang.t(("Appointments to offer another time:", "Citas por reprogramar:"))) }
                ul { @for reference in &refit.to_rebook { li { (reference) } } }
            }
        }
    }
}

fn page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    post: &str,
    weeks: &[ServiceWeek],
    edited: Option<Edited>,
    done: Option<Markup>,
) -> HttpResponse {
    let title = format!("{} · {}", lang.t(("Weekly schedules", "Horarios semanales")), post);
    let roams = crate::web::layout::works_everywhere(req);
    form_page(req, status, lang, &title, "/staff/admin/schedules", |csrf| {
        html! {
            @if roams { (crate::web::pickers::post_switch(lang, "/staff/admin/schedules", post)) }
            @if let Some(done) = done { (done) }
            @for (service, openings) in weeks {
                section.notice {
                    h2 { (names::service(lang, service)) }
                    @if openings.is_empty() { p { (lang.t(("Closed: no new slots.", "Cerrado: sin horarios nuevos."))) } }
                    ul {
                        @for o in openings {
                            li {
                                (o.weekdays.iter().filter_map(|d| WEEKDAYS.get(usize::from(*d).wrapping_sub(1)).map(|t| lang.t(*t))).collect::<Vec<_>>().join(", "))
                                " · " (o.opens) "–" (o.closes) " · " (o.slot_minutes) " min · " (o.capacity) " " (lang.t(("per slot", "por horario")))
                            }
                        }
                    }
                    @match &edited {
                        Some(e) if e.service == service => { (service_form(lang, csrf, post, service, e.typed, e.errors)) }
                        _ => { (service_form(lang, csrf, post, service, &typed_from(openings), &[])) }
                    }
                }
            }
            (sign_out_button(lang, csrf))
        }
    })
}

#[derive(Deserialize)]
pub struct PostQuery {
    post: Option<String>,
}

#[get("/staff/admin/schedules")]
pub async fn schedules(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    query: web::Query<PostQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let post = post_of(&admin, query.into_inner().post);
    let (reader, asked) = ((*admin).clone(), post.clone());
    match state.db(move |conn| week_schedule::weeks(conn, &reader, &asked)).await {
        Ok((_, weeks)) => Ok(page(&req, lang, StatusCode::OK, &post, &weeks, None, None)),
        Err(e) => refused(&req, lang, e),
    }
}

#[post("/staff/admin/schedules")]
pub async fn set_week(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let mut typed = Typed::new(form.into_inner());
    let post = post_of(&admin, Some(typed.get("post").to_string()));
    let service = typed.get("service").to_string();
    let (reader, asked) = ((*admin).clone(), post.clone());
    let weeks = match state.db(move |conn| week_schedule::weeks(conn, &reader, &asked)).await {
        Ok((_, weeks)) => weeks,
        Err(e) => return refused(&req, lang, e),
    };
    if typed.has("add_opening") {
        let rows = typed.rows("rows", MAX_OPENINGS);
        typed.set("rows".into(), (rows + 1).min(MAX_OPENINGS).to_string());
        typed.set(format!("openings[{rows}].slot_minutes"), NEW_OPENING.0);
        typed.set(format!("openings[{rows}].capacity"), NEW_OPENING.1);
    }
    let again = |status, errors: &[PageError]| {
        let edited = Edited { service: &service, typed: &typed, errors };
        page(&req, lang, status, &post, &weeks, Some(edited), None)
    };
    if !session::csrf_holds(&req, typed.get("csrf")) {
        let expired = PageError::new("form", lang.t(crate::web::FORM_EXPIRED));
        return Ok(again(StatusCode::FORBIDDEN, &[expired]));
    }
    if typed.has("add_opening") {
        return Ok(again(StatusCode::OK, &[]));
    }
    let (openings, rows, unread) = openings(&typed);
    if !unread.is_empty() {
        return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &worded(lang, &unread)));
    }
    let done = week_schedule::set_week(
        &state.pool,
        &state.availability,
        state.clock.naive(),
        admin.actor(),
        post.clone(),
        service.clone(),
        &openings,
    )
    .await;
    match done {
        // The page again, saying what the new week did: which booked appointments now need
        // another time is not something to leave to the audit log. (Sent again, the same week
        // replaces itself and changes nothing.)
        Ok((_, refit)) => {
            let (reader, asked) = ((*admin).clone(), post.clone());
            let weeks = state.db(move |conn| week_schedule::weeks(conn, &reader, &asked)).await?.1;
            let done = refitted(lang, &service, &refit);
            Ok(page(&req, lang, StatusCode::OK, &post, &weeks, None, Some(done)))
        }
        Err(AppError::Validation { errors, .. }) => {
            Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &worded(lang, &renumber(errors, "openings", &rows))))
        }
        Err(e) => refused(&req, lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(pairs: &[(&str, &str)]) -> Typed {
        Typed::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn rows_without_a_day_are_left_out_and_errors_go_back_to_their_rows() {
        let mut form = typed(&[
            ("rows", "3"),
            ("openings[0].saved", "1"),
            ("openings[0].opens", "08:00"),
            ("openings[0].closes", "12:00"),
            ("openings[0].slot_minutes", "20"),
            ("openings[0].capacity", "4"),
            ("openings[1].d1", "on"),
            ("openings[1].d3", "on"),
            ("openings[1].opens", "15:00"),
            ("openings[1].closes", "14:00"),
            ("openings[1].slot_minutes", "30"),
            ("openings[1].capacity", "x"),
        ]);
        let (openings, rows, unread) = openings(&form);
        assert_eq!(openings.len(), 1, "row 0 has no day; row 2 is empty");
        assert_eq!(openings[0].weekdays, [1, 3]);
        assert_eq!(rows, [1]);
        assert_eq!(unread.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["openings[1].capacity"]);
        let from_rules = vec![
            FieldError::new("openings[0].closes", Rule::ClosesAfterOpens),
            FieldError::new("openings", Rule::OpeningsOverlap { weekday: 1 }),
        ];
        let placed: Vec<String> =
            renumber(from_rules, "openings", &rows).into_iter().map(|e| e.field).collect();
        assert_eq!(placed, ["openings[1].closes", "openings"]);
        form.set("openings[2].opens".into(), "16:00");
        let (openings_with_new, rows, _) = super::openings(&form);
        assert_eq!(rows, [1, 2], "a new row with hours but no day goes to the rules");
        assert!(openings_with_new[1].weekdays.is_empty());
    }

    #[test]
    fn a_week_shows_as_its_openings_and_one_empty_row() {
        let week = [OpeningSpec {
            weekdays: vec![2, 4],
            opens: "09:00".into(),
            closes: "11:00".into(),
            slot_minutes: 30,
            capacity: 3,
        }];
        let form = typed_from(&week);
        assert_eq!(form.rows("rows", MAX_OPENINGS), 2);
        assert!(form.has("openings[0].d2") && !form.has("openings[0].d1"));
        assert!(openings(&form).0.len() == 1, "the empty row adds nothing");
        assert_eq!(openings(&form).0[0].closes, "11:00");
    }
}
