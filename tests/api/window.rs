//! The window: check-in with tickets, walk-ins, the queue, ending visits, the day board, and
//! who may do it. Timing rules that need another clock (late check-ins, the no-show sweep)
//! call the operations with a later `now`, as another instance's timer would.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, db_conn, person, spawn_app, spawn_on, TestApp, TestDb};

async fn window_app() -> (TestApp, TestDb, String, String) {
    let db = TestDb::fresh();
    // Two days of slots keep the around-the-clock week small.
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.open_around_the_clock(&admin, "MEX", "notarial").await;
    (app, db, admin, clerk)
}

fn walk_in_body(given: &str) -> Value {
    json!({"service": "passport-new", "kind": "emergency", "reason": "lost_passport_travel_72h", "note": "flight tonight", "applicant": person(given, "O'Brien")})
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

#[actix_web::test]
async fn a_visit_from_check_in_to_the_window() {
    let (app, _db, _admin, clerk) = window_app().await;
    let reference = app.soon_appointment(&clerk, "MEX", "notarial").await;
    let path = format!("/api/v1/staff/appointments/{reference}/check-in");
    let r = app.post(&path, Some(&clerk), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((text(&r.body, "status"), text(&r.body, "ticket")), ("checked_in".into(), "N-001".into()));
    assert_problem(&app.post(&path, Some(&clerk), &json!({})).await, 409, "already_checked_in");

    let walk_in = app.post("/api/v1/staff/posts/mex/walk-ins", Some(&clerk), &walk_in_body("José")).await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.body);
    assert_eq!(
        (text(&walk_in.body, "kind"), text(&walk_in.body, "ticket")),
        ("walk_in".into(), "E-001".into())
    );

    // Emergencies first.
    let next = |window: &'static str| {
        let clerk = clerk.clone();
        let app = &app;
        async move {
            app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": window})).await
        }
    };
    let first = next("3").await;
    assert_eq!(
        (text(&first.body, "ticket"), text(&first.body, "window")),
        ("E-001".into(), "3".into()),
        "{}",
        first.body
    );
    let second = next("4").await;
    assert_eq!(
        (text(&second.body, "ticket"), text(&second.body, "status")),
        ("N-001".into(), "called".into())
    );
    // Window 4 holds N-001 until it is finished; another window finds nobody waiting.
    assert_problem(&next("4").await, 409, "window_busy");
    assert_problem(&next("6").await, 409, "queue_empty");

    // Not at window 4: called again, to window 5.
    let recall = format!("/api/v1/staff/appointments/{reference}/recall");
    let again = app.post(&recall, Some(&clerk), &json!({"window": "5"})).await;
    assert_eq!(
        (text(&again.body, "status"), text(&again.body, "window")),
        ("called".into(), "5".into()),
        "{}",
        again.body
    );
    // The waiting-room screen: tickets and windows, the latest call first, no names.
    let screen = app.get("/api/v1/posts/MEX/queue/display", None).await;
    assert_eq!(screen.status, 200, "{}", screen.body);
    let called: Vec<(String, String)> = screen.body["called"]
        .as_array()
        .map(|c| c.iter().map(|t| (text(t, "ticket"), text(t, "window"))).collect())
        .unwrap_or_default();
    assert_eq!(called, [("N-001".to_string(), "5".to_string()), ("E-001".to_string(), "3".to_string())]);
    assert!(!screen.body.to_string().contains("Núñez") && !screen.body.to_string().contains("O'Brien"));

    let complete = format!("/api/v1/staff/appointments/{reference}/complete");
    assert_eq!(text(&app.post(&complete, Some(&clerk), &json!({})).await.body, "status"), "completed");
    assert_problem(&app.post(&complete, Some(&clerk), &json!({})).await, 409, "invalid_transition");
    assert_problem(&app.post(&recall, Some(&clerk), &json!({})).await, 409, "invalid_transition");
    let gone = format!("/api/v1/staff/appointments/{}/no-show", text(&walk_in.body, "reference"));
    assert_eq!(text(&app.post(&gone, Some(&clerk), &json!({})).await.body, "status"), "no_show");

    let board = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await;
    assert_eq!(board.status, 200, "{}", board.body);
    let visits = board.body["visits"].as_array().cloned().unwrap_or_default();
    let find = |r: &str| visits.iter().find(|v| v["reference"] == r).cloned().unwrap_or_default();
    let walked = find(&text(&walk_in.body, "reference"));
    assert_eq!(
        (text(&walked, "status"), text(&walked, "window")),
        ("no_show".into(), "3".into()),
        "{visits:?}"
    );
    // The booked visit is on the board of its own day (which may be tomorrow, near midnight).
    let booked_day = text(&second.body, "starts_at")[..10].to_string();
    let board = app.get(&format!("/api/v1/staff/posts/MEX/day?date={booked_day}"), Some(&clerk)).await;
    assert!(board.body["visits"].as_array().is_some_and(|v| v
        .iter()
        .any(|v| v["reference"] == reference.as_str() && v["status"] == "completed")));
}

