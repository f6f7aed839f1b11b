//! Admin schedules and closures, slot generation across instances, and local time on
//! daylight-saving change days.

use chrono::{Datelike, Duration, NaiveDate, Offset, TimeZone};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, db_conn, seat_violations, spawn_app, spawn_on, TestApp, TestDb};

fn id(slot: &Value) -> i64 {
    slot["slot_id"].as_i64().expect("slot_id")
}

fn starts(slot: &Value) -> String {
    slot["starts_at"].as_str().unwrap_or("").to_string()
}

/// The local date of an RFC 3339 time with offset (its first ten characters).
fn day_of(slot: &Value) -> String {
    starts(slot)[..10].to_string()
}

async fn slots_on(app: &TestApp, post: &str, service: &str, day: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/posts/{post}/availability?service={service}&from={day}&to={day}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["slots"].as_array().cloned().unwrap_or_default()
}

#[actix_web::test]
async fn a_fresh_install_has_a_default_week_everywhere() {
    let (app, _db) = spawn_app().await;
    for post in ["MEX", "CJS", "GDL", "HMO", "MAM", "MID", "MTY", "NOG", "NLD", "TIJ"] {
        for service in ["notarial", "passport-new", "passport-renewal", "passport-correction", "crba"] {
            assert!(!app.slots(post, service).await.is_empty(), "{post} {service} has no slots");
        }
    }
    let admin = app.admin_token().await;
    let r = app.get("/api/v1/admin/posts/MEX/schedules", Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let notarial = r.body["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["service"] == "notarial")
        .expect("notarial");
    assert_eq!(
        notarial["openings"],
        json!([{"weekdays": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "12:00", "slot_minutes": 20, "capacity": 2}])
    );
}

#[actix_web::test]
async fn replacing_a_week_keeps_bookings_and_lists_them() {
    let (app, db) = spawn_app().await;
    let admin = app.admin_token().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let offered_now = app.slots("MEX", "notarial").await;
    let first =
        offered_now.iter().find(|s| starts(s).contains("T08:00:00-06:00")).expect("an 08:00 slot").clone();
    let reference =
        app.book(&ana, id(&first), 1).await.body["reference"].as_str().expect("reference").to_string();

    let offered_before = app.slots("MEX", "notarial").await;
    let bad = json!({"service": "notarial", "openings": [{"weekdays": [9], "opens": "9", "closes": "08:00", "slot_minutes": 1, "capacity": 0}]});
    let r = app.call("PUT", "/api/v1/admin/posts/MEX/schedules", Some(&admin), Some(&bad)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(app.slots("MEX", "notarial").await, offered_before, "a refused week changes nothing");
    let r = app
        .call(
            "PUT",
            "/api/v1/admin/posts/MEX/schedules",
            Some(&admin),
            Some(&json!({"service": "visa", "openings": []})),
        )
        .await;
    assert_problem(&r, 404, "not_found");
    let r = app
        .call(
            "PUT",
            "/api/v1/admin/posts/ZZZ/schedules",
            Some(&admin),
            Some(&json!({"service": "notarial", "openings": []})),
        )
        .await;
    assert_problem(&r, 404, "not_found");

    let week = json!([{"weekdays": [1, 2, 3, 4, 5], "opens": "09:00", "closes": "11:00", "slot_minutes": 30, "capacity": 4}]);
    let r = app.set_week(&admin, "MEX", "notarial", week.clone()).await;
    assert_eq!(r.body["openings"], week);
    assert!(r.body["slots"]["slots_retired"].as_u64().unwrap_or(0) > 0);
    assert!(r.body["slots"]["slots_added"].as_u64().unwrap_or(0) > 0);
    assert_eq!(r.body["slots"]["to_rebook"], json!([reference]));

    let offered = app.slots("MEX", "notarial").await;
    assert!(offered.iter().all(|s| s["remaining"] == 4), "{offered:?}");
    assert!(offered
        .iter()
        .all(|s| ["T09:00", "T09:30", "T10:00", "T10:30"].iter().any(|t| starts(s).contains(t))));
    let kept = app.get(&format!("/api/v1/appointments/{reference}"), Some(&ana)).await;
    assert_eq!(
        (kept.body["status"].as_str(), kept.body["starts_at"].as_str()),
        (Some("booked"), first["starts_at"].as_str())
    );
    assert!(seat_violations(db.url()).is_empty());

    // An empty week stops new slots for the service.
    app.set_week(&admin, "MEX", "notarial", json!([])).await;
    assert!(app.slots("MEX", "notarial").await.is_empty());
}

#[actix_web::test]
async fn closing_a_day_keeps_its_bookings_and_lists_them() {
    let (app, db) = spawn_app().await;
    let admin = app.admin_token().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let luis = app.applicant_token("luis@example.mx").await;
    let slots = app.slots("GDL", "passport-renewal").await;
    // A day with at least two slots left (the first may be mostly inside the notice period).
    let day = slots
        .iter()
        .map(day_of)
        .find(|d| slots.iter().filter(|s| day_of(s) == *d).count() >= 2)
        .expect("a day with two slots");
    let same_day: Vec<&Value> = slots.iter().filter(|s| day_of(s) == day).collect();
    let reference =
        app.book(&ana, id(same_day[0]), 1).await.body["reference"].as_str().expect("reference").to_string();

    let r = app
        .post(
            "/api/v1/admin/posts/GDL/closures",
            Some(&admin),
            &json!({"date": day, "reason": "Día de la Virgen de Guadalupe"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["starts_at"], format!("{day}T00:00:00-06:00"));
    assert_eq!(r.body["to_rebook"][0]["reference"], reference.as_str());
    let closure = r.body["id"].as_i64().expect("id");

    assert!(slots_on(&app, "GDL", "passport-renewal", &day).await.is_empty());
    assert!(slots_on(&app, "GDL", "crba", &day).await.is_empty(), "a closure closes every service");
    assert_problem(&app.book(&luis, id(same_day[1]), 1).await, 409, "slot_closed");
    let kept = app.get(&format!("/api/v1/appointments/{reference}"), Some(&ana)).await;
    assert_eq!(kept.body["status"], "booked");
    let listed = app.get("/api/v1/admin/posts/GDL/closures", Some(&admin)).await;
    assert_eq!(listed.body[0]["to_rebook"][0]["reference"], reference.as_str());

    let r =
        app.call("DELETE", &format!("/api/v1/admin/posts/GDL/closures/{closure}"), Some(&admin), None).await;
    assert_eq!(r.status, 204);
    assert!(!slots_on(&app, "GDL", "passport-renewal", &day).await.is_empty());
    let r =
        app.call("DELETE", &format!("/api/v1/admin/posts/GDL/closures/{closure}"), Some(&admin), None).await;
    assert_problem(&r, 404, "not_found");
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn a_half_day_closure_hides_only_its_hours() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let day = day_of(&app.slots("MTY", "notarial").await[0]);
    let r = app
        .post(
            "/api/v1/admin/posts/MTY/closures",
            Some(&admin),
            &json!({"date": day, "from": "08:00", "to": "10:00", "reason": "fire drill"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let left = slots_on(&app, "MTY", "notarial", &day).await;
    assert!(!left.is_empty());
    assert!(left.iter().all(|s| &starts(s)[11..16] >= "10:00"), "{left:?}");

    for bad in [
        json!({"date": "2020-01-01", "reason": "past"}),
        json!({"date": day, "from": "10:00", "reason": "half of a half"}),
        json!({"date": day, "from": "11:00", "to": "10:00", "reason": "backwards"}),
        json!({"date": day, "reason": ""}),
    ] {
        let r = app.post("/api/v1/admin/posts/MTY/closures", Some(&admin), &bad).await;
        assert_problem(&r, 422, "validation_failed");
    }
}

#[actix_web::test]
async fn generation_is_idempotent_and_safe_from_many_instances_at_once() {
    let (app, db) = spawn_app().await;
    let count = || {
        use consular_desk::db::schema::slots;
        use diesel::prelude::*;
        slots::table.count().get_result::<i64>(&mut db_conn(db.url())).expect("count")
    };
    let before = count();
    // Five days later, four instances' timers fire together.
    let later = app.now().naive_utc() + Duration::days(5);
    let inserted: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    consular_desk::booking::slots::extend_horizons(&mut db_conn(db.url()), 14, later)
                        .expect("extend")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let added: usize = inserted.iter().sum();
    assert!(added > 0, "five more days of slots");
    assert_eq!(count(), before + added as i64, "no slot generated twice");
    assert_eq!(
        consular_desk::booking::slots::extend_horizons(&mut db_conn(db.url()), 14, later).expect("extend"),
        0
    );
}

/// The next day at least two days ahead on which `zone` changes its UTC offset.
fn next_offset_change(zone: chrono_tz::Tz) -> NaiveDate {
    let offset_at_noon = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_hms_opt(12, 0, 0).expect("noon"))
            .earliest()
            .expect("noon exists")
            .offset()
            .fix()
    };
    let mut day = crate::helpers::tuesday_10_mex().date_naive() + Duration::days(2);
    while offset_at_noon(day) == offset_at_noon(day - Duration::days(1)) {
        day += Duration::days(1);
    }
    day
}

#[actix_web::test]
async fn tijuana_slots_follow_daylight_saving_time_on_the_change_day() {
    let db = TestDb::fresh();
    let zone: chrono_tz::Tz = "America/Tijuana".parse().expect("zone");
    let change = next_offset_change(zone);
    let days_ahead = (change - crate::helpers::tuesday_10_mex().date_naive()).num_days() + 2;
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", &days_ahead.to_string())]).await;
    let admin = app.admin_token().await;
    // A night opening every day, so the change (at 02:00 on a Sunday) falls inside it.
    let week = json!([{"weekdays": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "04:00", "slot_minutes": 30, "capacity": 1}]);
    app.set_week(&admin, "TIJ", "notarial", week).await;
    let day = change.to_string();
    let slots = slots_on(&app, "TIJ", "notarial", &day).await;
    let times: Vec<String> = slots.iter().map(starts).collect();
    assert_eq!(change.weekday(), chrono::Weekday::Sun, "{day}");
    if change.month() == 3 {
        // Spring forward: 02:00 PST becomes 03:00 PDT; there is no 02:00 or 02:30.
        assert_eq!(
            times,
            [
                "00:00:00-08:00",
                "00:30:00-08:00",
                "01:00:00-08:00",
                "01:30:00-08:00",
                "03:00:00-07:00",
                "03:30:00-07:00"
            ]
            .map(|t| format!("{day}T{t}"))
        );
    } else {
        // Fall back: 01:00 and 01:30 happen twice, first in PDT then in PST.
        assert_eq!(times.len(), 10, "{times:?}");
        assert!(
            times.contains(&format!("{day}T01:30:00-07:00"))
                && times.contains(&format!("{day}T01:30:00-08:00"))
        );
    }
}

#[actix_web::test]
async fn a_retired_or_shrunk_slot_does_not_reopen_when_its_bookings_leave() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_RELEASE_DELAY_MINUTES", "0")]).await;
    let admin = app.admin_token().await;
    let [ana, luis, eva]: [String; 3] = app.applicants(3).await.try_into().expect("three");
    let offered = app.slots("MEX", "notarial").await;
    let eight = offered.iter().find(|s| starts(s).contains("T08:00")).expect("08:00").clone();
    let nine = offered
        .iter()
        .find(|s| day_of(s) == day_of(&eight) && starts(s).contains("T09:00"))
        .expect("09:00 that day")
        .clone();
    let book = |token: &str, slot: &Value| {
        let app = &app;
        let (token, slot) = (token.to_string(), id(slot));
        async move { app.book(&token, slot, 1).await.body["reference"].as_str().expect("reference").to_string() }
    };
    let at_eight = book(&ana, &eight).await;
    let (at_nine_a, at_nine_b) = (book(&luis, &nine).await, book(&eva, &nine).await);

    // 08:00 goes; 09:00 stays with one window instead of two.
    let week = json!([{"weekdays": [1, 2, 3, 4, 5], "opens": "09:00", "closes": "12:00", "slot_minutes": 20, "capacity": 1}]);
    let r = app.set_week(&admin, "MEX", "notarial", week).await;
    let mut to_rebook: Vec<String> = r.body["slots"]["to_rebook"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    to_rebook.sort();
    let mut expected = vec![at_eight.clone(), at_nine_a.clone(), at_nine_b];
    expected.sort();
    assert_eq!(to_rebook, expected);

    let cancel = |token: &str, reference: &str| {
        let app = &app;
        let path = format!("/api/v1/appointments/{reference}/cancel");
        let token = token.to_string();
        async move { assert_eq!(app.post(&path, Some(&token), &json!({})).await.status, 200) }
    };
    cancel(&ana, &at_eight).await;
    cancel(&luis, &at_nine_a).await;
    let now = app.slots("MEX", "notarial").await;
    assert!(!now.iter().any(|s| s["slot_id"] == eight["slot_id"]), "the retired 08:00 stays closed");
    assert!(!now.iter().any(|s| s["slot_id"] == nine["slot_id"]), "09:00 still has its one booking");
    let newcomer = app.applicant_token("new@example.mx").await;
    assert_problem(&app.book(&newcomer, id(&eight), 1).await, 409, "slot_full");
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn a_new_slot_length_moves_the_end_of_slots_that_keep_their_start() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let hourly = json!([{"weekdays": [1, 2, 3, 4, 5], "opens": "09:00", "closes": "11:00", "slot_minutes": 60, "capacity": 2}]);
    app.set_week(&admin, "MID", "notarial", hourly).await;
    let halves = json!([{"weekdays": [1, 2, 3, 4, 5], "opens": "09:00", "closes": "11:00", "slot_minutes": 30, "capacity": 2}]);
    app.set_week(&admin, "MID", "notarial", halves).await;
    let slots = app.slots("MID", "notarial").await;
    let nine = slots.iter().find(|s| starts(s).contains("T09:00")).expect("09:00");
    assert!(nine["ends_at"].as_str().unwrap_or("").contains("T09:30"), "{nine}");
    assert_eq!(slots.iter().filter(|s| day_of(s) == day_of(nine)).count(), 4);
}

#[actix_web::test]
async fn closing_hours_a_clock_change_skips_is_refused() {
    let (app, _db) = spawn_app().await;
    let admin = app.admin_token().await;
    let zone: chrono_tz::Tz = "America/Tijuana".parse().expect("zone");
    let offset = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_hms_opt(12, 0, 0).expect("noon"))
            .earliest()
            .expect("noon")
            .offset()
            .fix()
            .local_minus_utc()
    };
    // The next spring-forward Sunday: the day after which the offset grows.
    let mut day = app.now().date_naive() + Duration::days(1);
    while offset(day) <= offset(day - Duration::days(1)) {
        day += Duration::days(1);
    }
    let r = app
        .post(
            "/api/v1/admin/posts/TIJ/closures",
            Some(&admin),
            &json!({"date": day, "from": "02:00", "to": "02:30", "reason": "no such hour"}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
}
