//! The fee report: totals that agree across formats and with the receipts, local-date edges
//! in two zones, voids inside and across the range, the command line, and who may read it.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, clerk_actor, db_conn, person, run_cli, spawn_on, TestApp, TestDb};

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

async fn walk_in(app: &TestApp, clerk: &str, post: &str) -> String {
    let body =
        json!({"service": "passport-new", "reason": "emergency", "applicant": person("José", "Núñez")});
    let r = app.post(&format!("/api/v1/staff/posts/{post}/walk-ins"), Some(clerk), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    text(&r.body, "reference")
}

fn book(reference: &str, method: &str) -> Value {
    json!({"appointment_reference": reference, "items": [
        {"fee_code": "passport-book-adult", "quantity": 1},
        {"fee_code": "passport-execution", "quantity": 1}], "payment": {"method": method}})
}

/// Records a fee as `username` at the instant `at` (UTC), through the operation itself: the
/// way another day's receipts come to exist in a test.
fn record_at(db: &TestDb, username: &str, post: &str, reference: &str, at: chrono::NaiveDateTime) -> Value {
    let mut conn = db_conn(db.url());
    let actor = clerk_actor(&mut conn, username, post);
    let key = consular_desk::fees::verification::ReceiptKey::load(&mut conn).expect("key");
    let request = serde_json::from_value(book(reference, "card")).expect("request");
    let receipt =
        consular_desk::fees::receipts::record(&mut conn, &key, &actor, &request, at).expect("recorded");
    serde_json::to_value(receipt).expect("json")
}

/// Reads RFC 4180 CSV: quoted cells may hold commas, quotes (doubled) and line breaks.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.trim_start_matches('\u{FEFF}').chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => cell.push(c),
        }
    }
    records
}

/// The net of a CSV export: its rows and the sum of its `amount_cents` column.
fn csv_net(csv: &str) -> (usize, i64) {
    let records = csv_records(csv);
    let at = records[0].iter().position(|h| h == "amount_cents").expect("amount column");
    let amounts: Vec<i64> = records[1..].iter().map(|r| r[at].parse().expect("an amount")).collect();
    (amounts.len(), amounts.iter().sum())
}

#[actix_web::test]
async fn totals_agree_across_formats_and_with_the_receipts() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let today = app.peso_rate_today(&clerk, &supervisor, 17_250_000).await;
    let reference = walk_in(&app, &clerk, "MEX").await;
    let mut paid = 0;
    let mut numbers = Vec::new();
    for method in ["cash_usd", "card", "cash_local", "card"] {
        let r = app.post("/api/v1/staff/fees", Some(&clerk), &book(&reference, method)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        paid += r.body["total"]["amount_cents"].as_i64().unwrap_or(0);
        numbers.push(text(&r.body, "receipt_number"));
    }
    let voided = app
        .post(
            &format!("/api/v1/staff/receipts/{}/void", numbers[1]),
            Some(&supervisor),
            &json!({"reason": "twice"}),
        )
        .await;
    assert_eq!(voided.status, 200);
    let net = paid - 8_500;

    let path = format!("/api/v1/audit/fee-report?post=MEX&from={today}&to={today}");
    let report = app.get(&path, Some(&auditor)).await;
    assert_eq!(report.status, 200, "{}", report.body);
    let totals = &report.body["totals"];
    assert_eq!(totals["all"], json!({"gross_cents": paid, "voids_cents": 8_500, "net_cents": net}));
    assert_eq!(totals["by_method"]["card"]["net_cents"], 8_500);
    assert_eq!(totals["by_fee_code"]["passport-execution"]["net_cents"], 3 * 3_500);
    assert_eq!(totals["by_currency"]["USD"]["net_cents"], 2 * 8_500, "cash in dollars and one card");
    assert_eq!(
        totals["by_currency"]["MXN"]["net_cents"], 146_600,
        "85 USD at 17.25 = 1 466.25 pesos, charged 1 466"
    );
    let rows = report.body["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 4 * 2 + 2, "eight lines and the void's two reversals");
    assert_eq!(rows.iter().map(|r| r["amount_cents"].as_i64().unwrap_or(0)).sum::<i64>(), net);

    let csv = app.get(&format!("{path}&format=csv&bom=true"), Some(&auditor)).await;
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    assert!(csv.text.starts_with('\u{FEFF}'), "the byte order mark asked for");
    assert_eq!(csv_net(&csv.text), (10, net), "the CSV adds up to the JSON's net");
    assert!(!csv.text.contains("José"), "rows carry no names");

    // Every export leaves its audit entry.
    let admin = app.admin_token().await;
    let log = app.get("/api/v1/audit/log?action=fee_report.exported", Some(&admin)).await;
    assert_eq!(log.body["entries"].as_array().map(Vec::len), Some(2));

    // The command line, offline, writes the same.
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("report.csv");
    let run = run_cli(
        db.url(),
        &[
            "export",
            "fee-report",
            "--post",
            "MEX",
            "--from",
            &today,
            "--to",
            &today,
            "--format",
            "csv",
            "--out",
            &out.display().to_string(),
        ],
        &[],
        None,
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.stderr.is_empty(), "no progress when not on a terminal");
    assert_eq!(csv_net(&std::fs::read_to_string(&out).expect("file")), (10, net));
    let json_out = dir.path().join("report.json");
    let run = run_cli(
        db.url(),
        &[
            "export",
            "fee-report",
            "--post",
            "all",
            "--from",
            &today,
            "--to",
            &today,
            "--format",
            "json",
            "--out",
            &json_out.display().to_string(),
        ],
        &[],
        None,
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_out).expect("file")).expect("json");
    assert_eq!(exported["totals"]["all"]["net_cents"], net);
}

