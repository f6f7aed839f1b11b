//! The citizen registry's pages: a visitor registers in Spanish (a field error first), and
//! from the message's link confirms, changes and deletes the stay; a duty officer previews and
//! sends an emergency message that reaches a registrant; an admin sends a newsletter whose
//! `List-Unsubscribe` one-click POST stops it; a supervisor reads the district's registrations.
//! Every page is drawn (`target/screenshots/registry-*.png`, `staff-registry-*`) and checked
//! with axe-core. Over plain HTTP: who may open the staff pages, forged forms, links that are
//! not whole, and the second officer's approval.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{TestApp, TestDb};
use crate::mailbox::Mailbox;
use crate::pages::{cookie_value, hidden_csrf, page, post_fields, set_cookie, staff_session};

/// The path and query of a link in a message: the test app listens on its own port.
fn path_of(link: &str) -> String {
    let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
    after_scheme.find('/').map_or("/".to_string(), |at| after_scheme[at..].to_string())
}

/// `/registry/7?sig=…` as the API's address of the same stay.
fn api_of(link_path: &str) -> String {
    link_path.replacen("/registry/", "/api/v1/registry/stays/", 1)
}

async fn app_with_mail(db: &TestDb, mailbox: &Mailbox, more: &[(&'static str, &'static str)]) -> TestApp {
    let settings = mailbox.settings();
    let mut overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.extend_from_slice(more);
    crate::helpers::spawn_on(db, &overrides).await
}

/// Draws the whole page (the window as tall as the page for the picture) and runs axe-core
/// on it.
async fn look(browser: &Browser, name: &str) {
    let height = browser.run("return document.documentElement.scrollHeight").await.as_u64().unwrap_or(1000);
    let rect = |h: u64| json!({"width": 1280, "height": h.clamp(1000, 6000)});
    browser.call("POST", "/window/rect", Some(rect(height + 120))).await;
    browser.screenshot(name).await;
    browser.call("POST", "/window/rect", Some(rect(1000))).await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "{name}");
}

/// A date input's value, as a date picker would set it (typing into one depends on the locale).
async fn set_date(browser: &Browser, id: &str, date: &str) {
    browser.run(&format!("document.getElementById('{id}').value = '{date}'; return true;")).await;
}

async fn submit_stay(browser: &Browser) {
    browser.click("form.stay > button:not([name])").await;
}

/// A stay registered through the API and confirmed from its message: the path of its link.
async fn confirmed_stay(app: &TestApp, mailbox: &Mailbox, email: &str, newsletter: bool) -> String {
    let stay = json!({
        "travellers": [{"given_names": "Robert", "surname": "Núñez Smith", "date_of_birth": "1980-04-02"}],
        "email": email,
        "phone": "+52 33 1234 5678",
        "arrives": "2026-12-09",
        "departs": "2026-12-30",
        "state": "JAL",
        "emergency_messages": true,
        "newsletter": newsletter,
        "language": "en",
    });
    assert_eq!(app.post("/api/v1/registry/stays", None, &stay).await.status, 202);
    let message = mailbox.wait_for(email, "Confirm your registration").await;
    let link = path_of(&message.link("/registry/"));
    let confirm = api_of(&link).replacen('?', "/confirm?", 1);
    let confirmed = app.post(&confirm, None, &json!({})).await;
    assert_eq!((confirmed.status, &confirmed.body["confirmed"]), (200, &json!(true)), "{}", confirmed.text);
    link
}

