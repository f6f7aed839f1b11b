//! The daily cash close, per clerk, post and local day: what the receipts say the clerk took
//! (per method and currency, receipts minus voids made that day), what the clerk counted, and
//! the difference with its explanation. A supervisor who is not the clerk signs it; a signed
//! day is locked (no receipt or void is dated in it).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, sealed, Action, Event};
use crate::auth::Actor;
use crate::calendar;
use crate::db::schema::{closeout_signatures, closeouts, receipt_voids, receipts, staff};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::error::{AppError, Code, FieldError};
use crate::fees::money::Currency;
use crate::fees::receipts::{day_locked, lock_day, Method};
use crate::rule::Rule;

/// One amount of one method and currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tally {
    pub method: Method,
    pub currency: Currency,
    #[serde(deserialize_with = "crate::wire::i64_whole")]
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CloseoutRequest {
    /// The local day closed; today by default. Not in the future.
    #[serde(default, deserialize_with = "crate::wire::optional_date")]
    #[schema(schema_with = crate::field_schemas::optional_plausible_date)]
    pub date: Option<NaiveDate>,
    /// What the clerk counted, per method and currency (`cash_usd` USD, `cash_local` MXN,
    /// `card` and `prepaid_online` USD); a method not listed counts as nothing.
    #[schema(max_items = 8)]
    pub counted: Vec<Tally>,
    /// Why the count differs from the receipts; needed when it does (1 to 500 characters).
    #[schema(schema_with = crate::field_schemas::note)]
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CloseoutView {
    pub id: i64,
    pub post: String,
    pub date: NaiveDate,
    /// The clerk's username.
    pub clerk: String,
    pub submitted_at: String,
    pub expected: Vec<Tally>,
    pub counted: Vec<Tally>,
    /// Counted minus expected, per method and currency (negative: short).
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// The later count of the same clerk and day that replaced this one (a recount): a
    /// replaced count is kept but never signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<i64>,
    /// The clerk's receipts of the day: how many, and the first and last numbers.
    pub receipts: ReceiptSpan,
    /// `submitted_at` and `signed_at` as times in the post's zone, for papers.
    #[serde(skip)]
    pub submitted: DateTime<Tz>,
    #[serde(skip)]
    pub signed: Option<DateTime<Tz>>,
}

/// The receipts a close covers: the clerk's receipts of the post's day, voided ones included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReceiptSpan {
    pub count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Difference {
    pub method: Method,
    pub currency: Currency,
    pub amount_cents: i64,
}

type Key = (Method, Currency);

fn key_order(k: &Key) -> (&'static str, &'static str) {
    (k.0.as_str(), k.1.as_str())
}

/// The currency each method is counted in.
pub fn currency_of(method: Method) -> Option<Currency> {
    match method {
        Method::CashLocal => Some(Currency::Mxn),
        Method::CashUsd | Method::Card | Method::PrepaidOnline => Some(Currency::Usd),
        Method::NoFee => None,
    }
}

fn to_tallies(map: BTreeMap<(&'static str, &'static str), (Key, i64)>) -> Vec<Tally> {
    map.into_values()
        .map(|((method, currency), amount_cents)| Tally { method, currency, amount_cents })
        .collect()
}

/// Counted minus expected for every method and currency either names. Pure rule.
pub fn differences(expected: &[Tally], counted: &[Tally]) -> Vec<Difference> {
    let mut map: BTreeMap<(&'static str, &'static str), (Key, i64)> = BTreeMap::new();
    for t in expected {
        let k = (t.method, t.currency);
        map.entry(key_order(&k)).or_insert((k, 0)).1 -= t.amount_cents;
    }
    for t in counted {
        let k = (t.method, t.currency);
        map.entry(key_order(&k)).or_insert((k, 0)).1 += t.amount_cents;
    }
    map.into_values()
        .map(|((method, currency), amount_cents)| Difference { method, currency, amount_cents })
        .collect()
}

/// What `clerk` should hold for `post`'s `date`: their receipts of the day, minus voids made
/// that day of their receipts, per method and currency (pesos for cash in pesos).
pub fn expected(conn: &mut DbConn, post: &str, date: NaiveDate, clerk: i64) -> QueryResult<Vec<Tally>> {
    let taken: Vec<(String, i64, Option<i64>)> = receipts::table
        .filter(receipts::post_code.eq(post))
        .filter(receipts::local_date.eq(date))
        .filter(receipts::clerk_id.eq(clerk))
        .select((receipts::method, receipts::total_cents, receipts::local_total_cents))
        .load(conn)?;
    let given_back: Vec<(String, i64, Option<i64>)> = receipt_voids::table
        .inner_join(receipts::table)
        .filter(receipt_voids::post_code.eq(post))
        .filter(receipt_voids::local_date.eq(date))
        .filter(receipts::clerk_id.eq(clerk))
        .select((receipts::method, receipts::total_cents, receipts::local_total_cents))
        .load(conn)?;
    let mut map = BTreeMap::new();
    let rows = taken.into_iter().map(|r| (r, 1)).chain(given_back.into_iter().map(|r| (r, -1)));
    for ((method, total, local), sign) in rows {
        let Some(method) = Method::parse(&method) else { continue };
        let Some(currency) = currency_of(method) else { continue };
        let amount = if currency == Currency::Mxn { local.unwrap_or(0) } else { total };
        let k = (method, currency);
        map.entry(key_order(&k)).or_insert((k, 0)).1 += sign * amount;
    }
    Ok(to_tallies(map))
}

fn check_counted(counted: &[Tally]) -> Result<Vec<Tally>, AppError> {
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for (i, t) in counted.iter().enumerate() {
        if currency_of(t.method) != Some(t.currency) {
            errors.push(FieldError::new(format!("counted[{i}]"), Rule::CountedCurrency));
        } else if seen.contains(&(t.method, t.currency)) {
            errors.push(FieldError::new(format!("counted[{i}]"), Rule::ListedTwice));
        } else if !(0..=100_000_000_000).contains(&t.amount_cents) {
            errors.push(FieldError::new(
                format!("counted[{i}].amount_cents"),
                Rule::Between { min: 0, max: 100_000_000_000 },
            ));
        }
        seen.push((t.method, t.currency));
    }
    if errors.is_empty() {
        Ok(counted.iter().copied().filter(|t| t.amount_cents != 0).collect())
    } else {
        Err(AppError::invalid(errors))
    }
}

/// Whether two tallies hold the same amount for every method and currency (a zero amount
/// and no entry are the same).
pub fn same_amounts(a: &[Tally], b: &[Tally]) -> bool {
    differences(a, b).iter().all(|d| d.amount_cents == 0)
}

fn json_of<T: Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| AppError::internal(anyhow::Error::from(e)))
}

