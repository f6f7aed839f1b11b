//! Exporting the fee report: the one place a format is chosen and written (the HTTP handler
//! and the command line both call [`write`]), its audit entry, its file name, and the
//! command line's progress bar.

use std::io::Write;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::db::DbConn;
use crate::error::AppError;
use crate::pdf::Templates;
use crate::reports::fee_report::{self, Scope, Totals};
use crate::reports::{csv, json, xlsx};

/// The formats a fee report is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RFC 4180, streamed.
    Csv,
    Json,
    /// An Excel workbook: summary, lines, closes.
    Xlsx,
    /// A summary: totals and closes, no lines.
    Pdf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        [Format::Csv, Format::Json, Format::Xlsx, Format::Pdf].into_iter().find(|f| f.as_str() == text)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
        }
    }
}

/// Records that `actor` exported the fee report of `scope` as `format`.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    scope: &Scope,
    format: Format,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let id = format!("{}:{}:{}", scope.post.as_deref().unwrap_or("all"), scope.from, scope.to);
    let event = Event::new(Action::FeeReportExported, id).at_post(scope.post.as_deref()).with(json!({
        "format": format.as_str(),
        "from": scope.from,
        "to": scope.to,
        "service": scope.service,
        "fee_code": scope.fee_code,
        "method": scope.method.map(|m| m.as_str()),
        "clerk_filter": scope.clerk.is_some(),
    }));
    audit::record(conn, actor, event, now)
}

/// `fee-report-MEX-2026-11-01-2026-11-30.csv`.
pub fn file_name(scope: &Scope, format: Format) -> String {
    format!(
        "fee-report-{}-{}-{}.{}",
        scope.post.as_deref().unwrap_or("all"),
        scope.from,
        scope.to,
        format.as_str()
    )
}

/// What a [`write`] needs besides the database and the output.
pub struct Job<'a> {
    pub scope: &'a Scope,
    pub format: Format,
    /// CSV only: start with a byte order mark.
    pub bom: bool,
    /// When the export was made; printed in the report.
    pub generated_at: DateTime<Utc>,
    pub templates: &'a Templates,
}

