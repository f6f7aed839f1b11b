//! The fee report: totals that agree across formats and with the receipts, local-date edges
//! in two zones, voids inside and across the range, the command line, and who may read it.

use chrono::{Duration, NaiveDate, TimeZone};
use diesel::RunQueryDsl;
use serde_json::{json, Value};

use calamine::{Data, DataType, Reader};
use consular_desk::fees::money::format_cents;

use crate::helpers::{
    assert_problem, clerk_actor, db_conn, pdf_pages, pdf_text, person, run_cli, spawn_on, TestApp, TestDb,
};

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
        {"fee_code": "passport-execution", "quantity": 1}], "payment": {"method": method}, "confirm_repeat": true})
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
pub(crate) fn csv_records(text: &str) -> Vec<Vec<String>> {
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

/// What a workbook says: its lines' count and the sum of their cents, checked cell by cell
/// for their types (dates are dates, amounts numbers that match the cents, void status a
/// boolean), and the Summary sheet's overall net in cents.
fn xlsx_net(bytes: &[u8]) -> (usize, i64, i64) {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    let lines = book.worksheet_range("Lines").expect("a Lines sheet");
    let mut rows = lines.rows();
    let header: Vec<String> = rows.next().expect("a header").iter().map(|c| c.to_string()).collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (cents_at, amount_at, date_at, voided_at) =
        (col("amount_cents"), col("amount"), col("date"), col("voided"));
    let mut sum = 0;
    let mut count = 0;
    for row in rows {
        let cents = row[cents_at].get_float().expect("cents are a number") as i64;
        let amount = row[amount_at].get_float().expect("the amount is a number");
        assert_eq!((amount * 100.0).round() as i64, cents, "the amount is the cents in units");
        assert!(matches!(row[date_at], Data::DateTime(_)), "a date cell: {:?}", row[date_at]);
        assert!(matches!(row[voided_at], Data::Bool(_)), "a boolean cell: {:?}", row[voided_at]);
        sum += cents;
        count += 1;
    }
    let summary = book.worksheet_range("Summary").expect("a Summary sheet");
    let all = summary.rows().find(|r| r[0] == Data::String("all".into())).expect("the overall row");
    let net = (all[3].get_float().expect("the net is a number") * 100.0).round() as i64;
    (count, sum, net)
}

/// Whether the workbook's lines sheet keeps its header row frozen, and the money format it
/// shows amounts in.
fn xlsx_sheet_xml(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet2.xml").expect("the lines sheet").read_to_string(&mut xml).expect("xml");
    let mut styles = String::new();
    zip.by_name("xl/styles.xml").expect("styles").read_to_string(&mut styles).expect("xml");
    xml + &styles
}

fn export_cli(db: &TestDb, post: &str, day: &str, format: &str, out: &std::path::Path) {
    let run = run_cli(
        db.url(),
        &[
            "export",
            "fee-report",
            "--post",
            post,
            "--from",
            day,
            "--to",
            day,
            "--format",
            format,
            "--out",
            &out.display().to_string(),
        ],
        &[],
        None,
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.stderr.is_empty(), "no progress when not on a terminal");
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
    // The clerk counts five dollars short, explains, and a supervisor signs.
    let counted = json!([
        {"method": "cash_usd", "currency": "USD", "amount_cents": 8_000},
        {"method": "cash_local", "currency": "MXN", "amount_cents": 146_600},
        {"method": "card", "currency": "USD", "amount_cents": 8_500},
    ]);
    let close = app
        .post(
            "/api/v1/staff/posts/MEX/closeouts",
            Some(&clerk),
            &json!({"counted": counted, "explanation": "change from the float"}),
        )
        .await;
    assert_eq!(close.status, 201, "{}", close.body);
    let sign = format!("/api/v1/staff/posts/MEX/closeouts/{}/sign", close.body["id"]);
    assert_eq!(app.post(&sign, Some(&supervisor), &json!({})).await.status, 200);

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

    let xlsx = app.get(&format!("{path}&format=xlsx"), Some(&auditor)).await;
    assert_eq!(xlsx.status, 200);
    assert_eq!(xlsx.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(xlsx_net(&xlsx.bytes), (10, net, net), "the workbook's lines and summary");
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).expect("a workbook");
    let closes = book.worksheet_range("Closes").expect("a Closes sheet");
    let short: Vec<String> = closes
        .rows()
        .filter(|r| r[3] == Data::String("cash_usd".into()))
        .map(|r| format!("{} {} {} {}", r[5], r[6], r[7], r[8]))
        .collect();
    assert_eq!(short, ["85 80 -5 mex.supervisor"], "expected, counted, difference, signed by");
    let xml = xlsx_sheet_xml(&xlsx.bytes);
    assert!(xml.contains(r#"state="frozen""#) && xml.contains(r#"ySplit="1""#), "the header row is frozen");
    assert!(xml.contains("[$USD] #,##0.00"), "money in the currency's format");

    let pdf = app.get(&format!("{path}&format=pdf"), Some(&auditor)).await;
    assert_eq!((pdf.status, pdf.content_type.as_str()), (200, "application/pdf"));
    let summary = pdf_text(&pdf.bytes);
    for (name, cents) in [("Net", net), ("Voids", 8_500), ("passport-execution", 3 * 3_500), ("MXN", 146_600)]
    {
        assert!(
            summary.contains(&format_cents(cents)),
            "{name} {} in the PDF:\n{summary}",
            format_cents(cents)
        );
    }
    assert!(summary.contains("Page 1 of 1"), "a numbered footer:\n{summary}");
    assert!(summary.contains("Firmado por mex.supervisor"), "the signed close:\n{summary}");
    assert!(summary.contains("USD -5.00") && summary.contains("change from the float"), "{summary}");
    assert!(summary.contains(&numbers[0][..4]) || summary.contains("MEX"), "the post");

    // Every export leaves its audit entry.
    let admin = app.admin_token().await;
    let log = app.get("/api/v1/audit/log?action=fee_report.exported", Some(&admin)).await;
    assert_eq!(log.body["entries"].as_array().map(Vec::len), Some(4));

    // The command line, offline, writes the same in every format.
    let dir = tempfile::tempdir().expect("dir");
    let out = |name: &str| dir.path().join(name);
    export_cli(&db, "MEX", &today, "csv", &out("report.csv"));
    assert_eq!(csv_net(&std::fs::read_to_string(out("report.csv")).expect("file")), (10, net));
    export_cli(&db, "all", &today, "json", &out("report.json"));
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(out("report.json")).expect("file")).expect("json");
    assert_eq!(exported["totals"]["all"]["net_cents"], net);
    export_cli(&db, "MEX", &today, "xlsx", &out("report.xlsx"));
    assert_eq!(xlsx_net(&std::fs::read(out("report.xlsx")).expect("file")), (10, net, net));
    export_cli(&db, "MEX", &today, "pdf", &out("report.pdf"));
    assert!(pdf_text(&std::fs::read(out("report.pdf")).expect("file")).contains(&format_cents(net)));

    // On a terminal, a progress bar against the counted rows.
    let command = format!(
        "{} export fee-report --post MEX --from {today} --to {today} --format csv --out {}",
        env!("CARGO_BIN_EXE_consular-desk"),
        out("seen.csv").display()
    );
    let seen = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("DATABASE_URL", db.url())
        .output()
        .expect("script(1) runs the export on a pseudo-terminal");
    let screen = String::from_utf8_lossy(&seen.stdout);
    assert!(seen.status.success(), "{screen}");
    assert!(screen.contains("] 100%  10/10 rows"), "a progress bar with its total: {screen:?}");
}

#[actix_web::test]
async fn the_pdf_summary_runs_over_pages_each_numbered_and_dated() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let visit = walk_in(&app, &clerk, "MEX").await;
    // A receipt on each of 80 days: the per-day table alone needs more than a page.
    let first = app.now().date_naive() - Duration::days(100);
    for day in 0..80 {
        let at = (first + Duration::days(day)).and_hms_opt(18, 0, 0).expect("noon in Mexico City");
        record_at(&db, "mex.clerk", "MEX", &visit, at);
    }
    let last = first + Duration::days(79);
    let path = format!("/api/v1/audit/fee-report?post=MEX&from={first}&to={last}&format=pdf");
    let pdf = app.get(&path, Some(&auditor)).await;
    assert_eq!(pdf.status, 200, "{}", pdf.text);
    let pages = pdf_pages(&pdf.bytes);
    let count = pages.len();
    assert!(count >= 2, "{count} pages");
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains(&format!("Page {} of {count}", i + 1)), "page {}:\n{page}", i + 1);
        assert!(page.contains("generated 20"), "the generation time on page {}", i + 1);
    }
    let text = pages.concat();
    assert!(text.contains(&format_cents(80 * 8_500)), "the net of 80 receipts");
    assert!(text.contains(&last.to_string()), "the last day's row");
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
        let local_today = app.now().with_timezone(&zone).date_naive();
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

