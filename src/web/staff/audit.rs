//! The audit log, a page at a time, with the check of its hash chains.

use super::*;

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    after: Option<i64>,
}

/// The audit log, 50 entries a page with a link to the next, and the check of the hash
/// chains (the trail holds, or the first entry that doesn't): the API's own reads.
#[get("/staff/audit")]
pub async fn audit_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    use crate::audit::read::{self, Filter};
    let lang = Lang::of(&req);
    let auditor = match member::<AuditorOrAdmin>(&state, &req).await {
        Ok(auditor) => auditor,
        Err(page) => return Ok(page),
    };
    let AuditQuery { action, after } = query.into_inner();
    let action = action.filter(|a| !a.trim().is_empty());
    let filter = Filter {
        from: None,
        to: None,
        post: None,
        actor_kind: None,
        actor_id: None,
        action: action.clone(),
        entity: None,
        entity_id: None,
        after,
    };
    let reader = (*auditor).clone();
    const PAGE: i64 = 50;
    let (entries, check) = state
        .db(move |conn| {
            let entries = read::page_for(conn, &reader, filter, PAGE)?;
            let check = read::verify_for(conn, &reader, None, Utc::now().naive_utc())?;
            Ok((entries, check))
        })
        .await?;
    let next = (entries.len() as i64 == PAGE).then(|| entries.last().map(|e| e.entry.id)).flatten();
    let title = lang.t(("Audit log", "Bitácora de auditoría"));
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
            form method="get" action="/staff/audit" {
                label for="action" { (lang.t(("Only this action (e.g. receipt.voided)", "Solo esta acción (p. ej. receipt.voided)"))) }
                input #action name="action" type="text" maxlength="64" value=(action.clone().unwrap_or_default());
                button type="submit" { (lang.t(("Filter", "Filtrar"))) }
            }
            table {
                caption { (lang.t(("Entries, oldest first", "Entradas, de la más antigua"))) }
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (lang.t(("When (UTC)", "Cuándo (UTC)"))) }
                    th scope="col" { (lang.t(("Who", "Quién"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                    th scope="col" { (lang.t(("What", "Qué"))) }
                    th scope="col" { (lang.t(("Post", "Sede"))) }
                } }
                tbody {
                    @for stored in &entries {
                        @let e = &stored.entry;
                        tr {
                            td { (e.id) }
                            td { (e.recorded_at.format("%Y-%m-%d %H:%M:%S")) }
                            td { (e.actor_kind) @if let Some(id) = e.actor_id { " " (id) } @if let Some(role) = &e.actor_role { " (" (role) ")" } }
                            td { (e.action) }
                            td { (e.entity) @if let Some(id) = &e.entity_id { " " (id) } }
                            td { (e.post.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                p { a href={ "/staff/audit?after=" (next) "&action=" (crate::web::layout::encode(&action.clone().unwrap_or_default())) } { (lang.t(("Next page", "Página siguiente"))) } }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}
