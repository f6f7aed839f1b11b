//! Pages by role: each member's menu shows only what their role opens, each role starts on
//! its own page, a refusal leads back to a page the member may open, and the audit log page
//! speaks in local times and usernames with the API's filters.

use crate::helpers::{spawn_app, TestApp};
use crate::pages::{cookie_value, hidden_csrf, page, post_form, set_cookie, staff_session};

/// The menu's links on a page, in order.
fn menu(html: &str) -> Vec<String> {
    let Some(nav) = html.split("<nav").nth(1).and_then(|n| n.split("</nav>").next()) else {
        return Vec::new();
    };
    nav.split("href=\"")
        .skip(1)
        .filter_map(|l| l.split('"').next())
        .filter(|h| h.starts_with("/staff"))
        .map(String::from)
        .collect()
}

/// Where signing in as `username` leads.
async fn start_of(app: &TestApp, username: &str) -> String {
    let form = page(app, "/staff/sign-in", &[]).await;
    let csrf = cookie_value(&set_cookie(&form, "csrf").expect("a CSRF cookie"));
    let password = crate::helpers::STAFF_PASSWORD.replace(' ', "+");
    let body = format!("username={username}&password={password}&csrf={}", hidden_csrf(&form.text));
    let r = post_form(app, "/staff/sign-in", &csrf, &body).await;
    assert_eq!(r.status, 303, "{username} signs in");
    r.headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_string()
}

