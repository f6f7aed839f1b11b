//! Booking as applicants and staff use it: availability, book, list, show, cancel,
//! reschedule, and the rules around them.

use serde_json::{json, Value};

use crate::client::someone;
use crate::helpers::{assert_problem, db_conn, person, seat_violations, spawn_app, spawn_on, TestDb};

/// Notarial hours on all seven days, two windows, 20-minute slots.
fn every_day() -> Value {
    json!([{"weekdays": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "23:40", "slot_minutes": 20, "capacity": 2}])
}

fn slot_id(slot: &Value) -> i64 {
    slot["slot_id"].as_i64().expect("slot_id")
}

fn remaining(slots: &[Value], id: i64) -> i64 {
    slots.iter().find(|s| slot_id(s) == id).and_then(|s| s["remaining"].as_i64()).unwrap_or(0)
}

#[actix_web::test]
async fn availability_lists_bookable_slots_in_the_post_zone() {
    let (app, _db) = spawn_app().await;
    let slots = app.slots("TIJ", "passport-renewal").await;
    assert!(!slots.is_empty());
    let first = &slots[0];
    let starts = first["starts_at"].as_str().expect("starts_at");
    let parsed = chrono::DateTime::parse_from_rfc3339(starts).expect("RFC 3339");
    // Tijuana is UTC-8 in winter and UTC-7 in summer: never a Mexico City offset.
    assert!([-8 * 3600, -7 * 3600].contains(&parsed.offset().local_minus_utc()), "{starts}");
    assert!(parsed > app.now() + chrono::Duration::hours(24), "minimum notice: {starts}");
    assert_eq!(first["remaining"], 2);

    let r = app.get("/api/v1/posts/TIJ/availability?service=passport-renewal", None).await;
    assert_eq!(r.body["timezone"], "America/Tijuana");
    assert_problem(&app.get("/api/v1/posts/XXX/availability?service=notarial", None).await, 404, "not_found");
    assert_problem(&app.get("/api/v1/posts/MEX/availability?service=visa", None).await, 404, "not_found");
    assert_problem(&app.get("/api/v1/posts/MEX/availability", None).await, 400, "invalid_query");
    assert_problem(
        &app.get("/api/v1/posts/MEX/availability?service=notarial&from=2027-01-10&to=2027-01-01", None).await,
        422,
        "validation_failed",
    );
}

