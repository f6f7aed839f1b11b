//! Every paper a person is handed, made through the API and checked the way a person would
//! read it: each kind is valid (`qpdf --check`), declares its title and language, has no two
//! words printed on top of each other and nothing off the page (word boxes from
//! `pdftotext -bbox`), and its QR code decodes from the rendered image (`pdftoppm`, `zbarimg`),
//! a voided receipt's too. A PNG of every kind is left in `target/screenshots/` to look at.
//!
//! Needs poppler-utils, zbar-tools and qpdf; without them these tests say so and pass, unless
//! `CONSULAR_DESK_REQUIRE_PDF_TOOLS=1` (CI) makes the missing tools a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::documents::{at_window, record, renewal};
use crate::helpers::{person, spawn_on, TestApp, TestDb};

/// True when the tools are here; false (with a message) when they may be missing.
pub(crate) fn tools() -> bool {
    let found = ["pdftotext", "pdftoppm", "zbarimg", "qpdf"]
        .iter()
        .all(|tool| Command::new(tool).arg("-v").output().is_ok());
    if !found {
        let required = std::env::var("CONSULAR_DESK_REQUIRE_PDF_TOOLS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "CONSULAR_DESK_REQUIRE_PDF_TOOLS=1 but poppler-utils, zbar-tools or qpdf is missing"
        );
        eprintln!("papers: skipped, install poppler-utils, zbar-tools and qpdf to check the PDFs");
    }
    found
}

/// A printed word and its box, in points from the page's top-left.
#[derive(Debug)]
struct Word {
    page: usize,
    text: String,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

fn attribute(tag: &str, name: &str) -> f32 {
    let key = format!("{name}=\"");
    tag.split(&key)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f32::NAN)
}

/// Each page's size and words, from `pdftotext -bbox`.
fn layout(file: &Path) -> Vec<((f32, f32), Vec<Word>)> {
    let out = Command::new("pdftotext").arg("-bbox").arg(file).arg("-").output().expect("pdftotext runs");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pages = Vec::new();
    for chunk in html.split("<page ").skip(1) {
        let size = (attribute(chunk, "width"), attribute(chunk, "height"));
        let words = chunk
            .split("<word ")
            .skip(1)
            .map(|w| {
                let text = w.split('>').nth(1).and_then(|t| t.split("</word").next()).unwrap_or("");
                Word {
                    page: pages.len() + 1,
                    text: text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"),
                    x0: attribute(w, "xMin"),
                    y0: attribute(w, "yMin"),
                    x1: attribute(w, "xMax"),
                    y1: attribute(w, "yMax"),
                }
            })
            .collect();
        pages.push((size, words));
    }
    pages
}

/// No two words overlap (by more than a hair: boxes of neighbouring words may touch) and
/// every word lies within the page.
fn assert_laid_out(name: &str, file: &Path) -> String {
    let pages = layout(file);
    assert!(!pages.is_empty(), "{name}: no page");
    let mut all = String::new();
    for ((width, height), words) in &pages {
        for w in words {
            all.push_str(&w.text);
            all.push(' ');
            assert!(
                w.x0 >= 0.0 && w.y0 >= 0.0 && w.x1 <= *width && w.y1 <= *height,
                "{name}: {w:?} leaves the {width}×{height} page"
            );
        }
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                let across = a.x1.min(b.x1) - a.x0.max(b.x0);
                let down = a.y1.min(b.y1) - a.y0.max(b.y0);
                assert!(across <= 0.5 || down <= 0.5, "{name}, page {}: {a:?} and {b:?} overlap", a.page);
            }
        }
    }
    all
}

/// `qpdf --check` finds nothing wrong, and the document has a title and a language.
fn assert_valid(name: &str, file: &Path, lang: &str) {
    let out = Command::new("qpdf").arg("--check").arg(file).output().expect("qpdf runs");
    assert!(out.status.success(), "{name}: qpdf --check: {}", String::from_utf8_lossy(&out.stdout));
    let doc = lopdf::Document::load(file).expect("lopdf reads it");
    let catalog = doc.catalog().expect("catalog");
    let declared =
        catalog.get(b"Lang").and_then(|l| l.as_str()).map(|l| String::from_utf8_lossy(l).into_owned()).ok();
    assert_eq!(declared.as_deref(), Some(lang), "{name}: /Lang");
    let info = pdfinfo(file);
    assert!(info.lines().any(|l| l.starts_with("Title:") && l.len() > "Title:".len() + 8), "{name}: {info}");
}

