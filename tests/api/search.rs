//! The staff search: each kind of text finds its target (references typed or scanned, receipt
//! and register entry numbers, tracking numbers, names by a prefix of any word whatever the
//! accents and case, phones, the last four of a document number), only within the caller's
//! posts; texts that can't be searched are refused; rows written before the index existed are
//! found after a restart; and the page lists results or opens a scanned visit.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::documents::{at_window, notarial_job, record, renewal};
use crate::helpers::{assert_problem, db_conn, person, spawn_on, TestApp, TestDb};
use crate::pages::{page, staff_session};

/// MEX open for renewals and notarial acts around the clock, GDL for renewals; a clerk at
/// each, and an admin bound to no post.
struct Desk {
    app: TestApp,
    db: TestDb,
    admin: String,
    mex: String,
    gdl: String,
}

async fn desk() -> Desk {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    for (post, service) in [("MEX", "passport-renewal"), ("MEX", "notarial"), ("GDL", "passport-renewal")] {
        app.open_around_the_clock(&admin, post, service).await;
    }
    let mex = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    Desk { app, db, admin, mex, gdl }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// Books the soonest renewal slot at `post` for someone who phoned: the reference.
async fn phoned(app: &TestApp, clerk: &str, post: &str, people: Value, phone: &str) -> String {
    let r = app
        .get(&format!("/api/v1/staff/posts/{post}/availability?service=passport-renewal"), Some(clerk))
        .await;
    let slot = r.body["slots"][0]["slot_id"].as_i64().expect("a slot soon");
    let body = json!({"slot_id": slot, "applicants": people, "phone": phone});
    let r = app.post("/api/v1/staff/appointments", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "booking: {}", r.body);
    text(&r.body, "reference")
}

async fn search(app: &TestApp, token: &str, q: &str) -> Value {
    let r = app.get(&format!("/api/v1/staff/search?q={}", encode(q)), Some(token)).await;
    assert_eq!(r.status, 200, "search {q:?}: {}", r.body);
    r.body
}

/// `(kind, id)` of every result.
fn found(body: &Value) -> Vec<(String, String)> {
    body["results"].as_array().into_iter().flatten().map(|r| (text(r, "kind"), text(r, "id"))).collect()
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The first result of `kind`.
fn of_kind(body: &Value, kind: &str) -> Value {
    body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["kind"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

fn has(body: &Value, kind: &str, id: &str) -> bool {
    found(body).contains(&(kind.to_string(), id.to_string()))
}

#[actix_web::test]
async fn each_kind_of_text_finds_its_target() {
    let Desk { app, db: _db, mex, .. } = desk().await;
    let family = json!([person("José María", "Núñez López"), person("Lucía", "Núñez López")]);
    let booked = phoned(&app, &mex, "MEX", family, "+52 (55) 5080-2000").await;
    // Ana Núñez renews at the window: a document with her old passport's last four (1234).
    let walk_in = at_window(&app, &mex, "passport-renewal").await;
    let renewed = record(&app, &mex, &walk_in, &renewal("Ana", "Núñez")).await;
    assert_eq!(renewed.status, 201, "{}", renewed.body);
    let tracking = text(&renewed.body, "tracking_number");
    let paid = app
        .post(
            "/api/v1/staff/fees",
            Some(&mex),
            &json!({"appointment_reference": walk_in, "items": [{"fee_code": "passport-book-adult", "quantity": 1}],
                    "payment": {"method": "cash_usd"}}),
        )
        .await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    let receipt = text(&paid.body, "receipt_number");
    // A notarial act signed by José Núñez (national id ending 3456) and 王芳.
    let notarial = at_window(&app, &mex, "notarial").await;
    let act = record(&app, &mex, &notarial, &notarial_job(false)).await;
    let entry = act.body["register_entries"][0].as_str().unwrap_or_default().to_string();
    assert!(!entry.is_empty(), "{}", act.body);

    // A reference as typed, without dashes in lower case, and as a scanner sends the QR code.
    for typed in [booked.clone(), booked.replace('-', "").to_lowercase(), format!("{booked}\r\n")] {
        let body = search(&app, &mex, &typed).await;
        assert_eq!(found(&body), [("visit".to_string(), booked.clone())], "{typed:?}");
        let visit = &body["results"][0];
        assert_eq!(text(visit, "href"), format!("/staff/visits/{booked}"));
        assert_eq!(text(visit, "name"), "José María Núñez López, Lucía Núñez López");
        assert_eq!((text(visit, "status"), text(visit, "matched")), ("booked".into(), "reference".into()));
        assert!(text(visit, "at").ends_with("-06:00"), "the post's local time: {visit}");
    }
    // Receipts and register entries share the shape of their numbers (the first of each at a
    // post in a year is MEX-2027-000001): a number finds both.
    let body = search(&app, &mex, &receipt.to_lowercase()).await;
    let paid = of_kind(&body, "receipt");
    assert_eq!(
        (text(&paid, "id"), text(&paid, "href")),
        (receipt.clone(), format!("/staff/receipts/{receipt}"))
    );
    assert_eq!((text(&paid, "name"), text(&paid, "status")), ("Ana Núñez".into(), "issued".into()));
    let body = search(&app, &mex, &entry).await;
    let registered = of_kind(&body, "register_entry");
    assert_eq!(text(&registered, "id"), entry);
    assert_eq!(text(&registered, "name"), "José Núñez, 王 芳");
    let href = text(&registered, "href");
    assert!(
        href.starts_with("/staff/register?post=MEX&from=") && href.ends_with(&format!("#{entry}")),
        "{href}"
    );
    let body = search(&app, &mex, &tracking.replace('-', " ").to_lowercase()).await;
    assert_eq!(found(&body), [("document".to_string(), tracking.clone())]);
    assert_eq!(text(&body["results"][0], "href"), format!("/staff/documents/{tracking}"));

    // Names: a prefix of any word, accents and case aside.
    let body = search(&app, &mex, "lop").await;
    assert!(has(&body, "visit", &booked), "{body}");
    assert!(!has(&body, "visit", &walk_in), "Ana Núñez has no López: {body}");
    let body = search(&app, &mex, "NUÑ").await;
    for (kind, id) in [("visit", &booked), ("visit", &walk_in), ("document", &tracking)] {
        assert!(has(&body, kind, id), "{kind} {id}: {body}");
    }
    assert_eq!(search(&app, &mex, "lucia").await["results"][0]["matched"], "name");
    // Several words: each must begin a word of the same party, and the two longest a word of
    // the same person.
    let body = search(&app, &mex, "jose nunez").await;
    assert!(has(&body, "visit", &booked), "{body}");
    assert!(!has(&body, "visit", &walk_in), "{body}");
    assert!(found(&search(&app, &mex, "ana lopez").await).is_empty());
    for typed in ["JOS NÚÑ", "lucia nunez lopez", "lopez maria jose"] {
        assert!(has(&search(&app, &mex, typed).await, "visit", &booked), "{typed}");
    }
    let body = search(&app, &mex, "lucia jose").await;
    assert!(!has(&body, "visit", &booked), "Lucía and José are two people of one party: {body}");
    let signed = text(&act.body, "tracking_number");
    assert_eq!(found(&search(&app, &mex, "芳").await), [("document".to_string(), signed)], "a signer's name");
    // The phone, however it is written.
    for typed in ["+52 55 5080 2000", "5550802000", "55-5080-2000", "5080 2000", "52555080"] {
        let body = search(&app, &mex, typed).await;
        assert_eq!(found(&body), [("visit".to_string(), booked.clone())], "{typed}");
        assert_eq!(body["results"][0]["matched"], "phone");
    }
    // The last four of a document number: the renewed passport, the signer's national id.
    let body = search(&app, &mex, "1234").await;
    assert_eq!(found(&body), [("document".to_string(), tracking.clone())]);
    assert_eq!(body["results"][0]["matched"], "last_four");
    let body = search(&app, &mex, "****3456").await;
    assert_eq!(body["results"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["results"][0]["kind"], "document");
    assert!(text(&body["results"][0], "name").contains("José Núñez"), "{body}");
    // Nothing matches nothing.
    assert!(found(&search(&app, &mex, "zzyzx").await).is_empty());
    assert!(found(&search(&app, &mex, "9999").await).is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn another_posts_visits_are_not_found() {
    let Desk { app, db: _db, admin, mex, gdl } = desk().await;
    let at_mex = phoned(&app, &mex, "MEX", json!([person("Ana", "López")]), "5550802000").await;
    let at_gdl = phoned(&app, &gdl, "GDL", json!([person("Luis", "López")]), "3331234567").await;

    // Each clerk finds their own post's visit, by name, reference and phone, and not the other.
    let mine = search(&app, &mex, "lópez").await;
    assert_eq!(found(&mine), [("visit".to_string(), at_mex.clone())]);
    for q in [at_gdl.as_str(), "3331234567", "luis"] {
        assert!(found(&search(&app, &mex, q).await).is_empty(), "MEX finds GDL's visit by {q}");
    }
    assert_eq!(found(&search(&app, &gdl, &at_gdl).await), [("visit".to_string(), at_gdl.clone())]);
    assert!(found(&search(&app, &gdl, &at_mex).await).is_empty());
    // Naming the other post is refused, in both forms of the endpoint.
    let r = app.get("/api/v1/staff/search?q=lopez&post=GDL", Some(&mex)).await;
    assert_problem(&r, 403, "wrong_post");
    let r = app.get("/api/v1/staff/posts/GDL/search?q=lopez", Some(&mex)).await;
    assert_problem(&r, 403, "wrong_post");
    let r = app.get("/api/v1/staff/posts/mex/search?q=lopez", Some(&mex)).await;
    assert_eq!(found(&r.body), [("visit".to_string(), at_mex.clone())]);

    // Staff bound to no post search every post, or the one named.
    let everywhere = search(&app, &admin, "lopez").await;
    assert!(has(&everywhere, "visit", &at_mex) && has(&everywhere, "visit", &at_gdl), "{everywhere}");
    assert!(everywhere["posts"].as_array().is_some_and(|p| p.len() >= 10));
    let at_one = app.get("/api/v1/staff/search?q=lopez&post=gdl", Some(&admin)).await;
    assert_eq!(found(&at_one.body), [("visit".to_string(), at_gdl.clone())]);
    let nowhere = app.get("/api/v1/staff/search?q=lopez&post=MXE", Some(&admin)).await;
    assert_problem(&nowhere, 404, "not_found");
    // An auditor reads everything: any staff member may search.
    let auditor = app.staff_token("auditor", "auditor", None).await;
    assert!(has(&search(&app, &auditor, &at_gdl).await, "visit", &at_gdl));
    app.stop().await;
}

#[actix_web::test]
async fn only_staff_search_and_texts_that_cannot_be_searched_are_refused() {
    let Desk { app, db: _db, mex, .. } = desk().await;
    let reference = phoned(&app, &mex, "MEX", json!([person("Ana", "López")]), "5550802000").await;
    let r = app.get("/api/v1/staff/search?q=lopez", None).await;
    assert_problem(&r, 401, "missing_token");
    let r = app.get("/api/v1/staff/search?q=lopez", Some("not.a.token")).await;
    assert_problem(&r, 401, "invalid_token");
    let applicant = app.applicant_token("ana@example.mx").await;
    let r = app.get("/api/v1/staff/search?q=lopez", Some(&applicant)).await;
    assert_problem(&r, 403, "public_token_not_staff");

    for bad in
        ["/api/v1/staff/search", "/api/v1/staff/search?q=", "/api/v1/staff/search?q=%20%E2%80%8B%EF%BB%BF%09"]
    {
        let r = app.get(bad, Some(&mex)).await;
        assert_problem(&r, 400, "invalid_query");
    }
    let long = app.get(&format!("/api/v1/staff/search?q={}", "a".repeat(101)), Some(&mex)).await;
    assert_problem(&long, 400, "invalid_query");
    // 60 KB of query: refused before it is read, and the server goes on.
    let huge =
        app.get(&format!("/api/v1/staff/search?q={}", "l%C3%B3pez".repeat(6 * 1024)), Some(&mex)).await;
    assert!((400..500).contains(&huge.status), "a 60 KB query: {}", huge.status);
    let r = app.get("/api/v1/staff/search?q=lo%00pez", Some(&mex)).await;
    assert_problem(&r, 400, "invalid_path");
    // Invisible characters inside the text are dropped, not searched for.
    let body = search(&app, &mex, "lo\u{200B}pez\u{FEFF}").await;
    assert_eq!(found(&body), [("visit".to_string(), reference.clone())]);
    assert_eq!(text(&body, "query"), "lopez");
    let body = search(&app, &mex, &format!("\u{200E}{reference}\u{200F}")).await;
    assert_eq!(found(&body), [("visit".to_string(), reference)]);
    // SQL and LIKE patterns are text like any other.
    for q in ["%", "_", "' OR 1=1 --", "n:"] {
        assert!(found(&search(&app, &mex, q).await).is_empty(), "{q}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn visits_written_before_the_index_are_found_after_a_restart() {
    let Desk { app, db, mex, .. } = desk().await;
    let reference = phoned(&app, &mex, "MEX", json!([person("Ximena", "Ibáñez")]), "5550802000").await;
    let walk_in = at_window(&app, &mex, "passport-renewal").await;
    let renewed = record(&app, &mex, &walk_in, &renewal("Ana", "Núñez")).await;
    let tracking = text(&renewed.body, "tracking_number");
    app.stop().await;
    // As if they were written before the index existed.
    let mut conn = db_conn(db.url());
    diesel::sql_query("DELETE FROM search_terms").execute(&mut conn).expect("emptied");
    let count = |conn: &mut consular_desk::db::DbConn| -> i64 {
        consular_desk::db::schema::search_terms::table.count().get_result(conn).expect("count")
    };
    assert_eq!(count(&mut conn), 0);

    let app = spawn_on(&db, &[]).await;
    let started = Instant::now();
    loop {
        let body = search(&app, &mex, "ibanez").await;
        if has(&body, "visit", &reference) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "not backfilled: {body}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    while !has(&search(&app, &mex, "1234").await, "document", &tracking) {
        assert!(started.elapsed() < Duration::from_secs(20), "the document is not backfilled");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let indexed = count(&mut conn);
    app.stop().await;
    // Again: nothing is indexed twice.
    let app = spawn_on(&db, &[]).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&mut conn), indexed);
    assert_eq!(found(&search(&app, &mex, "ibáñez").await), [("visit".to_string(), reference)]);
    app.stop().await;
}

#[actix_web::test]
async fn the_page_lists_what_it_finds_and_opens_a_scanned_visit() {
    let Desk { app, db: _db, mex, .. } = desk().await;
    let reference = phoned(&app, &mex, "MEX", json!([person("José", "Núñez")]), "5550802000").await;
    let (cookies, _, _) = staff_session(&app, "mex.clerk").await;
    let open = |path: String| {
        let (app, cookies) = (&app, cookies.clone());
        async move { page(app, &path, &[("Cookie", &cookies), ("Accept-Language", "es-MX")]).await }
    };
    // A scanned confirmation: straight to the visit.
    let scanned = open(format!("/staff/search?q={}%0D%0A", reference.to_lowercase())).await;
    assert_eq!(scanned.status, 303, "{}", scanned.text);
    assert_eq!(
        scanned.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/staff/visits/{reference}").as_str())
    );
    // A name: the list, in the page's language, with the state in words.
    let listed = open("/staff/search?q=NU%C3%91".into()).await;
    assert_eq!(listed.status, 200);
    assert!(listed.text.contains(&format!("href=\"/staff/visits/{reference}\"")), "{}", listed.text);
    assert!(
        listed.text.contains("José Núñez")
            && listed.text.contains("Reservada")
            && listed.text.contains("Visita")
    );
    assert!(listed.text.contains("value=\"NUÑ\""), "what was typed stays in the box");
    assert!(!listed.text.contains("booked"), "no codes shown");
    let none = open("/staff/search?q=zzyzx".into()).await;
    assert!(none.text.contains("No se encontró nada"), "{}", none.text);
    // Nothing typed: the error beside the box, in Spanish.
    let empty = open("/staff/search?q=%E2%80%8B".into()).await;
    assert_eq!(empty.status, 400);
    assert!(
        empty.text.contains("id=\"q-error\"") && empty.text.contains("Escriba un nombre"),
        "{}",
        empty.text
    );
    let long = open(format!("/staff/search?q={}", "a".repeat(300))).await;
    assert_eq!(long.status, 400);
    assert!(long.text.contains("100 caracteres"), "{}", long.text);
    // Without a session: to sign in.
    let signed_out = page(&app, "/staff/search?q=lopez", &[]).await;
    assert_eq!(signed_out.status, 303);
    app.stop().await;
}

#[actix_web::test]
async fn a_clerk_searches_in_the_browser_and_the_page_passes_axe() {
    let Some(browser) = crate::browser::Browser::start("es-MX,es").await else { return };
    let Desk { app, db: _db, mex, .. } = desk().await;
    let reference = phoned(&app, &mex, "MEX", json!([person("José", "Núñez López")]), "5550802000").await;
    phoned(&app, &mex, "MEX", json!([person("Ana", "Núñez")]), "5550802001").await;
    browser.staff_sign_in(&app.address, "mex.clerk").await;
    browser.goto(&format!("{}/staff/search", app.address)).await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the empty search page");
    browser.type_into("#q", "NUÑ").await;
    browser.click("main form[role=search] button[type=submit]").await;
    browser.wait_until("document.querySelector('main table tbody tr') !== null").await;
    let rows = browser.run("return document.querySelectorAll('main table tbody tr').length;").await;
    assert_eq!(rows, json!(2));
    assert!(browser.text("main table").await.contains("José Núñez López"));
    browser.screenshot("staff-search").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "search results");
    // Nothing typed: the error beside the box.
    browser.run("document.querySelector('#q').value = ''; return true;").await;
    browser.click("main form[role=search] button[type=submit]").await;
    browser.wait_until("document.querySelector('#q-error') !== null").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "search with an error");
    // A scanned confirmation goes straight to the visit.
    browser.type_into("#q", &reference.replace('-', "").to_lowercase()).await;
    browser.click("main form[role=search] button[type=submit]").await;
    browser.wait_until(&format!("document.location.pathname === '/staff/visits/{reference}'")).await;
    app.stop().await;
}