#[actix_web::test]
async fn each_role_sees_its_own_menu_starts_on_its_own_page_and_is_led_back_there_when_refused() {
    let (app, _db) = spawn_app().await;
    for (username, role, post) in [
        ("mex.clerk", "clerk", Some("MEX")),
        ("mex.super", "supervisor", Some("MEX")),
        ("the.auditor", "auditor", None),
        ("head.admin", "admin", None),
    ] {
        app.staff_token(username, role, post).await;
    }
    assert_eq!(start_of(&app, "mex.clerk").await, "/staff");
    assert_eq!(start_of(&app, "mex.super").await, "/staff");
    assert_eq!(start_of(&app, "the.auditor").await, "/staff/reports");
    assert_eq!(start_of(&app, "head.admin").await, "/staff/admin/accounts");

    let (clerk, _, _) = staff_session(&app, "mex.clerk").await;
    let board = page(&app, "/staff", &[("Cookie", &clerk)]).await;
    assert_eq!(board.status, 200);
    let clerk_menu = menu(&board.text);
    for path in &clerk_menu {
        assert_ne!(
            page(&app, path, &[("Cookie", &clerk)]).await.status,
            403,
            "the clerk's menu offers {path}"
        );
    }
    for hidden in ["/staff/admin/accounts", "/staff/admin/schedules", "/staff/audit", "/staff/reports"] {
        assert!(!clerk_menu.iter().any(|p| p == hidden), "a clerk is not offered {hidden}: {clerk_menu:?}");
    }
    assert!(board.text.contains("action=\"/staff/search\""), "the search box is on the page");
    assert!(board.text.contains("mex.clerk"), "who is signed in is shown");

    let (auditor, _, _) = staff_session(&app, "the.auditor").await;
    let reports = page(&app, "/staff/reports", &[("Cookie", &auditor)]).await;
    let auditor_menu = menu(&reports.text);
    assert!(
        auditor_menu.contains(&"/staff/audit".to_string()) && !auditor_menu.contains(&"/staff".to_string())
    );
    for path in &auditor_menu {
        assert_ne!(
            page(&app, path, &[("Cookie", &auditor)]).await.status,
            403,
            "the auditor's menu offers {path}"
        );
    }
    // Refused, the auditor is led back to the fee report, not to a board they can't open.
    let refused = page(&app, "/staff", &[("Cookie", &auditor)]).await;
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("href=\"/staff/reports\""), "{}", refused.text);

    let (admin, _, _) = staff_session(&app, "head.admin").await;
    let accounts = page(&app, "/staff/admin/accounts", &[("Cookie", &admin)]).await;
    let every_page = menu(&accounts.text);
    assert!(every_page.contains(&"/staff/admin/accounts".to_string()));
    // And the menus leave nothing out: every page a role opens is in its menu.
    for (who, cookie, offered) in [("clerk", &clerk, &clerk_menu), ("auditor", &auditor, &auditor_menu)] {
        for path in every_page.iter().filter(|p| !offered.contains(p)) {
            let status = page(&app, path, &[("Cookie", cookie)]).await.status;
            assert_eq!(status, 403, "the {who} opens {path}, which their menu leaves out");
        }
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_audit_log_page_shows_local_times_and_usernames_and_filters_like_the_api() {
    let (app, _db) = spawn_app().await;
    app.staff_token("head.admin", "admin", None).await;
    app.staff_token("the.auditor", "auditor", None).await;
    let (admins, admin_csrf, _) = staff_session(&app, "head.admin").await;
    let password = crate::helpers::STAFF_PASSWORD.replace(' ', "+");
    let opened = post_form(
        &app,
        "/staff/admin/accounts",
        &admins,
        &format!("username=gdl.clerk&password={password}&role=clerk&post=GDL&csrf={admin_csrf}"),
    )
    .await;
    assert_eq!(opened.status, 303);

    let (auditor, _, _) = staff_session(&app, "the.auditor").await;
    let log = page(&app, "/staff/audit?username=head.admin", &[("Cookie", &auditor)]).await;
    assert_eq!(log.status, 200);
    // 10:00 in Mexico City, printed with its offset; never the UTC 16:00 the entry stores.
    assert!(log.text.contains("2026-12-08 10:") && log.text.contains("UTC−06:00"), "{}", log.text);
    assert!(log.text.contains("head.admin (administrator)"), "named by username and role");
    assert!(!log.text.contains("staff 1"), "no bare ids");
    assert!(!log.text.contains("the.auditor ("), "filtered to head.admin's entries only");
    // Spanish, and another filter: nothing matches a username nobody has.
    let none =
        page(&app, "/staff/audit?username=nobody", &[("Cookie", &auditor), ("Accept-Language", "es")]).await;
    assert!(none.text.contains("Ninguna entrada coincide"), "{}", none.text);
    let by_action = page(&app, "/staff/audit?action=staff.created&post=all", &[("Cookie", &auditor)]).await;
    assert!(by_action.text.contains("staff.created") && !by_action.text.contains("staff.signed_in"));
    app.stop().await;
}

#[actix_web::test]
async fn a_refused_account_form_comes_back_with_the_error_beside_its_field_and_what_was_typed() {
    let (app, _db) = spawn_app().await;
    app.staff_token("head.admin", "admin", None).await;
    let (admins, csrf, _) = staff_session(&app, "head.admin").await;
    let short = post_form(
        &app,
        "/staff/admin/accounts",
        &admins,
        &format!("username=gdl.clerk&password=short&role=supervisor&post=GDL&csrf={csrf}"),
    )
    .await;
    assert_eq!(short.status, 422);
    assert!(short.text.contains("id=\"new_password-error\""), "beside the password");
    assert!(!short.text.contains("password: must"), "no field names shown");
    assert!(short.text.contains("value=\"gdl.clerk\""), "the username is kept");
    assert!(short.text.contains("<option value=\"GDL\" selected>"), "the post is kept");
    assert!(short.text.contains("<option value=\"supervisor\" selected>"), "the role is kept");
    // A post is picked from a list: no text box to mistype "MXE" in.
    assert!(!short.text.contains("name=\"post\" type=\"text\""));
    app.stop().await;
}

#[actix_web::test]
async fn refused_closure_and_fee_forms_come_back_typed_with_the_error_beside_the_field() {
    let (app, _db) = spawn_app().await;
    app.staff_token("head.admin", "admin", None).await;
    let (admins, csrf, _) = staff_session(&app, "head.admin").await;
    // No date: said beside the date, the reason kept.
    let closure = post_form(
        &app,
        "/staff/admin/closures",
        &admins,
        &format!("post=GDL&date=&from=&to=&reason=Hurricane+warning&csrf={csrf}"),
    )
    .await;
    assert_eq!(closure.status, 422, "{}", closure.text);
    assert!(closure.text.contains("id=\"closure_date-error\""));
    assert!(closure.text.contains("value=\"Hurricane warning\""));
    // A time that isn't one: the rule's message beside "from", the rest kept.
    let day = (crate::helpers::tuesday_10_mex().date_naive() + chrono::Duration::days(3)).to_string();
    let closure = post_form(
        &app,
        "/staff/admin/closures",
        &admins,
        &format!("post=GDL&date={day}&from=25:00&to=12:00&reason=Drill&csrf={csrf}"),
    )
    .await;
    assert_eq!(closure.status, 422, "{}", closure.text);
    assert!(closure.text.contains("id=\"closure_from-error\""), "{}", closure.text);
    assert!(closure.text.contains("value=\"25:00\"") && closure.text.contains(&format!("value=\"{day}\"")));

    // An amount with a decimal comma is read; one that isn't a number is said beside it.
    let later = (crate::helpers::tuesday_10_mex().date_naive() + chrono::Duration::days(40)).to_string();
    let bad = post_form(
        &app,
        "/staff/admin/fees",
        &admins,
        &format!(
            "code=crba&description=CRBA&cfr_item=22+CFR+22.1&amount=cien&effective_from={later}&csrf={csrf}"
        ),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("id=\"fee_amount-error\"") && bad.text.contains("value=\"cien\""));
    let good = post_form(
        &app,
        "/staff/admin/fees",
        &admins,
        &format!("code=crba&description=CRBA&cfr_item=22+CFR+22.1&amount=110,50&effective_from={later}&csrf={csrf}"),
    )
    .await;
    assert_eq!(good.status, 303, "{}", good.text);
    let listed = page(&app, "/staff/admin/fees", &[("Cookie", &admins)]).await;
    assert!(listed.text.contains("110.50"), "the decimal comma was read as 110.50");
    app.stop().await;
}
