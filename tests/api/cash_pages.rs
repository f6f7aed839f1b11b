//! The cash page end to end through its forms: the rate typed with a decimal comma or wrong,
//! a count without the explanation it needs (kept as typed, the error beside the line), a
//! recount that replaces a count (marked, not offered for signing), the signature of the
//! current count, the close sheet (PDF) checked as a paper, and who may open what.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, person, spawn_on, TestApp, TestDb};
use crate::pages::{page, post_form, staff_session};

struct Desk {
    app: TestApp,
    _db: TestDb,
    clerk: String,
    supervisor: String,
}

async fn desk() -> Desk {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    Desk { app, _db: db, clerk, supervisor }
}

/// A receipt of 165 USD (the adult book) paid as `payment` says, at a new walk-in.
async fn paid(app: &TestApp, clerk: &str, payment: Value) -> String {
    let body = json!({"service": "passport-new", "kind": "emergency", "reason": "destitution", "applicant": person("Ana", "Ruiz")});
    let walk_in = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(walk_in.status, 201, "walk-in: {}", walk_in.body);
    let fee = json!({
        "appointment_reference": walk_in.body["reference"],
        "items": [
            {"fee_code": "passport-book-adult", "quantity": 1},
            {"fee_code": "passport-book-security-surcharge", "quantity": 1},
            {"fee_code": "passport-execution", "quantity": 1},
        ],
        "payment": payment,
    });
    let r = app.post("/api/v1/staff/fees", Some(clerk), &fee).await;
    assert_eq!(r.status, 201, "fee: {}", r.body);
    r.body["receipt_number"].as_str().unwrap_or_default().to_string()
}

/// The ids of the closes the page offers to sign.
fn signable(html: &str) -> Vec<String> {
    html.split("action=\"/staff/cash/closes/")
        .skip(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
        .collect()
}

/// The sections of the page's closes, by close id.
fn section<'a>(html: &'a str, id: &Value) -> &'a str {
    let start = html.find(&format!("id=\"close-{id}\"")).unwrap_or(0);
    let end = html[start..].find("</section>").map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[actix_web::test]
