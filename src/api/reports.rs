//! Reports for auditors and admins: the fee report as JSON, or streamed as CSV.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use chrono::{NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::Denied;
use crate::auth::roles::AuditorOrAdmin;
use crate::auth::{Guarded, Staff};
use crate::error::AppError;
use crate::fees::receipts::Method;
use crate::reports::fee_report::{self as report, Report, Scope};
use crate::reports::{csv, export};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
}

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
    /// `json` (the default) or `csv` (streamed, RFC 4180).
    #[param(inline)]
    format: Option<ReportFormat>,
    /// CSV only: start with a UTF-8 byte order mark, for spreadsheet programs.
    bom: Option<bool>,
    /// Only this service's visits.
    #[param(schema_with = crate::api::schemas::window_service)]
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
    (status = 200, description = "JSON, or with `format=csv` the rows as a CSV file", content(
        (Report = "application/json"),
        (String = "text/csv"),
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
) -> Result<HttpResponse, AppError> {
    let Guarded(auditor, query) = request;
    let query = query.into_inner();
    let format = query.format.unwrap_or(ReportFormat::Json);
    let post = match query.post.as_str() {
        "all" => None,
        code => Some(crate::reference::normalise_post(code)),
    };
    let scope = Scope {
        post,
        from: query.from,
        to: query.to,
        service: query.service,
        fee_code: query.fee_code,
        method: query.method,
        clerk: query.clerk.map(|c| c.to_ascii_lowercase()),
    };
    let member = (*auditor).clone();
    let actor = auditor.actor();
    let format_name = if format == ReportFormat::Csv { "csv" } else { "json" };
    let scope = state
        .db(move |conn| {
            let scope = scope.check(Some(&member))?;
            export::record(conn, &actor, &scope, format_name, Utc::now().naive_utc())?;
            Ok(scope)
        })
        .await?;
    let name = export::file_name(&scope, format_name);
    if format == ReportFormat::Json {
        let generated = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let report = state.db(move |conn| report::build(conn, &scope, generated)).await?;
        return Ok(HttpResponse::Ok().json(report));
    }
    // CSV: rows go out as they are read, a batch at a time; memory stays flat.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, AppError>>(4);
    let (pool, bom) = (state.pool.clone(), query.bom.unwrap_or(false));
    actix_web::rt::task::spawn_blocking(move || {
        let run = || -> Result<(), AppError> {
            let mut conn = pool.get()?;
            let mut buffer = String::with_capacity(80 * 1024);
            if bom {
                buffer.push_str(csv::BOM);
            }
            buffer.push_str(&csv::header());
            report::for_each_row(&mut conn, &scope, |row| {
                buffer.push_str(&csv::line(&row));
                if buffer.len() >= 64 * 1024 {
                    let chunk = Bytes::from(std::mem::take(&mut buffer));
                    // The client went away: stop reading.
                    sender
                        .blocking_send(Ok(chunk))
                        .map_err(|_| AppError::internal(anyhow::anyhow!("client gone")))?;
                }
                Ok(())
            })?;
            let _ = sender.blocking_send(Ok(Bytes::from(buffer)));
            Ok(())
        };
        if let Err(e) = run() {
            let _ = sender.blocking_send(Err(e));
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(ChannelBody(receiver)))
}

/// A response body fed by a channel: chunks as the producer sends them.
struct ChannelBody(tokio::sync::mpsc::Receiver<Result<Bytes, AppError>>);

impl MessageBody for ChannelBody {
    type Error = AppError;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.get_mut().0.poll_recv(cx)
    }
}
