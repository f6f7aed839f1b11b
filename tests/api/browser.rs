//! The pages in a real browser: headless Chromium driven through WebDriver (Debian's
//! `chromium` and `chromium-driver`), spoken to directly with the test client's HTTP (the
//! protocol is a handful of JSON calls). axe-core, injected into each main page, must find no
//! serious or critical violation. Screenshots go to `target/screenshots/`.
//!
//! Without chromedriver the tests skip with one line; with `CONSULAR_DESK_REQUIRE_BROWSER=1`
//! (as `.ci/run` sets) a missing browser or axe-core fails them instead.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_on, TestApp, TestDb};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn required() -> bool {
    std::env::var("CONSULAR_DESK_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

fn chromedriver() -> Option<PathBuf> {
    let path =
        PathBuf::from(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()));
    path.exists().then_some(path)
}

/// axe-core's script: `AXE_CORE_JS`, else where `.ci/run` installs it.
fn axe_source() -> Option<String> {
    let path = std::env::var("AXE_CORE_JS").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js")
    });
    std::fs::read_to_string(path).ok()
}

/// A WebDriver session on a chromedriver of its own, closed when dropped.
pub(crate) struct Browser {
    driver: Child,
    client: awc::Client,
    session: String,
    base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the session first: chromedriver then closes Chromium and every process it
        // started. Killing chromedriver alone leaves them running; they piled up to 1 400
        // processes and 20 GB on one machine until browser tests failed for want of memory.
        if !self.session.is_empty() {
            let _ = end_session(&self.base, &self.session);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `DELETE /session/{id}`, synchronously (a `Drop` can't await; this also runs while a failed
/// test unwinds).
fn end_session(base: &str, session: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "DELETE /session/{session} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(())
}

impl Browser {
    /// Starts Chromium asking for `languages` (Accept-Language); `None` (after one line on
    /// stderr) when this machine has no chromedriver and the browser isn't required.
    pub(crate) async fn start(languages: &str) -> Option<Browser> {
        let Some(driver_path) = chromedriver() else {
            assert!(!required(), "CONSULAR_DESK_REQUIRE_BROWSER=1 but there is no chromedriver");
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                eprintln!(
                    "consular-desk tests: browser tests skipped (no /usr/bin/chromedriver; \
                     apt-get install chromium chromium-driver)"
                )
            });
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let client = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = match client.get(format!("{base}/status")).send().await {
                Ok(mut r) => r.json::<Value>().await.ok().is_some_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver not ready in 20 s");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", format!("--lang={}", languages.split(',').next().unwrap_or("en"))],
                "prefs": {"intl.accept_languages": languages},
            },
        }}});
        let mut browser = Browser { driver, client, session: String::new(), base };
        let created = browser.call("POST", "/session", Some(capabilities)).await;
        browser.session = created["sessionId"].as_str().expect("a session").to_string();
        Some(browser)
    }

    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body).await {
            Ok(value) => value,
            Err(reply) => panic!("WebDriver {method} {path}: {reply}"),
        }
    }

    /// A WebDriver command's value, or its error (a script run while a page is loading).
    pub(crate) async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let request = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        let mut response = match body {
            Some(body) => request.send_json(&body).await,
            None if method == "POST" => request.send_json(&json!({})).await,
            None => request.send().await,
        }
        .expect("WebDriver answers");
        let reply: Value = response.json().limit(64 << 20).await.expect("WebDriver JSON");
        if response.status().is_success() {
            Ok(reply["value"].clone())
        } else {
            Err(reply)
        }
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url}))).await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let found = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css}))).await;
        found[ELEMENT].as_str().expect("an element").to_string()
    }

    pub(crate) async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call("POST", &format!("/element/{element}/click"), None).await;
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call("POST", &format!("/element/{element}/clear"), None).await;
        self.call("POST", &format!("/element/{element}/value"), Some(json!({"text": text}))).await;
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call("GET", &format!("/element/{element}/text"), None).await.as_str().unwrap_or("").to_string()
    }

    /// Waits (up to 10 s) until the page makes `condition` true: a click that submits a form
    /// can return before the next page has loaded.
    pub(crate) async fn wait_until(&self, condition: &str) {
        let started = Instant::now();
        let script = json!({"script": format!("return !!({condition})"), "args": []});
        while self.try_call("POST", "/execute/sync", Some(script.clone())).await != Ok(Value::Bool(true)) {
            assert!(started.elapsed() < Duration::from_secs(10), "waited 10 s for {condition}");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn run(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": script, "args": []}))).await
    }

    /// Presses keys on whatever has the focus (`\u{E004}` is Tab, `\u{E007}` Enter).
    pub(crate) async fn press(&self, keys: &str) {
        let mut actions = Vec::new();
        for key in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": key.to_string()}));
            actions.push(json!({"type": "keyUp", "value": key.to_string()}));
        }
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.call("POST", "/actions", Some(body)).await;
    }

    pub(crate) async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self.call("GET", "/screenshot", None).await;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap_or("")).expect("PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), bytes).expect("screenshot written");
    }

    /// axe-core's serious and critical violations on the page, as `rule: selector` lines.
    pub(crate) async fn accessibility_problems(&self) -> Vec<String> {
        let Some(axe) = axe_source() else {
            assert!(!required(), "CONSULAR_DESK_REQUIRE_BROWSER=1 but axe-core is not installed");
            return Vec::new();
        };
        // Injected the way WebDriver runs scripts, which the page's CSP doesn't govern.
        self.run(&format!("{axe}\n;return true;")).await;
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .flatMap(v => v.nodes.map(n => v.id + ': ' + n.target.join(' '))))).catch(e => done(['axe failed: ' + e]));";
        let found = self.call("POST", "/execute/async", Some(json!({"script": script, "args": []}))).await;
        found.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
    }
}