async fn the_cash_page_keeps_what_was_typed_marks_a_recount_and_signs_the_current_count() {
    let Desk { app, _db, clerk, supervisor } = desk().await;
    let (clerks, clerk_token, _) = staff_session(&app, "mex.clerk").await;
    let (supervisors, supervisor_token, _) = staff_session(&app, "mex.supervisor").await;

    // The rate: words beside the field for what is no rate, and a decimal comma is a rate.
    for (typed, says) in
        [("diecisiete", "The rate is a number of pesos per dollar"), ("2000", "between 0.000001 and 1000")]
    {
        let body = format!("post=MEX&rate={typed}&csrf={supervisor_token}");
        let bad = post_form(&app, "/staff/cash/rate", &supervisors, &body).await;
        assert_eq!(bad.status, 422, "{typed}");
        assert!(bad.text.contains(says) && bad.text.contains(&format!("value=\"{typed}\"")), "{}", bad.text);
        assert!(bad.text.contains("id=\"rate-error\"") && !bad.text.contains("rate_micros"), "{}", bad.text);
    }
    let set = post_form(
        &app,
        "/staff/cash/rate",
        &supervisors,
        &format!("post=MEX&rate=17%2C25&csrf={supervisor_token}"),
    )
    .await;
    assert_eq!(set.status, 303, "{}", set.text);
    let rates = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body;
    let today = rates["date"].as_str().unwrap_or_default().to_string();
    let rate = app.get(&format!("/api/v1/staff/posts/MEX/exchange-rates/{today}"), Some(&clerk)).await;
    assert_eq!(rate.body["rate_micros"], 17_250_000);

    // Receipts: 165 USD in dollars, and 165 USD in pesos at 17.25 (2 846 MXN: pesos are whole).
    let first = paid(&app, &clerk, json!({"method": "cash_usd"})).await;
    let last = paid(&app, &clerk, json!({"method": "cash_local"})).await;
    let cash = page(&app, "/staff/cash", &[("Cookie", &clerks)]).await;
    assert_eq!(cash.status, 200);
    for words in ["Cash, US dollars", "Cash, pesos", "US$165.00", "2,846.00 MXN"] {
        assert!(cash.text.contains(words), "{words}: {}", cash.text);
    }
    let spanish = page(&app, "/staff/cash", &[("Cookie", &format!("{clerks}; lang=es"))]).await;
    assert!(spanish.text.contains("Efectivo, pesos") && spanish.text.contains("Efectivo, dólares"));
    assert!(!spanish.text.contains("cash_local MXN") && !spanish.text.contains("Cash, pesos"));

    // Five dollars short, pesos exact (typed with a decimal comma), no explanation: the page
    // comes back with what was typed and the error beside the dollars' line and the field.
    let short = "post=MEX&cash_usd=160%2C00&cash_local=2.846%2C00&card=&prepaid_online=0";
    let refused = post_form(&app, "/staff/cash/count", &clerks, &format!("{short}&csrf={clerk_token}")).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    for kept in
        ["value=\"160,00\"", "value=\"2.846,00\"", "id=\"cash_usd-error\"", "id=\"explanation-error\""]
    {
        assert!(refused.text.contains(kept), "{kept}: {}", refused.text);
    }
    assert!(refused.text.contains("Differs from the receipts by US$-5.00"), "{}", refused.text);
    assert!(!refused.text.contains("cash_local-error"), "the pesos' line is right");
    assert!(!refused.text.contains("explanation:") && !refused.text.contains("validation_failed"));
    let listed = app.get("/api/v1/staff/posts/MEX/closeouts", Some(&clerk)).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(0), "nothing was counted");

    let explained = post_form(
        &app,
        "/staff/cash/count",
        &clerks,
        &format!("{short}&explanation=gave+change+from+the+float&csrf={clerk_token}"),
    )
    .await;
    assert_eq!(explained.status, 303, "{}", explained.text);
    // The clerk finds the five dollars and counts again: the first count is replaced.
    let exact = "post=MEX&cash_usd=165&cash_local=2846&card=0&prepaid_online=0";
    assert_eq!(
        post_form(&app, "/staff/cash/count", &clerks, &format!("{exact}&csrf={clerk_token}")).await.status,
        303
    );
    let closes = app.get("/api/v1/staff/posts/MEX/closeouts", Some(&supervisor)).await.body;
    let (old, new) = (closes[0]["id"].clone(), closes[1]["id"].clone());
    assert_eq!(closes[0]["replaced_by"], new, "{closes}");
    assert!(closes[1].get("replaced_by").is_none(), "{closes}");
    assert_eq!(closes[1]["receipts"], json!({"count": 2, "first": first, "last": last}));

    let board = page(&app, "/staff/cash", &[("Cookie", &supervisors)]).await;
    assert_eq!(signable(&board.text), [new.to_string()], "only the current count is offered");
    assert!(section(&board.text, &old).contains("Replaced by a recount"), "{}", board.text);
    assert!(section(&board.text, &old).contains("gave change from the float"));
    assert!(!section(&board.text, &new).contains("Replaced"));
    assert!(
        signable(&page(&app, "/staff/cash", &[("Cookie", &clerks)]).await.text).is_empty(),
        "a clerk signs nothing"
    );

    // Signing the replaced count says so, in words; the API names it `close_replaced`.
    let sign = |id: &Value| format!("/staff/cash/closes/{id}/sign");
    let replaced =
        post_form(&app, &sign(&old), &supervisors, &format!("post=MEX&csrf={supervisor_token}")).await;
    assert_eq!(replaced.status, 409);
    assert!(
        replaced.text.contains("A later count replaced that one")
            && !replaced.text.contains("receipts changed")
    );
    assert_problem(
        &app.post(&format!("/api/v1/staff/posts/MEX/closeouts/{old}/sign"), Some(&supervisor), &json!({}))
            .await,
        409,
        "close_replaced",
    );
    // The current count signs: nothing changed since it was counted.
    let signed =
        post_form(&app, &sign(&new), &supervisors, &format!("post=MEX&csrf={supervisor_token}")).await;
    assert_eq!(signed.status, 303, "{}", signed.text);
    let closes = app.get("/api/v1/staff/posts/MEX/closeouts", Some(&clerk)).await.body;
    assert_eq!(closes[1]["signed_by"], "mex.supervisor", "{closes}");
    let after = page(&app, "/staff/cash", &[("Cookie", &supervisors)]).await;
    assert!(signable(&after.text).is_empty() && section(&after.text, &new).contains("Signed by"));

    // The sheet, from the page and from the API.
    let sheet = page(&app, &format!("/staff/cash/closes/{new}/sheet.pdf"), &[("Cookie", &supervisors)]).await;
    assert_eq!(sheet.status, 200);
    assert!(sheet.bytes.starts_with(b"%PDF-") && sheet.content_type.contains("pdf"));
    let api = app.get(&format!("/api/v1/staff/posts/MEX/closeouts/{new}/sheet.pdf"), Some(&clerk)).await;
    assert_eq!(api.status, 200);
    app.stop().await;
}

#[actix_web::test]
async fn a_member_bound_to_no_post_picks_the_post_from_a_list() {
    let Desk { app, _db, .. } = desk().await;
    app.staff_token("head.supervisor", "supervisor", None).await;
    let (cookies, _, _) = staff_session(&app, "head.supervisor").await;
    let cash = page(&app, "/staff/cash", &[("Cookie", &cookies)]).await;
    assert_eq!(cash.status, 200);
    assert!(cash.text.contains("<select id=\"post\" name=\"post\">"), "{}", cash.text);
    assert!(cash.text.contains("value=\"GDL\""), "{}", cash.text);
    let gdl = page(&app, "/staff/cash?post=GDL", &[("Cookie", &cookies)]).await;
    assert!(
        gdl.text.contains("Cash · GDL") && gdl.text.contains("<option value=\"GDL\" selected"),
        "{}",
        gdl.text
    );
    let mex = page(&app, "/staff/cash", &[("Cookie", &cookies)]).await;
    assert!(!mex.text.contains("Cash · GDL"));
    app.stop().await;
}

