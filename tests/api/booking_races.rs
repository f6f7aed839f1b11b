//! The races that matter (docs/DOMAIN.md, "Capacity"): many clients at once never overbook, on
//! one instance or two sharing a database, and cancels and reschedules racing bookings never
//! push a slot's count out of `0..=capacity` or away from the seats actually held.

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{person, seat_violations, spawn_on, Reply, TestApp, TestDb};

const APPLICANTS: usize = 100;
const CAPACITY: i64 = 7;

/// Settings for races: no release delay (seats flow back during the race) and a pool wide
/// enough for real contention.
const RACE: &[(&str, &str)] =
    &[("CONSULAR_DESK_RELEASE_DELAY_MINUTES", "0"), ("CONSULAR_DESK_DB_POOL_SIZE", "16")];

/// Gives MEX notarial a week of one 60-minute slot a day with `capacity` windows and returns
/// the first bookable slot.
async fn one_slot_with_capacity(app: &TestApp, capacity: i64) -> i64 {
    let admin = app.admin_token().await;
    let week = json!([{"weekdays": [1, 2, 3, 4, 5, 6, 7], "opens": "09:00", "closes": "10:00", "slot_minutes": 60, "capacity": capacity}]);
    app.set_week(&admin, "MEX", "notarial", week).await;
    let slots = app.slots("MEX", "notarial").await;
    let slot = slots.iter().find(|s| s["remaining"] == capacity).expect("a fresh slot");
    slot["slot_id"].as_i64().expect("slot_id")
}

fn count(replies: &[Reply], status: u16, code: Option<&str>) -> usize {
    replies.iter().filter(|r| r.status == status && code.is_none_or(|c| r.code() == c)).count()
}

fn appointments_on(db: &TestDb, slot: i64) -> i64 {
    use consular_desk::db::schema::appointments;
    use diesel::prelude::*;
    appointments::table
        .filter(appointments::slot_id.eq(slot))
        .filter(appointments::status.eq("booked"))
        .count()
        .get_result(&mut crate::helpers::db_conn(db.url()))
        .expect("count")
}

async fn rush(apps: &[&TestApp], tokens: &[String], slot: i64) -> Vec<Reply> {
    join_all(tokens.iter().enumerate().map(|(i, token)| apps[i % apps.len()].book(token, slot, 1))).await
}

async fn assert_exactly_capacity_booked(apps: &[&TestApp], db: &TestDb) {
    let tokens = apps[0].applicants(APPLICANTS).await;
    let slot = one_slot_with_capacity(apps[0], CAPACITY).await;
    let replies = rush(apps, &tokens, slot).await;
    let others: Vec<String> = replies
        .iter()
        .filter(|r| r.status != 201 && !(r.status == 409 && r.code() == "slot_full"))
        .map(|r| format!("{} {}", r.status, r.body))
        .collect();
    assert!(others.is_empty(), "unexpected answers: {others:?}");
    assert_eq!(count(&replies, 201, None), CAPACITY as usize);
    assert_eq!(count(&replies, 409, Some("slot_full")), APPLICANTS - CAPACITY as usize);
    // Another instance's bookings show here within the cache's lifetime, and every seat may
    // have gone through the other instance.
    if apps.len() > 1 {
        actix_web::rt::time::sleep(consular_desk::booking::availability_cache::LIFETIME).await;
    }
    let left = apps[0].slots("MEX", "notarial").await;
    assert!(!left.iter().any(|s| s["slot_id"] == slot), "a full slot is not offered");
    assert_eq!(appointments_on(db, slot), CAPACITY);
    assert!(seat_violations(db.url()).is_empty(), "{:?}", seat_violations(db.url()));
}

#[actix_web::test]
async fn a_hundred_applicants_for_seven_seats() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, RACE).await;
    assert_exactly_capacity_booked(&[&app], &db).await;
}

#[actix_web::test]
async fn a_hundred_applicants_across_two_instances_on_one_database() {
    let db = TestDb::fresh();
    let a = spawn_on(&db, RACE).await;
    let b = spawn_on(&db, RACE).await;
    assert_exactly_capacity_booked(&[&a, &b], &db).await;
}

#[actix_web::test]
async fn cancels_racing_bookings_keep_the_count_true() {
    let db = TestDb::fresh();
    let a = spawn_on(&db, RACE).await;
    let b = spawn_on(&db, RACE).await;
    let tokens = a.applicants(40).await;
    let slot = one_slot_with_capacity(&a, 5).await;
    let (holders, waiting) = tokens.split_at(5);
    let mut references = Vec::new();
    for token in holders {
        let r = a.book(token, slot, 1).await;
        assert_eq!(r.status, 201, "{}", r.body);
        references.push(r.body["reference"].as_str().expect("reference").to_string());
    }
    let cancels =
        holders.iter().zip(&references).enumerate().map(|(i, (token, reference))| {
            let app = if i % 2 == 0 { &a } else { &b };
            async move {
                app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(token), &json!({})).await
            }
        });
    let bookings =
        waiting.iter().enumerate().map(|(i, t)| (if i % 2 == 0 { &a } else { &b }).book(t, slot, 1));
    let (cancelled, booked) = futures_util::future::join(join_all(cancels), join_all(bookings)).await;
    assert!(
        cancelled.iter().all(|r| r.status == 200),
        "{:?}",
        cancelled.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert!(booked.iter().all(|r| r.status == 201 || r.code() == "slot_full"));
    let now_booked = appointments_on(&db, slot);
    assert!(now_booked <= 5, "{now_booked} on a 5-seat slot");
    assert_eq!(now_booked, count(&booked, 201, None) as i64);
    assert!(seat_violations(db.url()).is_empty(), "{:?}", seat_violations(db.url()));
}

