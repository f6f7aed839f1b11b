//! Recording fees and voiding them. A fee is recorded against a visit (booked or walk-in) or a
//! tracked document of one, priced from the schedule in force on the post's local date, paid
//! one way, and written as a receipt numbered per post and fiscal year in the same
//! transaction. Nothing here updates or deletes a receipt: a void is a record of its own.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::accounts::fields::PersonName;
use crate::audit::{self, sealed, Action, Event};
use crate::auth::roles::{Requirement, SupervisorPlus};
use crate::auth::{Actor, StaffMember};
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
use crate::rule::Rule;
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
    #[schema(schema_with = crate::field_schemas::payment_reference)]
    pub external_reference: Option<String>,
    /// `no_fee` only: why nothing is charged.
    pub no_fee_basis: Option<NoFeeBasis>,
}

/// A fee to record: against a visit, or a tracked document of one (the notarial job's
/// certificates then fix how many certificate fees are charged).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FeeRequest {
    #[schema(schema_with = crate::field_schemas::optional_reference)]
    pub appointment_reference: Option<String>,
    #[schema(schema_with = crate::field_schemas::optional_tracking_number)]
    pub tracking_number: Option<String>,
    #[schema(min_items = 1, max_items = 20)]
    pub items: Vec<ItemInput>,
    pub payment: PaymentInput,
    /// Who pays, as printed on the receipt; the visit's first person when absent.
    #[schema(schema_with = crate::field_schemas::optional_person_name)]
    pub payer: Option<String>,
    /// Charge a fee code again that a receipt of the visit (not voided) already charged;
    /// without it such a fee is refused with 409 `fee_already_charged`, so a second fee is
    /// never taken without a word.
    #[serde(default)]
    pub confirm_repeat: bool,
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
    #[schema(schema_with = crate::field_schemas::window_reason)]
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

