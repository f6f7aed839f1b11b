//! `/metrics` read back with a real Prometheus text parser: requests under their route
//! template, bookings and receipts by post, the pool and hashing gauges, the outbox and the
//! sealer's lag; who may read it (the token, the metrics-only listener); no personal data in
//! it. And `/readyz` going 503 for the sealer and for old failed mail, and back.

use chrono::Duration;
use diesel::prelude::*;
use prom_text_format_parser::{Labels, Scrape, Type, ValueType};
use serde_json::json;

use consular_desk::db::schema::{audit_log, audit_pending, audit_seals, outbox};
use consular_desk::fees::receipts::Method;
use consular_desk::mail::outbox::{enqueue, send_again, Letter};
use consular_desk::mail::Kind;
use consular_desk::wording::Lang;

use crate::helpers::{assert_problem, db_conn, person, spawn_app, spawn_on, TestApp, TestDb};

const TOKEN: &str = "a-metrics-token-of-forty-bytes-0123456789";

/// An app with the metrics token and a metrics-only listener on a port of its own.
async fn watched(db: &TestDb) -> TestApp {
    spawn_on(db, &[("CONSULAR_DESK_METRICS_TOKEN", TOKEN), ("CONSULAR_DESK_METRICS_BIND", "127.0.0.1:0")])
        .await
}

/// `/metrics` with the token: its text and the parsed samples.
async fn scrape(app: &TestApp) -> (String, Scrape) {
    let r = app.get("/metrics", Some(TOKEN)).await;
    assert_eq!(r.status, 200, "metrics: {}", r.text);
    assert!(r.content_type.starts_with("text/plain; version=0.0.4"), "content type {:?}", r.content_type);
    let parsed = Scrape::parse(&r.text).unwrap_or_else(|e| panic!("not the text format: {e:?}\n{}", r.text));
    (r.text, parsed)
}

fn has(labels: &Labels, wanted: &[(&str, &str)]) -> bool {
    wanted.iter().all(|(k, v)| labels.iter().any(|l| l.key == *k && l.value == *v))
}

/// The `kind` of sample (the value, a histogram's `_count`...) of the metric `name` whose
/// labels include `labels`.
fn sample(scrape: &Scrape, name: &str, kind: ValueType, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .metrics
        .iter()
        .filter(|m| m.name == name)
        .flat_map(|m| &m.samples)
        .find(|s| s.value.value_type == kind && has(&s.labels, labels))
        .map(|s| s.value.value.as_f64())
}

/// The value of the counter or gauge `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    sample(scrape, name, ValueType::Sample, labels)
}

#[actix_web::test]
async fn requests_are_counted_and_timed_under_their_route_template() {
    let db = TestDb::fresh();
    let app = watched(&db).await;
    for _ in 0..2 {
        let r = app.get("/api/v1/posts/MEX/availability?service=notarial", None).await;
        assert_eq!(r.status, 200);
    }
    let r = app.get("/api/v1/appointments/ZQX-WVU-TSR", None).await;
    assert_eq!(r.status, 401);
    let r = app.get("/api/v1/no-such-thing/ZQX-WVU-TSR", None).await;
    assert_eq!(r.status, 404);

    let (text, scrape) = scrape(&app).await;
    let availability = [("method", "GET"), ("route", "/api/v1/posts/{post}/availability"), ("status", "200")];
    let counted = value(&scrape, "consular_desk_http_requests_total", &availability);
    assert_eq!(counted, Some(2.0), "availability counted twice");
    let histogram = scrape
        .metrics
        .iter()
        .find(|m| m.name == "consular_desk_http_request_duration_seconds")
        .expect("the latency histogram");
    assert_eq!(histogram.kind, Type::Histogram);
    let buckets: Vec<(String, f64)> = histogram
        .samples
        .iter()
        .filter(|s| s.value.value_type == ValueType::Sample && has(&s.labels, &availability))
        .filter_map(|s| {
            Some((s.labels.iter().find(|l| l.key == "le")?.value.clone(), s.value.value.as_f64()))
        })
        .collect();
    let bounds: Vec<&str> = buckets.iter().map(|(le, _)| le.as_str()).collect();
    assert_eq!(bounds.first(), Some(&"0.005"), "the first bucket is 5 ms: {bounds:?}");
    assert!(bounds.contains(&"10") && bounds.contains(&"+Inf"), "up to 10 s: {bounds:?}");
    assert_eq!(buckets.last().map(|(_, n)| *n), Some(2.0), "both in +Inf");
    let count =
        sample(&scrape, "consular_desk_http_request_duration_seconds", ValueType::Count, &availability);
    assert_eq!(count, Some(2.0), "the histogram counted both");

    let appointment = [("route", "/api/v1/appointments/{reference}"), ("status", "401")];
    assert_eq!(value(&scrape, "consular_desk_http_requests_total", &appointment), Some(1.0));
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert!(value(&scrape, "consular_desk_http_requests_total", &unmatched).is_some());
    for raw in ["ZQX-WVU-TSR", "no-such-thing", "/api/v1/posts/MEX", "service="] {
        assert!(!text.contains(raw), "{raw} in the metrics");
    }
}

