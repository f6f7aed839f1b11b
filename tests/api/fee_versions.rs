//! The fee schedule is global: only an admin bound to no post adds a version or withdraws one
//! that has taken effect nowhere yet; a post's admin gets 403 on the API and the pages.

use chrono::Duration;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_on, TestApp, TestDb};
use crate::pages::{hidden_csrf, page, post_form, staff_session};

fn version(code: &str, cents: i64, from: chrono::NaiveDate) -> Value {
    json!({"code": code, "description": "Consular Report of Birth Abroad", "cfr_item": "22 CFR 22.1 item 3",
           "amount_cents": cents, "effective_from": from.to_string()})
}

/// What `code` costs on `date`, as the public fee list says.
async fn price_on(app: &TestApp, code: &str, date: chrono::NaiveDate) -> Option<i64> {
    let fees = app.get(&format!("/api/v1/fees?date={date}"), None).await.body;
    fees.as_array()?.iter().find(|f| f["code"] == code)?["amount_cents"].as_i64()
}

fn withdrawal(code: &str, from: chrono::NaiveDate) -> String {
    format!("/api/v1/admin/fees/{code}/versions/{from}")
}

#[actix_web::test]
async fn an_admin_of_one_post_changes_no_fee_anywhere() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let mex_admin = app.staff_token("mex.admin", "admin", Some("MEX")).await;
    let later = app.now().date_naive() + Duration::days(10);

    let r = app.post("/api/v1/admin/fees", Some(&mex_admin), &version("crba", 1, later)).await;
    assert_problem(&r, 403, "wrong_post");
    assert_eq!(price_on(&app, "crba", later).await, Some(10_000), "the price at every post is unchanged");

    // The page: read-only, and its form answers 403 too.
    let (cookies, token, _) = staff_session(&app, "mex.admin").await;
    let shown = page(&app, "/staff/admin/fees", &[("Cookie", &cookies)]).await;
    assert_eq!(shown.status, 200);
    assert!(shown.text.contains("only an admin of every post"), "{}", shown.text);
    assert!(!shown.text.contains(r#"action="/staff/admin/fees""#), "no form to add a version");
    let form = format!("code=crba&description=x&cfr_item=y&amount=0.01&effective_from={later}&csrf={token}");
    let posted = post_form(&app, "/staff/admin/fees", &cookies, &form).await;
    assert_eq!(posted.status, 403, "{}", posted.text);
    assert_eq!(price_on(&app, "crba", later).await, Some(10_000));

    // A bound admin can't withdraw either, even a version an unbound admin added.
    let admin = app.admin_token().await;
    let added = app.post("/api/v1/admin/fees", Some(&admin), &version("crba", 12_500, later)).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let r = app
        .call("DELETE", &withdrawal("crba", later), Some(&mex_admin), Some(&json!({"reason": "typo"})))
        .await;
    assert_problem(&r, 403, "wrong_post");
    let posted = post_form(
        &app,
        "/staff/admin/fees/withdraw",
        &cookies,
        &format!("code=crba&effective_from={later}&reason=typo&csrf={token}"),
    )
    .await;
    assert_eq!(posted.status, 403, "{}", posted.text);
    assert_eq!(price_on(&app, "crba", later).await, Some(12_500), "still the new price");
    app.stop().await;
}

#[actix_web::test]
async fn a_version_not_yet_in_force_is_withdrawn_once_with_a_reason_and_audited() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let later = app.now().date_naive() + Duration::days(10);
    let added = app.post("/api/v1/admin/fees", Some(&admin), &version("crba", 1, later)).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(price_on(&app, "crba", later).await, Some(1), "the mistyped price would apply");

    let path = withdrawal("crba", later);
    let reason = json!({"reason": "typed one cent for 125 dollars"});
    assert_problem(&app.call("DELETE", &path, None, Some(&reason)).await, 401, "missing_token");
    assert_problem(&app.call("DELETE", &path, Some(&clerk), Some(&reason)).await, 403, "insufficient_role");
    let r = app.call("DELETE", &path, Some(&admin), Some(&json!({"reason": "  "}))).await;
    assert_problem(&r, 422, "validation_failed");
    assert_problem(
        &app.call("DELETE", &withdrawal("crba", later + Duration::days(1)), Some(&admin), Some(&reason))
            .await,
        404,
        "not_found",
    );
    assert_problem(
        &app.call("DELETE", "/api/v1/admin/fees/crba/versions/not-a-date", Some(&admin), Some(&reason)).await,
        404,
        "not_found",
    );

    // Thirty admins' clicks at once: one withdrawal, the rest told it is withdrawn already.
    let sends = (0..30).map(|_| app.call("DELETE", &path, Some(&admin), Some(&reason)));
    let replies = join_all(sends).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_problem(r, 409, "fee_version_withdrawn");
    }
    assert_eq!(price_on(&app, "crba", later).await, Some(10_000), "the price in force before goes on");

    let log = app.get("/api/v1/audit/log?action=fee.version_withdrawn", Some(&admin)).await;
    let entries = log.body["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{}", log.body);
    assert!(!log.text.contains("typed one cent"), "the reason stays with the withdrawal, not in the trail");

    // The same date may carry a corrected version now? No: the withdrawn row keeps its date;
    // a correction is a version from another date.
    let fixed = app
        .post("/api/v1/admin/fees", Some(&admin), &version("crba", 12_500, later + Duration::days(1)))
        .await;
    assert_eq!(fixed.status, 201, "{}", fixed.body);
    assert_eq!(price_on(&app, "crba", later + Duration::days(1)).await, Some(12_500));
    app.stop().await;
}

#[actix_web::test]
async fn a_version_in_force_at_any_post_is_never_withdrawn() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    // The seeded schedule has been in force since 2021-12-27 everywhere.
    let seeded = "2021-12-27".parse().expect("date");
    let r =
        app.call("DELETE", &withdrawal("crba", seeded), Some(&admin), Some(&json!({"reason": "x"}))).await;
    assert_problem(&r, 409, "fee_version_in_force");
    assert_eq!(price_on(&app, "crba", app.now().date_naive()).await, Some(10_000));
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_of_every_post_withdraws_from_the_page() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.staff_token("chief.admin", "admin", None).await;
    let later = app.now().date_naive() + Duration::days(20);
    let added = app.post("/api/v1/admin/fees", Some(&admin), &version("crba", 7, later)).await;
    assert_eq!(added.status, 201, "{}", added.body);

    let (cookies, _, _) = staff_session(&app, "chief.admin").await;
    let shown = page(&app, "/staff/admin/fees", &[("Cookie", &cookies)]).await;
    assert!(shown.text.contains("Not yet in force") && shown.text.contains("US$0.07"), "{}", shown.text);
    let token = hidden_csrf(&shown.text);
    let done = post_form(
        &app,
        "/staff/admin/fees/withdraw",
        &cookies,
        &format!("code=crba&effective_from={later}&reason=wrong+amount&csrf={token}"),
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(price_on(&app, "crba", later).await, Some(10_000));
    let shown = page(&app, "/staff/admin/fees", &[("Cookie", &cookies)]).await;
    assert!(!shown.text.contains("US$0.07"), "no longer offered");
    app.stop().await;
}