#[actix_web::test]
async fn thirty_exports_at_once_each_answer_whole_and_each_is_audited() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let reference = walk_in(&app, &clerk, "MEX").await;
    for _ in 0..3 {
        let r = app.post("/api/v1/staff/fees", Some(&clerk), &book(&reference, "card")).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let today = app.now().with_timezone(&chrono_tz::America::Mexico_City).date_naive();
    let formats = ["csv", "xlsx", "pdf", "json"];
    let exports = (0..30).map(|i| {
        let path = format!(
            "/api/v1/audit/fee-report?post=MEX&from={today}&to={today}&format={}",
            formats[i % formats.len()]
        );
        let (app, token) = (&app, auditor.clone());
        async move { (i, app.get(&path, Some(&token)).await) }
    });
    for (i, reply) in futures_util::future::join_all(exports).await {
        assert_eq!(reply.status, 200, "export {i}: {}", reply.text);
        match formats[i % formats.len()] {
            "csv" => assert_eq!(csv_net(&reply.text), (6, 3 * 8_500)),
            "xlsx" => assert_eq!(xlsx_net(&reply.bytes), (6, 3 * 8_500, 3 * 8_500)),
            "pdf" => assert!(pdf_text(&reply.bytes).contains(&format_cents(3 * 8_500))),
            _ => assert_eq!(reply.body["totals"]["all"]["net_cents"], 3 * 8_500),
        }
    }
    let admin = app.admin_token().await;
    let log = app.get("/api/v1/audit/log?action=fee_report.exported&limit=100", Some(&admin)).await;
    assert_eq!(log.body["entries"].as_array().map(Vec::len), Some(30));
}

