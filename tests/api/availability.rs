//! Cached availability stays true: an instance shows its own changes at once, and another
//! instance's within the cache's one second.

use serde_json::{json, Value};

use crate::helpers::{spawn_on, TestApp, TestDb};
use consular_desk::booking::availability_cache::LIFETIME;

fn remaining(slots: &[Value], id: i64) -> i64 {
    slots
        .iter()
        .find(|s| s["slot_id"].as_i64() == Some(id))
        .and_then(|s| s["remaining"].as_i64())
        .unwrap_or(0)
}

async fn first_slot(app: &TestApp) -> (i64, i64) {
    let slots = app.slots("MEX", "notarial").await;
    let id = slots[0]["slot_id"].as_i64().expect("slot_id");
    (id, remaining(&slots, id))
}

#[actix_web::test]
async fn an_instance_shows_its_own_bookings_and_cancellations_at_once() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_RELEASE_DELAY_MINUTES", "0")]).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let (id, before) = first_slot(&app).await; // now cached
    let r = app.book(&ana, id, 1).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(remaining(&app.slots("MEX", "notarial").await, id), before - 1);
    let reference = r.body["reference"].as_str().expect("reference");
    let r = app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(remaining(&app.slots("MEX", "notarial").await, id), before);
}

#[actix_web::test]
async fn another_instance_shows_a_booking_within_a_second() {
    let db = TestDb::fresh();
    let (one, two) = (spawn_on(&db, &[]).await, spawn_on(&db, &[]).await);
    let ana = one.applicant_token("ana@example.mx").await;
    let (id, before) = first_slot(&two).await; // cached on the second instance
    assert_eq!(one.book(&ana, id, 1).await.status, 201);
    actix_web::rt::time::sleep(LIFETIME).await;
    assert_eq!(remaining(&two.slots("MEX", "notarial").await, id), before - 1);
}

#[actix_web::test]
async fn a_full_slot_leaves_the_page_at_once_and_a_stale_page_cannot_overbook() {
    let db = TestDb::fresh();
    let (one, two) = (spawn_on(&db, &[]).await, spawn_on(&db, &[]).await);
    let admin = one.admin_token().await;
    // One seat per slot, so the first booking fills it.
    one.set_week(&admin, "MEX", "notarial", json!([{"weekdays": [1, 2, 3, 4, 5, 6, 7], "opens": "08:00", "closes": "12:00", "slot_minutes": 20, "capacity": 1}]))
        .await;
    let (ana, luis) =
        (one.applicant_token("ana@example.mx").await, one.applicant_token("luis@example.mx").await);
    let (id, _) = first_slot(&two).await; // the second instance caches it as free
    assert_eq!(one.book(&ana, id, 1).await.status, 201);
    assert!(one.slots("MEX", "notarial").await.iter().all(|s| s["slot_id"].as_i64() != Some(id)));
    // Booking through the instance whose page may still show the seat: the seat is taken by
    // the database, not the page.
    let r = two.book(&luis, id, 1).await;
    crate::helpers::assert_problem(&r, 409, "slot_full");
}
