//! Recording fees and voiding them. A fee is recorded against a visit (booked or walk-in) or a
//! tracked document of one, priced from the schedule in force on the post's local date, paid
//! one way, and written as a receipt numbered per post and fiscal year in the same
//! transaction. Nothing here updates or deletes a receipt: a void is a record of its own.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::fields::PersonName;
use crate::audit::{self, sealed, Action, Event};
use crate::auth::Actor;
use crate::booking::party::Party;
use crate::booking::reference_code::Reference;
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::config::TrackingSettings;
use crate::counters;
use crate::db::schema::{
    appointments, closeout_signatures, closeouts, documents, exchange_rates, posts, receipt_lines,
    receipt_voids, receipts, staff,
};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::documents::records;
use crate::documents::tracking::TrackingNumber;
use crate::error::{AppError, Code, FieldError};
use crate::fees::money::{self, Currency, Money, LOCAL_CURRENCY};
use crate::fees::pricing::{self, ItemInput, Line, NoFeeBasis};
use crate::fees::verification::ReceiptKey;
use crate::reference;
use crate::throttle::{self, Limit};
use crate::window::visits;

/// How a fee is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    CashUsd,
    /// Cash in pesos, at the post's exchange rate for the day.
    CashLocal,
    Card,
    /// Paid ahead online; the external payment reference is kept and can't be used twice.
    PrepaidOnline,
    /// No fee, on a basis from the fixed list.
    NoFee,
}

impl Method {
    pub const ALL: [Method; 5] =
        [Method::CashUsd, Method::CashLocal, Method::Card, Method::PrepaidOnline, Method::NoFee];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::CashUsd => "cash_usd",
            Method::CashLocal => "cash_local",
            Method::Card => "card",
            Method::PrepaidOnline => "prepaid_online",
            Method::NoFee => "no_fee",
        }
    }

    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PaymentInput {
    pub method: Method,
    /// `prepaid_online` only: the payment provider's reference (4 to 64 of `A-Z a-z 0-9 . _ -`).
    #[schema(schema_with = crate::api::schemas::payment_reference)]
    pub external_reference: Option<String>,
    /// `no_fee` only: why nothing is charged.
    pub no_fee_basis: Option<NoFeeBasis>,
}

/// A fee to record: against a visit, or a tracked document of one (the notarial job's
/// certificates then fix how many certificate fees are charged).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FeeRequest {
    #[schema(schema_with = crate::api::schemas::optional_reference)]
    pub appointment_reference: Option<String>,
    #[schema(schema_with = crate::api::schemas::optional_tracking_number)]
    pub tracking_number: Option<String>,
    #[schema(min_items = 1, max_items = 20)]
    pub items: Vec<ItemInput>,
    pub payment: PaymentInput,
    /// Who pays, as printed on the receipt; the visit's first person when absent.
    #[schema(schema_with = crate::api::schemas::optional_person_name)]
    pub payer: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineView {
    pub fee_code: String,
    pub description: String,
    pub quantity: u32,
    pub unit: Money,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub method: Method,
    /// `cash_local`: what was paid in pesos, and the rate (pesos per dollar, in millionths).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_micros: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_fee_basis: Option<NoFeeBasis>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoidView {
    pub voided_at: String,
    /// `voided_at` as a time in the post's zone, for papers.
    #[serde(skip)]
    pub at: DateTime<Tz>,
    /// The supervisor's username.
    pub voided_by: String,
    pub reason: String,
}

/// A receipt. Times carry the post's offset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptView {
    /// `MEX-2027-000123`: post, fiscal year, number.
    pub receipt_number: String,
    pub post: String,
    pub post_name: String,
    pub post_address: String,
    pub issued_at: String,
    /// `issued_at` as a time in the post's zone, for papers.
    #[serde(skip)]
    pub issued: DateTime<Tz>,
    /// The post's local date it is dated in.
    pub local_date: NaiveDate,
    /// The visit.
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// The tracking numbers of what it paid for: the document it was recorded against, or,
    /// for a fee against the visit, the visit's documents recorded at or before its issue
    /// (so a reprint lists what the first print did), in the order they were recorded.
    pub tracking_numbers: Vec<String>,
    pub payer: String,
    /// The collecting clerk's username.
    pub clerk: String,
    pub items: Vec<LineView>,
    pub total: Money,
    pub payment: PaymentView,
    /// Present once voided: the receipt stays, and shows as void everywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided: Option<VoidView>,
    /// The code printed on the receipt, checked by the page `/receipts/verify/...` (its QR code)
    /// and `GET /api/v1/receipts/verify/...`.
    pub verification_code: String,
}

