//! CSV as RFC 4180 writes it (CRLF line ends, quotes doubled), defused for spreadsheets: a
//! cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`;
//! numbers, which may be negative, are written as they are.

use crate::fees::money::format_cents;
use crate::reports::fee_report::{Row, COLUMNS};

/// The UTF-8 byte order mark some spreadsheet programs need to read accents right.
pub const BOM: &str = "\u{FEFF}";

/// One text cell.
pub fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\r', '\n']) {
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
}
