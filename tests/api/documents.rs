//! Intake, tracked documents, the notarial register and public tracking: a whole visit, the
//! forms' rules, every invalid transition, numbering under concurrent clerks and instances,
//! post scope, and the lookups that must fail.

use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, db_conn, person, spawn_on, Caller, TestApp, TestDb};

async fn documents_app() -> (TestApp, TestDb, String, String) {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    app.open_around_the_clock(&admin, "MEX", "passport-renewal").await;
    (app, db, admin, clerk)
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The test apps' today (their clock starts on it).
fn today() -> NaiveDate {
    crate::helpers::tuesday_10_mex().date_naive()
}

fn years_ago(years: i32) -> String {
    let t = today();
    NaiveDate::from_ymd_opt(t.year() - years, t.month(), t.day().min(28)).expect("date").to_string()
}

/// A DS-82 that passes every rule: an adult's passport issued five years ago.
pub(crate) fn renewal(given: &str, surname: &str) -> Value {
    json!({
        "form": "DS-82",
        "applicant": {"given_names": given, "surname": surname, "date_of_birth": "1990-06-15"},
        "previous_passport": {"number": "ZQXW 1234", "issued_on": years_ago(5)},
    })
}

pub(crate) fn notarial_job(pending: bool) -> Value {
    json!({
        "form": "notarial", "act": "acknowledgment", "document_title": "Poder notarial", "pages": 3,
        "certificates": 1, "pending": pending,
        "signers": [
            {"given_names": "José", "surname": "Núñez", "id_proof": {"kind": "national_id", "number": "ABCD123456"}},
            {"given_names": "王", "surname": "芳", "id_proof": {"kind": "personally_known"}},
        ],
    })
}

/// A walk-in for `service`, called to a window at once: ready to take documents.
pub(crate) async fn at_window(app: &TestApp, clerk: &str, service: &str) -> String {
    let body = json!({"service": service, "kind": "emergency", "reason": "arrest", "applicant": person("Ana", "Núñez")});
    let r = app.post("/api/v1/staff/posts/MEX/walk-ins", Some(clerk), &body).await;
    assert_eq!(r.status, 201, "walk-in: {}", r.body);
    // A window of its own: a window holds one called visit at a time.
    let window = format!("w{:x}", rand::random::<u32>());
    let called =
        app.post("/api/v1/staff/posts/MEX/queue/next", Some(clerk), &json!({"window": window})).await;
    assert_eq!(text(&called.body, "reference"), text(&r.body, "reference"), "{}", called.body);
    text(&r.body, "reference")
}

pub(crate) async fn record(
    app: &TestApp,
    clerk: &str,
    reference: &str,
    item: &Value,
) -> crate::helpers::Reply {
    app.post(&format!("/api/v1/staff/appointments/{reference}/documents"), Some(clerk), item).await
}

async fn move_to(app: &TestApp, clerk: &str, tracking: &str, to: &str) -> crate::helpers::Reply {
    let body = json!({"to": to, "note": format!("now {to}")});
    app.post(&format!("/api/v1/staff/documents/{tracking}/transitions"), Some(clerk), &body).await
}

#[actix_web::test]
async fn a_full_visit_from_booking_to_public_tracking() {
    let (app, _db, admin, clerk) = documents_app().await;
    let sean = app.applicant_token("sean@example.mx").await;
    let slots = app.slots("MEX", "passport-renewal").await;
    let later = slots.last().expect("a slot")["slot_id"].clone();
    let party = json!([{"given_names": "Seán", "surname": "O'Brien", "date_of_birth": "1990-06-15"}]);
    let booked =
        app.post("/api/v1/appointments", Some(&sean), &json!({"slot_id": later, "applicants": party})).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let reference = text(&booked.body, "reference");

    // Pre-filled at home: the passport number is kept masked, never whole.
    let intake = format!("/api/v1/appointments/{reference}/intake");
    let filled =
        app.call("PUT", &intake, Some(&sean), Some(&json!({"items": [renewal("Seán", "O'Brien")]}))).await;
    assert_eq!(filled.status, 200, "{}", filled.body);
    assert_eq!(filled.body["items"][0]["previous_passport"]["number"]["masked"], "****1234");
    assert!(!filled.text.contains("ZQXW") && !filled.text.contains("hash"), "{}", filled.text);
    assert_eq!(app.get(&intake, Some(&sean)).await.body, filled.body);
    let other = app.applicant_token("other@example.mx").await;
    assert_problem(&app.get(&intake, Some(&other)).await, 404, "not_found");
    let staff_view = app.get(&format!("/api/v1/staff/appointments/{reference}/intake"), Some(&clerk)).await;
    assert_eq!(staff_view.body["items"], filled.body["items"]);

    // Thirty saves at once (a double-tapping phone): each replaces the intake, none fails.
    let saves = futures_util::future::join_all((0..30).map(|_| {
        let (app, sean, intake) = (&app, sean.clone(), intake.clone());
        async move {
            app.call("PUT", &intake, Some(&sean), Some(&json!({"items": [renewal("Seán", "O'Brien")]}))).await
        }
    }))
    .await;
    assert!(saves.iter().all(|r| r.status == 200), "{:?}", saves.iter().map(|r| &r.body).collect::<Vec<_>>());

    // Came early: the clerk moves them to a seat now, checks them in and calls them.
    let now = app.get("/api/v1/staff/posts/MEX/availability?service=passport-renewal", Some(&clerk)).await;
    let soon = now.body["slots"][0]["slot_id"].clone();
    let moved = app
        .post(
            &format!("/api/v1/staff/appointments/{reference}/reschedule"),
            Some(&clerk),
            &json!({"slot_id": soon, "reason": "came early, a seat is free"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let documents = format!("/api/v1/staff/appointments/{reference}/documents");
    let checked_in =
        app.post(&format!("/api/v1/staff/appointments/{reference}/check-in"), Some(&clerk), &json!({})).await;
    assert_eq!(checked_in.status, 200, "{}", checked_in.body);
    assert_problem(
        &record(&app, &clerk, &reference, &renewal("Seán", "O'Brien")).await,
        409,
        "invalid_transition",
    );
    let called = app.post("/api/v1/staff/posts/MEX/queue/next", Some(&clerk), &json!({"window": "2"})).await;
    assert_eq!(text(&called.body, "reference"), reference);

    // Intake taken at the window: one tracked document, and the visit is in service.
    let doc = record(&app, &clerk, &reference, &renewal("Seán", "O'Brien")).await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    assert_eq!((text(&doc.body, "kind"), text(&doc.body, "status")), ("passport".into(), "received".into()));
    let tracking = text(&doc.body, "tracking_number");
    let board = app.get("/api/v1/staff/posts/MEX/day", Some(&clerk)).await.body;
    let visit = board["visits"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["reference"] == reference.as_str()).cloned());
    assert_eq!(visit.map(|v| v["status"].clone()), Some(json!("in_service")));

    let flow =
        ["sent_for_adjudication", "approved", "printed", "received_at_post", "ready_for_pickup", "delivered"];
    let mut last = doc;
    for step in flow {
        last = move_to(&app, &clerk, &tracking, step).await;
        assert_eq!((last.status, text(&last.body, "status")), (200, step.to_string()), "{}", last.body);
    }
    let history = last.body["history"].as_array().cloned().unwrap_or_default();
    assert_eq!(history.len(), 7);
    assert!(history.iter().all(|s| s["staff"] == "mex.clerk"), "{history:?}");
    assert_eq!(history[6]["note"], "now delivered");
    assert_eq!(app.get(&documents, Some(&clerk)).await.body.as_array().map(Vec::len), Some(1));

    // Anyone with the number and the surname: status and dates, nothing personal.
    let typed = tracking.to_lowercase().replace('-', "");
    let public = app.get(&format!("/api/v1/track/{typed}?surname=obrien"), None).await;
    assert_eq!(public.status, 200, "{}", public.body);
    let mut keys: Vec<&String> = public.body.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["history", "kind", "status", "tracking_number", "updated_at"]);
    assert_eq!(public.body["status"], "delivered");
    assert_eq!(public.body["history"].as_array().map(Vec::len), Some(7));
    assert!(public.body["history"][0].as_object().is_some_and(|s| s.len() == 2), "status and time only");
    for private in ["Seán", "O'Brien", "mex.clerk", "now delivered", &reference] {
        assert!(!public.text.contains(private), "the lookup shows {private:?}");
    }
    let done =
        app.post(&format!("/api/v1/staff/appointments/{reference}/complete"), Some(&clerk), &json!({})).await;
    assert_eq!(text(&done.body, "status"), "completed", "{}", done.body);

    // The audit trail has every step, by ids and codes: no names, no document numbers.
    let log = app.get("/api/v1/audit/log?limit=500", Some(&admin)).await;
    for action in ["intake.prefilled", "document.recorded", "document.transitioned"] {
        assert!(log.text.contains(action), "no {action} in {}", log.text);
    }
    for private in ["Seán", "O'Brien", "ZQXW"] {
        assert!(!log.text.contains(private), "the trail holds {private:?}");
    }
}

#[actix_web::test]
async fn the_forms_rules_hold_when_pre_filled_and_at_the_window() {
    let (app, db, admin, clerk) = documents_app().await;
    app.open_around_the_clock(&admin, "MEX", "passport-new").await;
    let ana = app.applicant_token("ana@example.mx").await;
    let book = |service: &'static str| {
        let (app, ana) = (&app, ana.clone());
        async move {
            let slot = app.slots("MEX", service).await.last().expect("slot")["slot_id"].clone();
            let r = app
                .post(
                    "/api/v1/appointments",
                    Some(&ana),
                    &json!({"slot_id": slot, "applicants": [person("Sofía", "Núñez")]}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            format!("/api/v1/appointments/{}/intake", text(&r.body, "reference"))
        }
    };
    let new = book("passport-new").await;
    let renew = book("passport-renewal").await;
    let put = |path: &str, item: Value| {
        let (app, ana, path) = (&app, ana.clone(), path.to_string());
        async move { app.call("PUT", &path, Some(&ana), Some(&json!({"items": [item]}))).await }
    };
    let fields = |r: &crate::helpers::Reply| -> Vec<String> {
        r.body["errors"].as_array().into_iter().flatten().map(|e| text(e, "field")).collect()
    };
    let ds11 = |dob: String, consent: Option<&str>| json!({"form": "DS-11", "applicant": {"given_names": "Sofía", "surname": "Núñez", "date_of_birth": dob}, "minor_consent": consent});

    // A child under 16: both parents, a DS-3053, or evidence of sole custody.
    let refused = put(&new, ds11(years_ago(10), None)).await;
    assert_problem(&refused, 422, "validation_failed");
    assert_eq!(fields(&refused), ["items[0].minor_consent"]);
    assert_eq!(refused.body["errors"][0]["rule"], "child_needs_consent");
    for consent in ["both_parents_present", "ds3053", "sole_custody_evidence"] {
        assert_eq!(put(&new, ds11(years_ago(10), Some(consent))).await.status, 200, "{consent}");
    }
    assert_eq!(fields(&put(&new, ds11(years_ago(30), Some("ds3053"))).await), ["items[0].minor_consent"]);
    assert_eq!(put(&new, ds11(years_ago(30), None)).await.status, 200);
    assert_eq!(fields(&put(&new, renewal("Ana", "Ruiz")).await), ["items[0].form"]);
    // Each form takes its own fields: a DS-11 with a notarial act, or a field no form has, is
    // refused as the body is read, and what was saved stays.
    let saved = app.get(&new, Some(&ana)).await.body;
    for (field, value) in [("act", json!("jurat")), ("previous_passport", json!({})), ("colour", json!(1))] {
        let mut foreign = ds11(years_ago(30), None);
        foreign[field] = value;
        let refused = put(&new, foreign).await;
        assert_problem(&refused, 422, "validation_failed");
        assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains(field)), "{}", refused.body);
    }
    assert_eq!(app.get(&new, Some(&ana)).await.body, saved);

    // A DS-82: a passport issued at 16 or older, less than 15 years ago.
    let mut at_15 = renewal("Ana", "Ruiz");
    at_15["applicant"]["date_of_birth"] = json!(years_ago(20));
    at_15["previous_passport"]["issued_on"] = json!(years_ago(5));
    assert_eq!(fields(&put(&renew, at_15).await), ["items[0].previous_passport.issued_on"]);
    let mut old = renewal("Ana", "Ruiz");
    old["previous_passport"]["issued_on"] = json!(years_ago(16));
    assert_eq!(fields(&put(&renew, old).await), ["items[0].previous_passport.issued_on"]);
    let mut no_passport = renewal("Ana", "Ruiz");
    no_passport.as_object_mut().map(|o| o.remove("previous_passport"));
    assert_eq!(fields(&put(&renew, no_passport).await), ["items[0].previous_passport"]);
    // Names are Unicode; invisible characters are not names.
    assert_eq!(put(&renew, renewal("王", "芳")).await.status, 200);
    assert_eq!(fields(&put(&renew, renewal("Ana", "O\u{200B}Brien")).await), ["items[0].applicant.surname"]);
    let mut bad_number = renewal("Ana", "Ruiz");
    bad_number["previous_passport"]["number"] = json!("12/34");
    assert_eq!(fields(&put(&renew, bad_number).await), ["items[0].previous_passport.number"]);

    // At the window the same rules, and nothing is recorded when they fail.
    let reference = at_window(&app, &clerk, "passport-new").await;
    let r = record(&app, &clerk, &reference, &ds11(years_ago(10), None)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(fields(&r), ["minor_consent"]);
    let listed = app.get(&format!("/api/v1/staff/appointments/{reference}/documents"), Some(&clerk)).await;
    assert_eq!(listed.body, json!([]));
    assert_eq!(record(&app, &clerk, &reference, &ds11(years_ago(10), Some("ds3053"))).await.status, 201);

    // Once the appointment has started, the clerk takes the intake: an hour later is too late.
    let reference = renew.trim_start_matches("/api/v1/appointments/").trim_end_matches("/intake").to_string();
    let mut conn = db_conn(db.url());
    use consular_desk::db::schema::appointments;
    let (owner, starts): (Option<i64>, chrono::NaiveDateTime) = appointments::table
        .filter(appointments::reference.eq(&reference))
        .select((appointments::applicant_id, appointments::starts_at))
        .first(&mut conn)
        .expect("appointment");
    let key = consular_desk::documents::identity::MatchingKey::load(&mut conn).expect("key");
    let request: consular_desk::documents::records::IntakeRequest =
        serde_json::from_value(json!({"items": [renewal("Ana", "Ruiz")]})).expect("request");
    let parsed = consular_desk::booking::reference_code::Reference::parse(&reference).expect("reference");
    let actor = consular_desk::auth::Actor::Applicant(owner.expect("owner"));
    let late = consular_desk::documents::records::prefill(
        &mut conn,
        &key,
        &actor,
        &parsed,
        &request,
        starts + Duration::minutes(1),
    );
    assert_eq!(late.err().map(|e| e.code().as_str()), Some("already_started"));
}

/// What docs/DOMAIN.md allows, written out again here so the code's table is checked against it.
const APPLICATION_STEPS: &[(&str, &str)] = &[
    ("received", "sent_for_adjudication"),
    ("received", "more_information_needed"),
    ("received", "withdrawn"),
    ("sent_for_adjudication", "approved"),
    ("sent_for_adjudication", "more_information_needed"),
    ("sent_for_adjudication", "denied"),
    ("sent_for_adjudication", "withdrawn"),
    ("more_information_needed", "sent_for_adjudication"),
    ("more_information_needed", "denied"),
    ("more_information_needed", "withdrawn"),
    ("approved", "printed"),
    ("printed", "received_at_post"),
    ("received_at_post", "ready_for_pickup"),
    ("ready_for_pickup", "delivered"),
];
const NOTARIAL_STEPS: &[(&str, &str)] = &[("pending", "ready_for_pickup"), ("ready_for_pickup", "delivered")];
const ALL_STATES: &[&str] = &[
    "received",
    "sent_for_adjudication",
    "more_information_needed",
    "approved",
    "printed",
    "received_at_post",
    "ready_for_pickup",
    "delivered",
    "denied",
    "withdrawn",
    "pending",
    "completed",
];

/// From `start`, the steps to `state` (breadth-first over `steps`).
fn path_to(steps: &[(&str, &str)], start: &str, state: &str) -> Option<Vec<String>> {
    let mut paths = vec![(start.to_string(), Vec::<String>::new())];
    for _ in 0..10 {
        if let Some((_, path)) = paths.iter().find(|(s, _)| s == state) {
            return Some(path.clone());
        }
        paths = paths
            .iter()
            .flat_map(|(s, path)| {
                steps.iter().filter(move |(from, _)| from == s).map(move |(_, to)| {
                    let mut longer = path.clone();
                    longer.push(to.to_string());
                    (to.to_string(), longer)
                })
            })
            .collect();
    }
    None
}

#[actix_web::test]
async fn every_invalid_transition_is_refused_and_changes_nothing() {
    let (app, _db, _admin, clerk) = documents_app().await;
    let renewal_visit = at_window(&app, &clerk, "passport-renewal").await;
    let notarial_visit = at_window(&app, &clerk, "notarial").await;
    let mut refused = 0;
    for (kind, steps) in [("passport", APPLICATION_STEPS), ("notarial", NOTARIAL_STEPS)] {
        for state in ALL_STATES {
            let starts = if kind == "passport" { vec!["received"] } else { vec!["completed", "pending"] };
            let Some((start, path)) = starts.iter().find_map(|s| path_to(steps, s, state).map(|p| (*s, p)))
            else {
                continue;
            };
            let (visit, item) = match kind {
                "passport" => (&renewal_visit, renewal("Ana", "Núñez")),
                _ => (&notarial_visit, notarial_job(start == "pending")),
            };
            let doc = record(&app, &clerk, visit, &item).await;
            assert_eq!((doc.status, text(&doc.body, "status")), (201, start.to_string()), "{}", doc.body);
            let tracking = text(&doc.body, "tracking_number");
            for step in &path {
                assert_eq!(move_to(&app, &clerk, &tracking, step).await.status, 200, "{kind} to {step}");
            }
            for to in ALL_STATES.iter().filter(|to| !steps.contains(&(*state, **to))) {
                let r = move_to(&app, &clerk, &tracking, to).await;
                assert_problem(&r, 409, "invalid_transition");
                refused += 1;
            }
            let after = app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await;
            assert_eq!(text(&after.body, "status"), *state);
            assert_eq!(after.body["history"].as_array().map(Vec::len), Some(path.len() + 1));
        }
    }
    assert!(refused > 120, "only {refused} refusals tried");
}

#[actix_web::test]
async fn notarial_acts_are_registered_in_order_and_corrected_by_new_entries() {
    let (app, db, _admin, clerk) = documents_app().await;
    let visit = at_window(&app, &clerk, "notarial").await;
    let first = record(&app, &clerk, &visit, &notarial_job(false)).await;
    assert_eq!((first.status, text(&first.body, "status")), (201, "completed".to_string()), "{}", first.body);
    let second = record(&app, &clerk, &visit, &notarial_job(true)).await;
    assert_eq!(text(&second.body, "status"), "pending");
    let number =
        |r: &crate::helpers::Reply| r.body["register_entries"][0].as_str().unwrap_or_default().to_string();
    let (one, two) = (number(&first), number(&second));
    let prefix = format!("MEX-{}-", consular_desk::calendar::fiscal_year(today()));
    assert!(one.starts_with(&prefix) || one.starts_with("MEX-"), "{one}");
    assert_eq!((&one[9..], &two[9..]), ("000001", "000002"));

    let register = app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await;
    assert_eq!(register.status, 200, "{}", register.body);
    let entries = register.body["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 2);
    let entry = &entries[0];
    assert_eq!((text(entry, "act"), text(entry, "officer")), ("acknowledgment".into(), "mex.clerk".into()));
    assert_eq!((entry["pages"].clone(), entry["certificates"].clone()), (json!(3), json!(1)));
    assert_eq!(entry["signers"][0]["id_proof"]["number"]["masked"], "****3456");
    assert_eq!(entry["signers"][1]["given_names"], "王");
    assert!(text(entry, "venue").contains("Mexico City"), "{entry}");
    assert!(!register.text.contains("ABCD123456"));

    // A mistake: corrected by a new entry that names the old one, which stays as it was.
    let mut fixed = notarial_job(false);
    let fixed = fixed.as_object_mut().map(|o| {
        o.remove("form");
        o.remove("pending");
        o.insert("certificates".into(), json!(2));
        o.insert("reason".into(), json!("two certificates were given, not one"));
        Value::Object(o.clone())
    });
    let corrections = format!("/api/v1/staff/posts/MEX/notarial-register/{one}/corrections");
    let corrected = app.post(&corrections, Some(&clerk), &fixed.clone().unwrap_or_default()).await;
    assert_eq!(corrected.status, 201, "{}", corrected.body);
    assert_eq!(
        (&text(&corrected.body, "entry_number")[9..], text(&corrected.body, "corrects")),
        ("000003", one.clone())
    );
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    assert_problem(
        &app.post(&corrections, Some(&gdl), &fixed.clone().unwrap_or_default()).await,
        403,
        "wrong_post",
    );
    let unknown = "/api/v1/staff/posts/MEX/notarial-register/MEX-2001-000009/corrections";
    assert_problem(&app.post(unknown, Some(&clerk), &fixed.unwrap_or_default()).await, 404, "not_found");
    let listed = app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&clerk)).await.body;
    assert_eq!(listed["entries"][0]["corrected_by"], json!([text(&corrected.body, "entry_number")]));
    assert_eq!(listed["entries"][0]["certificates"], 1, "the original is unchanged");

    // The same as CSV, for a spreadsheet.
    let csv = app.get("/api/v1/staff/posts/MEX/notarial-register?format=csv", Some(&clerk)).await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{}", csv.text);
    assert!(lines[0].starts_with("entry_number,recorded_at,performed_at,venue,act"));
    assert!(lines[1].starts_with(&one) && lines[3].contains("two certificates were given"), "{}", csv.text);
    assert!(lines[1].contains("José Núñez (national_id ****3456); 王 芳 (personally_known)"), "{}", lines[1]);
    let backwards = app
        .get("/api/v1/staff/posts/MEX/notarial-register?from=2026-12-02&to=2026-12-01", Some(&clerk))
        .await;
    assert_problem(&backwards, 422, "validation_failed");

    // Never edited, whoever connects to the database.
    let mut conn = db_conn(db.url());
    for statement in [
        "UPDATE notarial_register SET venue = 'elsewhere'",
        "DELETE FROM notarial_register",
        "UPDATE document_events SET note = 'rewritten'",
        "DELETE FROM document_events",
    ] {
        let refused = diesel::sql_query(statement).execute(&mut conn);
        assert!(refused.is_err_and(|e| e.to_string().contains("append-only")), "{statement}");
    }
}

#[actix_web::test]
async fn register_numbers_stay_gapless_with_concurrent_clerks_and_instances() {
    let (first, db, _admin, clerk) = documents_app().await;
    let second = spawn_on(&db, &[("CONSULAR_DESK_BOOKING_HORIZON_DAYS", "2")]).await;
    let other = first.staff_token("mex.clerk2", "clerk", Some("MEX")).await;
    let mut visits = Vec::new();
    for _ in 0..30 {
        visits.push(at_window(&first, &clerk, "notarial").await);
    }
    let apps = [&first, &second];
    let clerks = [&clerk, &other];
    let recorded = futures_util::future::join_all(visits.iter().enumerate().map(|(i, visit)| {
        let (app, clerk) = (apps[i % 2], clerks[i / 2 % 2]);
        async move { record(app, clerk, visit, &notarial_job(true)).await }
    }))
    .await;
    assert!(
        recorded.iter().all(|r| r.status == 201),
        "{:?}",
        recorded.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let mut numbers: Vec<String> = recorded
        .iter()
        .map(|r| r.body["register_entries"][0].as_str().unwrap_or_default()[9..].to_string())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=30).map(|n| format!("{n:06}")).collect();
    assert_eq!(numbers, expected, "gapless, no number twice");

    // One document moved by thirty clerks at once moves once.
    let tracking = text(&recorded[0].body, "tracking_number");
    let moves = futures_util::future::join_all((0..30).map(|i| {
        let (app, clerk, tracking) = (apps[i % 2], clerks[i % 2], tracking.clone());
        async move { move_to(app, clerk, &tracking, "ready_for_pickup").await }
    }))
    .await;
    assert_eq!(moves.iter().filter(|r| r.status == 200).count(), 1);
    assert!(moves.iter().filter(|r| r.status != 200).all(|r| r.status == 409), "only conflicts");
    let doc = first.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await;
    assert_eq!(doc.body["history"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn a_clerk_bound_to_mex_cannot_touch_its_documents_from_gdl() {
    let (app, _db, _admin, clerk) = documents_app().await;
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let tracking =
        text(&record(&app, &clerk, &visit, &renewal("Ana", "Núñez")).await.body, "tracking_number");
    let forbidden = [
        record(&app, &gdl, &visit, &renewal("Ana", "Núñez")).await,
        app.get(&format!("/api/v1/staff/appointments/{visit}/documents"), Some(&gdl)).await,
        app.get(&format!("/api/v1/staff/appointments/{visit}/intake"), Some(&gdl)).await,
        app.get("/api/v1/staff/posts/MEX/notarial-register", Some(&gdl)).await,
    ];
    for r in &forbidden {
        assert_problem(r, 403, "wrong_post");
    }
    // A tracking number of another post is no document at all: nothing tells it was issued.
    for r in [
        app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&gdl)).await,
        move_to(&app, &gdl, &tracking, "sent_for_adjudication").await,
    ] {
        assert_problem(&r, 404, "not_found");
    }
    let doc = app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await;
    assert_eq!(text(&doc.body, "status"), "received", "nothing moved");
    let auditor = app.staff_token("auditor", "auditor", None).await;
    assert_eq!(app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&auditor)).await.status, 200);
    assert_eq!(move_to(&app, &auditor, &tracking, "sent_for_adjudication").await.status, 403);
}

