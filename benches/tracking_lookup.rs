//! The public tracking lookup: does an unknown number answer in the same time as a known
//! number with the wrong surname? The optimized server runs on a fresh database (SQLite, or
//! `BENCH_DATABASE_URL`'s PostgreSQL server) with the lookup throttles raised; `--documents`
//! passport renewals are recorded at the window through HTTP; then `--clients` clients look
//! up, in turn, a known number with its surname (200), a known number with a wrong surname
//! (404) and a well-formed number nobody holds (404), back to back for `--secs` seconds.
//! Prints requests/s, p50/p99/max of each kind, and the server's peak resident memory.
//! Fails on any other answer.
//!
//! ```text
//! cargo bench --bench tracking_lookup
//! cargo bench --bench tracking_lookup -- --documents 300 --clients 8 --secs 10
//! ```

use std::time::{Duration, Instant};

use anyhow::ensure;
use clap::Parser;
use consular_desk::documents::tracking::TrackingNumber;
use serde_json::{json, Value};

mod support;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 300)]
    documents: usize,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

const KINDS: [&str; 3] = ["right surname (200)", "wrong surname (404)", "unknown number (404)"];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = support::server::Server::start(
        "tracking",
        &[
            ("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2"),
            ("CONSULAR_DESK_TRACKING_LOOKUPS_PER_ADDRESS", "1000000"),
            ("CONSULAR_DESK_TRACKING_FAILURES_PER_NUMBER", "1000000"),
        ],
    )?;
    let outcome = actix_web::rt::System::new().block_on(run(&args, &server.base));
    let peak = server.peak_memory();
    drop(server);
    let (rate, mut latencies) = outcome?;
    println!("tracking lookups, {} documents, {} clients, {} s", args.documents, args.clients, args.secs);
    println!("  requests/s            {rate:.0}");
    for (kind, latencies) in KINDS.iter().zip(latencies.iter_mut()) {
        let (p50, p99, max) = support::latency::percentiles(latencies);
        println!(
            "  {kind:<22} p50 / p99 / max  {p50:.2} / {p99:.2} / {max:.2} ms  ({} lookups)",
            latencies.len()
        );
    }
    println!("  server peak resident memory (VmHWM)  {}", peak.unwrap_or_else(|| "unknown".into()));
    Ok(())
}

async fn run(args: &Args, base: &str) -> anyhow::Result<(f64, Vec<Vec<Duration>>)> {
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(args.clients * 2))
        .timeout(Duration::from_secs(30))
        .finish();
    let token = support::server::admin_token(&client, base).await?;
    let send = |path: String, body: Value| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            let mut response = client
                .post(path)
                .bearer_auth(token)
                .send_json(&body)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let status = response.status().as_u16();
            let body: Value = response.json().limit(1 << 20).await.unwrap_or(Value::Null);
            ensure!((200..300).contains(&status), "{status} {body}");
            anyhow::Ok(body)
        }
    };
    // One walk-in at the window takes every document, as a family's visit would.
    let walk_in = json!({"service": "passport-renewal", "kind": "emergency", "reason": "lost_passport_travel_72h", "applicant": {"given_names": "Ana", "surname": "Núñez"}});
    send(format!("{base}/api/v1/staff/posts/MEX/walk-ins"), walk_in).await?;
    let called = send(format!("{base}/api/v1/staff/posts/MEX/queue/next"), json!({"window": "1"})).await?;
    let reference = called["reference"].as_str().unwrap_or_default().to_string();
    let mut known = Vec::new();
    for i in 0..args.documents {
        let item = json!({
            "form": "DS-82",
            "applicant": {"given_names": format!("Persona {i}"), "surname": "Núñez", "date_of_birth": "1990-06-15"},
            "previous_passport": {"number": format!("{:09}", 100_000_000 + i), "issued_on": "2020-01-10"},
        });
        let doc = send(format!("{base}/api/v1/staff/appointments/{reference}/documents"), item).await?;
        known.push(doc["tracking_number"].as_str().unwrap_or_default().to_string());
    }

    // As many numbers nobody holds, each asked as often as a known one: the throttle's counter
    // of a number is then an update in both cases, as it is for a guesser who retries.
    let unknown: Vec<String> =
        (0..known.len()).map(|_| TrackingNumber::generate().as_str().to_string()).collect();
    let deadline = Instant::now() + Duration::from_secs(args.secs);
    let clients = (0..args.clients).map(|c| {
        let (client, base, known, unknown) =
            (client.clone(), base.to_string(), known.clone(), unknown.clone());
        async move {
            let mut latencies = vec![Vec::new(), Vec::new(), Vec::new()];
            let mut i = c;
            while Instant::now() < deadline {
                let kind = i % 3;
                let number = match kind {
                    2 => unknown[i % unknown.len()].clone(),
                    _ => known[i % known.len()].clone(),
                };
                let surname = if kind == 0 { "nunez" } else { "ruiz" };
                let sent = Instant::now();
                let response = client
                    .get(format!("{base}/api/v1/track/{number}?surname={surname}"))
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                latencies[kind].push(sent.elapsed());
                let expected = if kind == 0 { 200 } else { 404 };
                ensure!(
                    response.status().as_u16() == expected,
                    "{} answered {}",
                    KINDS[kind],
                    response.status()
                );
                i += 1;
            }
            anyhow::Ok(latencies)
        }
    });
    let measured = Instant::now();
    let mut all = vec![Vec::new(), Vec::new(), Vec::new()];
    for latencies in futures_util::future::join_all(clients).await {
        for (kind, mut l) in latencies?.into_iter().enumerate() {
            all[kind].append(&mut l);
        }
    }
    let total: usize = all.iter().map(Vec::len).sum();
    Ok((total as f64 / measured.elapsed().as_secs_f64(), all))
}
