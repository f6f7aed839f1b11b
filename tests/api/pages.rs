//! The web pages over plain HTTP: language negotiation and the remembered choice, the
//! security headers every page carries, field errors and statuses on the tracking page, and
//! a language switch that can't be turned into an open redirect. (The browser journeys are in
//! `browser.rs`.)

use crate::helpers::{spawn_on, Reply, TestApp, TestDb};

/// A page as the server answers it, redirects not followed.
pub(crate) async fn page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
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

/// A form posted as a browser posts it, with `cookies`; redirects not followed.
pub(crate) async fn post_form(app: &TestApp, path: &str, cookies: &str, body: &str) -> Reply {
    let client = awc::Client::builder().disable_redirects().finish();
    let mut response = client
        .post(format!("{}{path}", app.address))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("Cookie", cookies.to_string()))
        .send_body(body.to_string())
        .await
        .expect("the server answers");
    let bytes = response.body().limit(8 << 20).await.expect("body");
    Reply {
        status: response.status().as_u16(),
        body: serde_json::Value::Null,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
        content_type: String::new(),
        headers: response.headers().clone(),
    }
}

/// A form posted field by field, each name and value encoded as a browser encodes them.
pub(crate) async fn post_fields(app: &TestApp, path: &str, cookies: &str, fields: &[(&str, &str)]) -> Reply {
    let client = awc::Client::builder().disable_redirects().finish();
    let mut response = client
        .post(format!("{}{path}", app.address))
        .insert_header(("Cookie", cookies.to_string()))
        .send_form(&fields)
        .await
        .expect("the server answers");
    let bytes = response.body().limit(8 << 20).await.expect("body");
    Reply {
        status: response.status().as_u16(),
        body: serde_json::Value::Null,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
        content_type: String::new(),
        headers: response.headers().clone(),
    }
}

/// The `name=value` of the cookie `name` that `reply` sets, with its attributes.
pub(crate) fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(String::from)
}

pub(crate) fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or("").to_string()
}

/// The value of the form's hidden CSRF field.
pub(crate) fn hidden_csrf(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a CSRF field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap_or("").to_string()
}