#[actix_web::test]
async fn tracking_lookups_that_must_fail_all_look_alike() {
    let (app, _db, _admin, clerk) = documents_app().await;
    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let tracking =
        text(&record(&app, &clerk, &visit, &renewal("Ana", "Núñez")).await.body, "tracking_number");
    let look = |number: String, surname: &'static str| {
        let app = &app;
        async move { app.get(&format!("/api/v1/track/{number}?surname={surname}"), None).await }
    };
    assert_eq!(look(tracking.clone(), "NU%C3%91EZ").await.status, 200, "case and accents don't matter");
    assert_eq!(look(tracking.clone(), "nunez").await.status, 200);

    let unknown = consular_desk::documents::tracking::TrackingNumber::generate().as_str().to_string();
    let wrong_surname = look(tracking.clone(), "Ruiz").await;
    let unknown_number = look(unknown, "N%C3%BA%C3%B1ez").await;
    let malformed = look("123".into(), "N%C3%BA%C3%B1ez").await;
    for r in [&wrong_surname, &unknown_number, &malformed] {
        assert_problem(r, 404, "not_found");
        assert_eq!(r.body, wrong_surname.body, "every failure is the same answer");
    }
    assert_problem(&app.get(&format!("/api/v1/track/{tracking}"), None).await, 400, "invalid_query");

    // Five failures on one number close it, even to the right surname.
    for _ in 0..4 {
        assert_eq!(look(tracking.clone(), "Ruiz").await.status, 404);
    }
    let closed = look(tracking.clone(), "nunez").await;
    assert_problem(&closed, 429, "too_many_requests");
    assert!(closed.headers.contains_key("retry-after"));

    // Thirty lookups per address, whatever they ask: forty at once from one address.
    let caller = Caller::from("127.0.0.9");
    let burst = futures_util::future::join_all((0..40).map(|_| {
        let (app, caller) = (&app, &caller);
        let number = consular_desk::documents::tracking::TrackingNumber::generate();
        async move {
            app.call_as(caller, "GET", &format!("/api/v1/track/{}?surname=x", number.as_str()), None, None)
                .await
        }
    }))
    .await;
    let statuses = |code: u16| burst.iter().filter(|r| r.status == code).count();
    assert_eq!((statuses(404), statuses(429)), (30, 10));

    // Twenty guesses at once at one number, from twenty addresses: five get an answer.
    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let target = text(&record(&app, &clerk, &visit, &renewal("Ana", "Núñez")).await.body, "tracking_number");
    let callers: Vec<Caller> = (0..20).map(|i| Caller::from(&format!("127.0.1.{}", i + 1))).collect();
    let guesses = futures_util::future::join_all(callers.iter().map(|caller| {
        let (app, target) = (&app, target.clone());
        async move {
            app.call_as(caller, "GET", &format!("/api/v1/track/{target}?surname=ruiz"), None, None).await
        }
    }))
    .await;
    let statuses = |code: u16| guesses.iter().filter(|r| r.status == code).count();
    assert_eq!((statuses(404), statuses(429)), (5, 15));
    // A successful lookup doesn't use up the number's allowance.
    let (app2, number) = (&app, tracking_for_successes(&app, &clerk).await);
    for _ in 0..8 {
        assert_eq!(look_up(app2, &number, "nunez").await.status, 200);
    }
    assert_eq!(look_up(app2, &number, "ruiz").await.status, 404);
}