#[actix_web::test]
async fn a_visitor_registers_in_spanish_then_confirms_changes_and_deletes_the_stay_from_the_message() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with_mail(&db, &mailbox, &[]).await;

    // From the home page, to the form: what is kept, for how long, and who sees it.
    browser.goto(&format!("{}/", app.address)).await;
    look(&browser, "registry-home-es").await;
    browser.click("main a[href='/registry']").await;
    browser.wait_until("document.location.pathname === '/registry'").await;
    assert_eq!(browser.text("h1").await, "Registre su estancia");
    let main = browser.text("main").await;
    assert!(main.contains("30 días") && main.contains("confidencial"), "{main}");
    assert_eq!(browser.run("return document.querySelectorAll('fieldset.person').length").await, 3);
    look(&browser, "registry-form-es").await;

    // One row more, without JavaScript; what was typed stays.
    browser.type_into("[name='travellers[0].given_names']", "Ana").await;
    browser.click("button[name=add_traveller]").await;
    browser.wait_until("document.querySelector(\"[name='travellers[3].given_names']\")").await;
    assert_eq!(
        browser.run("return document.querySelector(\"[name='travellers[0].given_names']\").value").await,
        "Ana"
    );

    // A second traveller without a surname: said beside that field, in Spanish.
    browser.type_into("[name='travellers[0].surname']", "Núñez").await;
    browser.type_into("[name='travellers[1].given_names']", "Sofía").await;
    browser.type_into("[name='travellers[1].date_of_birth']", "2015-03-02").await;
    browser.type_into("#email", "ana@example.mx").await;
    browser.type_into("#phone", "+52 33 3268 2100").await;
    set_date(&browser, "arrives", "2026-12-10").await;
    set_date(&browser, "departs", "2026-12-20").await;
    browser.click("#state option[value='JAL']").await;
    browser.click("#newsletter").await;
    submit_stay(&browser).await;
    browser.wait_until("document.getElementById('travellers[1].surname-error')").await;
    assert_eq!(browser.text("[id='travellers[1].surname-error']").await, "No puede quedar vacío.");
    let marked = "const i = document.querySelector(\"[name='travellers[1].surname']\");
        return [i.getAttribute('aria-invalid'), i.getAttribute('aria-describedby'),
                document.querySelector(\"[name='travellers[1].given_names']\").value,
                document.getElementById('state').value, document.getElementById('departs').value,
                document.getElementById('newsletter').checked, document.querySelectorAll('fieldset.person').length]";
    assert_eq!(
        browser.run(marked).await,
        json!(["true", "travellers[1].surname-error", "Sofía", "JAL", "2026-12-20", true, 4])
    );
    assert!(browser.text("[role=alert]").await.contains("Revise los datos"));
    look(&browser, "registry-errors-es").await;

    // Registered: the page says where the link went and shows none.
    browser.type_into("[name='travellers[1].surname']", "Núñez").await;
    submit_stay(&browser).await;
    browser.wait_until("document.querySelector('[role=status]')").await;
    assert_eq!(browser.text("h1").await, "Revise su correo");
    assert!(browser.text("[role=status]").await.contains("ana@example.mx"));
    assert_eq!(browser.run("return document.documentElement.outerHTML.includes('sig=')").await, false);
    look(&browser, "registry-sent-es").await;

    // The message's link opens the registration, not yet confirmed.
    let message = mailbox.wait_for("ana@example.mx", "Confirme su registro").await;
    assert!(message.text.contains("Ana Núñez") && message.text.contains("Sofía Núñez"), "{}", message.text);
    let link = path_of(&message.link("/registry/"));
    browser.goto(&format!("{}{link}", app.address)).await;
    assert_eq!(browser.text("h1").await, "Su registro");
    assert!(browser.text("main").await.contains("sin confirmar"));
    assert_eq!(
        app.get(&api_of(&link), None).await.body["confirmed"],
        false,
        "opening the link confirms nothing"
    );
    look(&browser, "registry-manage-unconfirmed-es").await;

    // The button confirms.
    browser.click("form[action$='/confirm'] button").await;
    browser.wait_until("document.location.search.includes('done=confirmed')").await;
    assert!(browser.text("[role=status]").await.contains("Su dirección está confirmada"));
    assert_eq!(browser.run("return document.querySelectorAll(\"form[action$='/confirm']\").length").await, 0);
    assert_eq!(app.get(&api_of(&link), None).await.body["confirmed"], true);
    look(&browser, "registry-manage-confirmed-es").await;

    // A later departure: saved, the rest as it was.
    set_date(&browser, "departs", "2026-12-22").await;
    submit_stay(&browser).await;
    browser.wait_until("document.location.search.includes('done=saved')").await;
    assert!(browser.text("[role=status]").await.contains("Sus cambios están guardados"));
    let stored = app.get(&api_of(&link), None).await.body;
    assert_eq!(
        (
            &stored["departs"],
            &stored["district"],
            &stored["confirmed"],
            stored["travellers"].as_array().map(Vec::len)
        ),
        (&json!("2026-12-22"), &json!("GDL"), &json!(true), Some(2)),
        "{stored}"
    );
    assert_eq!(stored["travellers"][1]["date_of_birth"], "2015-03-02");
    look(&browser, "registry-manage-saved-es").await;

    // Deleting asks first, then deletes; the link opens nothing after.
    browser.click("form[action$='/delete'] button").await;
    browser.wait_until("document.location.pathname.endsWith('/delete')").await;
    assert_eq!(browser.text("h1").await, "¿Borrar su registro?");
    assert_eq!(app.get(&api_of(&link), None).await.status, 200, "asking deletes nothing");
    look(&browser, "registry-delete-es").await;
    browser.click("form[method=post][action$='/delete'] button").await;
    browser.wait_until("document.querySelector('h1').textContent === 'Registro borrado'").await;
    look(&browser, "registry-deleted-es").await;
    assert_eq!(app.get(&api_of(&link), None).await.status, 404);
    browser.goto(&format!("{}{link}", app.address)).await;
    assert_eq!(browser.text("h1").await, "Registro no encontrado");
    look(&browser, "registry-not-found-es").await;
    assert_eq!(page(&app, &link, &[]).await.status, 404);
    app.stop().await;
}

