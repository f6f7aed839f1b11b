//! The fee report's export at a million receipt lines (SQLite). Seeds the lines once (see
//! `support/seed.rs`; the database is kept under `target/bench-data/` for the next run), then
//! starts the optimized server on it and measures, three runs each:
//! - the ceiling: `sqlite3 -csv` running the report's query on the same file, read to the end;
//! - CSV through HTTP (`GET /api/v1/audit/fee-report?format=csv`), read to the end;
//! - XLSX through HTTP, the same rows;
//!
//! and the server's peak resident memory (VmHWM) during the CSV runs and, counted afresh,
//! during the XLSX runs. Targets: CSV at least half the ceiling's rows/s, under 100 MB; XLSX
//! under 300 MB. Needs Debian's `sqlite3` for the ceiling.
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

/// One export's figures: time, rows (lines of output, the header's excluded) and bytes.
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

async fn export(client: &awc::Client, base: &str, token: &str, format: &str) -> anyhow::Result<Run> {
    let started = Instant::now();
    let url = format!("{base}/api/v1/audit/fee-report?post=MEX&from={FROM}&to={TO}&format={format}");
    let mut response = client.get(url).bearer_auth(token).send().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(response.status().as_u16() == 200, "export answered {}", response.status());
    let (mut rows, mut bytes) = (0u64, 0u64);
    while let Some(chunk) = response.next().await {
        let chunk = chunk.map_err(|e| anyhow::anyhow!("{e}"))?;
        bytes += chunk.len() as u64;
        rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    // The CSV's header line is not a row.
    Ok(Run { time: started.elapsed(), rows: rows.saturating_sub(1), bytes })
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
        support::create_admin(&db_url)?;
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
    let server = support::Server::on(&db_url, &[], None)?;
    let (idle, csv, csv_peak, xlsx, xlsx_peak) = actix_web::rt::System::new().block_on(async {
        let client = awc::Client::builder().timeout(Duration::from_secs(1800)).finish();
        let token = support::admin_token(&client, &server.base).await?;
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
        anyhow::Ok((idle, csv, csv_peak, xlsx, server.peak_memory()))
    })?;
    let (ceiling, csv, xlsx) = (median(ceilings), median(csv), median(xlsx));
    ensure!(csv.rows == ceiling.rows, "the CSV has {} rows, sqlite3 {}", csv.rows, ceiling.rows);

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
    Ok(())
}
