//! The staff search at a million visits at one post. A fresh database (SQLite, or
//! `BENCH_DATABASE_URL`'s PostgreSQL server) gets `--visits` walk-in visits at MEX written
//! directly (multi-row INSERTs: the API would take hours), one or two people each with Mexican
//! given names and double surnames (accents included), a phone on one in three, a renewal
//! document on one in ten and a receipt on another one in ten; the index is then built by the
//! same backfill the server runs at start-up (timed). The optimized server starts on it, and
//! `--clients` clients signed in as a MEX clerk search for `--secs` seconds, in turn: name
//! prefixes (`lop`, `NUÑ`), two words (`maría lópez`), a full name, references (with dashes,
//! and as scanned: lower case, no dashes, a line end), receipt numbers, tracking numbers,
//! phones, last fours, and names nobody has. Prints p50/p99/max per kind and overall,
//! requests/s, and the server's peak resident memory (VmHWM). Fails on any non-200 answer or
//! a known target not found.
//!
//! ```text
//! cargo bench --bench search
//! cargo bench --bench search -- --visits 100000 --clients 4 --secs 10
//! ```

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use clap::Parser;
use consular_desk::booking::reference_code::Reference;
use consular_desk::config::DatabaseUrl;
use consular_desk::db::DbConn;
use consular_desk::documents::tracking::TrackingNumber;
use diesel::connection::SimpleConnection;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

mod support;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    visits: usize,
    #[arg(long, default_value_t = 4)]
    clients: usize,
    #[arg(long, default_value_t = 15)]
    secs: u64,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

const GIVEN: &[&str] = &[
    "José",
    "María",
    "Juan",
    "Guadalupe",
    "Francisco",
    "Ana",
    "Luis",
    "Sofía",
    "Jesús",
    "Lucía",
    "Miguel Ángel",
    "Ximena",
    "Fernando",
    "Valentina",
    "Ricardo",
    "Camila",
    "Andrés",
    "Renata",
    "Héctor",
    "Mariana",
    "Raúl",
    "Daniela",
    "Óscar",
    "Regina",
    "Iván",
    "Fátima",
    "Rubén",
    "Inés",
    "Julián",
    "Noemí",
    "Ángel",
    "Begoña",
    "Ramón",
    "Araceli",
    "Efraín",
    "Itzel",
    "Joaquín",
    "Xóchitl",
    "Germán",
    "Citlali",
];
const SURNAMES: &[&str] = &[
    "López",
    "Hernández",
    "García",
    "Martínez",
    "González",
    "Rodríguez",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Moreno",
    "Castillo",
    "Romero",
    "Álvarez",
    "Méndez",
    "Chávez",
    "Rivera",
    "Juárez",
    "Ramos",
    "Domínguez",
    "Herrera",
    "Medina",
    "Castro",
    "Vargas",
    "Guzmán",
    "Velázquez",
    "Núñez",
    "Muñoz",
    "Ibáñez",
    "Peña",
    "Ordóñez",
    "Saldaña",
    "Treviño",
    "Zúñiga",
    "Montaño",
    "Quiñones",
    "Yáñez",
];
const STATUSES: &[&str] = &[
    "received",
    "sent_for_adjudication",
    "approved",
    "printed",
    "received_at_post",
    "ready_for_pickup",
    "delivered",
];