#[actix_web::test]
async fn a_duty_officer_sends_an_emergency_message_and_an_admins_newsletter_stops_with_one_click() {
    let Some(browser) = Browser::start("en-US,en").await else { return };
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with_mail(&db, &mailbox, &[]).await;
    app.staff_token("gdl.duty", "duty_officer", Some("GDL")).await;
    app.staff_token("head.admin", "admin", None).await;
    let link = confirmed_stay(&app, &mailbox, "bob@example.com", true).await;

    // The duty officer starts on the emergency page, their own district ticked and no other.
    browser.staff_sign_in(&app.address, "gdl.duty").await;
    assert_eq!(browser.run("return document.location.pathname").await, "/staff/emergency");
    let offered =
        "return [...document.querySelectorAll('input[name=districts]')].map(i => [i.value, i.checked])";
    assert_eq!(browser.run(offered).await, json!([["GDL", true]]));
    look(&browser, "staff-emergency-en").await;
    set_date(&browser, "from", "2026-12-08").await;
    set_date(&browser, "to", "2026-12-12").await;
    browser.type_into("#subject_en", "Hurricane warning for Jalisco").await;
    browser.type_into("#body_en", "Stay indoors tonight.\nFollow the civil protection authorities.").await;
    browser.type_into("#subject_es", "Alerta de huracán en Jalisco").await;
    browser.type_into("#body_es", "Permanezca en interiores esta noche.").await;
    browser.click("button[value=preview]").await;
    browser.wait_until("document.getElementById('reach')").await;
    assert!(browser.text("#reach").await.contains("would reach 1 address now"));
    let kept = "return [document.getElementById('subject_en').value, document.getElementById('to').value,
        document.querySelector('input[value=GDL]').checked]";
    assert_eq!(browser.run(kept).await, json!(["Hurricane warning for Jalisco", "2026-12-12", true]));
    look(&browser, "staff-emergency-preview-en").await;
    browser.click("button[value=send]").await;
    browser.wait_until("document.getElementById('outcome')").await;
    assert!(
        browser.text("#outcome").await.contains("Queued for 1 address"),
        "{}",
        browser.text("#outcome").await
    );
    assert!(browser.text("#recent").await.contains("Hurricane warning for Jalisco"));
    look(&browser, "staff-emergency-sent-en").await;
    let emergency = mailbox.wait_for("bob@example.com", "Emergency: Hurricane warning for Jalisco").await;
    assert!(emergency.text.contains("Stay indoors tonight."), "{}", emergency.text);
    assert!(emergency.text.contains(&link), "the message carries the registration's link");
    browser.staff_sign_out().await;

    // The admin's newsletter, to all of Mexico.
    browser.staff_sign_in(&app.address, "head.admin").await;
    browser.click("a[href='/staff/newsletter']").await;
    browser.wait_until("document.location.pathname === '/staff/newsletter'").await;
    assert_eq!(browser.run("return document.querySelectorAll('#from, #to').length").await, 0, "no dates");
    look(&browser, "staff-newsletter-en").await;
    browser.click("#district-all").await;
    browser.type_into("#subject_en", "December news from the embassy").await;
    browser.type_into("#body_en", "Holiday hours: closed on December 25.").await;
    browser.type_into("#subject_es", "Noticias de diciembre de la embajada").await;
    browser.type_into("#body_es", "Horario de fiestas: cerrado el 25 de diciembre.").await;
    browser.click("button[value=preview]").await;
    browser.wait_until("document.getElementById('reach')").await;
    assert!(browser.text("#reach").await.contains("1 address"));
    browser.click("button[value=send]").await;
    browser.wait_until("document.getElementById('outcome')").await;
    look(&browser, "staff-newsletter-sent-en").await;

    // The newsletter carries RFC 8058's headers; its address is a page with a button.
    let newsletter = mailbox.wait_for("bob@example.com", "December news from the embassy").await;
    assert!(newsletter.text.contains("Holiday hours"));
    let raw = mailbox.raw("bob@example.com", "December news").expect("the message file");
    let headers = raw.split("\r\n\r\n").next().unwrap_or("").replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = |name: &str| {
        headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())))
            .map(|l| l[name.len() + 1..].trim().to_string())
            .unwrap_or_else(|| panic!("no {name} header in {headers}"))
    };
    assert_eq!(header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    let unsubscribe = header("List-Unsubscribe");
    let url = unsubscribe.trim_start_matches('<').trim_end_matches('>');
    assert!(url.contains("/unsubscribe?sig="), "{url}");
    assert!(newsletter.text.contains(url), "the body offers the same address");
    let unsubscribe_path = path_of(url);
    browser.goto(&format!("{}{unsubscribe_path}", app.address)).await;
    assert_eq!(browser.text("h1").await, "Stop the newsletter");
    look(&browser, "registry-unsubscribe-en").await;

    // A mail program's one-click POST: no cookie, no CSRF token; the signature is enough.
    let client = awc::Client::builder().disable_redirects().finish();
    let mut reply = client
        .post(app.url(&unsubscribe_path))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("List-Unsubscribe=One-Click")
        .await
        .expect("the server answers");
    let body = reply.body().await.expect("a body");
    assert_eq!(reply.status().as_u16(), 200, "{}", String::from_utf8_lossy(&body));
    let stored = app.get(&api_of(&link), None).await.body;
    assert_eq!((&stored["newsletter"], &stored["emergency_messages"]), (&json!(false), &json!(true)));
    // The manage link's signature is not the unsubscribe one, and the reverse.
    let manage_sig = link.split("sig=").nth(1).unwrap_or_default();
    let wrong = unsubscribe_path.split("sig=").next().unwrap_or_default().to_string() + "sig=" + manage_sig;
    assert_eq!(client.post(app.url(&wrong)).send().await.expect("answer").status().as_u16(), 404);
    browser.goto(&format!("{}{unsubscribe_path}", app.address)).await;
    assert_eq!(browser.text("h1").await, "Newsletter stopped");
    look(&browser, "registry-unsubscribed-en").await;
    app.stop().await;
}

