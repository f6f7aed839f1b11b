//! Exchange rates: pesos per US dollar for a post's local day, set by a supervisor. A rate
//! that receipts in pesos were issued at stays as it is.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::calendar;
use crate::db::schema::{exchange_rates, receipts};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::error::{AppError, Code, FieldError};
use crate::fees::money::{Currency, LOCAL_CURRENCY};
use crate::rule::Rule;

/// The highest rate accepted: a thousand pesos to the dollar.
pub const MAX_RATE_MICROS: i64 = 1_000_000_000;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RateRequest {
    /// The local currency: `MXN`.
    #[schema(schema_with = crate::field_schemas::local_currency)]
    pub currency: Currency,
    /// Pesos per US dollar in millionths: 17.25 is `17250000` (1 to 1 000 000 000).
    #[serde(deserialize_with = "crate::wire::i64_whole")]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub rate_micros: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateView {
    pub post: String,
    pub date: NaiveDate,
    pub currency: Currency,
    pub rate_micros: i64,
    pub set_at: String,
}

fn view(conn: &mut DbConn, post: &str, date: NaiveDate) -> Result<RateView, AppError> {
    let tz = calendar::post_zone(conn, post)?;
    let (rate, set_at): (i64, NaiveDateTime) = exchange_rates::table
        .find((post, date, LOCAL_CURRENCY.as_str()))
        .select((exchange_rates::rate_micros, exchange_rates::set_at))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no rate for {post} on {date}")))?;
    Ok(RateView {
        post: post.into(),
        date,
        currency: LOCAL_CURRENCY,
        rate_micros: rate,
        set_at: calendar::rfc3339(set_at, tz),
    })
}

/// The rate of `post`'s `date`.
pub fn show(conn: &mut DbConn, actor: &Actor, post: &str, date: NaiveDate) -> Result<RateView, AppError> {
    actor.ensure_post(post)?;
    view(conn, post, date)
}

/// Sets (or, while no receipt in pesos used it, replaces) the rate of `post`'s `date`.
pub fn set(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    date: NaiveDate,
    request: &RateRequest,
    now: NaiveDateTime,
) -> Result<RateView, AppError> {
    let by = actor.staff()?.id;
    actor.ensure_post(post)?;
    calendar::post_zone(conn, post)?;
    let mut errors = Vec::new();
    if request.currency != LOCAL_CURRENCY {
        errors.push(FieldError::new("currency", Rule::LocalCurrency { currency: LOCAL_CURRENCY.as_str() }));
    }
    if !(1..=MAX_RATE_MICROS).contains(&request.rate_micros) {
        errors.push(FieldError::new("rate_micros", Rule::Between { min: 1, max: MAX_RATE_MICROS }));
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    write_transaction(conn, |c| -> Result<(), AppError> {
        let used: i64 = receipts::table
            .filter(receipts::post_code.eq(post))
            .filter(receipts::local_date.eq(date))
            .filter(receipts::rate_micros.is_not_null())
            .count()
            .get_result(c)?;
        if used > 0 {
            return Err(AppError::new(Code::RateInUse, "receipts in pesos were issued at this rate"));
        }
        let key = (post, date, LOCAL_CURRENCY.as_str());
        let replaced = diesel::update(exchange_rates::table.find(key))
            .set((
                exchange_rates::rate_micros.eq(request.rate_micros),
                exchange_rates::set_by.eq(by),
                exchange_rates::set_at.eq(now),
            ))
            .execute(c)?;
        if replaced == 0 {
            let inserted = recoverable(c, |c| {
                diesel::insert_into(exchange_rates::table)
                    .values((
                        exchange_rates::post_code.eq(post),
                        exchange_rates::local_date.eq(date),
                        exchange_rates::currency.eq(LOCAL_CURRENCY.as_str()),
                        exchange_rates::rate_micros.eq(request.rate_micros),
                        exchange_rates::set_by.eq(by),
                        exchange_rates::set_at.eq(now),
                    ))
                    .execute(c)
            });
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    diesel::update(exchange_rates::table.find(key))
                        .set((
                            exchange_rates::rate_micros.eq(request.rate_micros),
                            exchange_rates::set_by.eq(by),
                            exchange_rates::set_at.eq(now),
                        ))
                        .execute(c)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let event = Event::new(Action::ExchangeRateSet, format!("{post}:{date}"))
            .at_post(Some(post))
            .with(json!({"currency": LOCAL_CURRENCY.as_str(), "rate_micros": request.rate_micros}));
        audit::record(c, actor, event, now)?;
        Ok(())
    })?;
    view(conn, post, date)
}
