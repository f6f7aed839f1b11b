//! The citizen registry through the API, with its mail read back from the folder the app writes
//! to: registration and double opt-in, the signed link (see, change, delete; a wrong or stale
//! link opens nothing), the throttles, the staff's district list (every read audited, other
//! districts refused), emergency messages (preview, send, the second officer's approval, raced),
//! the newsletter's one-click unsubscribe, deletion after the retention period, the shared
//! sending pace, and a registration deleted before its message went.

use chrono::{Duration, NaiveDate};
use consular_desk::db::schema::{audit_log, outbox, stays};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, db_conn, spawn_on, Caller, TestApp, TestDb};
use crate::mailbox::{Mailbox, Received};

/// The test apps' clock starts on Tuesday 8 December 2026.
fn day(d: u32) -> String {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("a December day").to_string()
}

fn stay(email: &str, state: &str) -> Value {
    json!({
        "travellers": [{"given_names": "Ana", "surname": "López"}, {"given_names": "Luis", "surname": "López", "date_of_birth": "2015-04-02"}],
        "email": email,
        "phone": "+1 202 555 0100",
        "arrives": day(8),
        "departs": day(20),
        "state": state,
        "emergency_messages": true,
        "newsletter": true,
        "language": "es",
    })
}

async fn app_with(db: &TestDb, mailbox: &Mailbox, extra: &[(&str, &str)]) -> TestApp {
    let settings = mailbox.settings();
    let mut overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.extend_from_slice(extra);
    spawn_on(db, &overrides).await
}

/// The `(id, sig)` of the manage link in a message.
fn held(message: &Received) -> (i64, String) {
    let link = message.link("/registry/");
    let path = link.split("/registry/").nth(1).expect("a registry link");
    let (id, sig) = path.split_once("?sig=").expect("a signed link");
    (id.parse().expect("an id"), sig.to_string())
}

/// Registers `email` in `state` and confirms it with the link from the message.
async fn confirmed(app: &TestApp, mailbox: &Mailbox, email: &str, state: &str) -> (i64, String) {
    let r = app.post("/api/v1/registry/stays", None, &stay(email, state)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let message = mailbox.wait_for(email, "").await;
    let (id, sig) = held(&message);
    let r = app.call("POST", &format!("/api/v1/registry/stays/{id}/confirm?sig={sig}"), None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (id, sig)
}

fn emergency(districts: &[&str]) -> Value {
    json!({
        "districts": districts,
        "from": day(9),
        "to": day(11),
        "subject_en": "Hurricane warning",
        "body_en": "A hurricane reaches the coast on Thursday.\nStay indoors.",
        "subject_es": "Alerta de huracán",
        "body_es": "Un huracán llega a la costa el jueves.\nPermanezca en interiores.",
    })
}

#[actix_web::test]
async fn a_stay_is_confirmed_by_its_link_seen_changed_and_deleted_by_whoever_holds_it() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;

    let r = app.post("/api/v1/registry/stays", None, &stay("ana@example.com", "JAL")).await;
    assert_eq!((r.status, r.body.clone()), (202, json!({})), "the answer holds no link");

    // The confirmation, in Spanish, names the travellers and the district the state is in.
    let message = mailbox.wait_for("ana@example.com", "Confirme su registro").await;
    assert!(message.text.contains("- Ana López") && message.text.contains("Guadalajara"), "{}", message.text);
    let (id, sig) = held(&message);
    let path = format!("/api/v1/registry/stays/{id}?sig={sig}");
    let r = app.get(&path, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["district"].as_str(), r.body["confirmed"].as_bool()), (Some("GDL"), Some(false)));
    assert_eq!(r.body["travellers"][1]["date_of_birth"], "2015-04-02");

    // A link that is not whole, or another stay's, opens nothing; the same 404 either way.
    for wrong in [
        format!("/api/v1/registry/stays/{id}?sig={}", &sig[..sig.len() - 1]),
        format!("/api/v1/registry/stays/{}?sig={sig}", id + 1),
        format!("/api/v1/registry/stays/{id}?sig="),
    ] {
        assert_problem(&app.get(&wrong, None).await, 404, "not_found");
    }
    // The unsubscribe link's purpose is not the manage link's.
    let r = app.call("POST", &format!("/api/v1/registry/stays/{id}/unsubscribe?sig={sig}"), None, None).await;
    assert_problem(&r, 404, "not_found");

    let r = app.call("POST", &format!("/api/v1/registry/stays/{id}/confirm?sig={sig}"), None, None).await;
    assert_eq!(r.body["confirmed"], true);

    // A new address must be confirmed again; the old link stops working.
    let mut changed = stay("ana.nueva@example.com", "JAL");
    changed["departs"] = json!(day(24));
    let r = app.call("PUT", &path, None, Some(&changed)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["confirmed"].as_bool(), r.body["departs"].as_str()),
        (Some(false), Some(day(24).as_str()))
    );
    assert_problem(&app.get(&path, None).await, 404, "not_found");
    let again = mailbox.wait_for("ana.nueva@example.com", "Confirme su registro").await;
    let (same, new_sig) = held(&again);
    assert_eq!(same, id);
    let new_path = format!("/api/v1/registry/stays/{id}?sig={new_sig}");

    // Bad input changes nothing.
    let mut broken = changed.clone();
    broken["travellers"][0]["surname"] = json!("Ló\u{200B}pez");
    broken["departs"] = json!(day(1));
    let r = app.call("PUT", &new_path, None, Some(&broken)).await;
    assert_problem(&r, 422, "validation_failed");
    let fields: Vec<&str> =
        r.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, vec!["travellers[0].surname", "departs"]);
    assert_eq!(app.get(&new_path, None).await.body["departs"], day(24));

    let r = app.call("DELETE", &new_path, None, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_problem(&app.get(&new_path, None).await, 404, "not_found");
    let left: i64 = stays::table.count().get_result(&mut db_conn(&app.db_url)).expect("count");
    assert_eq!(left, 0);
    app.stop().await;
}

