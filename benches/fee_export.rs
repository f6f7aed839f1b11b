//! The fee report's export at a million receipt lines (SQLite). Seeds the lines once (see
//! `support/seed.rs`; the database is kept under `target/bench-data/` for the next run), then
//! starts the optimized server on it and measures, three runs each:
//! - the ceiling: `sqlite3 -csv` running the report's query on the same file, read to the end;
//! - CSV through HTTP (`GET /api/v1/audit/fee-report?format=csv`), read to the end;
//! - XLSX through HTTP, the same rows;
//! - JSON through HTTP, the same rows, parsed whole once to check it is one valid document;
//! - four JSON exports at once, on a server whose pool lets four run together;
//!
//! and the server's peak resident memory (VmHWM) during the CSV runs and, counted afresh,
//! during each of the others. Targets: CSV at least half the ceiling's rows/s, under 100 MB;
//! XLSX under 300 MB; JSON, one or four at once, under 100 MB. Needs Debian's `sqlite3` for the
//! ceiling.
//!
//! ```text
//! cargo bench --bench fee_export
//! cargo bench --bench fee_export -- --lines 200000
//! cargo bench --bench fee_export -- --seed-only --database sqlite://receipts.db   # the seeding tool
//! ```

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use clap::Parser;
use futures_util::StreamExt;

mod support;