/// A void: why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VoidRequest {
    /// 1 to 500 characters.
    #[schema(schema_with = crate::api::schemas::window_reason)]
    pub reason: String,
}

/// The counter scope of a post's receipts in a fiscal year.
pub fn counter_scope(post: &str, fiscal_year: i32) -> String {
    format!("receipt:{post}:{fiscal_year}")
}

/// Orders everything dated in `post`'s local `date` (receipts, voids, closes and their
/// signatures) by one row lock, held to the end of the caller's transaction: a signature
/// waits for the receipts in flight, and receipts after it see it. The row counts the
/// operations that took it; its number is not used.
pub fn lock_day(conn: &mut DbConn, post: &str, date: NaiveDate) -> QueryResult<()> {
    counters::next(conn, &format!("day:{post}:{date}")).map(|_| ())
}

/// Whether `clerk`'s cash close of `post`'s `date` is signed: the day is locked.
pub fn day_locked(conn: &mut DbConn, post: &str, date: NaiveDate, clerk: i64) -> QueryResult<bool> {
    let signed: i64 = closeouts::table
        .inner_join(closeout_signatures::table)
        .filter(closeouts::post_code.eq(post))
        .filter(closeouts::local_date.eq(date))
        .filter(closeouts::clerk_id.eq(clerk))
        .count()
        .get_result(conn)?;
    Ok(signed > 0)
}

fn day_closed(date: NaiveDate) -> AppError {
    AppError::new(Code::DayClosed, format!("the cash close of {date} is signed"))
}

/// The visit a fee is for, with the tracked document when one is named.
struct Target {
    visit: visits::Visit,
    reference: Reference,
    document: Option<(i64, Option<u32>)>,
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::invalid(vec![FieldError::new(field, message)])
}

fn target(conn: &mut DbConn, actor: &Actor, request: &FeeRequest) -> Result<Target, AppError> {
    let document = match &request.tracking_number {
        None => None,
        Some(raw) => {
            let tracking = TrackingNumber::parse(raw).ok_or_else(records::no_such_document)?;
            let row: Option<(i64, String, String, String, String)> = documents::table
                .inner_join(appointments::table)
                .filter(documents::tracking_number.eq(tracking.as_str()))
                .select((
                    documents::id,
                    appointments::reference,
                    documents::kind,
                    documents::details,
                    documents::post_code,
                ))
                .first(conn)
                .optional()?;
            let (id, reference, kind, details, _) = row
                .filter(|(.., post)| records::sees_post(actor, post))
                .ok_or_else(records::no_such_document)?;
            Some((id, reference, kind, details))
        }
    };
    let reference = match (&request.appointment_reference, &document) {
        (None, None) => {
            return Err(invalid("appointment_reference", "name the visit or the tracked document"))
        }
        (Some(raw), _) => Reference::parse(raw).ok_or_else(|| AppError::not_found("no such appointment"))?,
        (None, Some((_, reference, _, _))) => {
            Reference::parse(reference).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad reference")))?
        }
    };
    if let Some((_, of_document, _, _)) = &document {
        if of_document != reference.as_str() {
            return Err(invalid("tracking_number", "is a document of another visit"));
        }
    }
    let visit = visits::find(conn, actor, &reference)?;
    let document = document.map(|(id, _, kind, details)| {
        let certificates = (kind == "notarial")
            .then(|| serde_json::from_str::<serde_json::Value>(&details).ok())
            .flatten()
            .and_then(|d| d["certificates"].as_u64())
            .and_then(|n| u32::try_from(n).ok());
        (id, certificates)
    });
    Ok(Target { visit, reference, document })
}