pub(crate) async fn site() -> (TestApp, TestDb) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    (app, db)
}

#[actix_web::test]
async fn a_spanish_visitor_reads_the_home_page_in_spanish_and_switches_to_english() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let (app, _db) = site().await;
    browser.goto(&format!("{}/", app.address)).await;
    assert_eq!(browser.run("return document.documentElement.lang").await, "es");
    assert!(browser.text("h1").await.contains("Embajada"), "a Spanish heading");
    let main = browser.text("main").await;
    assert!(main.contains("50.00 USD") && !main.contains("US$"), "money the Spanish way");
    browser.screenshot("home-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "home page, Spanish");

    // Keyboard only: the first Tab reaches the skip link, Enter moves to the content.
    browser.press("\u{E004}").await;
    assert_eq!(browser.run("return document.activeElement.className").await, "skip");
    browser.press("\u{E007}").await;
    assert_eq!(browser.run("return document.activeElement.id").await, "main");

    browser.click("a[hreflang=en]").await;
    browser.wait_until("document.documentElement.lang === 'en'").await;
    assert_eq!(browser.run("return document.documentElement.lang").await, "en");
    assert!(browser.text("main").await.contains("US$"), "money the English way");
    // Remembered: the next page is in English although the browser asks for Spanish.
    browser.goto(&format!("{}/track", app.address)).await;
    assert_eq!(browser.text("h1").await, "Track a document");
    browser.screenshot("track-en").await;

    // The check can fail: an image without a text alternative is a critical violation.
    browser.goto("data:text/html,<html lang=en><title>t</title><img src=x.png>").await;
    let problems = browser.accessibility_problems().await;
    if axe_source().is_some() {
        assert!(problems.iter().any(|p| p.starts_with("image-alt")), "{problems:?}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn tracking_in_the_browser_shows_errors_by_their_fields_and_a_found_document() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let (app, _db) = site().await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let visit = crate::documents::at_window(&app, &clerk, "passport-renewal").await;
    let recorded =
        crate::documents::record(&app, &clerk, &visit, &crate::documents::renewal("Ana", "Núñez")).await;
    let number = recorded.body["tracking_number"].as_str().expect("a tracking number").to_string();

    browser.goto(&format!("{}/track", app.address)).await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.getElementById('number-error')").await;
    // Both fields empty: each says so, tied to its field.
    let described =
        browser.run("return document.getElementById('number').getAttribute('aria-describedby')").await;
    assert_eq!(described, "number-error");
    assert_eq!(
        browser.run("return document.getElementById('surname').getAttribute('aria-invalid')").await,
        "true"
    );
    browser.screenshot("track-errors-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "tracking form with errors");

    browser.type_into("#number", &number).await;
    browser.type_into("#surname", "nunez").await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.querySelector('[role=status]')").await;
    assert!(browser.text("[role=status]").await.contains("Recibido"), "the status in Spanish");
    browser.screenshot("track-found-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "a found document");

    browser.type_into("#surname", "Ruiz").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_until("document.location.search.includes('Ruiz') && document.querySelector('[role=status]')")
        .await;
    assert!(browser.text("[role=status]").await.contains("Ningún documento"));
    app.stop().await;
}

#[actix_web::test]
async fn an_applicant_registers_in_spanish_and_reaches_their_appointments() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let (app, _db) = site().await;
    browser.goto(&format!("{}/register", app.address)).await;
    assert_eq!(browser.text("h1").await, "Crear una cuenta");
    browser.click("button[type=submit]").await;
    browser.wait_until("document.getElementById('email-error')").await;
    browser.screenshot("register-errors-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "registration with errors");
    browser.type_into("#full_name", "Ana Núñez").await;
    browser.type_into("#email", "ana@example.mx").await;
    browser.type_into("#password", "una frase larga de acceso").await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.location.pathname === '/my'").await;
    assert_eq!(browser.text("h1").await, "Mis citas");
    assert!(browser.text("main").await.contains("Ana Núñez"));
    browser.screenshot("my-appointments-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "my appointments");
    browser.click("form[action='/sign-out'] button").await;
    browser.wait_until("document.location.pathname === '/'").await;
    browser.goto(&format!("{}/my", app.address)).await;
    assert_eq!(browser.run("return document.location.pathname").await, "/sign-in", "signed out");
    app.stop().await;
}

#[actix_web::test]
async fn an_applicant_books_a_slot_in_spanish_and_downloads_the_confirmation() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let (app, _db) = site().await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    app.applicant_token("ana@example.mx").await;

    browser.goto(&format!("{}/sign-in", app.address)).await;
    browser.type_into("#email", "ana@example.mx").await;
    browser.type_into("#password", "applicant passphrase").await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.location.pathname === '/my'").await;
    browser.click("a[href='/book']").await;
    browser.wait_until("document.location.pathname === '/book'").await;
    browser.click("#service option[value='passport-renewal']").await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.location.pathname === '/book/slots'").await;
    assert_eq!(browser.text("h1").await, "Elija un horario");
    browser.screenshot("book-slots-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "choosing a time");
    browser.click("input[name=slot_id]").await;
    browser.type_into("#given_1", "Ana").await;
    browser.type_into("#surname_1", "Núñez").await;
    browser.click("form[action='/book'] button[type=submit]").await;
    browser.wait_until("document.location.pathname.startsWith('/my/')").await;
    assert_eq!(browser.text("h1").await, "Su cita");
    let reference = browser.text("[role=status] strong").await;
    assert_eq!(reference.len(), 11, "a reference like K7Q-M4X-PT9: {reference}");
    browser.screenshot("appointment-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the appointment");

    // The confirmation link gives the PDF, with the session the page has.
    let script = "const done = arguments[arguments.length - 1];
        fetch(document.querySelector('a[href$=\"confirmation.pdf\"]').href)
            .then(r => r.arrayBuffer().then(b => done([r.status, r.headers.get('content-type'), b.byteLength])))
            .catch(e => done(['failed', String(e), 0]));";
    let got = browser.call("POST", "/execute/async", Some(json!({"script": script, "args": []}))).await;
    assert_eq!((got[0].clone(), got[1].clone()), (json!(200), json!("application/pdf")), "{got}");
    assert!(got[2].as_u64().unwrap_or(0) > 1_000, "a real PDF: {got}");
    app.stop().await;
}

impl Browser {
    pub(crate) async fn staff_sign_in(&self, base: &str, username: &str) {
        self.goto(&format!("{base}/staff/sign-in")).await;
        self.type_into("#username", username).await;
        self.type_into("#password", crate::helpers::STAFF_PASSWORD).await;
        self.click("button[type=submit]").await;
        self.wait_until("document.location.pathname !== '/staff/sign-in'").await;
    }

    pub(crate) async fn staff_sign_out(&self) {
        self.click("form[action='/staff/sign-out'] button").await;
        self.wait_until("document.location.pathname === '/staff/sign-in'").await;
    }

    /// Fetches `href` with the page's cookies: (status, content type, body as text).
    pub(crate) async fn fetch(&self, href: &str) -> (u64, String, String) {
        let script = "const done = arguments[arguments.length - 1];
            fetch(arguments[0]).then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])))
                .catch(e => done([0, 'failed', String(e)]));";
        let got = self.call("POST", "/execute/async", Some(json!({"script": script, "args": [href]}))).await;
        (
            got[0].as_u64().unwrap_or(0),
            got[1].as_str().unwrap_or("").into(),
            got[2].as_str().unwrap_or("").into(),
        )
    }
}

#[actix_web::test]
async fn a_clerk_checks_in_calls_and_charges_a_supervisor_voids_and_an_auditor_downloads_matching_totals() {
    let Some(browser) = Browser::start("en-US,en").await else { return };
    let (app, _db) = site().await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let (reference, day) = app.soon_appointment_on(&clerk, "MEX", "passport-renewal").await;

    // The clerk: check in, call to window 1, record the fee, print the receipt.
    browser.staff_sign_in(&app.address, "mex.clerk").await;
    browser.goto(&format!("{}/staff/register", app.address)).await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the notarial register");
    // The slot's own day: late in the evening the soonest slot is tomorrow's.
    browser.goto(&format!("{}/staff?date={day}", app.address)).await;
    browser.screenshot("staff-board").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the day board");
    browser.click(&format!("form[action='/staff/visits/{reference}/check-in'] button")).await;
    browser
        .wait_until("document.querySelector('#board tbody td:nth-child(2)').textContent.trim() !== ''")
        .await;
    browser.type_into("#window", "1").await;
    browser.click("form[action='/staff/call-next'] button").await;
    browser.wait_until(&format!("document.querySelector(\"a[href='/staff/visits/{reference}/fee']\")")).await;
    // The waiting-room screen shows the ticket at its window.
    browser.goto(&format!("{}/display/MEX", app.address)).await;
    assert!(browser.text("tbody").await.contains('1'), "the window");
    browser.screenshot("waiting-room").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the waiting-room screen");
    browser.goto(&format!("{}/staff", app.address)).await;
    browser.click(&format!("a[href='/staff/visits/{reference}/fee']")).await;
    browser.wait_until("document.getElementById('fee_1')").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the fee form");
    browser.click("#fee_1 option[value='passport-book-adult']").await;
    browser.click("#fee_2 option[value='passport-execution']").await;
    browser.click("#method option[value='card']").await;
    browser.click("form[action$='/fee'] button[type=submit]").await;
    browser.wait_until("document.getElementById('review-total')").await;
    browser.click("button[value=confirm]").await;
    browser.wait_until("document.location.pathname.startsWith('/staff/receipts/')").await;
    assert_eq!(browser.text("#total").await, "USD 85.00");
    let number = browser
        .run("return document.location.pathname.split('/').pop()")
        .await
        .as_str()
        .unwrap_or("")
        .to_string();
    browser.screenshot("staff-receipt").await;
    let (status, kind, _) = browser.fetch(&format!("/staff/receipts/{number}/receipt.pdf")).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    // A second fee through the API, so the report has something left after the void.
    let second = json!({"appointment_reference": reference, "items": [{"fee_code": "passport-execution", "quantity": 1}], "payment": {"method": "cash_usd"}, "confirm_repeat": true});
    assert_eq!(app.post("/api/v1/staff/fees", Some(&clerk), &second).await.status, 201);
    browser.staff_sign_out().await;

    // The supervisor voids the receipt.
    browser.staff_sign_in(&app.address, "mex.supervisor").await;
    browser.goto(&format!("{}/staff/receipts/{number}", app.address)).await;
    browser.type_into("#reason", "charged twice").await;
    browser.click("form[action$='/void'] button").await;
    browser.wait_until("document.querySelector('[role=status]')").await;
    assert!(browser.text("[role=status]").await.contains("charged twice"));
    browser.screenshot("staff-voided").await;
    browser.click("a[href='/staff/cash']").await;
    browser.wait_until("document.getElementById('rate_value')").await;
    browser.type_into("#rate_value", "17.25").await;
    browser.click("form[action='/staff/cash/rate'] button").await;
    browser.wait_until("document.getElementById('rate').textContent.includes('17.250000')").await;
    browser.screenshot("staff-cash").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the cash page");
    browser.staff_sign_out().await;

    // The auditor downloads the CSV: its rows add up to the report's net.
    browser.staff_sign_in(&app.address, "auditor").await;
    let today = app.now().date_naive();
    let (from, to) = (today - chrono::Duration::days(1), today + chrono::Duration::days(1));
    browser.goto(&format!("{}/staff/reports?post=MEX&from={from}&to={to}", app.address)).await;
    browser.screenshot("staff-reports").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the reports page");
    let href = browser.run("return document.querySelector('#downloads a').getAttribute('href')").await;
    let (status, kind, csv) = browser.fetch(href.as_str().unwrap_or("")).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let records = crate::reports::csv_records(&csv);
    let at = records[0].iter().position(|h| h == "amount_cents").expect("an amount column");
    let net: i64 = records[1..].iter().map(|r| r[at].parse::<i64>().expect("cents")).sum();
    let json =
        app.get(&format!("/api/v1/audit/fee-report?post=MEX&from={from}&to={to}"), Some(&auditor)).await;
    assert_eq!(
        json.body["totals"]["all"]["net_cents"],
        json!(net),
        "the CSV's rows add up to the report's net"
    );
    assert_eq!(net, 3_500, "the voided 85 dollars are out, the 35 stay");
    browser.click("a[href='/staff/audit']").await;
    browser.wait_until("document.getElementById('check')").await;
    assert!(browser.text("#check").await.starts_with("The trail holds"));
    browser.screenshot("staff-audit").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the audit log");
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_opens_an_account_from_the_accounts_page() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let (app, _db) = site().await;
    app.staff_token("head.admin", "admin", None).await;
    browser.staff_sign_in(&app.address, "head.admin").await;
    browser.goto(&format!("{}/staff/admin/accounts", app.address)).await;
    assert_eq!(browser.text("h1").await, "Cuentas del personal");
    browser.type_into("#new_username", "gdl.clerk").await;
    browser.type_into("#new_password", "corta").await;
    browser.click("#new_post option[value='GDL']").await;
    browser.click("form[action='/staff/admin/accounts'] button").await;
    // Too short: said beside the password, in Spanish, with what was typed kept.
    browser.wait_until("document.querySelector('#new_password-error')").await;
    let said = browser.text("#new_password-error").await;
    assert!(said.contains("10") && !said.contains("password:"), "{said}");
    let kept = browser.run("return [document.querySelector('#new_username').value, document.querySelector('#new_post').value]").await;
    assert_eq!(kept, json!(["gdl.clerk", "GDL"]));
    assert_eq!(
        browser.accessibility_problems().await,
        Vec::<String>::new(),
        "the accounts page with an error"
    );
    browser.type_into("#new_password", "una frase larga de acceso").await;
    browser.click("form[action='/staff/admin/accounts'] button").await;
    browser.wait_until("document.body.textContent.includes('gdl.clerk')").await;
    browser.screenshot("staff-accounts-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the accounts page");
    for path in ["/staff/admin/schedules", "/staff/admin/closures", "/staff/admin/fees", "/staff/admin/mail"]
    {
        browser.goto(&format!("{}{path}", app.address)).await;
        assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "{path}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn an_applicant_pre_fills_a_childs_passport_in_spanish_and_a_clerk_records_a_notarial_job() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let (app, _db) = site().await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-new").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slot = app.slots("MEX", "passport-new").await[2]["slot_id"].as_i64().expect("a slot");
    let party = json!([
        {"given_names": "Ana", "surname": "Núñez", "date_of_birth": "1990-06-15"},
        {"given_names": "Sofía", "surname": "Núñez", "date_of_birth": "2015-03-02"},
    ]);
    let booked =
        app.post("/api/v1/appointments", Some(&ana), &json!({"slot_id": slot, "applicants": party})).await;
    let reference = booked.body["reference"].as_str().expect("a booking").to_string();

    browser.goto(&format!("{}/sign-in", app.address)).await;
    browser.type_into("#email", "ana@example.mx").await;
    browser.type_into("#password", "applicant passphrase").await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.location.pathname === '/my'").await;
    browser.goto(&format!("{}/my/{reference}", app.address)).await;
    browser.click(&format!("a[href='/my/{reference}/intake']")).await;
    browser.wait_until("document.location.pathname.endsWith('/intake')").await;
    assert_eq!(browser.text("h1").await, "Solicitud de pasaporte (DS-11)");
    browser.click("[name='items[1].identity_document.kind'] option[value='foreign_passport']").await;
    browser.type_into("[name='items[1].identity_document.number']", "G12345678").await;
    browser.click("form[action$='/intake'] button[type=submit]").await;
    browser.wait_until("document.getElementById('items[1].minor_consent-error')").await;
    assert!(browser.text("main").await.contains("Un menor de 16 años necesita"), "the rule, in Spanish");
    browser.screenshot("intake-errors-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the pre-fill form with errors");
    browser.click("[name='items[1].minor_consent'] option[value='ds3053']").await;
    browser.type_into("[name='items[1].identity_document.number']", "G12345678").await;
    browser.click("form[action$='/intake'] button[type=submit]").await;
    browser.wait_until(&format!("document.location.pathname === '/my/{reference}'")).await;
    let intake = app.get(&format!("/api/v1/appointments/{reference}/intake"), Some(&ana)).await.body;
    // Ana's section held only what the booking gave, so only Sofía's application was saved.
    assert_eq!(intake["items"].as_array().map(Vec::len), Some(1), "{intake}");
    assert_eq!(intake["items"][0]["minor_consent"], "ds3053", "{intake}");

    // A clerk records a notarial job at the window, adding a signer row without JavaScript.
    let visit = crate::documents::at_window(&app, &clerk, "notarial").await;
    browser.staff_sign_in(&app.address, "mex.clerk").await;
    browser.goto(&format!("{}/staff/visits/{visit}/intake", app.address)).await;
    browser.click("[name='act'] option[value='jurat']").await;
    browser.type_into("[name='document_title']", "Declaración de residencia").await;
    browser.type_into("[name='pages']", "2").await;
    browser.type_into("[name='certificates']", "1").await;
    browser.click("button[name='add_signer']").await;
    browser.wait_until("document.querySelector(\"[name='signers[2].given_names']\")").await;
    browser.click("[name='signers[0].id_proof.kind'] option[value='national_id']").await;
    browser.type_into("[name='signers[0].id_proof.number']", "ABCD123456").await;
    browser.screenshot("staff-notarial-intake-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the window's notarial form");
    browser.click("form[action$='/intake'] > button[type=submit]").await;
    browser.wait_until("document.location.pathname.endsWith('/documents')").await;
    assert!(browser.text("main").await.contains("Concluido"), "a notarial job done at the window");
    browser.goto(&format!("{}/staff/register", app.address)).await;
    browser.click("a[href$='/correct']").await;
    browser.wait_until("document.location.pathname.endsWith('/correct')").await;
    browser.click("form[action$='/correct'] > button[type=submit]").await;
    browser.wait_until("document.getElementById('reason-error')").await;
    browser.screenshot("staff-register-correction-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "correcting a register entry");
    app.stop().await;
}
