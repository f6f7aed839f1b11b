//! Intake through the pages: the applicant pre-fills every form a service takes (one section
//! per person booked), the clerk records it at the window; each rule's error lands on its
//! field in the page's language, and another applicant, another post, an applicant's session
//! or a forged form token changes nothing.

use serde_json::{json, Value};

use crate::helpers::{spawn_on, TestApp, TestDb};
use crate::pages::{page, post_fields, staff_session, web_session};
use consular_desk::fees::receipts::Method;

async fn intake_app(service: &str) -> (TestApp, TestDb, String) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", service).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    (app, db, clerk)
}

fn issued_years_ago(years: i64) -> String {
    (crate::helpers::tuesday_10_mex().date_naive() - chrono::Duration::days(years * 365)).to_string()
}

/// The one-time token of the form at `path`, as a fresh rendering of the page carries it.
pub(crate) async fn once_of(app: &TestApp, path: &str, cookies: &str) -> String {
    let form = page(app, path, &[("Cookie", cookies)]).await;
    let marker = r#"name="once" value=""#;
    let at = form.text.find(marker).unwrap_or_else(|| panic!("a one-time token on {path}: {}", form.text));
    form.text[at + marker.len()..].split('"').next().unwrap_or("").to_string()
}

async fn saved_intake(app: &TestApp, token: &str, reference: &str) -> Value {
    app.get(&format!("/api/v1/appointments/{reference}/intake"), Some(token)).await.body
}