#[actix_web::test]
async fn an_applicant_registers_signs_out_and_in_through_forms_each_guarded_by_csrf() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let form = page(&app, "/register", &[]).await;
    let csrf_cookie = set_cookie(&form, "csrf").expect("a CSRF cookie");
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"), "{csrf_cookie}");
    let csrf = cookie_value(&csrf_cookie);
    let token = hidden_csrf(&form.text);
    assert_eq!(csrf, format!("csrf={token}"));
    let fields = "full_name=Ana+N%C3%BA%C3%B1ez&email=ana%40example.mx&password=a+long+passphrase";

    // Without the cookie, or with another token, nothing is created.
    let forged = post_form(&app, "/register", "", &format!("{fields}&csrf={token}")).await;
    assert_eq!(forged.status, 403);
    let other = post_form(&app, "/register", &csrf, &format!("{fields}&csrf=AAAA{}", &token[4..])).await;
    assert_eq!(other.status, 403);
    let login = serde_json::json!({"email": "ana@example.mx", "password": "a long passphrase"});
    assert_eq!(app.post("/api/v1/auth/login", None, &login).await.status, 401, "no account was made");

    // Bad fields: each error by its field, what was typed (but the password) kept.
    let short =
        post_form(&app, "/register", &csrf, &format!("full_name=Ana&email=nope&password=short&csrf={token}"))
            .await;
    assert_eq!(short.status, 422);
    assert!(short.text.contains(r#"id="email-error""#) && short.text.contains(r#"id="password-error""#));
    assert!(short.text.contains(r#"value="nope""#) && !short.text.contains(r#"value="short""#));

    let registered = post_form(&app, "/register", &csrf, &format!("{fields}&csrf={token}")).await;
    assert_eq!(registered.status, 303, "{}", registered.text);
    assert_eq!(registered.headers.get("location").and_then(|v| v.to_str().ok()), Some("/my"));
    let session_cookie = set_cookie(&registered, "session").expect("a session");
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"),
        "{session_cookie}"
    );
    let session = cookie_value(&session_cookie);
    let mine = page(&app, "/my", &[("Cookie", &format!("{session}; {csrf}"))]).await;
    assert_eq!(mine.status, 200);
    assert!(mine.text.contains("Ana Núñez"));
    assert_eq!(mine.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    assert_eq!(page(&app, "/my", &[]).await.status, 303, "signed out: to the sign-in page");

    // A wrong password is reported by the field; the right one starts a new session.
    let sign_in = page(&app, "/sign-in", &[("Cookie", &csrf)]).await;
    assert!(set_cookie(&sign_in, "csrf").is_none(), "the visitor keeps their CSRF token");
    let wrong = post_form(
        &app,
        "/sign-in",
        &csrf,
        &format!("email=ana%40example.mx&password=not+it+at+all&csrf={token}"),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text.contains(r#"aria-describedby="email-error""#));
    let right = post_form(
        &app,
        "/sign-in",
        &csrf,
        &format!("email=ana%40example.mx&password=a+long+passphrase&csrf={token}"),
    )
    .await;
    assert_eq!(right.status, 303);
    let second = cookie_value(&set_cookie(&right, "session").expect("a session"));

    // A password changed through the API ends every session made before it.
    let bearer =
        app.post("/api/v1/auth/login", None, &login).await.body["token"].as_str().unwrap_or("").to_string();
    let change = serde_json::json!({"current_password": "a long passphrase", "new_password": "another long passphrase"});
    assert_eq!(app.post("/api/v1/me/password", Some(&bearer), &change).await.status, 204);
    for old in [&session, &second] {
        assert_eq!(
            page(&app, "/my", &[("Cookie", old)]).await.status,
            303,
            "a session from before the change"
        );
    }

    // Signing out needs the form's token too, and removes the session cookie.
    let fresh = post_form(
        &app,
        "/sign-in",
        &csrf,
        &format!("email=ana%40example.mx&password=another+long+passphrase&csrf={token}"),
    )
    .await;
    let fresh = cookie_value(&set_cookie(&fresh, "session").expect("a session"));
    let cookies = format!("{fresh}; {csrf}");
    let kept = post_form(&app, "/sign-out", &cookies, "csrf=forged").await;
    assert!(set_cookie(&kept, "session").is_none(), "a forged sign-out changes nothing");
    let before_sign_in = post_form(&app, "/sign-out", &cookies, &format!("csrf={token}")).await;
    assert!(set_cookie(&before_sign_in, "session").is_none(), "the token from before sign-in is dead");
    let token = hidden_csrf(&page(&app, "/my", &[("Cookie", &cookies)]).await.text);
    let out = post_form(&app, "/sign-out", &cookies, &format!("csrf={token}")).await;
    let removal = set_cookie(&out, "session").expect("the session is removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    app.stop().await;
}

/// Signs `email` in through the sign-in form: the cookies to send and the form token.
pub(crate) async fn web_session(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let form = page(app, "/sign-in", &[]).await;
    let csrf = cookie_value(&set_cookie(&form, "csrf").expect("a CSRF cookie"));
    let token = hidden_csrf(&form.text);
    let email = email.replace('@', "%40");
    let password = password.replace(' ', "+");
    let signed =
        post_form(app, "/sign-in", &csrf, &format!("email={email}&password={password}&csrf={token}")).await;
    assert_eq!(signed.status, 303, "{}", signed.text);
    let session = cookie_value(&set_cookie(&signed, "session").expect("a session"));
    let cookies = format!("{session}; {csrf}");
    // The forms' token is bound to the session: a new one from sign-in on.
    let token = hidden_csrf(&page(app, "/my", &[("Cookie", &cookies)]).await.text);
    (cookies, token)
}

#[actix_web::test]
async fn an_applicant_books_through_the_pages_and_gets_the_confirmation_and_calendar_file() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let ana = app.applicant_token("ana@example.mx").await;
    app.applicant_token("bob@example.mx").await;
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let (bobs, bob_token) = web_session(&app, "bob@example.mx", "applicant passphrase").await;

    assert_eq!(page(&app, "/book", &[]).await.status, 303, "signed out: to the sign-in page");
    let slots = page(&app, "/book/slots?post=MEX&service=passport-renewal", &[("Cookie", &cookies)]).await;
    assert_eq!(slots.status, 200, "{}", slots.text);
    let at = slots.text.find(r#"name="slot_id" id="slot-"#).expect("a free slot");
    let slot: String = slots.text[at..]
        .split("value=\"")
        .nth(1)
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let fields =
        format!("post=MEX&service=passport-renewal&slot_id={slot}&given_1=Ana&surname_1=N%C3%BA%C3%B1ez");

    // A forged form books nothing; a date of birth that isn't one is its field's error.
    assert_eq!(post_form(&app, "/book", &cookies, &format!("{fields}&csrf=forged")).await.status, 403);
    let bad = post_form(&app, "/book", &cookies, &format!("{fields}&born_1=31-12-1990&csrf={token}")).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains(r#"aria-describedby="born_1-error""#));
    assert_eq!(app.get("/api/v1/appointments", Some(&ana)).await.body.as_array().map(Vec::len), Some(0));

    let booked =
        post_form(&app, "/book", &cookies, &format!("{fields}&born_1=1990-12-31&csrf={token}")).await;
    assert_eq!(booked.status, 303, "{}", booked.text);
    let to = booked.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let reference = to.trim_start_matches("/my/").to_string();
    let mine = app.get("/api/v1/appointments", Some(&ana)).await.body;
    assert_eq!(mine[0]["reference"], serde_json::json!(reference), "the API sees the page's booking");

    let shown = page(&app, &to, &[("Cookie", &cookies)]).await;
    assert_eq!(shown.status, 200);
    assert!(shown.text.contains(&reference) && shown.text.contains("Ana N\u{fa}\u{f1}ez"));
    let pdf = page(&app, &format!("{to}/confirmation.pdf"), &[("Cookie", &cookies)]).await;
    assert_eq!((pdf.status, pdf.content_type.as_str()), (200, "application/pdf"));
    assert!(crate::helpers::pdf_text(&pdf.bytes).contains(&reference));
    let ics = page(&app, &format!("{to}/appointment.ics"), &[("Cookie", &cookies)]).await;
    assert!(ics.content_type.starts_with("text/calendar"));
    assert!(
        ics.text.contains(&format!("UID:{reference}@consular-desk\r\n")) && ics.text.contains("DTSTART:")
    );

    // Someone else's appointment is not found, whatever the way in.
    for path in [to.clone(), format!("{to}/confirmation.pdf"), format!("{to}/appointment.ics")] {
        assert_eq!(page(&app, &path, &[("Cookie", &bobs)]).await.status, 404, "{path}");
    }
    // Booking the same service again is refused in words.
    let again = post_form(&app, "/book", &cookies, &format!("{fields}&csrf={token}")).await;
    assert_eq!(again.status, 409);
    assert!(again.text.contains("already have an appointment"));

    // Moving it to another time of the week.
    let moving = page(&app, &format!("{to}/reschedule"), &[("Cookie", &cookies)]).await;
    assert_eq!(moving.status, 200);
    let other: String = moving
        .text
        .match_indices(r#"name="slot_id" id="slot-"#)
        .map(|(at, _)| {
            moving.text[at..]
                .split("value=\"")
                .nth(1)
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .find(|id| *id != slot)
        .expect("another free time");
    assert_eq!(
        post_form(&app, &format!("{to}/reschedule"), &bobs, &format!("slot_id={other}&csrf={bob_token}"))
            .await
            .status,
        404
    );
    let moved =
        post_form(&app, &format!("{to}/reschedule"), &cookies, &format!("slot_id={other}&csrf={token}"))
            .await;
    assert_eq!(moved.status, 303, "{}", moved.text);
    assert_eq!(app.get("/api/v1/appointments", Some(&ana)).await.body[0]["slot_id"].to_string(), other);

    // Cancelling: not by someone else, not with a forged form; then by the applicant.
    let cancel = format!("{to}/cancel");
    assert_eq!(post_form(&app, &cancel, &bobs, &format!("csrf={bob_token}")).await.status, 404);
    post_form(&app, &cancel, &cookies, "csrf=forged").await;
    let mine = "/api/v1/appointments";
    assert_eq!(app.get(mine, Some(&ana)).await.body[0]["status"], "booked");
    assert_eq!(post_form(&app, &cancel, &cookies, &format!("csrf={token}")).await.status, 303);
    assert_eq!(app.get(mine, Some(&ana)).await.body[0]["status"], "cancelled");
    assert_eq!(post_form(&app, &cancel, &cookies, &format!("csrf={token}")).await.status, 409);
    app.stop().await;
}

/// Signs `username` in through the staff sign-in form: the cookies to send and the form token.
pub(crate) async fn staff_session(app: &TestApp, username: &str) -> (String, String, String) {
    let form = page(app, "/staff/sign-in", &[]).await;
    let csrf = cookie_value(&set_cookie(&form, "csrf").expect("a CSRF cookie"));
    let token = hidden_csrf(&form.text);
    let password = crate::helpers::STAFF_PASSWORD.replace(' ', "+");
    let signed = post_form(
        app,
        "/staff/sign-in",
        &csrf,
        &format!("username={username}&password={password}&csrf={token}"),
    )
    .await;
    assert_eq!(signed.status, 303, "{}", signed.text);
    let cookie = set_cookie(&signed, "staff_session").expect("a staff session");
    let cookies = format!("{}; {csrf}", cookie_value(&cookie));
    // The forms' token is bound to the session: a new one from sign-in on. The sign-in page
    // opens for every role and carries a form.
    let token = hidden_csrf(&page(app, "/staff/sign-in", &[("Cookie", &cookies)]).await.text);
    (cookies, token, cookie)
}

#[actix_web::test]
async fn staff_pages_check_the_session_the_role_and_the_form_token() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.staff_token("auditor", "auditor", None).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let (reference, day) = app.soon_appointment_on(&clerk, "MEX", "passport-renewal").await;

    assert_eq!(
        page(&app, "/staff", &[]).await.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/staff/sign-in")
    );
    // An applicant's token is no staff session.
    let posing = page(&app, "/staff", &[("Cookie", &format!("staff_session={ana}"))]).await;
    assert_eq!(posing.status, 303);

    let (clerks, token, cookie) = staff_session(&app, "mex.clerk").await;
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/staff"),
        "{cookie}"
    );
    let board = page(&app, &format!("/staff?date={day}"), &[("Cookie", &clerks)]).await;
    assert_eq!(board.status, 200);
    assert_eq!(board.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    assert!(board.text.contains(&format!("/staff/visits/{reference}/check-in")));
    assert_eq!(
        page(&app, "/staff/reports", &[("Cookie", &clerks)]).await.status,
        403,
        "a clerk reads no reports"
    );

    // A forged check-in changes nothing; the real one checks in.
    let check_in = format!("/staff/visits/{reference}/check-in");
    assert_eq!(post_form(&app, &check_in, &clerks, "csrf=forged").await.status, 403);
    let status_now = &format!("/api/v1/staff/posts/MEX/day?date={day}");
    assert_eq!(app.get(status_now, Some(&clerk)).await.body["visits"][0]["status"], "booked");
    assert_eq!(post_form(&app, &check_in, &clerks, &format!("csrf={token}")).await.status, 303);
    assert_eq!(app.get(status_now, Some(&clerk)).await.body["visits"][0]["status"], "checked_in");
    let again = post_form(&app, &check_in, &clerks, &format!("csrf={token}")).await;
    assert_eq!(again.status, 409);
    assert!(again.text.contains("Already checked in"));

    // A walk-in from the board: a forged form or a name with an invisible character makes
    // nothing; the real one gets an E ticket.
    let once = crate::intake_pages::once_of(&app, "/staff", &clerks).await;
    let walk = format!(
        "post=MEX&service=notarial&given_names=Jos%C3%A9&surname=N%C3%BA%C3%B1ez&reason=lost+passport&once={once}"
    );
    assert_eq!(post_form(&app, "/staff/walk-ins", &clerks, &format!("{walk}&csrf=forged")).await.status, 403);
    let hidden = post_form(
        &app,
        "/staff/walk-ins",
        &clerks,
        &format!(
            "post=MEX&service=notarial&given_names=Jo%E2%80%8Bs%C3%A9&surname=Ruiz&reason=x&csrf={token}&once={once}"
        ),
    )
    .await;
    assert_eq!(hidden.status, 422, "{}", hidden.text);
    // A walk-in arrives now: it is on today's board (the slot above may be tomorrow's).
    let today_board = "/api/v1/staff/posts/MEX/day";
    let walk_ins = |board: &serde_json::Value| {
        board["visits"].as_array().into_iter().flatten().filter(|v| v["kind"] == "walk_in").count()
    };
    assert_eq!(walk_ins(&app.get(today_board, Some(&clerk)).await.body), 0, "nothing was made");
    assert_eq!(
        post_form(&app, "/staff/walk-ins", &clerks, &format!("{walk}&csrf={token}")).await.status,
        303
    );
    let twice = post_form(&app, "/staff/walk-ins", &clerks, &format!("{walk}&csrf={token}")).await;
    assert_eq!(twice.status, 303, "the same form again lands where the first did");
    assert_eq!(walk_ins(&app.get(today_board, Some(&clerk)).await.body), 1, "and makes no second walk-in");
    let visits = app.get(today_board, Some(&clerk)).await.body["visits"].clone();
    assert!(
        visits
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["ticket"].as_str().is_some_and(|t| t.starts_with('E'))),
        "{visits}"
    );

    // An auditor may read reports but not void: the page says so and nothing changes.
    let (auditors, auditor_token, _) = staff_session(&app, "auditor").await;
    let voided = post_form(
        &app,
        "/staff/receipts/MEX-2027-000001/void",
        &auditors,
        &format!("reason=x&csrf={auditor_token}"),
    )
    .await;
    assert_eq!(voided.status, 403);
    assert_eq!(page(&app, "/staff/reports", &[("Cookie", &auditors)]).await.status, 200);

    // The audit log: the auditor's, with the chains' check; not the clerk's.
    let log = page(&app, "/staff/audit?action=appointment.checked_in", &[("Cookie", &auditors)]).await;
    assert_eq!(log.status, 200);
    assert!(
        log.text.contains("The trail holds") && log.text.contains("appointment.checked_in"),
        "{}",
        log.text
    );
    assert_eq!(page(&app, "/staff/audit", &[("Cookie", &clerks)]).await.status, 403);
    app.stop().await;
}

#[actix_web::test]
async fn an_applicant_changes_the_password_from_the_page_and_stays_signed_in() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    app.applicant_token("ana@example.mx").await;
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let wrong = post_form(
        &app,
        "/my/password",
        &cookies,
        &format!("current_password=nope+nope+nope&new_password=a+fresh+passphrase&csrf={token}"),
    )
    .await;
    assert_eq!(wrong.status, 403);
    assert!(wrong.text.contains(r#"aria-describedby="current_password-error""#));
    let short = post_form(
        &app,
        "/my/password",
        &cookies,
        &format!("current_password=applicant+passphrase&new_password=short&csrf={token}"),
    )
    .await;
    assert_eq!(short.status, 422);
    let forged = post_form(
        &app,
        "/my/password",
        &cookies,
        "current_password=applicant+passphrase&new_password=a+fresh+passphrase&csrf=x",
    )
    .await;
    assert_eq!(forged.status, 403);
    let changed = post_form(
        &app,
        "/my/password",
        &cookies,
        &format!("current_password=applicant+passphrase&new_password=a+fresh+passphrase&csrf={token}"),
    )
    .await;
    assert_eq!(changed.status, 303, "{}", changed.text);
    let session = cookie_value(&set_cookie(&changed, "session").expect("a new session"));
    assert_eq!(
        page(&app, "/my", &[("Cookie", &session)]).await.status,
        200,
        "signed in with the new password"
    );
    assert_eq!(page(&app, "/my", &[("Cookie", &cookies)]).await.status, 303, "the old session ended");
    let login = serde_json::json!({"email": "ana@example.mx", "password": "a fresh passphrase"});
    assert_eq!(app.post("/api/v1/auth/login", None, &login).await.status, 200);
    app.stop().await;
}

#[actix_web::test]
async fn the_waiting_room_screen_shows_called_tickets_and_reloads_itself() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let reference = app.soon_appointment(&clerk, "MEX", "passport-renewal").await;
    let empty = page(&app, "/display/MEX", &[("Accept-Language", "es")]).await;
    assert_eq!(empty.status, 200);
    assert!(empty.text.contains("data-refresh") && empty.text.contains("Espere su turno"));
    let checked = app
        .post(
            &format!("/api/v1/staff/appointments/{reference}/check-in"),
            Some(&clerk),
            &serde_json::json!({}),
        )
        .await;
    let ticket = checked.body["ticket"].as_str().expect("a ticket").to_string();
    app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &serde_json::json!({"window": "7"})).await;
    let shown = page(&app, "/display/MEX", &[]).await;
    assert!(shown.text.contains(&format!("<td>{ticket}</td><td>7</td>")), "{}", shown.text);
    assert!(!shown.text.contains("N\u{fa}\u{f1}ez"), "no names on the public screen");
    assert_eq!(page(&app, "/display/ZZZ", &[]).await.status, 404);
    app.stop().await;
}

#[actix_web::test]
async fn the_cash_page_sets_the_rate_takes_a_count_and_a_supervisor_signs_it() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let (clerks, clerk_token, _) = staff_session(&app, "mex.clerk").await;
    let (supervisors, supervisor_token, _) = staff_session(&app, "mex.supervisor").await;
    let today = app.now().with_timezone(&chrono_tz::America::Mexico_City).date_naive();
    let rate_path = format!("/api/v1/staff/posts/MEX/exchange-rates/{today}");

    // Only a supervisor sets the rate, and only with the form's token.
    assert_eq!(
        post_form(&app, "/staff/cash/rate", &clerks, &format!("post=MEX&rate=17.25&csrf={clerk_token}"))
            .await
            .status,
        403
    );
    assert_eq!(
        post_form(&app, "/staff/cash/rate", &supervisors, "post=MEX&rate=17.25&csrf=forged").await.status,
        403
    );
    assert_eq!(app.get(&rate_path, Some(&clerk)).await.status, 404, "no rate was set");
    let bad = post_form(
        &app,
        "/staff/cash/rate",
        &supervisors,
        &format!("post=MEX&rate=17%2C25%2C&csrf={supervisor_token}"),
    )
    .await;
    assert_eq!(bad.status, 422);
    let set = post_form(
        &app,
        "/staff/cash/rate",
        &supervisors,
        &format!("post=MEX&rate=17.25&csrf={supervisor_token}"),
    )
    .await;
    assert_eq!(set.status, 303);
    assert_eq!(app.get(&rate_path, Some(&clerk)).await.body["rate_micros"], 17_250_000);

    // The clerk counts five dollars that no receipt explains: the count needs its explanation.
    let counted = "cash_usd=5.00&cash_local=0&card=0&prepaid_online=0";
    let unexplained =
        post_form(&app, "/staff/cash/count", &clerks, &format!("post=MEX&{counted}&csrf={clerk_token}"))
            .await;
    assert_eq!(unexplained.status, 422);
    let explained = post_form(
        &app,
        "/staff/cash/count",
        &clerks,
        &format!("post=MEX&{counted}&explanation=float+left+over&csrf={clerk_token}"),
    )
    .await;
    assert_eq!(explained.status, 303, "{}", explained.text);
    let cash = page(&app, "/staff/cash", &[("Cookie", &supervisors)]).await;
    assert!(cash.text.contains("17.250000 MXN = 1 USD") && cash.text.contains("float left over"));
    let at = cash.text.find("/staff/cash/closes/").expect("a close to sign") + "/staff/cash/closes/".len();
    let id: String = cash.text[at..].chars().take_while(char::is_ascii_digit).collect();
    let sign = format!("/staff/cash/closes/{id}/sign");
    assert_eq!(
        post_form(&app, &sign, &clerks, &format!("post=MEX&csrf={clerk_token}")).await.status,
        403,
        "a clerk signs nothing"
    );
    assert_eq!(
        post_form(&app, &sign, &supervisors, &format!("post=MEX&csrf={supervisor_token}")).await.status,
        303
    );
    let closes = app.get("/api/v1/staff/posts/MEX/closeouts", Some(&clerk)).await.body;
    assert_eq!(closes[0]["signed_by"], "mex.supervisor", "{closes}");
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_opens_and_disables_accounts_from_the_page_and_the_session_ends_with_it() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    app.staff_token("head.admin", "admin", None).await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let (admins, admin_token, _) = staff_session(&app, "head.admin").await;
    let (clerks, clerk_token, _) = staff_session(&app, "mex.clerk").await;
    assert_eq!(page(&app, "/staff/admin/accounts", &[("Cookie", &clerks)]).await.status, 403);
    let password = crate::helpers::STAFF_PASSWORD.replace(' ', "+");
    let new = format!("username=gdl.clerk&password={password}&role=clerk&post=GDL");
    assert_eq!(
        post_form(&app, "/staff/admin/accounts", &clerks, &format!("{new}&csrf={clerk_token}")).await.status,
        403
    );
    assert_eq!(
        post_form(&app, "/staff/admin/accounts", &admins, &format!("{new}&csrf=forged")).await.status,
        403
    );
    let short = post_form(
        &app,
        "/staff/admin/accounts",
        &admins,
        &format!("username=gdl.clerk&password=short&role=clerk&post=GDL&csrf={admin_token}"),
    )
    .await;
    assert_eq!(short.status, 422);
    assert_eq!(
        post_form(&app, "/staff/admin/accounts", &admins, &format!("{new}&csrf={admin_token}")).await.status,
        303
    );
    let listed = page(&app, "/staff/admin/accounts", &[("Cookie", &admins)]).await;
    assert!(listed.text.contains("gdl.clerk") && listed.text.contains("GDL"));
    let taken = post_form(&app, "/staff/admin/accounts", &admins, &format!("{new}&csrf={admin_token}")).await;
    assert_eq!(taken.status, 409);

    let (gdl, _, _) = staff_session(&app, "gdl.clerk").await;
    assert_eq!(page(&app, "/staff", &[("Cookie", &gdl)]).await.status, 200);
    let off =
        post_form(&app, "/staff/admin/accounts/gdl.clerk/disable", &admins, &format!("csrf={admin_token}"))
            .await;
    assert_eq!(off.status, 303);
    assert_eq!(
        page(&app, "/staff", &[("Cookie", &gdl)]).await.status,
        303,
        "a disabled account's session ends at once"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_clerk_moves_documents_along_and_reads_the_notarial_register_from_the_pages() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let visit = crate::documents::at_window(&app, &clerk, "passport-renewal").await;
    let recorded =
        crate::documents::record(&app, &clerk, &visit, &crate::documents::renewal("Ana", "Núñez")).await;
    let number = recorded.body["tracking_number"].as_str().expect("a document").to_string();
    let (clerks, token, _) = staff_session(&app, "mex.clerk").await;

    let list = page(&app, &format!("/staff/visits/{visit}/documents"), &[("Cookie", &clerks)]).await;
    assert_eq!(list.status, 200);
    assert!(
        list.text.contains(&number) && list.text.contains(r#"<option value="sent_for_adjudication">"#),
        "{}",
        list.text
    );
    let move_to = format!("/staff/documents/{number}/move");
    let body = format!("back={visit}&to=sent_for_adjudication&note=to+Washington");
    assert_eq!(post_form(&app, &move_to, &clerks, &format!("{body}&csrf=forged")).await.status, 403);
    let wrong = post_form(&app, &move_to, &clerks, &format!("back={visit}&to=delivered&csrf={token}")).await;
    assert_eq!(wrong.status, 409, "a step the state machine doesn't allow");
    assert_eq!(post_form(&app, &move_to, &clerks, &format!("{body}&csrf={token}")).await.status, 303);
    let shown = app.get(&format!("/api/v1/staff/documents/{number}"), Some(&clerk)).await;
    assert_eq!(shown.body["status"], "sent_for_adjudication");

    // A notarial act at another visit, then the register and its CSV.
    let notarial = crate::documents::at_window(&app, &clerk, "notarial").await;
    let job = crate::documents::record(&app, &clerk, &notarial, &crate::documents::notarial_job(false)).await;
    assert_eq!(job.status, 201, "{}", job.body);
    let book = page(&app, "/staff/register", &[("Cookie", &clerks)]).await;
    assert_eq!(book.status, 200);
    assert!(book.text.contains("Poder notarial") && book.text.contains("acknowledgment"), "{}", book.text);
    let at = book.text.find("/staff/register?post=MEX").expect("the CSV link");
    let href = book.text[at..].split('"').next().unwrap_or("").replace("&amp;", "&");
    let csv = page(&app, &href, &[("Cookie", &clerks)]).await;
    assert!(csv.content_type.starts_with("text/csv") && csv.text.contains("Poder notarial"), "{}", csv.text);
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_closes_a_day_from_the_page_and_its_slots_stop_being_offered() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.staff_token("head.admin", "admin", None).await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let (admins, token, _) = staff_session(&app, "head.admin").await;
    let (clerks, clerk_token, _) = staff_session(&app, "mex.clerk").await;
    let tomorrow =
        app.now().with_timezone(&chrono_tz::America::Mexico_City).date_naive() + chrono::Duration::days(2);
    let close = format!("post=MEX&date={tomorrow}&reason=Thanksgiving+Day");
    let offered = |app: &TestApp| {
        let path =
            format!("/api/v1/posts/MEX/availability?service=passport-renewal&from={tomorrow}&to={tomorrow}");
        let app = app.address.clone();
        async move {
            let body: serde_json::Value = awc::Client::default()
                .get(format!("{app}{path}"))
                .send()
                .await
                .expect("answer")
                .json()
                .await
                .expect("json");
            body["slots"].as_array().map(Vec::len).unwrap_or(0)
        }
    };
    assert!(offered(&app).await > 0);
    assert_eq!(page(&app, "/staff/admin/closures", &[("Cookie", &clerks)]).await.status, 403);
    assert_eq!(
        post_form(&app, "/staff/admin/closures", &clerks, &format!("{close}&csrf={clerk_token}"))
            .await
            .status,
        403
    );
    assert_eq!(
        post_form(&app, "/staff/admin/closures", &admins, &format!("{close}&csrf=forged")).await.status,
        403
    );
    let past = post_form(
        &app,
        "/staff/admin/closures",
        &admins,
        &format!("post=MEX&date=2020-01-01&reason=x&csrf={token}"),
    )
    .await;
    assert_eq!(past.status, 422);
    assert_eq!(
        post_form(&app, "/staff/admin/closures", &admins, &format!("{close}&csrf={token}")).await.status,
        303
    );
    assert_eq!(offered(&app).await, 0, "a closed day offers nothing");
    let listed = page(&app, "/staff/admin/closures?post=MEX", &[("Cookie", &admins)]).await;
    assert!(listed.text.contains("Thanksgiving Day"));
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_adds_a_fee_version_from_the_page_for_a_later_date_only() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    app.staff_token("head.admin", "admin", None).await;
    app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let (admins, token, _) = staff_session(&app, "head.admin").await;
    let (supervisors, supervisor_token, _) = staff_session(&app, "mex.supervisor").await;
    let later = app.now().date_naive() + chrono::Duration::days(30);
    let version = format!("code=passport-execution&description=Passport+execution+fee&cfr_item=22+CFR+22.1+item+1&amount=40.00&effective_from={later}");
    assert_eq!(page(&app, "/staff/admin/fees", &[("Cookie", &supervisors)]).await.status, 403);
    assert_eq!(
        post_form(&app, "/staff/admin/fees", &supervisors, &format!("{version}&csrf={supervisor_token}"))
            .await
            .status,
        403
    );
    let today = app.now().date_naive();
    let now = format!("code=passport-execution&description=x&cfr_item=y&amount=40.00&effective_from={today}");
    assert_eq!(
        post_form(&app, "/staff/admin/fees", &admins, &format!("{now}&csrf={token}")).await.status,
        422,
        "not from today"
    );
    assert_eq!(
        post_form(&app, "/staff/admin/fees", &admins, &format!("{version}&csrf={token}")).await.status,
        303
    );
    let fees = app.get(&format!("/api/v1/fees?date={later}"), None).await.body;
    let execution = fees
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == "passport-execution")
        .cloned()
        .unwrap_or_default();
    assert_eq!(execution["amount_cents"], 4_000, "{fees}");
    assert!(
        page(&app, "/staff/admin/fees", &[("Cookie", &admins)]).await.text.contains("US$35.00"),
        "today's price stays"
    );
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_resets_a_password_and_removes_a_closure_from_the_pages() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.staff_token("head.admin", "admin", None).await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let (admins, token, _) = staff_session(&app, "head.admin").await;
    let (clerks, _, _) = staff_session(&app, "mex.clerk").await;

    // A reset ends the clerk's session; the new password signs in.
    let reset = "/staff/admin/accounts/mex.clerk/password";
    assert_eq!(
        post_form(&app, reset, &admins, "password=a+new+clerk+passphrase&csrf=forged").await.status,
        403
    );
    assert_eq!(post_form(&app, reset, &admins, &format!("password=short&csrf={token}")).await.status, 422);
    assert_eq!(page(&app, "/staff", &[("Cookie", &clerks)]).await.status, 200);
    assert_eq!(
        post_form(&app, reset, &admins, &format!("password=a+new+clerk+passphrase&csrf={token}"))
            .await
            .status,
        303
    );
    assert_eq!(page(&app, "/staff", &[("Cookie", &clerks)]).await.status, 303, "the old session ended");
    let login = serde_json::json!({"username": "mex.clerk", "password": "a new clerk passphrase"});
    assert_eq!(app.post("/api/v1/staff/auth/login", None, &login).await.status, 200);

    // Moving the clerk to Guadalajara: its tokens end, and the next one is GDL's.
    let token_of = |body: serde_json::Value| body["token"].as_str().unwrap_or("").to_string();
    let before = token_of(app.post("/api/v1/staff/auth/login", None, &login).await.body);
    let moving = "/staff/admin/accounts/mex.clerk/assignment";
    assert_eq!(post_form(&app, moving, &admins, "role=clerk&post=GDL&csrf=forged").await.status, 403);
    assert_eq!(
        post_form(&app, moving, &admins, &format!("role=emperor&post=GDL&csrf={token}")).await.status,
        422
    );
    assert_eq!(
        post_form(&app, moving, &admins, &format!("role=clerk&post=GDL&csrf={token}")).await.status,
        303
    );
    assert_eq!(app.get("/api/v1/staff/me", Some(&before)).await.status, 401, "the old token ended");
    let after = token_of(app.post("/api/v1/staff/auth/login", None, &login).await.body);
    assert_eq!(app.get("/api/v1/staff/me", Some(&after)).await.body["post"], "GDL");

    // A closure removed from the page: its day is offered again.
    let day =
        app.now().with_timezone(&chrono_tz::America::Mexico_City).date_naive() + chrono::Duration::days(3);
    let closed = app
        .post(
            "/api/v1/admin/posts/MEX/closures",
            Some(&admin),
            &serde_json::json!({"date": day, "reason": "inventory"}),
        )
        .await;
    assert_eq!(closed.status, 201, "{}", closed.body);
    let id = closed.body["id"].clone();
    let remove = format!("/staff/admin/closures/{id}/remove");
    assert_eq!(post_form(&app, &remove, &admins, "post=MEX&csrf=forged").await.status, 403);
    assert_eq!(post_form(&app, &remove, &admins, &format!("post=MEX&csrf={token}")).await.status, 303);
    let left = app.get("/api/v1/admin/posts/MEX/closures", Some(&admin)).await.body;
    assert_eq!(left.as_array().map(Vec::len), Some(0), "{left}");
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_replaces_a_services_week_with_several_openings_a_day_from_the_page() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.staff_token("head.admin", "admin", None).await;
    app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let (admins, token, _) = staff_session(&app, "head.admin").await;
    let (clerks, clerk_token, _) = staff_session(&app, "mex.clerk").await;
    let shown = page(&app, "/staff/admin/schedules?post=MEX", &[("Cookie", &admins)]).await;
    assert_eq!(shown.status, 200);
    assert!(shown.text.contains("passport-renewal"));
    // Mornings and afternoons on Tuesday and Thursday; row 2, a saved opening with every day
    // unticked, is removed.
    let mut week = vec![
        ("csrf", token.as_str()),
        ("post", "MEX"),
        ("service", "passport-renewal"),
        ("rows", "3"),
        ("openings[0].d2", "on"),
        ("openings[0].d4", "on"),
        ("openings[0].opens", "09:00"),
        ("openings[0].closes", "11:00"),
        ("openings[0].slot_minutes", "30"),
        ("openings[0].capacity", "3"),
        ("openings[1].d2", "on"),
        ("openings[1].d4", "on"),
        ("openings[1].opens", "15:00"),
        ("openings[1].closes", "13:00"),
        ("openings[1].slot_minutes", "20"),
        ("openings[1].capacity", "2"),
        ("openings[2].saved", "1"),
        ("openings[2].opens", "18:00"),
    ];
    let as_clerk: Vec<(&str, &str)> =
        week.iter().map(|&(n, v)| if n == "csrf" { (n, clerk_token.as_str()) } else { (n, v) }).collect();
    assert_eq!(post_fields(&app, "/staff/admin/schedules", &clerks, &as_clerk).await.status, 403);
    let forged: Vec<(&str, &str)> =
        week.iter().map(|&(n, v)| if n == "csrf" { (n, "forged") } else { (n, v) }).collect();
    assert_eq!(post_fields(&app, "/staff/admin/schedules", &admins, &forged).await.status, 403);
    let backwards = post_fields(&app, "/staff/admin/schedules", &admins, &week).await;
    assert_eq!(backwards.status, 422);
    assert!(
        backwards.text.contains(r#"aria-describedby="passport-renewal-openings[1].closes-error""#),
        "the error is on the afternoon's closing time: {}",
        backwards.text
    );
    let grown = post_fields(
        &app,
        "/staff/admin/schedules",
        &admins,
        &[week.clone(), vec![("add_opening", "1")]].concat(),
    )
    .await;
    assert_eq!(grown.status, 200);
    assert!(grown.text.contains(r#"name="openings[3].opens""#), "one more row, nothing saved");
    week.retain(|(n, _)| *n != "openings[1].closes");
    week.push(("openings[1].closes", "17:00"));
    let saved = post_fields(&app, "/staff/admin/schedules", &admins, &week).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("slots added"), "the page says what the new week did: {}", saved.text);
    let weeks = app.get("/api/v1/admin/posts/MEX/schedules", Some(&admin)).await.body;
    let renewal = weeks["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["service"] == "passport-renewal")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        renewal["openings"],
        serde_json::json!([
            {"weekdays": [2, 4], "opens": "09:00", "closes": "11:00", "slot_minutes": 30, "capacity": 3},
            {"weekdays": [2, 4], "opens": "15:00", "closes": "17:00", "slot_minutes": 20, "capacity": 2},
        ])
    );
    let again = page(&app, "/staff/admin/schedules?post=MEX", &[("Cookie", &admins)]).await;
    assert!(again.text.contains(r#"name="openings[1].opens" type="text" value="15:00""#), "{}", again.text);
    app.stop().await;
}
