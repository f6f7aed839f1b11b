//! The papers handed over at the window besides the receipt: the tracking slip of each
//! document recorded (its QR code read back from a rendered image, as a phone would) and the
//! queue ticket of a check-in or walk-in; who may print them; the pages that offer them; and
//! the tracking page the slip's QR code opens.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::documents::{at_window, notarial_job, record, renewal};
use crate::helpers::{assert_problem, spawn_on, Reply, TestApp, TestDb};
use crate::pages::{page, post_form, staff_session};
use crate::papers;

const PUBLIC_URL: &str = "https://citas.example.gov";

async fn papers_app() -> (TestApp, TestDb, String) {
    let db = TestDb::fresh();
    let app = spawn_on(
        &db,
        &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2"), ("CONSULAR_DESK_PUBLIC_URL", PUBLIC_URL)],
    )
    .await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    (app, db, clerk)
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// A PDF reply checked as every paper is (`crate::papers::check`: valid, titled, in a
/// language, no words on top of each other or off the page, a PNG left to look at); its words
/// (one space between each), and the directory and file it was written to.
fn pdf(reply: &Reply, name: &str) -> (String, tempfile::TempDir, PathBuf) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.content_type, "application/pdf");
    let dir = tempfile::tempdir().expect("dir");
    let (file, words) = papers::check(dir.path(), name, &reply.bytes, "en-US");
    (words.split_whitespace().collect::<Vec<_>>().join(" "), dir, file)
}

/// The QR code of the PDF's first page, rendered at 150 dpi and decoded.
fn qr_of(name: &str, file: &Path) -> String {
    papers::scan(&papers::render(&format!("{name}-150dpi"), file, 150)).join("\n")
}