#[actix_web::test]
async fn check_in_opens_an_hour_ahead_and_a_late_one_needs_a_reason() {
    let (app, db, _admin, clerk) = window_app().await;
    // The last slot of the horizon is more than an hour away.
    let slots = app.get("/api/v1/staff/posts/MEX/availability?service=notarial", Some(&clerk)).await.body;
    let last = slots["slots"].as_array().and_then(|s| s.last()).cloned().expect("slots");
    let body = json!({"slot_id": last["slot_id"], "applicants": [person("Ana", "Núñez")]});
    let later = text(&app.post("/api/v1/staff/appointments", Some(&clerk), &body).await.body, "reference");
    let r = app.post(&format!("/api/v1/staff/appointments/{later}/check-in"), Some(&clerk), &json!({})).await;
    assert_problem(&r, 409, "too_early");
    let detail = text(&r.body, "detail");
    assert!(detail.starts_with("check-in opens at ") && detail.contains(":00-06:00)"), "{detail}");

    // Twenty minutes after a slot started (a later clock, as the operation sees it).
    let reference = app.soon_appointment(&clerk, "MEX", "notarial").await;
    let parsed = consular_desk::booking::reference_code::Reference::parse(&reference).expect("reference");
    let settings = crate::helpers::settings(db.url(), &[]).window;
    let mut conn = db_conn(db.url());
    let clerk_id: i64 = {
        use consular_desk::db::schema::staff;
        use diesel::prelude::*;
        staff::table
            .filter(staff::username.eq("mex.clerk"))
            .select(staff::id)
            .first(&mut conn)
            .expect("clerk")
    };
    let member = consular_desk::auth::StaffMember {
        id: clerk_id,
        username: "mex.clerk".into(),
        role: consular_desk::auth::Role::Clerk,
        post: Some("MEX".into()),
    };
    let actor = consular_desk::auth::Actor::Staff(member);
    let late = app.now().naive_utc() + Duration::minutes(50);
    let refused = consular_desk::window::visits::check_in(&mut conn, &settings, &actor, &parsed, None, late);
    assert!(matches!(refused, Err(ref e) if e.code().as_str() == "too_late"), "{refused:?}");
    let empty =
        consular_desk::window::visits::check_in(&mut conn, &settings, &actor, &parsed, Some("   "), late);
    assert!(matches!(empty, Err(ref e) if e.code().as_str() == "validation_failed"), "{empty:?}");
    let checked = consular_desk::window::visits::check_in(
        &mut conn,
        &settings,
        &actor,
        &parsed,
        Some("bus broke down"),
        late,
    )
    .expect("a late check-in with a reason");
    assert_eq!(checked.status, consular_desk::booking::status::AppointmentStatus::CheckedIn);
}

