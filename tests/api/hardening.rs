//! Web and input hardening, each attack as the test: open redirects, a forged
//! `X-Forwarded-Proto`, formulas in CSV cells, invisible characters in typed text, a post-bound
//! auditor asking the fee-report page for another post, and a clerk probing another post's
//! tracking numbers.

use serde_json::{json, Value};

use crate::client::someone;
use crate::documents::{at_window, notarial_job, record, renewal};
use crate::helpers::{assert_problem, person, spawn_on, Reply, TestApp, TestDb};
use crate::pages::{page, post_form, set_cookie, staff_session};
use consular_desk::fees::receipts::Method;

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// `raw` percent-encoded as a query value, every byte but letters and digits.
fn query_value(raw: &str) -> String {
    raw.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn location(reply: &Reply) -> Option<&str> {
    reply.headers.get("location").and_then(|v| v.to_str().ok())
}

/// Known open-redirect payloads, as the server reads the `next` parameter.
const REDIRECT_PAYLOADS: [&str; 30] = [
    "/\t/evil.example/x",
    "/\r\nLocation: https://evil.example/",
    "/\nevil",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "HTTPS://evil.example",
    "http:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%2f%2fevil.example",
    "/%2F%2Fevil.example",
    "/%5cevil.example",
    "/%09/evil.example",
    "/%0d%0aSet-Cookie:%20session=x",
    "/%252f%252fevil.example",
    "/\u{FF0F}evil.example",
    "\u{FF0F}\u{FF0F}evil.example",
    "/%EF%BC%8F%EF%BC%8Fevil.example",
    "/\u{2215}\u{2215}evil.example",
    " //evil.example",
    "evil.example",
    "@evil.example",
    "/%00/evil.example",
];

#[actix_web::test]
async fn no_next_parameter_or_redirect_built_from_input_leaves_the_site_or_fails() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    for payload in REDIRECT_PAYLOADS {
        let r = page(&app, &format!("/lang/en?next={}", query_value(payload)), &[]).await;
        assert_eq!((r.status, location(&r)), (303, Some("/")), "{payload:?}");
    }
    // Paths of this site still go back where they were.
    let back = page(&app, "/lang/es?next=%2Fstaff%2Fadmin%2Fclosures%3Fpost%3DMEX", &[]).await;
    assert_eq!(location(&back), Some("/staff/admin/closures?post=MEX"));

    // A receipt number with a line break in it, on a page that redirects after the form.
    app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let (cookies, csrf, _) = staff_session(&app, "mex.supervisor").await;
    for number in ["X%0d%0aSet-Cookie:%20a=b", "%2F%2Fevil.example", "%09%2Fevil.example"] {
        let r = post_form(
            &app,
            &format!("/staff/receipts/{number}/void"),
            &cookies,
            &format!("csrf={csrf}&reason=x"),
        )
        .await;
        assert!(r.status < 500, "{number}: {}", r.status);
        assert!(location(&r).is_none_or(|l| l.starts_with('/') && !l.starts_with("//")), "{number}");
    }
    app.stop().await;
}

/// The `Secure` flag of the CSRF cookie a page sets, and its HSTS header.
async fn https_as_seen(app: &TestApp, headers: &[(&str, &str)]) -> (bool, Option<String>) {
    let r = page(app, "/sign-in", headers).await;
    let cookie = set_cookie(&r, "csrf").expect("a CSRF cookie");
    let hsts = r.headers.get("strict-transport-security").and_then(|v| v.to_str().ok()).map(String::from);
    (cookie.contains("Secure"), hsts)
}

/// The HSTS header of an API answer to a request saying `X-Forwarded-Proto: https`.
async fn api_hsts(app: &TestApp) -> Option<String> {
    let r = page(app, "/healthz", &[("X-Forwarded-Proto", "https")]).await;
    r.headers.get("strict-transport-security").and_then(|v| v.to_str().ok()).map(String::from)
}

