//! The appointment's calendar file (.ics), from the API and from the pages, read back with a
//! real iCalendar parser: words in the caller's language, one UID for the appointment's whole
//! life, a SEQUENCE that grows by one with every reschedule (the applicant's or staff's, even
//! twenty at once), and the file that removes the event once the appointment is cancelled.

use std::str::FromStr;

use futures_util::future::join_all;
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventStatus};
use serde_json::json;

use crate::helpers::{assert_problem, spawn_on, Caller, Reply, TestApp, TestDb};
use crate::pages::{page, post_form, web_session};

/// What a calendar reads from one file.
#[derive(Debug)]
struct Read {
    method: String,
    uid: String,
    sequence: u32,
    summary: String,
    location: String,
    description: String,
    starts: chrono::DateTime<chrono::Utc>,
    cancelled: bool,
}

/// Parses a calendar file as a calendar application would; exactly one event.
fn read(reply: &Reply) -> Read {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.content_type, "text/calendar; charset=utf-8");
    assert!(reply.text.lines().all(|l| l.len() <= 75), "lines are folded: {}", reply.text);
    let calendar = icalendar::Calendar::from_str(&reply.text).expect("a valid iCalendar file");
    let events: Vec<&icalendar::Event> = calendar.events().collect();
    assert_eq!(events.len(), 1, "{}", reply.text);
    let event = events[0];
    let text = |key: &str| {
        event.property_value(key).unwrap_or_else(|| panic!("{key} in {}", reply.text)).to_string()
    };
    let starts = match event.get_start() {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at,
        other => panic!("DTSTART in UTC, got {other:?}"),
    };
    assert!(event.get_timestamp().is_some() && event.get_end().is_some(), "{}", reply.text);
    Read {
        method: calendar.property_value("METHOD").unwrap_or_default().to_string(),
        uid: event.get_uid().unwrap_or_default().to_string(),
        sequence: event.get_sequence().expect("SEQUENCE"),
        summary: text("SUMMARY"),
        location: text("LOCATION"),
        description: text("DESCRIPTION"),
        starts,
        cancelled: match event.get_status() {
            Some(EventStatus::Cancelled) => true,
            Some(EventStatus::Confirmed) => false,
            other => panic!("STATUS, got {other:?}"),
        },
    }
}

/// The API's file of `reference` for `token`, in `language`.
async fn api_file(app: &TestApp, token: &str, reference: &str, language: &str) -> Reply {
    let headers = [("Accept-Language", language)];
    let caller = Caller { client: std::borrow::Cow::Borrowed(&app.client), headers: &headers };
    app.call_as(&caller, "GET", &format!("/api/v1/appointments/{reference}/calendar.ics"), Some(token), None)
        .await
}

fn utc(rfc3339: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("a time")).expect("RFC 3339").to_utc()
}

fn mexico_city() -> String {
    let mex = consular_desk::reference::seed::POSTS.iter().find(|p| p.code == "MEX").expect("MEX");
    format!("{}, {}", mex.name, mex.address)
}

