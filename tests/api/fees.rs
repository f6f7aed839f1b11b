//! Fees and receipts: pricing, numbering under concurrent clerks and instances, payments,
//! voids and their rules, the PDF and its code, exchange rates, the daily close and its lock,
//! schedule versions, and the database refusing edits.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{json, Value};

use consular_desk::fees::money::{Currency, Money};
use consular_desk::fees::receipts::Method;

use crate::helpers::{
    assert_problem, clerk_actor, db_conn, pdf_text, person, spawn_on, Reply, TestApp, TestDb,
};

struct Desk {
    app: TestApp,
    db: TestDb,
    admin: String,
    clerk: String,
    supervisor: String,
}

async fn desk() -> Desk {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    Desk { app, db, admin, clerk, supervisor }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// A walk-in for `service` with `given surname`: a visit to record fees against.
async fn visit(app: &TestApp, clerk: &str, service: &str, given: &str, surname: &str) -> String {
    let body = json!({"service": service, "kind": "emergency", "reason": "arrest", "applicant": person(given, surname)});
    let r = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "walk-in: {}", r.body);
    text(&r.body, "reference")
}

/// An adult's passport book; the tests that use it charge it to one visit many times over,
/// so each says the repeat is meant (`confirm_repeat`).
fn adult_book(reference: &str, payment: Value) -> Value {
    json!({
        "confirm_repeat": true,
        "appointment_reference": reference,
        "items": [
            {"fee_code": "passport-book-adult", "quantity": 1},
            {"fee_code": "passport-book-security-surcharge", "quantity": 1},
            {"fee_code": "passport-execution", "quantity": 1},
        ],
        "payment": payment,
    })
}

async fn fee(app: &TestApp, token: &str, body: &Value) -> Reply {
    app.post("/api/v1/staff/fees", Some(token), body).await
}

async fn void(app: &TestApp, token: &str, number: &str) -> Reply {
    let body = json!({"reason": "charged twice by mistake"});
    app.post(&format!("/api/v1/staff/receipts/{number}/void"), Some(token), &body).await
}

#[actix_web::test]
async fn a_fee_is_priced_numbered_printed_verified_and_voided() {
    let Desk { app, db: _db, admin, clerk, supervisor } = desk().await;
    let reference = visit(&app, &clerk, "passport-new", "José", "Núñez").await;
    let book = ["passport-book-adult", "passport-book-security-surcharge", "passport-execution"];
    let receipt = app.record_fee(&clerk, &reference, &book, Method::CashUsd).await;
    assert_eq!(
        receipt.total,
        Money { amount_cents: 16_500, currency: Currency::Usd },
        "130 for the book, 35 execution"
    );
    let lines: Vec<(&str, u32, i64)> =
        receipt.items.iter().map(|l| (l.fee_code.as_str(), l.quantity, l.amount.amount_cents)).collect();
    assert_eq!(lines, [(book[0], 1, 5_000), (book[1], 1, 8_000), (book[2], 1, 3_500)]);
    assert_eq!((receipt.payment.method, receipt.payment.local_amount), (Method::CashUsd, None));
    let number = receipt.receipt_number.clone();
    assert!(number.starts_with("MEX-20") && number.ends_with("-000001"), "{number}");
    assert_eq!((receipt.post.as_str(), receipt.reference.as_str()), ("MEX", reference.as_str()));
    assert_eq!((receipt.payer.as_str(), receipt.clerk.as_str()), ("José Núñez", "mex.clerk"));
    assert!(receipt.voided.is_none());
    let code = receipt.verification_code.clone();

    // The PDF the payer takes home.
    let pdf = app.get(&format!("/api/v1/staff/receipts/{number}/receipt.pdf"), Some(&clerk)).await;
    assert_eq!((pdf.status, pdf.content_type.as_str()), (200, "application/pdf"));
    assert!(pdf.bytes.len() < 40 * 1024, "{} bytes", pdf.bytes.len());
    let printed = pdf_text(&pdf.bytes);
    for wanted in
        [number.as_str(), "José Núñez", "165.00", "USD", &code, "Recibo oficial", "Efectivo, dólares"]
    {
        assert!(printed.contains(wanted), "the receipt lacks {wanted:?}: {printed}");
    }
    assert!(!printed.contains("VOID"));

    // Anyone can check the code; a changed code or number is invalid.
    let check = |n: String, sig: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/receipts/verify/{n}?sig={sig}"), None).await.body }
    };
    let valid = check(number.clone(), code.clone()).await;
    assert_eq!(
        (text(&valid, "status"), valid["total"]["amount_cents"].clone()),
        ("valid".into(), json!(16_500))
    );
    let mut altered = code.clone().into_bytes();
    altered[1] = if altered[1] == b'A' { b'B' } else { b'A' };
    let forged = check(number.clone(), String::from_utf8(altered).expect("ascii")).await;
    assert_eq!(forged, json!({"receipt_number": number, "status": "invalid"}));
    let other = number.replace("-000001", "-000002");
    assert_eq!(text(&check(other, code.clone()).await, "status"), "invalid");

    // A supervisor voids it: the receipt stays, and says so everywhere.
    let voided = app.void_receipt(&supervisor, &receipt, "charged twice by mistake").await;
    let void = voided.voided.expect("voided");
    assert_eq!(
        (void.voided_by.as_str(), void.reason.as_str()),
        ("mex.supervisor", "charged twice by mistake")
    );
    assert_eq!(text(&check(number.clone(), code.clone()).await, "status"), "voided");
    let shown = app.get(&format!("/api/v1/staff/receipts/{number}"), Some(&clerk)).await;
    assert_eq!(shown.body["voided"]["reason"], "charged twice by mistake");
    let pdf = app.get(&format!("/api/v1/staff/receipts/{number}/receipt.pdf"), Some(&clerk)).await;
    let printed = pdf_text(&pdf.bytes);
    assert!(printed.contains("VOID") && printed.contains("ANULADO"), "{printed}");

    // The trail has both, by ids and codes.
    let log = app.get("/api/v1/audit/log?limit=500", Some(&admin)).await;
    assert!(log.text.contains("receipt.issued") && log.text.contains("receipt.voided"));
    assert!(!log.text.contains("Núñez") && !log.text.contains("charged twice"));
}

