//! Fees and receipts: recording fees, receipts and their PDFs, voids, the public check of a
//! receipt's code, exchange rates, the daily cash close, and new fee-schedule versions.

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::paths::PostCode;
use crate::api::Denied;
use crate::auth::roles::{AdminOnly, AnyStaff, ClerkPlus, SupervisorPlus};
use crate::calendar;
use crate::error::AppError;
use crate::fees::closeouts::{self, CloseoutRequest, CloseoutView};
use crate::fees::rates::{self, RateRequest, RateView};
use crate::fees::receipts::{
    self, FeeRequest, ReceiptFilter, ReceiptList, ReceiptView, VerificationView, VoidRequest,
};
use crate::fees::schedule::{self, FeeVersionRequest, FeeVersionView, WithdrawRequest};
use crate::http::{client_address, pdf_response, Guarded, HttpError, Staff};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

/// A `{date}` path segment, read after the token check (an extractor that fails would answer
/// before it): 400 `invalid_path` for anything but a date from 2000 to 2200.
fn path_date(raw: &str) -> Result<NaiveDate, AppError> {
    raw.parse().ok().and_then(|d| calendar::plausible("date", d).ok()).ok_or_else(|| {
        AppError::new(crate::error::Code::InvalidPath, "the date must be YYYY-MM-DD, 2000 to 2200")
    })
}

/// Records a fee against a visit (booked or walk-in) or a tracked document of one, priced
/// from the schedule in force on the post's local date, and issues its numbered receipt.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), request_body = FeeRequest, responses(
    (status = 201, body = ReceiptView),
    Denied,
    (status = 404, description = "no such visit or document", body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`not_active` (cancelled visit), `visit_passed`, `day_closed`, `no_exchange_rate`, `payment_reference_used`, `fee_already_charged` (a fee code a receipt of the visit already charged, without `confirm_repeat`)", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/fees")]
