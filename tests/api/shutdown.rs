//! SIGTERM in the middle of a booking rush and a fee run (the real binary, real connections):
//! every request sent gets a whole answer or finds the door shut (connection refused), never a
//! reset; the process exits 0; after a restart every acknowledged write is there, and nothing
//! that was not acknowledged is.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use awc::error::{ConnectError, SendRequestError};
use consular_desk::clock::Clock;
use consular_desk::db::schema::{appointments, audit_pending, receipts};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{db_conn, person, run_cli, ServeBinary, TestApp, TestDb};

/// How long the binary gives requests in flight; idle kept-alive connections are closed after it.
const SHUTDOWN_SECONDS: &str = "5";
const BOOKERS: usize = 24;
const CASHIERS: usize = 8;
/// Answers before the signal: the rush is under way.
const ANSWERS_BEFORE_SIGNAL: usize = 60;

fn server_env(mail_dir: &str) -> Vec<(&'static str, String)> {
    [
        ("CONSULAR_DESK_SHUTDOWN_SECONDS", SHUTDOWN_SECONDS),
        ("CONSULAR_DESK_MIN_NOTICE_HOURS", "0"),
        ("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "3"),
        ("CONSULAR_DESK_RELEASE_DELAY_MINUTES", "0"),
        ("CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL", "false"),
        ("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR", "1000000"),
        ("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR_PER_ADDRESS", "1000000"),
        ("CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", "1000000"),
        ("CONSULAR_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS", "100000"),
        ("CONSULAR_DESK_HASH_QUEUE", "100000"),
        ("CONSULAR_DESK_MAIL_DIR", mail_dir),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// What became of one request.
enum Outcome {
    /// A whole answer: its status, body, and whether it closed the connection (sent while
    /// the server drained).
    Answer { status: u16, body: Value, closed: bool },
    /// No connection: the server no longer accepts them (refused; or awc's pool gave up on
    /// a connect that was refused for another request). The request was never sent.
    Refused,
    /// Anything else: a reset, a cut-off answer. The test fails on any.
    Broken(String),
}

async fn send(client: &awc::Client, url: &str, token: &str, body: &Value) -> Outcome {
    match client.post(url).bearer_auth(token).send_json(body).await {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let closed = res
                .headers()
                .get("connection")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
            match res.body().await {
                Ok(bytes) => Outcome::Answer {
                    status,
                    body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    closed,
                },
                Err(e) => Outcome::Broken(format!("{url}: answer cut off: {e}")),
            }
        }
        Err(SendRequestError::Connect(ConnectError::Io(e)))
            if e.kind() == std::io::ErrorKind::ConnectionRefused =>
        {
            Outcome::Refused
        }
        Err(SendRequestError::Connect(ConnectError::Disconnected)) => Outcome::Refused,
        Err(e) => Outcome::Broken(format!("{url}: {e}")),
    }
}

#[derive(Default)]
struct Tally {
    answers: usize,
    /// Answers that closed their connection: requests the draining server still served.
    while_draining: usize,
    broken: Vec<String>,
    unexpected: Vec<String>,
    /// Each booking's reference → the last state an answer acknowledged, and whose it is.
    bookings: HashMap<String, (&'static str, usize)>,
    receipts: BTreeSet<String>,
}

impl Tally {
    /// Counts `outcome`; false when the worker should stop (refused, or broken).
    fn record(&mut self, outcome: &Outcome, what: &str) -> bool {
        match outcome {
            Outcome::Answer { status, body, closed } => {
                self.answers += 1;
                self.while_draining += usize::from(*closed);
                if !matches!(status, 200 | 201) {
                    self.unexpected.push(format!("{what}: {status} {body}"));
                }
                true
            }
            Outcome::Refused => false,
            Outcome::Broken(why) => {
                self.broken.push(why.clone());
                false
            }
        }
    }
}

#[actix_web::test]
async fn sigterm_during_a_booking_rush_and_a_fee_run_answers_every_request_and_loses_nothing() {
    let db = TestDb::fresh();
    let mail = tempfile::tempdir().expect("mail dir");
    let env_owned = server_env(&mail.path().display().to_string());
    let env: Vec<(&str, &str)> = env_owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (mut server, base) = ServeBinary::start_answering(db.url(), &env).await;
    let desk = TestApp::served_at(base.clone(), db.url(), Clock::system());

    // The day's set-up, through the API like any other client.
    let admin = desk.admin_token().await;
    let clerk = desk.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    desk.open_around_the_clock(&admin, "MEX", "passport-new").await;
    let slots: Vec<i64> =
        desk.slots("MEX", "passport-new").await.iter().filter_map(|s| s["slot_id"].as_i64()).collect();
    assert!(slots.len() > BOOKERS, "slots to book: {}", slots.len());
    let applicants = desk.applicants(BOOKERS).await;
    let mut visits = Vec::new();
    for i in 0..CASHIERS {
        let body = json!({"service": "passport-new", "kind": "emergency", "reason": "arrest",
                          "applicant": person(&format!("Persona {i}"), "Núñez")});
        let r = desk.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &body).await;
        assert_eq!(r.status, 201, "walk-in: {}", r.body);
        visits.push(r.body["reference"].as_str().unwrap_or_default().to_string());
    }

    // The rush: each booker books and cancels in turn, each cashier charges its visit again
    // and again, all on kept-alive connections, until the server refuses them.
    let rush = awc::Client::builder()
        .connector(awc::Connector::new().limit(64))
        .timeout(Duration::from_secs(60))
        .finish();
    let tally = RefCell::new(Tally::default());
    let booker = |who: usize| {
        let (rush, tally, base, token, slots) = (&rush, &tally, &base, &applicants[who], &slots);
        async move {
            for round in 0.. {
                let slot = slots[(who + round * BOOKERS) % slots.len()];
                let body = json!({"slot_id": slot, "applicants": [person("Ana", "Núñez")]});
                let booked = send(rush, &format!("{base}/api/v1/appointments"), token, &body).await;
                let reference = match &booked {
                    Outcome::Answer { status: 201, body, .. } => {
                        body["reference"].as_str().map(str::to_string)
                    }
                    _ => None,
                };
                if !tally.borrow_mut().record(&booked, "book") {
                    return;
                }
                let Some(reference) = reference else { continue };
                tally.borrow_mut().bookings.insert(reference.clone(), ("booked", who));
                let url = format!("{base}/api/v1/appointments/{reference}/cancel");
                let cancelled = send(rush, &url, token, &json!({})).await;
                let ok = matches!(cancelled, Outcome::Answer { status: 200, .. });
                if !tally.borrow_mut().record(&cancelled, "cancel") {
                    return;
                }
                if ok {
                    tally.borrow_mut().bookings.insert(reference, ("cancelled", who));
                }
            }
        }
    };
    let cashier = |visit: &String| {
        let (rush, tally, base, clerk) = (&rush, &tally, &base, &clerk);
        let body = json!({
            "confirm_repeat": true,
            "appointment_reference": visit,
            "items": [{"fee_code": "passport-book-adult", "quantity": 1},
                      {"fee_code": "passport-execution", "quantity": 1}],
            "payment": {"method": "card"},
        });
        async move {
            loop {
                let paid = send(rush, &format!("{base}/api/v1/staff/fees"), clerk, &body).await;
                if let Outcome::Answer { status: 201, body, .. } = &paid {
                    let number = body["receipt_number"].as_str().unwrap_or_default().to_string();
                    tally.borrow_mut().receipts.insert(number);
                }
                if !tally.borrow_mut().record(&paid, "fee") {
                    return;
                }
            }
        }
    };
    let signal = async {
        while tally.borrow().answers < ANSWERS_BEFORE_SIGNAL {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        server.terminate();
        Instant::now()
    };
    let workers = futures_util::future::join(
        futures_util::future::join_all((0..BOOKERS).map(booker)),
        futures_util::future::join_all(visits.iter().map(cashier)),
    );
    let (signalled, _) = futures_util::future::join(signal, workers).await;
    let exit = server.exited_within(Duration::from_secs(30)).await;
    let stopped_after = signalled.elapsed();
    drop(rush);

    let tally = tally.into_inner();
    assert!(tally.broken.is_empty(), "requests without a whole answer: {:?}", tally.broken);
    assert!(tally.unexpected.is_empty(), "unexpected answers: {:?}", tally.unexpected);
    assert!(tally.while_draining > 0, "no request was answered while the server drained");
    assert!(exit.is_some_and(|s| s.success()), "exit after SIGTERM: {exit:?}");
    eprintln!(
        "shutdown: {} answers, {} while draining; {} bookings, {} receipts; exited {:.1} s after SIGTERM",
        tally.answers,
        tally.while_draining,
        tally.bookings.len(),
        tally.receipts.len(),
        stopped_after.as_secs_f64()
    );

    // Stopped: the trail was sealed before the exit.
    let mut conn = db_conn(db.url());
    let pending: i64 = audit_pending::table.count().get_result(&mut conn).expect("pending count");
    assert_eq!(pending, 0, "audit entries left unsealed at exit");
    // Exactly the acknowledged writes: a request that committed without its answer would show
    // up here as one too many.
    let stored_bookings: BTreeSet<String> = appointments::table
        .select(appointments::reference)
        .load(&mut conn)
        .expect("appointments")
        .into_iter()
        .collect();
    // The walk-ins are visits too.
    let acknowledged: BTreeSet<String> = tally.bookings.keys().chain(&visits).cloned().collect();
    assert_eq!(stored_bookings, acknowledged, "appointments stored = bookings acknowledged");
    let stored_receipts: BTreeSet<String> = receipts::table
        .select(receipts::receipt_number)
        .load(&mut conn)
        .expect("receipts")
        .into_iter()
        .collect();
    assert_eq!(stored_receipts, tally.receipts, "receipts stored = receipts acknowledged");
    let mut sequence: Vec<u32> =
        tally.receipts.iter().filter_map(|n| n.rsplit('-').next()?.parse().ok()).collect();
    sequence.sort_unstable();
    assert_eq!(
        sequence,
        (1..=tally.receipts.len() as u32).collect::<Vec<_>>(),
        "receipt numbers without a gap"
    );
    drop(conn);

    // Restarted, the service shows every acknowledged write as it was acknowledged.
    let (_again, base) = ServeBinary::start_answering(db.url(), &env).await;
    let desk = TestApp::served_at(base, db.url(), Clock::system());
    for (reference, (state, who)) in &tally.bookings {
        let r = desk.get(&format!("/api/v1/appointments/{reference}"), Some(&applicants[*who])).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some(*state)), "{reference}: {}", r.body);
    }
    let clerk = desk.sign_in_staff("mex.clerk").await;
    for number in &tally.receipts {
        let r = desk.get(&format!("/api/v1/staff/receipts/{number}"), Some(&clerk)).await;
        assert_eq!(r.status, 200, "{number}: {}", r.body);
    }
    let verified = run_cli(db.url(), &["audit", "verify"], &[], None);
    assert!(verified.status.success(), "audit verify: {}", String::from_utf8_lossy(&verified.stderr));
}
