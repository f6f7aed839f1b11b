//! `audit verify` holds the money and legal records to their sealed entries: someone who can
//! drop the append-only triggers changes a receipt's total, a void's reason, a register
//! entry's act, or adds or removes a row, and the check (API and CLI) names the row.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::audit::{cli_verify, is_postgres, notarial_document, paid_fee, sql, text, verify};
use crate::helpers::{db_conn, run_cli, spawn_app, TestApp, TestDb};

const REASON: &str = "charged twice by mistake";

/// A day at MEX: two receipts, one voided, a notarial act in the register, and the clerk's
/// cash close signed; then the triggers that keep those tables append-only are dropped.
struct Desk {
    app: TestApp,
    db: TestDb,
    admin: String,
    voided: i64,
    kept: i64,
    register: i64,
}

async fn desk() -> Desk {
    let (app, db) = spawn_app().await;
    let admin = app.admin_token().await;
    let clerk = app.staff_token("mex.clerk", "clerk", Some("MEX")).await;
    let supervisor = app.staff_token("mex.supervisor", "supervisor", Some("MEX")).await;
    let first = paid_fee(&app, &clerk).await;
    let second = paid_fee(&app, &clerk).await;
    assert_eq!((first.status, second.status), (201, 201), "{} {}", first.body, second.body);
    let path = format!("/api/v1/staff/receipts/{}/void", text(&first.body, "receipt_number"));
    let r = app.post(&path, Some(&supervisor), &json!({"reason": REASON})).await;
    assert_eq!(r.status, 200, "void: {}", r.body);
    let r = notarial_document(&app, &clerk).await;
    assert_eq!(r.status, 201, "notarial job: {}", r.body);
    let counted =
        json!([{"method": "card", "currency": "USD", "amount_cents": second.body["total"]["amount_cents"]}]);
    let closes = "/api/v1/staff/posts/MEX/closeouts";
    let close = app.post(closes, Some(&clerk), &json!({"counted": counted})).await;
    assert_eq!(close.status, 201, "close: {}", close.body);
    let signed =
        app.post(&format!("{closes}/{}/sign", close.body["id"]), Some(&supervisor), &json!({})).await;
    assert_eq!(signed.status, 200, "sign: {}", signed.body);

    let checked = verify(&app, &admin).await;
    assert_eq!(checked["ok"], true, "{checked}");
    // 2 receipts, 2 lines, a void, a close, its signature, a register entry, a document change.
    assert!(checked["records"].as_i64().unwrap_or(0) >= 9, "{checked}");
    let (ok, output) = cli_verify(db.url());
    assert!(ok, "an intact desk verifies: {output}");

    drop_record_triggers(db.url());
    let receipt_id = |v: &Value| receipt_id(db.url(), &text(v, "receipt_number"));
    let (voided, kept) = (receipt_id(&first.body), receipt_id(&second.body));
    let register = first_id(db.url(), "SELECT id FROM notarial_register");
    Desk { app, db, admin, voided, kept, register }
}

fn drop_record_triggers(db_url: &str) {
    let statements: &[&str] = if is_postgres(db_url) {
        &[
            "DROP TRIGGER receipts_append_only ON receipts",
            "DROP TRIGGER receipt_voids_append_only ON receipt_voids",
            "DROP TRIGGER notarial_register_append_only ON notarial_register",
        ]
    } else {
        &[
            "DROP TRIGGER receipts_no_update",
            "DROP TRIGGER receipt_voids_no_update",
            "DROP TRIGGER receipt_voids_no_delete",
            "DROP TRIGGER notarial_register_no_update",
        ]
    };
    for s in statements {
        sql(db_url, s).expect("drop trigger");
    }
}