#[actix_web::test]
async fn book_list_show_and_cancel() {
    let (app, db) = spawn_app().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slot = app.slots("MEX", "passport-new").await[0].clone();
    let id = slot_id(&slot);

    let r = app
        .post(
            "/api/v1/appointments",
            Some(&ana),
            &json!({"slot_id": id, "applicants": [person("José", "Núñez"), {"given_names": "Sofía", "surname": "Núñez", "date_of_birth": "2015-04-02"}], "phone": "+52 55 1234 5678"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let reference = r.body["reference"].as_str().expect("reference").to_string();
    assert_eq!(r.body["status"], "booked");
    assert_eq!(r.body["starts_at"], slot["starts_at"]);
    assert_eq!(r.body["post"], "MEX");
    assert_eq!(r.body["service"], "passport-new");
    assert_eq!(r.body["party_size"], 2);
    assert_eq!(r.body["applicants"][0]["given_names"], "José");
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1/appointments/{reference}").as_str())
    );
    // A party of two takes two of the three windows.
    assert_eq!(remaining(&app.slots("MEX", "passport-new").await, id), 1);

    let list = app.get("/api/v1/appointments", Some(&ana)).await;
    assert_eq!(list.body.as_array().map(Vec::len), Some(1));
    let shown = app.get(&format!("/api/v1/appointments/{reference}"), Some(&ana)).await;
    assert_eq!(shown.body["reference"], reference.as_str());
    // References are accepted as people type them.
    let typed = reference.to_lowercase().replace('-', "");
    assert_eq!(app.get(&format!("/api/v1/appointments/{typed}"), Some(&ana)).await.status, 200);

    let r = app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "cancelled");
    let again = app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert_problem(&again, 409, "not_active");
    // The seats are held for the release delay (10 minutes by default), not handed on at once.
    assert_eq!(remaining(&app.slots("MEX", "passport-new").await, id), 1);
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn held_seats_return_after_the_release_delay() {
    let (app, db) = spawn_app().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let id = slot_id(&app.slots("MEX", "notarial").await[0]);
    let reference = app.book_party(&ana, id, &[someone("Ana", "Núñez")]).await.reference;
    app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert_eq!(remaining(&app.slots("MEX", "notarial").await, id), 1);

    // What every instance's maintenance timer does, eleven minutes later.
    let later = app.now().naive_utc() + chrono::Duration::minutes(11);
    let released = consular_desk::booking::appointments::release_due_holds(&mut db_conn(db.url()), later)
        .expect("release");
    assert_eq!(released, 1);
    // Released behind the app's back, as another instance would: shown once the cached
    // answer's second is over.
    actix_web::rt::time::sleep(consular_desk::booking::availability_cache::LIFETIME).await;
    assert_eq!(remaining(&app.slots("MEX", "notarial").await, id), 2);
    // Running it again (another instance) releases nothing twice.
    assert_eq!(
        consular_desk::booking::appointments::release_due_holds(&mut db_conn(db.url()), later)
            .expect("release"),
        0
    );
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn with_no_release_delay_a_cancelled_seat_returns_at_once() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_RELEASE_DELAY_MINUTES", "0")]).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let id = slot_id(&app.slots("MEX", "notarial").await[0]);
    let reference = app.book_party(&ana, id, &[someone("Ana", "Núñez")]).await.reference;
    assert_eq!(remaining(&app.slots("MEX", "notarial").await, id), 1);
    app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert_eq!(remaining(&app.slots("MEX", "notarial").await, id), 2);
}

#[actix_web::test]
async fn one_active_appointment_per_service() {
    let (app, _db) = spawn_app().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slots = app.slots("GDL", "notarial").await;
    let first = app.book(&ana, slot_id(&slots[0]), 1).await;
    assert_eq!(first.status, 201);
    assert_problem(&app.book(&ana, slot_id(&slots[5]), 1).await, 409, "already_booked");
    // Another service is fine.
    assert_eq!(app.book(&ana, slot_id(&app.slots("GDL", "passport-renewal").await[0]), 1).await.status, 201);
    // After cancelling, she may book the service again.
    let reference = first.body["reference"].as_str().expect("reference");
    app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert_eq!(app.book(&ana, slot_id(&slots[5]), 1).await.status, 201);
}

#[actix_web::test]
async fn party_size_follows_the_service() {
    let (app, _db) = spawn_app().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let correction = slot_id(&app.slots("MEX", "passport-correction").await[0]);
    let r = app.book(&ana, correction, 2).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "applicants");
    let notarial = slot_id(&app.slots("MEX", "notarial").await[0]);
    assert_problem(&app.book(&ana, notarial, 5).await, 422, "validation_failed");
    assert_problem(&app.book(&ana, notarial, 0).await, 422, "validation_failed");
    // Three people for a two-window slot: full, whatever the party's right to book together.
    assert_problem(&app.book(&ana, notarial, 3).await, 409, "slot_full");
    let r = app
        .post(
            "/api/v1/appointments",
            Some(&ana),
            &json!({"slot_id": notarial, "applicants": [person("Ana", "López")], "phone": "call me"}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(app.get("/api/v1/appointments", Some(&ana)).await.body.as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn minimum_notice_and_horizon_are_enforced() {
    let db = TestDb::fresh();
    // One instance that offers everything, and one with the rules tightened on the same data.
    let open = spawn_on(&db, &[("CONSULAR_DESK_MIN_NOTICE_HOURS", "0")]).await;
    let strict = spawn_on(
        &db,
        &[("CONSULAR_DESK_MIN_NOTICE_HOURS", "48"), ("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "7")],
    )
    .await;
    let ana = strict.applicant_token("ana@example.mx").await;
    // Every day of the week, so the next 48 hours have slots whatever day the test runs.
    open.set_week(&open.admin_token().await, "MTY", "notarial", every_day()).await;
    let slots = open.slots("MTY", "notarial").await;
    let now = open.now();
    let starts = |s: &Value| {
        chrono::DateTime::parse_from_rfc3339(s["starts_at"].as_str().unwrap_or("")).expect("time")
    };
    let soon =
        slots.iter().find(|s| starts(s) < now + chrono::Duration::hours(48)).expect("a slot within 48 hours");
    let far =
        slots.iter().find(|s| starts(s) > now + chrono::Duration::days(8)).expect("a slot beyond 7 days");
    let r = strict.book(&ana, slot_id(soon), 1).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "slot_id");
    assert_problem(&strict.book(&ana, slot_id(far), 1).await, 422, "validation_failed");
    let ok = slots
        .iter()
        .find(|s| {
            starts(s) > now + chrono::Duration::hours(49) && starts(s) < now + chrono::Duration::days(6)
        })
        .expect("a slot in the window");
    assert_eq!(strict.book(&ana, slot_id(ok), 1).await.status, 201);
    assert_problem(&strict.book(&ana, 987_654_321, 1).await, 404, "not_found");
}

#[actix_web::test]
async fn idempotency_key_replays_the_first_answer() {
    let (app, _db) = spawn_app().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let id = slot_id(&app.slots("MEX", "notarial").await[0]);
    let body = json!({"slot_id": id, "applicants": [person("Ana", "López")]});
    let send = |key: &'static str, body: Value| {
        let app = &app;
        let ana = ana.clone();
        async move {
            let r = app
                .client
                .post(app.url("/api/v1/appointments"))
                .insert_header(("Authorization", format!("Bearer {ana}")))
                .insert_header(("Idempotency-Key", key))
                .send_json(&body)
                .await
                .expect("sent");
            let status = r.status().as_u16();
            let replayed = r.headers().contains_key("idempotent-replayed");
            let mut r = r;
            let bytes = r.body().await.expect("body");
            (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null), replayed)
        }
    };
    let (s1, first, replayed1) = send("key-1", body.clone()).await;
    let (s2, second, replayed2) = send("key-1", body.clone()).await;
    assert_eq!((s1, s2, replayed1, replayed2), (201, 201, false, true));
    assert_eq!(first, second);
    assert_eq!(app.get("/api/v1/appointments", Some(&ana)).await.body.as_array().map(Vec::len), Some(1));

    let other = json!({"slot_id": id, "applicants": [person("Luis", "López")]});
    let (s3, problem, _) = send("key-1", other).await;
    assert_eq!((s3, problem["code"].as_str()), (422, Some("validation_failed")));
    // Without the key, the same request is a second booking attempt, refused by the one-active rule.
    assert_problem(&app.post("/api/v1/appointments", Some(&ana), &body).await, 409, "already_booked");
}

#[actix_web::test]
async fn concurrent_retries_with_one_key_book_once() {
    let (app, db) = spawn_app().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let id = slot_id(&app.slots("MEX", "notarial").await[0]);
    let body = json!({"slot_id": id, "applicants": [person("Ana", "López")]});
    let replies = futures_util::future::join_all((0..10).map(|_| {
        let (app, ana, body) = (&app, ana.clone(), body.clone());
        async move {
            let mut r = app
                .client
                .post(app.url("/api/v1/appointments"))
                .insert_header(("Authorization", format!("Bearer {ana}")))
                .insert_header(("Idempotency-Key", "retry-storm"))
                .send_json(&body)
                .await
                .expect("sent");
            let bytes = r.body().await.expect("body");
            (r.status().as_u16(), serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
        }
    }))
    .await;
    // Every retry gets the first answer, also those that raced it.
    assert!(replies.iter().all(|(s, _)| *s == 201), "{replies:?}");
    assert!(replies.iter().all(|(_, b)| b["reference"] == replies[0].1["reference"]), "{replies:?}");
    assert_eq!(app.get("/api/v1/appointments", Some(&ana)).await.body.as_array().map(Vec::len), Some(1));
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn another_applicants_appointment_is_not_found() {
    let (app, _db) = spawn_app().await;
    let ana = app.applicant_token("ana@example.mx").await;
    let luis = app.applicant_token("luis@example.mx").await;
    let slots = app.slots("MEX", "notarial").await;
    let reference = app.book(&ana, slot_id(&slots[0]), 1).await.body["reference"]
        .as_str()
        .expect("reference")
        .to_string();
    assert_problem(
        &app.get(&format!("/api/v1/appointments/{reference}"), Some(&luis)).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&luis), &json!({})).await,
        404,
        "not_found",
    );
    let r = app
        .post(
            &format!("/api/v1/appointments/{reference}/reschedule"),
            Some(&luis),
            &json!({"slot_id": slot_id(&slots[1])}),
        )
        .await;
    assert_problem(&r, 404, "not_found");
    assert_eq!(app.get("/api/v1/appointments", Some(&luis)).await.body.as_array().map(Vec::len), Some(0));
    // A mistyped reference fails its check symbol: also simply not found.
    assert_problem(&app.get("/api/v1/appointments/AAA-AAA-AAA", Some(&ana)).await, 404, "not_found");
    // Ana's appointment is untouched.
    assert_eq!(
        app.get(&format!("/api/v1/appointments/{reference}"), Some(&ana)).await.body["status"],
        "booked"
    );
}

#[actix_web::test]
async fn reschedule_moves_or_changes_nothing() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_RELEASE_DELAY_MINUTES", "0")]).await;
    let [ana, luis, eva]: [String; 3] = app.applicants(3).await.try_into().expect("three");
    let slots = app.slots("MEX", "notarial").await;
    let (a, b, full) = (slot_id(&slots[0]), slot_id(&slots[1]), slot_id(&slots[2]));
    let reference = app.book(&ana, a, 1).await.body["reference"].as_str().expect("reference").to_string();
    assert_eq!(app.book(&luis, full, 2).await.status, 201);
    let path = format!("/api/v1/appointments/{reference}/reschedule");

    // Into a full slot: refused, and Ana keeps her seat.
    assert_problem(&app.post(&path, Some(&ana), &json!({"slot_id": full})).await, 409, "slot_full");
    let shown = app.get(&format!("/api/v1/appointments/{reference}"), Some(&ana)).await;
    assert_eq!(shown.body["slot_id"], a);
    assert_eq!(remaining(&app.slots("MEX", "notarial").await, a), 1);

    assert_problem(&app.post(&path, Some(&ana), &json!({"slot_id": a})).await, 409, "same_slot");
    let other_service = slot_id(&app.slots("MEX", "crba").await[0]);
    assert_problem(
        &app.post(&path, Some(&ana), &json!({"slot_id": other_service})).await,
        422,
        "validation_failed",
    );

    let r = app.post(&path, Some(&ana), &json!({"slot_id": b})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["slot_id"], b);
    assert_eq!(r.body["reference"], reference.as_str());
    let now = app.slots("MEX", "notarial").await;
    assert_eq!((remaining(&now, a), remaining(&now, b)), (2, 1));
    // Eva can take the seat Ana left.
    assert_eq!(app.book(&eva, a, 2).await.status, 201);
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn staff_book_for_people_who_phone() {
    let (app, db) = spawn_app().await;
    let clerk = app.staff_token("clerk.mex", "clerk", Some("MEX")).await;
    // Every day of the week, so the next 24 hours have slots whatever day the test runs.
    app.set_week(&app.admin_token().await, "MEX", "notarial", every_day()).await;
    // A clerk sees and books slots inside the applicants' notice period too.
    let staff_view = app.get("/api/v1/staff/posts/MEX/availability?service=notarial", Some(&clerk)).await;
    assert_eq!(staff_view.status, 200, "{}", staff_view.body);
    let for_staff = staff_view.body["slots"].as_array().cloned().unwrap_or_default();
    let for_public = app.slots("MEX", "notarial").await;
    assert!(for_staff.len() > for_public.len(), "staff see the next 24 hours too");
    assert!(for_public.iter().all(|p| for_staff.iter().any(|s| s["slot_id"] == p["slot_id"])));
    let soonest = for_staff[0].clone();
    let r = app.get("/api/v1/staff/posts/GDL/availability?service=notarial", Some(&clerk)).await;
    assert_problem(&r, 403, "wrong_post");
    let body = json!({"slot_id": slot_id(&soonest), "applicants": [person("Rosa", "Martínez")], "phone": "+52 55 5555 0000"});
    let r = app.post("/api/v1/staff/appointments", Some(&clerk), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["booked_by_staff"], true);
    // No one-active rule for phone bookings: the same caller may book for a relative.
    assert_eq!(app.post("/api/v1/staff/appointments", Some(&clerk), &body).await.status, 201);
    // Capacity still binds (two windows).
    assert_problem(&app.post("/api/v1/staff/appointments", Some(&clerk), &body).await, 409, "slot_full");
    // A clerk of Mexico City books only there.
    let gdl = slot_id(&app.slots("GDL", "notarial").await[0]);
    let r = app
        .post(
            "/api/v1/staff/appointments",
            Some(&clerk),
            &json!({"slot_id": gdl, "applicants": [person("Rosa", "Martínez")]}),
        )
        .await;
    assert_problem(&r, 403, "wrong_post");
    assert!(seat_violations(db.url()).is_empty());
}

#[actix_web::test]
async fn booking_attempts_are_throttled() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR", "3")]).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slots = app.slots("MEX", "notarial").await;
    for _ in 0..3 {
        let r = app.book(&ana, slot_id(&slots[0]), 5).await; // refused for the party size, but an attempt
        assert_eq!(r.status, 422);
    }
    let r = app.book(&ana, slot_id(&slots[0]), 1).await;
    assert_problem(&r, 429, "too_many_requests");
    assert!(r.headers.contains_key("retry-after"));

    let by_address = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR_PER_ADDRESS", "2")]).await;
    let [luis, eva]: [String; 2] = by_address.applicants(2).await.try_into().expect("two");
    by_address.book(&luis, slot_id(&slots[1]), 5).await;
    by_address.book(&eva, slot_id(&slots[1]), 5).await;
    assert_problem(&by_address.book(&eva, slot_id(&slots[1]), 1).await, 429, "too_many_requests");
}

#[actix_web::test]
async fn a_replay_is_not_a_new_attempt() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR", "1")]).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let id = slot_id(&app.slots("MEX", "notarial").await[0]);
    let body = json!({"slot_id": id, "applicants": [person("Ana", "López")]});
    for _ in 0..3 {
        let mut r = app
            .client
            .post(app.url("/api/v1/appointments"))
            .insert_header(("Authorization", format!("Bearer {ana}")))
            .insert_header(("Idempotency-Key", "once"))
            .send_json(&body)
            .await
            .expect("sent");
        assert_eq!(r.status().as_u16(), 201);
        let reference: Value = serde_json::from_slice(&r.body().await.expect("body")).expect("json");
        let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert_eq!(
            location,
            format!("/api/v1/appointments/{}", reference["reference"].as_str().unwrap_or(""))
        );
    }
    // A new booking attempt is over the limit of one an hour.
    assert_problem(&app.book(&ana, id, 1).await, 429, "too_many_requests");
}

#[actix_web::test]
async fn implausible_dates_are_422_not_500() {
    let (app, _db) = spawn_app().await;
    for query in ["from=%2B262142-12-31", "from=1899-01-01", "to=2500-01-01"] {
        let r = app.get(&format!("/api/v1/posts/MEX/availability?service=notarial&{query}"), None).await;
        assert_problem(&r, 422, "validation_failed");
    }
    assert_problem(&app.get("/api/v1/fees?date=1800-01-01", None).await, 422, "validation_failed");
}
