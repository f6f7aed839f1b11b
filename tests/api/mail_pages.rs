//! The account's mail as an applicant meets it in a browser: the pages say an unconfirmed
//! address can't book yet, the messages themselves (their HTML bodies, drawn and checked with
//! axe-core like the pages), the links they carry, the settings page, and a forgotten password
//! set again. Screenshots go to `target/screenshots/`.

use crate::browser::Browser;
use crate::helpers::{spawn_on, TestApp, TestDb};
use crate::mailbox::{Mailbox, Received};

const PASSWORD: &str = "una frase larga de acceso";

/// The path and query of a link in a message: the app in the test listens on its own port, not
/// on the public address the message names.
fn path_of(link: &str) -> String {
    let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
    after_scheme.find('/').map_or("/".to_string(), |at| after_scheme[at..].to_string())
}

/// Opens a message's HTML body as a mail client would show it, draws it, and runs axe-core on it.
async fn look_at(browser: &Browser, message: &Received, name: &str) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let file = dir.join(format!("{name}.html"));
    std::fs::write(&file, &message.html).expect("the body written");
    browser.goto(&format!("file://{}", file.display())).await;
    assert_eq!(browser.text("h1").await, message.subject, "the body's heading is the subject");
    browser.screenshot(name).await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "{name}");
}

async fn app_with_mail(db: &TestDb, mailbox: &Mailbox) -> TestApp {
    let settings = mailbox.settings();
    let mut overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The default rule: an address is confirmed before booking.
    overrides.push(("CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL", ""));
    spawn_on(db, &overrides).await
}

#[actix_web::test]
async fn an_applicant_confirms_the_address_from_the_message_sets_the_account_and_resets_a_forgotten_password()
{
    let Some(browser) = Browser::start("es-MX,es").await else { return };
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with_mail(&db, &mailbox).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;

    // Registered, not yet confirmed: the pages say why booking waits, and where to go.
    browser.goto(&format!("{}/register", app.address)).await;
    browser.type_into("#full_name", "Ana Núñez").await;
    browser.type_into("#email", "ana@example.mx").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.location.pathname === '/my'").await;
    assert!(browser.text("[role=alert]").await.contains("Antes de reservar, confirme su correo"));
    browser.screenshot("my-unconfirmed-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "my appointments, unconfirmed");
    browser.click("a[href='/book']").await;
    browser.wait_until("document.location.pathname === '/book'").await;
    assert!(browser.text("[role=alert]").await.contains("ana@example.mx"));
    assert_eq!(browser.run("return document.querySelectorAll('select').length").await, 0, "no booking form");

    // The message, as a mail client shows it, and its link.
    let message = mailbox.wait_for("ana@example.mx", "Confirme su correo").await;
    look_at(&browser, &message, "mail-confirm-email-es").await;
    browser.goto(&format!("{}{}", app.address, path_of(&message.link("/confirm-email")))).await;
    assert_eq!(browser.text("h1").await, "Confirme su correo electrónico");
    browser.screenshot("confirm-email-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "confirming");
    browser.click("form[action='/confirm-email'] button").await;
    browser.wait_until("document.querySelector('[role=status]')").await;
    assert!(browser.text("[role=status]").await.contains("Su dirección está confirmada"));

    // The settings: the address confirmed, the language and notices saved.
    browser.goto(&format!("{}/my/settings", app.address)).await;
    assert_eq!(browser.text("h1").await, "Mi cuenta");
    assert!(browser.text("main").await.contains("ana@example.mx — confirmado"));
    browser.click("input[name=language][value=en]").await;
    browser.click("input[name=document_notices]").await;
    browser.click("form[action='/my/settings'] button").await;
    browser.wait_until("document.querySelector('[role=status]')").await;
    assert_eq!(browser.text("[role=status]").await, "Guardado.");
    let saved = "return [document.querySelector('input[name=language][value=en]').checked,
        document.querySelector('input[name=document_notices]').checked]";
    assert_eq!(browser.run(saved).await, serde_json::json!([true, false]));
    browser.screenshot("my-settings-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "settings");

    // A new address needs the current password; the error stands by its field.
    browser.type_into("#email", "ana.nueva@example.mx").await;
    browser.type_into("#current_password", "not the password at all").await;
    browser.click("form[action='/my/email'] button").await;
    browser.wait_until("document.getElementById('current_password-error')").await;
    browser.screenshot("my-settings-wrong-password-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "settings with an error");

    // Booking is open now.
    browser.goto(&format!("{}/book", app.address)).await;
    assert_eq!(browser.run("return !!document.querySelector('select#service')").await, true);

    // Forgotten password: from the sign-in page, through the message, to a new password.
    browser.goto(&format!("{}/my", app.address)).await;
    browser.click("form[action='/sign-out'] button").await;
    browser.wait_until("document.location.pathname === '/'").await;
    browser.goto(&format!("{}/sign-in", app.address)).await;
    browser.click("a[href='/forgot-password']").await;
    browser.wait_until("document.location.pathname === '/forgot-password'").await;
    browser.click("form[action='/forgot-password'] button").await;
    browser.wait_until("document.getElementById('email-error')").await;
    browser.screenshot("forgot-password-errors-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "forgot password");
    browser.type_into("#email", "ana@example.mx").await;
    browser.click("form[action='/forgot-password'] button").await;
    browser.wait_until("document.querySelector('[role=status]')").await;

    // The account's messages are in English now (the setting above).
    let message = mailbox.wait_for("ana@example.mx", "Choose a new password").await;
    look_at(&browser, &message, "mail-password-reset-en").await;
    browser.goto(&format!("{}{}", app.address, path_of(&message.link("/reset-password")))).await;
    browser.type_into("#new_password", "short").await;
    browser.click("form[action='/reset-password'] button").await;
    browser.wait_until("document.getElementById('new_password-error')").await;
    browser.screenshot("reset-password-errors-es").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "reset password");
    browser.type_into("#new_password", "otra frase larga y nueva").await;
    browser.click("form[action='/reset-password'] button").await;
    browser.wait_until("document.querySelector('[role=status]')").await;
    assert_eq!(browser.text("h1").await, "Contraseña cambiada");

    // The old password no longer opens the account; the new one does.
    browser.goto(&format!("{}/sign-in", app.address)).await;
    browser.type_into("#email", "ana@example.mx").await;
    browser.type_into("#password", "otra frase larga y nueva").await;
    browser.click("button[type=submit]").await;
    browser.wait_until("document.location.pathname === '/my'").await;
    assert_eq!(browser.run("return document.querySelectorAll('[role=alert]').length").await, 0);

    let told = mailbox.wait_for("ana@example.mx", "password was changed").await;
    look_at(&browser, &told, "mail-password-changed-en").await;
    app.stop().await;
}