async fn tracking_for_successes(app: &TestApp, clerk: &str) -> String {
    let visit = at_window(app, clerk, "passport-renewal").await;
    text(&record(app, clerk, &visit, &renewal("Ana", "Núñez")).await.body, "tracking_number")
}

async fn look_up(app: &TestApp, number: &str, surname: &str) -> crate::helpers::Reply {
    app.call_as(
        &Caller::from("127.0.2.1"),
        "GET",
        &format!("/api/v1/track/{number}?surname={surname}"),
        None,
        None,
    )
    .await
}

/// A passport renewal taken at a new walk-in and moved along until it is ready for pickup.
pub(crate) async fn ready_for_pickup(app: &TestApp, clerk: &str, given: &str, surname: &str) -> String {
    let visit = at_window(app, clerk, "passport-renewal").await;
    let recorded = record(app, clerk, &visit, &renewal(given, surname)).await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    let tracking = text(&recorded.body, "tracking_number");
    for to in ["sent_for_adjudication", "approved", "printed", "received_at_post", "ready_for_pickup"] {
        let moved = move_to(app, clerk, &tracking, to).await;
        assert_eq!(moved.status, 200, "{to}: {}", moved.body);
    }
    tracking
}

async fn hand_over(app: &TestApp, token: &str, tracking: &str, body: &Value) -> crate::helpers::Reply {
    app.post(&format!("/api/v1/staff/documents/{tracking}/handover"), Some(token), body).await
}