pub(crate) fn pdfinfo(file: &Path) -> String {
    let out = Command::new("pdfinfo").arg(file).output().expect("pdfinfo runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Renders the first page at `dpi` to `target/screenshots/paper-{name}.png`.
pub(crate) fn render(name: &str, file: &Path, dpi: u32) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let stem = dir.join(format!("paper-{name}"));
    let out = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile", "-f", "1", "-l", "1"])
        .arg(file)
        .arg(&stem)
        .output()
        .expect("pdftoppm runs");
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    stem.with_extension("png")
}

/// What the QR codes on the rendered image say.
pub(crate) fn scan(image: &Path) -> Vec<String> {
    let out = Command::new("zbarimg").args(["-q", "--raw"]).arg(image).output().expect("zbarimg runs");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

/// Saves `bytes` as `name.pdf` in a scratch directory and checks it as a paper.
pub(crate) fn check(dir: &Path, name: &str, bytes: &[u8], lang: &str) -> (PathBuf, String) {
    assert!(
        bytes.starts_with(b"%PDF-"),
        "{name} is no PDF: {}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
    );
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, bytes).expect("write the PDF");
    assert_valid(name, &file, lang);
    let words = assert_laid_out(name, &file);
    let image = render(name, &file, 110);
    assert!(image.exists(), "{name}: no PNG");
    (file, words)
}

struct Desk {
    app: TestApp,
    _db: TestDb,
    clerk: String,
    supervisor: String,
}

async fn desk() -> Desk {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "3")]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    Desk { app, _db: db, clerk, supervisor }
}

/// A walk-in for a family whose payer has a long name: a visit to record fees against.
async fn visit(app: &TestApp, clerk: &str) -> String {
    let applicant = person("María de los Ángeles Guadalupe", "Fernández de Córdoba y Villaseñor-Echeverría");
    let body =
        json!({"service": "passport-new", "kind": "emergency", "reason": "arrest", "applicant": applicant});
    let r = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "walk-in: {}", r.body);
    r.body["reference"].as_str().unwrap_or_default().to_string()
}

fn every_line(reference: &str, payment: Value) -> Value {
    json!({
        "appointment_reference": reference,
        "items": [
            {"fee_code": "passport-book-adult", "quantity": 2},
            {"fee_code": "passport-book-security-surcharge", "quantity": 2},
            {"fee_code": "passport-execution", "quantity": 2},
            {"fee_code": "passport-card-adult", "quantity": 1},
        ],
        "payment": payment,
        "payer": "María de los Ángeles Guadalupe Fernández de Córdoba y Villaseñor-Echeverría",
    })
}

