//! The public receipt check page (what the receipt's QR code opens) in both languages: valid,
//! voided and not valid, the three ways of not valid looking alike, and the per-address limit
//! it shares with the JSON check; the tracking numbers a receipt lists; and the applicant's
//! own appointment page listing each document's tracking number.

use serde_json::{json, Value};

use crate::documents::{at_window, record, renewal};
use crate::helpers::{person, spawn_on, Reply, TestApp, TestDb};
use crate::pages::{page, web_session};

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

struct Desk {
    app: TestApp,
    /// Kept to the end of the test: dropping it drops the database.
    _db: TestDb,
    clerk: String,
    supervisor: String,
}

async fn desk(overrides: &[(&str, &str)]) -> Desk {
    let db = TestDb::fresh();
    let mut settings = vec![("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")];
    settings.extend_from_slice(overrides);
    let app = spawn_on(&db, &settings).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    Desk { app, _db: db, clerk, supervisor }
}

/// A fee of US$165 against a walk-in's visit: its receipt's JSON.
async fn receipt(app: &TestApp, clerk: &str) -> Value {
    let body =
        json!({"service": "passport-renewal", "reason": "emergency", "applicant": person("José", "Núñez")});
    let visit = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(visit.status, 201, "walk-in: {}", visit.body);
    paid(app, clerk, json!({"appointment_reference": text(&visit.body, "reference")})).await
}

/// A fee of US$165 (book, surcharge, execution) against `target`: its receipt's JSON.
async fn paid(app: &TestApp, clerk: &str, target: Value) -> Value {
    let mut body = json!({
        "items": [
            {"fee_code": "passport-book-adult", "quantity": 1},
            {"fee_code": "passport-book-security-surcharge", "quantity": 1},
            {"fee_code": "passport-execution", "quantity": 1},
        ],
        "payment": {"method": "cash_usd"},
        "confirm_repeat": true,
    });
    for (k, v) in target.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let r = app.post("/api/v1/staff/fees", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "fee: {}", r.body);
    r.body
}

const ENGLISH: &[(&str, &str)] = &[("Accept-Language", "en-US,en;q=0.9")];
const SPANISH: &[(&str, &str)] = &[("Accept-Language", "es-MX,es;q=0.9")];
/// The remembered choice wins over the browser's languages.
const SPANISH_BY_COOKIE: &[(&str, &str)] = &[("Cookie", "lang=es"), ("Accept-Language", "en")];

async fn check(app: &TestApp, number: &str, sig: &str, headers: &[(&str, &str)]) -> Reply {
    page(app, &format!("/receipts/verify/{number}?sig={sig}"), headers).await
}

/// `2026-12-01T18:45:17.6-06:00` as papers and pages print it: `2026-12-01 18:45 (UTC−06:00)`.
fn printed(rfc3339: &str) -> String {
    let at = chrono::DateTime::parse_from_rfc3339(rfc3339).expect("an RFC 3339 time");
    let offset = at.format("%:z").to_string().replace('-', "\u{2212}");
    format!("{} (UTC{offset})", at.format("%Y-%m-%d %H:%M"))
}