#[actix_web::test]
async fn only_a_supervisor_who_did_not_collect_voids_and_only_once() {
    let Desk { app, db: _db, clerk, supervisor, .. } = desk().await;
    let reference = visit(&app, &clerk, "passport-new", "Ana", "Ruiz").await;
    let by_supervisor = fee(&app, &supervisor, &adult_book(&reference, json!({"method": "card"}))).await;
    let number = text(&by_supervisor.body, "receipt_number");
    assert_problem(&void(&app, &supervisor, &number).await, 403, "own_receipt");
    assert_problem(&void(&app, &clerk, &number).await, 403, "insufficient_role");
    let gdl = app.staff_token("gdl.supervisor", "supervisor", Some("GDL")).await;
    assert_problem(&void(&app, &gdl, &number).await, 403, "wrong_post");
    let other = app.staff_token("mex.supervisor2", "supervisor", Some("MEX")).await;
    let no_reason = app
        .post(&format!("/api/v1/staff/receipts/{number}/void"), Some(&other), &json!({"reason": " "}))
        .await;
    assert_problem(&no_reason, 422, "validation_failed");
    // Thirty supervisors' clicks at once: one void.
    let clicks = futures_util::future::join_all((0..30).map(|_| void(&app, &other, &number))).await;
    assert_eq!(clicks.iter().filter(|r| r.status == 200).count(), 1);
    assert!(clicks.iter().filter(|r| r.status != 200).all(|r| r.code() == "already_voided"));
}