#[actix_web::test]
async fn the_timer_marks_no_shows_as_the_system() {
    let (app, db, admin, clerk) = window_app().await;
    let reference = app.soon_appointment(&clerk, "MEX", "notarial").await;
    let settings = crate::helpers::settings(db.url(), &[]).window;
    let now = app.now().naive_utc();
    let mut conn = db_conn(db.url());
    assert_eq!(consular_desk::window::visits::sweep_no_shows(&mut conn, &settings, now).expect("sweep"), 0);
    let later = now + Duration::days(3);
    assert!(consular_desk::window::visits::sweep_no_shows(&mut conn, &settings, later).expect("sweep") >= 1);
    let entries = app.get("/api/v1/audit/log?action=appointment.no_show", Some(&admin)).await.body;
    let entry = entries["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["entity_id"] == reference.as_str()).cloned());
    assert_eq!(entry.map(|e| e["actor"]["kind"].clone()), Some(json!("system")));
}

/// Thirty walk-ins at once get thirty tickets, gapless; then clerks at 34 windows on two
/// instances call them all at once, and nobody gets a ticket twice.
#[actix_web::test]
async fn concurrent_clerks_get_distinct_tickets() {
    let (first, db, _admin, clerk) = window_app().await;
    let second = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let apps = [&first, &second];
    let arrivals = (0..30).map(|i| {
        let (app, clerk) = (apps[i % 2], clerk.clone());
        async move {
            app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &walk_in_body(&format!("Person {i}")))
                .await
        }
    });
    let arrived = futures_util::future::join_all(arrivals).await;
    let mut tickets: Vec<String> = arrived.iter().map(|r| text(&r.body, "ticket")).collect();
    tickets.sort();
    let expected: Vec<String> = (1..=30).map(|n| format!("E-{n:03}")).collect();
    assert_eq!(tickets, expected, "gapless, no ticket twice");

    let calls = (0..34).map(|i| {
        let (app, clerk) = (apps[i % 2], clerk.clone());
        async move {
            app.post(
                "/api/v1/staff/posts/MEX/queue/next",
                Some(&clerk),
                &json!({"window": format!("{}", i + 1)}),
            )
            .await
        }
    });
    let called = futures_util::future::join_all(calls).await;
    let mut got: Vec<String> =
        called.iter().filter(|r| r.status == 200).map(|r| text(&r.body, "ticket")).collect();
    got.sort();
    assert_eq!(got, expected, "every ticket called exactly once");
    assert_eq!(called.iter().filter(|r| r.status == 409 && r.code() == "queue_empty").count(), 4);
}

#[actix_web::test]
async fn a_clerk_acts_on_its_own_post_only() {
    let (app, _db, _admin, clerk) = window_app().await;
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let reference = app.soon_appointment(&clerk, "MEX", "notarial").await;
    let forbidden = [
        app.post(&format!("/api/v1/staff/appointments/{reference}/check-in"), Some(&gdl), &json!({})).await,
        app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&gdl), &walk_in_body("Ana")).await,
        app.post("/api/v1/staff/posts/MEX/queue/next", Some(&gdl), &json!({"window": "1"})).await,
        app.get("/api/v1/staff/posts/MEX/day", Some(&gdl)).await,
        app.post(&format!("/api/v1/staff/appointments/{reference}/complete"), Some(&gdl), &json!({})).await,
    ];
    for r in &forbidden {
        assert_problem(r, 403, "wrong_post");
    }
}