/// What the seed wrote that the searches look for.
#[derive(Default)]
struct Known {
    references: Vec<String>,
    receipts: Vec<String>,
    tracking: Vec<String>,
    phones: Vec<String>,
    last_fours: Vec<String>,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Runs the multi-row INSERT in `sql` once `rows` rows are in it.
fn flush(
    conn: &mut DbConn,
    sql: &mut String,
    head: &str,
    rows: &mut usize,
    force: bool,
) -> anyhow::Result<()> {
    if *rows > 0 && (force || *rows >= 500) {
        conn.batch_execute(sql).context("a seeding INSERT")?;
        sql.clear();
        *rows = 0;
    }
    if sql.is_empty() {
        sql.push_str(head);
    }
    Ok(())
}

fn add(sql: &mut String, rows: &mut usize, values: &str) {
    if *rows > 0 {
        sql.push(',');
    }
    sql.push_str(values);
    *rows += 1;
}

/// Writes `visits` visits at MEX, with phones, documents and receipts, in transactions of
/// 50 000 visits.
fn seed(db_url: &str, visits: usize) -> anyhow::Result<Known> {
    let url = DatabaseUrl::parse(db_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = DbConn::open(&url)?;
    if let DatabaseUrl::Sqlite(_) = url {
        conn.batch_execute("PRAGMA synchronous = OFF;")?;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261208);
    let mut known = Known::default();
    let visit_head = "INSERT INTO appointments (id, reference, kind, post_code, service_code, starts_at, \
        booked_by_staff_id, party_size, party, phone, walk_in_reason, status, created_at, updated_at) VALUES ";
    let document_head = "INSERT INTO documents (id, tracking_number, appointment_id, post_code, kind, form, \
        status, surname_key, details, recorded_at, recorded_by, updated_at) VALUES ";
    let receipt_head = "INSERT INTO receipts (id, receipt_number, post_code, fiscal_year, seq, local_date, \
        issued_at, appointment_id, payer, clerk_id, method, total_cents, currency) VALUES ";
    let (mut v_sql, mut d_sql, mut r_sql) = (String::new(), String::new(), String::new());
    let (mut v_rows, mut d_rows, mut r_rows) = (0, 0, 0);
    let admin = "(SELECT id FROM staff WHERE username = 'bench.admin')";
    let start =
        chrono::NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(15, 0, 0)).context("date")?;
    let (mut documents, mut receipts) = (0usize, 0usize);
    let mut references = std::collections::HashSet::with_capacity(visits);
    conn.batch_execute("BEGIN")?;
    for i in 1..=visits {
        let person = |rng: &mut rand::rngs::StdRng| {
            let given = GIVEN[rng.random_range(0..GIVEN.len())];
            let surname = format!(
                "{} {}",
                SURNAMES[rng.random_range(0..SURNAMES.len())],
                SURNAMES[rng.random_range(0..SURNAMES.len())]
            );
            json!({"given_names": given, "surname": surname})
        };
        let people: Vec<Value> = (0..rng.random_range(1..=2)).map(|_| person(&mut rng)).collect();
        let party = serde_json::to_string(&people)?;
        let phone = (i % 3 == 0)
            .then(|| format!("+52 55 {:04} {:04}", rng.random_range(0..10_000), rng.random_range(0..10_000)));
        // 40 random bits: a million draws meet twice about one time in two.
        let reference = loop {
            let drawn = Reference::generate().to_string();
            if references.insert(drawn.clone()) {
                break drawn;
            }
        };
        let at = start + chrono::Duration::minutes((i as i64 * 7) % (3 * 365 * 24 * 60));
        let at = at.format("%Y-%m-%d %H:%M:%S").to_string();
        flush(&mut conn, &mut v_sql, visit_head, &mut v_rows, false)?;
        add(
            &mut v_sql,
            &mut v_rows,
            &format!(
                "({i}, {}, 'walk_in', 'MEX', 'passport-renewal', '{at}', {admin}, {}, {}, {}, 'bench', 'completed', '{at}', '{at}')",
                quote(&reference),
                people.len(),
                quote(&party),
                phone.as_deref().map(quote).unwrap_or_else(|| "NULL".into()),
            ),
        );
        if i % 1000 == 0 {
            known.references.push(reference);
            if let Some(phone) = &phone {
                known.phones.push(phone.clone());
            }
        }
        if i % 10 == 3 {
            documents += 1;
            let tracking = TrackingNumber::generate().as_str().to_string();
            let last: String = format!("{:04}", rng.random_range(0..10_000));
            let details = json!({
                "form": "DS-82", "applicant": people[0],
                "previous_passport": {"number": {"masked": format!("****{last}")}, "issued_on": "2019-05-01"},
            });
            let status = STATUSES[rng.random_range(0..STATUSES.len())];
            flush(&mut conn, &mut d_sql, document_head, &mut d_rows, false)?;
            add(
                &mut d_sql,
                &mut d_rows,
                &format!(
                    "({documents}, {}, {i}, 'MEX', 'passport', 'DS-82', '{status}', 'bench', {}, '{at}', {admin}, '{at}')",
                    quote(&tracking),
                    quote(&details.to_string()),
                ),
            );
            if documents % 100 == 0 {
                known.tracking.push(tracking);
                known.last_fours.push(last);
            }
        }
        if i % 10 == 7 {
            receipts += 1;
            let number = format!("MEX-2026-{receipts:06}");
            flush(&mut conn, &mut r_sql, receipt_head, &mut r_rows, false)?;
            add(
                &mut r_sql,
                &mut r_rows,
                &format!(
                    "({receipts}, '{number}', 'MEX', 2026, {receipts}, '{}', '{at}', {i}, {}, {admin}, 'cash_usd', 13000, 'USD')",
                    &at[..10],
                    quote(&format!("{} {}", people[0]["given_names"].as_str().unwrap_or(""), people[0]["surname"].as_str().unwrap_or(""))),
                ),
            );
            if receipts % 100 == 0 {
                known.receipts.push(number);
            }
        }
        if i % 50_000 == 0 {
            // Visits before the documents and receipts that refer to them.
            flush(&mut conn, &mut v_sql, visit_head, &mut v_rows, true)?;
            flush(&mut conn, &mut d_sql, document_head, &mut d_rows, true)?;
            flush(&mut conn, &mut r_sql, receipt_head, &mut r_rows, true)?;
            conn.batch_execute("COMMIT; BEGIN")?;
        }
    }
    flush(&mut conn, &mut v_sql, visit_head, &mut v_rows, true)?;
    flush(&mut conn, &mut d_sql, document_head, &mut d_rows, true)?;
    flush(&mut conn, &mut r_sql, receipt_head, &mut r_rows, true)?;
    conn.batch_execute("COMMIT")?;
    if let DbConn::Postgres(_) = conn {
        conn.batch_execute(
            "SELECT setval('appointments_id_seq', (SELECT max(id) FROM appointments));
             SELECT setval('documents_id_seq', (SELECT max(id) FROM documents));
             SELECT setval('receipts_id_seq', (SELECT max(id) FROM receipts));
             ANALYZE;",
        )?;
    }
    println!("  seeded                {visits} visits, {documents} documents, {receipts} receipts");
    Ok(known)
}

/// The searches, by kind: each text, and a result `id` it must find (`None`: anything, or nothing).
/// Each kind of search and its texts, with the id each must find (`None`: anything or nothing).
type Mix = Vec<(&'static str, Vec<(String, Option<String>)>)>;

fn mix(known: &Known) -> Mix {
    let any = |texts: Vec<String>| texts.into_iter().map(|t| (t, None)).collect::<Vec<_>>();
    let prefixes: Vec<String> = SURNAMES
        .iter()
        .chain(GIVEN)
        .flat_map(|w| {
            let chars: Vec<char> = w.chars().collect();
            [
                chars[..3].iter().collect::<String>().to_lowercase(),
                chars[..3.min(chars.len())].iter().collect::<String>().to_uppercase(),
            ]
        })
        .collect();
    let pairs: Vec<String> =
        GIVEN.iter().zip(SURNAMES.iter().rev()).map(|(g, s)| format!("{g} {s}").to_lowercase()).collect();
    let head = |w: &str| w.chars().take(3).collect::<String>();
    let two_prefixes: Vec<String> = SURNAMES
        .iter()
        .zip(SURNAMES.iter().skip(7))
        .map(|(a, b)| format!("{} {}", head(a), head(b)))
        .collect();
    let nobody: Vec<String> =
        ["zzyzx", "Wójcik", "qqq ana", "lópez zzz", "Nakamura"].iter().map(|s| s.to_string()).collect();
    vec![
        ("name prefix", any(prefixes)),
        ("full name", any(pairs)),
        ("two prefixes", any(two_prefixes)),
        ("reference", known.references.iter().map(|r| (r.clone(), Some(r.clone()))).collect()),
        (
            "scanned reference",
            known
                .references
                .iter()
                .map(|r| (format!("{}\r\n", r.replace('-', "").to_lowercase()), Some(r.clone())))
                .collect(),
        ),
        ("receipt number", known.receipts.iter().map(|r| (r.to_lowercase(), Some(r.clone()))).collect()),
        ("tracking number", known.tracking.iter().map(|t| (t.clone(), Some(t.clone()))).collect()),
        ("phone", any(known.phones.clone())),
        ("last four", any(known.last_fours.clone())),
        ("nobody", any(nobody)),
    ]
}

fn encode(q: &str) -> String {
    q.bytes().fold(String::new(), |mut out, b| {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
        out
    })
}

type Latencies = Vec<Vec<Duration>>;

async fn run(args: &Args, base: &str, kinds: &Mix) -> anyhow::Result<(f64, Latencies)> {
    let client = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
    let admin = support::server::admin_token(&client, base).await?;
    let clerk = json!({"username": "bench.clerk", "password": support::server::PASSWORD, "role": "clerk", "post": "MEX"});
    let made = client
        .post(format!("{base}/api/v1/admin/staff"))
        .bearer_auth(&admin)
        .send_json(&clerk)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(made.status().as_u16() == 201, "creating the clerk: {}", made.status());
    let mut signed = client
        .post(format!("{base}/api/v1/staff/auth/login"))
        .send_json(&json!({"username": "bench.clerk", "password": support::server::PASSWORD}))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = signed.json::<Value>().await.map_err(|e| anyhow::anyhow!("{e}"))?["token"]
        .as_str()
        .context("no clerk token")?
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(args.secs);
    let started = Instant::now();
    let outcomes = futures_util::future::join_all((0..args.clients).map(|c| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            let mut latencies: Latencies = vec![Vec::new(); kinds.len()];
            let mut n = c;
            while Instant::now() < deadline {
                let k = n % kinds.len();
                let texts = &kinds[k].1;
                if texts.is_empty() {
                    n += 1;
                    continue;
                }
                let (text, wanted) = &texts[(n / kinds.len()) % texts.len()];
                let sent = Instant::now();
                let mut response = client
                    .get(format!("{base}/api/v1/staff/search?q={}", encode(text)))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let body: Value = response.json().limit(1 << 20).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                latencies[k].push(sent.elapsed());
                ensure!(response.status().as_u16() == 200, "{text:?}: {} {body}", response.status());
                if let Some(wanted) = wanted {
                    let ids: Vec<&str> = body["results"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r["id"].as_str())
                        .collect();
                    ensure!(ids.contains(&wanted.as_str()), "{text:?} did not find {wanted}: {body}");
                }
                n += args.clients;
            }
            anyhow::Ok(latencies)
        }
    }))
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut all: Latencies = vec![Vec::new(); kinds.len()];
    for outcome in outcomes {
        for (k, mut l) in outcome?.into_iter().enumerate() {
            all[k].append(&mut l);
        }
    }
    let total: usize = all.iter().map(Vec::len).sum();
    Ok((total as f64 / elapsed, all))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Dropped after `bench` has stopped the server, also when it fails.
    let db = support::db::BenchDb::fresh(support::db::postgres_from_env().as_deref(), "search")?;
    bench(&args, db.url())
}