impl Job<'_> {
    /// `generated_at` as the machine-readable formats write it: UTC, RFC 3339, to the second.
    pub fn generated_utc(&self) -> String {
        self.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

fn io(e: std::io::Error) -> AppError {
    AppError::internal(anyhow::Error::from(e))
}

/// Writes the report to `out` in the job's format, a batch of rows at a time (no format holds
/// the rows: CSV, JSON and XLSX write each as it is read, the PDF keeps only the totals),
/// calling `progress` with the rows read so far. Returns the totals.
pub fn write(
    conn: &mut DbConn,
    job: &Job,
    out: impl Write + Send,
    mut progress: impl FnMut(usize),
) -> Result<Totals, AppError> {
    let scope = job.scope;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let totals = match job.format {
        Format::Csv => {
            if job.bom {
                out.write_all(csv::BOM.as_bytes()).map_err(io)?;
            }
            out.write_all(csv::header().as_bytes()).map_err(io)?;
            let mut totals = Totals::default();
            fee_report::for_each_row(conn, scope, |row| {
                out.write_all(csv::line(&row).as_bytes()).map_err(io)?;
                totals.add(&row);
                tick(&mut progress, totals.rows);
                Ok(())
            })?;
            totals
        }
        Format::Json => json::write(conn, scope, &job.generated_utc(), &mut out, &mut progress)?,
        Format::Xlsx => xlsx::write(conn, scope, &job.generated_utc(), &mut out, &mut progress)?,
        Format::Pdf => {
            let mut totals = Totals::default();
            fee_report::for_each_row(conn, scope, |row| {
                totals.add(&row);
                tick(&mut progress, totals.rows);
                Ok(())
            })?;
            let closes = fee_report::closes(conn, scope)?;
            // Printed in the post's zone; a report of every post in the embassy's.
            let zone =
                crate::calendar::post_zone(conn, scope.post.as_deref().unwrap_or(crate::calendar::EMBASSY))?;
            let generated = job.generated_at.with_timezone(&zone);
            let pdf = crate::reports::pdf::render(job.templates, scope, generated, &totals, &closes);
            out.write_all(&pdf).map_err(io)?;
            totals
        }
    };
    out.flush().map_err(io)?;
    progress(totals.rows);
    Ok(totals)
}

/// Reports progress every 5 000 rows, not on every row.
pub fn tick(progress: &mut impl FnMut(usize), rows: usize) {
    if rows.is_multiple_of(5_000) {
        progress(rows);
    }
}

/// `[##########----------]  50%  500000/1000000 rows`: the command line's progress bar.
pub fn progress_bar(done: u64, total: u64, width: usize) -> String {
    let share = if total == 0 { 1.0 } else { (done.min(total) as f64) / (total as f64) };
    let filled = (share * width as f64).round() as usize;
    format!(
        "[{}{}] {:>3}%  {done}/{total} rows",
        "#".repeat(filled),
        "-".repeat(width - filled),
        (share * 100.0).floor() as u64
    )
}

/// Opens `path` for writing, empty, readable by its owner only (0600): a fee report names
/// payers. A new file is created with that mode; an existing one is narrowed to it before
/// anything is written.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// Writes the fee report of `scope` to `out` as `format`, as the operator's console (the
/// system): works with the server stopped. On a terminal it shows a progress bar against the
/// counted rows; piped or redirected, it prints nothing.
pub fn to_file(
    settings: &crate::config::Settings,
    scope: Scope,
    format: Format,
    out: &std::path::Path,
    bom: bool,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;

    use anyhow::Context;

    let templates = Templates::load(&settings.pdf_templates)?;
    let pool = crate::db::build_pool(&settings.database_url, 1)
        .with_context(|| format!("cannot open the database {:?}", settings.database_url))?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let scope = scope.check(&mut conn, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The CLI is a process of its own: it reads the machine's clock.
    let now = crate::clock::Clock::system().now();
    record(&mut conn, &Actor::System, &scope, format, now.naive_utc())?;
    // No server may be running to seal the entry: seal it here.
    crate::audit::seal::seal_pending(&mut conn)?;
    let file = private_file(out).with_context(|| format!("cannot create {}", out.display()))?;
    let terminal = std::io::stderr().is_terminal();
    // Counting costs a query per kind of row: only worth it when someone watches.
    let total = if terminal { fee_report::count_rows(&mut conn, &scope)? } else { 0 };
    let job = Job { scope: &scope, format, bom, generated_at: now, templates: &templates };
    let written = write(&mut conn, &job, file, |rows| {
        if terminal {
            eprint!("\r{}", progress_bar(rows as u64, total, 30));
        }
    });
    let totals = written.map_err(|e| {
        // A report that broke off is not left to be taken for a whole, shorter one.
        let _ = std::fs::remove_file(out);
        anyhow::anyhow!("{e}")
    })?;
    if terminal {
        eprintln!("\nexported the fee report: {} rows to {}", totals.rows, out.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_fills_with_the_share_done() {
        assert_eq!(progress_bar(0, 200, 10), "[----------]   0%  0/200 rows");
        assert_eq!(progress_bar(50, 200, 10), "[###-------]  25%  50/200 rows");
        assert_eq!(progress_bar(200, 200, 10), "[##########] 100%  200/200 rows");
        // Rows written since the count (a receipt taken meanwhile) don't overflow the bar.
        assert_eq!(progress_bar(210, 200, 10), "[##########] 100%  210/200 rows");
        assert_eq!(progress_bar(0, 0, 4), "[####] 100%  0/0 rows");
    }

    #[test]
    fn formats_parse_from_their_names() {
        for format in [Format::Csv, Format::Json, Format::Xlsx, Format::Pdf] {
            assert_eq!(Format::parse(format.as_str()), Some(format));
        }
        assert_eq!(Format::parse("xls"), None);
    }
}