#[actix_web::test]
async fn registrations_are_limited_per_client_address_and_per_e_mail_address() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(
        &db,
        &mailbox,
        &[("CONSULAR_DESK_REGISTRY_PER_ADDRESS", "20"), ("CONSULAR_DESK_REGISTRY_PER_EMAIL", "3")],
    )
    .await;
    // Thirty at once from one client address, to thirty addresses: twenty go in.
    let caller = Caller::from("127.0.0.7");
    let answers = futures_util::future::join_all((0..30).map(|i| {
        let (app, caller) = (&app, &caller);
        async move {
            let body = stay(&format!("person{i}@example.com"), "CMX");
            app.call_as(caller, "POST", "/api/v1/registry/stays", None, Some(&body)).await.status
        }
    }))
    .await;
    assert_eq!(answers.iter().filter(|s| **s == 202).count(), 20, "{answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == 429).count(), 10, "{answers:?}");

    // One e-mail address from many client addresses: three confirmations a day, no more.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let caller = Caller::from(&format!("127.0.1.{}", i + 1));
        let r = app
            .call_as(&caller, "POST", "/api/v1/registry/stays", None, Some(&stay("flood@example.com", "CMX")))
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, vec![202, 202, 202, 429, 429, 429]);
    let stored: i64 = stays::table.count().get_result(&mut db_conn(&app.db_url)).expect("count");
    assert_eq!(stored, 23, "refused registrations store nothing");
    app.stop().await;
}

