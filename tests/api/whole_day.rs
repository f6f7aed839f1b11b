//! A whole day at the embassy (MEX) through the pages in a real browser, as the clerk, the
//! supervisor and the auditor live it, on the app's clock (Tuesday 8 December 2026 from 10:00
//! in Mexico City): the morning's rate, the queue at window 3, a fee in pesos through its
//! review, a passport handed over, the count, a void, the signed close and its sheet, the
//! visits left at closing time booked again, and the auditor's report and trail. Nobody falls
//! back to the API for their own work; the API only stands in for what others did before (a
//! phone booking, a passport coming back from printing). axe-core runs on every page opened.

use std::time::Duration;

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{person, spawn_on, TestApp, TestDb};

/// Asserts axe-core finds nothing serious on the page, naming it.
async fn accessible(browser: &Browser, page: &str) {
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "{page}");
}

/// MEX with passports and notarial work open all day, a clerk, two supervisors and an
/// auditor; the maintenance timer every second, so closing time happens as it would.
async fn embassy() -> (TestApp, TestDb, String) {
    let db = TestDb::fresh();
    let app = spawn_on(
        &db,
        &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "3"), ("CONSULAR_DESK_MAINTENANCE_SECONDS", "1")],
    )
    .await;
    let admin = app.admin_token().await;
    for service in ["passport-renewal", "notarial"] {
        app.open_around_the_clock(&admin, "MEX", service).await;
    }
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    app.staff_token("mex.chief", "supervisor", Some("MEX")).await;
    app.staff_token("the.auditor", "auditor", None).await;
    (app, db, clerk)
}