#[actix_web::test]
async fn local_dates_decide_in_each_posts_zone_and_voids_count_when_made() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let mex = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let tij = app.staff_token("tij.clerk", "clerk", Some("TIJ")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let (mex_visit, tij_visit) = (walk_in(&app, &mex, "MEX").await, walk_in(&app, &tij, "TIJ").await);
    // 23:30 local yesterday at each post: Mexico City is UTC-6; Tijuana keeps US time (UTC-8 now).
    let yesterday = |zone: chrono_tz::Tz| {
        let local_today = Utc::now().with_timezone(&zone).date_naive();
        let day = local_today - Duration::days(1);
        let late = zone
            .from_local_datetime(&day.and_hms_opt(23, 30, 0).expect("time"))
            .single()
            .expect("one instant");
        (day, late.naive_utc())
    };
    let (mex_day, mex_late) = yesterday(chrono_tz::America::Mexico_City);
    let (tij_day, tij_late) = yesterday(chrono_tz::America::Tijuana);
    let mex_receipt = record_at(&db, "mex.clerk", "MEX", &mex_visit, mex_late);
    let tij_receipt = record_at(&db, "tij.clerk", "TIJ", &tij_visit, tij_late);
    assert_eq!(mex_receipt["local_date"], json!(mex_day.to_string()));
    assert_eq!(tij_receipt["local_date"], json!(tij_day.to_string()));

    let report = |post: &str, from: NaiveDate, to: NaiveDate| {
        let (app, token) = (&app, auditor.clone());
        let path = format!("/api/v1/audit/fee-report?post={post}&from={from}&to={to}");
        async move { app.get(&path, Some(&token)).await.body }
    };
    let net = |r: &Value| r["totals"]["all"]["net_cents"].as_i64().unwrap_or(0);
    // 23:30 on the last day is in; the day after is not.
    assert_eq!(net(&report("MEX", mex_day, mex_day).await), 8_500);
    assert_eq!(net(&report("TIJ", tij_day, tij_day).await), 8_500);
    assert_eq!(net(&report("MEX", mex_day + Duration::days(1), mex_day + Duration::days(1)).await), 0);
    let all = report("all", mex_day.min(tij_day), mex_day.max(tij_day)).await;
    assert_eq!(net(&all), 17_000, "every post, each in its own zone");

    // Voided today: the receipt's day still shows the sale (marked voided); today shows the
    // reversal; across both the receipt nets to nothing.
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let number = text(&mex_receipt, "receipt_number");
    app.post(
        &format!("/api/v1/staff/receipts/{number}/void"),
        Some(&supervisor),
        &json!({"reason": "twice"}),
    )
    .await;
    let today = mex_day + Duration::days(1);
    let before = report("MEX", mex_day, mex_day).await;
    assert_eq!(net(&before), 8_500);
    assert!(before["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|r| r["voided"] == true && r["kind"] == "sale"));
    let on_the_day = report("MEX", today, today).await;
    assert_eq!(
        (net(&on_the_day), on_the_day["totals"]["all"]["voids_cents"].clone()),
        (-8_500, json!(8_500))
    );
    assert_eq!(net(&report("MEX", mex_day, today).await), 0);
}

#[actix_web::test]
async fn only_auditors_and_admins_read_reports_and_a_bound_auditor_its_post() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let gdl_auditor = app.staff_token("gdl.auditor", "auditor", Some("GDL")).await;
    let path = "/api/v1/audit/fee-report?post=MEX&from=2026-11-01&to=2026-11-30";
    assert_problem(&app.get(path, Some(&clerk)).await, 403, "insufficient_role");
    assert_problem(&app.get(path, Some(&supervisor)).await, 403, "insufficient_role");
    assert_problem(&app.get(path, Some(&gdl_auditor)).await, 403, "wrong_post");
    let all = "/api/v1/audit/fee-report?post=all&from=2026-11-01&to=2026-11-30";
    assert_problem(&app.get(all, Some(&gdl_auditor)).await, 403, "wrong_post");
    let own = "/api/v1/audit/fee-report?post=GDL&from=2026-11-01&to=2026-11-30&format=csv";
    assert_eq!(app.get(own, Some(&gdl_auditor)).await.status, 200);
    let backwards = "/api/v1/audit/fee-report?post=GDL&from=2026-11-30&to=2026-11-01";
    assert_problem(&app.get(backwards, Some(&gdl_auditor)).await, 422, "validation_failed");
    // An auditor writes nothing, anywhere.
    let reference = walk_in(&app, &clerk, "MEX").await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    assert_problem(
        &app.post("/api/v1/staff/fees", Some(&auditor), &book(&reference, "card")).await,
        403,
        "insufficient_role",
    );
}