#[actix_web::test]
async fn payments_in_pesos_online_and_without_fee() {
    let Desk { app, db: _db, clerk, supervisor, .. } = desk().await;
    let reference = visit(&app, &clerk, "passport-new", "Ana", "Ruiz").await;
    let pesos = adult_book(&reference, json!({"method": "cash_local"}));
    assert_problem(&fee(&app, &clerk, &pesos).await, 409, "no_exchange_rate");
    let today = text(&app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body, "date");
    let rate_path = format!("/api/v1/staff/posts/MEX/exchange-rates/{today}");
    let rate = json!({"currency": "MXN", "rate_micros": 17_250_000});
    assert_problem(&app.call("PUT", &rate_path, Some(&clerk), Some(&rate)).await, 403, "insufficient_role");
    let set = app.call("PUT", &rate_path, Some(&supervisor), Some(&rate)).await;
    assert_eq!(set.status, 200, "{}", set.body);
    // 165 USD at 17.25 is 2 846.25 pesos: rounded half up to the whole peso.
    let paid = fee(&app, &clerk, &pesos).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["payment"]["local_amount"], json!({"amount_cents": 284_600, "currency": "MXN"}));
    assert_eq!(paid.body["payment"]["rate_micros"], 17_250_000);
    let pdf = app
        .get(
            &format!("/api/v1/staff/receipts/{}/receipt.pdf", text(&paid.body, "receipt_number")),
            Some(&clerk),
        )
        .await;
    let printed = pdf_text(&pdf.bytes);
    assert!(printed.contains("MXN 2846.00") && printed.contains("17.250000"), "{printed}");
    let again = json!({"currency": "MXN", "rate_micros": 18_000_000});
    assert_problem(&app.call("PUT", &rate_path, Some(&supervisor), Some(&again)).await, 409, "rate_in_use");

    // Paid online ahead: the reference is kept and can't be used twice.
    let online = |r: Option<&str>| {
        adult_book(&reference, json!({"method": "prepaid_online", "external_reference": r}))
    };
    assert_problem(&fee(&app, &clerk, &online(None)).await, 422, "validation_failed");
    assert_eq!(fee(&app, &clerk, &online(Some("PAY-88412"))).await.status, 201);
    let twice = futures_util::future::join_all((0..10).map(|_| {
        let (app, clerk, body) = (&app, clerk.clone(), online(Some("PAY-99001")));
        async move { fee(app, &clerk, &body).await }
    }))
    .await;
    assert_eq!(twice.iter().filter(|r| r.status == 201).count(), 1);
    assert!(twice.iter().filter(|r| r.status != 201).all(|r| r.code() == "payment_reference_used"));
    assert_problem(&fee(&app, &clerk, &online(Some("PAY-88412"))).await, 409, "payment_reference_used");

    // No fee: only with a basis from the list, and then nothing is charged.
    let free =
        |basis: Option<&str>| adult_book(&reference, json!({"method": "no_fee", "no_fee_basis": basis}));
    assert_problem(&fee(&app, &clerk, &free(None)).await, 422, "validation_failed");
    let waived = fee(&app, &clerk, &free(Some("us_government_business"))).await;
    assert_eq!(
        (waived.status, waived.body["total"]["amount_cents"].clone()),
        (201, json!(0)),
        "{}",
        waived.body
    );
    let correction = json!({"appointment_reference": reference, "items": [{"fee_code": "passport-correction", "quantity": 1}], "payment": {"method": "card"}});
    assert_problem(&fee(&app, &clerk, &correction).await, 422, "validation_failed");
    let unknown = json!({"appointment_reference": reference, "items": [{"fee_code": "visa", "quantity": 1}], "payment": {"method": "card"}});
    assert_problem(&fee(&app, &clerk, &unknown).await, 422, "validation_failed");

    // A cancelled visit takes no fee; one on a later day may be paid ahead.
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "crba").await;
    let later = app.soon_appointment(&clerk, "MEX", "crba").await;
    let crba = json!({"appointment_reference": later, "items": [{"fee_code": "crba", "quantity": 1}], "payment": {"method": "card"}});
    assert_eq!(fee(&app, &clerk, &crba).await.status, 201);
    let cancel = json!({"reason": "asked to cancel"});
    app.post(&format!("/api/v1/staff/appointments/{later}/cancel"), Some(&clerk), &cancel).await;
    assert_problem(&fee(&app, &clerk, &crba).await, 409, "not_active");
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    assert_problem(
        &fee(&app, &gdl, &adult_book(&reference, json!({"method": "card"}))).await,
        403,
        "wrong_post",
    );
}

