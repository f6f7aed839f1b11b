//! The fee schedule's versions. A new price is a new version from a date; versions are never
//! edited (a trigger refuses it), so every receipt's price can be traced to the version it
//! was charged at.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::db::schema::{fee_schedule, fee_withdrawals, receipt_lines};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::error::{AppError, Code, FieldError};
use crate::fees::money::Currency;
use crate::rule::Rule;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FeeVersionRequest {
    /// An existing fee's code, or a new one (2 to 64 of `a-z 0-9 -`).
    #[schema(pattern = "^[a-z0-9-]{2,64}$")]
    pub code: String,
    #[schema(schema_with = crate::field_schemas::required_title)]
    pub description: String,
    /// Where the fee is set, e.g. `22 CFR 22.1 item 1`.
    #[schema(schema_with = crate::field_schemas::required_title)]
    pub cfr_item: String,
    /// In US cents, 0 to 10 000 000.
    #[serde(deserialize_with = "crate::wire::i64_whole")]
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub amount_cents: i64,
    /// The first day it is charged: after today (UTC), so no post's today is re-priced.
    #[schema(schema_with = crate::field_schemas::plausible_date)]
    pub effective_from: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeeVersionView {
    pub id: i64,
    pub code: String,
    pub description: String,
    pub cfr_item: String,
    pub amount_cents: i64,
    pub currency: Currency,
    pub effective_from: NaiveDate,
}

/// 403 `wrong_post` unless `actor` acts on every post: the fee schedule is global
/// (22 CFR 22.1), so a version added or withdrawn by an admin of one post would re-price all ten.
fn ensure_every_post(actor: &Actor) -> Result<(), AppError> {
    match actor {
        Actor::Staff(member) => member.ensure_scope(None),
        Actor::System => Ok(()),
        _ => Err(AppError::new(Code::InsufficientRole, "this needs the role admin")),
    }
}

/// Adds a version of a fee from a future date.
pub fn add_version(
    conn: &mut DbConn,
    actor: &Actor,
    request: &FeeVersionRequest,
    now: NaiveDateTime,
) -> Result<FeeVersionView, AppError> {
    ensure_every_post(actor)?;
    let mut errors = Vec::new();
    let code_ok = (2..=64).contains(&request.code.len())
        && request.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !code_ok {
        errors.push(FieldError::new("code", Rule::FeeCode));
    }
    let description =
        crate::booking::free_text("description", &request.description, 200).map_err(|e| errors.push(e)).ok();
    let cfr_item =
        crate::booking::free_text("cfr_item", &request.cfr_item, 200).map_err(|e| errors.push(e)).ok();
    if !(0..=10_000_000).contains(&request.amount_cents) {
        errors.push(FieldError::new("amount_cents", Rule::Between { min: 0, max: 10_000_000 }));
    }
    if let Err(e) = crate::calendar::plausible("effective_from", request.effective_from) {
        errors.push(e);
    } else if request.effective_from <= now.date() {
        errors.push(FieldError::new("effective_from", Rule::LaterThanToday));
    }
    let (Some(description), Some(cfr_item), true) = (description, cfr_item, errors.is_empty()) else {
        return Err(AppError::invalid(errors));
    };
    let id = write_transaction(conn, |c| -> Result<i64, AppError> {
        let inserted = recoverable(c, |c| {
            diesel::insert_into(fee_schedule::table)
                .values((
                    fee_schedule::code.eq(&request.code),
                    fee_schedule::description.eq(&description),
                    fee_schedule::cfr_item.eq(&cfr_item),
                    fee_schedule::amount_cents.eq(request.amount_cents),
                    fee_schedule::currency.eq(Currency::Usd.as_str()),
                    fee_schedule::effective_from.eq(request.effective_from),
                ))
                .returning(fee_schedule::id)
                .get_result::<i64>(c)
        });
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::new(
                    Code::FeeVersionExists,
                    "that fee has a version from that date already",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let event = Event::new(Action::FeeVersionAdded, &request.code).with(json!({
            "fee_version_id": id,
            "amount_cents": request.amount_cents,
            "effective_from": request.effective_from,
        }));
        audit::record(c, actor, event, now)?;
        Ok(id)
    })?;
    Ok(FeeVersionView {
        id,
        code: request.code.clone(),
        description,
        cfr_item,
        amount_cents: request.amount_cents,
        currency: Currency::Usd,
        effective_from: request.effective_from,
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WithdrawRequest {
    /// Why the version is withdrawn (kept with the withdrawal).
    #[schema(schema_with = crate::field_schemas::reason)]
    pub reason: String,
}

/// Withdraws the version of `code` from `effective_from`, which must not have taken effect at
/// any post yet nor been charged on a receipt: a mistyped price is taken back before anyone pays
/// it. The version stays in the schedule (append-only); the withdrawal is a record of its own,
/// and price lookups skip withdrawn versions.
pub fn withdraw_version(
    conn: &mut DbConn,
    actor: &Actor,
    code: &str,
    effective_from: NaiveDate,
    request: &WithdrawRequest,
    now: NaiveDateTime,
) -> Result<FeeVersionView, AppError> {
    ensure_every_post(actor)?;
    let reason =
        crate::booking::free_text("reason", &request.reason, 200).map_err(|e| AppError::invalid(vec![e]))?;
    let actor_id = match actor {
        Actor::Staff(member) => member.id,
        _ => return Err(AppError::new(Code::InsufficientRole, "this needs the role admin")),
    };
    write_transaction(conn, |c| -> Result<FeeVersionView, AppError> {
        let version = fee_schedule::table
            .filter(fee_schedule::code.eq(code))
            .filter(fee_schedule::effective_from.eq(effective_from))
            .select(crate::reference::Fee::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| AppError::not_found("that fee has no version from that date"))?;
        let withdrawn = fee_withdrawals::table.find(version.id).count().get_result::<i64>(c)? > 0;
        if withdrawn {
            return Err(already_withdrawn());
        }
        if version.effective_from <= crate::calendar::latest_local_date(c, now)? {
            return Err(AppError::new(
                Code::FeeVersionInForce,
                "that version has taken effect at a post: add a new version instead",
            ));
        }
        let charged = receipt_lines::table
            .filter(receipt_lines::fee_version_id.eq(version.id))
            .count()
            .get_result::<i64>(c)?
            > 0;
        if charged {
            return Err(AppError::new(Code::FeeVersionInForce, "a receipt charged that version"));
        }
        let inserted = recoverable(c, |c| {
            diesel::insert_into(fee_withdrawals::table)
                .values((
                    fee_withdrawals::fee_version_id.eq(version.id),
                    fee_withdrawals::reason.eq(&reason),
                    fee_withdrawals::withdrawn_by.eq(actor_id),
                    fee_withdrawals::withdrawn_at.eq(now),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {}
            // Another withdrawal of the same version committed first (PostgreSQL lets both
            // read "not withdrawn"; the primary key decides).
            Err(e) if is_unique_violation(&e) => return Err(already_withdrawn()),
            Err(e) => return Err(e.into()),
        }
        let event = Event::new(Action::FeeVersionWithdrawn, code).with(json!({
            "fee_version_id": version.id,
            "amount_cents": version.amount_cents,
            "effective_from": version.effective_from,
        }));
        audit::record(c, actor, event, now)?;
        Ok(FeeVersionView::from(version))
    })
}

fn already_withdrawn() -> AppError {
    AppError::new(Code::FeeVersionWithdrawn, "that version is withdrawn already")
}

/// The versions that have not taken effect at any post yet and are not withdrawn: what an admin
/// may still withdraw.
pub fn upcoming(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<FeeVersionView>, AppError> {
    let latest = crate::calendar::latest_local_date(conn, now)?;
    let versions = fee_schedule::table
        .filter(fee_schedule::effective_from.gt(latest))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            fee_withdrawals::table.filter(fee_withdrawals::fee_version_id.eq(fee_schedule::id)),
        )))
        .order((fee_schedule::effective_from, fee_schedule::code))
        .select(crate::reference::Fee::as_select())
        .load(conn)?;
    Ok(versions.into_iter().map(FeeVersionView::from).collect())
}

impl From<crate::reference::Fee> for FeeVersionView {
    fn from(f: crate::reference::Fee) -> FeeVersionView {
        FeeVersionView {
            id: f.id,
            code: f.code,
            description: f.description,
            cfr_item: f.cfr_item,
            amount_cents: f.amount_cents,
            currency: Currency::Usd,
            effective_from: f.effective_from,
        }
    }
}
