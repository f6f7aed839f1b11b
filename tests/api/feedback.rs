//! "Tell us what you think": feedback sent by anyone reaches the staff of its post and no one
//! else's, is throttled per client address even in parallel, refuses what is too large or holds
//! invisible characters without storing anything, exports as CSV a real CSV reader reads, and
//! works as pages, in Spanish, in a real browser.

use std::collections::BTreeMap;

use diesel::{QueryDsl, RunQueryDsl};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{assert_problem, db_conn, spawn_on, Caller, Reply, TestApp, TestDb};
use crate::pages::{cookie_value, hidden_csrf, page, post_fields, set_cookie, staff_session};

const SEND: &str = "/api/v1/feedback";

async fn app_with(overrides: &[(&str, &str)]) -> (TestApp, TestDb) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, overrides).await;
    (app, db)
}

/// Rows in the feedback table, read from the database itself.
fn stored(app: &TestApp) -> i64 {
    let mut conn = db_conn(&app.db_url);
    consular_desk::db::schema::feedback::table.count().get_result(&mut conn).expect("count feedback")
}

async fn send(app: &TestApp, caller: &Caller<'_>, body: &Value) -> Reply {
    app.call_as(caller, "POST", SEND, None, Some(body)).await
}

fn about_mex(text: &str) -> Value {
    json!({"post": "MEX", "text": text})
}

/// Each field's broken rule, as `field:rule`.
fn rules(r: &Reply) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{}:{}", e["field"].as_str().unwrap_or(""), e["rule"].as_str().unwrap_or("")))
        .collect()
}

/// The records of a CSV file, header first, read by the `csv` crate as RFC 4180 says.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.expect("a well-formed CSV record").iter().map(String::from).collect())
        .collect()
}