#[actix_web::test]
async fn the_api_file_speaks_the_callers_language_and_keeps_one_uid_while_its_sequence_grows() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let clerk = app.staff_token("clerk.cal", "clerk", Some("MEX")).await;
    let ana = app.applicant_token("ana@example.mx").await;
    let bob = app.applicant_token("bob@example.mx").await;
    let slots = app.slots("MEX", "passport-renewal").await;
    let booked = app.book(&ana, slots[0]["slot_id"].as_i64().expect("slot"), 1).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let reference = booked.body["reference"].as_str().expect("reference").to_string();

    let first = read(&api_file(&app, &ana, &reference, "en-US,en;q=0.9").await);
    assert_eq!((first.method.as_str(), first.sequence, first.cancelled), ("PUBLISH", 0, false));
    assert_eq!(first.uid, format!("{reference}@consular-desk"));
    assert_eq!(first.summary, "Passport renewal, U.S. Embassy Mexico City");
    assert_eq!(first.location, mexico_city());
    assert!(first.description.starts_with(&format!("Reference {reference}")), "{}", first.description);
    assert!(first.description.contains("confirmation (PDF)"), "{}", first.description);
    // The time at the post, as every paper prints it, for a calendar kept in another zone.
    let local = slots[0]["starts_at"].as_str().unwrap_or_default();
    let printed = format!("Local time: {} {} (UTC", &local[..10], &local[11..16]);
    assert!(first.description.contains(&printed), "{} lacks {printed}", first.description);
    assert_eq!(first.starts, utc(&slots[0]["starts_at"]));
    let spanish = read(&api_file(&app, &ana, &reference, "es-MX,es;q=0.9,en;q=0.5").await);
    assert_eq!(spanish.summary, "Renovación de pasaporte, U.S. Embassy Mexico City");
    assert_eq!(spanish.location, mexico_city());
    assert!(spanish.description.starts_with(&format!("Referencia {reference}")), "{}", spanish.description);
    assert_eq!((spanish.uid.as_str(), spanish.sequence), (first.uid.as_str(), 0));

    // Someone else's appointment, an unknown one, no token, a staff token: never the file.
    assert_problem(&api_file(&app, &bob, &reference, "en").await, 404, "not_found");
    assert_problem(&api_file(&app, &ana, "AAA-AAA-AAA", "en").await, 404, "not_found");
    let path = format!("/api/v1/appointments/{reference}/calendar.ics");
    assert_eq!(app.get(&path, None).await.status, 401);
    assert_eq!(app.get(&path, Some(&clerk)).await.status, 403);

    // The applicant moves it, then staff move it: the same event, one version later each time.
    let moved = app
        .post(
            &format!("/api/v1/appointments/{reference}/reschedule"),
            Some(&ana),
            &json!({"slot_id": slots[1]["slot_id"]}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let second = read(&api_file(&app, &ana, &reference, "en").await);
    assert_eq!((second.uid.as_str(), second.sequence), (first.uid.as_str(), 1));
    assert_eq!(second.starts, utc(&slots[1]["starts_at"]));
    let by_staff = app
        .post(
            &format!("/api/v1/staff/appointments/{reference}/reschedule"),
            Some(&clerk),
            &json!({"slot_id": slots[2]["slot_id"], "reason": "asked on the phone"}),
        )
        .await;
    assert_eq!(by_staff.status, 200, "{}", by_staff.body);
    let third = read(&api_file(&app, &ana, &reference, "en").await);
    assert_eq!((third.uid.as_str(), third.sequence), (first.uid.as_str(), 2));
    assert_eq!(third.starts, utc(&slots[2]["starts_at"]));
    // A refused move changes nothing, the version included.
    let same = app
        .post(
            &format!("/api/v1/appointments/{reference}/reschedule"),
            Some(&ana),
            &json!({"slot_id": slots[2]["slot_id"]}),
        )
        .await;
    assert_problem(&same, 409, "same_slot");
    assert_eq!(read(&api_file(&app, &ana, &reference, "en").await).sequence, 2);

    // Cancelled: the file that removes the event, same UID, a later version, in both languages.
    let cancelled =
        app.post(&format!("/api/v1/appointments/{reference}/cancel"), Some(&ana), &json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let last = read(&api_file(&app, &ana, &reference, "en").await);
    assert_eq!((last.method.as_str(), last.cancelled), ("CANCEL", true));
    assert_eq!(last.uid, first.uid);
    assert!(last.sequence > third.sequence, "{} after {}", last.sequence, third.sequence);
    assert_eq!(last.summary, first.summary);
    assert!(last.description.starts_with("Cancelled"), "{}", last.description);
    let ultima = read(&api_file(&app, &ana, &reference, "es").await);
    assert_eq!((ultima.method.as_str(), ultima.cancelled, ultima.sequence), ("CANCEL", true, last.sequence));
    assert!(ultima.description.starts_with("Cancelada"), "{}", ultima.description);
    assert_problem(&api_file(&app, &bob, &reference, "en").await, 404, "not_found");
    app.stop().await;
}

#[actix_web::test]
async fn the_page_serves_the_file_in_the_pages_language_and_offers_the_removal_after_cancelling() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let ana = app.applicant_token("ana@example.mx").await;
    app.applicant_token("bob@example.mx").await;
    let (cookies, token) = web_session(&app, "ana@example.mx", "applicant passphrase").await;
    let (bobs, _) = web_session(&app, "bob@example.mx", "applicant passphrase").await;
    let slots = app.slots("MEX", "passport-renewal").await;
    let booked = app.book(&ana, slots[0]["slot_id"].as_i64().expect("slot"), 1).await;
    let reference = booked.body["reference"].as_str().expect("reference").to_string();
    let mine = format!("/my/{reference}");
    let file = format!("{mine}/appointment.ics");
    let english = [("Cookie", cookies.as_str())];
    let spanish_cookies = format!("{cookies}; lang=es");
    let spanish = [("Cookie", spanish_cookies.as_str())];

    let first = read(&page(&app, &file, &english).await);
    assert_eq!((first.method.as_str(), first.sequence), ("PUBLISH", 0));
    assert_eq!(first.summary, "Passport renewal, U.S. Embassy Mexico City");
    let es = read(&page(&app, &file, &spanish).await);
    assert_eq!(es.summary, "Renovación de pasaporte, U.S. Embassy Mexico City");
    assert_eq!((es.location, es.uid.as_str()), (mexico_city(), first.uid.as_str()));
    assert_eq!(page(&app, &file, &[("Cookie", &bobs)]).await.status, 404);
    assert_eq!(page(&app, &file, &[]).await.status, 303, "signed out: to the sign-in page");
    let shown = page(&app, &mine, &english).await;
    assert!(shown.text.contains("Add to my calendar") && !shown.text.contains("Remove from your calendar"));

    // Moved through the page's form: one version later.
    let to = slots[3]["slot_id"].to_string();
    let moved =
        post_form(&app, &format!("{mine}/reschedule"), &cookies, &format!("slot_id={to}&csrf={token}")).await;
    assert_eq!(moved.status, 303, "{}", moved.text);
    let second = read(&page(&app, &file, &english).await);
    assert_eq!((second.uid.as_str(), second.sequence), (first.uid.as_str(), 1));
    assert_eq!(second.starts, utc(&slots[3]["starts_at"]));

    // Cancelled through the page: the page offers the file that removes the event.
    assert_eq!(
        post_form(&app, &format!("{mine}/cancel"), &cookies, &format!("csrf={token}")).await.status,
        303
    );
    let shown = page(&app, &mine, &english).await;
    assert!(shown.text.contains("Remove from your calendar"), "{}", shown.text);
    assert!(shown.text.contains(&format!(r#"href="{file}""#)), "{}", shown.text);
    assert!(!shown.text.contains("Add to my calendar"));
    assert!(page(&app, &mine, &spanish).await.text.contains("Quitar de su calendario"));
    let last = read(&page(&app, &file, &english).await);
    assert_eq!(
        (last.method.as_str(), last.cancelled, last.uid.as_str()),
        ("CANCEL", true, first.uid.as_str())
    );
    assert_eq!(last.sequence, 2);
    app.stop().await;
}

#[actix_web::test]
async fn twenty_reschedules_at_once_leave_the_sequence_at_the_number_that_moved_it() {
    let db = TestDb::fresh();
    // One applicant makes 21 booking attempts within the hour here.
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR", "1000")]).await;
    let admin = app.admin_token().await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    let ana = app.applicant_token("ana@example.mx").await;
    let slots: Vec<i64> =
        app.slots("MEX", "passport-renewal").await.iter().filter_map(|s| s["slot_id"].as_i64()).collect();
    assert!(slots.len() > 21, "{} free slots", slots.len());
    let booked = app.book(&ana, slots[0], 1).await;
    let reference = booked.body["reference"].as_str().expect("reference").to_string();

    let path = format!("/api/v1/appointments/{reference}/reschedule");
    let replies: Vec<Reply> = join_all(slots[1..21].iter().map(|slot| {
        let (app, ana, path) = (&app, &ana, &path);
        async move { app.post(path, Some(ana), &json!({"slot_id": slot})).await }
    }))
    .await;
    let odd: Vec<String> = replies
        .iter()
        .filter(|r| r.status != 200 && !(r.status == 409 && r.code() == "appointment_changed"))
        .map(|r| format!("{} {}", r.status, r.body))
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    let moved = replies.iter().filter(|r| r.status == 200).count();
    assert!(moved >= 1, "at least one reschedule goes through");
    let file = read(&api_file(&app, &ana, &reference, "en").await);
    assert_eq!(file.sequence as usize, moved, "{moved} of 20 moved it");
    let now = app.get(&format!("/api/v1/appointments/{reference}"), Some(&ana)).await;
    assert_eq!(file.starts, utc(&now.body["starts_at"]), "the file shows where it ended up");
    app.stop().await;
}