#[actix_web::test]
async fn every_receipt_prints_apart_and_its_qr_code_scans_even_when_void() {
    if !tools() {
        return;
    }
    let Desk { app, _db, clerk, supervisor } = desk().await;
    app.peso_rate_today(&clerk, &supervisor, 17_253_800).await;
    let scratch = tempfile::tempdir().expect("scratch dir");

    // A family's renewals recorded at the window, then paid: the receipt lists their numbers.
    let family = at_window(&app, &clerk, "passport-renewal").await;
    let mut numbers = Vec::new();
    for given in ["María de los Ángeles", "Santiago", "Ximena Guadalupe"] {
        let r = record(&app, &clerk, &family, &renewal(given, "Fernández de Córdoba y Villaseñor")).await;
        assert_eq!(r.status, 201, "record: {}", r.body);
        numbers.push(r.body["tracking_number"].as_str().unwrap_or_default().to_string());
    }
    let items = json!([
        {"fee_code": "passport-book-adult", "quantity": 3},
        {"fee_code": "passport-book-security-surcharge", "quantity": 3},
    ]);
    let body = json!({"appointment_reference": family, "items": items, "payment": {"method": "card"}});
    let r = app.post("/api/v1/staff/fees", Some(&clerk), &body).await;
    assert_eq!(r.status, 201, "fee: {}", r.body);
    let number = r.body["receipt_number"].as_str().unwrap_or_default();
    let pdf = app.get(&format!("/api/v1/staff/receipts/{number}/receipt.pdf"), Some(&clerk)).await;
    let (_, words) = check(scratch.path(), "receipt-with-documents", &pdf.bytes, "en-US");
    for tracking in &numbers {
        assert!(words.contains(tracking.as_str()), "the receipt lists {tracking}: {words}");
    }

    let payments = [
        ("cash_usd", json!({"method": "cash_usd"})),
        ("cash_local", json!({"method": "cash_local"})),
        ("card", json!({"method": "card"})),
        (
            "prepaid_online",
            json!({"method": "prepaid_online", "external_reference": "PAY-2026.12_000123456789"}),
        ),
        ("no_fee", json!({"method": "no_fee", "no_fee_basis": "passport_correction_within_one_year"})),
    ];
    let mut first = None;
    for (method, payment) in payments {
        let reference = visit(&app, &clerk).await;
        let r = app.post("/api/v1/staff/fees", Some(&clerk), &every_line(&reference, payment)).await;
        assert_eq!(r.status, 201, "{method}: {}", r.body);
        let number = r.body["receipt_number"].as_str().unwrap_or_default().to_string();
        let code = r.body["verification_code"].as_str().unwrap_or_default().to_string();
        let pdf = app.get(&format!("/api/v1/staff/receipts/{number}/receipt.pdf"), Some(&clerk)).await;
        assert_eq!(pdf.status, 200);
        let (_, words) = check(scratch.path(), &format!("receipt-{method}"), &pdf.bytes, "en-US");
        // The time prints to the minute with its offset, never with fractions of a second.
        assert!(words.contains("(UTC−06:00)"), "receipt-{method}: {words}");
        assert!(
            words.contains("passport-book-security-surcharge") || words.contains("passport-book-security-"),
            "{words}"
        );
        first.get_or_insert((number, code));
    }

    // The first receipt, before and after its void: the QR code holds the public check page.
    let (number, code) = first.expect("a receipt");
    let path = format!("/api/v1/staff/receipts/{number}/receipt.pdf");
    let wanted = format!("/receipts/verify/{number}?sig={code}");
    for (name, voided) in [("receipt-normal-300dpi", false), ("receipt-void", true)] {
        if voided {
            let body = json!({"reason": "Charged twice by mistake; the payer was refunded in cash at the window the same day."});
            let r =
                app.post(&format!("/api/v1/staff/receipts/{number}/void"), Some(&supervisor), &body).await;
            assert_eq!(r.status, 200, "void: {}", r.body);
        }
        let pdf = app.get(&path, Some(&clerk)).await;
        let (file, words) = check(scratch.path(), name, &pdf.bytes, "en-US");
        assert_eq!(words.contains("ANULADO"), voided, "{name}: {words}");
        if voided {
            assert!(words.contains("refunded"), "the reason prints: {words}");
        }
        let scanned = scan(&render(name, &file, 300));
        assert_eq!(scanned.len(), 1, "{name}: one QR code, got {scanned:?}");
        assert!(scanned[0].ends_with(&wanted) && !scanned[0].contains("/api/"), "{name}: {scanned:?}");
        // A phone sees the page at lower resolution too.
        assert_eq!(scan(&render(&format!("{name}-100dpi"), &file, 100)), scanned, "{name} at 100 dpi");
    }
}