fn invalid(field: &str, rule: Rule) -> AppError {
    AppError::invalid(vec![FieldError::new(field, rule)])
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
        (None, None) => return Err(invalid("appointment_reference", Rule::NameVisitOrDocument)),
        (Some(raw), _) => Reference::parse(raw).ok_or_else(|| AppError::not_found("no such appointment"))?,
        (None, Some((_, reference, _, _))) => {
            Reference::parse(reference).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad reference")))?
        }
    };
    if let Some((_, of_document, _, _)) = &document {
        if of_document != reference.as_str() {
            return Err(invalid("tracking_number", Rule::DocumentOfAnotherVisit));
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

/// The payer as printed: as given (or its field's error), or the visit's first person.
fn payer(
    conn: &mut DbConn,
    request: &FeeRequest,
    visit_id: i64,
) -> Result<Result<String, FieldError>, AppError> {
    if let Some(raw) = &request.payer {
        return Ok(PersonName::parse(raw)
            .map(|n| n.as_str().to_string())
            .map_err(|rule| FieldError::new("payer", rule)));
    }
    Ok(Ok(first_person(conn, visit_id)?))
}

/// The visit's first person, as a receipt names its payer when none is given.
fn first_person(conn: &mut DbConn, visit_id: i64) -> Result<String, AppError> {
    let party: String = appointments::table.find(visit_id).select(appointments::party).first(conn)?;
    let party = Party::from_json(&party);
    Ok(party.people().first().map(|p| format!("{} {}", p.given_names, p.surname)).unwrap_or_default())
}

/// What is wrong with a payment's own fields (before anything is priced), by field.
fn payment_errors(payment: &PaymentInput) -> Vec<FieldError> {
    let method = payment.method;
    let mut errors = Vec::new();
    if method == Method::NoFee && payment.no_fee_basis.is_none() {
        errors.push(FieldError::new("payment.no_fee_basis", Rule::NoFeeNeedsBasis));
    }
    if method != Method::NoFee && payment.no_fee_basis.is_some() {
        errors.push(FieldError::new("payment.no_fee_basis", Rule::OnlyNoFee));
    }
    match (&payment.external_reference, method) {
        (None, Method::PrepaidOnline) => {
            errors.push(FieldError::new("payment.external_reference", Rule::OnlinePaymentNeedsReference))
        }
        (Some(_), m) if m != Method::PrepaidOnline => {
            errors.push(FieldError::new("payment.external_reference", Rule::OnlyPrepaidOnline))
        }
        (Some(r), _) => {
            let ok = (4..=64).contains(&r.len())
                && r.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !ok {
                errors.push(FieldError::new("payment.external_reference", Rule::PaymentReference));
            }
        }
        (None, _) => {}
    }
    errors
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
    let errors = payment_errors(payment);
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    if method != Method::NoFee && total == 0 {
        return Err(invalid("payment.method", Rule::NothingToPay));
    }
    let reference = payment.external_reference.clone();
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

/// A fee checked and priced, not yet written: what [`preview`] shows and [`record`] writes.
struct Prepared {
    visit: visits::Visit,
    reference: Reference,
    document: Option<(i64, Option<u32>)>,
    today: NaiveDate,
    payer: String,
    lines: Vec<Line>,
    total: i64,
    local: Option<(i64, i64)>,
    external: Option<String>,
    basis: Option<NoFeeBasis>,
}

/// Checks and prices `request` as of `now`: every field's error at once (payer, lines,
/// payment), then the exchange rate.
fn prepare(
    conn: &mut DbConn,
    actor: &Actor,
    request: &FeeRequest,
    now: NaiveDateTime,
) -> Result<Prepared, AppError> {
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
    let lines = pricing::price(&request.items, &schedule, no_fee, document.and_then(|d| d.1));
    let mut errors: Vec<FieldError> = payer.as_ref().err().cloned().into_iter().collect();
    if let Err(priced) = &lines {
        errors.extend(priced.iter().cloned());
    }
    errors.extend(payment_errors(&request.payment));
    let (Ok(payer), Ok(lines), true) = (payer, lines, errors.is_empty()) else {
        return Err(AppError::invalid(errors));
    };
    let total = pricing::total(&lines);
    let (local, external, basis) = check_payment(conn, &request.payment, total, &visit.post, today)?;
    Ok(Prepared { visit, reference, document, today, payer, lines, total, local, external, basis })
}

/// A fee code a receipt of the visit already charged, and that receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Charged {
    pub fee_code: String,
    pub receipt_number: String,
}

/// Which of `codes` a receipt of the visit `visit_id` that is not voided already charged.
fn charged_before(conn: &mut DbConn, visit_id: i64, codes: &[String]) -> QueryResult<Vec<Charged>> {
    let rows: Vec<(String, String)> = receipt_lines::table
        .inner_join(receipts::table)
        .left_join(receipt_voids::table.on(receipt_voids::receipt_id.eq(receipts::id)))
        .filter(receipts::appointment_id.eq(visit_id))
        .filter(receipt_voids::id.nullable().is_null())
        .filter(receipt_lines::fee_code.eq_any(codes))
        .order((receipts::seq, receipt_lines::line_no))
        .select((receipt_lines::fee_code, receipts::receipt_number))
        .load(conn)?;
    Ok(rows.into_iter().map(|(fee_code, receipt_number)| Charged { fee_code, receipt_number }).collect())
}

fn already_charged(charged: &[Charged]) -> AppError {
    let list: Vec<String> =
        charged.iter().map(|c| format!("{} on {}", c.fee_code, c.receipt_number)).collect();
    AppError::new(
        Code::FeeAlreadyCharged,
        format!("already charged to this visit: {}; send confirm_repeat to charge it again", list.join(", ")),
    )
}

/// A fee as it would be recorded now, for the review before the receipt is issued.
#[derive(Debug, Clone)]
pub struct Preview {
    pub reference: String,
    pub payer: String,
    pub items: Vec<LineView>,
    pub total: Money,
    /// `cash_local`: the pesos to collect and the day's rate (millionths).
    pub local_amount: Option<Money>,
    pub rate_micros: Option<i64>,
    /// The fee codes a receipt of the visit (not voided) already charged.
    pub charged: Vec<Charged>,
}

/// Checks and prices `request` as [`record`] would, writing nothing.
pub fn preview(
    conn: &mut DbConn,
    actor: &Actor,
    request: &FeeRequest,
    now: NaiveDateTime,
) -> Result<Preview, AppError> {
    actor.staff()?;
    let prepared = prepare(conn, actor, request, now)?;
    let codes: Vec<String> = prepared.lines.iter().map(|l| l.fee_code.clone()).collect();
    let charged = charged_before(conn, prepared.visit.id, &codes)?;
    let usd = Money::usd;
    Ok(Preview {
        reference: prepared.reference.as_str().to_string(),
        payer: prepared.payer,
        items: prepared
            .lines
            .iter()
            .map(|l| LineView {
                fee_code: l.fee_code.clone(),
                description: l.description.clone(),
                quantity: l.quantity,
                unit: usd(l.unit_cents),
                amount: usd(l.amount_cents),
            })
            .collect(),
        total: usd(prepared.total),
        local_amount: prepared.local.map(|l| Money::mxn(l.0)),
        rate_micros: prepared.local.map(|l| l.1),
        charged,
    })
}

/// Records a fee and issues its receipt. A fee code the visit's receipts already charged is
/// refused (409 `fee_already_charged`) unless the request confirms the repeat.
pub fn record(
    conn: &mut DbConn,
    key: &ReceiptKey,
    actor: &Actor,
    request: &FeeRequest,
    now: NaiveDateTime,
) -> Result<ReceiptView, AppError> {
    let clerk = actor.staff()?.id;
    let Prepared { visit, reference, document, today, payer, lines, total, local, external, basis } =
        prepare(conn, actor, request, now)?;
    let codes: Vec<String> = lines.iter().map(|l| l.fee_code.clone()).collect();
    let fiscal_year = calendar::fiscal_year(today);
    let id = write_transaction(conn, |c| -> Result<i64, AppError> {
        lock_day(c, &visit.post, today)?;
        if day_locked(c, &visit.post, today, clerk)? {
            return Err(day_closed(today));
        }
        // Under the day's lock: two clerks charging the same fee at once can't both miss it.
        if !request.confirm_repeat {
            let charged = charged_before(c, visit.id, &codes)?;
            if !charged.is_empty() {
                return Err(already_charged(&charged));
            }
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
    // Counted once it committed (or, inside a caller's transaction, with it).
    crate::ops::receipt_issued(&visit.post);
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

/// Who may void a receipt of `post` collected by the staff member `collector`: a supervisor
/// (or admin) of that post who did not collect it. The one place of the rule: the void
/// itself and every page that offers it ask here.
pub fn may_void(member: &StaffMember, post: &str, collector: i64) -> Result<(), AppError> {
    if !SupervisorPlus::admits(member.role) {
        return Err(AppError::new(Code::InsufficientRole, "a receipt is voided by a supervisor or admin"));
    }
    member.ensure_post(post)?;
    if member.id == collector {
        return Err(AppError::new(Code::OwnReceipt, "the collecting clerk can't void their own receipt"));
    }
    Ok(())
}

/// Whether `actor` may void the receipt `number` now: [`may_void`], and not voided yet.
pub fn void_offered(conn: &mut DbConn, actor: &Actor, number: &str) -> Result<bool, AppError> {
    let Actor::Staff(member) = actor else { return Ok(false) };
    let (id, post, collector) = find(conn, number)?;
    if may_void(member, &post, collector).is_err() {
        return Ok(false);
    }
    let voids: i64 =
        receipt_voids::table.filter(receipt_voids::receipt_id.eq(id)).count().get_result(conn)?;
    Ok(voids == 0)
}

/// The filters of a post's day of receipts.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptFilter {
    /// The post's local date the receipts are dated in; today by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    pub date: Option<NaiveDate>,
    /// Only those collected by this staff member (username).
    pub clerk: Option<String>,
    /// Only those paid this way.
    pub method: Option<Method>,
    /// `true`: only voided ones; `false`: only those standing.
    pub voided: Option<bool>,
}

/// One receipt in a day's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptRowView {
    pub receipt_number: String,
    /// With the post's offset.
    pub issued_at: String,
    /// The visit.
    pub reference: String,
    /// The collecting clerk's username.
    pub clerk: String,
    pub payer: String,
    pub method: Method,
    pub total: Money,
    /// `cash_local`: what was paid in pesos.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_amount: Option<Money>,
    pub voided: bool,
    /// Whether the caller may void it (a supervisor of the post who did not collect it).
    pub may_void: bool,
}

/// A post's receipts of one local day, in number order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptList {
    pub post: String,
    pub date: NaiveDate,
    pub timezone: String,
    pub receipts: Vec<ReceiptRowView>,
}

/// number, issued, reference, clerk id, clerk, payer, method, total, currency, local total,
/// void id.
type ListedRow =
    (String, NaiveDateTime, String, i64, String, String, String, i64, String, Option<i64>, Option<i64>);

macro_rules! listed_columns {
    () => {
        (
            receipts::receipt_number,
            receipts::issued_at,
            appointments::reference,
            receipts::clerk_id,
            staff::username,
            receipts::payer,
            receipts::method,
            receipts::total_cents,
            receipts::currency,
            receipts::local_total_cents,
            receipt_voids::id.nullable(),
        )
    };
}

/// A listed row as `member` sees it (whether they may void it), times in `tz`.
fn listed(member: &StaffMember, post: &str, tz: Tz, row: ListedRow) -> Option<ReceiptRowView> {
    let (number, issued, reference, collector, clerk, payer, method, total, currency, local, void) = row;
    Some(ReceiptRowView {
        may_void: void.is_none() && may_void(member, post, collector).is_ok(),
        receipt_number: number,
        issued_at: calendar::rfc3339(issued, tz),
        reference,
        clerk,
        payer,
        method: Method::parse(&method)?,
        total: Money { amount_cents: total, currency: Currency::parse(&currency).unwrap_or(Currency::Usd) },
        local_amount: local.map(Money::mxn),
        voided: void.is_some(),
    })
}

/// The receipts of `post`'s local day (`filter.date`, else today as of `now`), filtered, for
/// staff of the post (403 `wrong_post` for another's, 404 for no such post).
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    filter: &ReceiptFilter,
    now: NaiveDateTime,
) -> Result<ReceiptList, AppError> {
    let member = actor.staff()?;
    member.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let date = match filter.date {
        Some(date) => calendar::plausible("date", date).map_err(|e| AppError::invalid(vec![e]))?,
        None => calendar::local_date(now, tz),
    };
    let mut query = receipts::table
        .inner_join(staff::table.on(staff::id.eq(receipts::clerk_id)))
        .inner_join(appointments::table.on(appointments::id.eq(receipts::appointment_id)))
        .left_join(receipt_voids::table.on(receipt_voids::receipt_id.eq(receipts::id)))
        .filter(receipts::post_code.eq(post))
        .filter(receipts::local_date.eq(date))
        .select(listed_columns!())
        .order(receipts::seq)
        .into_boxed();
    if let Some(clerk) = filter.clerk.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        query = query.filter(staff::username.eq(clerk.to_string()));
    }
    if let Some(method) = filter.method {
        query = query.filter(receipts::method.eq(method.as_str()));
    }
    match filter.voided {
        Some(true) => query = query.filter(receipt_voids::id.nullable().is_not_null()),
        Some(false) => query = query.filter(receipt_voids::id.nullable().is_null()),
        None => {}
    }
    let rows: Vec<ListedRow> = query.load(conn)?;
    let receipts = rows.into_iter().filter_map(|row| listed(member, post, tz, row)).collect();
    Ok(ReceiptList { post: post.to_string(), date, timezone: tz.name().to_string(), receipts })
}

/// The usernames of the staff who collected `post`'s receipts on `date`, for the list's filter.
pub fn collectors(conn: &mut DbConn, post: &str, date: NaiveDate) -> QueryResult<Vec<String>> {
    receipts::table
        .inner_join(staff::table.on(staff::id.eq(receipts::clerk_id)))
        .filter(receipts::post_code.eq(post))
        .filter(receipts::local_date.eq(date))
        .select(staff::username)
        .distinct()
        .order(staff::username)
        .load(conn)
}

/// A visit's receipts (its page lists them), in number order.
pub fn of_visit(
    conn: &mut DbConn,
    actor: &Actor,
    reference: &Reference,
) -> Result<Vec<ReceiptRowView>, AppError> {
    let member = actor.staff()?;
    let visit = visits::find(conn, actor, reference)?;
    let rows: Vec<ListedRow> = receipts::table
        .inner_join(staff::table.on(staff::id.eq(receipts::clerk_id)))
        .inner_join(appointments::table.on(appointments::id.eq(receipts::appointment_id)))
        .left_join(receipt_voids::table.on(receipt_voids::receipt_id.eq(receipts::id)))
        .filter(receipts::appointment_id.eq(visit.id))
        .select(listed_columns!())
        .order(receipts::seq)
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|row| listed(member, &visit.post, visit.tz, row)).collect())
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
    let member = actor.staff()?;
    let supervisor = member.id;
    let (id, post, collector) = find(conn, number)?;
    may_void(member, &post, collector)?;
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

