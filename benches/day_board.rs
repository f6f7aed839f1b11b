//! The day board under the windows' refresh: the optimized server binary runs as a child
//! process on a fresh SQLite database (or `BENCH_DATABASE_URL`'s PostgreSQL server); an admin
//! created with the real `create-staff` opens MEX notarial around the clock; `--visits` visits
//! of today are made through HTTP (walk-ins, routine and one in ten an emergency, each with its
//! ticket); then
//! `--clients` clients (the windows) read `GET /api/v1/staff/posts/MEX/day` back to back for
//! `--secs` seconds. Prints requests/s, latency p50/p99/max, and the server's peak resident
//! memory (`VmHWM`). Fails on any answer but 200, or a board without every visit.
//!
//! ```text
//! cargo bench --bench day_board
//! cargo bench --bench day_board -- --visits 400 --clients 10 --secs 10
//! ```

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use clap::Parser;
use serde_json::{json, Value};

mod support;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 400)]
    visits: usize,
    #[arg(long, default_value_t = 10)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = support::server::Server::start("board", &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")])?;
    let outcome = actix_web::rt::System::new().block_on(run(&args, &server.base));
    let peak = server.peak_memory();
    drop(server);
    let (rate, p50, p99, max, requests) = outcome?;
    println!("day board, {} visits, {} clients, {} s", args.visits, args.clients, args.secs);
    println!("  requests/s            {rate:.0} ({requests} requests, all 200 with every visit)");
    println!("  latency p50 / p99 / max  {p50:.1} / {p99:.1} / {max:.1} ms");
    println!("  server peak resident memory (VmHWM)  {}", peak.unwrap_or_else(|| "unknown".into()));
    Ok(())
}

async fn run(args: &Args, base: &str) -> anyhow::Result<(f64, f64, f64, f64, usize)> {
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(args.clients * 2))
        .timeout(Duration::from_secs(30))
        .finish();
    let token = support::server::admin_token(&client, base).await?;
    let post = |path: String, token: Option<String>, body: Value| {
        let client = client.clone();
        async move {
            let mut request = client.post(path);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let mut response = request.send_json(&body).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let status = response.status().as_u16();
            let body: Value = response.json().limit(1 << 24).await.unwrap_or(Value::Null);
            anyhow::Ok((status, body))
        }
    };
    let week = json!({"service": "notarial", "openings": [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "23:59", "slot_minutes": 30, "capacity": 50}]});
    let mut response = client
        .put(format!("{base}/api/v1/admin/posts/MEX/schedules"))
        .bearer_auth(&token)
        .send_json(&week)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(response.status().as_u16() == 200, "schedule: {:?}", response.body().await);

    // Today's visits: walk-ins for two lines, one in ten an emergency, as a busy day's board
    // holds.
    let made = futures_util::future::join_all((0..args.visits).map(|i| {
        let (post, token, base) = (&post, token.clone(), base.to_string());
        let service = if i % 2 == 0 { "notarial" } else { "crba" };
        let person = json!({"given_names": format!("Persona {i}"), "surname": "Núñez"});
        let body = if i % 10 == 0 {
            json!({"service": service, "kind": "emergency", "reason": "lost_passport_travel_72h", "applicant": person})
        } else {
            json!({"service": service, "kind": "routine", "applicant": person})
        };
        async move { post(format!("{base}/api/v1/staff/posts/MEX/walk-ins"), Some(token), body).await }
    }))
    .await;
    for result in made {
        let (status, body) = result?;
        ensure!(status == 201, "a visit was not made: {status} {body}");
    }

    let deadline = Instant::now() + Duration::from_secs(args.secs);
    let readers = (0..args.clients).map(|_| {
        let (client, token, base) = (client.clone(), token.clone(), base.to_string());
        let expected = args.visits;
        async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let mut response = client
                    .get(format!("{base}/api/v1/staff/posts/MEX/day"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let body: Value = response.json().limit(1 << 24).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                latencies.push(sent.elapsed());
                let visits = body["visits"].as_array().map(Vec::len).unwrap_or(0);
                if response.status().as_u16() != 200 || visits < expected {
                    bail!("the board answered {} with {visits} visits", response.status());
                }
            }
            anyhow::Ok(latencies)
        }
    });
    let measured = Instant::now();
    let mut all = Vec::new();
    for latencies in futures_util::future::join_all(readers).await {
        all.extend(latencies?);
    }
    let elapsed = measured.elapsed().as_secs_f64();
    let (p50, p99, max) = support::latency::percentiles(&mut all);
    Ok((all.len() as f64 / elapsed, p50, p99, max, all.len()))
}