#[actix_web::test]
async fn bookings_and_receipts_count_by_post_and_no_personal_data_shows() {
    let db = TestDb::fresh();
    let app = watched(&db).await;
    let clerk = app.staff_token("metrics.clerk", "clerk", Some("MEX")).await;
    let (_, before) = scrape(&app).await;
    let bookings = |s: &Scrape| value(s, "consular_desk_bookings_total", &[("post", "MEX")]).unwrap_or(0.0);
    let receipts = |s: &Scrape| value(s, "consular_desk_receipts_total", &[("post", "MEX")]).unwrap_or(0.0);

    let email = "xochitl.metrics@example.mx";
    let applicant = app.applicant_token(email).await;
    let slot = app.slots("MEX", "notarial").await[0]["slot_id"].as_i64().expect("a slot");
    let body = json!({"slot_id": slot, "applicants": [person("Xochitl", "Ixtlilxochitl")]});
    let booked = app.post("/api/v1/appointments", Some(&applicant), &body).await;
    assert_eq!(booked.status, 201, "booking: {}", booked.body);
    let reference = booked.body["reference"].as_str().expect("reference").to_string();

    let walk_in = json!({"service": "notarial", "kind": "emergency", "reason": "arrest",
                         "applicant": person("Xochitl", "Ixtlilxochitl")});
    let r = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &walk_in).await;
    assert_eq!(r.status, 201, "walk-in: {}", r.body);
    let visit = r.body["reference"].as_str().expect("reference").to_string();
    let receipt = app.record_fee(&clerk, &visit, &["notarial-certificate"], Method::CashUsd).await;

    let (text, after) = scrape(&app).await;
    assert!(bookings(&after) >= bookings(&before) + 1.0, "a booking at MEX counted");
    assert!(receipts(&after) >= receipts(&before) + 1.0, "a receipt at MEX counted");
    for personal in [email, "Ixtlilxochitl", "Xochitl", &reference, &visit, &receipt.receipt_number] {
        assert!(!text.contains(personal), "{personal} in the metrics");
    }
    for gauge in
        ["consular_desk_db_pool_in_use", "consular_desk_db_pool_idle", "consular_desk_db_pool_waiting"]
    {
        assert!(value(&after, gauge, &[]).is_some_and(|v| v >= 0.0), "{gauge}");
    }
    assert_eq!(value(&after, "consular_desk_db_pool_max", &[]), Some(8.0), "the tests' pool size");
    assert_eq!(value(&after, "consular_desk_hash_queue_capacity", &[]), Some(100_000.0));
    assert!(value(&after, "consular_desk_hash_queue_depth", &[]).is_some());
    assert_eq!(value(&after, "consular_desk_database_up", &[]), Some(1.0));
}

/// A message queued for tomorrow: it waits, whatever the sender does meanwhile.
fn queue_for_tomorrow(app: &TestApp) -> i64 {
    let mut conn = db_conn(&app.db_url);
    let now = app.clock.naive();
    let letter = Letter::new(Kind::AppointmentBooked, "someone.metrics@example.mx", Lang::En)
        .with("reference", "ZQX-WVU-TSR");
    let id = enqueue(&mut conn, &letter, now).expect("queued");
    diesel::update(outbox::table.find(id))
        .set(outbox::due_at.eq(now + Duration::days(1)))
        .execute(&mut conn)
        .expect("due tomorrow");
    id
}

