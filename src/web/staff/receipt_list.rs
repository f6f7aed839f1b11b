//! A post's receipts of one day, filtered by clerk, method and voided, with a reprint of each
//! and a void for those allowed to void it: what a reprint or a void starts from.

use super::fees::{amount, back_link, method_name, METHODS};
use super::*;
use crate::fees::receipts::{ReceiptFilter, ReceiptList};
use crate::http::HttpError;
use crate::web::extract::StaffPage;
use crate::web::i18n::PageLang;

/// The list's filters as a GET form sends them: text, read here, so a bad value is its
/// field's error rather than a bare 400.
#[derive(Deserialize, Default)]
pub struct ReceiptsQuery {
    post: Option<String>,
    date: Option<String>,
    clerk: Option<String>,
    method: Option<String>,
    voided: Option<String>,
}

/// `2026-12-08T10:05:00-06:00` as `10:05`: the time at the post.
fn local_time(rfc3339: &str) -> &str {
    rfc3339.get(11..16).unwrap_or("")
}

#[get("/staff/receipts")]
pub async fn receipts_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    query: web::Query<ReceiptsQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let query = query.into_inner();
    let post = post_of(&staff, query.post.clone());
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let mut date_error = None;
    let date = match given(&query.date) {
        None => None,
        Some(text) => match NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .ok()
            .and_then(|d| calendar::plausible("date", d).ok())
        {
            Some(date) => Some(date),
            None => {
                date_error = Some(lang.rule(&crate::rule::Rule::NotADate));
                None
            }
        },
    };
    let filter = ReceiptFilter {
        date,
        clerk: given(&query.clerk),
        method: given(&query.method).and_then(|m| Method::parse(&m)),
        voided: match given(&query.voided).as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
    };
    let (actor, unbound, now) = (staff.actor(), staff.post.is_none(), state.clock.naive());
    let wanted = filter.clone();
    let found = state
        .db(move |conn| {
            let list = receipts::list(conn, &actor, &post, &wanted, now)?;
            let clerks = receipts::collectors(conn, &list.post, list.date)?;
            let posts = if unbound { crate::reference::list_posts(conn)? } else { Vec::new() };
            Ok((list, clerks, posts))
        })
        .await;
    let (list, clerks, posts): (ReceiptList, Vec<String>, Vec<crate::reference::Post>) = match found {
        Ok(found) => found,
        Err(e) if matches!(e.code(), Code::NotFound | Code::WrongPost) => {
            return Ok(said(&req, StatusCode::NOT_FOUND, lang, &refusal(lang, &e)))
        }
        Err(e) => return refused(&req, lang, e),
    };
    let status = if date_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let title = format!("{} · {}", lang.t(("Receipts", "Recibos")), list.post);
    let typed_date = given(&query.date).unwrap_or_else(|| list.date.to_string());
    let chosen_method = filter.method.map(Method::as_str).unwrap_or("");
    let chosen_voided = match filter.voided {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let chosen_clerk = filter.clerk.clone().unwrap_or_default();
    Ok(form_page(&req, status, lang, &title, "/staff/receipts", |csrf| {
        html! {
            form #filters method="get" action="/staff/receipts" {
                @if unbound {
                    div {
                        label for="post" { (lang.t(("Post", "Sede"))) }
                        select #post name="post" {
                            @for p in &posts { option value=(p.code) selected[p.code == list.post] { (p.code) " · " (p.name) } }
                        }
                    }
                }
                div {
                    label for="date" { (lang.t(("Date at the post", "Fecha en la sede"))) }
                    @if let Some(e) = &date_error { p.error id="date-error" { (e) } }
                    input #date name="date" type="date" value=(typed_date)
                        aria-invalid=[date_error.as_ref().map(|_| "true")] aria-describedby=[date_error.as_ref().map(|_| "date-error")];
                }
                div {
                    label for="clerk" { (lang.t(("Collected by", "Cobrado por"))) }
                    select #clerk name="clerk" {
                        option value="" { (lang.t(("Anyone", "Cualquiera"))) }
                        @for c in &clerks { option value=(c) selected[*c == chosen_clerk] { (c) } }
                    }
                }
                div {
                    label for="method" { (lang.t(("Payment", "Pago"))) }
                    select #method name="method" {
                        option value="" { (lang.t(("Any", "Cualquiera"))) }
                        @for (method, text) in &METHODS { option value=(method.as_str()) selected[method.as_str() == chosen_method] { (lang.t(*text)) } }
                    }
                }
                div {
                    label for="voided" { (lang.t(("Voided", "Anulados"))) }
                    select #voided name="voided" {
                        option value="" selected[chosen_voided.is_empty()] { (lang.t(("Voided or not", "Anulados o no"))) }
                        option value="no" selected[chosen_voided == "no"] { (lang.t(("Not voided", "No anulados"))) }
                        option value="yes" selected[chosen_voided == "yes"] { (lang.t(("Voided only", "Solo anulados"))) }
                    }
                }
                button type="submit" { (lang.t(("Show", "Mostrar"))) }
            }
            @if date_error.is_none() {
                table #receipts {
                    caption { (lang.t(("Receipts of", "Recibos del"))) " " (lang.date(list.date)) " (" (list.receipts.len()) ")" }
                    thead { tr {
                        th scope="col" { (lang.t(("Number", "Número"))) }
                        th scope="col" { (lang.t(("Time", "Hora"))) }
                        th scope="col" { (lang.t(("Collected by", "Cobrado por"))) }
                        th scope="col" { (lang.t(("Payer", "Pagador"))) }
                        th scope="col" { (lang.t(("Payment", "Pago"))) }
                        th scope="col" { (lang.t(("Total", "Total"))) }
                        th scope="col" { (lang.t(("Status", "Estado"))) }
                        th scope="col" { (lang.t(("Action", "Acción"))) }
                    } }
                    tbody {
                        @for r in &list.receipts {
                            tr {
                                td { a href={ "/staff/receipts/" (r.receipt_number) } { (r.receipt_number) } }
                                td { (local_time(&r.issued_at)) }
                                td { (r.clerk) }
                                td { (r.payer) }
                                td { (method_name(lang, r.method)) }
                                td { (amount(lang, r.total)) @if let Some(local) = r.local_amount { br; (amount(lang, local)) } }
                                td { @if r.voided { strong { (lang.t(("Void", "Anulado"))) } } @else { (lang.t(("Valid", "Vigente"))) } }
                                td {
                                    a href={ "/staff/receipts/" (r.receipt_number) "/receipt.pdf" } { (lang.t(("Reprint", "Reimprimir"))) span.visually-hidden { " " (r.receipt_number) } }
                                    @if r.may_void {
                                        " · "
                                        a.void href={ "/staff/receipts/" (r.receipt_number) "#void" } { (lang.t(("Void", "Anular"))) span.visually-hidden { " " (r.receipt_number) } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if list.receipts.is_empty() { p { (lang.t(("No receipts match.", "Ningún recibo coincide."))) } }
            }
            p { (back_link(lang, staff.role)) }
            (sign_out_button(lang, csrf))
        }
    }))
}