#[actix_web::test]
async fn the_confirmation_prints_in_words_with_what_to_bring_and_fees_in_each_language() {
    if !tools() {
        return;
    }
    let Desk { app, _db, .. } = desk().await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-new").await;
    let ana = app.applicant_token("ana.papers@example.mx").await;
    let slots = app.slots("MEX", "passport-new").await;
    let slot = slots.last().expect("a slot")["slot_id"].clone();
    let family = [
        json!({"given_names": "María de los Ángeles", "surname": "Fernández de Córdoba y Villaseñor", "date_of_birth": "1988-03-04"}),
        json!({"given_names": "Santiago", "surname": "Fernández de Córdoba y Villaseñor", "date_of_birth": "2019-07-21"}),
    ];
    let r =
        app.post("/api/v1/appointments", Some(&ana), &json!({"slot_id": slot, "applicants": family})).await;
    assert_eq!(r.status, 201, "booking: {}", r.body);
    let reference = r.body["reference"].as_str().unwrap_or_default().to_string();
    let scratch = tempfile::tempdir().expect("scratch dir");
    for (lang, tag, words_wanted) in [
        (
            "en",
            "en-US",
            ["New passport", "Booked", "Paseo de la Reforma 305", "DS-3053", "USD 300.00", "Total to expect"],
        ),
        (
            "es",
            "es-MX",
            [
                "Pasaporte nuevo",
                "Reservada",
                "Paseo de la Reforma 305",
                "DS-3053",
                "USD 300.00",
                "Total estimado",
            ],
        ),
    ] {
        let pdf = app
            .get(&format!("/api/v1/appointments/{reference}/confirmation.pdf?lang={lang}"), Some(&ana))
            .await;
        assert_eq!(pdf.status, 200, "{}", pdf.text);
        let name = format!("confirmation-{lang}");
        let (file, words) = check(scratch.path(), &name, &pdf.bytes, tag);
        for wanted in words_wanted {
            assert!(words.contains(wanted), "{name} lacks {wanted:?}: {words}");
        }
        assert!(!words.contains("passport-new") && !words.contains("booked"), "{name} prints codes: {words}");
        assert!(words.contains(&format!("/my/{reference}")), "{name}: the address to cancel or change");
        assert_eq!(
            scan(&render(&name, &file, 150)),
            std::slice::from_ref(&reference),
            "{name}: the window scans the reference"
        );
    }
    let bad =
        app.get(&format!("/api/v1/appointments/{reference}/confirmation.pdf?lang=fr"), Some(&ana)).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_query"), "{}", bad.body);
}

#[actix_web::test]
async fn the_fee_report_prints_apart_with_its_times_in_the_post_zone() {
    if !tools() {
        return;
    }
    let Desk { app, _db, clerk, supervisor } = desk().await;
    let today = app.peso_rate_today(&clerk, &supervisor, 17_253_800).await;
    for payment in [
        json!({"method": "card"}),
        json!({"method": "cash_local"}),
        json!({"method": "prepaid_online", "external_reference": "PAY-000123456"}),
        json!({"method": "no_fee", "no_fee_basis": "us_government_business"}),
    ] {
        let reference = visit(&app, &clerk).await;
        let r = app.post("/api/v1/staff/fees", Some(&clerk), &every_line(&reference, payment)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let counted = json!([
        {"method": "cash_usd", "currency": "USD", "amount_cents": 0},
        {"method": "card", "currency": "USD", "amount_cents": 36_000},
        {"method": "cash_local", "currency": "MXN", "amount_cents": 100},
    ]);
    let body = json!({"counted": counted, "explanation": "Short: the pesos were counted twice."});
    let close = app.post("/api/v1/staff/posts/MEX/closeouts", Some(&clerk), &body).await;
    assert_eq!(close.status, 201, "close: {}", close.body);
    let id = close.body["id"].as_i64().unwrap_or_default();
    let signed = app
        .post(&format!("/api/v1/staff/posts/MEX/closeouts/{id}/sign"), Some(&supervisor), &json!({}))
        .await;
    assert_eq!(signed.status, 200, "sign: {}", signed.body);
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let path = format!("/api/v1/audit/fee-report?post=MEX&from={today}&to={today}&format=pdf");
    let pdf = app.get(&path, Some(&auditor)).await;
    assert_eq!(pdf.status, 200, "{}", pdf.text);
    let scratch = tempfile::tempdir().expect("scratch dir");
    let (_, words) = check(scratch.path(), "fee-report", &pdf.bytes, "en-US");
    assert!(words.contains("(UTC−06:00)") && !words.contains("UTC."), "{words}");
}