fn altered(code: &str) -> String {
    let mut bytes = code.as_bytes().to_vec();
    bytes[1] = if bytes[1] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

#[actix_web::test]
async fn the_check_page_says_valid_voided_or_not_valid_in_the_visitors_language() {
    let Desk { app, _db, clerk, supervisor } = desk(&[]).await;
    let receipt = receipt(&app, &clerk).await;
    let (number, code) = (text(&receipt, "receipt_number"), text(&receipt, "verification_code"));
    let issued = printed(&text(&receipt, "issued_at"));

    // Without a code: a form to type it, in the visitor's language.
    let ask = page(&app, &format!("/receipts/verify/{number}"), SPANISH).await;
    assert_eq!(ask.status, 200);
    assert!(ask.text.contains(r#"<html lang="es">"#) && ask.text.contains("Código de verificación"));
    assert!(
        ask.text.contains(r#"name="sig""#)
            && ask.text.contains(&format!(r#"action="/receipts/verify/{number}""#))
    );
    assert_eq!(check(&app, &number, "", ENGLISH).await.status, 422, "the form sent empty");

    // Valid, as typed from the paper (any case, spaces for the dash) or from the QR code.
    let typed = code.to_lowercase().replace('-', "+");
    let valid = check(&app, &number, &typed, ENGLISH).await;
    assert_eq!(valid.status, 200, "{}", valid.text);
    for wanted in ["Valid.", &number, "U.S. Embassy Mexico City", &issued, "US$165.00"] {
        assert!(valid.text.contains(wanted), "the valid page lacks {wanted:?}: {}", valid.text);
    }
    assert!(!valid.text.contains("Not valid") && !valid.text.contains("Voided"));
    let header =
        |r: &Reply, name: &str| r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header(&valid, "cache-control"), "no-store", "a later void must not be hidden by a cache");
    for spanish in [SPANISH, SPANISH_BY_COOKIE] {
        let valido = check(&app, &number, &code, spanish).await;
        assert_eq!(valido.status, 200);
        for wanted in [r#"<html lang="es">"#, "Válido.", "Oficina", &issued, "165.00 USD"] {
            assert!(valido.text.contains(wanted), "the Spanish page lacks {wanted:?}: {}", valido.text);
        }
    }

    // Forged: not valid, 404, in both languages, and nothing of the receipt shown.
    let forged = check(&app, &number, &altered(&code), ENGLISH).await;
    assert_eq!(forged.status, 404);
    assert!(forged.text.contains("Not valid.") && forged.text.contains(r#"name="sig""#), "{}", forged.text);
    for hidden in ["Mexico City", "165.00", &issued[..10]] {
        assert!(!forged.text.contains(hidden), "a forged code shows {hidden:?}");
    }
    let falso = check(&app, &number, &altered(&code), SPANISH_BY_COOKIE).await;
    assert_eq!(falso.status, 404);
    assert!(falso.text.contains("No válido.") && !falso.text.contains("165.00"));

    // Voided: says so, with the void's time, and still shows what to compare with the paper.
    let voided = app
        .post(
            &format!("/api/v1/staff/receipts/{number}/void"),
            Some(&supervisor),
            &json!({"reason": "charged twice by mistake"}),
        )
        .await;
    assert_eq!(voided.status, 200, "{}", voided.body);
    let void_time = printed(&text(&voided.body["voided"], "voided_at"));
    let void = check(&app, &number, &code, ENGLISH).await;
    assert_eq!(void.status, 200);
    for wanted in [
        "Voided.",
        "no longer proof of payment",
        &void_time,
        &issued,
        "US$165.00",
        "U.S. Embassy Mexico City",
    ] {
        assert!(void.text.contains(wanted), "the voided page lacks {wanted:?}: {}", void.text);
    }
    assert!(!void.text.contains("Valid."), "{}", void.text);
    let anulado = check(&app, &number, &code, SPANISH).await;
    for wanted in ["Anulado.", "Ya no es comprobante de pago", &void_time, "165.00 USD"] {
        assert!(anulado.text.contains(wanted), "the Spanish voided page lacks {wanted:?}: {}", anulado.text);
    }
    // The JSON check, for machines, says the same.
    let json = app.get(&format!("/api/v1/receipts/verify/{number}?sig={code}"), None).await;
    assert_eq!(
        (text(&json.body, "status"), text(&json.body, "post_name")),
        ("voided".into(), "U.S. Embassy Mexico City".into())
    );
    assert_eq!(printed(&text(&json.body, "voided_at")), void_time);
    app.stop().await;
}

#[actix_web::test]
async fn a_wrong_code_an_unknown_number_and_a_malformed_one_look_alike() {
    let Desk { app, _db, clerk, .. } = desk(&[]).await;
    let receipt = receipt(&app, &clerk).await;
    let (number, code) = (text(&receipt, "receipt_number"), text(&receipt, "verification_code"));
    let wrong = altered(&code);
    let unknown = number.replace("-000001", "-000002");
    for lang in [ENGLISH, SPANISH] {
        let wrong_code = check(&app, &number, &wrong, lang).await;
        // The receipt's own code, but for another number.
        let unknown_number = check(&app, &unknown, &code, lang).await;
        let other_code = check(&app, &unknown, &wrong, lang).await;
        let malformed = check(&app, "NOT-A-RECEIPT", &wrong, lang).await;
        for reply in [&wrong_code, &unknown_number, &other_code, &malformed] {
            assert_eq!(reply.status, 404, "{}", reply.text);
        }
        // The same page but for the number typed (and the code, in the language switch link).
        assert_eq!(other_code.text.replace(&unknown, &number), wrong_code.text);
        assert_eq!(malformed.text.replace("NOT-A-RECEIPT", &number), wrong_code.text);
        assert_eq!(
            unknown_number.text.replace(&unknown, &number),
            wrong_code.text.replace(&wrong, &code),
            "an unknown number answers as a wrong code"
        );
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_page_and_the_json_check_share_one_limit_per_address() {
    let Desk { app, _db, clerk, .. } = desk(&[("CONSULAR_DESK_RECEIPT_CHECKS_PER_ADDRESS", "3")]).await;
    let receipt = receipt(&app, &clerk).await;
    let (number, code) = (text(&receipt, "receipt_number"), text(&receipt, "verification_code"));
    // The form alone checks nothing and counts nothing.
    for _ in 0..5 {
        assert_eq!(page(&app, &format!("/receipts/verify/{number}"), ENGLISH).await.status, 200);
    }
    assert_eq!(check(&app, &number, &code, ENGLISH).await.status, 200);
    assert_eq!(check(&app, &number, &altered(&code), ENGLISH).await.status, 404);
    let json = app.get(&format!("/api/v1/receipts/verify/{number}?sig={code}"), None).await;
    assert_eq!(text(&json.body, "status"), "valid");

    let throttled = check(&app, &number, &code, ENGLISH).await;
    assert_eq!(throttled.status, 429, "{}", throttled.text);
    assert!(throttled.text.contains("Too many checks from here") && !throttled.text.contains("165.00"));
    let retry: u64 = throttled
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=900).contains(&retry), "{retry}");
    let espera = check(&app, &number, &code, SPANISH).await;
    assert_eq!(espera.status, 429);
    assert!(espera.text.contains(r#"<html lang="es">"#) && espera.text.contains("Demasiadas verificaciones"));
    let json = app.get(&format!("/api/v1/receipts/verify/{number}?sig={code}"), None).await;
    assert_eq!((json.status, json.code()), (429, "too_many_requests"), "{}", json.body);
    app.stop().await;
}

#[actix_web::test]
async fn thirty_checks_at_once_get_exactly_the_limit_through() {
    let Desk { app, _db, clerk, .. } = desk(&[("CONSULAR_DESK_RECEIPT_CHECKS_PER_ADDRESS", "10")]).await;
    let receipt = receipt(&app, &clerk).await;
    let (number, code) = (text(&receipt, "receipt_number"), text(&receipt, "verification_code"));
    // Half through the page, half through the JSON: one limit, counted once per check.
    let answers = futures_util::future::join_all((0..30).map(|i| {
        let (app, number, code) = (&app, number.clone(), code.clone());
        async move {
            if i % 2 == 0 {
                check(app, &number, &code, ENGLISH).await.status
            } else {
                app.get(&format!("/api/v1/receipts/verify/{number}?sig={code}"), None).await.status
            }
        }
    }))
    .await;
    let through = answers.iter().filter(|s| **s == 200).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert_eq!((through, refused), (10, 20), "{answers:?}");
    app.stop().await;
}

#[actix_web::test]
async fn the_receipts_qr_code_opens_the_check_page() {
    let Desk { app, _db, clerk, .. } =
        desk(&[("CONSULAR_DESK_PUBLIC_URL", "https://citas.example.gov")]).await;
    let receipt = receipt(&app, &clerk).await;
    let (number, code) = (text(&receipt, "receipt_number"), text(&receipt, "verification_code"));
    let pdf = app.get(&format!("/api/v1/staff/receipts/{number}/receipt.pdf"), Some(&clerk)).await;
    assert_eq!(pdf.status, 200);
    let Some(decoded) = decode_qr(&pdf.bytes) else {
        eprintln!("QR decoding skipped: pdftoppm or zbarimg is missing");
        return;
    };
    assert_eq!(decoded, format!("https://citas.example.gov/receipts/verify/{number}?sig={code}"));
    let opened = page(&app, decoded.trim_start_matches("https://citas.example.gov"), ENGLISH).await;
    assert_eq!(opened.status, 200);
    assert!(opened.text.contains("Valid."));
    app.stop().await;
}

/// The text of the QR code on the PDF's first page (rasterized at 150 dpi), or `None` when the
/// tools aren't installed.
fn decode_qr(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("receipt.pdf");
    std::fs::write(&file, pdf).expect("the PDF written");
    let prefix = dir.path().join("page");
    let rendered = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&file)
        .arg(&prefix)
        .status()
        .ok()?;
    assert!(rendered.success(), "pdftoppm failed");
    let out = std::process::Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(prefix.with_extension("png"))
        .output()
        .ok()?;
    assert!(out.status.success(), "no code decoded: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[actix_web::test]
async fn a_receipt_lists_the_tracking_numbers_it_paid_for() {
    let Desk { app, _db, clerk, .. } = desk(&[]).await;
    let reference = at_window(&app, &clerk, "passport-renewal").await;
    let mut tracking = Vec::new();
    for (given, surname) in [("Ana", "Núñez"), ("Sofía", "Núñez")] {
        let doc = record(&app, &clerk, &reference, &renewal(given, surname)).await;
        assert_eq!(doc.status, 201, "{}", doc.body);
        tracking.push(text(&doc.body, "tracking_number"));
    }

    // Against the visit: both of its documents, in the order they were recorded.
    let visit_receipt = paid(&app, &clerk, json!({"appointment_reference": reference})).await;
    assert_eq!(visit_receipt["tracking_numbers"], json!(tracking));
    assert!(visit_receipt.get("tracking_number").is_none(), "kept as it was: only for a document");

    // A document recorded after the receipt is not on it, on a reprint either.
    let later = record(&app, &clerk, &reference, &renewal("Luis", "Núñez")).await;
    assert_eq!(later.status, 201, "{}", later.body);
    let later = text(&later.body, "tracking_number");
    let number = text(&visit_receipt, "receipt_number");
    let again = app.get(&format!("/api/v1/staff/receipts/{number}"), Some(&clerk)).await;
    assert_eq!(again.body["tracking_numbers"], json!(tracking), "{}", again.body);

    // Against one document: that one only.
    let one = paid(&app, &clerk, json!({"tracking_number": later})).await;
    assert_eq!(one["tracking_numbers"], json!([later.clone()]));
    assert_eq!(text(&one, "tracking_number"), later);

    // The API document describes the list.
    let spec = app.get("/openapi.json", None).await.body;
    let field = &spec["components"]["schemas"]["ReceiptView"]["properties"]["tracking_numbers"];
    assert_eq!(field["type"], "array", "{field}");
    assert!(spec["components"]["schemas"]["ReceiptView"]["required"]
        .as_array()
        .is_some_and(|r| r.contains(&json!("tracking_numbers"))));
    app.stop().await;
}

#[actix_web::test]
async fn the_applicants_page_shows_each_documents_tracking_number_and_state() {
    let Desk { app, _db, clerk, .. } = desk(&[]).await;
    let ana = app.applicant_token("ana@example.mx").await;
    app.applicant_token("bob@example.mx").await;
    let (anas, _) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let (bobs, _) = web_session(&app, "bob@example.mx", "applicant passphrase").await;

    // Ana books for two, comes early, is seated now, checked in and called.
    let slots = app.slots("MEX", "passport-renewal").await;
    let later = slots.last().expect("a slot")["slot_id"].clone();
    let party = json!([
        {"given_names": "Ana", "surname": "Núñez", "date_of_birth": "1990-06-15"},
        {"given_names": "Sofía", "surname": "Núñez", "date_of_birth": "1992-03-02"},
    ]);
    let booked =
        app.post("/api/v1/appointments", Some(&ana), &json!({"slot_id": later, "applicants": party})).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let reference = text(&booked.body, "reference");
    let path = format!("/my/{reference}");
    let before = page(&app, &path, &[("Cookie", &anas)]).await;
    assert_eq!(before.status, 200);
    assert!(!before.text.contains("Tracking number"), "nothing recorded yet");

    let now = app.get("/api/v1/staff/posts/MEX/availability?service=passport-renewal", Some(&clerk)).await;
    let soon = now.body["slots"][0]["slot_id"].clone();
    let moved = app
        .post(
            &format!("/api/v1/staff/appointments/{reference}/reschedule"),
            Some(&clerk),
            &json!({"slot_id": soon, "reason": "came early, a seat is free"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let checked_in =
        app.post(&format!("/api/v1/staff/appointments/{reference}/check-in"), Some(&clerk), &json!({})).await;
    assert_eq!(checked_in.status, 200, "{}", checked_in.body);
    let called = app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": "2"})).await;
    assert_eq!(text(&called.body, "reference"), reference, "{}", called.body);
    let mut tracking = Vec::new();
    for (given, surname) in [("Ana", "Núñez"), ("Sofía", "Núñez")] {
        let doc = record(&app, &clerk, &reference, &renewal(given, surname)).await;
        assert_eq!(doc.status, 201, "{}", doc.body);
        tracking.push(text(&doc.body, "tracking_number"));
    }
    // Someone else's visit at the same window: never on Ana's page.
    let other = at_window(&app, &clerk, "passport-renewal").await;
    let others = record(&app, &clerk, &other, &renewal("Pedro", "Páramo")).await;
    let others = text(&others.body, "tracking_number");

    let english = page(&app, &path, &[("Cookie", &anas), ("Accept-Language", "en")]).await;
    assert_eq!(english.status, 200);
    for wanted in ["Your documents", "Ana Núñez", "Sofía Núñez", "Passport", "Received"] {
        assert!(english.text.contains(wanted), "the page lacks {wanted:?}: {}", english.text);
    }
    for number in &tracking {
        assert!(
            english.text.contains(&format!(r#"<a href="/track?number={number}">{number}</a>"#)),
            "{number}"
        );
    }
    assert!(!english.text.contains(&others) && !english.text.contains("Páramo"));
    let spanish = page(&app, &path, &[("Cookie", &format!("{anas}; lang=es"))]).await;
    assert_eq!(spanish.status, 200);
    for wanted in ["Sus documentos", "Número de seguimiento", "Recibido", &tracking[0], &tracking[1]] {
        assert!(spanish.text.contains(wanted), "the Spanish page lacks {wanted:?}: {}", spanish.text);
    }

    // Bob's session doesn't open Ana's page, nor does anyone's Bob's page show her numbers.
    let bobs_view = page(&app, &path, &[("Cookie", &bobs)]).await;
    assert_eq!(bobs_view.status, 404);
    assert!(!tracking.iter().any(|t| bobs_view.text.contains(t.as_str())));
    app.stop().await;
}
