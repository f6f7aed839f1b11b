//! The fee report: every receipt line dated in a range of local dates at one post or all of
//! them (each post's dates in its own zone), with a reversal row for every void dated in the
//! range, so the rows always add up to the net; totals (gross, voids, net) per fee code, per
//! method and per currency; and the differences of the daily cash closes.
//!
//! Rows are read a post's day at a time: the days that have receipts or voids are found
//! first (from the `(post, local_date)` indexes), then each day's rows in one query that
//! those indexes answer directly. A caller streaming them (CSV, JSON, XLSX) holds one day of one
//! post, however long the range. (Batches by line id looked simpler, but the planner serves
//! the date filter from the index and sorts the whole range again for every batch.)

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::StaffMember;
use crate::db::schema::{appointments, closeouts, receipt_lines, receipt_voids, receipts, staff};
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::fees::closeouts::CloseoutView;
use crate::fees::money::Currency;
use crate::fees::receipts::Method;
use crate::rule::Rule;

/// The longest range one report covers.
pub const MAX_RANGE_DAYS: i64 = 400;

/// What a report covers.
#[derive(Debug, Clone)]
pub struct Scope {
    /// One post, or every post when `None`.
    pub post: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub service: Option<String>,
    pub fee_code: Option<String>,
    pub method: Option<Method>,
    /// A clerk's username.
    pub clerk: Option<String>,
}

/// The post a report asked for by `asked` (`all`: every post, `None`) covers, refused with 403
/// `wrong_post` beyond the reader's own: the API and the auditors' page decide it here alike.
pub fn readable_post(reader: &StaffMember, asked: &str) -> Result<Option<String>, AppError> {
    let post = (asked != "all").then(|| crate::reference::normalise_post(asked));
    reader.ensure_scope(post.as_deref())?;
    Ok(post)
}

impl Scope {
    /// Checks the reader's post, the range and that the post exists: a member bound to a post
    /// reports on it only (the operator's console, `None`, on every post).
    pub fn check(self, conn: &mut DbConn, reader: Option<&StaffMember>) -> Result<Scope, AppError> {
        if let Some(reader) = reader {
            reader.ensure_scope(self.post.as_deref())?;
        }
        if self.to < self.from || (self.to - self.from).num_days() > MAX_RANGE_DAYS {
            return Err(AppError::invalid(vec![FieldError::new(
                "to",
                Rule::RangeTooLong { max_days: MAX_RANGE_DAYS },
            )]));
        }
        if let Some(post) = &self.post {
            crate::calendar::post_zone(conn, post)?;
        }
        Ok(self)
    }
}

/// One row: a receipt line (`sale`), or its reversal (`void`, negative amount) when the
/// receipt was voided within the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Row {
    /// `sale` or `void`.
    pub kind: String,
    /// The post's local date of the receipt (a sale) or of the void.
    pub date: NaiveDate,
    pub post: String,
    pub receipt_number: String,
    pub line_no: i32,
    pub service: String,
    pub fee_code: String,
    pub description: String,
    pub quantity: i32,
    /// In cents of `currency`; negative for a void.
    pub amount_cents: i64,
    pub currency: String,
    pub method: String,
    /// The collecting clerk's username.
    pub clerk: String,
    /// A sale: whether the receipt is voided (at any date), and when.
    pub voided: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_on: Option<NaiveDate>,
    /// The receipt's peso total (negative for a void), on the first line of a receipt paid
    /// in pesos: what the MXN totals add up.
    #[serde(skip)]
    pub local_cents: Option<i64>,
}

/// The columns of a row, in order, as CSV and XLSX write them.
pub const COLUMNS: &[&str] = &[
    "kind",
    "date",
    "post",
    "receipt_number",
    "line_no",
    "service",
    "fee_code",
    "description",
    "quantity",
    "amount_cents",
    "amount",
    "currency",
    "method",
    "clerk",
    "voided",
    "voided_on",
];

/// Which rows a read returns: the receipts' lines dated in the range, or the lines of the
/// receipts voided in the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sale,
    Void,
}

type LineRow = (
    (i64, i32, String, String, i32, i64),
    (String, NaiveDate, String, String, String, String, String, Option<i64>),
    Option<NaiveDate>,
);

/// Receipt lines joined to their receipt, visit, collecting clerk and void, if any.
macro_rules! lines_joined {
    () => {
        receipt_lines::table
            .inner_join(receipts::table)
            .inner_join(appointments::table.on(appointments::id.eq(receipts::appointment_id)))
            .inner_join(staff::table.on(staff::id.eq(receipts::clerk_id)))
            .left_join(receipt_voids::table.on(receipt_voids::receipt_id.eq(receipts::id)))
    };
}