#[actix_web::test]
async fn walk_ins_are_checked_like_any_input() {
    let (app, _db, _admin, clerk) = window_app().await;
    let path = "/api/v1/staff/posts/MEX/walk-ins";
    let ana = person("Ana", "Núñez");
    let bad = [
        (json!({"service": "visa", "kind": "routine", "applicant": ana}), "service"),
        (json!({"service": "notarial", "kind": "urgent", "applicant": ana}), "kind"),
        (json!({"service": "notarial", "kind": "emergency", "applicant": ana}), "reason"),
        (json!({"service": "notarial", "kind": "emergency", "reason": "bored", "applicant": ana}), "reason"),
        (json!({"service": "notarial", "kind": "routine", "reason": "arrest", "applicant": ana}), "reason"),
        (json!({"service": "notarial", "kind": "routine", "note": "  ", "applicant": ana}), "note"),
        (
            json!({"service": "notarial", "kind": "routine", "note": "x".repeat(501), "applicant": ana}),
            "note",
        ),
        (
            json!({"service": "notarial", "kind": "routine", "applicant": person("A\u{202e}na", "Núñez")}),
            "applicant.given_names",
        ),
    ];
    for (body, field) in bad {
        let r = app.post(path, Some(&clerk), &body).await;
        assert_problem(&r, 422, "validation_failed");
        assert!(
            r.body["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["field"] == field)),
            "{body}: {}",
            r.body
        );
    }
    let board = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body;
    assert!(
        board["visits"].as_array().is_some_and(|v| v.iter().all(|v| v["kind"] != "walk_in")),
        "nothing was written"
    );
    let r = app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": ""})).await;
    assert_problem(&r, 422, "validation_failed");
    let r = app.post("/api/v1/staff/appointments/K7Q-M4X-PT9/check-in", Some(&clerk), &json!({})).await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn an_unknown_post_has_no_board() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    assert_eq!(app.get("/api/v1/staff/posts/ZZZ/day", Some(&admin)).await.status, 404);
}

/// A clerk cancels or moves someone's appointment for them (at the window, on the phone):
/// only with a reason, and only at the clerk's post.
#[actix_web::test]
async fn staff_change_appointments_with_a_reason_at_their_post() {
    let (app, _db, admin, clerk) = window_app().await;
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    app.open_around_the_clock(&admin, "GDL", "notarial").await;
    let reference = app.soon_appointment(&clerk, "MEX", "notarial").await;
    let slots = app.get("/api/v1/staff/posts/MEX/availability?service=notarial", Some(&clerk)).await.body;
    let later =
        slots["slots"].as_array().and_then(|s| s.last()).map(|s| s["slot_id"].clone()).expect("a later slot");
    let gdl_slot = app.get("/api/v1/staff/posts/GDL/availability?service=notarial", Some(&gdl)).await.body
        ["slots"][0]["slot_id"]
        .clone();

    let move_to = |slot: &Value, reason: Option<&str>| {
        let mut body = json!({"slot_id": slot});
        if let Some(reason) = reason {
            body["reason"] = json!(reason);
        }
        body
    };
    let reschedule = format!("/api/v1/staff/appointments/{reference}/reschedule");
    assert_problem(
        &app.post(&reschedule, Some(&clerk), &move_to(&later, None)).await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post(&reschedule, Some(&gdl), &move_to(&later, Some("phoned"))).await,
        403,
        "wrong_post",
    );
    assert_problem(
        &app.post(&reschedule, Some(&clerk), &move_to(&gdl_slot, Some("phoned"))).await,
        403,
        "wrong_post",
    );
    let moved = app.post(&reschedule, Some(&clerk), &move_to(&later, Some("phoned to move it"))).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["slot_id"], later);

    let cancel = format!("/api/v1/staff/appointments/{reference}/cancel");
    assert_problem(&app.post(&cancel, Some(&gdl), &json!({"reason": "asked"})).await, 403, "wrong_post");
    assert_problem(&app.post(&cancel, Some(&clerk), &json!({"reason": " "})).await, 422, "validation_failed");
    let cancelled = app.post(&cancel, Some(&clerk), &json!({"reason": "asked at the window"})).await;
    assert_eq!(text(&cancelled.body, "status"), "cancelled", "{}", cancelled.body);
    assert_problem(&app.post(&cancel, Some(&clerk), &json!({"reason": "again"})).await, 409, "not_active");
    let entries = app.get(&format!("/api/v1/audit/log?entity_id={reference}"), Some(&admin)).await.body;
    let actions: Vec<String> = entries["entries"]
        .as_array()
        .map(|e| e.iter().map(|e| text(e, "action")).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"]);
    assert!(!entries.to_string().contains("asked at the window"), "reasons stay out of the trail");
}

/// Thirty clerks press "next" for one window at once, on two instances: exactly one gets a
/// visit, the others hear the window is busy, naming that visit.
#[actix_web::test]
async fn thirty_calls_to_one_window_call_one_visit() {
    let (first, db, _admin, clerk) = window_app().await;
    let second = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    for i in 0..30 {
        let r = first
            .post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &walk_in_body(&format!("P{i}")))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let apps = [&first, &second];
    let calls =
        (0..30).map(|i| {
            let (app, clerk) = (apps[i % 2], clerk.clone());
            async move {
                app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": "7"})).await
            }
        });
    let called = futures_util::future::join_all(calls).await;
    let got: Vec<&crate::helpers::Reply> = called.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        got.len(),
        1,
        "{:?}",
        called.iter().map(|r| (r.status, r.code().to_string())).collect::<Vec<_>>()
    );
    let (ticket, reference) = (text(&got[0].body, "ticket"), text(&got[0].body, "reference"));
    for r in called.iter().filter(|r| r.status != 200) {
        assert_problem(r, 409, "window_busy");
        let detail = text(&r.body, "detail");
        assert!(detail.contains(&ticket) && detail.contains(&reference), "{detail}");
    }
    let board = first.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body;
    let at_seven = board["visits"].as_array().into_iter().flatten().filter(|v| v["window"] == "7").count();
    assert_eq!(at_seven, 1);
    // Finished, the window takes the next one.
    let done = first
        .post(&format!("/api/v1/staff/appointments/{reference}/complete"), Some(&clerk), &json!({}))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let next = first.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": "7"})).await;
    assert_eq!(next.status, 200, "{}", next.body);
}