#[actix_web::test]
async fn a_recorded_document_prints_a_slip_whose_qr_code_opens_its_tracking_page() {
    if !papers::tools() {
        return;
    }
    let (app, _db, clerk) = papers_app().await;
    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let r = record(&app, &clerk, &visit, &renewal("José María", "Núñez Peña")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let number = text(&r.body, "tracking_number");

    let slip = app.get(&format!("/api/v1/staff/documents/{number}/slip.pdf"), Some(&clerk)).await;
    let (words, _dir, path) = pdf(&slip, "tracking-slip");
    for expected in [number.as_str(), "José María Núñez Peña", "Passport (DS-82)", "Tracking slip", "UTC"]
    {
        assert!(words.contains(expected), "{expected:?} in {words}");
    }
    assert!(words.contains("surname on the document"), "{words}");
    let address = format!("{PUBLIC_URL}/track?number={number}");
    assert_eq!(qr_of("tracking-slip", &path), address);

    // The address opens the tracking form with the number filled in and no error yet.
    let landed = page(&app, &format!("/track?number={number}"), &[]).await;
    assert_eq!(landed.status, 200, "{}", landed.text);
    assert!(landed.text.contains(&format!("value=\"{number}\"")), "{}", landed.text);
    assert!(!landed.text.contains("aria-invalid"), "{}", landed.text);
    // With the surname, the same form finds it.
    let found = page(&app, &format!("/track?number={number}&surname=nunez%20pena"), &[]).await;
    assert_eq!(found.status, 200, "{}", found.text);

    // A notarial job's slip names its first signer, the one whose surname is asked.
    let notarial_visit = at_window(&app, &clerk, "notarial").await;
    let r = record(&app, &clerk, &notarial_visit, &notarial_job(true)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let notarial = text(&r.body, "tracking_number");
    let slip = app.get(&format!("/api/v1/staff/documents/{notarial}/slip.pdf"), Some(&clerk)).await;
    let (words, _dir, _) = pdf(&slip, "tracking-slip-notarial");
    assert!(words.contains("José Núñez") && words.contains("Notarial service"), "{words}");

    // Staff of the post print it, auditors too; another post's clerk finds no such document.
    let auditor = app.staff_token("mex.auditor", "auditor", Some("MEX")).await;
    let path = format!("/api/v1/staff/documents/{number}/slip.pdf");
    assert_eq!(app.get(&path, Some(&auditor)).await.status, 200);
    let elsewhere = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    assert_problem(&app.get(&path, Some(&elsewhere)).await, 404, "not_found");
    assert_problem(
        &app.get(&format!("/api/v1/staff/documents/{number}"), Some(&elsewhere)).await,
        404,
        "not_found",
    );
    assert_problem(&app.get(&path, None).await, 401, "missing_token");
    let applicant = app.applicant_token("ana@example.mx").await;
    assert_problem(&app.get(&path, Some(&applicant)).await, 403, "public_token_not_staff");
    let unknown = "/api/v1/staff/documents/7KQM-4XPT-9ABCD/slip.pdf";
    assert_problem(&app.get(unknown, Some(&clerk)).await, 404, "not_found");
    app.stop().await;
}

#[actix_web::test]
async fn a_checked_in_visit_or_walk_in_prints_its_ticket_and_a_booked_one_has_none_yet() {
    if !papers::tools() {
        return;
    }
    let (app, _db, clerk) = papers_app().await;
    let body = json!({"service": "crba", "kind": "emergency", "reason": "lost_passport_travel_72h", "note": "travel tomorrow", "applicant": {"given_names": "Ana", "surname": "Ruiz"}});
    let walked = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &body).await;
    assert_eq!(walked.status, 201, "{}", walked.body);
    let (reference, ticket) = (text(&walked.body, "reference"), text(&walked.body, "ticket"));

    let path = format!("/api/v1/staff/appointments/{reference}/ticket.pdf");
    let (words, _dir, file) = pdf(&app.get(&path, Some(&clerk)).await, "queue-ticket");
    assert!(words.contains(&ticket), "{ticket} in {words}");
    for expected in
        ["Watch the screen for your number", "Esté atento a la pantalla", "UTC", "CRBA", "Mexico City"]
    {
        assert!(words.contains(expected), "{expected:?} in {words}");
    }
    assert!(!words.contains("Ruiz"), "no names on a ticket: {words}");
    // 80 mm wide, and far shorter than a sheet.
    let info = papers::pdfinfo(&file);
    let size = info.lines().find(|l| l.starts_with("Page size:")).unwrap_or_default().to_string();
    let points: Vec<f32> = size.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!((points[0] - 226.77).abs() < 0.1 && points[1] < 340.0, "{size}");

    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let booked = app.soon_appointment(&clerk, "MEX", "passport-renewal").await;
    let booked_path = format!("/api/v1/staff/appointments/{booked}/ticket.pdf");
    assert_problem(&app.get(&booked_path, Some(&clerk)).await, 409, "invalid_transition");
    let r =
        app.post(&format!("/api/v1/staff/appointments/{booked}/check-in"), Some(&clerk), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (words, _dir, _) = pdf(&app.get(&booked_path, Some(&clerk)).await, "queue-ticket-booked");
    assert!(words.contains(&text(&r.body, "ticket")) && words.contains("Passport renewal"), "{words}");

    let elsewhere = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    assert_problem(&app.get(&path, Some(&elsewhere)).await, 404, "not_found");
    let unbound = app.staff_token("all.supervisor", "supervisor", None).await;
    assert_eq!(app.get(&path, Some(&unbound)).await.status, 200);
    assert_problem(&app.get(&path, None).await, 401, "missing_token");
    let applicant = app.applicant_token("ana@example.mx").await;
    assert_problem(&app.get(&path, Some(&applicant)).await, 403, "public_token_not_staff");
    assert_problem(
        &app.get("/api/v1/staff/appointments/nothing/ticket.pdf", Some(&clerk)).await,
        404,
        "not_found",
    );
    app.stop().await;
}

#[actix_web::test]
async fn the_pages_offer_the_ticket_after_a_check_in_and_the_slip_beside_each_document() {
    if !papers::tools() {
        return;
    }
    let (app, _db, clerk) = papers_app().await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let booked = app.soon_appointment(&clerk, "MEX", "passport-renewal").await;
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;

    let checked =
        post_form(&app, &format!("/staff/visits/{booked}/check-in"), &clerks, &format!("csrf={token}")).await;
    assert_eq!(checked.status, 303, "{}", checked.text);
    let to = checked.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(to, format!("/staff?post=MEX&ticket={booked}"));
    let board = page(&app, &to, &[("Cookie", &clerks)]).await;
    let ticket_page = format!("/staff/visits/{booked}/ticket.pdf");
    assert!(board.text.contains("Print ticket") && board.text.contains(&ticket_page), "{}", board.text);
    pdf(&page(&app, &ticket_page, &[("Cookie", &clerks)]).await, "queue-ticket-page");
    assert_eq!(page(&app, &ticket_page, &[]).await.status, 303, "signed out: to the sign-in page");

    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let r = record(&app, &clerk, &visit, &renewal("Seán", "O'Brien")).await;
    let number = text(&r.body, "tracking_number");
    let documents = format!("/staff/visits/{visit}/documents?recorded={number}");
    let listed = page(&app, &documents, &[("Cookie", &clerks)]).await;
    let slip_page = format!("/staff/documents/{number}/slip.pdf");
    assert!(
        listed.text.contains("Print tracking slip") && listed.text.contains(&slip_page),
        "{}",
        listed.text
    );
    assert!(listed.text.contains("role=\"status\""), "the just-recorded notice: {}", listed.text);
    let (words, _dir, _) = pdf(&page(&app, &slip_page, &[("Cookie", &clerks)]).await, "tracking-slip-page");
    assert!(words.contains(&number), "{words}");
    app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let (gdl, _, _) = staff_session(&app, "gdl.clerk").await;
    assert_eq!(page(&app, &slip_page, &[("Cookie", &gdl)]).await.status, 404);
    app.stop().await;
}