#[actix_web::test]
async fn the_close_sheet_answers_only_its_post_and_roles() {
    let Desk { app, _db, clerk, .. } = desk().await;
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let counted = app.post("/api/v1/staff/posts/MEX/closeouts", Some(&clerk), &json!({"counted": []})).await;
    assert_eq!(counted.status, 201, "{}", counted.body);
    let id = counted.body["id"].clone();
    let api = format!("/api/v1/staff/posts/MEX/closeouts/{id}/sheet.pdf");
    assert_problem(&app.get(&api, None).await, 401, "missing_token");
    assert_problem(&app.get(&api, Some(&auditor)).await, 403, "insufficient_role");
    assert_problem(&app.get(&api, Some(&gdl)).await, 403, "wrong_post");
    assert_problem(
        &app.get(&format!("/api/v1/staff/posts/GDL/closeouts/{id}/sheet.pdf"), Some(&gdl)).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.get("/api/v1/staff/posts/MEX/closeouts/999999/sheet.pdf", Some(&clerk)).await,
        404,
        "not_found",
    );
    assert_eq!(app.get(&api, Some(&clerk)).await.status, 200);

    let path = format!("/staff/cash/closes/{id}/sheet.pdf");
    let anonymous = page(&app, &path, &[]).await;
    assert_eq!(anonymous.status, 303, "to the sign-in page");
    app.staff_token("mex.auditor", "auditor", Some("MEX")).await;
    let (auditors, _, _) = staff_session(&app, "mex.auditor").await;
    assert_eq!(page(&app, &path, &[("Cookie", &auditors)]).await.status, 403);
    let (gdls, _, _) = staff_session(&app, "gdl.clerk").await;
    assert_eq!(page(&app, &path, &[("Cookie", &gdls)]).await.status, 404, "another post's close is none");
    let (clerks, _, _) = staff_session(&app, "mex.clerk").await;
    assert_eq!(page(&app, &path, &[("Cookie", &clerks)]).await.status, 200);
    assert_eq!(page(&app, "/staff/cash/closes/abc/sheet.pdf", &[("Cookie", &clerks)]).await.status, 404);
    app.stop().await;
}

#[actix_web::test]
async fn the_close_sheet_prints_apart_with_every_line_and_both_signatures() {
    let Desk { app, _db, clerk, supervisor } = desk().await;
    app.peso_rate_today(&clerk, &supervisor, 17_000_000).await;
    let first = paid(&app, &clerk, json!({"method": "cash_usd"})).await;
    paid(&app, &clerk, json!({"method": "cash_local"})).await;
    paid(&app, &clerk, json!({"method": "card"})).await;
    let last =
        paid(&app, &clerk, json!({"method": "prepaid_online", "external_reference": "PAY-2026-0042"})).await;
    let counted = json!([
        {"method": "cash_usd", "currency": "USD", "amount_cents": 16_000},
        {"method": "cash_local", "currency": "MXN", "amount_cents": 280_500},
        {"method": "card", "currency": "USD", "amount_cents": 16_500},
        {"method": "prepaid_online", "currency": "USD", "amount_cents": 16_500},
    ]);
    let explanation =
        "Five dollars given as change from the float to a family of four that paid with a fifty; \
                       the float was topped up from the safe at noon and noted in the float book, page 12.";
    let closes = "/api/v1/staff/posts/MEX/closeouts";
    let close =
        app.post(closes, Some(&clerk), &json!({"counted": counted, "explanation": explanation})).await;
    assert_eq!(close.status, 201, "{}", close.body);
    let id = close.body["id"].clone();
    let signed = app.post(&format!("{closes}/{id}/sign"), Some(&supervisor), &json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);

    let pdf = app.get(&format!("{closes}/{id}/sheet.pdf"), Some(&clerk)).await;
    assert_eq!(pdf.status, 200);
    if !crate::papers::tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("scratch dir");
    let (file, words) = crate::papers::check(dir.path(), "close-sheet", &pdf.bytes, "en-US");
    for said in [
        "Cash close sheet",
        "Hoja de corte de caja",
        "mex.clerk",
        "mex.supervisor",
        "160.00 USD",
        "-5.00 USD",
        "2805.00 MXN",
        "Efectivo,",
        "pesos",
        &first,
        &last,
        "(UTC−06:00)",
        "float",
        "book,",
    ] {
        assert!(words.contains(said), "{said}: {words}");
    }
    let info = crate::papers::pdfinfo(&file);
    assert!(info.contains("595.") && info.contains("841."), "A4: {info}");
    app.stop().await;
}