/// The payer as printed: as given, or the visit's first person.
fn payer(conn: &mut DbConn, request: &FeeRequest, visit_id: i64) -> Result<String, AppError> {
    if let Some(raw) = &request.payer {
        return PersonName::parse(raw).map(|n| n.as_str().to_string()).map_err(|m| invalid("payer", m));
    }
    let party: String = appointments::table.find(visit_id).select(appointments::party).first(conn)?;
    let party = Party::from_json(&party);
    Ok(party.people().first().map(|p| format!("{} {}", p.given_names, p.surname)).unwrap_or_default())
}

/// The payment's checked fields: (local total and rate, external reference, no-fee basis).
type Checked = (Option<(i64, i64)>, Option<String>, Option<NoFeeBasis>);

fn check_payment(
    conn: &mut DbConn,
    payment: &PaymentInput,
    total: i64,
    post: &str,
    date: NaiveDate,
) -> Result<Checked, AppError> {
    let method = payment.method;
    if method == Method::NoFee && payment.no_fee_basis.is_none() {
        return Err(invalid("payment.no_fee_basis", "a no-fee record needs its basis"));
    }
    if method != Method::NoFee && payment.no_fee_basis.is_some() {
        return Err(invalid("payment.no_fee_basis", "is only for no_fee"));
    }
    if method != Method::NoFee && total == 0 {
        return Err(invalid("payment.method", "nothing to pay: record it as no_fee with its basis"));
    }
    let reference = match (&payment.external_reference, method) {
        (None, Method::PrepaidOnline) => {
            return Err(invalid("payment.external_reference", "an online payment needs its reference"))
        }
        (Some(_), m) if m != Method::PrepaidOnline => {
            return Err(invalid("payment.external_reference", "is only for prepaid_online"))
        }
        (Some(r), _) => {
            let ok = (4..=64).contains(&r.len())
                && r.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !ok {
                return Err(invalid("payment.external_reference", "must be 4 to 64 of A-Z a-z 0-9 . _ -"));
            }
            Some(r.clone())
        }
        (None, _) => None,
    };
    let local = if method == Method::CashLocal {
        let rate: i64 = exchange_rates::table
            .find((post, date, LOCAL_CURRENCY.as_str()))
            .select(exchange_rates::rate_micros)
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                AppError::new(Code::NoExchangeRate, format!("no exchange rate for {post} on {date}"))
            })?;
        let amount = money::local_amount(total, rate)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("local amount overflow")))?;
        Some((amount, rate))
    } else {
        None
    };
    Ok((local, reference, payment.no_fee_basis))
}