#[actix_web::test]
async fn a_supervisor_reads_the_districts_registrations_and_each_read_is_audited() {
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with_mail(&db, &mailbox, &[]).await;
    app.staff_token("gdl.super", "supervisor", Some("GDL")).await;
    let admin = app.staff_token("head.admin", "admin", None).await;
    confirmed_stay(&app, &mailbox, "bob@example.com", false).await;
    // Another district's stay is not on the page.
    let elsewhere = json!({
        "travellers": [{"given_names": "Carla", "surname": "Pérez"}],
        "email": "carla@example.com", "arrives": "2026-12-09", "departs": "2026-12-30",
        "state": "YUC", "emergency_messages": true, "newsletter": false,
    });
    assert_eq!(app.post("/api/v1/registry/stays", None, &elsewhere).await.status, 202);

    browser.staff_sign_in(&app.address, "gdl.super").await;
    browser.click("a[href='/staff/registry']").await;
    browser.wait_until("document.location.pathname === '/staff/registry'").await;
    assert_eq!(browser.text("h1").await, "Registro de ciudadanos · Guadalajara");
    assert!(browser.text("main").await.contains("queda anotado en la bitácora de auditoría"));
    assert_eq!(browser.run("return document.querySelectorAll('select[name=district]').length").await, 0);
    let table = browser.text("#registry").await;
    assert!(table.contains("Robert Núñez Smith") && table.contains("bob@example.com"), "{table}");
    assert!(table.contains("9 de diciembre de 2026") && table.contains("Mensajes de emergencia"), "{table}");
    assert!(!table.contains("Carla"), "{table}");
    look(&browser, "staff-registry-es").await;

    // Present on a day after the stay: nobody.
    set_date(&browser, "on", "2027-01-15").await;
    browser.click("form.filters button").await;
    browser.wait_until("document.location.search.includes('on=2027-01-15')").await;
    assert!(browser.text("[role=status]").await.contains("No hay registros confirmados"));
    look(&browser, "staff-registry-empty-es").await;

    let log = app.get("/api/v1/audit/log?action=stay.read", Some(&admin)).await.body;
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "one registration shown, one read recorded: {log}");
    assert_eq!(entries[0]["post"], "GDL", "{log}");

    // An admin works at every post: picks the district first; nothing is read before.
    browser.staff_sign_out().await;
    browser.staff_sign_in(&app.address, "head.admin").await;
    browser.goto(&format!("{}/staff/registry", app.address)).await;
    assert!(browser.text("main").await.contains("Elija un distrito"));
    assert_eq!(browser.run("return document.querySelectorAll('#registry').length").await, 0);
    look(&browser, "staff-registry-pick-es").await;
    browser.click("#registry-district option[value='MID']").await;
    browser.click("form.filters button").await;
    browser.wait_until("document.location.search.includes('district=MID')").await;
    assert_eq!(browser.text("h1").await, "Registro de ciudadanos · Mérida");
    assert!(
        browser.text("[role=status]").await.contains("No hay registros confirmados"),
        "Carla never confirmed"
    );
    let log = app.get("/api/v1/audit/log?action=stay.read", Some(&admin)).await.body;
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(1), "{log}");
    app.stop().await;
}

