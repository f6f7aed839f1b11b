//! Feedback as a CSV file for auditors and admins: one post's or every post's, over a range of
//! local dates, oldest first, as RFC 4180 writes it and defused for spreadsheets
//! ([`crate::reports::csv::cell`]: a text starting `=` or `@` is never run as a formula).
//! Each export writes its audit entry.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use super::{range, rows};
use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::calendar;
use crate::db::schema::posts;
use crate::db::{write_transaction, DbConn};
use crate::error::AppError;
use crate::reports::csv::{cell, BOM};
use crate::reports::fee_report::readable_post;

/// The file's columns, in order.
pub const COLUMNS: [&str; 7] = ["id", "post", "service", "received_at", "language", "email", "text"];

/// What an export asks for.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// A post code or `all`; `None`: the reader's own post, or every post for one bound to none.
    pub post: Option<String>,
    /// The first local date; 30 days before `to` by default.
    pub from: Option<NaiveDate>,
    /// The last local date, included; today by default.
    pub to: Option<NaiveDate>,
    /// Start with a UTF-8 byte order mark, for spreadsheet programs.
    pub bom: bool,
}

/// A written export.
#[derive(Debug, Clone)]
pub struct Export {
    /// `feedback-MEX-2026-11-09-2026-12-08.csv`, `feedback-all-…`.
    pub file_name: String,
    pub csv: String,
    pub rows: usize,
}

/// Writes the export `actor` (a staff member) asked for and records it: 403 `wrong_post` for a
/// post beyond a bound reader's own, 404 for a post that doesn't exist, 422 for a bad range.
/// Every post's dates are its own local dates.
pub fn export(
    conn: &mut DbConn,
    actor: &Actor,
    scope: &Scope,
    now: NaiveDateTime,
) -> Result<Export, AppError> {
    let reader = actor.staff()?;
    let post = match scope.post.as_deref() {
        Some(asked) => readable_post(reader, asked)?,
        None => reader.post.clone(),
    };
    if let Some(post) = &post {
        calendar::post_zone(conn, post)?;
    }
    let today = calendar::today_at(conn, post.as_deref(), now)?;
    let (from, to) = range(scope.from, scope.to, today)?;
    let mut codes = posts::table.order(posts::code).select(posts::code).into_boxed();
    if let Some(post) = &post {
        codes = codes.filter(posts::code.eq(post));
    }
    let codes: Vec<String> = codes.load(conn)?;
    write_transaction(conn, |c| {
        let mut csv = String::from(if scope.bom { BOM } else { "" });
        csv += &(COLUMNS.join(",") + "\r\n");
        let mut count = 0;
        for code in &codes {
            let tz = calendar::post_zone(c, code)?;
            let mut found = rows(c, code, tz, (from, to), None)?;
            found.reverse();
            count += found.len();
            for row in found {
                csv += &line(&super::entry(row, tz));
            }
        }
        let scope_name = post.as_deref().unwrap_or("all");
        let event = Event::new(Action::FeedbackExported, format!("{scope_name}:{from}:{to}"))
            .at_post(post.as_deref())
            .with(json!({"from": from, "to": to, "rows": count}));
        audit::record(c, actor, event, now)?;
        Ok(Export { file_name: format!("feedback-{scope_name}-{from}-{to}.csv"), csv, rows: count })
    })
}

/// One feedback's line.
fn line(e: &super::FeedbackEntry) -> String {
    let cells = [
        e.id.to_string(),
        cell(&e.post),
        cell(e.service.as_deref().unwrap_or("")),
        cell(&e.received_at),
        cell(&e.language),
        cell(e.email.as_deref().unwrap_or("")),
        cell(&e.text),
    ];
    cells.join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::FeedbackEntry;

    #[test]
    fn a_line_quotes_and_defuses_what_people_wrote() {
        let entry = FeedbackEntry {
            id: 7,
            post: "MEX".into(),
            service: None,
            text: "=HYPERLINK(\"http://x\")\nsegunda línea, \"citada\"".into(),
            email: Some("ana@example.mx".into()),
            language: "es".into(),
            received_at: "2026-12-08T10:00:00-06:00".into(),
        };
        assert_eq!(
            line(&entry),
            "7,MEX,,2026-12-08T10:00:00-06:00,es,ana@example.mx,\
             \"'=HYPERLINK(\"\"http://x\"\")\nsegunda línea, \"\"citada\"\"\"\r\n"
        );
    }
}