fn receipt_id(db_url: &str, number: &str) -> i64 {
    use consular_desk::db::schema::receipts;
    receipts::table
        .filter(receipts::receipt_number.eq(number))
        .select(receipts::id)
        .first(&mut db_conn(db_url))
        .expect("receipt")
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// The lowest `id` a query answers.
fn first_id(db_url: &str, query: &str) -> i64 {
    let ids: Vec<Id> =
        diesel::sql_query(format!("{query} ORDER BY id")).load(&mut db_conn(db_url)).expect(query);
    ids.first().expect("a row").id
}

/// The check (API, and the CLI) names `table`'s row `row_id` with `problem` and `field`.
async fn assert_named(desk: &Desk, table: &str, row_id: i64, problem: &str, field: Option<&str>) {
    let checked = verify(&desk.app, &desk.admin).await;
    let bad = &checked["first_bad"];
    assert_eq!(checked["ok"], false, "{checked}");
    assert_eq!((bad["table"].as_str(), bad["row_id"].as_i64()), (Some(table), Some(row_id)), "{checked}");
    assert_eq!((bad["problem"].as_str(), bad["field"].as_str()), (Some(problem), field), "{checked}");
    assert_eq!(bad["chain"], "MEX", "{checked}");
    let (ok, output) = cli_verify(desk.db.url());
    assert!(!ok, "the CLI exits non-zero: {output}");
    assert!(
        output.contains(&format!("audit record {table} {row_id} ")) && output.contains(problem),
        "{output}"
    );
}

async fn assert_holds(desk: &Desk) {
    let checked = verify(&desk.app, &desk.admin).await;
    assert_eq!(checked["ok"], true, "restored: {checked}");
}

#[actix_web::test]
async fn a_changed_receipt_total_is_named() {
    let desk = desk().await;
    let id = desk.kept;
    sql(desk.db.url(), &format!("UPDATE receipts SET total_cents = total_cents + 1000 WHERE id = {id}"))
        .expect("edit");
    assert_named(&desk, "receipts", id, "record_differs", Some("total_cents")).await;
    // A post's own check finds it too.
    let out = run_cli(desk.db.url(), &["audit", "verify", "--post", "MEX"], &[], None);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("receipts"));
    let auditor = desk.app.staff_token("mex.auditor", "auditor", Some("MEX")).await;
    assert_eq!(verify(&desk.app, &auditor).await["first_bad"]["row_id"], id);
    sql(desk.db.url(), &format!("UPDATE receipts SET total_cents = total_cents - 1000 WHERE id = {id}"))
        .expect("restore");
    assert_holds(&desk).await;
}

#[actix_web::test]
async fn a_changed_void_reason_is_named() {
    let desk = desk().await;
    let void =
        first_id(desk.db.url(), &format!("SELECT id FROM receipt_voids WHERE receipt_id = {}", desk.voided));
    let url = desk.db.url();
    sql(url, &format!("UPDATE receipt_voids SET reason = 'customer request' WHERE id = {void}"))
        .expect("edit");
    assert_named(&desk, "receipt_voids", void, "record_differs", Some("reason_sha256")).await;
    sql(url, &format!("UPDATE receipt_voids SET reason = '{REASON}' WHERE id = {void}")).expect("restore");
    assert_holds(&desk).await;
}

#[actix_web::test]
async fn a_changed_register_act_is_named() {
    let desk = desk().await;
    let (url, id) = (desk.db.url(), desk.register);
    sql(url, &format!("UPDATE notarial_register SET act = 'acknowledgment' WHERE id = {id}")).expect("edit");
    assert_named(&desk, "notarial_register", id, "record_differs", Some("act")).await;
    sql(url, &format!("UPDATE notarial_register SET act = 'jurat' WHERE id = {id}")).expect("restore");
    assert_holds(&desk).await;
}

#[actix_web::test]
async fn a_row_inserted_or_deleted_behind_the_triggers_is_named() {
    let desk = desk().await;
    let url = desk.db.url();
    // A void nobody recorded, of the receipt that was kept.
    sql(
        url,
        &format!(
            "INSERT INTO receipt_voids (receipt_id, post_code, local_date, voided_at, voided_by, reason) \
             SELECT id, post_code, local_date, issued_at, clerk_id, 'x' FROM receipts WHERE id = {}",
            desk.kept
        ),
    )
    .expect("insert");
    let forged = first_id(url, &format!("SELECT id FROM receipt_voids WHERE receipt_id = {}", desk.kept));
    assert_named(&desk, "receipt_voids", forged, "record_unsealed", None).await;
    sql(url, &format!("DELETE FROM receipt_voids WHERE id = {forged}")).expect("restore");
    assert_holds(&desk).await;
    // The recorded void, deleted: its entry names it.
    let void = first_id(url, &format!("SELECT id FROM receipt_voids WHERE receipt_id = {}", desk.voided));
    sql(url, &format!("DELETE FROM receipt_voids WHERE id = {void}")).expect("delete");
    assert_named(&desk, "receipt_voids", void, "record_missing", None).await;
}