#[derive(Parser)]
struct Args {
    /// Receipt lines to seed (two a receipt).
    #[arg(long, default_value_t = 1_000_000)]
    lines: u64,
    /// The SQLite database to seed and export; by default one kept under target/bench-data.
    #[arg(long)]
    database: Option<String>,
    /// Seed and stop: the seeding tool on its own.
    #[arg(long)]
    seed_only: bool,
    /// Measured runs of each export.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

const FROM: &str = "2026-01-01";
const TO: &str = "2026-12-31";

/// The report's rows as the server reads them: the sales of the range, then the reversals of
/// the voids made in it, each in line order.
fn ceiling_sql() -> String {
    let part = |kind: &str, filter: &str| {
        format!(
            "SELECT '{kind}', {date}, r.post_code, r.receipt_number, l.line_no, a.service_code, l.fee_code, \
             l.description, l.quantity, {sign}l.amount_cents, printf('%.2f', {sign}l.amount_cents / 100.0), \
             r.currency, r.method, s.username, v.id IS NOT NULL, v.local_date \
             FROM receipt_lines l JOIN receipts r ON r.id = l.receipt_id \
             JOIN appointments a ON a.id = r.appointment_id JOIN staff s ON s.id = r.clerk_id \
             LEFT JOIN receipt_voids v ON v.receipt_id = r.id \
             WHERE {filter} BETWEEN '{FROM}' AND '{TO}' AND r.post_code = 'MEX' ORDER BY l.id;",
            date = if kind == "sale" { "r.local_date" } else { "v.local_date" },
            sign = if kind == "sale" { "" } else { "-" },
        )
    };
    part("sale", "r.local_date") + &part("void", "v.local_date")
}

/// One export's figures: time, rows (lines of CSV, the header's excluded; rows of JSON) and
/// bytes.
struct Run {
    time: Duration,
    rows: u64,
    bytes: u64,
}

fn ceiling(path: &str) -> anyhow::Result<Run> {
    use std::io::Read;
    let started = Instant::now();
    let mut child = Command::new("sqlite3")
        .args(["-csv", path, &ceiling_sql()])
        .stdout(Stdio::piped())
        .spawn()
        .context("sqlite3 is needed for the ceiling: apt-get install sqlite3")?;
    let mut out = child.stdout.take().context("sqlite3's output")?;
    let (mut rows, mut bytes, mut buffer) = (0, 0, vec![0u8; 256 * 1024]);
    loop {
        let n = out.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        rows += buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    ensure!(child.wait()?.success(), "sqlite3 failed");
    Ok(Run { time: started.elapsed(), rows, bytes })
}

/// Counts a JSON report's rows as it arrives: each starts with `{"kind":`, which may be split
/// between two chunks.
struct RowCounter {
    rows: u64,
    tail: Vec<u8>,
}

impl RowCounter {
    const START: &[u8] = br#"{"kind":"#;

    fn feed(&mut self, chunk: &[u8]) {
        self.tail.extend_from_slice(chunk);
        self.rows += self.tail.windows(Self::START.len()).filter(|w| *w == Self::START).count() as u64;
        let keep = self.tail.len().min(Self::START.len() - 1);
        self.tail.drain(..self.tail.len() - keep);
    }
}

/// Exports the report as `format` and reads it to the end.
async fn export(client: &awc::Client, base: &str, token: &str, format: &str) -> anyhow::Result<Run> {
    Ok(export_kept(client, base, token, format, false).await?.0)
}

/// As [`export`]; with `keep`, returns the body too.
async fn export_kept(
    client: &awc::Client,
    base: &str,
    token: &str,
    format: &str,
    keep: bool,
) -> anyhow::Result<(Run, Vec<u8>)> {
    let started = Instant::now();
    let url = format!("{base}/api/v1/audit/fee-report?post=MEX&from={FROM}&to={TO}&format={format}");
    let mut response = client.get(url).bearer_auth(token).send().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(response.status().as_u16() == 200, "export answered {}", response.status());
    let (mut lines, mut bytes, mut json, mut body) =
        (0u64, 0u64, RowCounter { rows: 0, tail: Vec::new() }, Vec::new());
    while let Some(chunk) = response.next().await {
        let chunk = chunk.map_err(|e| anyhow::anyhow!("{e}"))?;
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        json.feed(&chunk);
        if keep {
            body.extend_from_slice(&chunk);
        }
    }
    // The CSV's header line is not a row.
    let rows = if format == "json" { json.rows } else { lines.saturating_sub(1) };
    Ok((Run { time: started.elapsed(), rows, bytes }, body))
}

/// Four JSON exports at once: the time until the last one ends, and each one's rows.
async fn four_json(client: &awc::Client, base: &str, token: &str) -> anyhow::Result<(Duration, Vec<u64>)> {
    let started = Instant::now();
    let runs = futures_util::future::join_all((0..4).map(|_| export(client, base, token, "json"))).await;
    let rows = runs.into_iter().map(|r| r.map(|r| r.rows)).collect::<anyhow::Result<Vec<_>>>()?;
    Ok((started.elapsed(), rows))
}

fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by_key(|r| r.time);
    let middle = runs.len() / 2;
    runs.swap_remove(middle)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db_url = match &args.database {
        Some(url) => url.clone(),
        None => {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
            std::fs::create_dir_all(&dir)?;
            format!("sqlite://{}", dir.join(format!("fee-export-{}.db", args.lines)).display())
        }
    };
    let path = db_url.strip_prefix("sqlite://").context("the export benchmark runs on SQLite")?.to_string();
    if !std::path::Path::new(&path).exists() {
        let started = Instant::now();
        support::server::create_admin(&db_url)?;
        support::seed::receipt_lines(&db_url, args.lines)?;
        println!(
            "seeded {} receipt lines into {path} in {:.1} s",
            args.lines,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("using the seeded {path} (delete it to seed again)");
    }
    if args.seed_only {
        return Ok(());
    }

    let runs = args.runs.max(1);
    let ceilings = (0..runs).map(|_| ceiling(&path)).collect::<anyhow::Result<Vec<_>>>()?;
    let server = support::server::Server::on(&db_url, &[])?;
    let (idle, csv, csv_peak, xlsx, xlsx_peak, json, json_peak) =
        actix_web::rt::System::new().block_on(async {
            let client = awc::Client::builder().timeout(Duration::from_secs(1800)).finish();
            let token = support::server::admin_token(&client, &server.base).await?;
            let idle = server.peak_memory();
            let mut csv = Vec::new();
            for _ in 0..runs {
                csv.push(export(&client, &server.base, &token, "csv").await?);
            }
            let csv_peak = server.peak_memory();
            server.reset_peak_memory()?;
            let mut xlsx = Vec::new();
            for _ in 0..runs {
                xlsx.push(export(&client, &server.base, &token, "xlsx").await?);
            }
            let xlsx_peak = server.peak_memory();
            server.reset_peak_memory()?;
            // The first JSON run is kept and parsed (after the runs: holding it would count in no
            // server's memory, but would slow the client down).
            let (first, body) = export_kept(&client, &server.base, &token, "json", true).await?;
            let mut json = vec![first];
            for _ in 1..runs {
                json.push(export(&client, &server.base, &token, "json").await?);
            }
            let json_peak = server.peak_memory();
            let parsed: serde_json::Value =
                serde_json::from_slice(&body).context("the JSON report parses")?;
            ensure!(
                parsed["totals"]["rows"].as_u64() == Some(json[0].rows),
                "the JSON's totals count {} rows, its rows are {}",
                parsed["totals"]["rows"],
                json[0].rows
            );
            anyhow::Ok((idle, csv, csv_peak, xlsx, xlsx_peak, json, json_peak))
        })?;
    drop(server);
    // Four exports at once need four turns: the pool's size over four.
    let server = support::server::Server::on(&db_url, &[("CONSULAR_DESK_DB_POOL_SIZE", "16")])?;
    let (four_time, four_rows, four_peak) = actix_web::rt::System::new().block_on(async {
        let client = awc::Client::builder().timeout(Duration::from_secs(1800)).finish();
        let token = support::server::admin_token(&client, &server.base).await?;
        server.reset_peak_memory()?;
        let (time, rows) = four_json(&client, &server.base, &token).await?;
        anyhow::Ok((time, rows, server.peak_memory()))
    })?;
    let (ceiling, csv, xlsx, json) = (median(ceilings), median(csv), median(xlsx), median(json));
    ensure!(csv.rows == ceiling.rows, "the CSV has {} rows, sqlite3 {}", csv.rows, ceiling.rows);
    ensure!(json.rows == ceiling.rows, "the JSON has {} rows, sqlite3 {}", json.rows, ceiling.rows);
    ensure!(four_rows.iter().all(|r| *r == ceiling.rows), "four at once gave {four_rows:?} rows");

    let per_second = |run: &Run| run.rows as f64 / run.time.as_secs_f64();
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let unknown = || "unknown".to_string();
    println!(
        "fee report export, {} rows (medians of {runs} runs); server peak before exporting {}",
        ceiling.rows,
        idle.unwrap_or_else(unknown)
    );
    println!(
        "  sqlite3 -csv (ceiling)  {:>6.2} s  {:>9.0} rows/s  {:>6.1} MiB",
        ceiling.time.as_secs_f64(),
        per_second(&ceiling),
        mib(ceiling.bytes)
    );
    println!(
        "  CSV over HTTP           {:>6.2} s  {:>9.0} rows/s  {:>6.1} MiB  {:.0}% of the ceiling  server peak {}",
        csv.time.as_secs_f64(),
        per_second(&csv),
        mib(csv.bytes),
        100.0 * per_second(&csv) / per_second(&ceiling),
        csv_peak.unwrap_or_else(unknown)
    );
    println!(
        "  XLSX over HTTP          {:>6.2} s  {:>9.0} rows/s  {:>6.1} MiB  server peak {}",
        xlsx.time.as_secs_f64(),
        per_second(&Run { rows: csv.rows, ..xlsx }),
        mib(xlsx.bytes),
        xlsx_peak.unwrap_or_else(unknown)
    );
    println!(
        "  JSON over HTTP          {:>6.2} s  {:>9.0} rows/s  {:>6.1} MiB  server peak {}",
        json.time.as_secs_f64(),
        per_second(&json),
        mib(json.bytes),
        json_peak.unwrap_or_else(unknown)
    );
    println!(
        "  4 JSON at once          {:>6.2} s  {:>9.0} rows/s (the four together)  server peak {}",
        four_time.as_secs_f64(),
        (4 * ceiling.rows) as f64 / four_time.as_secs_f64(),
        four_peak.unwrap_or_else(unknown)
    );
    Ok(())
}
