//! Money through the pages: the day's receipts with their filters, reprint and void (offered
//! only to a supervisor who did not collect the receipt), the visit page, and the fee form with
//! every method, its review (pesos at today's rate), the confirmation of a second fee of the
//! same code, and one receipt however often the confirmation is sent.

use serde_json::{json, Value};

use crate::helpers::{spawn_on, Reply, TestApp, TestDb};
use crate::intake_pages::once_of;
use crate::pages::{page, post_fields, staff_session};

struct Desk {
    app: TestApp,
    _db: TestDb,
    clerk: String,
    supervisor: String,
}

async fn desk() -> Desk {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    Desk { app, _db: db, clerk, supervisor }
}

/// A walk-in with `given` as its first person: a visit to charge.
async fn walk_in(app: &TestApp, clerk: &str, given: &str) -> String {
    let body = json!({"service": "passport-renewal", "reason": "lost passport, travels tomorrow",
        "applicant": {"given_names": given, "surname": "Núñez"}});
    let r = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "walk-in: {}", r.body);
    r.body["reference"].as_str().unwrap_or_default().to_string()
}

/// A fee through the API: its receipt number.
async fn api_fee(app: &TestApp, token: &str, reference: &str, code: &str, method: &str) -> String {
    let body = json!({"appointment_reference": reference, "items": [{"fee_code": code, "quantity": 1}],
        "payment": {"method": method}, "confirm_repeat": true});
    let r = app.post("/api/v1/staff/fees", Some(token), &body).await;
    assert_eq!(r.status, 201, "fee: {}", r.body);
    r.body["receipt_number"].as_str().unwrap_or_default().to_string()
}

fn location(r: &Reply) -> String {
    r.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// The fee form's fields as a browser sends them, with `step`.
fn fee_fields<'a>(
    token: &'a str,
    once: &'a str,
    step: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![("csrf", token), ("once", once), ("step", step), ("quantity_1", "1")];
    fields.extend_from_slice(extra);
    fields
}