/// Ana Núñez phoned yesterday: the next passport-renewal slot, booked by a clerk.
async fn phoned_in(app: &TestApp, clerk: &str) -> String {
    let r = app.get("/api/v1/staff/posts/MEX/availability?service=passport-renewal", Some(clerk)).await;
    let slot = r.body["slots"][0]["slot_id"].as_i64().expect("a slot soon");
    let body = json!({"slot_id": slot, "applicants": [person("Ana", "Núñez")]});
    let r = app.post("/api/v1/staff/appointments", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["reference"].as_str().expect("reference").to_string()
}

/// A passport renewal of Seán O'Brien's from weeks ago, back from printing: ready for pickup.
/// (Recording it took a visit to a window; that visit is over.)
async fn passport_back(app: &TestApp, clerk: &str) -> String {
    let tracking = crate::documents::ready_for_pickup(app, clerk, "Seán", "O'Brien").await;
    let board = app.get("/api/v1/staff/posts/MEX/day", Some(clerk)).await;
    for visit in board.body["visits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["status"] == "called" || v["status"] == "in_service")
    {
        let path = format!("/api/v1/staff/appointments/{}/complete", text(&visit["reference"]));
        assert_eq!(app.post(&path, Some(clerk), &json!({})).await.status, 200);
    }
    tracking
}

/// A local time in Mexico City as an instant.
fn mex(local: &str) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").expect("a time");
    chrono_tz::America::Mexico_City.from_local_datetime(&naive).single().expect("one instant").to_utc()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

#[actix_web::test]
async fn a_day_at_the_embassy_from_the_pages_the_clerks_the_supervisors_and_the_auditors() {
    let Some(browser) = Browser::start("en-US,en").await else { return };
    let (app, _db, clerk) = embassy().await;
    let base = app.address.clone();
    let ana = phoned_in(&app, &clerk).await;
    let tracking = passport_back(&app, &clerk).await;

    // 10:00 — the supervisor opens the day: today's peso rate, typed with a decimal comma.
    browser.staff_sign_in(&base, "mex.supervisor").await;
    assert_eq!(text(&browser.run("return document.location.pathname").await), "/staff");
    browser.goto(&format!("{base}/staff/cash")).await;
    browser.type_into("#rate_value", "17,2538").await;
    browser.click("form[action='/staff/cash/rate'] button").await;
    browser.wait_until("document.body.textContent.includes('17.2538')").await;
    accessible(&browser, "the cash page with today's rate").await;
    browser.staff_sign_out().await;

    // The clerk: the board, the menu of a clerk, and Ana found by her name without accents.
    browser.staff_sign_in(&base, "mex.clerk").await;
    assert_eq!(text(&browser.run("return document.location.pathname").await), "/staff");
    let menu = browser.text("header nav").await;
    assert!(
        menu.contains("Day board") && !menu.contains("Accounts") && !menu.contains("Audit log"),
        "{menu}"
    );
    accessible(&browser, "the day board").await;
    browser.type_into("#site-search", "nunez").await;
    browser.click("form.search button").await;
    browser.wait_until("document.location.pathname === '/staff/search'").await;
    accessible(&browser, "the search results").await;
    browser.click(&format!("a[href='/staff/visits/{ana}']")).await;
    browser.wait_until("document.getElementById('visit')").await;
    accessible(&browser, "Ana's visit").await;
    browser.click(&format!("form[action='/staff/visits/{ana}/check-in'] button")).await;
    browser.wait_until("document.location.pathname === '/staff'").await;
    assert!(browser.text("#board").await.contains("P-00"), "Ana's ticket");

    // Two walk-ins: a routine notarial one, and an emergency (an arrest).
    for (kind, given) in [("routine", "Rosa"), ("arrest", "Luis")] {
        browser.run("document.querySelector('details').open = true; return null").await;
        browser.click("#walk_service option[value='notarial']").await;
        browser.click(&format!("#walk_kind option[value='{kind}']")).await;
        browser.type_into("#walk_given", given).await;
        browser.type_into("#walk_surname", "Ruiz").await;
        browser.click("form[action='/staff/walk-ins'] button[type=submit]").await;
        browser.wait_until(&format!("document.body.textContent.includes('{given} Ruiz')")).await;
    }

    // Window 3: the emergency first, and nobody else while it is at the window.
    browser.type_into("#window", "3").await;
    browser.click("form[action='/staff/call-next'] button").await;
    browser.wait_until("document.getElementById('called')").await;
    let called = browser.text("#called").await;
    assert!(
        called.starts_with("E-") && called.ends_with("called to window 3."),
        "the emergency first: {called}"
    );
    assert!(browser.text("header").await.contains("Window 3"), "the header shows the window");
    browser.click("form[action='/staff/call-next'] button").await;
    browser.wait_until("document.getElementById('busy')").await;
    accessible(&browser, "the board with the window busy").await;
    browser.click("form[action$='/complete'] button").await;
    browser.wait_until("!document.querySelector(\"form[action$='/complete']\")").await;

    // Then Ana's appointment, before the routine walk-in of the same hour; her fee in pesos.
    browser.click("form[action='/staff/call-next'] button").await;
    browser.wait_until("document.getElementById('called')").await;
    let called = browser.text("#called").await;
    assert!(called.starts_with("P-") && called.ends_with("called to window 3."), "Ana's turn: {called}");
    browser.goto(&format!("{base}/staff/visits/{ana}/fee")).await;
    browser.wait_until("document.getElementById('fee_1')").await;
    accessible(&browser, "the fee form").await;
    browser.click("#fee_1 option[value='passport-book-adult']").await;
    browser.click("#method option[value='cash_local']").await;
    browser.click("button[value=review]").await;
    browser.wait_until("document.getElementById('review-total')").await;
    // 50.00 US dollars at 17.2538 pesos: 862.69, collected as 863.00 (whole pesos).
    assert!(browser.text("#pesos").await.contains("863.00 MXN"), "{}", browser.text("#pesos").await);
    accessible(&browser, "the fee's review").await;
    browser.click("button[value=confirm]").await;
    browser.wait_until("document.location.pathname.startsWith('/staff/receipts/')").await;
    let receipt = text(&browser.run("return document.location.pathname.split('/')[3]").await);
    accessible(&browser, "the receipt").await;
    let print =
        browser.run("return document.querySelector(\"a[href$='/receipt.pdf']\").getAttribute('href')").await;
    let (status, kind, _) = browser.fetch(&text(&print)).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"), "the receipt prints");
    browser.goto(&format!("{base}/staff")).await;
    browser.click("form[action$='/complete'] button").await;
    browser.wait_until("!document.querySelector(\"form[action$='/complete']\")").await;

    // Rosa: called, not at the window: a no-show.
    browser.click("form[action='/staff/call-next'] button").await;
    browser.wait_until("document.getElementById('called')").await;
    let called = browser.text("#called").await;
    assert!(called.starts_with("N-") && called.ends_with("called to window 3."), "Rosa's turn: {called}");
    browser.click("form[action$='/no-show'] button").await;
    browser.wait_until("!document.querySelector(\"form[action$='/no-show']\")").await;

    // Seán's passport, back weeks later: found by its tracking number, handed over.
    browser.type_into("#site-search", &tracking).await;
    browser.click("form.search button").await;
    browser.wait_until(&format!("document.querySelector(\"a[href='/staff/documents/{tracking}']\")")).await;
    browser.click(&format!("a[href='/staff/documents/{tracking}']")).await;
    browser.wait_until("document.getElementById('history')").await;
    accessible(&browser, "the passport's page").await;
    browser.click("#collector-applicant").await;
    browser.click("form[action$='/handover'] button[type=submit]").await;
    browser.wait_until("document.querySelector('p.handover')").await;
    assert_eq!(browser.text("#status").await, "Delivered");

    // The day's receipts, and the clerk's count of the pesos taken.
    browser.goto(&format!("{base}/staff/receipts")).await;
    assert!(browser.text("#receipts").await.contains(&receipt));
    assert!(!browser.text("main").await.contains("Void this"), "a clerk voids nothing");
    accessible(&browser, "the day's receipts").await;
    browser.goto(&format!("{base}/staff/cash")).await;
    browser.wait_until("document.getElementById('cash_local')").await;
    browser.run("document.getElementById('cash_local').value = ''; return true").await;
    browser.type_into("#cash_local", "863,00").await;
    browser.click("form[action='/staff/cash/count'] button").await;
    browser.wait_until("document.querySelector('section.notice')").await;
    accessible(&browser, "the cash page after the count").await;

    // 17:50: a late walk-in nobody calls before closing.
    app.clock.set(mex("2026-12-08 17:50"));
    browser.goto(&format!("{base}/staff")).await;
    browser.run("document.querySelector('details').open = true; return null").await;
    browser.click("#walk_service option[value='notarial']").await;
    browser.click("#walk_kind option[value='routine']").await;
    browser.type_into("#walk_given", "Inés").await;
    browser.type_into("#walk_surname", "Tarde").await;
    browser.click("form[action='/staff/walk-ins'] button[type=submit]").await;
    browser.wait_until("document.body.textContent.includes('Inés Tarde')").await;
    browser.staff_sign_out().await;

    // The supervisor signs the clerk's count and keeps the sheet with the cash.
    browser.staff_sign_in(&base, "mex.chief").await;
    browser.goto(&format!("{base}/staff/cash")).await;
    browser.wait_until("document.querySelector(\"form[action$='/sign'] button\")").await;
    browser.click("form[action$='/sign'] button").await;
    browser.wait_until("document.body.textContent.includes('Signed by')").await;
    accessible(&browser, "the cash page, signed").await;
    let sheet = browser.run("return document.querySelector('a[href*=sheet]').getAttribute('href')").await;
    let (status, kind, _) = browser.fetch(&text(&sheet)).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"), "the close sheet prints");

    // Past closing time the timer closes what is left; the supervisor books Inés again.
    app.clock.set(mex("2026-12-09 00:05"));
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    browser.goto(&format!("{base}/staff/not-served?date=2026-12-08")).await;
    browser.wait_until("document.body.textContent.includes('Inés Tarde')").await;
    accessible(&browser, "the not-served list").await;
    browser.click("form[action$='/rebook'] button").await;
    browser.wait_until("document.querySelector('p.notice') && document.querySelector('p.notice').textContent.includes('New appointment')").await;
    accessible(&browser, "the new appointment").await;
    browser.goto(&format!("{base}/staff")).await;
    browser.staff_sign_out().await;

    // The auditor: the fee report first, the receipt in its CSV, and the trail that holds.
    browser.staff_sign_in(&base, "the.auditor").await;
    assert_eq!(text(&browser.run("return document.location.pathname").await), "/staff/reports");
    assert!(!browser.text("header").await.contains("Window"), "the clerk's window left with the clerk");
    accessible(&browser, "the fee report").await;
    // Yesterday's report (the form's GET, as the auditor's dates make it).
    browser.goto(&format!("{base}/staff/reports?post=MEX&from=2026-12-08&to=2026-12-08")).await;
    let csv = browser
        .run("return document.querySelector(\"#downloads a[href*='format=csv']\").getAttribute('href')")
        .await;
    let (status, _, body) = browser.fetch(&text(&csv)).await;
    assert_eq!(status, 200);
    assert!(body.contains(&receipt), "the day's receipt is in the report");
    browser.goto(&format!("{base}/staff/audit?username=mex.clerk")).await;
    assert!(browser.text("#check").await.contains("The trail holds"));
    let trail = browser.text("main table").await;
    assert!(trail.contains("receipt.issued") && trail.contains("mex.clerk (clerk)"), "{trail}");
    accessible(&browser, "the audit log").await;
    browser.screenshot("day-auditor-audit-log").await;
    app.stop().await;
}