#[actix_web::test]
async fn an_applicant_pre_fills_a_childs_passport_application_with_the_parents_consent() {
    let (app, _db, _clerk) = intake_app("passport-new").await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slot = app.slots("MEX", "passport-new").await[2]["slot_id"].as_i64().expect("a slot");
    let party = json!([
        {"given_names": "Ana", "surname": "Núñez", "date_of_birth": "1990-06-15"},
        {"given_names": "Sofía", "surname": "Núñez", "date_of_birth": "2015-03-02"},
    ]);
    let booked =
        app.post("/api/v1/appointments", Some(&ana), &json!({"slot_id": slot, "applicants": party})).await;
    let reference = booked.body["reference"].as_str().expect("a booking").to_string();
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let path = format!("/my/{reference}/intake");

    let form = page(&app, &path, &[("Cookie", &cookies)]).await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains("DS-11"), "{}", form.text);
    assert!(
        form.text.contains(r#"name="items[1].applicant.given_names" type="text" value="Sofía""#),
        "each person booked has a section, started from the booking: {}",
        form.text
    );

    let mut fields = vec![
        ("csrf", token.as_str()),
        ("sections", "2"),
        ("items[0].applicant.given_names", "Ana"),
        ("items[0].applicant.surname", "Núñez"),
        ("items[0].applicant.date_of_birth", "1990-06-15"),
        ("items[0].identity_document.kind", "us_passport"),
        ("items[0].identity_document.number", "ZQXW 1234"),
        ("items[1].applicant.given_names", "Sofía"),
        ("items[1].applicant.surname", "Núñez"),
        ("items[1].applicant.date_of_birth", "2015-03-02"),
        ("items[1].identity_document.kind", "foreign_passport"),
        ("items[1].identity_document.number", "G12345678"),
        ("items[1].minor_consent", ""),
    ];
    let refused = post_fields(&app, &path, &cookies, &fields).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text.contains(r#"aria-describedby="items[1].minor_consent-error""#)
            && refused.text.contains("a child under 16 needs both parents present"),
        "the rule's error is on the child's consent: {}",
        refused.text
    );
    let spanish = post_fields(&app, &path, &format!("{cookies}; lang=es"), &fields).await;
    assert!(
        spanish.text.contains("Un menor de 16 años necesita a ambos padres presentes"),
        "{}",
        spanish.text
    );
    assert_eq!(saved_intake(&app, &ana, &reference).await["code"], "not_found", "nothing saved yet");

    fields.retain(|(name, _)| *name != "items[1].minor_consent");
    fields.push(("items[1].minor_consent", "ds3053"));
    let forged: Vec<(&str, &str)> =
        fields.iter().map(|&(n, v)| if n == "csrf" { (n, "forged") } else { (n, v) }).collect();
    assert_eq!(post_fields(&app, &path, &cookies, &forged).await.status, 403);
    assert_eq!(
        saved_intake(&app, &ana, &reference).await["code"],
        "not_found",
        "a forged form saves nothing"
    );

    let saved = post_fields(&app, &path, &cookies, &fields).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let intake = saved_intake(&app, &ana, &reference).await;
    assert_eq!(intake["items"].as_array().map(Vec::len), Some(2), "{intake}");
    assert_eq!(intake["items"][1]["minor_consent"], "ds3053");
    assert_eq!(intake["items"][0]["identity_document"]["number"]["masked"], "****1234");
    assert!(!intake.to_string().contains("ZQXW"), "the number is kept masked");

    let again = page(&app, &path, &[("Cookie", &cookies)]).await;
    assert!(again.text.contains("On file: ****1234"), "{}", again.text);
    assert!(again.text.contains(r#"<option value="ds3053" selected>"#), "{}", again.text);

    // Another applicant neither sees nor replaces it.
    app.applicant_token("bob@example.mx").await;
    let (bobs, bob_token) = web_session(&app, "bob@example.mx", "applicant passphrase").await;
    assert_eq!(page(&app, &path, &[("Cookie", &bobs)]).await.status, 404);
    let mut bob_fields = fields.clone();
    bob_fields[0] = ("csrf", bob_token.as_str());
    bob_fields.retain(|(name, _)| *name != "items[1].minor_consent");
    bob_fields.push(("items[1].minor_consent", "both_parents_present"));
    assert_eq!(post_fields(&app, &path, &bobs, &bob_fields).await.status, 404);
    assert_eq!(saved_intake(&app, &ana, &reference).await["items"][1]["minor_consent"], "ds3053");
    assert_eq!(page(&app, &path, &[]).await.status, 303, "signed out: to the sign-in page");
    app.stop().await;
}

/// A DS-82's fields under `prefix` (`items[0].` on the applicant's page, none at the window).
fn renewal(csrf: &str, prefix: &str, born: &str, issued: &str) -> Vec<(String, String)> {
    let mut fields = vec![("csrf".to_string(), csrf.to_string())];
    for (name, value) in [
        ("applicant.given_names", "Ana"),
        ("applicant.surname", "Núñez"),
        ("applicant.date_of_birth", born),
        ("previous_passport.number", "ZQXW1234"),
        ("previous_passport.issued_on", issued),
    ] {
        fields.push((format!("{prefix}{name}"), value.to_string()));
    }
    fields
}

async fn post_owned(
    app: &TestApp,
    path: &str,
    cookies: &str,
    fields: &[(String, String)],
) -> crate::helpers::Reply {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post_fields(app, path, cookies, &refs).await
}

#[actix_web::test]
async fn a_renewal_is_pre_filled_by_the_applicant_and_recorded_at_the_window_from_the_pages() {
    let (app, _db, clerk) = intake_app("passport-renewal").await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slot = app.slots("MEX", "passport-renewal").await[2]["slot_id"].as_i64().expect("a slot");
    let booked = app.book(&ana, slot, 1).await;
    let reference = booked.body["reference"].as_str().expect("a booking").to_string();
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let issued = issued_years_ago(5);
    let path = format!("/my/{reference}/intake");
    let bad = post_owned(&app, &path, &cookies, &renewal(&token, "items[0].", "15/06/1990", &issued)).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.text.contains(r#"aria-describedby="items[0].applicant.date_of_birth-error""#),
        "{}",
        bad.text
    );
    let saved = post_owned(&app, &path, &cookies, &renewal(&token, "items[0].", "1990-06-15", &issued)).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let intake = saved_intake(&app, &ana, &reference).await;
    assert_eq!(intake["items"][0]["form"], "DS-82", "{intake}");

    // At the window: the clerk records it from the page once the visit is called.
    // (A visit of today: the applicant's own is days ahead, after the booking notice.)
    let (clerks, clerk_token, _) = staff_session(&app, "mex.clerk").await;
    let prefilled = page(&app, &format!("/staff/visits/{reference}/documents"), &[("Cookie", &clerks)]).await;
    assert!(
        prefilled.text.contains("DS-82 · Ana N\u{fa}\u{f1}ez (1990-06-15)")
            && prefilled.text.contains("****1234"),
        "{}",
        prefilled.text
    );
    assert!(!prefilled.text.contains("ZQXW1234"), "masked for the clerk too");
    let visit = app.soon_appointment(&clerk, "MEX", "passport-renewal").await;
    app.post(&format!("/api/v1/staff/appointments/{visit}/check-in"), Some(&clerk), &json!({})).await;
    app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": "2"})).await;
    let window = format!("/staff/visits/{visit}/intake");
    assert_eq!(page(&app, &window, &[("Cookie", &clerks)]).await.status, 200);
    assert_eq!(
        page(&app, &window, &[("Cookie", &cookies)]).await.status,
        303,
        "an applicant's session opens no staff page"
    );
    let recorded = post_owned(
        &app,
        &window,
        &clerks,
        &[
            renewal(&clerk_token, "", "1990-06-15", &issued),
            vec![("once".into(), once_of(&app, &window, &clerks).await)],
        ]
        .concat(),
    )
    .await;
    assert_eq!(recorded.status, 303, "{}", recorded.text);
    let documents =
        app.get(&format!("/api/v1/staff/appointments/{visit}/documents"), Some(&clerk)).await.body;
    assert_eq!(documents.as_array().map(Vec::len), Some(1), "{documents}");
    app.stop().await;
}

#[actix_web::test]
async fn a_notarial_job_is_recorded_at_the_window_with_its_signers_and_enters_the_register() {
    let (app, _db, clerk) = intake_app("notarial").await;
    let visit = crate::documents::at_window(&app, &clerk, "notarial").await;
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let path = format!("/staff/visits/{visit}/intake");
    let form = page(&app, &path, &[("Cookie", &clerks)]).await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains(r#"name="signers[0].given_names" type="text" value="Ana""#), "{}", form.text);
    assert!(
        form.text.contains(r#"name="signers[1].given_names""#) && !form.text.contains(r#"name="signers[2]."#)
    );

    let once = once_of(&app, &path, &clerks).await;
    let mut job = vec![
        ("csrf", token.as_str()),
        ("once", once.as_str()),
        ("act", "acknowledgment"),
        ("document_title", "Poder notarial"),
        ("pages", "3"),
        ("certificates", "1"),
        ("pending", "on"),
        ("signer_rows", "2"),
        ("signers[0].given_names", "Ana"),
        ("signers[0].surname", "Núñez"),
        ("signers[0].id_proof.number", "ABCD123456"),
        ("signers[1].given_names", "Luis"),
        ("signers[1].surname", "Ortega"),
        ("signers[1].id_proof.kind", "personally_known"),
    ];
    let more = [job.clone(), vec![("add_signer", "")]].concat();
    let grown = post_fields(&app, &path, &clerks, &more).await;
    assert_eq!(grown.status, 200, "one more row, nothing recorded");
    assert!(grown.text.contains(r#"name="signers[2].given_names""#) && grown.text.contains("Poder notarial"));
    let nine: Vec<(&str, &str)> =
        more.iter().map(|&(n, v)| if n == "signer_rows" { (n, "9") } else { (n, v) }).collect();
    let full = post_fields(&app, &path, &clerks, &nine).await;
    assert!(
        full.text.contains(r#"name="signer_rows" value="10""#) && !full.text.contains(r#"name="add_signer""#),
        "ten rows, the most, still carried by the form; no button for an eleventh: {}",
        full.text
    );

    let refused = post_fields(&app, &path, &clerks, &job).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text.contains(r#"aria-describedby="signers[0].id_proof.kind-error""#),
        "{}",
        refused.text
    );

    job.push(("signers[0].id_proof.kind", "national_id"));
    let forged: Vec<(&str, &str)> =
        job.iter().map(|&(n, v)| if n == "csrf" { (n, "x") } else { (n, v) }).collect();
    assert_eq!(post_fields(&app, &path, &clerks, &forged).await.status, 403);

    // Another post's clerk: refused, and nothing recorded.
    app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let (gdl, gdl_token, _) = staff_session(&app, "gdl.clerk").await;
    assert_eq!(page(&app, &path, &[("Cookie", &gdl)]).await.status, 403);
    let fee_form = format!("/staff/visits/{visit}/fee");
    assert_eq!(page(&app, &fee_form, &[("Cookie", &gdl)]).await.status, 403, "nor its fee form");
    assert_eq!(page(&app, &fee_form, &[("Cookie", &clerks)]).await.status, 200);
    let theirs: Vec<(&str, &str)> =
        job.iter().map(|&(n, v)| if n == "csrf" { (n, gdl_token.as_str()) } else { (n, v) }).collect();
    assert_eq!(post_fields(&app, &path, &gdl, &theirs).await.status, 403);
    let none = app.get(&format!("/api/v1/staff/appointments/{visit}/documents"), Some(&clerk)).await.body;
    assert_eq!(none.as_array().map(Vec::len), Some(0), "{none}");

    let recorded = post_fields(&app, &path, &clerks, &job).await;
    assert_eq!(recorded.status, 303, "{}", recorded.text);
    let documents =
        app.get(&format!("/api/v1/staff/appointments/{visit}/documents"), Some(&clerk)).await.body;
    assert_eq!(documents[0]["kind"], "notarial", "{documents}");
    assert_eq!(documents[0]["status"], "pending", "the box the clerk ticked");
    let register = app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body;
    let entries = register["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{register}");
    assert!(!register.to_string().contains("ABCD123456"), "the signer's number is masked");
    app.stop().await;
}

#[actix_web::test]
async fn corrections_and_reports_of_birth_are_recorded_at_the_window_by_their_own_rules() {
    let (app, _db, clerk) = intake_app("crba").await;
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let correction = crate::documents::at_window(&app, &clerk, "passport-correction").await;
    let issued = issued_years_ago(1);
    let path = format!("/staff/visits/{correction}/intake");
    let once = once_of(&app, &path, &clerks).await;
    let five_five_oh_four = [
        ("csrf", token.as_str()),
        ("once", once.as_str()),
        ("applicant.given_names", "Ana"),
        ("applicant.surname", "Núñez"),
        ("applicant.date_of_birth", "1990-06-15"),
        ("previous_passport.number", "ZQXW1234"),
        ("previous_passport.issued_on", issued.as_str()),
        ("identity_document.kind", "national_id"),
        ("identity_document.number", "CURP99887766"),
    ];
    assert!(page(&app, &path, &[("Cookie", &clerks)]).await.text.contains("DS-5504"));
    let recorded = post_fields(&app, &path, &clerks, &five_five_oh_four).await;
    assert_eq!(recorded.status, 303, "{}", recorded.text);

    let birth = crate::documents::at_window(&app, &clerk, "crba").await;
    let path = format!("/staff/visits/{birth}/intake");
    let nineteen = issued_years_ago(19);
    let once = once_of(&app, &path, &clerks).await;
    let mut child = vec![
        ("csrf", token.as_str()),
        ("once", once.as_str()),
        ("applicant.given_names", "Mateo"),
        ("applicant.surname", "Núñez"),
        ("applicant.date_of_birth", nineteen.as_str()),
    ];
    let refused = post_fields(&app, &path, &format!("{clerks}; lang=es"), &child).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text.contains(r#"aria-describedby="applicant.date_of_birth-error""#)
            && refused.text.contains("El CRBA es para menores de 18 años"),
        "{}",
        refused.text
    );
    let born = issued_years_ago(1);
    child[4] = ("applicant.date_of_birth", born.as_str());
    assert_eq!(post_fields(&app, &path, &clerks, &child).await.status, 303);
    for reference in [&correction, &birth] {
        let documents =
            app.get(&format!("/api/v1/staff/appointments/{reference}/documents"), Some(&clerk)).await.body;
        assert_eq!(documents.as_array().map(Vec::len), Some(1), "{documents}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_clerk_corrects_a_register_entry_from_the_page_and_the_original_stays() {
    let (app, _db, clerk) = intake_app("notarial").await;
    let visit = crate::documents::at_window(&app, &clerk, "notarial").await;
    let job = crate::documents::record(&app, &clerk, &visit, &crate::documents::notarial_job(false)).await;
    assert_eq!(job.status, 201, "{}", job.body);
    let register = app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body;
    let number = register["entries"][0]["entry_number"].as_str().expect("an entry").to_string();
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let listing = page(&app, "/staff/register", &[("Cookie", &clerks)]).await;
    let path = format!("/staff/register/MEX/{number}/correct");
    assert!(listing.text.contains(&format!(r#"href="{path}""#)), "{}", listing.text);
    let form = page(&app, &path, &[("Cookie", &clerks)]).await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(
        form.text.contains(r#"value="Poder notarial""#) && form.text.contains("On file: ****3456"),
        "{}",
        form.text
    );

    // Auditors read the register but correct nothing; another post's clerk finds nothing to correct.
    app.staff_token("auditor", "auditor", None).await;
    let (auditors, _, _) = staff_session(&app, "auditor").await;
    assert!(!page(&app, "/staff/register?post=MEX", &[("Cookie", &auditors)])
        .await
        .text
        .contains("/correct\""));
    assert_eq!(page(&app, &path, &[("Cookie", &auditors)]).await.status, 403);
    app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let (gdl, _, _) = staff_session(&app, "gdl.clerk").await;
    assert_eq!(page(&app, &path, &[("Cookie", &gdl)]).await.status, 403);

    let once = once_of(&app, &path, &clerks).await;
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("once", once.as_str()),
        ("act", "jurat"),
        ("document_title", "Poder notarial general"),
        ("pages", "4"),
        ("certificates", "1"),
        ("signer_rows", "2"),
        ("signers[0].given_names", "José"),
        ("signers[0].surname", "Núñez"),
        ("signers[0].id_proof.kind", "national_id"),
        ("signers[0].id_proof.number", "ABCD123456"),
        ("signers[1].given_names", "王"),
        ("signers[1].surname", "芳"),
        ("signers[1].id_proof.kind", "personally_known"),
    ];
    let no_reason = post_fields(&app, &path, &clerks, &fields).await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.text.contains(r#"aria-describedby="reason-error""#), "{}", no_reason.text);
    fields.push(("reason", "the act was a jurat, and four pages"));
    let forged: Vec<(&str, &str)> =
        fields.iter().map(|&(n, v)| if n == "csrf" { (n, "x") } else { (n, v) }).collect();
    assert_eq!(post_fields(&app, &path, &clerks, &forged).await.status, 403);
    let entries = |body: Value| body["entries"].as_array().cloned().unwrap_or_default();
    let still = app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body;
    assert_eq!(entries(still).len(), 1, "a refused correction writes nothing");

    let corrected = post_fields(&app, &path, &clerks, &fields).await;
    assert_eq!(corrected.status, 303, "{}", corrected.text);
    let after = entries(app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0]["act"], "acknowledgment", "the original stays as it was");
    assert_eq!((after[1]["act"].clone(), after[1]["corrects"].clone()), (json!("jurat"), json!(number)));
    assert_eq!(after[1]["pages"], 4);
    let listing = page(&app, "/staff/register", &[("Cookie", &clerks)]).await;
    assert!(
        listing.text.contains("Corrected by") && listing.text.contains("the act was a jurat"),
        "{}",
        listing.text
    );

    // The signer has left: their number, left empty, is kept as recorded, if the kind of proof
    // is the same; another kind needs its number.
    let once = once_of(&app, &path, &clerks).await;
    let mut again: Vec<(&str, &str)> = fields
        .iter()
        .map(|&(n, v)| match n {
            "once" => (n, once.as_str()),
            "signers[0].id_proof.number" => (n, ""),
            "pages" => (n, "5"),
            _ => (n, v),
        })
        .collect();
    let kept = post_fields(&app, &path, &clerks, &again).await;
    assert_eq!(kept.status, 303, "{}", kept.text);
    let latest = entries(app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body);
    assert_eq!(latest.len(), 3);
    assert_eq!(latest[2]["signers"][0]["id_proof"]["number"]["masked"], "****3456", "{}", latest[2]);
    let once = once_of(&app, &path, &clerks).await;
    again = again
        .into_iter()
        .map(|(n, v)| match n {
            "once" => (n, once.as_str()),
            "signers[0].id_proof.kind" => (n, "us_passport"),
            _ => (n, v),
        })
        .collect();
    let other_kind = post_fields(&app, &path, &clerks, &again).await;
    assert_eq!(other_kind.status, 422);
    assert!(
        other_kind.text.contains(r#"aria-describedby="signers[0].id_proof.number-error"#),
        "{}",
        other_kind.text
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_sixty_kilobyte_form_or_a_name_with_invisible_characters_saves_nothing() {
    let (app, _db, _clerk) = intake_app("passport-renewal").await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slot = app.slots("MEX", "passport-renewal").await[2]["slot_id"].as_i64().expect("a slot");
    let reference = app.book(&ana, slot, 1).await.body["reference"].as_str().expect("a booking").to_string();
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let path = format!("/my/{reference}/intake");
    let issued = issued_years_ago(5);
    let mut fields = renewal(&token, "items[0].", "1990-06-15", &issued);
    fields[1].1 = "A".repeat(60 * 1024);
    let long = post_owned(&app, &path, &format!("{cookies}; lang=es"), &fields).await;
    assert_eq!(long.status, 413);
    assert!(long.text.contains("no se guardó nada"), "a page in the visitor's language: {}", long.text);
    fields[1].1 = "A\u{200B}na".to_string();
    let invisible = post_owned(&app, &path, &format!("{cookies}; lang=es"), &fields).await;
    assert_eq!(invisible.status, 422);
    assert!(
        invisible.text.contains(r#"aria-describedby="items[0].applicant.given_names-error""#)
            && invisible.text.contains("Contiene caracteres de control o de formato invisibles"),
        "{}",
        invisible.text
    );
    assert_eq!(saved_intake(&app, &ana, &reference).await["code"], "not_found", "nothing saved");
    app.stop().await;
}

#[actix_web::test]
async fn a_correction_sent_thirty_times_writes_once_and_thirty_forms_take_thirty_numbers_without_a_gap() {
    let (app, _db, clerk) = intake_app("notarial").await;
    let visit = crate::documents::at_window(&app, &clerk, "notarial").await;
    let job = crate::documents::record(&app, &clerk, &visit, &crate::documents::notarial_job(false)).await;
    assert_eq!(job.status, 201, "{}", job.body);
    let register = app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body;
    let number = register["entries"][0]["entry_number"].as_str().expect("an entry").to_string();
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let path = format!("/staff/register/MEX/{number}/correct");
    let fields = |once: &str| -> Vec<(String, String)> {
        [
            ("csrf", token.as_str()),
            ("once", once),
            ("act", "jurat"),
            ("document_title", "Poder notarial"),
            ("pages", "3"),
            ("certificates", "1"),
            ("signers[0].given_names", "José"),
            ("signers[0].surname", "Núñez"),
            ("signers[0].id_proof.kind", "personally_known"),
            ("reason", "the act was a jurat"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let numbers = || async {
        let register = app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body;
        let mut numbers: Vec<u32> = register["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["entry_number"].as_str()?.rsplit('-').next()?.parse().ok())
            .collect();
        numbers.sort_unstable();
        numbers
    };

    // One form sent thirty times at once (a double click, thirty times over): one correction,
    // and every answer leads to the same page.
    let one = fields(&once_of(&app, &path, &clerks).await);
    let sent = futures_util::future::join_all((0..30).map(|_| post_owned(&app, &path, &clerks, &one))).await;
    assert!(sent.iter().all(|r| r.status == 303), "{:?}", sent.iter().map(|r| r.status).collect::<Vec<_>>());
    let places: std::collections::HashSet<String> = sent
        .iter()
        .filter_map(|r| r.headers.get("location").and_then(|v| v.to_str().ok()).map(String::from))
        .collect();
    assert_eq!(places.len(), 1, "{places:?}");
    assert_eq!(numbers().await, [1, 2], "the original and one correction");

    // Thirty forms, each rendered for itself, sent at once: thirty corrections, no gap.
    let mut forms = Vec::new();
    for _ in 0..30 {
        forms.push(fields(&once_of(&app, &path, &clerks).await));
    }
    let sent =
        futures_util::future::join_all(forms.iter().map(|f| post_owned(&app, &path, &clerks, f))).await;
    assert!(sent.iter().all(|r| r.status == 303), "{:?}", sent.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(numbers().await, (1..=32).collect::<Vec<u32>>(), "no gap, no duplicate");
    app.stop().await;
}

#[actix_web::test]
async fn a_fee_form_sent_thirty_times_at_once_prints_one_receipt() {
    let (app, _db, clerk) = intake_app("passport-renewal").await;
    let visit = crate::documents::at_window(&app, &clerk, "passport-renewal").await;
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let path = format!("/staff/visits/{visit}/fee");
    let once = once_of(&app, &path, &clerks).await;
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("fee_1", "passport-execution"),
        ("quantity_1", "1"),
        ("method", "cash_usd"),
        ("step", "confirm"),
    ];
    assert_eq!(
        post_fields(&app, &path, &clerks, &fields).await.status,
        403,
        "a form without its one-time token"
    );
    fields.push(("once", once.as_str()));
    let sent =
        futures_util::future::join_all((0..30).map(|_| post_fields(&app, &path, &clerks, &fields))).await;
    let places: std::collections::HashSet<String> = sent
        .iter()
        .filter(|r| r.status == 303)
        .filter_map(|r| r.headers.get("location").and_then(|v| v.to_str().ok()).map(String::from))
        .collect();
    assert!(sent.iter().all(|r| r.status == 303), "{:?}", sent.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(places.len(), 1, "every answer shows the one receipt: {places:?}");
    let first = places.into_iter().next().unwrap_or_default();
    assert!(first.ends_with("-000001"), "{first}");
    let pdf = page(&app, &format!("{first}/receipt.pdf"), &[("Cookie", &clerks)]).await;
    assert_eq!(pdf.status, 200);
    assert_eq!(
        pdf.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "a receipt with a person's name on it is never cached"
    );
    // The next receipt, through the API, takes the next number: nothing else was printed.
    let recorded = app.record_fee(&clerk, &visit, &["passport-execution"], Method::Card).await;
    assert!(recorded.receipt_number.ends_with("-000002"), "{recorded:?}");
    app.stop().await;
}

#[actix_web::test]
async fn a_person_left_as_booked_is_skipped_and_the_others_errors_stay_on_their_own_section() {
    let (app, _db, _clerk) = intake_app("passport-renewal").await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slot = app.slots("MEX", "passport-renewal").await[2]["slot_id"].as_i64().expect("a slot");
    let party = json!([
        {"given_names": "Ana", "surname": "Núñez", "date_of_birth": "1990-06-15"},
        {"given_names": "Luis", "surname": "Ortega", "date_of_birth": "1990-01-20"},
    ]);
    let booked =
        app.post("/api/v1/appointments", Some(&ana), &json!({"slot_id": slot, "applicants": party})).await;
    let reference = booked.body["reference"].as_str().expect("a booking").to_string();
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let path = format!("/my/{reference}/intake");
    let issued = issued_years_ago(5);
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("sections", "2"),
        ("items[0].applicant.given_names", "Ana"),
        ("items[0].applicant.surname", "Núñez"),
        ("items[0].applicant.date_of_birth", "1990-06-15"),
        ("items[1].applicant.given_names", "Luis"),
        ("items[1].applicant.surname", "Ortega"),
        ("items[1].applicant.date_of_birth", "1990-01-20"),
        ("items[1].previous_passport.number", "PQRS5678"),
        ("items[1].previous_passport.issued_on", "2000-05-01"),
    ];
    let refused = post_fields(&app, &path, &cookies, &fields).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text.contains(r#"aria-describedby="items[1].previous_passport.issued_on-error""#)
            && !refused.text.contains(r#"items[0].previous_passport.issued_on-error"#),
        "Luis's error stays on Luis's section though Ana's was skipped: {}",
        refused.text
    );
    fields.pop();
    fields.push(("items[1].previous_passport.issued_on", issued.as_str()));
    assert_eq!(post_fields(&app, &path, &cookies, &fields).await.status, 303);
    let intake = saved_intake(&app, &ana, &reference).await;
    assert_eq!(intake["items"].as_array().map(Vec::len), Some(1), "Ana was skipped: {intake}");
    let again = page(&app, &path, &[("Cookie", &cookies)]).await;
    assert!(
        again.text.contains(r#"name="items[0].applicant.given_names" type="text" value="Ana""#)
            && again.text.contains(r#"name="items[1].applicant.given_names" type="text" value="Luis""#)
            && again.text.contains("On file: ****5678"),
        "each person in their own section again: {}",
        again.text
    );

    // Once cancelled, the page says pre-filling is closed instead of offering a form.
    let cancelled =
        app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert!(cancelled.status < 300, "{}", cancelled.body);
    let closed = page(&app, &path, &[("Cookie", &cookies)]).await;
    assert_eq!(closed.status, 409);
    assert!(
        closed.text.contains("can no longer be pre-filled")
            && !closed.text.contains("<form method=\"post\" action=\"/my/")
    );
    app.stop().await;
}

#[actix_web::test]
async fn calling_the_next_ticket_twice_from_one_board_calls_one_ticket() {
    let (app, _db, clerk) = intake_app("notarial").await;
    for given in ["Ana", "Luis"] {
        let body = json!({"service": "notarial", "kind": "emergency", "reason": "arrest", "applicant": crate::helpers::person(given, "Núñez")});
        assert_eq!(app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &body).await.status, 201);
    }
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let once = once_of(&app, "/staff", &clerks).await;
    let call = [("csrf", token.as_str()), ("once", once.as_str()), ("post", "MEX"), ("window", "3")];
    let sent =
        futures_util::future::join_all((0..2).map(|_| post_fields(&app, "/staff/call-next", &clerks, &call)))
            .await;
    assert!(sent.iter().all(|r| r.status == 303), "{:?}", sent.iter().map(|r| r.status).collect::<Vec<_>>());
    let board = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body;
    let called = board["visits"].as_array().into_iter().flatten().filter(|v| v["status"] == "called").count();
    assert_eq!(called, 1, "a double click calls one ticket: {board}");
    app.stop().await;
}