/// What a receipt check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// Issued by the post and standing.
    Valid,
    /// Issued, then voided by a supervisor.
    Voided,
    /// No such receipt, or a code that isn't its own.
    Invalid,
}

/// What the public verification answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationView {
    pub receipt_number: String,
    pub status: Validity,
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
                None => Validity::Invalid,
                Some(Verified { voided_at: Some(_), .. }) => Validity::Voided,
                Some(_) => Validity::Valid,
            },
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
    pool: &crate::db::Pool,
    key: &Arc<ReceiptKey>,
    limits: TrackingSettings,
    now: NaiveDateTime,
    address: String,
    number: String,
    sig: String,
) -> Result<Verification, AppError> {
    let key = key.clone();
    crate::db::run(pool, move |conn| verify(conn, &key, &limits, &number, &sig, &address, now)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn member(id: i64, role: Role, post: Option<&str>) -> StaffMember {
        StaffMember { id, username: format!("staff{id}"), role, post: post.map(String::from) }
    }

    #[test]
    fn a_receipt_is_voided_by_a_supervisor_of_its_post_who_did_not_collect_it() {
        let code = |m: &StaffMember| may_void(m, "MEX", 7).err().map(|e| e.code().as_str());
        assert_eq!(code(&member(1, Role::Supervisor, Some("MEX"))), None);
        assert_eq!(code(&member(2, Role::Admin, None)), None, "an admin of every post");
        assert_eq!(code(&member(7, Role::Supervisor, Some("MEX"))), Some("own_receipt"));
        assert_eq!(code(&member(3, Role::Clerk, Some("MEX"))), Some("insufficient_role"));
        assert_eq!(code(&member(4, Role::Auditor, None)), Some("insufficient_role"));
        assert_eq!(code(&member(5, Role::Supervisor, Some("GDL"))), Some("wrong_post"));
    }
}
