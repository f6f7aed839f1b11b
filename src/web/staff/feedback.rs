//! What the public wrote about the post ("Tell us what you think"): a range of days' feedback,
//! the newest first, for any staff member of the post (those bound to none pick the post),
//! and for auditors and admins its CSV, through the API's own list and export.

use super::*;
use crate::feedback::export::{self as feedback_export, Scope as ExportScope};
use crate::feedback::{self, FeedbackPage};
use crate::http::{csv_response, HttpError};
use crate::web::extract::StaffPage;
use crate::web::i18n::PageLang;

/// `?post=` (for staff bound to none), `?from=` and `?to=` (the post's local dates).
#[derive(Deserialize)]
pub struct FeedbackQuery {
    post: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// The CSV link for a post (`all` for every post) and range.
pub(crate) fn csv_link(post: &str, from: NaiveDate, to: NaiveDate) -> String {
    format!("/staff/feedback.csv?post={post}&from={from}&to={to}")
}

fn language_name(lang: Lang, code: &str) -> &'static str {
    match code {
        "es" => lang.t(("Spanish", "Español")),
        _ => lang.t(("English", "Inglés")),
    }
}

#[get("/staff/feedback")]
pub async fn feedback_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    query: web::Query<FeedbackQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let FeedbackQuery { post, from, to } = query.into_inner();
    let post = post_of(&staff, post);
    let (actor, at, now) = (staff.actor(), post.clone(), state.clock.naive());
    let found = state.db(move |conn| feedback::list(conn, &actor, &at, from, to, now)).await;
    let page: FeedbackPage = match found {
        Ok(page) => page,
        Err(e) => return refused(&req, lang, e),
    };
    let bound = staff.post.is_some();
    let exports = AuditorOrAdmin::admits(staff.role);
    let heading =
        format!("{} · {}", lang.t(("Feedback from the public", "Opiniones del público")), page.post);
    Ok(form_page(&req, StatusCode::OK, lang, &heading, "/staff/feedback", |csrf| {
        html! {
            form #range method="get" action="/staff/feedback" {
                @if !bound {
                    label for="post" { (lang.t(("Post", "Sede"))) }
                    (crate::web::pickers::post_select(lang, "post", "post", Some(&page.post), false))
                }
                label for="from" { (lang.t(("From (local date)", "Desde (fecha local)"))) }
                input #from name="from" type="date" value=(page.from);
                label for="to" { (lang.t(("To (local date, included)", "Hasta (fecha local, incluida)"))) }
                input #to name="to" type="date" value=(page.to);
                button type="submit" { (lang.t(("Show", "Mostrar"))) }
            }
            p #count role="status" {
                @match lang {
                    Lang::En => { (page.entries.len()) " message(s) from " (lang.date(page.from)) " to " (lang.date(page.to)) "." }
                    Lang::Es => { (page.entries.len()) " mensaje(s) del " (lang.date(page.from)) " al " (lang.date(page.to)) "." }
                }
                @if page.more {
                    " " (lang.t(("Only the newest are shown: choose fewer days, or download them all.",
                                 "Solo se muestran los más recientes: elija menos días, o descárguelos todos.")))
                }
            }
            @if exports {
                p { a #csv href=(csv_link(&page.post, page.from, page.to)) download {
                    (lang.t(("Download as CSV", "Descargar en CSV")))
                    span.visually-hidden { " " (page.post) }
                } }
            }
            @if !page.entries.is_empty() {
                table #feedback {
                    caption.visually-hidden { (heading) }
                    thead { tr {
                        th scope="col" { (lang.t(("Received", "Recibido"))) }
                        th scope="col" { (lang.t(("Service", "Servicio"))) }
                        th scope="col" { (lang.t(("Language", "Idioma"))) }
                        th scope="col" { (lang.t(("Answer to", "Responder a"))) }
                        th scope="col" { (lang.t(("Message", "Mensaje"))) }
                    } }
                    tbody {
                        @for e in &page.entries {
                            tr {
                                td { (lang.date_time(&e.received_at)) }
                                td { @if let Some(s) = &e.service { (names::service(lang, s)) } }
                                td { (language_name(lang, &e.language)) }
                                td { @if let Some(email) = &e.email { a href={ "mailto:" (email) } { (email) } } }
                                td.message lang=(e.language) { (e.text) }
                            }
                        }
                    }
                }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

/// The feedback of a post (`all`: every post) and range as CSV, for spreadsheets (with a byte
/// order mark): the API's export, audited the same way.
#[get("/staff/feedback.csv")]
pub async fn feedback_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    auditor: StaffPage<AuditorOrAdmin>,
    query: web::Query<FeedbackQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = auditor.lang;
    let FeedbackQuery { post, from, to } = query.into_inner();
    let scope = ExportScope { post, from, to, bom: true };
    let (actor, now) = (auditor.actor(), state.clock.naive());
    match state.db(move |conn| feedback_export::export(conn, &actor, &scope, now)).await {
        Ok(file) => Ok(csv_response(file.csv, &file.file_name)),
        Err(e) => refused(&req, lang, e),
    }
}