/// Records a fee and issues its receipt.
pub fn record(
    conn: &mut DbConn,
    key: &ReceiptKey,
    actor: &Actor,
    request: &FeeRequest,
    now: NaiveDateTime,
) -> Result<ReceiptView, AppError> {
    let clerk = actor.staff()?.id;
    let Target { visit, reference, document } = target(conn, actor, request)?;
    let today = calendar::local_date(now, visit.tz);
    match visit.status {
        Some(AppointmentStatus::Cancelled) | None => {
            return Err(AppError::new(Code::NotActive, "a cancelled visit takes no fees"))
        }
        _ => {}
    }
    if calendar::local_date(visit.starts_at, visit.tz) < today {
        return Err(AppError::new(Code::VisitPassed, "the visit's day is over"));
    }
    let payer = payer(conn, request, visit.id)?;
    let schedule = reference::fees_on(conn, today)?;
    let no_fee = request.payment.method == Method::NoFee;
    let lines = pricing::price(&request.items, &schedule, no_fee, document.and_then(|d| d.1))
        .map_err(AppError::invalid)?;
    let total = pricing::total(&lines);
    let (local, external, basis) = check_payment(conn, &request.payment, total, &visit.post, today)?;
    let fiscal_year = calendar::fiscal_year(today);
    let id = write_transaction(conn, |c| -> Result<i64, AppError> {
        lock_day(c, &visit.post, today)?;
        if day_locked(c, &visit.post, today, clerk)? {
            return Err(day_closed(today));
        }
        let seq = counters::next(c, &counter_scope(&visit.post, fiscal_year))?;
        let number = counters::post_year_number(&visit.post, fiscal_year, seq);
        let inserted = recoverable(c, |c| {
            diesel::insert_into(receipts::table)
                .values((
                    receipts::receipt_number.eq(&number),
                    receipts::post_code.eq(&visit.post),
                    receipts::fiscal_year.eq(fiscal_year),
                    receipts::seq.eq(seq),
                    receipts::local_date.eq(today),
                    receipts::issued_at.eq(now),
                    receipts::appointment_id.eq(visit.id),
                    receipts::document_id.eq(document.map(|d| d.0)),
                    receipts::payer.eq(&payer),
                    receipts::clerk_id.eq(clerk),
                    receipts::method.eq(request.payment.method.as_str()),
                    receipts::total_cents.eq(total),
                    receipts::currency.eq(Currency::Usd.as_str()),
                    receipts::local_total_cents.eq(local.map(|l| l.0)),
                    receipts::local_currency.eq(local.map(|_| LOCAL_CURRENCY.as_str())),
                    receipts::rate_micros.eq(local.map(|l| l.1)),
                    receipts::external_reference.eq(&external),
                    receipts::no_fee_basis.eq(basis.map(NoFeeBasis::as_str)),
                ))
                .returning(receipts::id)
                .get_result::<i64>(c)
        });
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) && external.is_some() => {
                return Err(AppError::new(
                    Code::PaymentReferenceUsed,
                    "that payment reference is on another receipt",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        insert_lines(c, id, &lines)?;
        // The entry seals the rows as written, read back: `audit verify` holds them to it.
        let written: sealed::Receipt =
            receipts::table.find(id).select(sealed::Receipt::as_select()).first(c)?;
        let items: Vec<_> = receipt_lines::table
            .filter(receipt_lines::receipt_id.eq(id))
            .order(receipt_lines::line_no)
            .select(sealed::ReceiptLine::as_select())
            .load::<sealed::ReceiptLine>(c)?
            .iter()
            .map(|line| sealed::with_fields(json!({}), line.fields()))
            .collect();
        let change = json!({"reference": reference.as_str(), "items": items});
        let event = Event::new(Action::ReceiptIssued, &number)
            .at_post(Some(&visit.post))
            .with(sealed::with_fields(change, written.fields()));
        audit::record(c, actor, event, now)?;
        Ok(id)
    })?;
    view(conn, key, id)
}

fn insert_lines(conn: &mut DbConn, receipt: i64, lines: &[Line]) -> QueryResult<()> {
    for (i, line) in lines.iter().enumerate() {
        diesel::insert_into(receipt_lines::table)
            .values((
                receipt_lines::receipt_id.eq(receipt),
                receipt_lines::line_no.eq(i as i32 + 1),
                receipt_lines::fee_version_id.eq(line.fee_version_id),
                receipt_lines::fee_code.eq(&line.fee_code),
                receipt_lines::description.eq(&line.description),
                receipt_lines::quantity.eq(line.quantity as i32),
                receipt_lines::unit_cents.eq(line.unit_cents),
                receipt_lines::amount_cents.eq(line.amount_cents),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The receipt's id, post and collecting clerk.
fn find(conn: &mut DbConn, number: &str) -> Result<(i64, String, i64), AppError> {
    receipts::table
        .filter(receipts::receipt_number.eq(number))
        .select((receipts::id, receipts::post_code, receipts::clerk_id))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("no such receipt"))
}

/// A receipt, for staff of its post.
pub fn show(
    conn: &mut DbConn,
    key: &ReceiptKey,
    actor: &Actor,
    number: &str,
) -> Result<ReceiptView, AppError> {
    let (id, post, _) = find(conn, number)?;
    actor.ensure_post(&post)?;
    view(conn, key, id)
}

/// Voids a receipt: a supervisor who did not collect it, with a reason. The receipt stays.
pub fn void(
    conn: &mut DbConn,
    key: &ReceiptKey,
    actor: &Actor,
    number: &str,
    request: &VoidRequest,
    now: NaiveDateTime,
) -> Result<ReceiptView, AppError> {
    let supervisor = actor.staff()?.id;
    let (id, post, collector) = find(conn, number)?;
    actor.ensure_post(&post)?;
    if supervisor == collector {
        return Err(AppError::new(Code::OwnReceipt, "the collecting clerk can't void their own receipt"));
    }
    let reason = crate::booking::free_text("reason", &request.reason, crate::window::rules::MAX_REASON_CHARS)
        .map_err(|e| AppError::invalid(vec![e]))?;
    let tz = calendar::post_zone(conn, &post)?;
    let today = calendar::local_date(now, tz);
    write_transaction(conn, |c| -> Result<(), AppError> {
        lock_day(c, &post, today)?;
        if day_locked(c, &post, today, collector)? {
            return Err(day_closed(today));
        }
        let inserted = recoverable(c, |c| {
            diesel::insert_into(receipt_voids::table)
                .values((
                    receipt_voids::receipt_id.eq(id),
                    receipt_voids::post_code.eq(&post),
                    receipt_voids::local_date.eq(today),
                    receipt_voids::voided_at.eq(now),
                    receipt_voids::voided_by.eq(supervisor),
                    receipt_voids::reason.eq(&reason),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::new(Code::AlreadyVoided, "the receipt is voided already"))
            }
            Err(e) => return Err(e.into()),
        }
        let written: sealed::Void = receipt_voids::table
            .filter(receipt_voids::receipt_id.eq(id))
            .select(sealed::Void::as_select())
            .first(c)?;
        let event = Event::new(Action::ReceiptVoided, number)
            .at_post(Some(&post))
            .with(sealed::with_fields(json!({}), written.fields()));
        audit::record(c, actor, event, now)?;
        Ok(())
    })?;
    view(conn, key, id)
}

type ReceiptRow = (
    (String, String, NaiveDate, NaiveDateTime, String, String, String, i64, Option<i64>),
    (Option<i64>, Option<String>, Option<String>),
    (String, String, String, String, Option<String>),
);

/// The tracking numbers a receipt paid for: its document's, or, for a fee against the visit,
/// those of the visit's documents recorded at or before `issued`.
fn paid_for(
    conn: &mut DbConn,
    visit: i64,
    document: Option<i64>,
    issued: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let query = documents::table.select(documents::tracking_number).order(documents::id).into_boxed();
    match document {
        Some(document) => query.filter(documents::id.eq(document)).load(conn),
        None => query
            .filter(documents::appointment_id.eq(visit))
            .filter(documents::recorded_at.le(issued))
            .load(conn),
    }
}

/// A receipt as the API and the PDF show it.
pub fn view(conn: &mut DbConn, key: &ReceiptKey, id: i64) -> Result<ReceiptView, AppError> {
    let (
        (number, post, local_date, issued, payer, method, currency, total, local_total),
        (rate, external, basis),
        (post_name, address, zone, reference, tracking),
    ): ReceiptRow = receipts::table
        .inner_join(posts::table.on(posts::code.eq(receipts::post_code)))
        .inner_join(appointments::table.on(appointments::id.eq(receipts::appointment_id)))
        .left_join(documents::table.on(documents::id.nullable().eq(receipts::document_id)))
        .filter(receipts::id.eq(id))
        .select((
            (
                receipts::receipt_number,
                receipts::post_code,
                receipts::local_date,
                receipts::issued_at,
                receipts::payer,
                receipts::method,
                receipts::currency,
                receipts::total_cents,
                receipts::local_total_cents,
            ),
            (receipts::rate_micros, receipts::external_reference, receipts::no_fee_basis),
            (
                posts::name,
                posts::address,
                posts::timezone,
                appointments::reference,
                documents::tracking_number.nullable(),
            ),
        ))
        .first(conn)?;
    let (clerk, visit, document): (String, i64, Option<i64>) = receipts::table
        .inner_join(staff::table.on(staff::id.eq(receipts::clerk_id)))
        .filter(receipts::id.eq(id))
        .select((staff::username, receipts::appointment_id, receipts::document_id))
        .first(conn)?;
    let tracking_numbers = paid_for(conn, visit, document, issued)?;
    let tz: Tz =
        zone.parse().map_err(|_| AppError::internal(anyhow::anyhow!("post {post} has a bad zone")))?;
    let currency = Currency::parse(&currency).unwrap_or(Currency::Usd);
    let items = receipt_lines::table
        .filter(receipt_lines::receipt_id.eq(id))
        .order(receipt_lines::line_no)
        .select((
            receipt_lines::fee_code,
            receipt_lines::description,
            receipt_lines::quantity,
            receipt_lines::unit_cents,
            receipt_lines::amount_cents,
        ))
        .load::<(String, String, i32, i64, i64)>(conn)?
        .into_iter()
        .map(|(fee_code, description, quantity, unit, amount)| LineView {
            fee_code,
            description,
            quantity: quantity.max(0) as u32,
            unit: Money { amount_cents: unit, currency },
            amount: Money { amount_cents: amount, currency },
        })
        .collect();
    let voided = receipt_voids::table
        .inner_join(staff::table.on(staff::id.eq(receipt_voids::voided_by)))
        .filter(receipt_voids::receipt_id.eq(id))
        .select((receipt_voids::voided_at, staff::username, receipt_voids::reason))
        .first::<(NaiveDateTime, String, String)>(conn)
        .optional()?
        .map(|(at, by, reason)| VoidView {
            voided_at: calendar::rfc3339(at, tz),
            at: Utc.from_utc_datetime(&at).with_timezone(&tz),
            voided_by: by,
            reason,
        });
    let method = Method::parse(&method)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("receipt {id}: bad method")))?;
    let basis = basis.and_then(|b| serde_json::from_value(json!(b)).ok());
    Ok(ReceiptView {
        verification_code: key.code(&number),
        receipt_number: number,
        post,
        post_name,
        post_address: address,
        issued_at: calendar::rfc3339(issued, tz),
        issued: Utc.from_utc_datetime(&issued).with_timezone(&tz),
        local_date,
        reference,
        tracking_number: tracking,
        tracking_numbers,
        payer,
        clerk,
        items,
        total: Money { amount_cents: total, currency },
        payment: PaymentView {
            method,
            local_amount: local_total.map(Money::mxn),
            rate_micros: rate,
            external_reference: external,
            no_fee_basis: basis,
        },
        voided,
    })
}

/// What the public verification answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationView {
    pub receipt_number: String,
    /// `valid`, `voided` or `invalid` (no such receipt, or a code that isn't its own).
    pub status: String,
    /// For a valid or voided receipt: its date and total, to compare with the paper.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    /// For a valid or voided receipt: the post that issued it (code and name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_name: Option<String>,
    /// For a valid or voided receipt: when it was issued, with the post's offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    /// For a voided receipt: when it was voided, with the post's offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_at: Option<String>,
}

/// What the public check of a receipt found, in the post's zone; the JSON answer
/// ([`VerificationView`]) and the page are both made from it.
#[derive(Debug, Clone)]
pub struct Verification {
    pub receipt_number: String,
    /// `None` when not valid: a code that isn't the receipt's own, or no such receipt.
    pub found: Option<Verified>,
}

/// A receipt whose code checked out.
#[derive(Debug, Clone)]
pub struct Verified {
    pub post: String,
    pub post_name: String,
    pub local_date: NaiveDate,
    pub issued_at: DateTime<Tz>,
    pub total: Money,
    /// When it was voided, if it was.
    pub voided_at: Option<DateTime<Tz>>,
}

impl Verification {
    pub fn view(&self) -> VerificationView {
        let found = self.found.as_ref();
        VerificationView {
            receipt_number: self.receipt_number.clone(),
            status: match found {
                None => "invalid",
                Some(Verified { voided_at: Some(_), .. }) => "voided",
                Some(_) => "valid",
            }
            .into(),
            local_date: found.map(|f| f.local_date),
            total: found.map(|f| f.total),
            post: found.map(|f| f.post.clone()),
            post_name: found.map(|f| f.post_name.clone()),
            issued_at: found.map(|f| f.issued_at.to_rfc3339()),
            voided_at: found.and_then(|f| f.voided_at).map(|at| at.to_rfc3339()),
        }
    }
}

/// How long the receipt checks' throttle window is.
pub fn check_window() -> chrono::Duration {
    chrono::Duration::minutes(15)
}

/// id, post, post name, zone, local date, issued, total, currency.
type CheckedRow = (i64, String, String, String, NaiveDate, NaiveDateTime, i64, String);

/// Checks the code printed on a receipt, for the JSON check and the page alike. A code that
/// doesn't match finds nothing, whether or not the receipt exists (nothing else is read).
/// Every check counts against the client address's limit first, whatever its outcome, so
/// codes can't be guessed in bulk from one address.
pub fn verify(
    conn: &mut DbConn,
    key: &ReceiptKey,
    limits: &TrackingSettings,
    number: &str,
    sig: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<Verification, AppError> {
    let limit = Limit { max: limits.receipt_checks_per_address, window: check_window() };
    if let Some(wait) = throttle::take(conn, &format!("receipt-check:address:{address}"), limit, now)? {
        return Err(AppError::too_many_requests(wait));
    }
    let mut verification = Verification { receipt_number: number.to_string(), found: None };
    if !key.verify(number, sig) {
        return Ok(verification);
    }
    let row: Option<CheckedRow> = receipts::table
        .inner_join(posts::table.on(posts::code.eq(receipts::post_code)))
        .filter(receipts::receipt_number.eq(number))
        .select((
            receipts::id,
            receipts::post_code,
            posts::name,
            posts::timezone,
            receipts::local_date,
            receipts::issued_at,
            receipts::total_cents,
            receipts::currency,
        ))
        .first(conn)
        .optional()?;
    let Some((id, post, post_name, zone, local_date, issued, total, currency)) = row else {
        return Ok(verification);
    };
    let tz: Tz =
        zone.parse().map_err(|_| AppError::internal(anyhow::anyhow!("post {post} has a bad zone")))?;
    let voided: Option<NaiveDateTime> = receipt_voids::table
        .filter(receipt_voids::receipt_id.eq(id))
        .select(receipt_voids::voided_at)
        .first(conn)
        .optional()?;
    let local = |utc: NaiveDateTime| Utc.from_utc_datetime(&utc).with_timezone(&tz);
    verification.found = Some(Verified {
        post,
        post_name,
        local_date,
        issued_at: local(issued),
        total: Money { amount_cents: total, currency: Currency::parse(&currency).unwrap_or(Currency::Usd) },
        voided_at: voided.map(local),
    });
    Ok(verification)
}

/// [`verify`] from the client `address` (as the throttles count it), for the JSON check and
/// the page alike.
pub async fn check(
    state: &crate::state::AppState,
    address: String,
    number: String,
    sig: String,
) -> Result<Verification, AppError> {
    let now = state.clock.naive();
    let (key, limits) = (state.receipts.clone(), state.settings.tracking);
    state.db(move |conn| verify(conn, &key, &limits, &number, &sig, &address, now)).await
}

/// The receipt as printed for the payer (the PDF, with the public check's address in its QR
/// code), and its file name; the API and the staff pages both print through here.
pub async fn printed(
    state: &crate::state::AppState,
    actor: Actor,
    number: String,
) -> Result<(Vec<u8>, String), AppError> {
    let key = state.receipts.clone();
    let view = state.db(move |conn| show(conn, &key, &actor, &number)).await?;
    let (templates, base) = (state.templates.clone(), state.settings.public_url.clone());
    let name = format!("receipt-{}.pdf", view.receipt_number);
    let pdf = actix_web::web::block(move || crate::pdf::receipt::render(&templates, &view, &base)).await??;
    Ok((pdf, name))
}