#[actix_web::test]
async fn the_outbox_shows_and_mail_given_up_over_an_hour_ago_makes_readyz_503() {
    let db = TestDb::fresh();
    let app = watched(&db).await;
    let id = queue_for_tomorrow(&app);
    let (text, scrape) = scrape(&app).await;
    assert!(value(&scrape, "consular_desk_outbox_waiting", &[]).is_some_and(|n| n >= 1.0));
    assert_eq!(value(&scrape, "consular_desk_outbox_failed", &[]), Some(0.0));
    assert!(!text.contains("someone.metrics"), "no address in the metrics");

    let give_up = |ago: Duration| {
        let mut conn = db_conn(&app.db_url);
        diesel::update(outbox::table.find(id))
            .set((outbox::state.eq("failed"), outbox::due_at.eq(app.clock.naive() - ago)))
            .execute(&mut conn)
            .expect("given up");
    };
    give_up(Duration::minutes(10));
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200, "given up ten minutes ago: not yet a reason: {}", r.body);
    let (_, scrape) = self::scrape(&app).await;
    assert_eq!(value(&scrape, "consular_desk_outbox_failed", &[]), Some(1.0));

    give_up(Duration::hours(2));
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["status"], "not_ready");
    assert_eq!(r.body["reasons"][0]["code"], "failed_mail");
    assert_eq!(r.body["reasons"][0]["count"], 1);
    assert!(r.body["reasons"][0]["oldest_age_seconds"].as_i64().is_some_and(|s| s >= 7200), "{}", r.body);
    assert_eq!(r.body["checks_passed"], json!(["database", "sealer"]));

    // An admin sends it again: ready.
    let mut conn = db_conn(&app.db_url);
    let now = app.clock.naive() + Duration::days(1);
    assert!(send_again(&mut conn, id, now).expect("sent again"));
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn a_sealer_a_minute_behind_makes_readyz_503_and_shows_its_lag() {
    let db = TestDb::fresh();
    let app = watched(&db).await;
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // An entry whose chain can't take it (a seal already names it): it stays queued, as one
    // would behind a sealer that fails.
    let mut conn = db_conn(&app.db_url);
    let entry: i64 = 900_000_001;
    conn.transaction(|c| {
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::id.eq(entry),
                audit_log::chain.eq("metrics-test"),
                audit_log::recorded_at.eq(app.clock.naive()),
                audit_log::actor_kind.eq("system"),
                audit_log::action.eq("metrics_test"),
                audit_log::entity.eq("test"),
                audit_log::change.eq("{}"),
            ))
            .execute(c)?;
        diesel::insert_into(audit_seals::table)
            .values((
                audit_seals::chain.eq("metrics-test-elsewhere"),
                audit_seals::seq.eq(1_i64),
                audit_seals::entry_id.eq(entry),
                audit_seals::prev_hash.eq("x"),
                audit_seals::hash.eq("y"),
            ))
            .execute(c)
    })
    .expect("a stuck entry");
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200, "just written: {}", r.body);

    app.clock.advance(Duration::seconds(90));
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["reasons"][0]["code"], "sealer_behind");
    assert!(r.body["reasons"][0]["lag_seconds"].as_i64().is_some_and(|s| s >= 90), "{}", r.body);
    assert_eq!(r.body["checks_passed"], json!(["database", "outbox"]));
    let (_, scrape) = scrape(&app).await;
    let lag = value(&scrape, "consular_desk_audit_sealer_lag_seconds", &[]);
    assert!(lag.is_some_and(|s| s >= 90.0), "lag {lag:?}");

    // Out of the queue: nothing waits, ready again.
    diesel::delete(audit_pending::table.find(entry)).execute(&mut conn).expect("dequeued");
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, scrape) = self::scrape(&app).await;
    assert_eq!(value(&scrape, "consular_desk_audit_sealer_lag_seconds", &[]), Some(0.0));
}

#[actix_web::test]
async fn metrics_need_the_token_or_their_own_listener() {
    // No token configured: not there.
    let (plain, _db) = spawn_app().await;
    let r = plain.get("/metrics", None).await;
    assert_problem(&r, 404, "not_found");
    let r = plain.get("/metrics", Some(TOKEN)).await;
    assert_problem(&r, 404, "not_found");

    let db = TestDb::fresh();
    let app = watched(&db).await;
    let r = app.get("/metrics", None).await;
    assert_problem(&r, 401, "missing_token");
    let r = app.get("/metrics", Some("a-metrics-token-of-forty-bytes-0123456780")).await;
    assert_problem(&r, 401, "invalid_token");
    let r = app.get("/metrics", Some("short")).await;
    assert_problem(&r, 401, "invalid_token");
    let r = app.get("/metrics", Some(TOKEN)).await;
    assert_eq!(r.status, 200);

    // The metrics-only listener: /metrics without a token, and nothing else.
    let base = app.metrics_address.clone().expect("a metrics listener");
    let get = |path: &str| app.client.get(format!("{base}{path}")).send();
    let mut r = get("/metrics").await.expect("metrics");
    assert_eq!(r.status().as_u16(), 200);
    let text = String::from_utf8(r.body().await.expect("body").to_vec()).expect("text");
    assert!(text.contains("consular_desk_http_requests_total"));
    for path in ["/api/v1/posts", "/healthz", "/readyz", "/openapi.json", "/"] {
        let r = get(path).await.expect("request");
        assert_eq!(r.status().as_u16(), 404, "{path} on the metrics listener");
    }
    // And the main listener still serves everything else.
    assert_eq!(app.get("/api/v1/posts", None).await.status, 200);
}