/// A recall may send the ticket to another window only when that window is free.
#[actix_web::test]
async fn a_recall_to_another_window_needs_that_window_free() {
    let (app, _db, _admin, clerk) = window_app().await;
    for given in ["Ana", "Luis"] {
        assert_eq!(
            app.post("/api/v1/staff/posts/MEX/walk-ins", Some(&clerk), &walk_in_body(given)).await.status,
            201
        );
    }
    let next = |window: &'static str| {
        let (app, clerk) = (&app, clerk.clone());
        async move {
            app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": window})).await
        }
    };
    let at_two = text(&next("2").await.body, "reference");
    let at_three = text(&next("3").await.body, "reference");
    let recall = |reference: &str| format!("/api/v1/staff/appointments/{reference}/recall");
    assert_problem(
        &app.post(&recall(&at_two), Some(&clerk), &json!({"window": "3"})).await,
        409,
        "window_busy",
    );
    let same = app.post(&recall(&at_two), Some(&clerk), &json!({"window": "2"})).await;
    assert_eq!((same.status, text(&same.body, "window")), (200, "2".to_string()), "{}", same.body);
    let moved = app.post(&recall(&at_two), Some(&clerk), &json!({"window": "5"})).await;
    assert_eq!((moved.status, text(&moved.body, "window")), (200, "5".to_string()), "{}", moved.body);
    // Window 2 is free again, window 3 still not.
    assert_problem(&next("3").await, 409, "window_busy");
    assert_problem(&next("2").await, 409, "queue_empty");
    let done =
        app.post(&format!("/api/v1/staff/appointments/{at_three}/no-show"), Some(&clerk), &json!({})).await;
    assert_eq!(text(&done.body, "status"), "no_show");
}
