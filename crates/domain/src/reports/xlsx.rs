//! The fee report as an Excel workbook, for an auditor with a spreadsheet: a `Summary` sheet
//! (totals overall, per currency, fee code, method and day), the `Lines` sheet (every row,
//! typed: dates as dates, amounts as numbers in their currency's format, booleans as
//! booleans; the header frozen), and a `Closes` sheet. Lines are written in the writer's
//! constant-memory mode, a row at a time to a temporary file, so a million rows take a few
//! megabytes; past Excel's 1 048 576 rows a sheet, they go on to `Lines 2`, and so on.

use std::collections::HashMap;
use std::io::Write;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::db::DbConn;
use crate::error::AppError;
use crate::fees::closeouts::CloseoutView;
use crate::reports::fee_report::{self, Row, Scope, Sums, Totals, COLUMNS};

/// Rows per sheet, the header's included: Excel's limit.
const SHEET_ROWS: u32 = 1_048_576;

fn failed(e: XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the workbook: {e}"))
}

/// The number formats, one per currency, made once.
struct Formats {
    bold: Format,
    date: Format,
    money: HashMap<String, Format>,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            bold: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            money: HashMap::new(),
        }
    }

    /// `[$USD] #,##0.00`, negatives with a minus.
    fn money(&mut self, currency: &str) -> &Format {
        self.money.entry(currency.to_string()).or_insert_with(|| {
            let code: String = currency.chars().filter(char::is_ascii_alphabetic).collect();
            Format::new().set_num_format(format!("[${code}] #,##0.00;-[${code}] #,##0.00"))
        })
    }
}

fn date(d: NaiveDate) -> Result<ExcelDateTime, AppError> {
    let (month, day) = (d.month() as u8, d.day() as u8);
    let year = u16::try_from(d.year()).map_err(|_| AppError::internal(anyhow::anyhow!("year {d}")))?;
    ExcelDateTime::from_ymd(year, month, day).map_err(failed)
}

/// Cents as the currency's number: exact to the cent in a double.
fn amount(cents: i64) -> f64 {
    cents as f64 / 100.0
}

fn lines_sheet(workbook: &mut Workbook, number: usize) -> Result<&mut Worksheet, AppError> {
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(failed)?;
    let name = if number == 1 { "Lines".to_string() } else { format!("Lines {number}") };
    sheet.set_name(name).map_err(failed)?;
    let bold = Format::new().set_bold();
    for (col, title) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *title, &bold).map_err(failed)?;
        let width = match *title {
            "description" => 40,
            "receipt_number" | "service" | "fee_code" | "method" | "clerk" => 18,
            "date" | "voided_on" | "amount" | "amount_cents" => 12,
            _ => 9,
        };
        sheet.set_column_width(col, width).map_err(failed)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(failed)?;
    Ok(sheet)
}

/// Writes one row at `r`, its cells in [`COLUMNS`] order.
fn write_row(sheet: &mut Worksheet, formats: &mut Formats, r: u32, row: &Row) -> Result<(), XlsxError> {
    sheet.write_string(r, 0, &row.kind)?;
    if let Ok(d) = date(row.date) {
        sheet.write_date_with_format(r, 1, d, &formats.date)?;
    }
    sheet.write_string(r, 2, &row.post)?;
    sheet.write_string(r, 3, &row.receipt_number)?;
    sheet.write_number(r, 4, row.line_no)?;
    sheet.write_string(r, 5, &row.service)?;
    sheet.write_string(r, 6, &row.fee_code)?;
    sheet.write_string(r, 7, &row.description)?;
    sheet.write_number(r, 8, row.quantity)?;
    sheet.write_number(r, 9, row.amount_cents as f64)?;
    let money = formats.money(&row.currency).clone();
    sheet.write_number_with_format(r, 10, amount(row.amount_cents), &money)?;
    sheet.write_string(r, 11, &row.currency)?;
    sheet.write_string(r, 12, &row.method)?;
    sheet.write_string(r, 13, &row.clerk)?;
    sheet.write_boolean(r, 14, row.voided)?;
    if let Some(d) = row.voided_on.and_then(|d| date(d).ok()) {
        sheet.write_date_with_format(r, 15, d, &formats.date)?;
    }
    Ok(())
}

/// The lines sheets being filled, a row at a time, moving on to a new sheet at `limit` rows.
struct Lines {
    workbook: Workbook,
    formats: Formats,
    /// Sheets of lines so far (the summary is sheet 0, so this is also the current index).
    sheets: usize,
    next: u32,
    limit: u32,
}