/// 250 receipts of two lines at MEX over three days from a month ago, as `mex.clerk`: a JSON
/// report of some 170 KB, several times the writer's 64 KiB. Returns the first day and the
/// receipts' numbers.
async fn many_receipts(app: &TestApp, db: &TestDb) -> (NaiveDate, Vec<String>) {
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let visit = walk_in(app, &clerk, "MEX").await;
    let first = app.now().date_naive() - Duration::days(30);
    let mut numbers = Vec::new();
    for i in 0..250 {
        let at = (first + Duration::days(i % 3)).and_hms_opt(18, 0, 0).expect("noon in Mexico City");
        numbers.push(text(&record_at(db, "mex.clerk", "MEX", &visit, at), "receipt_number"));
    }
    (first, numbers)
}

/// The raw HTTP/1.1 answer to `GET path`, read until the server closes, split into the head
/// and the chunked body's data, and whether the body ended with its last (empty) chunk. awc
/// takes a connection closed in the middle of a chunked body for its end, so a body that
/// broke off is told from a whole one here.
async fn raw_get(app: &TestApp, path: &str, token: &str) -> (String, Vec<u8>, bool) {
    use std::io::{Read, Write};
    let address = app.address.trim_start_matches("http://").to_string();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        stream.write_all(request.as_bytes()).expect("request sent");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        answer
    })
    .await
    .expect("read");
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let (mut rest, mut body) = (&answer[split..], Vec::new());
    loop {
        let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else { return (head, body, false) };
        let size = usize::from_str_radix(&String::from_utf8_lossy(&rest[..end]), 16).expect("a chunk size");
        if size == 0 {
            return (head, body, true);
        }
        let data = &rest[end + 2..];
        if data.len() < size + 2 {
            body.extend_from_slice(data);
            return (head, body, false);
        }
        body.extend_from_slice(&data[..size]);
        rest = &data[size + 2..];
    }
}

