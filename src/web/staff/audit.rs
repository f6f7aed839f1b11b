//! The audit log, a page at a time, with the API's filters and the check of its hash chains.
//! Times are the post's local time (with its offset), people are named by username.

use std::collections::HashMap;

use chrono_tz::Tz;
use diesel::prelude::*;

use super::*;
use crate::audit::read::{self, Filter};
use crate::db::schema::staff as staff_table;
use crate::http::HttpError;
use crate::web::extract::StaffPage;

/// The page's filters: the API's, as a person fills them in (dates, not instants).
#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    post: Option<String>,
    /// `applicant`, `staff`, `system` or `anonymous`.
    actor: Option<String>,
    /// A staff member's username.
    username: Option<String>,
    entity: Option<String>,
    entity_id: Option<String>,
    /// Local dates at the post (or at the embassy for every post), both included.
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<i64>,
}

const ACTOR_KINDS: [(&str, Text); 4] = [
    ("staff", ("Staff", "Personal")),
    ("applicant", ("Applicant", "Solicitante")),
    ("system", ("The system", "El sistema")),
    ("anonymous", ("Not signed in", "Sin sesión")),
];

fn blank_is_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty() && v != "all")
}

/// The audit log, 50 entries a page with a link to the next, and the check of the hash
/// chains (the trail holds, or the first entry that doesn't): the API's own reads.
#[get("/staff/audit")]
pub async fn audit_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    auditor: StaffPage<AuditorOrAdmin>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, HttpError> {
    const PAGE: i64 = 50;
    let (lang, now) = (auditor.lang, state.clock.naive());
    let query = query.into_inner();
    let post = blank_is_none(query.post.clone()).map(|p| crate::reference::normalise_post(&p));
    let (action, entity, entity_id) = (
        blank_is_none(query.action.clone()),
        blank_is_none(query.entity.clone()),
        blank_is_none(query.entity_id.clone()),
    );
    let actor_kind = blank_is_none(query.actor.clone()).filter(|k| ACTOR_KINDS.iter().any(|(v, _)| v == k));
    let username = blank_is_none(query.username.clone());
    let reader = auditor.member.clone();
    let (from, to, after) = (query.from, query.to, query.after);
    let found = state
        .db(move |conn| {
            let posts = crate::reference::list_posts(conn)?;
            // Dates are the post's (every post: the embassy's), as the page shows times.
            let at = post.as_deref().unwrap_or(calendar::EMBASSY);
            let zone = posts
                .iter()
                .find(|p| p.code == at)
                .and_then(|p| p.timezone.parse::<Tz>().ok())
                .unwrap_or(chrono_tz::America::Mexico_City);
            let actor_id = match &username {
                Some(name) => Some(
                    staff_table::table
                        .filter(staff_table::username.eq(name.to_lowercase()))
                        .select(staff_table::id)
                        .first::<i64>(conn)
                        .optional()?
                        .unwrap_or(-1),
                ),
                None => None,
            };
            let filter = Filter {
                from: from.map(|d| calendar::day_bounds(d, zone).0),
                to: to.map(|d| calendar::day_bounds(d, zone).1),
                post: post.clone(),
                actor_kind: if actor_id.is_some() { Some("staff".into()) } else { actor_kind },
                actor_id,
                action,
                entity,
                entity_id,
                after,
            };
            let entries = read::page_for(conn, &reader, filter, PAGE)?;
            let check = read::verify_for(conn, &reader, None, now)?;
            let names: HashMap<i64, String> = staff_table::table
                .select((staff_table::id, staff_table::username))
                .load(conn)?
                .into_iter()
                .collect();
            let zones: HashMap<String, Tz> =
                posts.iter().filter_map(|p| Some((p.code.clone(), p.timezone.parse().ok()?))).collect();
            Ok((entries, check, names, zones))
        })
        .await;
    let (entries, check, names, zones) = match found {
        Ok(found) => found,
        Err(e) => return refused(&req, lang, e),
    };
    let next = (entries.len() as i64 == PAGE).then(|| entries.last().map(|e| e.entry.id)).flatten();
    let next_link = next.map(|next| {
        let keep = [
            ("action", &query.action),
            ("post", &query.post),
            ("actor", &query.actor),
            ("username", &query.username),
            ("entity", &query.entity),
            ("entity_id", &query.entity_id),
        ];
        let mut link = format!("/staff/audit?after={next}");
        for (name, value) in keep {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                link.push_str(&format!("&{name}={}", crate::web::layout::encode(value)));
            }
        }
        for (name, date) in [("from", query.from), ("to", query.to)] {
            if let Some(date) = date {
                link.push_str(&format!("&{name}={date}"));
            }
        }
        link
    });
    let embassy = chrono_tz::America::Mexico_City;
    let title = lang.t(("Audit log", "Bitácora de auditoría"));
    let chosen_actor = query.actor.clone().unwrap_or_default();
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/audit", |csrf| {
        html! {
            @if check.ok {
                p.notice role="status" #check {
                    (lang.t(("The trail holds:", "La bitácora está íntegra:"))) " " (check.entries) " "
                    (lang.t(("entries in", "entradas en"))) " " (check.chains) " " (lang.t(("chains", "cadenas")))
                    @if check.pending > 0 { " (" (check.pending) " " (lang.t(("waiting to be sealed", "por sellar"))) ")" }
                    "."
                }
                details {
                    summary { (lang.t(("Chain heads to keep elsewhere", "Cabezas de cadena para guardar aparte"))) }
                    ul { @for head in &check.heads { li { code { (head.chain) ":" (head.seq) ":" (head.hash) } } } }
                }
            } @else {
                p.error role="alert" #check {
                    (lang.t(("The trail does not hold.", "La bitácora NO está íntegra."))) " "
                    @if let Some(bad) = &check.first_bad {
                        (lang.t(("First bad entry:", "Primera entrada con problema:"))) " "
                        (bad.chain) " #" (bad.seq.map(|s| s.to_string()).unwrap_or_default())
                        " (" (bad.problem) ")"
                    }
                }
            }
            form.filters method="get" action="/staff/audit" {
                fieldset {
                    legend { (lang.t(("Show only", "Mostrar solo"))) }
                    label for="post" { (lang.t(("Post", "Sede"))) }
                    (crate::web::pickers::post_select(lang, "post", "post", query.post.as_deref(), true))
                    label for="from" { (lang.t(("From (date)", "Desde (fecha)"))) }
                    input #from name="from" type="date" value=(query.from.map(|d| d.to_string()).unwrap_or_default());
                    label for="to" { (lang.t(("To (date)", "Hasta (fecha)"))) }
                    input #to name="to" type="date" value=(query.to.map(|d| d.to_string()).unwrap_or_default());
                    label for="actor" { (lang.t(("Who", "Quién"))) }
                    select #actor name="actor" {
                        option value="" { (lang.t(("Anyone", "Cualquiera"))) }
                        @for (value, words) in ACTOR_KINDS {
                            option value=(value) selected[chosen_actor == value] { (lang.t(words)) }
                        }
                    }
                    label for="username" { (lang.t(("Staff username", "Usuario del personal"))) }
                    input #username name="username" type="text" maxlength="64" autocomplete="off" value=(query.username.clone().unwrap_or_default());
                    label for="action" { (lang.t(("Action", "Acción"))) }
                    select #action name="action" {
                        option value="" { (lang.t(("Any action", "Cualquier acción"))) }
                        @for action in crate::audit::Action::ALL {
                            option value=(action.as_str()) selected[query.action.as_deref() == Some(action.as_str())] { (action.as_str()) }
                        }
                    }
                    label for="entity_id" { (lang.t(("About (reference, receipt, tracking number…)", "Sobre (referencia, recibo, número de seguimiento…)"))) }
                    input #entity_id name="entity_id" type="text" maxlength="64" autocomplete="off" value=(query.entity_id.clone().unwrap_or_default());
                    button type="submit" { (lang.t(("Filter", "Filtrar"))) }
                }
            }
            table {
                caption { (lang.t(("Entries, oldest first; times are the post's local time", "Entradas, de la más antigua; horas locales de la sede"))) }
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (lang.t(("When", "Cuándo"))) }
                    th scope="col" { (lang.t(("Who", "Quién"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                    th scope="col" { (lang.t(("What", "Qué"))) }
                    th scope="col" { (lang.t(("Post", "Sede"))) }
                } }
                tbody {
                    @for stored in &entries {
                        @let e = &stored.entry;
                        @let zone = e.post.as_ref().and_then(|p| zones.get(p)).copied().unwrap_or(embassy);
                        tr {
                            td { (e.id) }
                            td { (calendar::printed_at(e.recorded_at, zone)) }
                            td { (who(lang, &e.actor_kind, e.actor_id, e.actor_role.as_deref(), &names)) }
                            td { (e.action) }
                            td { (e.entity) @if let Some(id) = &e.entity_id { " " (id) } }
                            td { (e.post.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            @if entries.is_empty() {
                p { (lang.t(("No entry matches.", "Ninguna entrada coincide."))) }
            }
            @if let Some(link) = &next_link {
                p { a href=(link) { (lang.t(("Next page", "Página siguiente"))) } }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

/// Who acted, as a person reads it: a staff member by username and role, an applicant by
/// account number (no personal data on this page), the system, or someone not signed in.
fn who(lang: Lang, kind: &str, id: Option<i64>, role: Option<&str>, names: &HashMap<i64, String>) -> String {
    match (kind, id) {
        ("staff", Some(id)) => {
            let name = names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
            match role.and_then(Role::parse) {
                Some(role) => format!("{name} ({})", names::role(lang, role)),
                None => name,
            }
        }
        ("applicant", Some(id)) => format!("{} #{id}", lang.t(("applicant", "solicitante"))),
        ("system", _) => lang.t(("the system", "el sistema")).to_string(),
        ("anonymous", _) => lang.t(("not signed in", "sin sesión")).to_string(),
        (other, _) => other.to_string(),
    }
}
