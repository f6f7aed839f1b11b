//! "Tell us what you think": anyone sends feedback about a post; staff of the post read it;
//! auditors and admins export it as CSV.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::{AnyStaff, AuditorOrAdmin};
use crate::feedback::export::{self, Scope};
use crate::feedback::{self, FeedbackPage, FeedbackRequest};
use crate::http::{client_address, csv_response, Guarded, HttpError, Staff};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

/// The largest body `POST /api/v1/feedback` reads: a request with a 4,000-character text in
/// any script fits even with every character escaped (`\ud83d\ude00` is 12 bytes), and
/// nothing much larger is read.
pub const MAX_BODY_BYTES: usize = 56 * 1024;

/// The answer to a feedback sent: nothing to keep.
#[derive(Serialize, ToSchema)]
pub struct Received {}

/// Sends feedback about a post, and optionally one of its services, with an address to be
/// answered at if wanted. Anyone may: no token. At most five an hour from one client address
/// (`CONSULAR_DESK_FEEDBACK_PER_HOUR_PER_ADDRESS`); a refused one counts against nobody.
/// Audited as `feedback.submitted` (the post, the service, whether an address was given;
/// never the text or the address).
#[utoipa::path(tag = "feedback", request_body = FeedbackRequest, responses(
    (status = 202, description = "kept for the post's staff to read", body = Received),
    (status = 413, description = "`payload_too_large`: the body is over 56 KiB", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "`validation_failed`: `post` not a post's code (`not_a_post`) or no post's (`not_a_choice`); `service` no service's (`not_a_choice`); `text` empty (`empty`), only spaces (`only_spaces`), over 4000 characters (`at_most_characters`) or holding control or invisible characters other than line breaks and tabs (`invisible_characters`); `email` not an address (`not_an_email`, `too_long`); `language` neither `en` nor `es` (`not_a_choice`)", body = crate::error::Problem, content_type = PROBLEM),
    (status = 429, description = "`too_many_requests`: five an hour per client address (`CONSULAR_DESK_FEEDBACK_PER_HOUR_PER_ADDRESS`)", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("")]
pub async fn submit_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<FeedbackRequest>,
) -> Result<HttpResponse, HttpError> {
    let (now, address, limits) = (state.clock.naive(), client_address(&req), state.settings.feedback);
    let request = body.into_inner();
    state.db(move |conn| feedback::submit(conn, &limits, &request, &address, now)).await?;
    Ok(HttpResponse::Accepted().json(Received {}))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// The first local date; 29 days before `to` (30 days in all) by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    from: Option<NaiveDate>,
    /// The last local date, included; today by default. At most 400 days after `from`.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    to: Option<NaiveDate>,
}

/// A post's feedback over a range of its local dates, the newest first, at most 500 (`more`
/// says when the range holds more). Any staff member of the post, and staff bound to none;
/// another post's staff get 403 `wrong_post`.
#[utoipa::path(tag = "feedback", security(("staff_token" = [])), params(("post" = String, Path,), FeedbackQuery), responses(
    (status = 200, body = FeedbackPage),
    (status = 400, description = "`invalid_query`: a date that is not one", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, description = "`not_found`: no such post", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "`validation_failed`: a date outside 2000–2200 (`date_out_of_range`), `to` before `from` or more than 400 days after it (`range_too_long`)", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/feedback")]
pub async fn list_feedback(
    state: web::Data<AppState>,
    request: Guarded<Staff<AnyStaff>, web::Query<FeedbackQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let Guarded(staff, query) = request;
    let (post, query, actor, now) =
        (post.into_inner(), query.into_inner(), staff.actor(), state.clock.naive());
    let page = state.db(move |conn| feedback::list(conn, &actor, &post, query.from, query.to, now)).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// A post code, or `all` for every post (each post's dates in its own zone). By default
    /// the reader's own post, or every post for one bound to none.
    #[param(pattern = r"^([A-Za-z]{3}|all)$")]
    post: Option<String>,
    /// The first local date; 29 days before `to` by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    from: Option<NaiveDate>,
    /// The last local date, included; today by default. At most 400 days after `from`.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    to: Option<NaiveDate>,
    /// Start with a UTF-8 byte order mark, for spreadsheet programs.
    bom: Option<bool>,
}

/// Feedback as CSV (RFC 4180, CRLF line ends; a cell a spreadsheet would run as a formula
/// starts with `'`): `id, post, service, received_at, language, email, text`, post by post,
/// oldest first. Auditors and admins; one bound to a post exports only its own. Audited as
/// `feedback.exported`.
#[utoipa::path(tag = "audit", security(("staff_token" = [])), params(ExportQuery), responses(
    (status = 200, description = "the CSV file", content_type = "text/csv", body = String),
    (status = 400, description = "`invalid_query`: a date that is not one", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, description = "`not_found`: no such post", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "`validation_failed`: a date outside 2000–2200 (`date_out_of_range`), `to` before `from` or more than 400 days after it (`range_too_long`)", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/audit/feedback.csv")]
pub async fn export_feedback(
    state: web::Data<AppState>,
    request: Guarded<Staff<AuditorOrAdmin>, web::Query<ExportQuery>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(auditor, query) = request;
    let ExportQuery { post, from, to, bom } = query.into_inner();
    let scope = Scope { post, from, to, bom: bom.unwrap_or(false) };
    let (actor, now) = (auditor.actor(), state.clock.naive());
    let file = state.db(move |conn| export::export(conn, &actor, &scope, now)).await?;
    Ok(csv_response(file.csv, &file.file_name))
}
