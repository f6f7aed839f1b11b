//! CSV as RFC 4180 writes it (CRLF line ends, quotes doubled), defused for spreadsheets: a
//! cell a spreadsheet would run as a formula gets a leading `'`, and a cell holding any list
//! separator a spreadsheet may split on (`,`, or `;` where the locale's decimal mark is a
//! comma, as in Mexico's Excel in Spanish) is quoted. Numbers, which may be negative, are
//! written as they are. [`cell`] is the one rule for every CSV the service writes.

use crate::fees::money::format_cents;
use crate::reports::fee_report::{Row, COLUMNS};

/// The UTF-8 byte order mark some spreadsheet programs need to read accents right.
pub const BOM: &str = "\u{FEFF}";

/// What starts a formula: OWASP's list, also after leading blanks, which spreadsheets skip.
const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One text cell.
pub fn cell(text: &str) -> String {
    let formula = text.starts_with(FORMULA) || text.trim_start().starts_with(FORMULA);
    let text = if formula { format!("'{text}") } else { text.to_string() };
    if formula || text.contains([',', ';', '"', '\t', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The header line.
pub fn header() -> String {
    COLUMNS.join(",") + "\r\n"
}

/// One row's line.
pub fn line(row: &Row) -> String {
    let cells = [
        cell(&row.kind),
        row.date.to_string(),
        cell(&row.post),
        cell(&row.receipt_number),
        row.line_no.to_string(),
        cell(&row.service),
        cell(&row.fee_code),
        cell(&row.description),
        row.quantity.to_string(),
        row.amount_cents.to_string(),
        format_cents(row.amount_cents),
        cell(&row.currency),
        cell(&row.method),
        cell(&row.clerk),
        row.voided.to_string(),
        row.voided_on.map(|d| d.to_string()).unwrap_or_default(),
    ];
    cells.join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says_and_formulas_defused() {
        assert_eq!(cell("Poder notarial"), "Poder notarial");
        assert_eq!(cell("Smith, \"Jr\""), "\"Smith, \"\"Jr\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn a_semicolon_a_tab_or_blanks_before_a_formula_do_not_make_one() {
        assert_eq!(cell("x;=1+1"), "\"x;=1+1\"");
        assert_eq!(cell("Oficina;=1+1"), "\"Oficina;=1+1\"");
        assert_eq!(cell("\t=1+1"), "\"'\t=1+1\"");
        assert_eq!(cell("\tplain"), "\"'\tplain\"");
        assert_eq!(cell(" =1+1"), "\"' =1+1\"");
        assert_eq!(cell("  @SUM(A1)"), "\"'  @SUM(A1)\"");
        assert_eq!(cell("\r\n-2"), "\"'\r\n-2\"");
        assert_eq!(cell("=1+1"), "\"'=1+1\"");
        assert_eq!(cell("a = b"), "a = b", "an equals sign inside is text");
    }
}