fn bench(args: &Args, db_url: &str) -> anyhow::Result<()> {
    println!(
        "search, {} visits at MEX, {} clients, {} s ({})",
        args.visits,
        args.clients,
        args.secs,
        if db_url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" }
    );
    support::server::create_admin(db_url)?;
    let seeding = Instant::now();
    let known = seed(db_url, args.visits)?;
    println!("  seeding took          {:.1} s", seeding.elapsed().as_secs_f64());
    let indexing = Instant::now();
    let url = DatabaseUrl::parse(db_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let done = consular_desk::search::index::backfill(&mut DbConn::open(&url)?)?;
    println!(
        "  backfill (start-up)   {:.1} s for {} visits and {} documents",
        indexing.elapsed().as_secs_f64(),
        done.visits,
        done.documents
    );
    if let DatabaseUrl::Postgres(_) = url {
        DbConn::open(&url)?.batch_execute("ANALYZE search_terms;")?;
    }
    let server = support::server::Server::on(db_url, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")])?;
    let kinds = mix(&known);
    let outcome = actix_web::rt::System::new().block_on(run(args, &server.base, &kinds));
    let peak = server.peak_memory();
    drop(server);
    let (rate, mut latencies) = outcome?;
    println!("  requests/s            {rate:.0}");
    let mut every = Vec::new();
    for ((kind, _), latencies) in kinds.iter().zip(latencies.iter_mut()) {
        every.extend_from_slice(latencies);
        let (p50, p99, max) = support::latency::percentiles(latencies);
        println!(
            "  {kind:<20}  p50 / p99 / max  {p50:6.2} / {p99:6.2} / {max:7.2} ms  ({} searches)",
            latencies.len()
        );
    }
    let (p50, p99, max) = support::latency::percentiles(&mut every);
    println!(
        "  {:<20}  p50 / p99 / max  {p50:6.2} / {p99:6.2} / {max:7.2} ms  ({} searches)",
        "all",
        every.len()
    );
    println!("  server peak memory    {}", peak.unwrap_or_else(|| "unknown".into()));
    Ok(())
}