#[actix_web::test]
async fn a_notarial_job_pays_one_fee_per_certificate() {
    let Desk { app, db: _db, clerk, .. } = desk().await;
    let reference = visit(&app, &clerk, "notarial", "Ana", "Ruiz").await;
    app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": "1"})).await;
    let job = json!({"form": "notarial", "act": "acknowledgment", "document_title": "Poder", "pages": 2, "certificates": 2,
    "signers": [
        {"given_names": "Ana", "surname": "Ruiz", "id_proof": {"kind": "personally_known"}},
        {"given_names": "Luis", "surname": "Ruiz", "id_proof": {"kind": "personally_known"}},
        {"given_names": "Eva", "surname": "Ruiz", "id_proof": {"kind": "personally_known"}},
    ]});
    let doc =
        app.post(&format!("/api/v1/staff/appointments/{reference}/documents"), Some(&clerk), &job).await;
    let tracking = text(&doc.body, "tracking_number");
    let seals = |n: u32| json!({"tracking_number": tracking, "items": [{"fee_code": "notarial-certificate", "quantity": n}], "payment": {"method": "cash_usd"}});
    assert_problem(&fee(&app, &clerk, &seals(3)).await, 422, "validation_failed");
    let paid = fee(&app, &clerk, &seals(2)).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(
        (paid.body["total"]["amount_cents"].clone(), text(&paid.body, "tracking_number")),
        (json!(10_000), tracking.clone())
    );
    assert_eq!(text(&paid.body, "reference"), reference);
}

#[actix_web::test]
async fn receipt_numbers_stay_gapless_with_concurrent_clerks_and_instances() {
    let Desk { app, db, clerk, .. } = desk().await;
    let second = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let other = app.staff_token("mex.clerk2", "clerk", Some("MEX")).await;
    let mut visits = Vec::new();
    for i in 0..30 {
        visits.push(visit(&app, &clerk, "passport-new", &format!("Persona {i}"), "Núñez").await);
    }
    let (apps, clerks) = ([&app, &second], [&clerk, &other]);
    let paid = futures_util::future::join_all(visits.iter().enumerate().map(|(i, reference)| {
        let (app, clerk) = (apps[i % 2], clerks[i / 2 % 2]);
        let body = adult_book(reference, json!({"method": "card"}));
        async move { fee(app, clerk, &body).await }
    }))
    .await;
    assert!(paid.iter().all(|r| r.status == 201), "{:?}", paid.iter().map(|r| &r.body).collect::<Vec<_>>());
    let mut numbers: Vec<String> = paid
        .iter()
        .map(|r| text(&r.body, "receipt_number").rsplit('-').next().unwrap_or_default().to_string())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=30).map(|n| format!("{n:06}")).collect();
    assert_eq!(numbers, expected, "gapless, no number twice");
}