impl Lines {
    /// A workbook with an empty `Summary` sheet and the first lines sheet.
    fn new(limit: u32) -> Result<Lines, AppError> {
        let mut workbook = Workbook::new();
        workbook.add_worksheet().set_name("Summary").map_err(failed)?;
        lines_sheet(&mut workbook, 1)?;
        Ok(Lines { workbook, formats: Formats::new(), sheets: 1, next: 1, limit })
    }

    fn push(&mut self, row: &Row) -> Result<(), AppError> {
        if self.next == self.limit {
            self.sheets += 1;
            self.next = 1;
            lines_sheet(&mut self.workbook, self.sheets)?;
        }
        let sheet = self.workbook.worksheet_from_index(self.sheets).map_err(failed)?;
        write_row(sheet, &mut self.formats, self.next, row).map_err(failed)?;
        self.next += 1;
        Ok(())
    }
}

/// Writes the fee report of `scope` as a workbook to `out`, calling `progress` with the rows
/// written so far every few thousand rows; returns the totals.
pub fn write(
    conn: &mut DbConn,
    scope: &Scope,
    generated_at: &str,
    out: impl Write + Send,
    mut progress: impl FnMut(usize),
) -> Result<Totals, AppError> {
    let mut lines = Lines::new(SHEET_ROWS)?;
    let mut totals = Totals::default();
    fee_report::for_each_row(conn, scope, |row| {
        lines.push(&row)?;
        totals.add(&row);
        crate::reports::export::tick(&mut progress, totals.rows);
        Ok(())
    })?;
    let closes = fee_report::closes(conn, scope)?;
    let Lines { mut workbook, mut formats, .. } = lines;
    let summary = workbook.worksheet_from_index(0).map_err(failed)?;
    write_summary(summary, &mut formats, scope, generated_at, &totals).map_err(failed)?;
    let sheet = workbook.add_worksheet();
    write_closes(sheet, &mut formats, &closes).map_err(failed)?;
    workbook.save_to_writer(out).map_err(failed)?;
    Ok(totals)
}

fn write_summary(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    scope: &Scope,
    generated_at: &str,
    totals: &Totals,
) -> Result<(), XlsxError> {
    sheet.set_column_width(0, 28)?;
    for col in 1..=3 {
        sheet.set_column_width(col, 16)?;
    }
    sheet.write_string_with_format(0, 0, "Fee report", &formats.bold)?;
    sheet.write_string(1, 0, "post")?;
    sheet.write_string(1, 1, scope.post.as_deref().unwrap_or("all"))?;
    sheet.write_string(2, 0, "from")?;
    sheet.write_date_with_format(
        2,
        1,
        date(scope.from).map_err(|_| XlsxError::ParameterError("from".into()))?,
        &formats.date,
    )?;
    sheet.write_string(3, 0, "to")?;
    sheet.write_date_with_format(
        3,
        1,
        date(scope.to).map_err(|_| XlsxError::ParameterError("to".into()))?,
        &formats.date,
    )?;
    sheet.write_string(4, 0, "generated_at (UTC)")?;
    sheet.write_string(4, 1, generated_at)?;
    sheet.write_string(5, 0, "rows")?;
    sheet.write_number(5, 1, totals.rows as f64)?;

    let mut r = 7;
    let bold = formats.bold.clone();
    let section = |sheet: &mut Worksheet, r: &mut u32, title: &str| -> Result<(), XlsxError> {
        *r += 1;
        for (col, text) in [title, "gross", "voids", "net"].into_iter().enumerate() {
            sheet.write_string_with_format(*r, col as u16, text, &bold)?;
        }
        *r += 1;
        Ok(())
    };
    let sums = |sheet: &mut Worksheet, formats: &mut Formats, r: &mut u32, currency: &str, s: &Sums| {
        let money = formats.money(currency).clone();
        for (col, cents) in [s.gross_cents, s.voids_cents, s.net_cents].into_iter().enumerate() {
            sheet.write_number_with_format(*r, col as u16 + 1, amount(cents), &money)?;
        }
        *r += 1;
        Ok::<(), XlsxError>(())
    };
    section(sheet, &mut r, "total (USD)")?;
    sheet.write_string(r, 0, "all")?;
    sums(sheet, formats, &mut r, "USD", &totals.all)?;
    section(sheet, &mut r, "currency")?;
    for (currency, s) in &totals.by_currency {
        sheet.write_string(r, 0, currency)?;
        sums(sheet, formats, &mut r, currency, s)?;
    }
    section(sheet, &mut r, "fee_code (USD)")?;
    for (code, s) in &totals.by_fee_code {
        sheet.write_string(r, 0, code)?;
        sums(sheet, formats, &mut r, "USD", s)?;
    }
    section(sheet, &mut r, "method (USD)")?;
    for (method, s) in &totals.by_method {
        sheet.write_string(r, 0, method)?;
        sums(sheet, formats, &mut r, "USD", s)?;
    }
    section(sheet, &mut r, "day (USD)")?;
    for (day, s) in &totals.by_day {
        if let Ok(d) = date(*day) {
            sheet.write_date_with_format(r, 0, d, &formats.date)?;
        }
        sums(sheet, formats, &mut r, "USD", s)?;
    }
    Ok(())
}

