//! Posts, services and the fee schedule: public reference data.

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::booking::plausible_date;
use crate::http::HttpError;
use crate::reference;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct PostView {
    /// Three-letter post code, e.g. `MEX`.
    code: String,
    name: String,
    city: String,
    /// `embassy`, `consulate_general` or `consulate`.
    kind: String,
    /// IANA time zone; every time the post shows is in this zone.
    timezone: String,
    /// The embassy's 24-hour line for emergencies of US citizens.
    emergency_phone: String,
    /// The street address, as receipts print it.
    address: String,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceView {
    code: String,
    name: String,
    /// The application form, e.g. `DS-11`.
    form: Option<String>,
    duration_minutes: i32,
    /// How many people one appointment may cover.
    max_party_size: i32,
    description: String,
}

#[derive(Serialize, ToSchema)]
pub struct FeeView {
    code: String,
    description: String,
    amount_cents: i64,
    currency: String,
    /// The legal basis, e.g. `22 CFR 22.1 item 2(a)`.
    cfr_item: String,
    effective_from: NaiveDate,
    effective_until: Option<NaiveDate>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeesQuery {
    /// The schedule in force on this date (`YYYY-MM-DD`, 2000 to 2200); today (UTC) when omitted.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    date: Option<NaiveDate>,
}

/// The embassy and consulates, with their time zones.
#[utoipa::path(tag = "reference", responses((status = 200, body = [PostView])))]
#[get("/posts")]
pub async fn list_posts(state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let posts = state.db(|conn| Ok(reference::list_posts(conn)?)).await?;
    let body: Vec<PostView> = posts
        .into_iter()
        .map(|p| PostView {
            code: p.code,
            name: p.name,
            city: p.city,
            kind: p.kind,
            timezone: p.timezone,
            emergency_phone: p.emergency_phone,
            address: p.address,
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// The services that can be booked.
#[utoipa::path(tag = "reference", responses((status = 200, body = [ServiceView])))]
#[get("/services")]
pub async fn list_services(state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let services = state.db(|conn| Ok(reference::list_services(conn)?)).await?;
    let body: Vec<ServiceView> = services
        .into_iter()
        .map(|s| ServiceView {
            code: s.code,
            name: s.name,
            form: s.form,
            duration_minutes: s.duration_minutes,
            max_party_size: s.max_party_size,
            description: s.description,
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

/// The fee schedule in force today (or on `date`).
#[utoipa::path(tag = "reference", params(FeesQuery), responses(
    (status = 200, body = [FeeView]),
    (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/fees")]
pub async fn list_fees(
    state: web::Data<AppState>,
    query: web::Query<FeesQuery>,
) -> Result<HttpResponse, HttpError> {
    let date = plausible_date("date", query.date)?.unwrap_or_else(|| state.clock.now().date_naive());
    let fees = state.db(move |conn| Ok(reference::fees_on(conn, date)?)).await?;
    let body: Vec<FeeView> = fees
        .into_iter()
        .map(|f| FeeView {
            code: f.code,
            description: f.description,
            amount_cents: f.amount_cents,
            currency: f.currency,
            cfr_item: f.cfr_item,
            effective_from: f.effective_from,
            effective_until: f.effective_until,
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}
