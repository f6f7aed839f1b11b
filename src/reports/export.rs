//! What every export of a report shares: its audit entry and its file name.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::db::DbConn;
use crate::reports::fee_report::Scope;

/// Records that `actor` exported the fee report of `scope` as `format`.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    scope: &Scope,
    format: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let id = format!("{}:{}:{}", scope.post.as_deref().unwrap_or("all"), scope.from, scope.to);
    let event = Event::new(Action::FeeReportExported, id).at_post(scope.post.as_deref()).with(json!({
        "format": format,
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
pub fn file_name(scope: &Scope, extension: &str) -> String {
    format!("fee-report-{}-{}-{}.{extension}", scope.post.as_deref().unwrap_or("all"), scope.from, scope.to)
}

/// Writes the fee report of `scope` to `out` as `format` (`csv` or `json`), as the operator's
/// console (the system), with a running count on a terminal and nothing when piped.
pub fn to_file(
    settings: &crate::config::Settings,
    scope: Scope,
    format: &str,
    out: &std::path::Path,
    bom: bool,
) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};

    use anyhow::Context;

    let pool = crate::db::build_pool(&settings.database_url, 1)
        .with_context(|| format!("cannot open the database {:?}", settings.database_url))?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let scope = scope.check(None).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(post) = &scope.post {
        crate::calendar::post_zone(&mut conn, post).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let now = chrono::Utc::now();
    record(&mut conn, &Actor::System, &scope, format, now.naive_utc())?;
    // No server may be running to seal the entry: seal it here.
    crate::audit::seal::seal_pending(&mut conn)?;
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let terminal = std::io::stderr().is_terminal();
    let rows = if format == "json" {
        let generated = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let report = crate::reports::fee_report::build(&mut conn, &scope, generated)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        serde_json::to_writer_pretty(&mut writer, &report)?;
        report.rows.len()
    } else {
        if bom {
            writer.write_all(crate::reports::csv::BOM.as_bytes())?;
        }
        writer.write_all(crate::reports::csv::header().as_bytes())?;
        let mut written = 0usize;
        crate::reports::fee_report::for_each_row(&mut conn, &scope, |row| {
            writer
                .write_all(crate::reports::csv::line(&row).as_bytes())
                .map_err(|e| crate::error::AppError::internal(anyhow::Error::from(e)))?;
            written += 1;
            if terminal && written.is_multiple_of(10_000) {
                eprint!("\rexporting the fee report: {written} rows");
            }
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    writer.flush()?;
    if terminal {
        eprintln!("\rexported the fee report: {rows} rows to {}", out.display());
    }
    Ok(())
}