#[actix_web::test]
async fn staff_read_only_their_districts_registrations_and_every_read_is_audited() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    confirmed(&app, &mailbox, "jalisco@example.com", "JAL").await;
    confirmed(&app, &mailbox, "cdmx@example.com", "CMX").await;
    // Registered but never confirmed: staff don't see it.
    app.post("/api/v1/registry/stays", None, &stay("unconfirmed@example.com", "JAL")).await;

    let gdl = app.staff_token("gdl.supervisor", "supervisor", Some("GDL")).await;
    let officer = app.staff_token("gdl.duty", "duty_officer", Some("GDL")).await;
    let clerk = app.staff_token("gdl.clerk", "clerk", Some("GDL")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let applicant = app.applicant_token("someone@example.com").await;

    let r = app.get("/api/v1/staff/registry?district=GDL", Some(&gdl)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let emails: Vec<&str> =
        r.body.as_array().into_iter().flatten().filter_map(|s| s["email"].as_str()).collect();
    assert_eq!(emails, vec!["jalisco@example.com"]);
    assert_eq!(
        app.get(&format!("/api/v1/staff/registry?district=GDL&on={}", day(15)), Some(&officer)).await.status,
        200
    );
    let r = app.get(&format!("/api/v1/staff/registry?district=GDL&on={}", day(25)), Some(&officer)).await;
    assert_eq!(r.body, json!([]), "nobody is there on the 25th");

    assert_problem(&app.get("/api/v1/staff/registry?district=MEX", Some(&gdl)).await, 403, "wrong_post");
    assert_problem(
        &app.get("/api/v1/staff/registry?district=00", Some(&gdl)).await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.get("/api/v1/staff/registry?district=GDL", Some(&clerk)).await,
        403,
        "insufficient_role",
    );
    assert_problem(
        &app.get("/api/v1/staff/registry?district=GDL", Some(&auditor)).await,
        403,
        "insufficient_role",
    );
    assert_problem(
        &app.get("/api/v1/staff/registry?district=GDL", Some(&applicant)).await,
        403,
        "public_token_not_staff",
    );
    assert_problem(&app.get("/api/v1/staff/registry?district=GDL", None).await, 401, "missing_token");

    // Two reads of one registration each show a stay (the third found nobody): two entries.
    let reads: Vec<(Option<String>, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq("stay.read"))
        .select((audit_log::entity_id, audit_log::post_code))
        .load(&mut db_conn(&app.db_url))
        .expect("audit");
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(reads.iter().all(|(_, post)| post.as_deref() == Some("GDL")));
    app.stop().await;
}

#[actix_web::test]
async fn an_emergency_message_reaches_each_confirmed_registrant_present_in_its_districts_once() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    confirmed(&app, &mailbox, "ana@example.com", "JAL").await;
    // Two stays at one address get one message.
    app.post("/api/v1/registry/stays", None, &stay("ana@example.com", "NAY")).await;
    diesel::update(stays::table.filter(stays::email.eq("ana@example.com")))
        .set(stays::confirmed_at.eq(app.clock.naive()))
        .execute(&mut db_conn(&app.db_url))
        .expect("both of ana's stays confirmed");
    confirmed(&app, &mailbox, "bob@example.com", "CMX").await;
    let mut later = stay("later@example.com", "JAL");
    later["arrives"] = json!(day(15));
    later["departs"] = json!(day(20));
    app.post("/api/v1/registry/stays", None, &later).await;
    let message = mailbox.wait_for("later@example.com", "").await;
    let (id, sig) = held(&message);
    app.call("POST", &format!("/api/v1/registry/stays/{id}/confirm?sig={sig}"), None, None).await;
    let mut quiet = stay("newsletter.only@example.com", "JAL");
    quiet["emergency_messages"] = json!(false);
    app.post("/api/v1/registry/stays", None, &quiet).await;

    let officer = app.staff_token("gdl.duty", "duty_officer", Some("GDL")).await;
    let r = app.post("/api/v1/staff/emergency-messages/preview", Some(&officer), &emergency(&["GDL"])).await;
    assert_eq!((r.status, r.body["recipients"].as_i64()), (200, Some(1)), "{}", r.body);
    let r = app.post("/api/v1/staff/emergency-messages/preview", Some(&officer), &emergency(&["*"])).await;
    assert_problem(&r, 403, "wrong_post");
    let r = app.post("/api/v1/staff/emergency-messages", Some(&officer), &emergency(&["MEX"])).await;
    assert_problem(&r, 403, "wrong_post");
    let supervisor = app.staff_token("gdl.supervisor", "supervisor", Some("GDL")).await;
    let r = app.post("/api/v1/staff/emergency-messages", Some(&supervisor), &emergency(&["GDL"])).await;
    assert_problem(&r, 403, "insufficient_role");

    let r = app.post("/api/v1/staff/emergency-messages", Some(&officer), &emergency(&["GDL"])).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!((r.body["state"].as_str(), r.body["recipients"].as_i64()), (Some("queued"), Some(1)));
    let alert = mailbox.wait_for("ana@example.com", "Emergencia: Alerta de huracán").await;
    assert!(
        alert.text.contains("Permanezca en interiores.") && alert.text.contains("/registry/"),
        "{}",
        alert.text
    );
    assert!(alert.header("List-Unsubscribe").is_none(), "an emergency message has no unsubscribe");

    // All of Mexico, by an unbound admin: both districts; the one who arrives later is not there.
    let admin = app.admin_token().await;
    let r = app.post("/api/v1/staff/emergency-messages", Some(&admin), &emergency(&["*"])).await;
    assert_eq!(r.body["recipients"], 2, "{}", r.body);
    let sent = mailbox.settled_for("later@example.com").await;
    assert!(sent.iter().all(|m| !m.subject.contains("Emergencia")), "later@ is not present in the window");
    let audit: i64 = audit_log::table
        .filter(audit_log::action.eq_any(["bulletin.written", "bulletin.queued"]))
        .count()
        .get_result(&mut db_conn(&app.db_url))
        .expect("audit");
    assert_eq!(audit, 4);
    app.stop().await;
}