/// Which posts and dates one query reads: the whole scope (to count it), or one post's day.
struct Slice<'a> {
    post: Option<&'a str>,
    from: NaiveDate,
    to: NaiveDate,
}

/// Narrows a boxed [`lines_joined`] query to `slice` of `scope`'s rows of `kind`: the one
/// place the report's range and filters are written (the rows and their count both use it).
macro_rules! narrowed {
    ($query:expr, $scope:expr, $slice:expr, $kind:expr) => {{
        let (scope, slice): (&Scope, &Slice) = ($scope, $slice);
        let mut query = match $kind {
            Kind::Sale => $query.filter(receipts::local_date.between(slice.from, slice.to)),
            Kind::Void => $query.filter(receipt_voids::local_date.between(slice.from, slice.to)),
        };
        if let Some(post) = slice.post {
            query = match $kind {
                Kind::Sale => query.filter(receipts::post_code.eq(post.to_string())),
                Kind::Void => query.filter(receipt_voids::post_code.eq(post.to_string())),
            };
        }
        if let Some(service) = &scope.service {
            query = query.filter(appointments::service_code.eq(service.clone()));
        }
        if let Some(code) = &scope.fee_code {
            query = query.filter(receipt_lines::fee_code.eq(code.clone()));
        }
        if let Some(method) = scope.method {
            query = query.filter(receipts::method.eq(method.as_str()));
        }
        if let Some(clerk) = &scope.clerk {
            query = query.filter(staff::username.eq(clerk.clone()));
        }
        query
    }};
}

/// Reads `slice`'s rows of `kind`: sales in the order the receipts were issued, voids in
/// the order they were made, each receipt's lines in order.
fn rows_of(conn: &mut DbConn, scope: &Scope, slice: &Slice, kind: Kind) -> QueryResult<Vec<Row>> {
    let query = lines_joined!()
        .select((
            (
                receipt_lines::id,
                receipt_lines::line_no,
                receipt_lines::fee_code,
                receipt_lines::description,
                receipt_lines::quantity,
                receipt_lines::amount_cents,
            ),
            (
                receipts::receipt_number,
                receipts::local_date,
                receipts::post_code,
                receipts::currency,
                receipts::method,
                staff::username,
                appointments::service_code,
                receipts::local_total_cents,
            ),
            receipt_voids::local_date.nullable(),
        ))
        .into_boxed();
    let query = narrowed!(query, scope, slice, kind);
    let query = match kind {
        Kind::Sale => query.order((receipts::id, receipt_lines::line_no)),
        Kind::Void => query.order((receipt_voids::id, receipt_lines::line_no)),
    };
    let rows: Vec<LineRow> = query.load(conn)?;
    // A peso total belongs to a whole receipt: it rides on the receipt's first line, and only
    // when no fee-code filter may have left some of the receipt's lines out.
    let whole_receipts = scope.fee_code.is_none();
    Ok(rows
        .into_iter()
        .map(
            |(
                (_, line_no, fee_code, description, quantity, amount),
                (number, sold_on, post, currency, method, clerk, service, local_total),
                voided_on,
            )| {
                let (kind, date, sign) = match kind {
                    Kind::Sale => ("sale", sold_on, 1),
                    Kind::Void => ("void", voided_on.unwrap_or(sold_on), -1),
                };
                let local_cents = local_total.filter(|_| whole_receipts && line_no == 1).map(|c| sign * c);
                Row {
                    kind: kind.into(),
                    date,
                    post,
                    receipt_number: number,
                    line_no,
                    service,
                    fee_code,
                    description,
                    quantity,
                    amount_cents: sign * amount,
                    currency,
                    method,
                    clerk,
                    voided: voided_on.is_some(),
                    voided_on,
                    local_cents,
                }
            },
        )
        .collect())
}

/// How many rows the report has (for a progress bar), counted with the rows' own filters.
pub fn count_rows(conn: &mut DbConn, scope: &Scope) -> QueryResult<u64> {
    let whole = Slice { post: scope.post.as_deref(), from: scope.from, to: scope.to };
    let mut total = 0;
    for kind in [Kind::Sale, Kind::Void] {
        let query = lines_joined!().select(diesel::dsl::count_star()).into_boxed();
        let count: i64 = narrowed!(query, scope, &whole, kind).get_result(conn)?;
        total += u64::try_from(count).unwrap_or(0);
    }
    Ok(total)
}