/// A method, the fields it needs, and what its receipt page then shows.
type Case = (&'static str, &'static [(&'static str, &'static str)], &'static str);

/// How many links to a receipt's void form `html` has.
fn void_links(html: &str) -> usize {
    html.matches(r#"class="void""#).count()
}

#[actix_web::test]
async fn the_days_receipts_filter_reprint_and_offer_void_only_to_a_supervisor_who_did_not_collect() {
    let Desk { app, _db, clerk, supervisor } = desk().await;
    app.staff_token("mex.supervisor2", "supervisor", Some("MEX")).await;
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    app.staff_token("auditor", "auditor", None).await;
    let visit = walk_in(&app, &clerk, "Ana").await;
    let cash = api_fee(&app, &clerk, &visit, "passport-execution", "cash_usd").await;
    let card = api_fee(&app, &clerk, &visit, "passport-book-adult", "card").await;
    let own = api_fee(&app, &supervisor, &visit, "passport-book-security-surcharge", "cash_usd").await;

    // The API: the same list, the same rule.
    let listed = app.get("/api/v1/staff/posts/MEX/receipts", Some(&supervisor)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let rows = listed.body["receipts"].as_array().cloned().unwrap_or_default();
    let numbers: Vec<&str> = rows.iter().filter_map(|r| r["receipt_number"].as_str()).collect();
    assert_eq!(numbers, [cash.as_str(), card.as_str(), own.as_str()]);
    let may: Vec<bool> = rows.iter().map(|r| r["may_void"] == true).collect();
    assert_eq!(may, [true, true, false], "not the supervisor's own receipt");
    let cards = app.get("/api/v1/staff/posts/MEX/receipts?method=card&clerk=mex.clerk", Some(&clerk)).await;
    assert_eq!(cards.body["receipts"].as_array().map(Vec::len), Some(1), "{}", cards.body);
    assert_eq!(cards.body["receipts"][0]["may_void"], false, "a clerk voids nothing");
    let yesterday = (app.now().date_naive() - chrono::Duration::days(3)).to_string();
    let none = app.get(&format!("/api/v1/staff/posts/MEX/receipts?date={yesterday}"), Some(&clerk)).await;
    assert_eq!(none.body["receipts"].as_array().map(Vec::len), Some(0));
    crate::helpers::assert_problem(
        &app.get("/api/v1/staff/posts/MEX/receipts?method=cheque", Some(&clerk)).await,
        400,
        "invalid_query",
    );
    crate::helpers::assert_problem(
        &app.get("/api/v1/staff/posts/MEX/receipts", Some(&gdl)).await,
        403,
        "wrong_post",
    );
    crate::helpers::assert_problem(
        &app.get("/api/v1/staff/posts/XXX/receipts", Some(&app.admin_token().await)).await,
        404,
        "not_found",
    );
    crate::helpers::assert_problem(
        &app.get("/api/v1/staff/posts/MEX/receipts", None).await,
        401,
        "missing_token",
    );

    // The page: a clerk sees every receipt, reprints, and is offered no void.
    let (clerks, _, _) = staff_session(&app, "mex.clerk").await;
    let list = page(&app, "/staff/receipts", &[("Cookie", &clerks)]).await;
    assert_eq!(list.status, 200, "{}", list.text);
    for number in [&cash, &card, &own] {
        assert!(list.text.contains(&format!("/staff/receipts/{number}/receipt.pdf")), "reprint {number}");
    }
    assert!(list.text.contains("mex.supervisor") && list.text.contains("Ana Núñez"));
    assert_eq!(void_links(&list.text), 0, "a clerk is offered no void");
    let reprint = page(&app, &format!("/staff/receipts/{card}/receipt.pdf"), &[("Cookie", &clerks)]).await;
    assert_eq!((reprint.status, reprint.content_type.as_str()), (200, "application/pdf"));
    assert!(crate::helpers::pdf_text(&reprint.bytes).contains(&card));
    let receipt = page(&app, &format!("/staff/receipts/{cash}"), &[("Cookie", &clerks)]).await;
    assert!(!receipt.text.contains("/void\""), "no void form for a clerk");

    // Filters, as the GET form sends them.
    let cards = page(&app, "/staff/receipts?date=&clerk=&method=card&voided=", &[("Cookie", &clerks)]).await;
    assert!(cards.text.contains(&card) && !cards.text.contains(&cash), "{}", cards.text);
    let theirs = page(&app, "/staff/receipts?clerk=mex.supervisor", &[("Cookie", &clerks)]).await;
    assert!(theirs.text.contains(&own) && !theirs.text.contains(&card));
    let bad = page(&app, "/staff/receipts?date=31-12-2026", &[("Cookie", &clerks)]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains(r#"id="date-error""#) && bad.text.contains(r#"value="31-12-2026""#), "kept");

    // The supervisor who collected one is offered the void of the two others only.
    let (supervisors, supervisor_token, _) = staff_session(&app, "mex.supervisor").await;
    let list = page(&app, "/staff/receipts", &[("Cookie", &supervisors)]).await;
    assert_eq!(void_links(&list.text), 2);
    assert!(!list.text.contains(&format!("/staff/receipts/{own}#void")));
    let mine = page(&app, &format!("/staff/receipts/{own}"), &[("Cookie", &supervisors)]).await;
    assert!(!mine.text.contains(r#"id="void""#), "no void of one's own receipt");
    let theirs = page(&app, &format!("/staff/receipts/{cash}"), &[("Cookie", &supervisors)]).await;
    assert!(theirs.text.contains(r#"id="void""#));
    let voided = post_fields(
        &app,
        &format!("/staff/receipts/{cash}/void"),
        &supervisors,
        &[("csrf", &supervisor_token), ("reason", "charged twice")],
    )
    .await;
    assert_eq!(voided.status, 303, "{}", voided.text);

    // Another supervisor may void the supervisor's receipt; a void one offers no void.
    let (others, _, _) = staff_session(&app, "mex.supervisor2").await;
    let list = page(&app, "/staff/receipts", &[("Cookie", &others)]).await;
    assert_eq!(void_links(&list.text), 2, "the card and the supervisor's, not the voided one");
    assert!(list.text.contains(&format!("/staff/receipts/{own}#void")));
    let voided_only = page(&app, "/staff/receipts?voided=yes", &[("Cookie", &others)]).await;
    assert!(voided_only.text.contains(&cash) && !voided_only.text.contains(&card));
    let standing = page(&app, "/staff/receipts?voided=no", &[("Cookie", &others)]).await;
    assert!(!standing.text.contains(&format!("/staff/receipts/{cash}\"")) && standing.text.contains(&card));

    // An auditor reads the list in Spanish, with a post to pick; another post's clerk sees
    // their own post's (none), and another post's receipt is not found.
    let (auditors, _, _) = staff_session(&app, "auditor").await;
    let spanish =
        page(&app, "/staff/receipts?post=MEX", &[("Cookie", &auditors), ("Accept-Language", "es")]).await;
    assert_eq!(spanish.status, 200);
    assert!(
        spanish.text.contains(r#"<select id="post" name="post">"#) && spanish.text.contains("Reimprimir")
    );
    assert!(spanish.text.contains("Anulado") && !spanish.text.contains("cash_usd<"), "names, not codes");
    let (gdls, _, _) = staff_session(&app, "gdl.clerk").await;
    let gdl_list = page(&app, "/staff/receipts?post=MEX", &[("Cookie", &gdls)]).await;
    assert!(gdl_list.text.contains("GDL") && !gdl_list.text.contains(&card));
    assert_eq!(page(&app, &format!("/staff/receipts/{card}"), &[("Cookie", &gdls)]).await.status, 404);
    assert_eq!(location(&page(&app, "/staff/receipts", &[]).await), "/staff/sign-in");
    app.stop().await;
}

#[actix_web::test]
async fn the_visit_page_shows_the_visit_what_comes_next_and_its_receipts_and_no_other_posts() {
    let Desk { app, _db, clerk, supervisor } = desk().await;
    let (booked, day) = app.soon_appointment_on(&clerk, "MEX", "passport-renewal").await;
    let today = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body["date"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let shown = page(&app, &format!("/staff/visits/{booked}"), &[("Cookie", &clerks)]).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.text.contains("Ana Núñez") && shown.text.contains("Booked"), "{}", shown.text);
    let check_in = format!("/staff/visits/{booked}/check-in");
    assert_eq!(shown.text.contains(&check_in), day == today, "Check in only on the visit's day");
    for next in ["/fee", "/documents", "/intake"] {
        assert!(shown.text.contains(&format!("/staff/visits/{booked}{next}")), "{next}");
    }
    // At 10:00 on a Tuesday the soonest slot is today's.
    assert_eq!(day, today);
    assert_eq!(crate::pages::post_form(&app, &check_in, &clerks, &format!("csrf={token}")).await.status, 303);
    let checked = page(&app, &format!("/staff/visits/{booked}"), &[("Cookie", &clerks)]).await;
    assert!(checked.text.contains(r#"id="ticket""#) && !checked.text.contains(&check_in));
    assert!(checked.text.contains(&format!("/staff/visits/{booked}/ticket.pdf")));

    // A walk-in with receipts, one voided: each with its number, total, method and state.
    let visit = walk_in(&app, &clerk, "José").await;
    let first = api_fee(&app, &clerk, &visit, "passport-execution", "card").await;
    let second = api_fee(&app, &clerk, &visit, "passport-execution", "cash_usd").await;
    let void = json!({"reason": "charged twice"});
    assert_eq!(
        app.post(&format!("/api/v1/staff/receipts/{first}/void"), Some(&supervisor), &void).await.status,
        200
    );
    let shown =
        page(&app, &format!("/staff/visits/{visit}"), &[("Cookie", &clerks), ("Accept-Language", "es")])
            .await;
    assert_eq!(shown.status, 200);
    let receipts = &shown.text[shown.text.find(r#"id="visit-receipts""#).unwrap_or(0)..];
    assert!(receipts.contains(&first) && receipts.contains(&second), "{receipts}");
    assert!(receipts.contains("35.00 USD") && receipts.contains("Tarjeta") && receipts.contains("Anulado"));
    assert!(receipts.contains("Vigente"));

    // Lower case, as a scanner may send it, finds the same visit; another post's is not found.
    assert_eq!(
        page(&app, &format!("/staff/visits/{}", visit.to_lowercase()), &[("Cookie", &clerks)]).await.status,
        200
    );
    app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let (gdls, _, _) = staff_session(&app, "gdl.clerk").await;
    let hidden = page(&app, &format!("/staff/visits/{visit}"), &[("Cookie", &gdls)]).await;
    assert_eq!(hidden.status, 404);
    assert!(!hidden.text.contains("José"));
    assert_eq!(page(&app, "/staff/visits/NOPE", &[("Cookie", &clerks)]).await.status, 404);
    assert_eq!(location(&page(&app, &format!("/staff/visits/{visit}"), &[]).await), "/staff/sign-in");
    // An auditor reads the visit but is offered no window work.
    app.staff_token("auditor", "auditor", None).await;
    let (auditors, _, _) = staff_session(&app, "auditor").await;
    let read = page(&app, &format!("/staff/visits/{visit}"), &[("Cookie", &auditors)]).await;
    assert_eq!(read.status, 200);
    assert!(!read.text.contains(&format!("/staff/visits/{visit}/fee")));
    app.stop().await;
}

#[actix_web::test]
async fn every_method_goes_through_the_form_and_its_review_and_a_refusal_keeps_what_was_typed() {
    let Desk { app, _db, clerk, supervisor } = desk().await;
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    // Pesos before a rate is set: said beside the method, in the page's language.
    let visit = walk_in(&app, &clerk, "Eva").await;
    let path = format!("/staff/visits/{visit}/fee");
    let once = once_of(&app, &path, &clerks).await;
    let pesos =
        fee_fields(&token, &once, "review", &[("fee_1", "passport-execution"), ("method", "cash_local")]);
    let no_rate = post_fields(&app, &path, &format!("{clerks}; lang=es"), &pesos).await;
    assert_eq!(no_rate.status, 409, "{}", no_rate.text);
    assert!(no_rate.text.contains(r#"id="method-error""#) && no_rate.text.contains("No hay tipo de cambio"));
    assert!(!no_rate.text.contains("no_exchange_rate"));
    app.peso_rate_today(&clerk, &supervisor, 17_250_000).await;
    let cases: [Case; 5] = [
        ("cash_usd", &[], "Cash, US dollars"),
        ("cash_local", &[], "Cash, Mexican pesos"),
        ("card", &[], "Card"),
        ("prepaid_online", &[("external_reference", "PAY-2026-0001")], "PAY-2026-0001"),
        ("no_fee", &[("no_fee_basis", "federal_benefits")], "Documents for US federal benefits"),
    ];
    for (method, extra, shown) in cases {
        let visit = walk_in(&app, &clerk, "Ana").await;
        let path = format!("/staff/visits/{visit}/fee");
        let form = page(&app, &path, &[("Cookie", &clerks)]).await;
        assert_eq!(form.status, 200);
        assert!(form.text.contains(r#"value="Ana Núñez""#), "the payer is the visit's first person");
        let once = once_of(&app, &path, &clerks).await;
        let mut sent = fee_fields(
            &token,
            &once,
            "review",
            &[("fee_1", "passport-execution"), ("method", method), ("payer", "Ana Núñez")],
        );
        sent.extend_from_slice(extra);
        let review = post_fields(&app, &path, &clerks, &sent).await;
        assert_eq!(review.status, 200, "{method}: {}", review.text);
        assert!(review.text.contains(r#"id="review-total""#), "{method}");
        let total = if method == "no_fee" { "US$0.00" } else { "US$35.00" };
        assert!(review.text.contains(total), "{method}: {}", review.text);
        // 35 USD at 17.25 is 603.75 pesos: 604 to collect.
        assert_eq!(review.text.contains("604.00 MXN"), method == "cash_local", "{method}");
        assert!(!review.text.contains(r#"id="repeat""#));
        let confirm: Vec<(&str, &str)> =
            sent.iter().map(|&(n, v)| if n == "step" { (n, "confirm") } else { (n, v) }).collect();
        let issued = post_fields(&app, &path, &clerks, &confirm).await;
        assert_eq!(issued.status, 303, "{method}: {}", issued.text);
        let receipt = page(&app, &location(&issued), &[("Cookie", &clerks)]).await;
        assert!(receipt.text.contains(shown), "{method}: {}", receipt.text);
        assert!(
            receipt.text.contains("Passport execution") || receipt.text.contains("passport"),
            "its lines"
        );
        assert!(receipt.text.contains("receipt.pdf"), "Print");
        assert_eq!(receipt.text.contains(r#"id="pesos""#), method == "cash_local");
    }

    // Refusals: beside their fields, in the page's language, with what was typed kept.
    let visit = walk_in(&app, &clerk, "Luis").await;
    let path = format!("/staff/visits/{visit}/fee");
    let once = once_of(&app, &path, &clerks).await;
    let prepaid = fee_fields(
        &token,
        &once,
        "review",
        &[("fee_1", "passport-execution"), ("method", "prepaid_online"), ("payer", "Luis Ruiz Núñez")],
    );
    let refused = post_fields(&app, &path, &clerks, &prepaid).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains(r#"id="external_reference-error""#), "{}", refused.text);
    assert!(refused.text.contains("Type the online payment's reference"));
    assert!(
        refused.text.contains(r#"value="Luis Ruiz Núñez""#)
            && refused.text.contains(r#"<option value="prepaid_online" selected>"#)
    );
    assert!(
        !refused.text.contains("payment.external_reference") && !refused.text.contains("prepaid_online:")
    );
    let no_basis = fee_fields(
        &token,
        &once,
        "confirm",
        &[("fee_1", "passport-execution"), ("method", "no_fee"), ("quantity_2", "x")],
    );
    let refused = post_fields(&app, &path, &format!("{clerks}; lang=es"), &no_basis).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains(r#"id="no_fee_basis-error""#)
            && refused.text.contains("Elija por qué no se cobra")
    );
    let bad_quantity = fee_fields(
        &token,
        &once,
        "review",
        &[("fee_1", "passport-execution"), ("quantity_1", "dos"), ("method", "card")],
    );
    let bad_quantity: Vec<(&str, &str)> =
        bad_quantity.into_iter().filter(|&(n, v)| !(n == "quantity_1" && v == "1")).collect();
    let refused = post_fields(&app, &path, &clerks, &bad_quantity).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(r#"id="quantity_1-error""#) && refused.text.contains(r#"value="dos""#));
    // Change: back to the form with everything typed.
    let change = fee_fields(
        &token,
        &once,
        "change",
        &[("fee_1", "passport-execution"), ("method", "card"), ("payer", "Luis Ruiz")],
    );
    let changed = post_fields(&app, &path, &clerks, &change).await;
    assert_eq!(changed.status, 200);
    assert!(
        changed.text.contains(r#"value="Luis Ruiz""#)
            && changed.text.contains(r#"<option value="card" selected>"#)
    );
    let none = app.get("/api/v1/staff/posts/MEX/receipts", Some(&clerk)).await.body;
    assert_eq!(none["receipts"].as_array().map(Vec::len), Some(5), "no receipt from a refusal: {none}");
    app.stop().await;
}

#[actix_web::test]
async fn a_second_fee_of_the_same_code_asks_first_and_thirty_confirmations_issue_one_receipt() {
    let Desk { app, _db, clerk, .. } = desk().await;
    let visit = walk_in(&app, &clerk, "Ana").await;
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;
    let path = format!("/staff/visits/{visit}/fee");

    // Thirty identical confirmations at once: one receipt, and every answer shows it.
    let once = once_of(&app, &path, &clerks).await;
    let fields =
        fee_fields(&token, &once, "confirm", &[("fee_1", "passport-execution"), ("method", "cash_usd")]);
    let sent =
        futures_util::future::join_all((0..30).map(|_| post_fields(&app, &path, &clerks, &fields))).await;
    assert!(sent.iter().all(|r| r.status == 303), "{:?}", sent.iter().map(|r| r.status).collect::<Vec<_>>());
    let places: std::collections::HashSet<String> = sent.iter().map(location).collect();
    assert_eq!(places.len(), 1, "{places:?}");
    let listed = app.get("/api/v1/staff/posts/MEX/receipts", Some(&clerk)).await.body;
    assert_eq!(listed["receipts"].as_array().map(Vec::len), Some(1), "{listed}");
    let first = listed["receipts"][0]["receipt_number"].as_str().unwrap_or_default().to_string();

    // The same fee again: the review names the receipt that charged it and asks.
    let once = once_of(&app, &path, &clerks).await;
    let again = fee_fields(&token, &once, "review", &[("fee_1", "passport-execution"), ("method", "card")]);
    let review = post_fields(&app, &path, &clerks, &again).await;
    assert_eq!(review.status, 200);
    assert!(review.text.contains(r#"id="repeat""#) && review.text.contains(&first), "{}", review.text);
    assert!(review.text.contains(r#"name="confirm_repeat" value="1""#));
    // Confirmed without saying it is a repeat (charged meanwhile): asked again, nothing issued.
    let unconfirmed =
        fee_fields(&token, &once, "confirm", &[("fee_1", "passport-execution"), ("method", "card")]);
    let asked = post_fields(&app, &path, &clerks, &unconfirmed).await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    assert!(asked.text.contains(r#"id="repeat""#));
    let count = |v: &Value| v["receipts"].as_array().map(Vec::len);
    assert_eq!(count(&app.get("/api/v1/staff/posts/MEX/receipts", Some(&clerk)).await.body), Some(1));
    let confirmed = fee_fields(
        &token,
        &once,
        "confirm",
        &[("fee_1", "passport-execution"), ("method", "card"), ("confirm_repeat", "1")],
    );
    let issued = post_fields(&app, &path, &clerks, &confirmed).await;
    assert_eq!(issued.status, 303, "{}", issued.text);
    assert_eq!(count(&app.get("/api/v1/staff/posts/MEX/receipts", Some(&clerk)).await.body), Some(2));

    // Who may use the form: a clerk of the post; an auditor may not; without the token nothing.
    app.staff_token("auditor", "auditor", None).await;
    let (auditors, auditor_token, _) = staff_session(&app, "auditor").await;
    assert_eq!(page(&app, &path, &[("Cookie", &auditors)]).await.status, 403);
    let theirs =
        fee_fields(&auditor_token, &once, "review", &[("fee_1", "passport-execution"), ("method", "card")]);
    assert_eq!(post_fields(&app, &path, &auditors, &theirs).await.status, 403);
    let forged =
        fee_fields("forged", &once, "confirm", &[("fee_1", "passport-execution"), ("method", "card")]);
    assert_eq!(post_fields(&app, &path, &clerks, &forged).await.status, 403);
    assert_eq!(location(&page(&app, &path, &[]).await), "/staff/sign-in");
    app.stop().await;
}

#[actix_web::test]
async fn a_clerk_records_a_fee_in_pesos_through_the_review_and_prints_it_every_page_axe_clean() {
    let Some(browser) = crate::browser::Browser::start("en-US,en").await else { return };
    let Desk { app, _db, clerk, supervisor } = desk().await;
    app.peso_rate_today(&clerk, &supervisor, 17_250_000).await;
    let visit = walk_in(&app, &clerk, "Ana").await;
    browser.staff_sign_in(&app.address, "mex.clerk").await;
    browser.goto(&format!("{}/staff/visits/{visit}", app.address)).await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the visit page");
    browser.click(&format!("a[href='/staff/visits/{visit}/fee']")).await;
    browser.wait_until("document.getElementById('fee_1')").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the fee form");
    browser.click("#fee_1 option[value='passport-book-adult']").await;
    browser.click("#fee_2 option[value='passport-execution']").await;
    browser.click("#method option[value='cash_local']").await;
    browser.click("button[value=review]").await;
    browser.wait_until("document.getElementById('review-total')").await;
    // 85 USD at 17.25: 1,466.25 pesos, 1,466 to collect.
    assert!(browser.text("#pesos").await.contains("1,466.00 MXN"), "{}", browser.text("#pesos").await);
    browser.screenshot("fee-review").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the review");
    browser.click("button[value=confirm]").await;
    browser.wait_until("document.location.pathname.startsWith('/staff/receipts/')").await;
    assert_eq!(browser.text("#total").await, "USD 85.00");
    assert!(browser.text("#pesos").await.contains("1,466.00 MXN"));
    browser.screenshot("fee-receipt").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the receipt page");
    let print =
        browser.run("return document.querySelector(\"a[href$='/receipt.pdf']\").getAttribute('href')").await;
    let (status, kind, _) = browser.fetch(print.as_str().unwrap_or("")).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    browser.goto(&format!("{}/staff/receipts", app.address)).await;
    assert!(browser.text("#receipts").await.contains("1,466.00 MXN"));
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the day's receipts");
    browser.screenshot("receipts-list").await;
    app.stop().await;
}