#[actix_web::test]
async fn a_new_price_applies_from_its_date_and_old_receipts_keep_theirs() {
    let Desk { app, db, admin, clerk, .. } = desk().await;
    let tomorrow = (app.now() + Duration::days(1)).date_naive();
    let version = |date: String| json!({"code": "crba", "description": "Consular Report of Birth Abroad", "cfr_item": "22 CFR 22.1", "amount_cents": 12_500, "effective_from": date});
    let today = app.now().date_naive().to_string();
    assert_problem(
        &app.post("/api/v1/admin/fees", Some(&admin), &version(today)).await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post("/api/v1/admin/fees", Some(&clerk), &version(tomorrow.to_string())).await,
        403,
        "insufficient_role",
    );
    let added = app.post("/api/v1/admin/fees", Some(&admin), &version(tomorrow.to_string())).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_problem(
        &app.post("/api/v1/admin/fees", Some(&admin), &version(tomorrow.to_string())).await,
        409,
        "fee_version_exists",
    );
    let fees_then = app.get(&format!("/api/v1/fees?date={}", tomorrow + Duration::days(1)), None).await.body;
    let crba = |fees: &Value| {
        fees.as_array()
            .and_then(|f| f.iter().find(|f| f["code"] == "crba"))
            .map(|f| f["amount_cents"].clone())
    };
    assert_eq!(crba(&fees_then), Some(json!(12_500)));
    assert_eq!(crba(&app.get("/api/v1/fees", None).await.body), Some(json!(10_000)));

    // A receipt charges what is in force on its own date: paid today for tomorrow's visit,
    // today's price; recorded on the visit's day, the new one.
    app.open_around_the_clock(&admin, "MEX", "crba").await;
    let slots = app.get("/api/v1/staff/posts/MEX/availability?service=crba", Some(&clerk)).await.body;
    let slot = slots["slots"]
        .as_array()
        .and_then(|s| s.iter().find(|s| text(s, "starts_at").starts_with(&tomorrow.to_string())).cloned())
        .expect("a slot tomorrow");
    let booked = app
        .post(
            "/api/v1/staff/appointments",
            Some(&clerk),
            &json!({"slot_id": slot["slot_id"], "applicants": [person("Mateo", "Ruiz")]}),
        )
        .await;
    let later = text(&booked.body, "reference");
    let body = json!({"appointment_reference": later, "items": [{"fee_code": "crba", "quantity": 1}], "payment": {"method": "card"}, "confirm_repeat": true});
    assert_eq!(fee(&app, &clerk, &body).await.body["total"]["amount_cents"], 10_000);

    let mut conn = db_conn(db.url());
    use consular_desk::db::schema::appointments;
    let starts: chrono::NaiveDateTime = appointments::table
        .filter(appointments::reference.eq(&later))
        .select(appointments::starts_at)
        .first(&mut conn)
        .expect("visit");
    let actor = clerk_actor(&mut conn, "mex.clerk", "MEX");
    let key = consular_desk::fees::verification::ReceiptKey::load(&mut conn).expect("key");
    let request: consular_desk::fees::receipts::FeeRequest = serde_json::from_value(body).expect("request");
    let receipt =
        consular_desk::fees::receipts::record(&mut conn, &key, &actor, &request, starts).expect("recorded");
    assert_eq!(receipt.total.amount_cents, 12_500);
    // The day after the visit, no fee is recorded against it.
    let after =
        consular_desk::fees::receipts::record(&mut conn, &key, &actor, &request, starts + Duration::days(1));
    assert_eq!(after.err().map(|e| e.code().as_str()), Some("visit_passed"));
}

