//! A clerk's queue for a whole day, on the app's clock (Tuesday 8 December 2026, 10:00 in
//! Mexico City): routine walk-ins behind the hour's appointments and emergencies first, one
//! called visit per window, the board's Complete / No-show / Recall and remembered window,
//! closing time and the not-served sweep across midnight, and booking the not served again;
//! through the API, the pages and a browser.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Value};

use crate::browser::{site, Browser};
use crate::helpers::{assert_problem, db_conn, person, spawn_on, TestApp, TestDb};
use crate::pages::{page, post_fields, set_cookie, staff_session};

/// A local time in Mexico City (UTC−6 in December) on the UTC clock.
fn mex(local: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").expect("a time");
    chrono_tz::America::Mexico_City
        .from_local_datetime(&naive)
        .single()
        .expect("one instant")
        .with_timezone(&Utc)
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

struct Day {
    app: TestApp,
    _db: TestDb,
    admin: String,
    clerk: String,
    supervisor: String,
}

/// MEX notarial open around the clock; the maintenance timer out of the way (the tests run the
/// sweep themselves, at the app's time).
async fn day() -> Day {
    let db = TestDb::fresh();
    let app = spawn_on(
        &db,
        &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "3"), ("CONSULAR_DESK_MAINTENANCE_SECONDS", "3600")],
    )
    .await;
    let admin = app.staff_token("mex.admin", "admin", None).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    app.open_around_the_clock(&admin, "MEX", "notarial").await;
    Day { app, _db: db, admin, clerk, supervisor }
}

/// A fresh token for `username`: the clock moved past the last one's lifetime.
impl Day {
    /// Moves the clock to `local` Mexico City time and signs everyone in again.
    async fn at(&mut self, local: &str) {
        self.app.clock.set(mex(local));
        self.admin = self.app.sign_in_staff("mex.admin").await;
        self.clerk = self.app.sign_in_staff("mex.clerk").await;
        self.supervisor = self.app.sign_in_staff("mex.supervisor").await;
    }
}

