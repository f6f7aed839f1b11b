//! The auditors' fee report: its downloads in every format.

use super::*;
use crate::http::HttpError;
use crate::web::extract::StaffPage;
use crate::web::i18n::PageLang;

#[derive(Deserialize)]
pub struct ReportQuery {
    post: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Option<String>,
}

#[get("/staff/reports")]
pub async fn reports(
    state: web::Data<AppState>,
    req: HttpRequest,
    auditor: StaffPage<AuditorOrAdmin>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let query = query.into_inner();
    // What was asked, or the member's own post: another post is refused as the API refuses it.
    let post = query.post.clone().or_else(|| auditor.post.clone()).unwrap_or_else(|| "all".into());
    let at = match crate::reports::fee_report::readable_post(&auditor, &post) {
        Ok(at) => at,
        Err(e) => return refused(&req, lang, e),
    };
    let scope_post = at.clone();
    let now = state.clock.naive();
    let today = match state.db(move |conn| calendar::today_at(conn, at.as_deref(), now)).await {
        Ok(today) => today,
        Err(e) => return refused(&req, lang, e),
    };
    let (from, to) = (query.from.unwrap_or(today), query.to.unwrap_or(today));
    if let Some(format) = query.format.as_deref().and_then(Format::parse) {
        let scope =
            Scope { post: scope_post, from, to, service: None, fee_code: None, method: None, clerk: None };
        return match crate::http::export_response(&state, auditor.staff, scope, format, format == Format::Csv)
            .await
        {
            Ok(response) => Ok(response),
            Err(e) => refused(&req, lang, e),
        };
    }
    let title = lang.t(("Fee report", "Informe de derechos"));
    let link = |format: &str| format!("/staff/reports?post={post}&from={from}&to={to}&format={format}");
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/reports", |csrf| {
        html! {
            form method="get" action="/staff/reports" {
                label for="post" { (lang.t(("Post", "Sede"))) }
                (crate::web::pickers::post_select(lang, "post", "post", Some(&post), true))
                label for="from" { (lang.t(("From (local date)", "Desde (fecha local)"))) }
                input #from name="from" type="date" value=(from);
                label for="to" { (lang.t(("To (local date, included)", "Hasta (fecha local, incluida)"))) }
                input #to name="to" type="date" value=(to);
                button type="submit" { (lang.t(("Show the downloads", "Mostrar las descargas"))) }
            }
            h2 { (lang.t(("Download", "Descargar"))) }
            ul #downloads {
                li { a href=(link("csv")) download { "CSV" } " " (lang.t(("(spreadsheets; with a byte order mark)", "(hojas de cálculo; con marca de orden de bytes)"))) }
                li { a href=(link("xlsx")) download { "XLSX" } }
                li { a href=(link("pdf")) download { "PDF" } " " (lang.t(("(the summary)", "(el resumen)"))) }
                li { a href=(link("json")) download { "JSON" } }
            }
            h2 { (lang.t(("Feedback from the public", "Opiniones del público"))) }
            p { a #feedback-csv href=(super::csv_link(&post, from, to)) download {
                (lang.t(("Download the feedback of these dates as CSV", "Descargar en CSV las opiniones de estas fechas")))
            } }
            (sign_out_button(lang, csrf))
        }
    }))
}