#[actix_web::test]
async fn feedback_reaches_the_staff_of_its_post_and_no_one_else() {
    let (app, _db) = app_with(&[]).await;
    let anyone = Caller::from("127.0.0.2");
    let text = "La cita fue puntual.\r\nEl personal, muy amable — gracias.";
    let body = json!({"post": "mex", "service": "passport-renewal", "text": format!("  {text}  "),
        "email": "Ana.Nunez@Example.MX", "language": "es"});
    let r = send(&app, &anyone, &body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body, json!({}));

    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let r = app.get("/api/v1/staff/posts/MEX/feedback", Some(&clerk)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let entries = r.body["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{}", r.body);
    let entry = &entries[0];
    assert_eq!(entry["post"], "MEX");
    assert_eq!(entry["service"], "passport-renewal");
    assert_eq!(entry["text"], "La cita fue puntual.\nEl personal, muy amable — gracias.", "trimmed, LF");
    assert_eq!(entry["email"], "ana.nunez@example.mx");
    assert_eq!(entry["language"], "es");
    // The post's local time, to the second (the app's clock runs on from 10:00).
    let received = entry["received_at"].as_str().unwrap_or_default();
    assert!(received.starts_with("2026-12-08T10:0") && received.ends_with("-06:00"), "{received}");
    assert_eq!(received.len(), "2026-12-08T10:00:00-06:00".len(), "{received}");
    assert_eq!((r.body["from"].clone(), r.body["to"].clone()), (json!("2026-11-09"), json!("2026-12-08")));
    assert_eq!(r.body["more"], false);

    // Any staff member of the post reads it; another post's gets 403, and its own list is empty.
    let supervisor = app.staff_token("mex.super", "supervisor", Some("MEX")).await;
    let auditor = app.staff_token("the.auditor", "auditor", None).await;
    let admin = app.admin_token().await;
    for reader in [&supervisor, &auditor, &admin] {
        let r = app.get("/api/v1/staff/posts/mex/feedback", Some(reader)).await;
        assert_eq!(r.body["entries"].as_array().map(Vec::len), Some(1), "{}", r.body);
    }
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    assert_problem(&app.get("/api/v1/staff/posts/MEX/feedback", Some(&gdl)).await, 403, "wrong_post");
    let own = app.get("/api/v1/staff/posts/GDL/feedback", Some(&gdl)).await;
    assert_eq!(own.body["entries"], json!([]), "{}", own.body);
    assert_problem(&app.get("/api/v1/staff/posts/XYZ/feedback", Some(&admin)).await, 404, "not_found");
    let r = app.get("/api/v1/staff/posts/MEX/feedback?from=2026-12-08&to=2026-11-01", Some(&clerk)).await;
    assert_problem(&r, 422, "validation_failed");

    // An applicant's token, or none, opens no staff endpoint; a clerk exports nothing.
    let applicant = app.applicant_token("ana@example.mx").await;
    for path in ["/api/v1/staff/posts/MEX/feedback", "/api/v1/audit/feedback.csv"] {
        assert_problem(&app.get(path, Some(&applicant)).await, 403, "public_token_not_staff");
        assert_problem(&app.get(path, None).await, 401, "missing_token");
    }
    assert_problem(&app.get("/api/v1/audit/feedback.csv", Some(&clerk)).await, 403, "insufficient_role");

    // The trail says feedback came, never what it said or who wrote it.
    let log = app.get("/api/v1/audit/log?action=feedback.submitted", Some(&admin)).await;
    let entries = log.body["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{}", log.body);
    assert_eq!(entries[0]["actor"]["kind"], "anonymous");
    let trail = log.body.to_string();
    for secret in ["puntual", "ana.nunez", "example.mx"] {
        assert!(!trail.contains(secret), "the trail holds {secret:?}: {trail}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn thirty_parallel_submissions_from_one_address_get_exactly_the_limit() {
    let (app, _db) = app_with(&[]).await;
    let bot = Caller::from("127.0.0.2");
    let replies = join_all((0..30).map(|i| {
        let body = about_mex(&format!("Mensaje número {i}"));
        let bot = &bot;
        let app = &app;
        async move { send(app, bot, &body).await }
    }))
    .await;
    let mut statuses = BTreeMap::new();
    for r in &replies {
        *statuses.entry(r.status).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(202, 5), (429, 25)]), "the default limit is five an hour");
    let throttled = replies.iter().find(|r| r.status == 429).expect("a 429");
    assert_problem(throttled, 429, "too_many_requests");
    let wait: i64 =
        throttled.headers.get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
    assert!((1..=3600).contains(&wait), "Retry-After within the hour: {wait}");
    assert_eq!(stored(&app), 5, "only what was accepted is kept");

    // Another address has its own five; an hour later the first has five again.
    let person = Caller::from("127.0.0.3");
    assert_eq!(send(&app, &person, &about_mex("Todo bien")).await.status, 202);
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(send(&app, &bot, &about_mex("Otra vez")).await.status, 202);
    assert_eq!(stored(&app), 7);
    app.stop().await;
}

#[actix_web::test]
async fn an_over_large_body_is_refused_before_it_is_read_and_nothing_is_stored() {
    let (app, _db) = app_with(&[]).await;
    // 60 KB of valid JSON: refused by the body limit, not by the text's rule.
    let prefix = r#"{"post": "MEX", "text": ""#;
    let filler = "a".repeat(60 * 1024 - prefix.len() - 2);
    let body = format!("{prefix}{filler}\"}}").into_bytes();
    assert_eq!(body.len(), 60 * 1024);
    let r = app.raw("POST", SEND, &[("Content-Type", "application/json")], body).await;
    assert_problem(&r, 413, "payload_too_large");
    // Just over the text's limit, within the body's: the rule says so by its field.
    let r = send(&app, &Caller::from("127.0.0.2"), &about_mex(&"ñ".repeat(4001))).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(rules(&r), ["text:at_most_characters"]);
    // At the limit, in characters rather than bytes, it is kept.
    let r = send(&app, &Caller::from("127.0.0.2"), &about_mex(&"ñ".repeat(4000))).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(stored(&app), 1);
    app.stop().await;
}

#[actix_web::test]
async fn invisible_characters_and_unknown_choices_are_refused_and_nothing_is_stored() {
    let (app, _db) = app_with(&[]).await;
    let anyone = Caller::from("127.0.0.2");
    for text in [
        "Todo bien\u{200B}",
        "fine \u{202E}gnp.exe",
        "nul\u{0}byte",
        "\u{FEFF}bom",
        "tag\u{E0041}",
        "soft\u{00AD}hyphen",
        "bell\u{7}",
        "   \n\t  ",
        "",
    ] {
        let r = send(&app, &anyone, &about_mex(text)).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(rules(&r).len(), 1, "{text:?}: {}", r.body);
        assert!(rules(&r)[0].starts_with("text:"), "{text:?}: {}", r.body);
    }
    let r = send(&app, &anyone, &about_mex("Hola\u{200B}")).await;
    assert_eq!(rules(&r), ["text:invisible_characters"]);
    // Every field's error at once.
    let r = send(
        &app,
        &anyone,
        &json!({"post": "MEXICO", "service": "visas", "text": "\u{2066}", "email": "a\u{200B}na@example.mx", "language": "fr"}),
    )
    .await;
    assert_eq!(
        rules(&r),
        ["post:not_a_post", "text:invisible_characters", "email:not_an_email", "language:not_a_choice"]
    );
    let r = send(&app, &anyone, &json!({"post": "XYZ", "service": "visas", "text": "Hola"})).await;
    assert_eq!(rules(&r), ["post:not_a_choice", "service:not_a_choice"]);
    let r = send(&app, &anyone, &json!({"post": "MEX", "text": "Hola", "rating": 5})).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(stored(&app), 0, "nothing refused was kept");
    // Refusals count against nobody: the address still has its five.
    for i in 0..5 {
        assert_eq!(send(&app, &anyone, &about_mex(&format!("Hola {i}"))).await.status, 202);
    }
    assert_eq!(send(&app, &anyone, &about_mex("Hola otra vez")).await.status, 429);
    app.stop().await;
}

#[actix_web::test]
async fn auditors_export_feedback_as_csv_a_csv_reader_reads() {
    let (app, _db) = app_with(&[("CONSULAR_DESK_FEEDBACK_PER_HOUR_PER_ADDRESS", "100")]).await;
    let anyone = Caller::from("127.0.0.2");
    let awkward =
        "=HYPERLINK(\"http://evil.example\",\"click\")\nSegunda línea, con \"comillas\"; y punto y coma";
    for body in [
        json!({"post": "MEX", "text": "Primera, el lunes", "language": "es"}),
        json!({"post": "GDL", "service": "crba", "text": "Tijuana? No: Guadalajara", "email": "bo@example.com"}),
    ] {
        assert_eq!(send(&app, &anyone, &body).await.status, 202);
    }
    app.clock.advance(chrono::Duration::days(1));
    let r = send(
        &app,
        &anyone,
        &json!({"post": "MEX", "text": awkward, "email": "ana@example.mx", "language": "es"}),
    )
    .await;
    assert_eq!(r.status, 202);

    let auditor = app.staff_token("the.auditor", "auditor", None).await;
    let r = app.get("/api/v1/audit/feedback.csv", Some(&auditor)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type.starts_with("text/csv"), "{}", r.content_type);
    let disposition = r.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(disposition, "attachment; filename=\"feedback-all-2026-11-10-2026-12-09.csv\"");
    assert!(r.text.ends_with("\r\n") && !r.text.starts_with('\u{FEFF}'));
    let records = csv_records(&r.text);
    assert_eq!(records[0], ["id", "post", "service", "received_at", "language", "email", "text"]);
    assert_eq!(records.len(), 4, "a header and three rows: {records:?}");
    // Post by post, oldest first.
    let posts: Vec<&str> = records[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(posts, ["GDL", "MEX", "MEX"]);
    assert_eq!(records[1][2], "crba");
    assert!(records[1][3].starts_with("2026-12-08T10:0") && records[1][3].ends_with("-06:00"), "{records:?}");
    assert_eq!(records[1][4..], ["en", "bo@example.com", "Tijuana? No: Guadalajara"]);
    assert_eq!(records[2][6], "Primera, el lunes");
    assert!(records[3][3].starts_with("2026-12-09T10:0"), "{records:?}");
    assert_eq!(records[3][6], format!("'{awkward}"), "kept whole, and never run as a formula");

    // One post, and a range of dates.
    let r =
        app.get("/api/v1/audit/feedback.csv?post=mex&from=2026-12-09&to=2026-12-09", Some(&auditor)).await;
    let records = csv_records(&r.text);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[1][1], "MEX");
    let r = app
        .get("/api/v1/audit/feedback.csv?post=TIJ&from=2026-12-01&to=2026-12-09&bom=true", Some(&auditor))
        .await;
    assert!(r.text.starts_with('\u{FEFF}'));
    assert_eq!(csv_records(r.text.trim_start_matches('\u{FEFF}')).len(), 1, "only the header");

    // An auditor bound to a post exports its own post only; the export is recorded.
    let gdl_auditor = app.staff_token("gdl.auditor", "auditor", Some("GDL")).await;
    let own = app.get("/api/v1/audit/feedback.csv", Some(&gdl_auditor)).await;
    assert_eq!(csv_records(&own.text).len(), 2, "{}", own.text);
    for other in ["MEX", "all"] {
        let r = app.get(&format!("/api/v1/audit/feedback.csv?post={other}"), Some(&gdl_auditor)).await;
        assert_problem(&r, 403, "wrong_post");
    }
    assert_problem(&app.get("/api/v1/audit/feedback.csv?post=XYZ", Some(&auditor)).await, 404, "not_found");
    let r = app.get("/api/v1/audit/feedback.csv?from=2025-01-01&to=2026-12-09", Some(&auditor)).await;
    assert_problem(&r, 422, "validation_failed");
    let admin = app.admin_token().await;
    let log = app.get("/api/v1/audit/log?action=feedback.exported", Some(&admin)).await;
    assert_eq!(log.body["entries"].as_array().map(Vec::len), Some(4), "{}", log.body);
    assert!(!log.body.to_string().contains("example"), "no address in the trail");
    app.stop().await;
}

/// The public form and the staff page over plain HTTP: the CSRF token, errors by field with
/// the refusal's status, nothing kept from a refused form, and the way to the thank-you page.
#[actix_web::test]
async fn the_form_keeps_what_it_accepts_and_says_what_it_refuses_by_field() {
    let (app, _db) = app_with(&[]).await;
    let form = page(&app, "/feedback?post=gdl", &[("Accept-Language", "es-MX")]).await;
    assert_eq!(form.status, 200);
    assert!(
        form.text.contains("Díganos qué opina") && form.text.contains(r#"<option value="GDL" selected>"#)
    );
    assert!(
        form.text.contains(r#"maxlength="4000""#) && form.text.contains(r#"aria-describedby="text-hint""#)
    );
    let cookies = cookie_value(&set_cookie(&form, "csrf").expect("a CSRF cookie"));
    let token = hidden_csrf(&form.text);

    let forged =
        post_fields(&app, "/feedback", &cookies, &[("csrf", "forged"), ("post", "MEX"), ("text", "Hola")])
            .await;
    assert_eq!(forged.status, 403);
    let refused = post_fields(
        &app,
        "/feedback",
        &cookies,
        &[("csrf", &token), ("post", "MEX"), ("service", ""), ("text", "Hola\u{200B}"), ("email", "ana@")],
    )
    .await;
    assert_eq!(refused.status, 422);
    for id in ["text", "email"] {
        assert!(refused.text.contains(&format!(r#"id="{id}-error""#)), "{id}'s error: {}", refused.text);
    }
    assert!(refused.text.contains(r#"aria-describedby="text-hint text-error""#));
    assert!(refused.text.contains("ana@"), "what was typed is shown again");
    assert_eq!(stored(&app), 0);

    // Line breaks as a browser sends them: CRLF, each counted once against the limit.
    let text = format!("{}\r\n{}", "a".repeat(2000), "b".repeat(1999));
    let sent = post_fields(
        &app,
        "/feedback",
        &cookies,
        &[("csrf", &token), ("post", "GDL"), ("service", "crba"), ("text", &text), ("email", "")],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(sent.headers.get("location").and_then(|v| v.to_str().ok()), Some("/feedback/thanks"));
    assert_eq!(page(&app, "/feedback/thanks", &[]).await.status, 200);
    assert_eq!(stored(&app), 1);

    // The staff page shows it to the post's staff; a clerk gets no CSV link and no CSV.
    app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let (clerk, _, _) = staff_session(&app, "gdl.clerk").await;
    let list = page(&app, "/staff/feedback", &[("Cookie", &clerk)]).await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains(&"b".repeat(1999)) && !list.text.contains("/staff/feedback.csv"));
    assert_eq!(page(&app, "/staff/feedback.csv", &[("Cookie", &clerk)]).await.status, 403);
    assert_eq!(
        page(&app, "/staff/feedback?post=MEX", &[("Cookie", &clerk)]).await.text.matches("1 message").count(),
        1,
        "a bound clerk sees its own post"
    );
    // The home page and the public pages' footer lead to the form.
    assert!(page(&app, "/", &[]).await.text.matches(r#"href="/feedback""#).count() >= 2);
    app.stop().await;
}

#[actix_web::test]
async fn the_forms_in_spanish_show_errors_by_field_then_thank_and_staff_read_it_in_the_browser() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let (app, _db) = app_with(&[]).await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.staff_token("the.auditor", "auditor", None).await;

    browser.goto(&format!("{}/", app.address)).await;
    browser.click("footer a[href='/feedback']").await;
    browser.wait_until("document.location.pathname === '/feedback'").await;
    assert_eq!(browser.text("h1").await, "Díganos qué opina");
    browser.screenshot("feedback-form-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the feedback form");

    // Nothing written: the text says so, tied to its field.
    browser.click("#feedback button[type=submit]").await;
    browser.wait_until("document.getElementById('text-error')").await;
    assert_eq!(browser.text("#text-error").await, "No puede quedar vacío.");
    assert_eq!(
        browser.run("return document.getElementById('text').getAttribute('aria-invalid')").await,
        "true"
    );
    // A hidden character and an address that isn't one: both said, by their fields.
    browser.type_into("#text", "La fila avanzó rápido.\nGracias\u{200B}").await;
    browser.type_into("#email", "ana@").await;
    browser.click("#feedback button[type=submit]").await;
    browser.wait_until("document.getElementById('email-error')").await;
    assert!(
        browser.text("#text-error").await.contains("invisibles"),
        "{}",
        browser.text("#text-error").await
    );
    assert_eq!(browser.text("#email-error").await, "No es una dirección de correo electrónico.");
    browser.screenshot("feedback-errors-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the form with errors");
    assert_eq!(stored(&app), 0);

    browser.run("document.getElementById('text').value = ''; document.getElementById('email').value = ''; return 0").await;
    browser.type_into("#text", "La fila avanzó rápido.\nGracias al personal de la ventanilla 3.").await;
    browser.type_into("#email", "ana@example.mx").await;
    browser.click("#service option[value='passport-renewal']").await;
    browser.click("#feedback button[type=submit]").await;
    browser.wait_until("document.location.pathname === '/feedback/thanks'").await;
    assert_eq!(browser.text("h1").await, "Gracias");
    browser.screenshot("feedback-thanks-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the thank-you page");
    assert_eq!(stored(&app), 1);

    // The post's clerk reads it, line breaks kept.
    browser.staff_sign_in(&app.address, "mex.clerk").await;
    browser.click("nav a[href='/staff/feedback']").await;
    browser.wait_until("document.location.pathname === '/staff/feedback'").await;
    let message = browser.text("#feedback td.message").await;
    assert_eq!(message, "La fila avanzó rápido.\nGracias al personal de la ventanilla 3.");
    assert!(browser.text("#feedback").await.contains("Renovación"), "the service in Spanish");
    browser.screenshot("staff-feedback-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the staff feedback page");
    browser.staff_sign_out().await;

    // The auditor picks the post and downloads the CSV the page links to.
    browser.staff_sign_in(&app.address, "the.auditor").await;
    browser.goto(&format!("{}/staff/feedback?post=MEX", app.address)).await;
    browser.screenshot("staff-feedback-auditor-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the auditor's feedback page");
    let href = browser.run("return document.getElementById('csv').href").await;
    let (status, content_type, text) = browser.fetch(href.as_str().unwrap_or("")).await;
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    let records = csv_records(text.trim_start_matches('\u{FEFF}'));
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[1][5], "ana@example.mx");
    browser.goto(&format!("{}/staff/reports", app.address)).await;
    assert!(browser
        .run("return document.getElementById('feedback-csv').href")
        .await
        .as_str()
        .unwrap_or("")
        .contains("/staff/feedback.csv?post=all"));
    app.stop().await;
}