/// The clerk closes their day: counted against the receipts, with the explanation a
/// difference needs.
pub fn submit(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    request: &CloseoutRequest,
    now: NaiveDateTime,
) -> Result<CloseoutView, AppError> {
    let clerk = actor.staff()?.id;
    actor.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let today = calendar::local_date(now, tz);
    let date = crate::booking::plausible_date("date", request.date)?.unwrap_or(today);
    if date > today {
        return Err(AppError::invalid(vec![FieldError::new("date", Rule::CloseFutureDay)]));
    }
    let counted = check_counted(&request.counted)?;
    let explanation = request
        .explanation
        .as_deref()
        .map(|e| crate::booking::free_text("explanation", e, crate::documents::tracking::MAX_NOTE_CHARS))
        .transpose()
        .map_err(|e| AppError::invalid(vec![e]))?;
    let id = write_transaction(conn, |c| -> Result<i64, AppError> {
        lock_day(c, post, date)?;
        if day_locked(c, post, date, clerk)? {
            return Err(AppError::new(Code::DayClosed, format!("the close of {date} is signed already")));
        }
        let expected = expected(c, post, date, clerk)?;
        let off = differences(&expected, &counted).iter().any(|d| d.amount_cents != 0);
        if off && explanation.is_none() {
            return Err(AppError::invalid(vec![FieldError::new("explanation", Rule::ExplainDifference)]));
        }
        let id = diesel::insert_into(closeouts::table)
            .values((
                closeouts::post_code.eq(post),
                closeouts::local_date.eq(date),
                closeouts::clerk_id.eq(clerk),
                closeouts::submitted_at.eq(now),
                closeouts::expected.eq(json_of(&expected)?),
                closeouts::counted.eq(json_of(&counted)?),
                closeouts::explanation.eq(&explanation),
            ))
            .returning(closeouts::id)
            .get_result::<i64>(c)?;
        let written: sealed::Closeout =
            closeouts::table.find(id).select(sealed::Closeout::as_select()).first(c)?;
        let event = Event::new(Action::CloseoutSubmitted, id)
            .at_post(Some(post))
            .with(sealed::with_fields(json!({"differs": off}), written.fields()));
        audit::record(c, actor, event, now)?;
        Ok(id)
    })?;
    view(conn, id)
}