/// The cookies and form token of a visitor who is not signed in, from the registration page.
async fn visitor(app: &TestApp) -> (String, String) {
    let form = page(app, "/registry", &[]).await;
    assert_eq!(form.status, 200);
    (cookie_value(&set_cookie(&form, "csrf").expect("a CSRF cookie")), hidden_csrf(&form.text))
}

fn once_token(html: &str) -> String {
    let at = html.find(r#"name="once" value=""#).expect("a once field") + r#"name="once" value=""#.len();
    html[at..].split('"').next().unwrap_or("").to_string()
}

#[actix_web::test]
async fn the_pages_answer_each_role_a_forged_form_and_a_link_that_is_not_whole() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with_mail(&db, &mailbox, &[("CONSULAR_DESK_EMERGENCY_APPROVAL", "true")]).await;
    for (username, role, post) in [
        ("mex.clerk", "clerk", Some("MEX")),
        ("the.auditor", "auditor", None),
        ("gdl.super", "supervisor", Some("GDL")),
        ("gdl.duty", "duty_officer", Some("GDL")),
        ("gdl.duty2", "duty_officer", Some("GDL")),
        ("head.admin", "admin", None),
    ] {
        app.staff_token(username, role, post).await;
    }
    let mut sessions = Vec::new();
    for username in ["mex.clerk", "the.auditor", "gdl.super", "gdl.duty", "head.admin"] {
        sessions.push((username, staff_session(&app, username).await));
    }
    let admitted: [(&str, &[&str]); 3] = [
        ("/staff/registry", &["gdl.super", "gdl.duty", "head.admin"]),
        ("/staff/emergency", &["gdl.duty", "head.admin"]),
        ("/staff/newsletter", &["head.admin"]),
    ];
    for (path, who) in admitted {
        let anonymous = page(&app, path, &[]).await;
        assert_eq!(
            (anonymous.status, anonymous.headers.get("location").and_then(|l| l.to_str().ok())),
            (303, Some("/staff/sign-in")),
            "{path} without a session"
        );
        for (username, (cookies, token, _)) in &sessions {
            let reply = page(&app, path, &[("Cookie", cookies)]).await;
            let menu_offers = reply.text.contains(&format!("href=\"{path}\""));
            if who.contains(username) {
                assert_eq!(reply.status, 200, "{path} as {username}");
                assert!(menu_offers, "{username}'s menu offers {path}");
            } else {
                assert_eq!(reply.status, 403, "{path} as {username}");
                assert!(reply.text.contains("Your role can't open this page"), "{path} as {username}");
                assert!(!menu_offers, "{username}'s menu does not offer {path}");
                if path != "/staff/registry" {
                    let posted =
                        post_fields(&app, path, cookies, &[("csrf", token), ("action", "send")]).await;
                    assert_eq!(posted.status, 403, "POST {path} as {username}");
                }
            }
        }
    }

    // Public: a forged form registers nothing; a link that is not whole opens nothing.
    let (cookies, token) = visitor(&app).await;
    let stay = [
        ("travellers[0].given_names", "Ana"),
        ("travellers[0].surname", "Núñez"),
        ("email", "ana@example.mx"),
        ("arrives", "2026-12-10"),
        ("departs", "2026-12-20"),
        ("state", "JAL"),
        ("emergency_messages", "yes"),
        ("language", "es"),
    ];
    let forged = [&stay[..], &[("csrf", "forged")]].concat();
    let refused = post_fields(&app, "/registry", &cookies, &forged).await;
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("Ana"), "what was typed stays");
    let registered =
        post_fields(&app, "/registry", &cookies, &[&stay[..], &[("csrf", &token)]].concat()).await;
    assert_eq!(registered.status, 200, "{}", registered.text);
    let message = mailbox.wait_for("ana@example.mx", "Confirme su registro").await;
    let link = path_of(&message.link("/registry/"));
    let id = link.trim_start_matches("/registry/").split('?').next().unwrap_or("").to_string();
    for path in [
        format!("/registry/{id}"),
        format!("/registry/{id}?sig=AAAAAAAAAAAAAAAAAAAAAA"),
        format!("/registry/{id}/delete?sig=nothing"),
        format!("/registry/{id}/unsubscribe?sig=nothing"),
        "/registry/seven?sig=x".to_string(),
        format!("/registry/999999?{}", link.split('?').nth(1).unwrap_or("")),
    ] {
        let reply = page(&app, &path, &[]).await;
        assert_eq!(reply.status, 404, "{path}");
        assert!(
            reply.text.contains("no abre ningún registro") || reply.text.contains("opens no registration")
        );
    }
    let sig = link.split("sig=").nth(1).unwrap_or_default().to_string();
    let confirm = format!("/registry/{id}/confirm");
    assert_eq!(post_fields(&app, &confirm, &cookies, &[("csrf", "forged"), ("sig", &sig)]).await.status, 403);
    let wrong = post_fields(&app, &confirm, &cookies, &[("csrf", &token), ("sig", "AAAA")]).await;
    assert_eq!(wrong.status, 404);
    assert_eq!(app.get(&api_of(&link), None).await.body["confirmed"], false);
    assert_eq!(post_fields(&app, &confirm, &cookies, &[("csrf", &token), ("sig", &sig)]).await.status, 303);
    assert_eq!(app.get(&api_of(&link), None).await.body["confirmed"], true);
    let delete = format!("/registry/{id}/delete");
    assert_eq!(post_fields(&app, &delete, &cookies, &[("csrf", "forged"), ("sig", &sig)]).await.status, 403);
    assert_eq!(app.get(&api_of(&link), None).await.status, 200, "a forged form deletes nothing");

    // With approval on, an officer's message waits; the writer may not approve it; another
    // officer does, once.
    let (duty, duty_token, _) = &sessions.iter().find(|(u, _)| *u == "gdl.duty").expect("duty").1;
    let compose = page(&app, "/staff/emergency", &[("Cookie", duty)]).await;
    let message = [
        ("csrf", duty_token.as_str()),
        ("once", &once_token(&compose.text)),
        ("districts", "GDL"),
        ("from", "2026-12-08"),
        ("to", "2026-12-12"),
        ("subject_en", "Road closures"),
        ("body_en", "Highway 15 is closed."),
        ("subject_es", "Cierres de carreteras"),
        ("body_es", "La carretera 15 está cerrada."),
        ("action", "send"),
    ];
    let sent = post_fields(&app, "/staff/emergency", duty, &message).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    let to = sent.headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_string();
    let bulletin = to.split("sent=").nth(1).unwrap_or("").to_string();
    let again = post_fields(&app, "/staff/emergency", duty, &message).await;
    assert_eq!(again.headers.get("location").and_then(|l| l.to_str().ok()), Some(to.as_str()), "sent once");
    let written = page(&app, &to, &[("Cookie", duty)]).await;
    assert!(written.text.contains("not sent until a second officer approves it"), "{}", written.text);
    assert!(written.text.contains("Another officer approves it."));
    let approve = format!("/staff/emergency/{bulletin}/approve");
    let own = post_fields(&app, &approve, duty, &[("csrf", duty_token)]).await;
    assert_eq!(own.status, 403);
    assert!(own.text.contains("You wrote this message: another officer must approve it."), "{}", own.text);
    let (other, other_token, _) = staff_session(&app, "gdl.duty2").await;
    let listed = page(&app, "/staff/emergency", &[("Cookie", &other)]).await;
    assert!(listed.text.contains(&format!("action=\"{approve}\"")), "the other officer gets the button");
    let approved = post_fields(&app, &approve, &other, &[("csrf", &other_token)]).await;
    assert_eq!(approved.status, 303);
    let twice = post_fields(&app, &approve, &other, &[("csrf", &other_token)]).await;
    assert_eq!(twice.status, 409);
    assert!(twice.text.contains("approved and queued already"));
    let list: Value =
        app.get("/api/v1/staff/emergency-messages", Some(&app.sign_in_staff("head.admin").await)).await.body;
    assert_eq!(list[0]["state"], "queued", "{list}");
    app.stop().await;
}
