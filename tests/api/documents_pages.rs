//! Documents at the post from the pages: the list by state (only the post's own), a
//! document's page (another post's is a 404), and the handover form, which keeps what was
//! typed and says beside each field what is missing, then records who collected it.

use serde_json::json;

use crate::documents::{at_window, ready_for_pickup, record, renewal};
use crate::helpers::{spawn_on, TestApp, TestDb};
use crate::pages::{page, post_form, staff_session};

async fn desk() -> (TestApp, TestDb, String) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    (app, db, clerk)
}

#[actix_web::test]
async fn the_documents_ready_for_pickup_are_listed_for_the_post_only() {
    let (app, _db, clerk) = desk().await;
    let waiting = ready_for_pickup(&app, &clerk, "Seán", "O'Brien").await;
    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let received = record(&app, &clerk, &visit, &renewal("Ana", "Núñez")).await.body["tracking_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (clerks, _, _) = staff_session(&app, "mex.clerk").await;

    let ready = page(&app, "/staff/documents?state=ready_for_pickup", &[("Cookie", &clerks)]).await;
    assert_eq!(ready.status, 200);
    for shown in
        ["Seán O'Brien", &format!("href=\"/staff/documents/{waiting}\""), "Passport", "Ready for pickup"]
    {
        assert!(ready.text.contains(shown), "{shown}: {}", ready.text);
    }
    assert!(!ready.text.contains(&received), "a document in another state is not listed");
    let every = page(&app, "/staff/documents", &[("Cookie", &clerks)]).await;
    assert!(every.text.contains(&received) && every.text.contains(&waiting));
    let spanish =
        page(&app, "/staff/documents?state=ready_for_pickup", &[("Cookie", &format!("{clerks}; lang=es"))])
            .await;
    assert!(
        spanish.text.contains("Número de seguimiento") && spanish.text.contains("Pasaporte"),
        "{}",
        spanish.text
    );
    assert_eq!(page(&app, "/staff/documents?state=flying", &[("Cookie", &clerks)]).await.status, 404);

    // Another post's clerk: their own (empty) list, and MEX's document is no document.
    app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let (gdls, _, _) = staff_session(&app, "gdl.clerk").await;
    let theirs = page(&app, "/staff/documents?state=ready_for_pickup", &[("Cookie", &gdls)]).await;
    assert_eq!(theirs.status, 200);
    assert!(!theirs.text.contains(&waiting) && theirs.text.contains("id=\"none\""), "{}", theirs.text);
    let asked = page(&app, "/staff/documents?state=ready_for_pickup&post=MEX", &[("Cookie", &gdls)]).await;
    assert!(!asked.text.contains(&waiting), "a member bound to a post sees only it");
    assert_eq!(page(&app, &format!("/staff/documents/{waiting}"), &[("Cookie", &gdls)]).await.status, 404);
    assert_eq!(page(&app, "/staff/documents?state=ready_for_pickup", &[]).await.status, 303, "to sign-in");
    app.stop().await;
}

#[actix_web::test]
async fn a_clerk_hands_a_passport_over_from_its_page_and_the_history_says_who_took_it() {
    let (app, _db, clerk) = desk().await;
    let tracking = ready_for_pickup(&app, &clerk, "Seán", "O'Brien").await;
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let path = format!("/staff/documents/{tracking}");
    let shown = page(&app, &path, &[("Cookie", &clerks)]).await;
    assert_eq!(shown.status, 200);
    assert!(shown.text.contains(&format!("action=\"{path}/handover\"")), "{}", shown.text);
    assert!(shown.text.contains(&format!("href=\"{path}/slip.pdf\"")));
    assert!(!shown.text.contains("<option value=\"delivered\""), "delivered only through the handover");

    // Someone else, without a name or an ID: each error beside its field, what was typed kept.
    let handover = format!("{path}/handover");
    let forged = post_form(&app, &handover, &clerks, "collector=applicant&csrf=forged").await;
    assert_eq!(forged.status, 403);
    let missing = post_form(
        &app,
        &handover,
        &clerks,
        &format!("collector=someone_else&name=&id_type=voter_card&id_last4=&note=his+sister&csrf={token}"),
    )
    .await;
    assert_eq!(missing.status, 422, "{}", missing.text);
    for beside in [
        "id=\"name-error\"",
        "id=\"id_last4-error\"",
        "value=\"his sister\"",
        "<option value=\"voter_card\" selected>",
    ] {
        assert!(missing.text.contains(beside), "{beside}: {}", missing.text);
    }
    assert!(missing.text.contains("value=\"someone_else\" checked"), "{}", missing.text);
    assert!(!missing.text.contains("id_last4:") && !missing.text.contains("validation_failed"));
    let api = app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await;
    assert_eq!(api.body["status"], "ready_for_pickup", "nothing changed");

    let done = post_form(
        &app,
        &handover,
        &clerks,
        &format!("collector=someone_else&name=Mary+O%27Brien&id_type=voter_card&id_last4=a9z4&note=his+sister&csrf={token}"),
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.text);
    let after = page(&app, &path, &[("Cookie", &clerks)]).await;
    assert!(after.text.contains("Collected by Mary O'Brien · Voter card (INE) ···A9Z4"), "{}", after.text);
    assert!(!after.text.contains("/handover\""), "nothing more to hand over");
    let api = app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await;
    assert_eq!(api.body["handover"]["name"], json!("Mary O'Brien"));
    // A second handover (an old tab) says what happened instead of a bare error.
    let again = post_form(&app, &handover, &clerks, &format!("collector=applicant&csrf={token}")).await;
    assert_eq!(again.status, 409);
    assert!(again.text.contains("no longer ready for pickup"), "{}", again.text);

    // An auditor reads the page but hands nothing over.
    app.staff_token("mex.auditor", "auditor", Some("MEX")).await;
    let (auditors, auditor_token, _) = staff_session(&app, "mex.auditor").await;
    let other = ready_for_pickup(&app, &clerk, "Ana", "Núñez").await;
    let read = page(&app, &format!("/staff/documents/{other}"), &[("Cookie", &auditors)]).await;
    assert_eq!(read.status, 200);
    assert!(!read.text.contains("/handover\""), "{}", read.text);
    let refused = post_form(
        &app,
        &format!("/staff/documents/{other}/handover"),
        &auditors,
        &format!("collector=applicant&csrf={auditor_token}"),
    )
    .await;
    assert_eq!(refused.status, 403);
    app.stop().await;
}

#[actix_web::test]
async fn a_clerk_hands_a_passport_over_in_the_browser_and_a_supervisor_closes_the_cash() {
    let Some(browser) = crate::browser::Browser::start("en-US,en").await else { return };
    let (app, _db, clerk) = desk().await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let tracking = ready_for_pickup(&app, &clerk, "Seán", "O'Brien").await;
    app.peso_rate_today(&clerk, &supervisor, 17_000_000).await;
    // The supervisor took a fee themself today: their count is against their own receipt.
    let walk_in = json!({"service": "passport-new", "kind": "emergency", "reason": "destitution", "applicant": crate::helpers::person("Ana", "Ruiz")});
    let visit = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&supervisor), &walk_in).await;
    let fee = json!({"appointment_reference": visit.body["reference"], "items": [{"fee_code": "passport-execution", "quantity": 1}], "payment": {"method": "cash_usd"}});
    assert_eq!(app.post("/api/v1/staff/fees", Some(&supervisor), &fee).await.status, 201);

    // The clerk finds the passport in the list and hands it over to the applicant.
    browser.staff_sign_in(&app.address, "mex.clerk").await;
    browser.goto(&format!("{}/staff/documents?state=ready_for_pickup", app.address)).await;
    browser.screenshot("staff-documents").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the documents list");
    browser.click(&format!("a[href='/staff/documents/{tracking}']")).await;
    browser.wait_until("document.getElementById('history')").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the document page");
    // Someone else without a name first: the error beside the field.
    browser.click("#collector-someone").await;
    browser.click("form[action$='/handover'] button[type=submit]").await;
    browser.wait_until("document.getElementById('name-error')").await;
    browser.screenshot("staff-handover-error").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the handover with its errors");
    browser.click("#collector-applicant").await;
    browser.click("#id_type option[value='']").await;
    browser.click("form[action$='/handover'] button[type=submit]").await;
    browser.wait_until("document.querySelector('p.handover')").await;
    assert!(browser.text("p.handover").await.contains("the applicant themself"));
    assert_eq!(browser.text("#status").await, "Delivered");
    browser.screenshot("staff-handed-over").await;
    browser.staff_sign_out().await;

    // The supervisor counts their own till four dollars short, typed with a decimal comma: the
    // page asks why beside the line and keeps what was typed; with the reason it is counted.
    browser.staff_sign_in(&app.address, "mex.supervisor").await;
    browser.goto(&format!("{}/staff/cash", app.address)).await;
    browser.wait_until("document.getElementById('cash_usd')").await;
    browser.run("document.getElementById('cash_usd').value = ''; return true").await;
    browser.type_into("#cash_usd", "31,00").await;
    browser.click("form[action='/staff/cash/count'] button").await;
    browser.wait_until("document.getElementById('explanation-error')").await;
    assert!(browser.text("#cash_usd-error").await.contains("Differs from the receipts by US$-4.00"));
    let kept = browser.run("return document.getElementById('cash_usd').value").await;
    assert_eq!(kept, json!("31,00"), "what was typed is kept");
    browser.screenshot("staff-cash-explain").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the cash page with its errors");
    browser.type_into("#explanation", "four dollars of change from the float").await;
    browser.click("form[action='/staff/cash/count'] button").await;
    browser.wait_until("document.querySelector('section.notice')").await;
    // The clerk's count (nothing taken, nothing counted) is the one this supervisor signs.
    let clerk_close =
        app.post("/api/v1/staff/posts/MEX/closeouts", Some(&clerk), &json!({"counted": []})).await;
    assert_eq!(clerk_close.status, 201, "{}", clerk_close.body);
    let id = clerk_close.body["id"].clone();
    browser.goto(&format!("{}/staff/cash", app.address)).await;
    browser.click(&format!("form[action='/staff/cash/closes/{id}/sign'] button")).await;
    browser
        .wait_until(&format!("document.getElementById('close-{id}').textContent.includes('Signed by')"))
        .await;
    browser.screenshot("staff-cash-signed").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the cash page, signed");
    let href = browser
        .run(&format!("return document.querySelector('#close-{id} a[href*=sheet]').getAttribute('href')"))
        .await;
    let (status, kind, _) = browser.fetch(href.as_str().unwrap_or("")).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    browser.staff_sign_out().await;
    app.stop().await;
}
