//! The fee report as JSON, written a row at a time in the shape of
//! [`Report`](crate::reports::fee_report::Report) (the head, the
//! rows, then the totals and closes): the rows go out as they are read and are never held, and
//! the totals, which come after them, are added up on the way.
//!
//! The closing `}` is the last byte written and only comes once everything was read: a report
//! that fails half-way is never a whole, parseable document.

use std::io::Write;

use serde::Serialize;

use crate::error::AppError;
use crate::fees::closeouts::CloseoutView;
use crate::reports::export::tick;
use crate::reports::fee_report::{self, Row, Scope, Totals};

/// Writes the report of `scope` to `out`, calling `progress` with the rows written so far.
/// Returns the totals.
pub fn write(
    conn: &mut crate::db::DbConn,
    scope: &Scope,
    generated_at: &str,
    out: impl Write,
    mut progress: impl FnMut(usize),
) -> Result<Totals, AppError> {
    let mut document = Document::start(out, scope, generated_at)?;
    fee_report::for_each_row(conn, scope, |row| {
        document.row(&row)?;
        tick(&mut progress, document.totals.rows);
        Ok(())
    })?;
    let closes = fee_report::closes(conn, scope)?;
    document.finish(&closes)
}

/// A report being written: its head is out, its rows are going out.
struct Document<W: Write> {
    out: W,
    totals: Totals,
}

impl<W: Write> Document<W> {
    /// Writes the head (`post`, absent for every post; `from`, `to`, `generated_at`) and opens
    /// the rows.
    fn start(mut out: W, scope: &Scope, generated_at: &str) -> Result<Self, AppError> {
        raw(&mut out, b"{")?;
        if let Some(post) = &scope.post {
            member(&mut out, "post", post)?;
            raw(&mut out, b",")?;
        }
        member(&mut out, "from", &scope.from)?;
        raw(&mut out, b",")?;
        member(&mut out, "to", &scope.to)?;
        raw(&mut out, b",")?;
        member(&mut out, "generated_at", generated_at)?;
        raw(&mut out, b",\"rows\":[")?;
        Ok(Document { out, totals: Totals::default() })
    }

    /// Writes one row and adds it to the totals.
    fn row(&mut self, row: &Row) -> Result<(), AppError> {
        if self.totals.rows > 0 {
            raw(&mut self.out, b",")?;
        }
        value(&mut self.out, row)?;
        self.totals.add(row);
        Ok(())
    }

    /// Closes the rows, writes the totals and the closes, and closes the document.
    fn finish(mut self, closes: &[CloseoutView]) -> Result<Totals, AppError> {
        raw(&mut self.out, b"],")?;
        member(&mut self.out, "totals", &self.totals)?;
        raw(&mut self.out, b",")?;
        member(&mut self.out, "closes", closes)?;
        raw(&mut self.out, b"}")?;
        Ok(self.totals)
    }
}

/// `"key":value`.
fn member(out: &mut impl Write, key: &str, item: &(impl Serialize + ?Sized)) -> Result<(), AppError> {
    value(&mut *out, key)?;
    raw(out, b":")?;
    value(out, item)
}

/// Punctuation between the values.
fn raw(out: &mut impl Write, bytes: &[u8]) -> Result<(), AppError> {
    out.write_all(bytes).map_err(AppError::internal)
}

fn value(out: &mut impl Write, item: &(impl Serialize + ?Sized)) -> Result<(), AppError> {
    serde_json::to_writer(out, item).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::reports::fee_report::Report;

    fn scope(post: Option<&str>) -> Scope {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("a date");
        Scope {
            post: post.map(str::to_string),
            from: day(1),
            to: day(30),
            service: None,
            fee_code: None,
            method: None,
            clerk: None,
        }
    }

    fn row(kind: &str, cents: i64, description: &str) -> Row {
        let date = NaiveDate::from_ymd_opt(2026, 11, 3).expect("a date");
        Row {
            kind: kind.into(),
            date,
            post: "MEX".into(),
            receipt_number: "MEX-2027-000001".into(),
            line_no: 1,
            service: "passport-new".into(),
            fee_code: "passport-book-adult".into(),
            description: description.into(),
            quantity: 1,
            amount_cents: cents,
            currency: "USD".into(),
            method: "cash_local".into(),
            clerk: "mex.clerk".into(),
            voided: kind == "void",
            voided_on: (kind == "void").then_some(date),
            local_cents: Some(cents * 17),
        }
    }

    /// What serde writes for the whole report held in memory, as the report used to be made.
    fn whole(scope: &Scope, rows: Vec<Row>) -> String {
        let mut totals = Totals::default();
        rows.iter().for_each(|r| totals.add(r));
        let report = Report {
            post: scope.post.clone(),
            from: scope.from,
            to: scope.to,
            generated_at: "2026-12-02T10:00:00Z".into(),
            rows,
            totals,
            closes: Vec::new(),
        };
        serde_json::to_string(&report).expect("json")
    }

    fn streamed(scope: &Scope, rows: &[Row]) -> (String, Totals) {
        let mut out = Vec::new();
        let mut document = Document::start(&mut out, scope, "2026-12-02T10:00:00Z").expect("head");
        for r in rows {
            document.row(r).expect("a row");
        }
        let totals = document.finish(&[]).expect("the end");
        (String::from_utf8(out).expect("utf-8"), totals)
    }

    #[test]
    fn the_streamed_report_is_byte_for_byte_the_whole_one() {
        let rows = vec![
            row("sale", 5_000, "Pasaporte \"libro\" \u{2028} ñ"),
            row("sale", 3_500, "Ejecución"),
            row("void", -5_000, "Pasaporte"),
        ];
        for post in [Some("MEX"), None] {
            let scope = scope(post);
            let (text, totals) = streamed(&scope, &rows);
            assert_eq!(text, whole(&scope, rows.clone()), "post {post:?}");
            assert_eq!((totals.rows, totals.all.net_cents), (3, 3_500));
        }
    }

    #[test]
    fn an_empty_report_is_a_whole_document_too() {
        let scope = scope(Some("MEX"));
        let (text, totals) = streamed(&scope, &[]);
        assert_eq!(text, whole(&scope, Vec::new()));
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["rows"], serde_json::json!([]));
        assert_eq!(totals, Totals::default());
    }

    #[test]
    fn a_report_cut_short_does_not_parse() {
        let scope = scope(None);
        let mut out = Vec::new();
        let mut document = Document::start(&mut out, &scope, "2026-12-02T10:00:00Z").expect("head");
        document.row(&row("sale", 5_000, "Pasaporte")).expect("a row");
        drop(document);
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_err(), "not a whole document");
    }
}