/// A supervisor other than the clerk signs the clerk's latest close of the day, if the
/// receipts still say what they said when it was counted.
pub fn sign(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    id: i64,
    now: NaiveDateTime,
) -> Result<CloseoutView, AppError> {
    let signer = actor.staff()?.id;
    actor.ensure_post(post)?;
    let (date, clerk, stored): (NaiveDate, i64, String) = closeouts::table
        .filter(closeouts::id.eq(id))
        .filter(closeouts::post_code.eq(post))
        .select((closeouts::local_date, closeouts::clerk_id, closeouts::expected))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("no such cash close"))?;
    if signer == clerk {
        return Err(AppError::new(Code::OwnClose, "a supervisor other than the clerk signs"));
    }
    write_transaction(conn, |c| -> Result<(), AppError> {
        // Receipts in flight finish first; later ones see the signature.
        lock_day(c, post, date)?;
        if day_locked(c, post, date, clerk)? {
            return Err(AppError::new(Code::AlreadySigned, "the day is signed already"));
        }
        let latest: i64 = closeouts::table
            .filter(closeouts::post_code.eq(post))
            .filter(closeouts::local_date.eq(date))
            .filter(closeouts::clerk_id.eq(clerk))
            .select(diesel::dsl::max(closeouts::id))
            .first::<Option<i64>>(c)?
            .unwrap_or(id);
        // A recount replaces a count: that is no change in the receipts, and says so.
        if latest != id {
            return Err(AppError::new(
                Code::CloseReplaced,
                format!("count {latest} replaced this one: sign the latest"),
            ));
        }
        // Compared as amounts, not as the stored text, so how the JSON was written
        // (spacing, key order, a backend's own text form) is never taken for a change.
        let stored: Vec<Tally> =
            serde_json::from_str(&stored).map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
        if !same_amounts(&expected(c, post, date, clerk)?, &stored) {
            return Err(AppError::new(
                Code::CloseOutdated,
                "the receipts changed since this count: count again",
            ));
        }
        let inserted = recoverable(c, |c| {
            diesel::insert_into(closeout_signatures::table)
                .values((
                    closeout_signatures::closeout_id.eq(id),
                    closeout_signatures::signed_by.eq(signer),
                    closeout_signatures::signed_at.eq(now),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::new(Code::AlreadySigned, "signed already"))
            }
            Err(e) => return Err(e.into()),
        }
        let written: sealed::Signature =
            closeout_signatures::table.find(id).select(sealed::Signature::as_select()).first(c)?;
        let event = Event::new(Action::CloseoutSigned, id)
            .at_post(Some(post))
            .with(sealed::with_fields(json!({"date": date}), written.fields()));
        audit::record(c, actor, event, now)?;
        Ok(())
    })?;
    view(conn, id)
}

