//! Reports for auditors and admins: the fee report as JSON, CSV, XLSX or a PDF summary, each
//! streamed to the client as it is written.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::Denied;
use crate::auth::roles::AuditorOrAdmin;
use crate::fees::receipts::Method;
use crate::http::{export_response, Guarded, HttpError, Staff};
use crate::reports::export::Format;
use crate::reports::fee_report::{Report, Scope};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeeReportQuery {
    /// A post code, or `all` for every post (each post's dates in its own zone).
    #[param(pattern = r"^([A-Za-z]{3}|all)$")]
    post: String,
    /// The first local date.
    #[param(value_type = String, format = Date, pattern = r"^(2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    from: NaiveDate,
    /// The last local date, included; at most 400 days after `from`.
    #[param(value_type = String, format = Date, pattern = r"^(2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    to: NaiveDate,
    /// `json` (the default), `csv` (RFC 4180), `xlsx` (summary, lines and closes sheets) or
    /// `pdf` (a summary: totals and closes, no lines).
    #[param(inline)]
    format: Option<Format>,
    /// CSV only: start with a UTF-8 byte order mark, for spreadsheet programs.
    bom: Option<bool>,
    /// Only this service's visits.
    #[param(schema_with = crate::field_schemas::window_service)]
    service: Option<String>,
    /// Only this fee.
    #[param(pattern = r"^[a-z0-9-]{2,64}$")]
    fee_code: Option<String>,
    /// Only this payment method.
    #[param(inline)]
    method: Option<Method>,
    /// Only this collecting clerk (username).
    #[param(pattern = r"^[A-Za-z0-9._-]{3,64}$")]
    clerk: Option<String>,
}

/// The fee report over a range of local dates at one post or all: every receipt line with
/// its void status and a reversal row for each void in the range, totals (gross, voids, net)
/// per fee code, method and currency, and the cash closes' differences. Auditors and admins
/// only; each export writes its audit entry.
#[utoipa::path(tag = "audit", security(("staff_token" = [])), params(FeeReportQuery), responses(
    (status = 200, description = "The report in the asked format", content(
        (Report = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/pdf"),
    )),
    (status = 400, description = "`invalid_query`", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, description = "no such post", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "`to` before `from` or more than 400 days later", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/audit/fee-report")]
pub async fn fee_report(
    state: web::Data<AppState>,
    request: Guarded<Staff<AuditorOrAdmin>, web::Query<FeeReportQuery>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(auditor, query) = request;
    let query = query.into_inner();
    let format = query.format.unwrap_or(Format::Json);
    let post = crate::reports::fee_report::readable_post(&auditor, &query.post)?;
    let scope = Scope {
        post,
        from: query.from,
        to: query.to,
        service: query.service,
        fee_code: query.fee_code,
        method: query.method,
        clerk: query.clerk.map(|c| c.to_ascii_lowercase()),
    };
    Ok(export_response(&state, auditor.0, scope, format, query.bom.unwrap_or(false)).await?)
}
