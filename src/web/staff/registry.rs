//! The citizen registry for the staff who may have to reach citizens (duty officers,
//! supervisors, admins): a district's confirmed registrations, a hundred a page, through
//! `stays::list_for_staff`, which records every registration shown in the audit trail. Staff
//! bound to a post read their own district; the others pick one.

use super::*;
use crate::auth::roles::RegistryReaders;
use crate::http::HttpError;
use crate::registry::stays::{self as stays_op, StayView, PAGE_SIZE};
use crate::rule::Rule;
use crate::web::extract::StaffPage;
use crate::web::field_errors::Shown;

#[derive(Deserialize)]
pub struct RegistryQuery {
    /// The district's post code (staff bound to a post read their own).
    district: Option<String>,
    /// Stays present on this day (`YYYY-MM-DD`); empty: every current and future one.
    on: Option<String>,
    page: Option<String>,
}

/// What a registrant asked for, in words.
fn asked_for(lang: Lang, stay: &StayView) -> Vec<&'static str> {
    let mut asked = Vec::new();
    if stay.emergency_messages {
        asked.push(lang.t(("Emergency messages", "Mensajes de emergencia")));
    }
    if stay.newsletter {
        asked.push(lang.t(("Newsletter", "Boletín")));
    }
    asked
}

#[get("/staff/registry")]
pub async fn registry_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    member: StaffPage<RegistryReaders>,
    query: web::Query<RegistryQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = member.lang;
    let RegistryQuery { district, on, page } = query.into_inner();
    let bound = member.post.clone();
    let district = bound
        .clone()
        .or_else(|| district.map(|d| crate::reference::normalise_post(&d)).filter(|d| !d.trim().is_empty()));
    let on = on.unwrap_or_default();
    let (day, shown) = match on.trim() {
        "" => (None, Shown::default()),
        typed => match NaiveDate::parse_from_str(typed, "%Y-%m-%d") {
            Ok(day) => (Some(day), Shown::default()),
            Err(_) => (None, Shown::on("on", &lang.rule(&Rule::NotADate))),
        },
    };
    let page = page.and_then(|p| p.trim().parse::<i64>().ok()).unwrap_or(1).clamp(1, 100_000);
    // Nothing is read (or audited) until there is a district to read and a date that is one.
    let list = match (&district, shown.is_empty()) {
        (Some(asked), true) => {
            let (actor, asked, now) = (member.actor(), asked.clone(), state.clock.naive());
            let read = state.db(move |conn| {
                let list = stays_op::list_for_staff(conn, &actor, &asked, day, page, now)?;
                Ok((list, crate::registry::states::list(conn)?))
            });
            match read.await {
                Ok(found) => Some(found),
                Err(e) => return refused(&req, lang, e),
            }
        }
        _ => None,
    };
    let posts = crate::reference::seed::POSTS;
    let city = |code: &str| {
        posts.iter().find(|p| p.code == code).map_or(code.to_string(), |p| names::city(lang, p.code, p.city))
    };
    let title = match &district {
        Some(code) => format!("{} · {}", lang.t(("Citizen registry", "Registro de ciudadanos")), city(code)),
        None => lang.t(("Citizen registry", "Registro de ciudadanos")).to_string(),
    };
    let link = |to: i64| {
        let mut href = format!("/staff/registry?page={to}");
        if let Some(code) = &district {
            href.push_str(&format!("&district={code}"));
        }
        if let Some(day) = day {
            href.push_str(&format!("&on={day}"));
        }
        href
    };
    Ok(form_page(&req, shown.status(), lang, &title, "/staff/registry", |csrf| {
        html! {
            p.notice {
                (lang.t(("Every registration shown here is recorded in the audit trail, under your name. Open only what the work needs.",
                         "Cada registro que se muestra aquí queda anotado en la bitácora de auditoría, a su nombre. Abra solo lo que el trabajo requiera.")))
            }
            form.filters method="get" action="/staff/registry" novalidate {
                @if bound.is_none() {
                    div {
                        label for="registry-district" { (lang.t(("Consular district", "Distrito consular"))) }
                        (crate::web::pickers::post_select(lang, "district", "registry-district", district.as_deref(), false))
                    }
                }
                div {
                    label for="on" { (lang.t(("Present on", "Presentes el día"))) }
                    input #on name="on" type="date" value=(on) aria-invalid=[shown.invalid("on")]
                        aria-describedby={ "on-hint" @if shown.invalid("on").is_some() { " on-error" } };
                    (shown.beside("on", "on"))
                }
                button type="submit" { (lang.t(("Show", "Mostrar"))) }
            }
            p.hint #on-hint { (lang.t(("Leave the day empty for every current and future stay.", "Deje el día vacío para ver todas las estancias actuales y futuras."))) }
            @match &list {
                None => {
                    @if shown.is_empty() {
                        p { (lang.t(("Choose a district to see its registrations.", "Elija un distrito para ver sus registros."))) }
                    }
                }
                Some((list, _)) if list.is_empty() => {
                    p role="status" { (lang.t(("No confirmed registrations here.", "No hay registros confirmados aquí."))) }
                }
                Some((list, states)) => {
                    table #registry {
                        caption {
                            (lang.t(("Confirmed registrations, by arrival; page", "Registros confirmados, por llegada; página"))) " " (page)
                        }
                        thead { tr {
                            th scope="col" { (lang.t(("Travellers", "Viajeros"))) }
                            th scope="col" { (lang.t(("Stay", "Estancia"))) }
                            th scope="col" { (lang.t(("Contact", "Contacto"))) }
                            th scope="col" { (lang.t(("Asked for", "Solicitó"))) }
                        } }
                        tbody {
                            @for stay in list {
                                tr {
                                    td {
                                        @for (i, t) in stay.travellers.iter().enumerate() {
                                            @if i > 0 { br; }
                                            (t.given_names) " " (t.surname)
                                            @if let Some(born) = t.date_of_birth { " (" (lang.date(born)) ")" }
                                        }
                                    }
                                    td {
                                        (lang.date(stay.arrives)) " – " (lang.date(stay.departs))
                                        @if let Some(code) = &stay.state {
                                            br; (states.iter().find(|s| &s.code == code).map_or(code.as_str(), |s| s.name.as_str()))
                                        }
                                    }
                                    td {
                                        a href={ "mailto:" (stay.email) } { (stay.email) }
                                        @if let Some(phone) = &stay.phone { br; a href={ "tel:" (phone.replace(' ', "")) } { (phone) } }
                                        br; (lang.t(("Writes in", "Idioma:"))) " " (if stay.language == "es" { "español" } else { "English" })
                                    }
                                    td { (asked_for(lang, stay).join(", ")) }
                                }
                            }
                        }
                    }
                    @if page > 1 || list.len() as i64 == PAGE_SIZE {
                        nav aria-label=(lang.t(("Pages", "Páginas"))) {
                            @if page > 1 { a href=(link(page - 1)) { (lang.t(("Previous page", "Página anterior"))) } }
                            @if page > 1 && list.len() as i64 == PAGE_SIZE { " · " }
                            @if list.len() as i64 == PAGE_SIZE { a href=(link(page + 1)) { (lang.t(("Next page", "Página siguiente"))) } }
                        }
                    }
                }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}