/// One row per close and method counted: expected, counted, difference, signature.
fn write_closes(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    closes: &[CloseoutView],
) -> Result<(), XlsxError> {
    sheet.set_name("Closes")?;
    let titles = [
        "date",
        "post",
        "clerk",
        "method",
        "currency",
        "expected",
        "counted",
        "difference",
        "signed_by",
        "signed_at",
        "explanation",
    ];
    for (col, title) in titles.into_iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, title, &formats.bold)?;
        sheet.set_column_width(col as u16, if title == "explanation" { 40 } else { 14 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let mut r = 1;
    for close in closes {
        for difference in &close.differences {
            let key = |t: &&crate::fees::closeouts::Tally| {
                t.method == difference.method && t.currency == difference.currency
            };
            let expected = close.expected.iter().find(key).map_or(0, |t| t.amount_cents);
            let counted = close.counted.iter().find(key).map_or(0, |t| t.amount_cents);
            let money = formats.money(difference.currency.as_str()).clone();
            if let Ok(d) = date(close.date) {
                sheet.write_date_with_format(r, 0, d, &formats.date)?;
            }
            sheet.write_string(r, 1, &close.post)?;
            sheet.write_string(r, 2, &close.clerk)?;
            sheet.write_string(r, 3, difference.method.as_str())?;
            sheet.write_string(r, 4, difference.currency.as_str())?;
            sheet.write_number_with_format(r, 5, amount(expected), &money)?;
            sheet.write_number_with_format(r, 6, amount(counted), &money)?;
            sheet.write_number_with_format(r, 7, amount(difference.amount_cents), &money)?;
            sheet.write_string(r, 8, close.signed_by.as_deref().unwrap_or(""))?;
            sheet.write_string(r, 9, close.signed_at.as_deref().unwrap_or(""))?;
            sheet.write_string(r, 10, close.explanation.as_deref().unwrap_or(""))?;
            r += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use calamine::Reader;

    use super::*;

    fn row(i: i64) -> Row {
        Row {
            kind: "sale".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
            post: "MEX".into(),
            receipt_number: format!("MEX-2027-{i:06}"),
            line_no: 1,
            service: "passport-new".into(),
            fee_code: "passport-execution".into(),
            description: "Passport execution fee (DS-11)".into(),
            quantity: 1,
            amount_cents: 3_500 + i,
            currency: "USD".into(),
            method: "card".into(),
            clerk: "mex.clerk".into(),
            voided: false,
            voided_on: None,
            local_cents: None,
        }
    }

    #[test]
    fn lines_past_a_sheets_limit_go_on_to_the_next_sheet_with_its_own_header() {
        // A limit of 4 rows a sheet (header included): 7 lines fill three sheets.
        let mut lines = Lines::new(4).expect("workbook");
        for i in 0..7 {
            lines.push(&row(i)).expect("row");
        }
        let mut bytes = Vec::new();
        lines.workbook.save_to_writer(&mut bytes).expect("saved");
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
        assert_eq!(book.sheet_names(), ["Summary", "Lines", "Lines 2", "Lines 3"]);
        let mut seen = Vec::new();
        for name in ["Lines", "Lines 2", "Lines 3"] {
            let range = book.worksheet_range(name).expect("sheet");
            let mut rows = range.rows();
            assert_eq!(rows.next().map(|h| h[0].to_string()), Some("kind".into()), "{name} has its header");
            seen.extend(rows.map(|r| r[9].to_string()));
        }
        assert_eq!(seen, (0..7).map(|i| (3_500 + i).to_string()).collect::<Vec<_>>());
    }
}