#[actix_web::test]
async fn concurrent_reschedules_never_overbook_or_lose_seats() {
    let db = TestDb::fresh();
    let a = spawn_on(&db, RACE).await;
    let b = spawn_on(&db, RACE).await;
    let admin = a.admin_token().await;
    let week = json!([{"weekdays": [1, 2, 3, 4, 5, 6, 7], "opens": "09:00", "closes": "12:00", "slot_minutes": 60, "capacity": 10}]);
    a.set_week(&admin, "MEX", "notarial", week).await;
    let slots: Vec<i64> =
        a.slots("MEX", "notarial").await.iter().filter_map(|s| s["slot_id"].as_i64()).collect();
    let (target, sources) = (slots[0], &slots[1..4]);
    // The target has 3 seats left.
    let fillers = a.applicants(7 + 24).await;
    for token in &fillers[..7] {
        assert_eq!(a.book(token, target, 1).await.status, 201);
    }
    let movers = &fillers[7..];
    let mut references = Vec::new();
    for (i, token) in movers.iter().enumerate() {
        let r = a.book(token, sources[i % sources.len()], 1).await;
        assert_eq!(r.status, 201, "{}", r.body);
        references.push(r.body["reference"].as_str().expect("reference").to_string());
    }
    // Everyone moves to the target at once; some also try to move twice at the same time.
    let moves = movers.iter().zip(&references).enumerate().flat_map(|(i, (token, reference))| {
        let app = if i % 2 == 0 { &a } else { &b };
        let mut tries = vec![(app, token, reference.clone(), target)];
        if i % 4 == 0 {
            tries.push((if i % 2 == 0 { &b } else { &a }, token, reference.clone(), slots[4]));
        }
        tries
    });
    let replies: Vec<Reply> = join_all(moves.map(|(app, token, reference, to)| async move {
        app.post(
            &format!("/api/v1/appointments/{reference}/reschedule"),
            Some(token),
            &json!({"slot_id": to}),
        )
        .await
    }))
    .await;
    let odd: Vec<&Value> = replies
        .iter()
        .filter(|r| {
            r.status != 200
                && !(r.status == 409 && ["slot_full", "appointment_changed", "same_slot"].contains(&r.code()))
        })
        .map(|r| &r.body)
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    // Not necessarily full at the end: a mover whose second, concurrent reschedule won may
    // have moved on again and given the seat back.
    let on_target = appointments_on(&db, target);
    assert!((7..=10).contains(&on_target), "{on_target} on a 10-seat slot");
    let total: i64 = slots[..5].iter().map(|s| appointments_on(&db, *s)).sum();
    assert_eq!(total, 7 + 24, "every appointment still holds exactly one seat");
    assert!(seat_violations(db.url()).is_empty(), "{:?}", seat_violations(db.url()));
}

#[actix_web::test]
async fn a_party_never_splits_across_the_last_seats() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, RACE).await;
    let tokens = app.applicants(12).await;
    let slot = one_slot_with_capacity(&app, 5).await;
    let replies = join_all(tokens.iter().map(|t| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/appointments",
                Some(t),
                &json!({"slot_id": slot, "applicants": [person("A", "B"), person("C", "D")]}),
            )
            .await
        }
    }))
    .await;
    assert_eq!(count(&replies, 201, None), 2, "two parties of two fit in five seats");
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn no_booking_slips_into_a_day_while_it_is_being_closed() {
    let db = TestDb::fresh();
    let a = spawn_on(&db, RACE).await;
    let b = spawn_on(&db, RACE).await;
    let admin = a.admin_token().await;
    let tokens = a.applicants(30).await;
    let slots = a.slots("MEX", "passport-renewal").await;
    let day = slots[0]["starts_at"].as_str().expect("starts_at")[..10].to_string();
    let on_day: Vec<i64> = slots
        .iter()
        .filter(|s| s["starts_at"].as_str().unwrap_or("").starts_with(&day))
        .filter_map(|s| s["slot_id"].as_i64())
        .collect();
    let bookings = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (if i % 2 == 0 { &a } else { &b }).book(t, on_day[i % on_day.len()], 1));
    let closure = json!({"date": day, "reason": "emergency"});
    let closing = b.post("/api/v1/admin/posts/MEX/closures", Some(&admin), &closure);
    let (booked, closed) = futures_util::future::join(join_all(bookings), closing).await;
    assert_eq!(closed.status, 201, "{}", closed.body);
    let listed: Vec<&str> = closed.body["to_rebook"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["reference"].as_str())
        .collect();
    for r in booked.iter().filter(|r| r.status == 201) {
        let reference = r.body["reference"].as_str().unwrap_or("");
        assert!(
            listed.contains(&reference),
            "{reference} was booked into the closed day but not listed for rebooking"
        );
    }
    assert!(booked.iter().all(|r| r.status == 201 || ["slot_closed", "slot_full"].contains(&r.code())));
    assert!(seat_violations(db.url()).is_empty());
}