#[actix_web::test]
async fn the_daily_close_counts_receipts_minus_voids_and_a_signed_day_is_locked() {
    let Desk { app, db: _db, clerk, supervisor, .. } = desk().await;
    app.peso_rate_today(&clerk, &supervisor, 17_000_000).await;
    let reference = visit(&app, &clerk, "passport-new", "Ana", "Ruiz").await;
    let mut numbers = Vec::new();
    for method in ["cash_usd", "cash_usd", "cash_local", "card"] {
        let r = fee(&app, &clerk, &adult_book(&reference, json!({"method": method}))).await;
        assert_eq!(r.status, 201, "{}", r.body);
        numbers.push(text(&r.body, "receipt_number"));
    }
    assert_eq!(void(&app, &supervisor, &numbers[1]).await.status, 200);

    // Expected: cash 165 USD (two receipts, one voided), 2 805 MXN (165 × 17), card 165 USD.
    let closes = "/api/v1/staff/posts/MEX/closeouts";
    let counted = |usd: i64| {
        json!([
            {"method": "cash_usd", "currency": "USD", "amount_cents": usd},
            {"method": "cash_local", "currency": "MXN", "amount_cents": 280_500},
            {"method": "card", "currency": "USD", "amount_cents": 16_500},
        ])
    };
    let exact = app.post(closes, Some(&clerk), &json!({"counted": counted(16_500)})).await;
    assert_eq!(exact.status, 201, "{}", exact.body);
    let expected: Vec<(String, i64)> = exact.body["expected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                format!("{} {}", text(t, "method"), text(t, "currency")),
                t["amount_cents"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        expected,
        [("card USD".into(), 16_500), ("cash_local MXN".into(), 280_500), ("cash_usd USD".into(), 16_500)]
    );
    assert!(exact.body["differences"].as_array().into_iter().flatten().all(|d| d["amount_cents"] == 0));

    // Five dollars short: the difference needs its explanation.
    let short = app.post(closes, Some(&clerk), &json!({"counted": counted(16_000)})).await;
    assert_problem(&short, 422, "validation_failed");
    let explained = app
        .post(
            closes,
            Some(&clerk),
            &json!({"counted": counted(16_000), "explanation": "gave change from the float"}),
        )
        .await;
    assert_eq!(explained.status, 201, "{}", explained.body);
    let cash = explained.body["differences"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["method"] == "cash_usd").cloned());
    assert_eq!(cash.map(|d| d["amount_cents"].clone()), Some(json!(-500)));

    // Signed by a supervisor who is not the clerk, the latest count only, once.
    let sign = |id: &Value, token: &str| {
        let (app, path, token) = (&app, format!("{closes}/{id}/sign"), token.to_string());
        async move { app.post(&path, Some(&token), &json!({})).await }
    };
    assert_problem(&sign(&explained.body["id"], &clerk).await, 403, "insufficient_role");
    // Replaced by the recount: not "the receipts changed", which they did not.
    assert_problem(&sign(&exact.body["id"], &supervisor).await, 409, "close_replaced");
    let signed = sign(&explained.body["id"], &supervisor).await;
    assert_eq!(
        (signed.status, text(&signed.body, "signed_by")),
        (200, "mex.supervisor".to_string()),
        "{}",
        signed.body
    );
    assert_problem(&sign(&explained.body["id"], &supervisor).await, 409, "already_signed");

    // The clerk's day is locked; another clerk's is not.
    assert_problem(
        &fee(&app, &clerk, &adult_book(&reference, json!({"method": "card"}))).await,
        409,
        "day_closed",
    );
    assert_problem(&void(&app, &supervisor, &numbers[0]).await, 409, "day_closed");
    assert_problem(
        &app.post(closes, Some(&clerk), &json!({"counted": counted(16_500)})).await,
        409,
        "day_closed",
    );
    let other = app.staff_token("mex.clerk2", "clerk", Some("MEX")).await;
    assert_eq!(fee(&app, &other, &adult_book(&reference, json!({"method": "card"}))).await.status, 201);
    let listed = app.get(closes, Some(&supervisor)).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn a_close_being_signed_and_receipts_being_issued_never_interleave() {
    let Desk { app, db: _db, clerk, supervisor, .. } = desk().await;
    let reference = visit(&app, &clerk, "passport-new", "Ana", "Ruiz").await;
    fee(&app, &clerk, &adult_book(&reference, json!({"method": "card"}))).await;
    let closes = "/api/v1/staff/posts/MEX/closeouts";
    let counted = json!([{"method": "card", "currency": "USD", "amount_cents": 16_500}]);
    let close = app.post(closes, Some(&clerk), &json!({"counted": counted})).await;
    let id = close.body["id"].clone();
    // Ten receipts and the signature at once: either the signature comes first (then every
    // receipt is refused) or a receipt does (then the signature is outdated).
    let receipts = (0..10).map(|_| {
        let (app, clerk, body) = (&app, clerk.clone(), adult_book(&reference, json!({"method": "card"})));
        async move { fee(app, &clerk, &body).await }
    });
    let (sign_path, empty) = (format!("{closes}/{id}/sign"), json!({}));
    let signing = app.post(&sign_path, Some(&supervisor), &empty);
    let (issued, signed) =
        futures_util::future::join(futures_util::future::join_all(receipts), signing).await;
    let issued_count = issued.iter().filter(|r| r.status == 201).count();
    if signed.status == 200 {
        let listed = app.get(closes, Some(&supervisor)).await.body;
        let expected = listed[0]["expected"][0]["amount_cents"].as_i64().unwrap_or(0);
        assert_eq!(
            expected,
            16_500 * (1 + issued_count as i64),
            "the signed close holds every receipt of the day"
        );
        assert!(issued.iter().filter(|r| r.status != 201).all(|r| r.code() == "day_closed"));
    } else {
        assert_problem(&signed, 409, "close_outdated");
    }
}

#[actix_web::test]
async fn the_database_refuses_to_edit_fees_receipts_and_closes() {
    let Desk { app, db, clerk, supervisor, .. } = desk().await;
    let reference = visit(&app, &clerk, "passport-new", "Ana", "Ruiz").await;
    let number = text(
        &fee(&app, &clerk, &adult_book(&reference, json!({"method": "card"}))).await.body,
        "receipt_number",
    );
    void(&app, &supervisor, &number).await;
    let counted = json!([{"method": "card", "currency": "USD", "amount_cents": 0}]);
    app.post("/api/v1/staff/posts/MEX/closeouts", Some(&clerk), &json!({"counted": counted})).await;
    let mut conn = db_conn(db.url());
    for statement in [
        "UPDATE receipts SET total_cents = 1",
        "DELETE FROM receipts",
        "UPDATE receipt_lines SET amount_cents = 1",
        "DELETE FROM receipt_lines",
        "DELETE FROM receipt_voids",
        "UPDATE fee_schedule SET amount_cents = 1",
        "DELETE FROM fee_schedule",
        "UPDATE closeouts SET explanation = 'x'",
        "DELETE FROM closeouts",
    ] {
        let refused = diesel::sql_query(statement).execute(&mut conn);
        assert!(refused.is_err_and(|e| e.to_string().contains("append-only")), "{statement}");
    }
}

#[actix_web::test]
async fn an_applicant_downloads_their_confirmation() {
    let Desk { app, db: _db, admin, .. } = desk().await;
    app.open_around_the_clock(&admin, "MEX", "notarial").await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slots = app.slots("MEX", "notarial").await;
    let body =
        json!({"slot_id": slots.last().expect("slot")["slot_id"], "applicants": [person("José", "Núñez")]});
    let booked = app.post("/api/v1/appointments", Some(&ana), &body).await;
    let reference = text(&booked.body, "reference");
    let pdf =
        app.get(&format!("/api/v1/appointments/{reference}/confirmation.pdf?lang=es"), Some(&ana)).await;
    assert_eq!((pdf.status, pdf.content_type.as_str()), (200, "application/pdf"));
    let printed = pdf_text(&pdf.bytes);
    for wanted in [reference.as_str(), "José Núñez", "U.S. Embassy Mexico City", "Confirmación de cita"] {
        assert!(printed.contains(wanted), "the confirmation lacks {wanted:?}: {printed}");
    }
    let other = app.applicant_token("other@example.mx").await;
    assert_problem(
        &app.get(&format!("/api/v1/appointments/{reference}/confirmation.pdf"), Some(&other)).await,
        404,
        "not_found",
    );
}

#[actix_web::test]
async fn a_second_fee_of_a_code_the_visit_was_charged_is_refused_until_confirmed() {
    let Desk { app, db: _db, clerk, supervisor, .. } = desk().await;
    let reference = visit(&app, &clerk, "passport-renewal", "Ana", "Núñez").await;
    let execution = |method: &str, confirm: Option<bool>| {
        let mut body = json!({"appointment_reference": reference,
            "items": [{"fee_code": "passport-execution", "quantity": 1}], "payment": {"method": method}});
        if let Some(confirm) = confirm {
            body["confirm_repeat"] = json!(confirm);
        }
        body
    };
    let first = fee(&app, &clerk, &execution("cash_usd", None)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let number = text(&first.body, "receipt_number");
    let again = fee(&app, &clerk, &execution("card", None)).await;
    assert_problem(&again, 409, "fee_already_charged");
    assert!(
        again.body["detail"].as_str().unwrap_or("").contains(&number),
        "names the receipt: {}",
        again.body
    );
    assert_problem(&fee(&app, &clerk, &execution("card", Some(false))).await, 409, "fee_already_charged");
    // Another fee for the same visit is no repeat.
    let other = json!({"appointment_reference": reference,
        "items": [{"fee_code": "passport-book-adult", "quantity": 1}], "payment": {"method": "card"}});
    assert_eq!(fee(&app, &clerk, &other).await.status, 201);
    let confirmed = fee(&app, &clerk, &execution("card", Some(true))).await;
    assert_eq!(confirmed.status, 201, "{}", confirmed.body);
    // Once every receipt that charged it is voided, it is charged without a question.
    let second = text(&confirmed.body, "receipt_number");
    for n in [&number, &second] {
        assert_eq!(void(&app, &supervisor, n).await.status, 200);
    }
    assert_eq!(fee(&app, &clerk, &execution("cash_usd", None)).await.status, 201);
    // Refused: nothing was numbered or audited in between (no gap in the numbers).
    let listed = app.get("/api/v1/staff/posts/MEX/receipts", Some(&clerk)).await.body;
    let numbers: Vec<String> = listed["receipts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| text(r, "receipt_number").rsplit('-').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(numbers, ["000001", "000002", "000003", "000004"], "{listed}");
}