#[actix_web::test]
async fn with_approval_on_a_second_officer_queues_the_message_once_however_many_approve_at_once() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[("CONSULAR_DESK_EMERGENCY_APPROVAL", "true")]).await;
    for i in 0..5 {
        confirmed(&app, &mailbox, &format!("p{i}@example.com"), "JAL").await;
    }
    let writer = app.staff_token("gdl.duty", "duty_officer", Some("GDL")).await;
    let second = app.staff_token("gdl.duty2", "duty_officer", Some("GDL")).await;
    let elsewhere = app.staff_token("mex.duty", "duty_officer", Some("MEX")).await;
    let r = app.post("/api/v1/staff/emergency-messages", Some(&writer), &emergency(&["GDL"])).await;
    assert_eq!((r.status, r.body["state"].as_str()), (202, Some("awaiting_approval")), "{}", r.body);
    let id = r.body["id"].as_i64().expect("id");
    let queued = || {
        outbox::table
            .filter(outbox::kind.eq("emergency"))
            .count()
            .get_result::<i64>(&mut db_conn(&app.db_url))
    };
    assert_eq!(queued().expect("count"), 0, "nothing goes before the approval");

    let approve = format!("/api/v1/staff/emergency-messages/{id}/approve");
    assert_problem(&app.call("POST", &approve, Some(&writer), None).await, 403, "own_bulletin");
    assert_problem(&app.call("POST", &approve, Some(&elsewhere), None).await, 404, "not_found");

    let answers =
        futures_util::future::join_all((0..30).map(|_| app.call("POST", &approve, Some(&second), None)))
            .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 29, "{statuses:?}");
    assert_eq!(queued().expect("count"), 5, "one message per registrant, once");
    for i in 0..5 {
        mailbox.wait_for(&format!("p{i}@example.com"), "Emergencia").await;
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_newsletter_carries_a_one_click_unsubscribe_that_stops_it_and_nothing_else() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    let app = app_with(&db, &mailbox, &[]).await;
    let (id, sig) = confirmed(&app, &mailbox, "ana@example.com", "JAL").await;
    let admin = app.admin_token().await;
    let mut letter = emergency(&["*"]);
    letter.as_object_mut().expect("object").retain(|k, _| k != "from" && k != "to");
    letter["subject_es"] = json!("Boletín de diciembre");
    let r = app.post("/api/v1/staff/newsletters/preview", Some(&admin), &letter).await;
    assert_eq!(r.body["recipients"], 1, "{}", r.body);
    let officer = app.staff_token("duty", "duty_officer", None).await;
    assert_problem(
        &app.post("/api/v1/staff/newsletters", Some(&officer), &letter).await,
        403,
        "insufficient_role",
    );
    let r = app.post("/api/v1/staff/newsletters", Some(&admin), &letter).await;
    assert_eq!(r.status, 202, "{}", r.body);

    let news = mailbox.wait_for("ana@example.com", "Boletín de diciembre").await;
    assert_eq!(news.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let target = news.header("List-Unsubscribe").expect("List-Unsubscribe");
    let url = target.trim_start_matches('<').trim_end_matches('>');
    assert!(url.contains(&format!("/registry/{id}/unsubscribe?sig=")), "{url}");
    let unsubscribe_sig = url.split("sig=").nth(1).expect("sig");
    assert_ne!(unsubscribe_sig, sig, "its own purpose");
    // The one-click POST (RFC 8058), as the API names it.
    let r = app
        .call("POST", &format!("/api/v1/registry/stays/{id}/unsubscribe?sig={unsubscribe_sig}"), None, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let view = app.get(&format!("/api/v1/registry/stays/{id}?sig={sig}"), None).await;
    assert_eq!(
        (view.body["newsletter"].as_bool(), view.body["emergency_messages"].as_bool()),
        (Some(false), Some(true))
    );
    let r = app.post("/api/v1/staff/newsletters/preview", Some(&admin), &letter).await;
    assert_eq!(r.body["recipients"], 0);
    app.stop().await;
}

#[actix_web::test]
async fn a_deleted_registration_gets_no_queued_message_and_stays_go_after_the_retention() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    // A sender that waits: the messages are queued, then the registration goes.
    let app = app_with(&db, &mailbox, &[("CONSULAR_DESK_MAIL_POLL_MS", "60000")]).await;
    let r = app.post("/api/v1/registry/stays", None, &stay("gone@example.com", "JAL")).await;
    assert_eq!(r.status, 202);
    let mut conn = db_conn(&app.db_url);
    let id: i64 = stays::table.select(stays::id).first(&mut conn).expect("the stay");
    diesel::update(stays::table.find(id))
        .set(stays::confirmed_at.eq(app.clock.naive()))
        .execute(&mut conn)
        .expect("confirm");
    let admin = app.admin_token().await;
    assert_eq!(
        app.post("/api/v1/staff/emergency-messages", Some(&admin), &emergency(&["GDL"])).await.body
            ["recipients"],
        1
    );
    diesel::delete(consular_desk::db::schema::stay_travellers::table).execute(&mut conn).expect("travellers");
    diesel::delete(stays::table).execute(&mut conn).expect("delete");
    app.stop().await;

    // Another instance sends what is queued: both messages are withdrawn, none sent. Its
    // maintenance timer runs every second.
    let sender = app_with(&db, &mailbox, &[("CONSULAR_DESK_MAINTENANCE_SECONDS", "1")]).await;
    let withdrawn = crate::smtp::wait_for("both withdrawn", std::time::Duration::from_secs(30), || {
        let states: Vec<String> =
            outbox::table.select(outbox::state).load(&mut db_conn(&sender.db_url)).ok()?;
        (states.len() == 2 && states.iter().all(|s| s == "withdrawn")).then_some(states)
    })
    .await;
    assert_eq!(withdrawn.len(), 2);
    assert!(mailbox.settled_for("gone@example.com").await.is_empty());

    // Retention: a stay ending on the 20th is kept through 30 days after, then deleted by the
    // maintenance timer, which records only the counts.
    let (id, sig) = confirmed(&sender, &mailbox, "kept@example.com", "JAL").await;
    let link = format!("/api/v1/registry/stays/{id}?sig={sig}");
    sender.clock.set(chrono::DateTime::from_naive_utc_and_offset(
        NaiveDate::from_ymd_opt(2027, 1, 19).and_then(|d| d.and_hms_opt(12, 0, 0)).expect("date"),
        chrono::Utc,
    ));
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(sender.get(&link, None).await.status, 200, "kept until 30 days after the 20th");
    sender.clock.advance(Duration::days(2));
    crate::smtp::wait_for("the stay deleted", std::time::Duration::from_secs(30), || {
        let left: i64 = stays::table.count().get_result(&mut db_conn(&sender.db_url)).ok()?;
        (left == 0).then_some(())
    })
    .await;
    assert_problem(&sender.get(&link, None).await, 404, "not_found");
    let pruned: Vec<String> = audit_log::table
        .filter(audit_log::action.eq("stay.pruned"))
        .select(audit_log::change)
        .load(&mut db_conn(&sender.db_url))
        .expect("audit");
    assert_eq!(pruned.len(), 1, "{pruned:?}");
    assert!(pruned[0].contains("\"ended\":1") && !pruned[0].contains("kept@"), "counts only: {}", pruned[0]);
    sender.stop().await;
}

#[actix_web::test]
async fn a_password_reset_goes_before_an_emergency_message_to_many() {
    let db = TestDb::fresh();
    let mailbox = Mailbox::new();
    // Ten a second: fifty registrants take five seconds.
    let app = app_with(
        &db,
        &mailbox,
        &[("CONSULAR_DESK_SMTP_RATE_PER_SECOND", "10"), ("CONSULAR_DESK_REGISTRY_PER_ADDRESS", "1000")],
    )
    .await;
    app.applicant_token("ana@example.mx").await;
    for i in 0..50 {
        let r = app.post("/api/v1/registry/stays", None, &stay(&format!("r{i}@example.com"), "JAL")).await;
        assert_eq!(r.status, 202);
    }
    // Confirmed as their links would; their confirmation messages are out of the way.
    let mut conn = db_conn(&app.db_url);
    diesel::update(stays::table)
        .set(stays::confirmed_at.eq(app.clock.naive()))
        .execute(&mut conn)
        .expect("confirmed");
    diesel::delete(outbox::table.filter(outbox::kind.eq("registry_confirm")))
        .execute(&mut conn)
        .expect("cleared");
    let admin = app.admin_token().await;
    let r = app.post("/api/v1/staff/emergency-messages", Some(&admin), &emergency(&["GDL"])).await;
    assert_eq!(r.body["recipients"], 50, "{}", r.body);
    let r = app.post("/api/v1/auth/password-reset", None, &json!({"email": "ana@example.mx"})).await;
    assert_eq!(r.status, 202);
    mailbox.wait_for("ana@example.mx", "Choose a new password").await;
    let alerts = mailbox.all().iter().filter(|m| m.subject.contains("Alerta de huracán")).count();
    assert!(alerts < 50, "the reset waited behind all {alerts} emergency messages");
    app.stop().await;
}