#[actix_web::test]
async fn a_clients_own_forwarded_proto_gets_no_secure_cookie_and_no_hsts() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let forged: [&[(&str, &str)]; 3] = [
        &[("X-Forwarded-Proto", "https")],
        &[("Forwarded", "for=203.0.113.9;proto=https")],
        &[("X-Forwarded-Proto", "https"), ("X-Forwarded-Scheme", "https"), ("X-Forwarded-Ssl", "on")],
    ];
    for headers in forged {
        assert_eq!(https_as_seen(&app, headers).await, (false, None), "{headers:?}");
    }
    assert_eq!(api_hsts(&app).await, None, "nor on the API");
    app.stop().await;

    // The test client as the one trusted proxy: its word counts, in the header it writes.
    let app = spawn_on(&db, &[("CONSULAR_DESK_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let year = Some("max-age=31536000".to_string());
    assert_eq!(https_as_seen(&app, &[("X-Forwarded-Proto", "https")]).await, (true, year.clone()));
    assert_eq!(https_as_seen(&app, &[("X-Forwarded-Proto", "http")]).await, (false, None));
    assert_eq!(https_as_seen(&app, &[]).await, (false, None));
    assert_eq!(https_as_seen(&app, &[("Forwarded", "for=203.0.113.9;proto=https")]).await, (false, None));
    assert_eq!(api_hsts(&app).await, year.clone(), "on the API too");
    app.stop().await;

    let app = spawn_on(
        &db,
        &[("CONSULAR_DESK_TRUSTED_PROXIES", "127.0.0.1"), ("CONSULAR_DESK_PROXY_HEADER", "forwarded")],
    )
    .await;
    assert_eq!(https_as_seen(&app, &[("Forwarded", "for=203.0.113.9;proto=https")]).await, (true, year));
    assert_eq!(https_as_seen(&app, &[("X-Forwarded-Proto", "https")]).await, (false, None));
    assert_eq!(https_as_seen(&app, &[("Forwarded", "for=203.0.113.9")]).await, (false, None));
    app.stop().await;
}

/// The cells of a CSV line split on `separator`, quotes honoured and removed.
fn cells(line: &str, separator: char) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == separator && !quoted => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

async fn documents_desk() -> (TestApp, TestDb, String, String) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    (app, db, admin, clerk)
}

#[actix_web::test]
async fn register_csv_cells_that_a_spreadsheet_would_split_or_run_are_quoted_and_defused() {
    let (app, _db, _admin, clerk) = documents_desk().await;
    let visit = at_window(&app, &clerk, "notarial").await;
    let mut job = notarial_job(false);
    job["document_title"] = json!("x;=1+1");
    job["venue"] = json!(" =1+1");
    let recorded = record(&app, &clerk, &visit, &job).await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    // A leading tab is not typed text at all.
    let mut tabbed = notarial_job(false);
    tabbed["document_title"] = json!("\t=1+1");
    assert_problem(&record(&app, &clerk, &visit, &tabbed).await, 422, "validation_failed");

    let csv = app.get("/api/v1/staff/posts/MEX/notarial-register?format=csv", Some(&clerk)).await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[1].contains(r#","x;=1+1","#), "{}", lines[1]);
    assert!(lines[1].contains(r#","'=1+1","#), "the venue, trimmed and defused: {}", lines[1]);
    // Read as a spreadsheet reads it with either list separator, no cell is a formula.
    for separator in [',', ';'] {
        for cell in cells(lines[1], separator) {
            assert!(!cell.trim_start().starts_with(['=', '+', '@', '\t']), "{cell:?} in {}", lines[1]);
        }
    }
    app.stop().await;
}

#[actix_web::test]
async fn typed_text_with_bidi_overrides_or_invisible_characters_is_refused_everywhere() {
    let (app, _db, admin, clerk) = documents_desk().await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let sneaky = ["fine \u{202E}gnp.exe", "zero\u{200B}width", "mark\u{200F}", "isolate\u{2066}x\u{2069}"];

    // A void reason: the receipt stays as it was.
    let visit = app.emergency_walk_in(&clerk, "MEX", "passport-new", someone("Ana", "Ruiz")).await;
    let receipt = app.record_fee(&clerk, &visit.reference, &["passport-execution"], Method::Card).await;
    let number = receipt.receipt_number;
    let void = format!("/api/v1/staff/receipts/{number}/void");
    for reason in sneaky {
        assert_problem(
            &app.post(&void, Some(&supervisor), &json!({"reason": reason})).await,
            422,
            "validation_failed",
        );
    }
    let shown = app.get(&format!("/api/v1/staff/receipts/{number}"), Some(&clerk)).await;
    assert!(shown.body["voided"].is_null(), "{}", shown.body);

    // A walk-in's reason, a closure's reason, a fee's description, a window's label.
    let day = (app.now().date_naive() + chrono::Duration::days(30)).to_string();
    for bad in sneaky {
        let walk = json!({"service": "passport-new", "kind": "routine", "note": bad, "applicant": person("Ana", "Ruiz")});
        assert_problem(
            &app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &walk).await,
            422,
            "validation_failed",
        );
        let closure = json!({"date": day, "from": "08:00", "to": "08:30", "reason": bad});
        assert_problem(
            &app.post("/api/v1/admin/posts/MEX/closures", Some(&admin), &closure).await,
            422,
            "validation_failed",
        );
        let version = json!({"code": "fee-bidi", "description": bad, "cfr_item": "22 CFR 22.1", "amount_cents": 2_500, "effective_from": "2031-01-01"});
        assert_problem(
            &app.post("/api/v1/admin/fees", Some(&admin), &version).await,
            422,
            "validation_failed",
        );
        let window = json!({"window": format!("3{bad}")});
        assert_problem(
            &app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &window).await,
            422,
            "validation_failed",
        );
    }
    // What is kept is NFC: `e` and a combining acute are `é`.
    let closure = json!({"date": day, "from": "08:00", "to": "08:30", "reason": "Jose\u{0301} asked"});
    let created = app.post("/api/v1/admin/posts/MEX/closures", Some(&admin), &closure).await;
    assert_eq!(
        (created.status, text(&created.body, "reason")),
        (201, "Jos\u{e9} asked".to_string()),
        "{}",
        created.body
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_post_bound_auditor_gets_the_apis_refusal_from_the_fee_report_page() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let auditor = app.staff_token("mex.auditor", "auditor", Some("MEX")).await;
    let (cookies, _, _) = staff_session(&app, "mex.auditor").await;
    let day = "2026-12-01";
    for post in ["all", "GDL", "gdl"] {
        let api = app
            .get(&format!("/api/v1/audit/fee-report?post={post}&from={day}&to={day}"), Some(&auditor))
            .await;
        assert_problem(&api, 403, "wrong_post");
        for format in ["", "&format=csv", "&format=json"] {
            let path = format!("/staff/reports?post={post}&from={day}&to={day}{format}");
            let shown = page(&app, &path, &[("Cookie", &cookies)]).await;
            assert_eq!(shown.status, 403, "{path}");
            assert!(shown.text.contains("another post") && !shown.text.contains("downloads"), "{path}");
        }
    }
    let own =
        page(&app, &format!("/staff/reports?post=MEX&from={day}&to={day}"), &[("Cookie", &cookies)]).await;
    assert_eq!(own.status, 200);
    let unasked = page(&app, "/staff/reports", &[("Cookie", &cookies)]).await;
    assert!(unasked.status == 200 && unasked.text.contains("post=MEX"), "its own post by default");
    app.stop().await;
}

#[actix_web::test]
async fn a_clerk_cannot_tell_another_posts_tracking_number_from_one_never_issued() {
    let (app, _db, admin, clerk) = documents_desk().await;
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    app.open_around_the_clock(&admin, "GDL", "passport-renewal").await;
    let body = json!({"service": "passport-renewal", "kind": "emergency", "reason": "arrest", "applicant": person("Eva", "Soto")});
    let walked = app.post("/api/v1/staff/posts/GDL/walk-ins", Some(&gdl), &body).await;
    assert_eq!(walked.status, 201, "{}", walked.body);
    let gdl_visit = text(&walked.body, "reference");
    app.post("/api/v1/staff/posts/GDL/queue/next", Some(&gdl), &json!({"window": "1"})).await;
    let taken = record(&app, &gdl, &gdl_visit, &renewal("Eva", "Soto")).await;
    assert_eq!(taken.status, 201, "{}", taken.body);
    let existing = text(&taken.body, "tracking_number");
    let never = consular_desk::documents::tracking::TrackingNumber::generate().as_str().to_string();

    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let answers =
        |r: &Reply| (r.status, r.body["code"].clone(), r.body["detail"].clone(), r.body["title"].clone());
    let mut seen = Vec::new();
    for tracking in [&existing, &never] {
        let with_visit = json!({"appointment_reference": visit, "tracking_number": tracking, "items": [{"fee_code": "passport-execution", "quantity": 1}], "payment": {"method": "card"}});
        let alone = json!({"tracking_number": tracking, "items": [{"fee_code": "passport-execution", "quantity": 1}], "payment": {"method": "card"}});
        let move_on = json!({"to": "sent_for_adjudication", "note": "probe"});
        let replies = [
            app.post("/api/v1/staff/fees", Some(&clerk), &with_visit).await,
            app.post("/api/v1/staff/fees", Some(&clerk), &alone).await,
            app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await,
            app.post(&format!("/api/v1/staff/documents/{tracking}/transitions"), Some(&clerk), &move_on)
                .await,
        ];
        for r in &replies {
            assert_problem(r, 404, "not_found");
        }
        seen.push(replies.iter().map(answers).collect::<Vec<_>>());
    }
    assert_eq!(seen[0], seen[1], "the same answers for a GDL number and one never issued");
    let still = app.get(&format!("/api/v1/staff/documents/{existing}"), Some(&gdl)).await;
    assert_eq!(text(&still.body, "status"), "received", "nothing moved: {}", still.body);
    app.stop().await;
}