#[actix_web::test]
async fn a_json_report_of_many_chunks_parses_whole_and_adds_up_as_it_streams() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let (first, numbers) = many_receipts(&app, &db).await;
    let void = format!("/api/v1/staff/receipts/{}/void", numbers[7]);
    assert_eq!(app.post(&void, Some(&supervisor), &json!({"reason": "twice"})).await.status, 200);
    let (from, to) = (first, app.now().date_naive() + Duration::days(1));
    let path = format!("/api/v1/audit/fee-report?post=MEX&from={from}&to={to}");

    let (head, body, whole) = raw_get(&app, &path, &auditor).await;
    assert!(head.starts_with("http/1.1 200") && whole, "{head}");
    assert!(body.len() > 2 * 64 * 1024, "{} bytes", body.len());
    let report: Value = serde_json::from_slice(&body).expect("one valid JSON document");
    let keys: Vec<&str> =
        report.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys.len(), 7, "post, from, to, generated_at, rows, totals, closes: {keys:?}");
    let rows = report["rows"].as_array().cloned().unwrap_or_default();
    let net: i64 = rows.iter().map(|r| r["amount_cents"].as_i64().unwrap_or(0)).sum();
    assert_eq!(rows.len(), 500 + 2, "every line and the void's two reversals");
    assert_eq!(report["totals"]["rows"], 502, "the totals, added up while streaming, count every row");
    assert_eq!(
        report["totals"]["all"],
        json!({"gross_cents": 250 * 8_500, "voids_cents": 8_500, "net_cents": net})
    );
    let csv = app.get(&format!("{path}&format=csv"), Some(&auditor)).await;
    assert_eq!(csv_net(&csv.text), (502, net), "the CSV's rows and net");
}

#[actix_web::test]
async fn an_empty_json_report_is_a_whole_document() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    for post in ["MEX", "all"] {
        let path = format!("/api/v1/audit/fee-report?post={post}&from=2026-01-01&to=2026-01-31&format=json");
        let (head, body, whole) = raw_get(&app, &path, &auditor).await;
        assert!(head.starts_with("http/1.1 200") && whole, "{head}");
        let report: Value = serde_json::from_slice(&body).expect("one valid JSON document");
        assert_eq!(report["rows"], json!([]));
        assert_eq!(report["closes"], json!([]));
        assert_eq!(report["totals"]["rows"], 0);
        assert_eq!(report["totals"]["all"], json!({"gross_cents": 0, "voids_cents": 0, "net_cents": 0}));
        assert_eq!(report["totals"]["by_fee_code"], json!({}));
        assert_eq!(
            report.get("post").cloned(),
            (post == "MEX").then(|| json!("MEX")),
            "no post for every post"
        );
        assert_eq!((text(&report, "from"), text(&report, "to")), ("2026-01-01".into(), "2026-01-31".into()));
    }
}

#[actix_web::test]
async fn a_json_report_sends_its_rows_as_read_and_one_failing_after_them_breaks_off() {
    let db = TestDb::fresh();
    let app = spawn_on(&db, &[]).await;
    let auditor = app.staff_token("auditor", "auditor", None).await;
    let (first, _) = many_receipts(&app, &db).await;
    let clerk = app.staff_token("tij.clerk", "clerk", Some("TIJ")).await;
    let close = app
        .post(
            "/api/v1/staff/posts/TIJ/closeouts",
            Some(&clerk),
            &json!({"counted": [], "explanation": "none"}),
        )
        .await;
    assert_eq!(close.status, 201, "{}", close.body);
    // The closes are read after the rows; a post's zone gone bad fails them there.
    diesel::sql_query("UPDATE posts SET timezone = 'Mars/Olympus_Mons' WHERE code = 'TIJ'")
        .execute(&mut db_conn(db.url()))
        .expect("the zone changed");
    let (from, to) = (first, app.now().date_naive() + Duration::days(1));
    let path = format!("/api/v1/audit/fee-report?post=all&from={from}&to={to}&format=json");

    let (head, body, whole) = raw_get(&app, &path, &auditor).await;
    let received = String::from_utf8_lossy(&body);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!whole, "the body breaks off rather than ending");
    assert!(
        received.starts_with(r#"{"from":"#) && received.contains(r#""rows":[{"kind":"sale""#),
        "{received}"
    );
    assert!(body.len() > 64 * 1024, "the rows went out as they were read: {} bytes", body.len());
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "what came is no whole document");

    // The command line fails, and leaves no file to be taken for a report.
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("report.json");
    let (from, to, out_arg) = (from.to_string(), to.to_string(), out.display().to_string());
    let run = run_cli(
        db.url(),
        &[
            "export",
            "fee-report",
            "--post",
            "all",
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            "json",
            "--out",
            &out_arg,
        ],
        &[],
        None,
    );
    assert!(!run.status.success(), "{}", String::from_utf8_lossy(&run.stdout));
    assert!(!out.exists(), "no half report left behind");
}