/// The closes of `post`'s `date`, every count included, oldest first.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    date: NaiveDate,
) -> Result<Vec<CloseoutView>, AppError> {
    actor.ensure_post(post)?;
    calendar::post_zone(conn, post)?;
    let ids: Vec<i64> = closeouts::table
        .filter(closeouts::post_code.eq(post))
        .filter(closeouts::local_date.eq(date))
        .order(closeouts::id)
        .select(closeouts::id)
        .load(conn)?;
    ids.into_iter().map(|id| view(conn, id)).collect()
}

/// One close as the API shows it.
pub fn view(conn: &mut DbConn, id: i64) -> Result<CloseoutView, AppError> {
    let (post, date, clerk_id, clerk, submitted, expected, counted, explanation): (
        String,
        NaiveDate,
        i64,
        String,
        NaiveDateTime,
        String,
        String,
        Option<String>,
    ) = closeouts::table
        .inner_join(staff::table.on(staff::id.eq(closeouts::clerk_id)))
        .filter(closeouts::id.eq(id))
        .select((
            closeouts::post_code,
            closeouts::local_date,
            closeouts::clerk_id,
            staff::username,
            closeouts::submitted_at,
            closeouts::expected,
            closeouts::counted,
            closeouts::explanation,
        ))
        .first(conn)?;
    let signature: Option<(String, NaiveDateTime)> = closeout_signatures::table
        .inner_join(staff::table.on(staff::id.eq(closeout_signatures::signed_by)))
        .filter(closeout_signatures::closeout_id.eq(id))
        .select((staff::username, closeout_signatures::signed_at))
        .first(conn)
        .optional()?;
    let tz = calendar::post_zone(conn, &post)?;
    let replaced_by: Option<i64> = closeouts::table
        .filter(closeouts::post_code.eq(&post))
        .filter(closeouts::local_date.eq(date))
        .filter(closeouts::clerk_id.eq(clerk_id))
        .filter(closeouts::id.gt(id))
        .select(diesel::dsl::max(closeouts::id))
        .first(conn)?;
    let numbers: Vec<String> = receipts::table
        .filter(receipts::post_code.eq(&post))
        .filter(receipts::local_date.eq(date))
        .filter(receipts::clerk_id.eq(clerk_id))
        .order(receipts::seq)
        .select(receipts::receipt_number)
        .load(conn)?;
    let receipts = ReceiptSpan {
        count: numbers.len() as i64,
        first: numbers.first().cloned(),
        last: numbers.last().cloned(),
    };
    let expected: Vec<Tally> = serde_json::from_str(&expected).unwrap_or_default();
    let counted: Vec<Tally> = serde_json::from_str(&counted).unwrap_or_default();
    Ok(CloseoutView {
        id,
        differences: differences(&expected, &counted),
        post,
        date,
        clerk,
        submitted_at: calendar::rfc3339(submitted, tz),
        expected,
        counted,
        explanation,
        signed_at: signature.as_ref().map(|s| calendar::rfc3339(s.1, tz)),
        replaced_by,
        receipts,
        submitted: Utc.from_utc_datetime(&submitted).with_timezone(&tz),
        signed: signature.as_ref().map(|s| Utc.from_utc_datetime(&s.1).with_timezone(&tz)),
        signed_by: signature.map(|s| s.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(method: Method, currency: Currency, amount_cents: i64) -> Tally {
        Tally { method, currency, amount_cents }
    }

    #[test]
    fn differences_are_counted_minus_expected_for_every_method() {
        let expected =
            [tally(Method::CashUsd, Currency::Usd, 16_500), tally(Method::CashLocal, Currency::Mxn, 224_300)];
        let counted =
            [tally(Method::CashUsd, Currency::Usd, 16_000), tally(Method::Card, Currency::Usd, 5_000)];
        let d = differences(&expected, &counted);
        let amounts: Vec<(&str, i64)> = d.iter().map(|d| (d.method.as_str(), d.amount_cents)).collect();
        assert_eq!(amounts, [("card", 5_000), ("cash_local", -224_300), ("cash_usd", -500)]);
        assert!(differences(&expected, &expected).iter().all(|d| d.amount_cents == 0));
    }
}