pub async fn record_fee(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<FeeRequest>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let (key, actor) = (state.receipts.clone(), clerk.actor());
    let view = state.db(move |conn| receipts::record(conn, &key, &actor, &body, now)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// A post's receipts of one local day (today by default), in number order, filtered by the
/// collecting clerk, the method and whether voided; each says whether the caller may void it.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("post" = String, Path,), ReceiptFilter), responses(
    (status = 200, body = ReceiptList),
    (status = 400, description = "`invalid_query`: a filter that isn't one (a method not on the list, `voided` not `true` or `false`, not a date)", body = crate::error::Problem, content_type = PROBLEM),
    Denied,
    (status = 404, description = "no such post", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, description = "a date outside 2000 to 2200", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/receipts")]
pub async fn list_receipts(
    state: web::Data<AppState>,
    request: Guarded<Staff<AnyStaff>, web::Query<ReceiptFilter>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let Guarded(staff, filter) = request;
    let (post, actor, filter) = (post.into_inner(), staff.actor(), filter.into_inner());
    let now = state.clock.naive();
    let list = state.db(move |conn| receipts::list(conn, &actor, &post, &filter, now)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A receipt, voided or not.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("receipt_number" = String, Path,)), responses(
    (status = 200, body = ReceiptView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/receipts/{receipt_number}")]
pub async fn show_receipt(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    number: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let (key, actor, number) = (state.receipts.clone(), staff.actor(), number.into_inner());
    let view = state.db(move |conn| receipts::show(conn, &key, &actor, &number)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The receipt as the payer takes it home: a PDF in English and Spanish, with its code and QR
/// code, marked VOID once voided.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("receipt_number" = String, Path,)), responses(
    (status = 200, description = "the PDF", content_type = "application/pdf", body = Vec<u8>),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/receipts/{receipt_number}/receipt.pdf")]
pub async fn receipt_pdf(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    number: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let (pdf, name) = crate::pdf::receipt::printed(
        &state.pool,
        &state.receipts,
        &state.templates,
        &state.settings.public_url,
        staff.actor(),
        number.into_inner(),
    )
    .await?;
    Ok(pdf_response(pdf, &name))
}

/// Voids a receipt: a supervisor (or admin) who did not collect it, with a reason. The
/// receipt stays and shows as voided everywhere.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("receipt_number" = String, Path,)), request_body = VoidRequest, responses(
    (status = 200, body = ReceiptView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`already_voided`, `day_closed`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/receipts/{receipt_number}/void")]
pub async fn void_receipt(
    state: web::Data<AppState>,
    request: Guarded<Staff<SupervisorPlus>, web::Json<VoidRequest>>,
    number: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(supervisor, body) = request;
    let (key, actor, number) = (state.receipts.clone(), supervisor.actor(), number.into_inner());
    let view = state.db(move |conn| receipts::void(conn, &key, &actor, &number, &body, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The code printed on the receipt (`K7QM4-XPT9A`).
    sig: String,
}

/// Checks the code printed on a receipt: `valid`, `voided`, or `invalid` for a code that is
/// not the receipt's own (forged, altered, or no such receipt). For machines; people open the
/// page `/receipts/verify/{receipt_number}?sig=` (the receipt's QR code), which checks the
/// same way under the same per-address limit.
#[utoipa::path(tag = "fees", params(("receipt_number" = String, Path,), VerifyQuery), responses(
    (status = 200, body = VerificationView),
    (status = 400, description = "`invalid_query`: no code", body = crate::error::Problem, content_type = PROBLEM),
    (status = 429, description = "throttled (`Retry-After`)", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/receipts/verify/{receipt_number}")]
pub async fn verify_receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, HttpError> {
    let (number, sig) = (number.into_inner(), query.into_inner().sig);
    let found = receipts::check(
        &state.pool,
        &state.receipts,
        state.settings.tracking,
        state.clock.naive(),
        client_address(&req),
        number,
        sig,
    )
    .await?;
    Ok(HttpResponse::Ok().json(found.view()))
}

/// A post's local day, in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only its OpenAPI description is used; the handlers read the path as text
pub struct PostDay {
    /// A post code such as MEX.
    post: String,
    /// The post's local date, `YYYY-MM-DD` (2000 to 2200).
    #[param(schema_with = crate::field_schemas::plausible_date)]
    date: String,
}

/// Sets a post's exchange rate (pesos per dollar) for a local day; replaceable until a
/// receipt in pesos used it.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(PostDay), request_body = RateRequest, responses(
    (status = 200, body = RateView),
    Denied,
    (status = 400, description = "`invalid_path`: not a date", body = crate::error::Problem, content_type = PROBLEM),
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`rate_in_use`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[put("/staff/posts/{post}/exchange-rates/{date}")]
pub async fn set_rate(
    state: web::Data<AppState>,
    request: Guarded<Staff<SupervisorPlus>, web::Json<RateRequest>>,
    post: PostCode,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(supervisor, body) = request;
    let (post, date, actor) = (post.into_inner(), path_date(&path.1)?, supervisor.actor());
    let view = state.db(move |conn| rates::set(conn, &actor, &post, date, &body, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A post's exchange rate for a local day.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(PostDay), responses(
    (status = 200, body = RateView),
    Denied,
    (status = 400, description = "`invalid_path`: not a date", body = crate::error::Problem, content_type = PROBLEM),
    (status = 404, description = "no rate set", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/exchange-rates/{date}")]
pub async fn show_rate(
    state: web::Data<AppState>,
    staff: Staff<AnyStaff>,
    post: PostCode,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let (post, date, actor) = (post.into_inner(), path_date(&path.1)?, staff.actor());
    let view = state.db(move |conn| rates::show(conn, &actor, &post, date)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A clerk closes their day at the post: what they counted per method and currency, against
/// what their receipts (minus voids) say; a difference needs an explanation.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("post" = String, Path,)), request_body = CloseoutRequest, responses(
    (status = 201, body = CloseoutView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`day_closed`: signed already", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/posts/{post}/closeouts")]
pub async fn submit_closeout(
    state: web::Data<AppState>,
    request: Guarded<Staff<ClerkPlus>, web::Json<CloseoutRequest>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(clerk, body) = request;
    let (post, actor) = (post.into_inner(), clerk.actor());
    let view = state.db(move |conn| closeouts::submit(conn, &actor, &post, &body, now)).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CloseoutQuery {
    /// The post's local date; today by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    date: Option<NaiveDate>,
}

/// The cash closes of a post's local day, every count, with their signatures.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("post" = String, Path,), CloseoutQuery), responses(
    (status = 200, body = Vec<CloseoutView>),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/staff/posts/{post}/closeouts")]
pub async fn list_closeouts(
    state: web::Data<AppState>,
    request: Guarded<Staff<AnyStaff>, web::Query<CloseoutQuery>>,
    post: PostCode,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(staff, query) = request;
    let (post, date, actor) = (post.into_inner(), query.into_inner().date, staff.actor());
    let list = state
        .db(move |conn| {
            let date = match crate::booking::plausible_date("date", date)? {
                Some(date) => date,
                None => calendar::local_date(now, calendar::post_zone(conn, &post)?),
            };
            closeouts::list(conn, &actor, &post, date)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A supervisor other than the clerk signs the clerk's latest count of the day; the day is
/// then locked.
#[utoipa::path(tag = "fees", security(("staff_token" = [])), params(("post" = String, Path,), ("id" = i64, Path,)), responses(
    (status = 200, body = CloseoutView),
    Denied,
    (status = 404, body = crate::error::Problem, content_type = PROBLEM),
    (status = 409, description = "`already_signed`, `close_replaced` (a recount replaced it), `close_outdated` (receipts or voids changed)", body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/staff/posts/{post}/closeouts/{id}/sign")]
pub async fn sign_closeout(
    state: web::Data<AppState>,
    supervisor: Staff<SupervisorPlus>,
    post: PostCode,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let id: i64 = path.1.parse().map_err(|_| AppError::not_found("no such cash close"))?;
    let (post, actor) = (post.into_inner(), supervisor.actor());
    let view = state.db(move |conn| closeouts::sign(conn, &actor, &post, id, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Adds a version of a fee from a later date; versions in force are never edited.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), request_body = FeeVersionRequest, responses(
    (status = 201, body = FeeVersionView),
    Denied,
    (status = 409, description = "`fee_version_exists`", body = crate::error::Problem, content_type = PROBLEM),
    (status = 422, body = crate::error::Problem, content_type = PROBLEM),
))]
#[post("/admin/fees")]
pub async fn add_fee_version(
    state: web::Data<AppState>,
    request: Guarded<Staff<AdminOnly>, web::Json<FeeVersionRequest>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(admin, body) = request;
    let actor = admin.actor();
    let view = state.db(move |conn| schedule::add_version(conn, &actor, &body, now)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Withdraws a fee version that has not taken effect at any post and that no receipt charged:
/// a mistyped price is taken back before anyone pays it. Only an admin bound to no post, since
/// the schedule applies at every post. The version stays on record with its withdrawal.
#[utoipa::path(tag = "admin", security(("staff_token" = [])), request_body = WithdrawRequest,
    params(
        ("code" = String, Path, description = "the fee's code"),
        ("effective_from" = NaiveDate, Path, description = "the version's first day"),
    ),
    responses(
        (status = 200, description = "withdrawn; the version as it was", body = FeeVersionView),
        Denied,
        (status = 404, description = "`not_found`: no version of that fee from that date", body = crate::error::Problem, content_type = PROBLEM),
        (status = 409, description = "`fee_version_in_force` (taken effect at a post, or charged), `fee_version_withdrawn`", body = crate::error::Problem, content_type = PROBLEM),
        (status = 422, description = "`validation_failed`: no reason, or one over 200 characters", body = crate::error::Problem, content_type = PROBLEM),
    ),
)]
#[delete("/admin/fees/{code}/versions/{effective_from}")]
pub async fn withdraw_fee_version(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    request: Guarded<Staff<AdminOnly>, web::Json<WithdrawRequest>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(admin, body) = request;
    let (code, effective_from) = path.into_inner();
    let effective_from = NaiveDate::parse_from_str(&effective_from, "%Y-%m-%d")
        .map_err(|_| AppError::not_found("that fee has no version from that date"))?;
    let actor = admin.actor();
    let view = state
        .db(move |conn| schedule::withdraw_version(conn, &actor, &code, effective_from, &body, now))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
