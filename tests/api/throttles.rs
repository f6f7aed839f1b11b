//! Throttles that hold under parallel requests and can't be turned on a victim; the client
//! address behind a trusted proxy; load shedding of password hashing. Client addresses are
//! played by binding to 127.0.0.2, 127.0.0.3, ... (all of 127/8 is loopback).

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_on, Caller, Reply, TestApp, TestDb};

const PASSWORD: &str = "applicant passphrase";

fn login(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

/// How many replies had each status.
fn statuses(replies: &[Reply]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for r in replies {
        *counts.entry(r.status).or_default() += 1;
    }
    counts
}

async fn parallel(
    app: &TestApp,
    caller: &Caller<'_>,
    n: usize,
    path: &str,
    body: impl Fn(usize) -> Value,
) -> Vec<Reply> {
    join_all((0..n).map(|i| {
        let body = body(i);
        async move { app.call_as(caller, "POST", path, None, Some(&body)).await }
    }))
    .await
}

async fn app_with(overrides: &[(&str, &str)]) -> (TestApp, TestDb) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, overrides).await;
    (app, db)
}

#[actix_web::test]
async fn forty_parallel_guesses_get_five_password_checks_and_the_owner_still_signs_in() {
    let (app, _db) = app_with(&[("CONSULAR_DESK_LOGIN_MAX_FAILURES", "5")]).await;
    app.applicant_token("ana@example.mx").await;
    let attacker = Caller::from("127.0.0.2");
    let replies =
        parallel(&app, &attacker, 40, "/api/v1/auth/login", |_| login("ana@example.mx", "guess guess guess"))
            .await;
    assert_eq!(statuses(&replies), BTreeMap::from([(401, 5), (429, 35)]));
    let throttled = replies.iter().find(|r| r.status == 429).expect("a 429");
    assert_problem(throttled, 429, "too_many_requests");
    assert!(throttled.headers.contains_key("retry-after"));

    // From the guessing address even the right password waits ...
    let r = app
        .call_as(&attacker, "POST", "/api/v1/auth/login", None, Some(&login("ana@example.mx", PASSWORD)))
        .await;
    assert_problem(&r, 429, "too_many_requests");
    // ... but the owner, elsewhere, signs in.
    let owner = Caller::from("127.0.0.3");
    let r = app
        .call_as(&owner, "POST", "/api/v1/auth/login", None, Some(&login("ana@example.mx", PASSWORD)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn past_the_account_ceiling_only_clean_addresses_get_an_attempt() {
    let (app, _db) =
        app_with(&[("CONSULAR_DESK_LOGIN_MAX_FAILURES", "2"), ("CONSULAR_DESK_LOGIN_ACCOUNT_CEILING", "4")])
            .await;
    app.applicant_token("ana@example.mx").await;
    let guess = login("ana@example.mx", "guess guess guess");
    // Two addresses fail twice each: four failures, the ceiling.
    for address in ["127.0.0.2", "127.0.0.3"] {
        let caller = Caller::from(address);
        for _ in 0..2 {
            assert_problem(
                &app.call_as(&caller, "POST", "/api/v1/auth/login", None, Some(&guess)).await,
                401,
                "invalid_credentials",
            );
        }
    }
    // Past it, a third address gets one guess, not its own limit of two.
    let third = Caller::from("127.0.0.4");
    assert_problem(
        &app.call_as(&third, "POST", "/api/v1/auth/login", None, Some(&guess)).await,
        401,
        "invalid_credentials",
    );
    assert_problem(
        &app.call_as(&third, "POST", "/api/v1/auth/login", None, Some(&guess)).await,
        429,
        "too_many_requests",
    );
    // The owner, from an address that has not failed, signs in.
    let owner = Caller::from("127.0.0.5");
    let r = app
        .call_as(&owner, "POST", "/api/v1/auth/login", None, Some(&login("ana@example.mx", PASSWORD)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn registration_is_limited_per_address_even_in_parallel() {
    let (app, _db) = app_with(&[("CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", "3")]).await;
    let register = |tag: &'static str| move |i: usize| json!({"email": format!("{tag}{i}@example.mx"), "password": PASSWORD, "full_name": "Ana López"});
    let bot = Caller::from("127.0.0.2");
    let replies = parallel(&app, &bot, 30, "/api/v1/auth/register", register("bot")).await;
    assert_eq!(statuses(&replies), BTreeMap::from([(201, 3), (429, 27)]));
    let throttled = replies.iter().find(|r| r.status == 429).expect("a 429");
    assert!(throttled.headers.contains_key("retry-after"));
    // Refused registrations wrote nothing: those addresses can't sign in.
    let refused = replies.iter().position(|r| r.status == 429).expect("a refusal");
    let r = app.post("/api/v1/auth/login", None, &login(&format!("bot{refused}@example.mx"), PASSWORD)).await;
    assert_problem(&r, 401, "invalid_credentials");

    let person = Caller::from("127.0.0.3");
    let r = app.call_as(&person, "POST", "/api/v1/auth/register", None, Some(&register("person")(0))).await;
    assert_eq!(r.status, 201, "another address is not affected: {}", r.body);
}

async fn register_as(app: &TestApp, caller: &Caller<'_>, i: u32) -> u16 {
    let body = json!({"email": format!("p{i}@example.mx"), "password": PASSWORD, "full_name": "Ana López"});
    app.call_as(caller, "POST", "/api/v1/auth/register", None, Some(&body)).await.status
}

#[actix_web::test]
async fn the_client_address_comes_from_a_trusted_proxy_only() {
    let (app, _db) = app_with(&[
        ("CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", "1"),
        ("CONSULAR_DESK_TRUSTED_PROXIES", "127.0.0.2"),
    ])
    .await;
    // Through the proxy, each client has its own limit; the forged leftmost entry is ignored.
    let one = Caller::from("127.0.0.2").with_headers(&[("X-Forwarded-For", "6.6.6.6, 203.0.113.1")]);
    let same = Caller::from("127.0.0.2").with_headers(&[("X-Forwarded-For", "7.7.7.7, 203.0.113.1")]);
    let two = Caller::from("127.0.0.2").with_headers(&[("X-Forwarded-For", "203.0.113.2")]);
    assert_eq!(register_as(&app, &one, 1).await, 201);
    assert_eq!(register_as(&app, &same, 2).await, 429);
    assert_eq!(register_as(&app, &two, 3).await, 201);
    // The proxy writes X-Forwarded-For; a `Forwarded` header is the client's own and counts for
    // nothing: both of these count as the proxy itself.
    let forged_a = Caller::from("127.0.0.2").with_headers(&[("Forwarded", "for=198.51.100.50")]);
    let forged_b = Caller::from("127.0.0.2").with_headers(&[("Forwarded", "for=198.51.100.51")]);
    assert_eq!(register_as(&app, &forged_a, 6).await, 201);
    assert_eq!(register_as(&app, &forged_b, 7).await, 429);

    // A proxy that adds a line of its own instead of extending the client's: every line counts,
    // in order, so the client is what the proxy wrote last.
    let two_lines = Caller::from("127.0.0.2")
        .with_headers(&[("X-Forwarded-For", "203.0.113.2"), ("X-Forwarded-For", "203.0.113.3")]);
    let three = Caller::from("127.0.0.2").with_headers(&[("X-Forwarded-For", "203.0.113.3")]);
    assert_eq!(register_as(&app, &two_lines, 8).await, 201);
    assert_eq!(register_as(&app, &three, 9).await, 429);

    // Not from the proxy: the headers are whatever the client wrote, and count for nothing.
    let spoof_a = Caller::from("127.0.0.3").with_headers(&[("X-Forwarded-For", "198.51.100.1")]);
    let spoof_b = Caller::from("127.0.0.3").with_headers(&[("X-Forwarded-For", "198.51.100.2")]);
    assert_eq!(register_as(&app, &spoof_a, 4).await, 201);
    assert_eq!(register_as(&app, &spoof_b, 5).await, 429);
}

#[actix_web::test]
async fn a_sign_in_storm_beyond_the_hashing_queue_is_shed_with_retry_after() {
    let (app, _db) =
        app_with(&[("CONSULAR_DESK_HASH_THREADS", "1"), ("CONSULAR_DESK_HASH_QUEUE", "1")]).await;
    let caller = Caller::from("127.0.0.1");
    let replies = parallel(&app, &caller, 30, "/api/v1/auth/login", |i| {
        login(&format!("nobody{i}@example.mx"), "guess guess guess")
    })
    .await;
    let counts = statuses(&replies);
    assert!(counts.keys().all(|s| [401, 503].contains(s)), "{counts:?}");
    assert!(counts.get(&503).copied().unwrap_or(0) > 0, "nothing was shed: {counts:?}");
    let shed = replies.iter().find(|r| r.status == 503).expect("a 503");
    assert_problem(shed, 503, "unavailable");
    assert!(shed.headers.contains_key("retry-after"));
    // Shed attempts were not counted as failures: a retry goes through.
    let r = app.post("/api/v1/auth/login", None, &login("nobody0@example.mx", "guess guess guess")).await;
    assert_problem(&r, 401, "invalid_credentials");
}

#[actix_web::test]
async fn a_crafted_login_name_cannot_fill_another_accounts_bucket() {
    let (app, _db) = app_with(&[("CONSULAR_DESK_LOGIN_MAX_FAILURES", "5")]).await;
    app.applicant_token("ana@example.mx").await;
    // Names spelled like the buckets of Ana from 127.0.0.3, failed from elsewhere.
    let attacker = Caller::from("127.0.0.2");
    for crafted in [
        "ana@example.mx:from:127.0.0.3",
        "127.0.0.3|ana@example.mx",
        "pair:applicant:127.0.0.3|ana@example.mx",
    ] {
        for _ in 0..6 {
            let body = login(crafted, "guess guess guess");
            let r = app.call_as(&attacker, "POST", "/api/v1/auth/login", None, Some(&body)).await;
            assert!([401, 429].contains(&r.status), "{}", r.body);
        }
    }
    let owner = Caller::from("127.0.0.3");
    let r = app
        .call_as(&owner, "POST", "/api/v1/auth/login", None, Some(&login("ana@example.mx", PASSWORD)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
