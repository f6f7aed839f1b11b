//! The web pages over plain HTTP: language negotiation and the remembered choice, the
//! security headers every page carries, field errors and statuses on the tracking page, and
//! a language switch that can't be turned into an open redirect. (The browser journeys are in
//! `browser.rs`.)

use crate::helpers::{spawn_on, Reply, TestApp, TestDb};

/// A page as the server answers it, redirects not followed.
async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let client = awc::Client::builder().disable_redirects().finish();
    let mut request = client.get(format!("{}{path}", app.address));
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let mut response = request.send().await.expect("the server answers");
    let bytes = response.body().limit(8 << 20).await.expect("body");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    Reply {
        status: response.status().as_u16(),
        body: serde_json::Value::Null,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
        content_type,
        headers: response.headers().clone(),
    }
}

#[actix_web::test]
async fn pages_speak_the_visitors_language_and_carry_the_security_headers() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let spanish = page(&app, "/", &[("Accept-Language", "es-MX,es;q=0.9,en;q=0.4")]).await;
    assert_eq!(spanish.status, 200);
    assert!(spanish.text.contains(r#"<html lang="es">"#), "{}", &spanish.text[..200.min(spanish.text.len())]);
    assert!(spanish.text.contains("Oficinas y teléfonos de emergencia"));
    assert!(spanish.text.contains("+52 55 5080 2000"), "the emergency line");
    let english = page(&app, "/", &[]).await;
    assert!(english.text.contains(r#"<html lang="en">"#) && english.text.contains("US$50.00"));
    for reply in [&spanish, &english] {
        let header =
            |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "same-origin");
        assert_eq!(header("x-frame-options"), "DENY");
        assert!(reply.content_type.starts_with("text/html"));
        assert!(!reply.text.contains("style=") && !reply.text.contains("<script"), "nothing inline");
    }

    // The switch remembers the choice and goes back only to a page of this site.
    let switched = page(&app, "/lang/es?next=/track", &[]).await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.headers.get("location").and_then(|v| v.to_str().ok()), Some("/track"));
    let cookie = switched.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(
        cookie.starts_with("lang=es") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let remembered = page(&app, "/track", &[("Cookie", "lang=es"), ("Accept-Language", "en")]).await;
    assert!(remembered.text.contains(r#"<html lang="es">"#));
    for sneaky in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "evil"] {
        let away = page(&app, &format!("/lang/en?next={sneaky}"), &[]).await;
        assert_eq!(away.headers.get("location").and_then(|v| v.to_str().ok()), Some("/"), "{sneaky}");
    }
    assert_eq!(page(&app, "/lang/fr", &[]).await.status, 404);
    app.stop().await;
}

#[actix_web::test]
async fn the_tracking_page_ties_errors_to_fields_and_answers_with_the_right_status() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let empty = page(&app, "/track?number=&surname=", &[]).await;
    assert_eq!(empty.status, 422);
    assert!(
        empty.text.contains(r#"aria-describedby="number-error""#)
            && empty.text.contains(r#"id="number-error""#)
    );
    let long = "A".repeat(41);
    let too_long = page(&app, &format!("/track?number={long}&surname=N%C3%BA%C3%B1ez"), &[]).await;
    assert_eq!(too_long.status, 422);
    assert!(too_long.text.contains("N\u{fa}\u{f1}ez"), "what was typed stays in the field");
    let unknown = page(&app, "/track?number=ABCDEFGHJKMNP&surname=Nunez", &[]).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text.contains("No document matches"));
    // Markup typed into a field comes back as text, never as markup.
    let script = page(&app, "/track?number=%3Cscript%3Ex%3C%2Fscript%3E&surname=a", &[]).await;
    assert!(!script.text.contains("<script>x</script>") && script.text.contains("&lt;script&gt;"));
    app.stop().await;
}