#[actix_web::test]
async fn the_posts_documents_are_listed_by_state_with_name_and_tracking_number() {
    let (app, _db, _admin, clerk) = documents_app().await;
    let waiting = ready_for_pickup(&app, &clerk, "Seán", "O'Brien").await;
    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let received =
        text(&record(&app, &clerk, &visit, &renewal("Ana", "Núñez")).await.body, "tracking_number");

    let ready = app.get("/api/v1/staff/posts/MEX/documents?state=ready_for_pickup", Some(&clerk)).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let listed = ready.body.as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 1, "{}", ready.body);
    assert_eq!(text(&listed[0], "tracking_number"), waiting);
    assert_eq!(text(&listed[0], "person"), "Seán O'Brien");
    assert_eq!(text(&listed[0], "kind"), "passport");
    assert_eq!(text(&listed[0], "status"), "ready_for_pickup");
    assert!(text(&listed[0], "since").ends_with("-06:00"), "in the post's zone: {}", listed[0]);
    let every = app.get("/api/v1/staff/posts/MEX/documents", Some(&clerk)).await.body;
    let numbers: Vec<String> =
        every.as_array().into_iter().flatten().map(|d| text(d, "tracking_number")).collect();
    assert!(numbers.contains(&waiting) && numbers.contains(&received), "{every}");

    // Another post's staff: refused for MEX, and GDL's list doesn't hold MEX's documents.
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    assert_problem(&app.get("/api/v1/staff/posts/MEX/documents", Some(&gdl)).await, 403, "wrong_post");
    let theirs = app.get("/api/v1/staff/posts/GDL/documents", Some(&gdl)).await;
    assert_eq!(theirs.body, json!([]), "{}", theirs.body);
    let auditor = app.staff_token("auditor", "auditor", None).await;
    assert_eq!(app.get("/api/v1/staff/posts/MEX/documents", Some(&auditor)).await.body, every);
    assert_eq!(app.get("/api/v1/staff/posts/MEX/documents?state=flying", Some(&clerk)).await.status, 400);
    assert_problem(&app.get("/api/v1/staff/posts/MEX/documents", None).await, 401, "missing_token");
}