async fn walk_in(app: &TestApp, clerk: &str, given: &str, emergency: Option<&str>) -> Value {
    let body = match emergency {
        Some(reason) => {
            json!({"service": "notarial", "kind": "emergency", "reason": reason, "applicant": person(given, "Núñez")})
        }
        None => json!({"service": "notarial", "kind": "routine", "applicant": person(given, "Núñez")}),
    };
    let r = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

/// Books the notarial slot at local `HH:MM` of `date` for someone who phoned.
async fn book_at(app: &TestApp, clerk: &str, date: &str, time: &str, given: &str) -> String {
    let slots = app
        .get(
            &format!("/api/v1/staff/posts/MEX/availability?service=notarial&from={date}&to={date}"),
            Some(clerk),
        )
        .await
        .body;
    let wanted = format!("{date}T{time}:00-06:00");
    let slot = slots["slots"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["starts_at"] == wanted.as_str()))
        .map(|s| s["slot_id"].clone())
        .unwrap_or_else(|| panic!("a slot at {wanted}: {slots}"));
    let body = json!({"slot_id": slot, "applicants": [person(given, "Ruiz")]});
    let r = app.post("/api/v1/staff/appointments", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    text(&r.body, "reference")
}

async fn check_in(app: &TestApp, clerk: &str, reference: &str) -> Value {
    let r =
        app.post(&format!("/api/v1/staff/appointments/{reference}/check-in"), Some(clerk), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn call(app: &TestApp, clerk: &str, window: &str) -> crate::helpers::Reply {
    app.post("/api/v1/staff/posts/MEX/queue/next", Some(clerk), &json!({"window": window})).await
}

/// The sweep the maintenance timer runs, at the app's time.
fn sweep(app: &TestApp) -> usize {
    consular_desk::window::closing::sweep(&mut db_conn(&app.db_url), app.now().naive_utc())
        .expect("the sweep")
}

fn status_on(board: &Value, reference: &str) -> String {
    board["visits"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["reference"] == reference))
        .map(|v| text(v, "status"))
        .unwrap_or_default()
}

#[actix_web::test]
async fn emergencies_go_first_and_routine_walk_ins_wait_behind_the_hours_appointments() {
    let Day { app, clerk, _db, .. } = day().await;
    let half_past = book_at(&app, &clerk, "2026-12-08", "10:30", "Ana").await;
    let eleven = book_at(&app, &clerk, "2026-12-08", "11:00", "Luis").await;
    // Checked in in another order than they will be called.
    check_in(&app, &clerk, &eleven).await;
    let routine = walk_in(&app, &clerk, "Rosa", None).await;
    check_in(&app, &clerk, &half_past).await;
    let emergency = walk_in(&app, &clerk, "Eva", Some("arrest")).await;
    assert_eq!(text(&routine, "ticket"), "N-002", "a routine walk-in takes its service's line");
    assert_eq!(text(&routine, "walk_in_reason"), "routine");
    assert_eq!(
        (text(&emergency, "ticket"), text(&emergency, "walk_in_reason")),
        ("E-001".into(), "arrest".into())
    );

    let mut order = Vec::new();
    for window in ["1", "2", "3", "4"] {
        let r = call(&app, &clerk, window).await;
        assert_eq!(r.status, 200, "{}", r.body);
        order.push(text(&r.body, "reference"));
    }
    assert_eq!(order, [text(&emergency, "reference"), half_past, text(&routine, "reference"), eleven]);
    assert_problem(&call(&app, &clerk, "5").await, 409, "queue_empty");
}

/// The setup of the closing tests: MEX closes at 18:00; at 17:55 an emergency is called to
/// window 3, a routine walk-in and an 18:00 appointment wait; nobody serves them. Returns
/// their references: called, waiting walk-in, waiting appointment.
async fn left_waiting_at_closing(d: &mut Day) -> (String, String, String) {
    let closing = d
        .app
        .call(
            "PUT",
            "/api/v1/admin/posts/MEX/closing-time",
            Some(&d.admin),
            Some(&json!({"closes": "18:00"})),
        )
        .await;
    assert_eq!(closing.status, 200, "{}", closing.body);
    assert_eq!(
        (text(&closing.body, "closes"), text(&closing.body, "closes_today_at")),
        ("18:00".into(), "2026-12-08T18:00:00-06:00".into())
    );
    d.at("2026-12-08 17:55").await;
    let app = &d.app;
    let called = text(&walk_in(app, &d.clerk, "Eva", Some("death")).await, "reference");
    let waiting = text(&walk_in(app, &d.clerk, "Rosa", None).await, "reference");
    let booked = book_at(app, &d.clerk, "2026-12-08", "18:00", "Luis").await;
    check_in(app, &d.clerk, &booked).await;
    let r = call(app, &d.clerk, "3").await;
    assert_eq!(text(&r.body, "reference"), called, "{}", r.body);
    assert_eq!(sweep(app), 0, "before closing time nothing is closed");
    (called, waiting, booked)
}

#[actix_web::test]
async fn at_closing_time_whoever_still_waits_is_not_served_and_the_next_day_starts_clear() {
    let mut d = day().await;
    let (called, waiting, booked) = left_waiting_at_closing(&mut d).await;
    // Past closing and past midnight before any timer ran: yesterday's called visit at window 3
    // and its waiting people block nothing today.
    d.at("2026-12-09 00:10").await;
    let app = &d.app;
    let today = walk_in(app, &d.clerk, "Noé", Some("crime_victim")).await;
    assert_eq!(text(&today, "ticket"), "E-001", "a new day, new numbers");
    let r = call(app, &d.clerk, "3").await;
    assert_eq!((r.status, text(&r.body, "reference")), (200, text(&today, "reference")), "{}", r.body);

    assert_eq!(sweep(app), 3, "yesterday's three, not today's");
    assert_eq!(sweep(app), 0, "once");
    let yesterday = app.get("/api/v1/staff/posts/MEX/day?date=2026-12-08", Some(&d.clerk)).await.body;
    for reference in [&called, &waiting, &booked] {
        assert_eq!(status_on(&yesterday, reference), "not_served", "{yesterday}");
    }
    let board = app.get("/api/v1/staff/posts/MEX/day", Some(&d.clerk)).await.body;
    assert_eq!(text(&board, "date"), "2026-12-09");
    assert_eq!(status_on(&board, &text(&today, "reference")), "called");
    // Closing, as the system, one entry each.
    let entries = app.get("/api/v1/audit/log?action=appointment.not_served", Some(&d.admin)).await.body;
    let entries = entries["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries.iter().all(|e| e["actor"]["kind"] == "system"), "{entries:?}");
    // A called visit closed as not served can't be completed any more.
    let late =
        app.post(&format!("/api/v1/staff/appointments/{called}/complete"), Some(&d.clerk), &json!({})).await;
    assert_problem(&late, 409, "invalid_transition");
}

#[actix_web::test]
async fn a_supervisor_books_each_person_not_served_into_the_next_free_slot_once() {
    let mut d = day().await;
    let (called, waiting, booked) = left_waiting_at_closing(&mut d).await;
    d.at("2026-12-08 18:05").await;
    let app = &d.app;
    assert_eq!(sweep(app), 3);
    // Let in after closing: waits until the day ends.
    let late = text(&walk_in(app, &d.clerk, "Noé", Some("arrest")).await, "reference");
    assert_eq!(sweep(app), 0);
    assert_eq!(
        status_on(&app.get("/api/v1/staff/posts/MEX/day", Some(&d.clerk)).await.body, &late),
        "checked_in"
    );
    let list_path = "/api/v1/staff/posts/MEX/not-served";
    let list = app.get(list_path, Some(&d.supervisor)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let listed: Vec<String> =
        list.body["visits"].as_array().into_iter().flatten().map(|v| text(v, "reference")).collect();
    assert_eq!(listed.len(), 3);
    for reference in [&called, &waiting, &booked] {
        assert!(listed.contains(reference), "{listed:?}");
    }

    let rebook = |reference: &str| format!("/api/v1/staff/appointments/{reference}/rebook");
    let again = app.post(&rebook(&waiting), Some(&d.supervisor), &json!({})).await;
    assert_eq!(again.status, 201, "{}", again.body);
    let new = text(&again.body, "reference");
    assert_ne!(new, waiting);
    assert_eq!(
        (text(&again.body, "status"), text(&again.body, "service")),
        ("booked".into(), "notarial".into())
    );
    assert_eq!(again.body["applicants"][0]["given_names"], "Rosa", "the same person");
    let starts = DateTime::parse_from_rfc3339(&text(&again.body, "starts_at")).expect("a time");
    assert!(starts > app.now() && starts < app.now() + Duration::minutes(40), "the next free slot: {starts}");
    let twice = app.post(&rebook(&waiting), Some(&d.supervisor), &json!({})).await;
    assert_problem(&twice, 409, "already_rebooked");
    assert!(text(&twice.body, "detail").contains(&new));
    let list = app.get(list_path, Some(&d.supervisor)).await.body;
    let entry = list["visits"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["reference"] == waiting.as_str()))
        .cloned();
    assert_eq!(entry.map(|e| text(&e, "rebooked_as")), Some(new.clone()));

    // Only a not-served visit; only supervisors and admins; only of their post.
    let gdl = app.staff_token("gdl.supervisor", "supervisor", Some("GDL")).await;
    assert_problem(&app.post(&rebook(&called), Some(&gdl), &json!({})).await, 403, "wrong_post");
    assert_problem(&app.post(&rebook(&called), Some(&d.clerk), &json!({})).await, 403, "insufficient_role");
    assert_problem(&app.post(&rebook(&called), None, &json!({})).await, 401, "missing_token");
    assert_eq!(app.post(&rebook("K7Q-M4X-PT9"), Some(&d.supervisor), &json!({})).await.status, 404);
    assert_problem(
        &app.post(&rebook(&new), Some(&d.supervisor), &json!({})).await,
        409,
        "invalid_transition",
    );
    assert_problem(&app.get(list_path, Some(&gdl)).await, 403, "wrong_post");
    assert_problem(&app.get(list_path, Some(&d.clerk)).await, 403, "insufficient_role");
    assert_problem(&app.get(list_path, None).await, 401, "missing_token");
    assert_eq!(app.get("/api/v1/staff/posts/ZZZ/not-served", Some(&d.admin)).await.status, 404);

    // With the service closed from now on, the next person has nowhere to go, and stays
    // not served, to be booked again once it opens.
    let closed = app.set_week(&d.admin, "MEX", "notarial", json!([])).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let nowhere = app.post(&rebook(&booked), Some(&d.supervisor), &json!({})).await;
    assert_problem(&nowhere, 409, "no_free_slot");
    app.open_around_the_clock(&d.admin, "MEX", "notarial").await;
    let later = app.post(&rebook(&booked), Some(&d.supervisor), &json!({})).await;
    assert_eq!(later.status, 201, "the refusal changed nothing: {}", later.body);

    let entries = app.get(&format!("/api/v1/audit/log?entity_id={waiting}"), Some(&d.admin)).await.body;
    let rebooked = entries["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["action"] == "appointment.rebooked").cloned());
    assert_eq!(rebooked.map(|e| e["actor"]["kind"].clone()), Some(json!("staff")));
}

#[actix_web::test]
async fn an_admin_sets_the_closing_time_of_a_post() {
    let d = day().await;
    let app = &d.app;
    let path = "/api/v1/admin/posts/MEX/closing-time";
    let shown = app.get(path, Some(&d.admin)).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.get("closes").is_none(), "{}", shown.body);
    // The end of the day's last opening: 23:59 around the clock.
    assert_eq!(text(&shown.body, "closes_today_at"), "2026-12-08T23:59:00-06:00");
    for bad in [json!({"closes": "25:00"}), json!({"closes": "6pm"}), json!({"closes": "18:00:00"})] {
        assert_problem(&app.call("PUT", path, Some(&d.admin), Some(&bad)).await, 422, "validation_failed");
    }
    assert!(app.get(path, Some(&d.admin)).await.body.get("closes").is_none(), "nothing changed");
    let set = app.call("PUT", path, Some(&d.admin), Some(&json!({"closes": "14:30"}))).await;
    assert_eq!(
        (text(&set.body, "closes"), text(&set.body, "closes_today_at")),
        ("14:30".into(), "2026-12-08T14:30:00-06:00".into())
    );
    let cleared = app.call("PUT", path, Some(&d.admin), Some(&json!({"closes": null}))).await;
    assert_eq!(text(&cleared.body, "closes_today_at"), "2026-12-08T23:59:00-06:00");

    let gdl_admin = app.staff_token("gdl.admin", "admin", Some("GDL")).await;
    let body = json!({"closes": "18:00"});
    assert_problem(&app.call("PUT", path, Some(&gdl_admin), Some(&body)).await, 403, "wrong_post");
    assert_problem(&app.call("PUT", path, Some(&d.supervisor), Some(&body)).await, 403, "insufficient_role");
    assert_problem(&app.call("PUT", path, None, Some(&body)).await, 401, "missing_token");
    assert_problem(&app.get(path, Some(&d.clerk)).await, 403, "insufficient_role");
    assert_eq!(
        app.call("PUT", "/api/v1/admin/posts/ZZZ/closing-time", Some(&d.admin), Some(&body)).await.status,
        404
    );
    let entries = app.get("/api/v1/audit/log?action=post.closing_time_set", Some(&d.admin)).await.body;
    assert_eq!(entries["entries"].as_array().map(Vec::len), Some(2), "{entries}");
}

fn location(reply: &crate::helpers::Reply) -> String {
    reply.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

fn once(html: &str) -> String {
    let marker = r#"name="once" value=""#;
    let at = html.find(marker).expect("a one-time token") + marker.len();
    html[at..].split('"').next().unwrap_or("").to_string()
}

#[actix_web::test]
async fn the_board_finishes_called_visits_and_remembers_the_clerks_window() {
    let Day { app, clerk, _db, .. } = day().await;
    let first = text(&walk_in(&app, &clerk, "Eva", Some("child_in_danger")).await, "reference");
    let second = text(&walk_in(&app, &clerk, "Noé", Some("destitution")).await, "reference");
    let (cookies, token, _) = staff_session(&app, "mex.clerk").await;
    let board = page(&app, "/staff", &[("Cookie", &cookies)]).await;
    assert!(board.text.contains(&first), "the board shows references");
    assert!(board.text.contains("No window chosen yet"));

    // Called to window 3: the board says so, and keeps window 3 for the session.
    let fields = |once: &str, window: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("once", once.to_string()),
            ("post", "MEX".into()),
            ("window", window.into()),
        ]
    };
    let sent = fields(&once(&board.text), "3");
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let calledr = post_fields(&app, "/staff/call-next", &cookies, &sent).await;
    assert_eq!(calledr.status, 303, "{}", calledr.text);
    let window_cookie = set_cookie(&calledr, "staff_window").expect("the window is remembered");
    assert!(window_cookie.starts_with("staff_window=3;"), "{window_cookie}");
    for attribute in ["Path=/staff", "HttpOnly", "SameSite=Strict"] {
        assert!(window_cookie.contains(attribute), "{window_cookie}");
    }
    let cookies = format!("{cookies}; staff_window=3");
    let shown = page(&app, &location(&calledr), &[("Cookie", &cookies)]).await;
    assert!(
        shown.text.contains(r#"id="called""#) && shown.text.contains("E-001 called to window 3."),
        "{}",
        shown.text
    );
    assert!(shown.text.contains("Your window:"));
    assert!(
        shown.text.contains(r#"name="window" type="text" inputmode="numeric" maxlength="20" value="3""#),
        "{}",
        shown.text
    );

    // Calling again while window 3 still holds E-001 asks to finish it first.
    let sent = fields(&once(&shown.text), "3");
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let busy = post_fields(&app, "/staff/call-next", &cookies, &sent).await;
    assert_eq!(busy.status, 409);
    assert!(busy.text.contains("Window 3 still has E-001"), "{}", busy.text);
    assert!(busy.text.contains(&format!("/staff/visits/{first}/complete")));
    assert_eq!(
        status_on(&app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body, &second),
        "checked_in"
    );

    // Complete from the page; the next call takes E-002, which is recalled to window 5, then
    // marked a no-show.
    let form = [("csrf", token.as_str())];
    let done = post_fields(&app, &format!("/staff/visits/{first}/complete"), &cookies, &form).await;
    assert_eq!(done.status, 303, "{}", done.text);
    let board = page(&app, "/staff", &[("Cookie", &cookies)]).await;
    let sent = fields(&once(&board.text), "3");
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post_fields(&app, "/staff/call-next", &cookies, &sent).await.status, 303);
    let recall = [("csrf", token.as_str()), ("window", "5")];
    let recalled = post_fields(&app, &format!("/staff/visits/{second}/recall"), &cookies, &recall).await;
    assert_eq!(recalled.status, 303, "{}", recalled.text);
    let shown = page(&app, &location(&recalled), &[("Cookie", &cookies)]).await;
    assert!(shown.text.contains("E-002 called to window 5."), "{}", shown.text);
    let gone = post_fields(&app, &format!("/staff/visits/{second}/no-show"), &cookies, &form).await;
    assert_eq!(gone.status, 303, "{}", gone.text);
    let api = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body;
    assert_eq!((status_on(&api, &first), status_on(&api, &second)), ("completed".into(), "no_show".into()));

    // In Spanish, and a check-in too early says when it opens.
    let later = book_at(&app, &clerk, "2026-12-08", "15:00", "Luis").await;
    let es = format!("{cookies}; lang=es");
    let early = post_fields(&app, &format!("/staff/visits/{later}/check-in"), &es, &form).await;
    assert_eq!(early.status, 409);
    assert!(early.text.contains("El registro de llegada abre a las 14:00."), "{}", early.text);
    let early = post_fields(&app, &format!("/staff/visits/{later}/check-in"), &cookies, &form).await;
    assert!(early.text.contains("Check-in opens at 14:00."), "{}", early.text);
}

#[actix_web::test]
async fn walk_ins_from_the_board_are_routine_or_an_emergency_and_errors_stay_by_their_fields() {
    let Day { app, clerk, _db, .. } = day().await;
    let (cookies, token, _) = staff_session(&app, "mex.clerk").await;
    let board = page(&app, "/staff", &[("Cookie", &cookies)]).await;
    for code in
        ["lost_passport_travel_72h", "arrest", "death", "destitution", "crime_victim", "child_in_danger"]
    {
        assert!(board.text.contains(&format!("value=\"{code}\"")), "{code}");
    }
    let es = page(&app, "/staff", &[("Cookie", &format!("{cookies}; lang=es"))]).await;
    assert!(es.text.contains("Pasaporte perdido o robado, con viaje en menos de 72 horas"));
    let walk = |once: String, kind: &'static str, given: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("once", once),
            ("post", "MEX".to_string()),
            ("service", "notarial".to_string()),
            ("kind", kind.to_string()),
            ("given_names", given.to_string()),
            ("surname", "Ruiz".to_string()),
            ("note", "came without an appointment".to_string()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let (app, cookies) = (&app, cookies.clone());
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_fields(app, "/staff/walk-ins", &cookies, &fields).await
        }
    };
    // A name with an invisible character: the board again, the error by the name, what was
    // typed kept, nothing made.
    let bad = send(walk(once(&board.text), "routine", "Jo\u{200b}sé")).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains(r#"id="walk-given_names-error""#), "{}", bad.text);
    assert!(bad.text.contains("came without an appointment") && bad.text.contains("<details open"));
    assert!(!bad.text.contains("applicant.given_names"), "no internal field name");
    let routine = send(walk(once(&board.text), "routine", "Rosa")).await;
    assert_eq!(routine.status, 303, "{}", routine.text);
    let emergency =
        send(walk(once(&page(&app, "/staff", &[("Cookie", &cookies)]).await.text), "arrest", "Eva")).await;
    assert_eq!(emergency.status, 303, "{}", emergency.text);
    let api = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body;
    let mut tickets: Vec<(String, String)> = api["visits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (text(v, "ticket"), text(v, "walk_in_reason")))
        .collect();
    tickets.sort();
    assert_eq!(
        tickets,
        [("E-001".to_string(), "arrest".to_string()), ("N-001".to_string(), "routine".to_string())]
    );
}

#[actix_web::test]
async fn the_not_served_page_books_people_again_and_an_admin_sets_closing_time_on_a_page() {
    let mut d = day().await;
    let (_, waiting, _) = left_waiting_at_closing(&mut d).await;
    d.at("2026-12-09 08:00").await;
    let app = &d.app;
    sweep(app);
    let (cookies, token, _) = staff_session(app, "mex.supervisor").await;
    let list = page(app, "/staff/not-served?date=2026-12-08", &[("Cookie", &cookies)]).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains(&waiting) && list.text.contains("Book the next free slot"));
    let (clerks, _, _) = staff_session(app, "mex.clerk").await;
    assert_eq!(page(app, "/staff/not-served", &[("Cookie", &clerks)]).await.status, 403);
    let booked = post_fields(
        app,
        &format!("/staff/not-served/{waiting}/rebook"),
        &cookies,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    assert!(booked.text.contains("New appointment"));
    assert!(booked.text.contains(r#"action="/staff/sign-out""#), "a way out on every page");
    let twice = post_fields(
        app,
        &format!("/staff/not-served/{waiting}/rebook"),
        &cookies,
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(twice.status, 409);
    assert!(twice.text.contains("booked again already"), "{}", twice.text);
    let forged =
        post_fields(app, &format!("/staff/not-served/{waiting}/rebook"), &cookies, &[("csrf", "forged")])
            .await;
    assert_eq!(forged.status, 403);

    let (admins, admin_token, _) = staff_session(app, "mex.admin").await;
    let form = page(app, "/staff/admin/closing-time", &[("Cookie", &admins)]).await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains("18:00"), "the setting shown");
    let bad = [("csrf", admin_token.as_str()), ("post", "MEX"), ("closes", "18,5")];
    let refused = post_fields(app, "/staff/admin/closing-time", &admins, &bad).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(r#"id="closes-error""#) && refused.text.contains(r#"value="18,5""#));
    let good = [("csrf", admin_token.as_str()), ("post", "MEX"), ("closes", "17:30")];
    assert_eq!(post_fields(app, "/staff/admin/closing-time", &admins, &good).await.status, 303);
    let shown = app.get("/api/v1/admin/posts/MEX/closing-time", Some(&d.admin)).await.body;
    assert_eq!(text(&shown, "closes"), "17:30");
    assert_eq!(page(app, "/staff/admin/closing-time", &[("Cookie", &cookies)]).await.status, 403);
}

/// A clerk at window 3 in a browser: calls, sees where the ticket went, completes, recalls,
/// records a routine and an emergency walk-in; axe-core finds nothing serious on the board
/// and the not-served page.
#[actix_web::test]
async fn a_clerk_at_window_3_runs_the_queue_in_a_browser() {
    let Some(browser) = Browser::start("en-US,en").await else { return };
    let (app, _db) = site().await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "notarial").await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    for (given, reason) in [("Eva", "arrest"), ("Noé", "death")] {
        let body = json!({"service": "notarial", "kind": "emergency", "reason": reason, "applicant": person(given, "Núñez")});
        assert_eq!(app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &body).await.status, 201);
    }
    browser.staff_sign_in(&app.address, "mex.clerk").await;
    browser.goto(&format!("{}/staff", app.address)).await;
    browser.type_into("#window", "3").await;
    browser.click("form[action='/staff/call-next'] button").await;
    browser.wait_until("document.getElementById('called')").await;
    assert_eq!(browser.text("#called").await, "E-001 called to window 3.");
    assert!(browser.text("#my-window").await.contains("Your window: 3"));
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the day board");
    browser.screenshot("queue-called").await;
    // Complete E-001; the next call goes to window 3 without typing it again.
    browser.click("form[action$='/complete'] button").await;
    browser.wait_until("!document.getElementById('called') && document.querySelector(\"form[action='/staff/call-next']\")").await;
    browser.click("form[action='/staff/call-next'] button").await;
    browser.wait_until("document.getElementById('called')").await;
    assert_eq!(browser.text("#called").await, "E-002 called to window 3.");
    // Recalled to window 4.
    browser.type_into("form[action$='/recall'] input[name='window']", "4").await;
    browser.click("form[action$='/recall'] button").await;
    browser.wait_until("document.getElementById('called') && document.getElementById('called').textContent.includes('window 4')").await;
    // Walk-ins: a routine one and an emergency.
    for (kind, given) in [("routine", "Rosa"), ("crime_victim", "Luis")] {
        browser.run("document.querySelector('details').open = true; return null").await;
        browser.click("#walk_service option[value='notarial']").await;
        browser.click(&format!("#walk_kind option[value='{kind}']")).await;
        browser.type_into("#walk_given", given).await;
        browser.type_into("#walk_surname", "Ruiz").await;
        browser.click("form[action='/staff/walk-ins'] button[type=submit]").await;
        browser.wait_until(&format!("document.body.textContent.includes('{given} Ruiz')")).await;
    }
    let tickets = browser.text("#board tbody").await;
    assert!(tickets.contains("N-001") && tickets.contains("E-003"), "{tickets}");
    browser.screenshot("queue-walk-ins").await;

    browser.staff_sign_in(&app.address, "mex.supervisor").await;
    browser.goto(&format!("{}/staff/not-served", app.address)).await;
    browser.wait_until("document.querySelector('h1')").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new(), "the not-served page");
}