/// The posts' days in the scope's range with a receipt or a void, in order.
fn days(conn: &mut DbConn, scope: &Scope) -> QueryResult<BTreeSet<(String, NaiveDate)>> {
    let mut sales = receipts::table
        .filter(receipts::local_date.between(scope.from, scope.to))
        .select((receipts::post_code, receipts::local_date))
        .distinct()
        .into_boxed();
    let mut voids = receipt_voids::table
        .filter(receipt_voids::local_date.between(scope.from, scope.to))
        .select((receipt_voids::post_code, receipt_voids::local_date))
        .distinct()
        .into_boxed();
    if let Some(post) = &scope.post {
        sales = sales.filter(receipts::post_code.eq(post.clone()));
        voids = voids.filter(receipt_voids::post_code.eq(post.clone()));
    }
    let mut days: BTreeSet<(String, NaiveDate)> =
        sales.load::<(String, NaiveDate)>(conn)?.into_iter().collect();
    days.extend(voids.load::<(String, NaiveDate)>(conn)?);
    Ok(days)
}

/// Calls `each` with every row of the report: post by post, day by day, a day's sales then
/// the voids made that day.
pub fn for_each_row(
    conn: &mut DbConn,
    scope: &Scope,
    mut each: impl FnMut(Row) -> Result<(), AppError>,
) -> Result<usize, AppError> {
    let mut count = 0;
    for (post, day) in days(conn, scope)? {
        let slice = Slice { post: Some(&post), from: day, to: day };
        for kind in [Kind::Sale, Kind::Void] {
            for row in rows_of(conn, scope, &slice, kind)? {
                each(row)?;
                count += 1;
            }
        }
    }
    Ok(count)
}

/// Gross, voids and net, in cents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Sums {
    pub gross_cents: i64,
    pub voids_cents: i64,
    pub net_cents: i64,
}

impl Sums {
    fn add(&mut self, amount: i64) {
        if amount >= 0 {
            self.gross_cents += amount;
        } else {
            self.voids_cents -= amount;
        }
        self.net_cents += amount;
    }
}

/// The report's totals. Keys are fee codes, methods, and currencies (`USD`, and `MXN` for
/// what was taken in pesos).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    pub rows: usize,
    /// Every row, in the fees' currency (USD).
    pub all: Sums,
    pub by_fee_code: BTreeMap<String, Sums>,
    pub by_method: BTreeMap<String, Sums>,
    pub by_currency: BTreeMap<String, Sums>,
    pub by_day: BTreeMap<NaiveDate, Sums>,
}

impl Totals {
    /// Adds one row; a receipt's pesos come with its first line (see [`Row::local_cents`]).
    pub fn add(&mut self, row: &Row) {
        self.rows += 1;
        self.all.add(row.amount_cents);
        self.by_fee_code.entry(row.fee_code.clone()).or_default().add(row.amount_cents);
        self.by_method.entry(row.method.clone()).or_default().add(row.amount_cents);
        self.by_day.entry(row.date).or_default().add(row.amount_cents);
        if row.method != Method::CashLocal.as_str() {
            self.by_currency.entry(row.currency.clone()).or_default().add(row.amount_cents);
        }
        if let Some(pesos) = row.local_cents {
            self.by_currency.entry(Currency::Mxn.as_str().into()).or_default().add(pesos);
        }
    }
}

/// Each clerk's latest count of each day in the range, with its differences and signature.
pub fn closes(conn: &mut DbConn, scope: &Scope) -> Result<Vec<CloseoutView>, AppError> {
    let mut query = closeouts::table
        .inner_join(staff::table.on(staff::id.eq(closeouts::clerk_id)))
        .filter(closeouts::local_date.between(scope.from, scope.to))
        .group_by((closeouts::post_code, closeouts::local_date, closeouts::clerk_id))
        .select(diesel::dsl::max(closeouts::id))
        .into_boxed();
    if let Some(post) = &scope.post {
        query = query.filter(closeouts::post_code.eq(post.clone()));
    }
    if let Some(clerk) = &scope.clerk {
        query = query.filter(staff::username.eq(clerk.clone()));
    }
    let mut latest: Vec<i64> = query.load::<Option<i64>>(conn)?.into_iter().flatten().collect();
    latest.sort_unstable();
    latest.into_iter().map(|id| crate::fees::closeouts::view(conn, id)).collect()
}

/// The whole report as JSON gives it: the shape `reports::json` streams, never built whole.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    /// The post, or absent for every post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// When it was made (UTC).
    pub generated_at: String,
    pub rows: Vec<Row>,
    pub totals: Totals,
    pub closes: Vec<CloseoutView>,
}