#[actix_web::test]
async fn a_handover_records_who_collected_it_in_the_history_and_the_audit_log() {
    let (app, _db, admin, clerk) = documents_app().await;
    let tracking = ready_for_pickup(&app, &clerk, "Seán", "O'Brien").await;

    // Someone else needs a name and an ID; nothing changes until they are given.
    let missing = hand_over(&app, &clerk, &tracking, &json!({"collector": "someone_else"})).await;
    assert_problem(&missing, 422, "validation_failed");
    let fields: Vec<String> =
        missing.body["errors"].as_array().into_iter().flatten().map(|e| text(e, "field")).collect();
    assert_eq!(fields, ["name", "id_type", "id_last4"], "{}", missing.body);
    let bad_last4 = json!({"collector": "someone_else", "name": "Mary O'Brien", "id_type": "voter_card", "id_last4": "12"});
    assert_problem(&hand_over(&app, &clerk, &tracking, &bad_last4).await, 422, "validation_failed");
    let doc = app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await;
    assert_eq!(text(&doc.body, "status"), "ready_for_pickup", "nothing moved");

    let body = json!({"collector": "someone_else", "name": "Mary O'Brien", "id_type": "voter_card", "id_last4": "a9z4", "note": "his sister"});
    let done = hand_over(&app, &clerk, &tracking, &body).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(text(&done.body, "status"), "delivered");
    assert_eq!(
        done.body["handover"],
        json!({"collector": "someone_else", "name": "Mary O'Brien", "id_type": "voter_card", "id_last4": "A9Z4",
               "at": done.body["handover"]["at"], "staff": "mex.clerk"}),
    );
    let last = done.body["history"].as_array().and_then(|h| h.last().cloned()).unwrap_or_default();
    assert_eq!((text(&last, "status"), text(&last, "note")), ("delivered".into(), "his sister".into()));
    assert_problem(&hand_over(&app, &clerk, &tracking, &body).await, 409, "invalid_transition");

    let log = app.get("/api/v1/audit/log?action=document.transitioned&limit=500", Some(&admin)).await;
    let entry = log.body["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["change"].get("handover").is_some())
        .cloned()
        .unwrap_or_default();
    assert_eq!(text(&entry, "entity_id"), tracking, "{}", log.body);
    assert_eq!(entry["change"]["handover"]["id_last4"], "A9Z4");
    assert_eq!(entry["change"]["to"], "delivered");
    assert!(!entry.to_string().contains("Mary"), "the name is hashed in the log: {entry}");
    let verified = app.get("/api/v1/audit/log/verify", Some(&admin)).await;
    assert_eq!(verified.status, 200, "{}", verified.body);

    // The applicant themself needs nothing more; only a document ready for pickup is handed over.
    let other = ready_for_pickup(&app, &clerk, "Ana", "Núñez").await;
    let own = hand_over(&app, &clerk, &other, &json!({"collector": "applicant"})).await;
    assert_eq!(
        (own.status, own.body["handover"]["collector"].clone()),
        (200, json!("applicant")),
        "{}",
        own.body
    );
    let visit = at_window(&app, &clerk, "passport-renewal").await;
    let fresh = text(&record(&app, &clerk, &visit, &renewal("Ana", "Núñez")).await.body, "tracking_number");
    assert_problem(
        &hand_over(&app, &clerk, &fresh, &json!({"collector": "applicant"})).await,
        409,
        "invalid_transition",
    );
}

#[actix_web::test]
async fn a_handover_is_refused_to_the_wrong_token_role_and_post() {
    let (app, _db, _admin, clerk) = documents_app().await;
    let tracking = ready_for_pickup(&app, &clerk, "Seán", "O'Brien").await;
    let body = json!({"collector": "applicant"});
    let path = format!("/api/v1/staff/documents/{tracking}/handover");
    assert_problem(&app.post(&path, None, &body).await, 401, "missing_token");
    let applicant = app.applicant_token("sean@example.mx").await;
    assert_problem(&app.post(&path, Some(&applicant), &body).await, 403, "public_token_not_staff");
    let auditor = app.staff_token("auditor", "auditor", None).await;
    assert_problem(&hand_over(&app, &auditor, &tracking, &body).await, 403, "insufficient_role");
    let gdl = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    assert_problem(&hand_over(&app, &gdl, &tracking, &body).await, 404, "not_found");
    assert_problem(&hand_over(&app, &clerk, "NOT-A-NUMBER", &body).await, 404, "not_found");
    let doc = app.get(&format!("/api/v1/staff/documents/{tracking}"), Some(&clerk)).await;
    assert_eq!(text(&doc.body, "status"), "ready_for_pickup", "nothing moved");
}

#[actix_web::test]
async fn thirty_handovers_of_one_document_at_once_let_exactly_one_through() {
    let (app, db, _admin, clerk) = documents_app().await;
    let tracking = ready_for_pickup(&app, &clerk, "Seán", "O'Brien").await;
    let attempts = (0..30).map(|i| {
        let (app, clerk, tracking) = (&app, clerk.clone(), tracking.clone());
        let body = json!({"collector": "someone_else", "name": format!("Collector {i}"), "id_type": "passport", "id_last4": format!("{i:04}")});
        async move { hand_over(app, &clerk, &tracking, &body).await }
    });
    let replies = futures_util::future::join_all(attempts).await;
    let through = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(through, 1, "{:?}", replies.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status != 200) {
        assert!(
            r.status == 409 && matches!(r.code(), "document_changed" | "invalid_transition"),
            "{} {}",
            r.status,
            r.body
        );
    }
    use consular_desk::db::schema::{document_events, document_handovers};
    let mut conn = db_conn(db.url());
    let handovers: i64 = document_handovers::table.count().get_result(&mut conn).expect("count");
    let delivered: i64 = document_events::table
        .filter(document_events::status.eq("delivered"))
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!((handovers, delivered), (1, 1));
}
