//! What the sealed entry of each money and legal record holds, as pure rules: one list of
//! fields per kind of record. The operation that writes a record puts the list, read back from
//! the row it wrote, into the record's audit entry; the check ([`super::records`]) reads every
//! row again and holds it to its sealed entry. So the entry says what the row said when it was
//! written, and a row changed behind the triggers no longer matches an entry that can't change.
//!
//! Fields hold ids, numbers, amounts, codes and times. Personal data never: free text typed
//! by people (a void's reason, a venue, the signers) is held as its SHA-256, and the payer's
//! name not at all.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::db::schema::{
    closeout_signatures, closeouts, document_events, notarial_register, receipt_lines, receipt_voids,
    receipts,
};

/// A record's sealed fields, in a fixed order: the entry key and the value.
pub type Fields = Vec<(&'static str, Value)>;

/// Lowercase hex SHA-256 of `text`: what an entry keeps of free text.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn hashed(text: Option<&str>) -> Value {
    text.map(sha256_hex).into()
}

/// A time to the microsecond: both backends keep that much.
fn time(t: NaiveDateTime) -> Value {
    crate::audit::chain::to_micros(t).format("%Y-%m-%dT%H:%M:%S%.6f").to_string().into()
}

fn date(d: NaiveDate) -> Value {
    d.to_string().into()
}

/// `base` (the entry's own keys) with `fields` added: the change an operation records.
pub fn with_fields(base: Value, fields: Fields) -> Value {
    let mut object = match base {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    object.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v)));
    Value::Object(object)
}

/// The first field the entry holds with another value than the record has. A field the entry
/// doesn't hold is not compared: entries written before a field was sealed hold fewer.
pub fn first_difference(record: &Fields, entry: &Value) -> Option<&'static str> {
    record.iter().find(|(key, value)| entry.get(key).is_some_and(|held| held != value)).map(|(key, _)| *key)
}

/// A receipt (`receipt.issued`, named by its number).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = receipts)]
pub struct Receipt {
    pub id: i64,
    pub receipt_number: String,
    pub post_code: String,
    pub fiscal_year: i32,
    pub seq: i64,
    pub local_date: NaiveDate,
    pub issued_at: NaiveDateTime,
    pub appointment_id: i64,
    pub document_id: Option<i64>,
    pub clerk_id: i64,
    pub method: String,
    pub total_cents: i64,
    pub currency: String,
    pub local_total_cents: Option<i64>,
    pub local_currency: Option<String>,
    pub rate_micros: Option<i64>,
    pub external_reference: Option<String>,
    pub no_fee_basis: Option<String>,
}

impl Receipt {
    pub fn fields(&self) -> Fields {
        vec![
            ("receipt_id", json!(self.id)),
            ("post", json!(self.post_code)),
            ("fiscal_year", json!(self.fiscal_year)),
            ("seq", json!(self.seq)),
            ("local_date", date(self.local_date)),
            ("issued_at", time(self.issued_at)),
            ("appointment_id", json!(self.appointment_id)),
            ("document_id", json!(self.document_id)),
            ("clerk_id", json!(self.clerk_id)),
            ("method", json!(self.method)),
            ("total_cents", json!(self.total_cents)),
            ("currency", json!(self.currency)),
            ("local_total_cents", json!(self.local_total_cents)),
            ("local_currency", json!(self.local_currency)),
            ("rate_micros", json!(self.rate_micros)),
            ("external_reference_sha256", hashed(self.external_reference.as_deref())),
            ("no_fee_basis", json!(self.no_fee_basis)),
        ]
    }
}

/// A receipt line: an item of its receipt's `receipt.issued` entry, in line order.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = receipt_lines)]
pub struct ReceiptLine {
    pub id: i64,
    pub receipt_id: i64,
    pub line_no: i32,
    pub fee_version_id: i64,
    pub fee_code: String,
    pub description: String,
    pub quantity: i32,
    pub unit_cents: i64,
    pub amount_cents: i64,
}

impl ReceiptLine {
    pub fn fields(&self) -> Fields {
        vec![
            ("line_id", json!(self.id)),
            ("line_no", json!(self.line_no)),
            ("fee_version_id", json!(self.fee_version_id)),
            ("fee_code", json!(self.fee_code)),
            ("description_sha256", hashed(Some(&self.description))),
            ("quantity", json!(self.quantity)),
            ("unit_cents", json!(self.unit_cents)),
            ("amount_cents", json!(self.amount_cents)),
        ]
    }
}

/// A void (`receipt.voided`, holding the receipt's id).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = receipt_voids)]
pub struct Void {
    pub id: i64,
    pub receipt_id: i64,
    pub post_code: String,
    pub local_date: NaiveDate,
    pub voided_at: NaiveDateTime,
    pub voided_by: i64,
    pub reason: String,
}

impl Void {
    pub fn fields(&self) -> Fields {
        vec![
            ("void_id", json!(self.id)),
            ("receipt_id", json!(self.receipt_id)),
            ("post", json!(self.post_code)),
            ("local_date", date(self.local_date)),
            ("voided_at", time(self.voided_at)),
            ("voided_by", json!(self.voided_by)),
            ("reason_sha256", hashed(Some(&self.reason))),
        ]
    }
}

/// A cash close (`closeout.submitted`, named by its id).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = closeouts)]
pub struct Closeout {
    pub id: i64,
    pub post_code: String,
    pub local_date: NaiveDate,
    pub clerk_id: i64,
    pub submitted_at: NaiveDateTime,
    pub expected: String,
    pub counted: String,
    pub explanation: Option<String>,
}

/// Totals by method and currency, stored as JSON text: held as JSON.
fn totals(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

impl Closeout {
    pub fn fields(&self) -> Fields {
        vec![
            ("closeout_id", json!(self.id)),
            ("post", json!(self.post_code)),
            ("date", date(self.local_date)),
            ("clerk_id", json!(self.clerk_id)),
            ("submitted_at", time(self.submitted_at)),
            ("expected", totals(&self.expected)),
            ("counted", totals(&self.counted)),
            ("explanation_sha256", hashed(self.explanation.as_deref())),
        ]
    }
}

/// A close's signature (`closeout.signed`, named by the close's id).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = closeout_signatures)]
pub struct Signature {
    pub closeout_id: i64,
    pub signed_by: i64,
    pub signed_at: NaiveDateTime,
}

impl Signature {
    pub fn fields(&self) -> Fields {
        vec![
            ("closeout_id", json!(self.closeout_id)),
            ("signed_by", json!(self.signed_by)),
            ("signed_at", time(self.signed_at)),
        ]
    }
}

/// A notarial register entry (`register_entry.recorded` or `.corrected`, named by its number).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notarial_register)]
pub struct RegisterEntry {
    pub id: i64,
    pub entry_number: String,
    pub post_code: String,
    pub fiscal_year: i32,
    pub seq: i64,
    pub recorded_at: NaiveDateTime,
    pub performed_at: NaiveDateTime,
    pub venue: String,
    pub act: String,
    pub document_title: String,
    pub pages: i32,
    pub signers: String,
    pub certificates: i32,
    pub officer_id: i64,
    pub appointment_id: i64,
    pub document_id: i64,
    pub corrects: Option<i64>,
    pub correction_note: Option<String>,
}

impl RegisterEntry {
    pub fn fields(&self) -> Fields {
        vec![
            ("register_id", json!(self.id)),
            ("post", json!(self.post_code)),
            ("fiscal_year", json!(self.fiscal_year)),
            ("seq", json!(self.seq)),
            ("recorded_at", time(self.recorded_at)),
            ("performed_at", time(self.performed_at)),
            ("venue_sha256", hashed(Some(&self.venue))),
            ("act", json!(self.act)),
            ("document_title_sha256", hashed(Some(&self.document_title))),
            ("pages", json!(self.pages)),
            ("signers_sha256", hashed(Some(&self.signers))),
            ("certificates", json!(self.certificates)),
            ("officer_id", json!(self.officer_id)),
            ("appointment_id", json!(self.appointment_id)),
            ("document_id", json!(self.document_id)),
            ("corrects_entry_id", json!(self.corrects)),
            ("correction_note_sha256", hashed(self.correction_note.as_deref())),
        ]
    }
}

/// A document's change of state: its first is `document.recorded` (the state as `status`),
/// each later one a `document.transitioned` (as `to`), all named by the tracking number.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = document_events)]
pub struct DocumentEvent {
    pub id: i64,
    pub document_id: i64,
    pub status: String,
    pub at: NaiveDateTime,
    pub staff_id: Option<i64>,
    pub note: Option<String>,
}

impl DocumentEvent {
    /// `first`: the document's first event, which `document.recorded` seals.
    pub fn fields(&self, first: bool) -> Fields {
        vec![
            ("event_id", json!(self.id)),
            ("document_id", json!(self.document_id)),
            (if first { "status" } else { "to" }, json!(self.status)),
            ("at", time(self.at)),
            ("staff_id", json!(self.staff_id)),
            ("note_sha256", hashed(self.note.as_deref())),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("timestamp")
    }

    fn receipt() -> Receipt {
        Receipt {
            id: 7,
            receipt_number: "MEX-2027-000001".into(),
            post_code: "MEX".into(),
            fiscal_year: 2027,
            seq: 1,
            local_date: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
            issued_at: t("2026-12-01 18:00:00.1234567"),
            appointment_id: 3,
            document_id: None,
            clerk_id: 2,
            method: "cash_usd".into(),
            total_cents: 16_500,
            currency: "USD".into(),
            local_total_cents: None,
            local_currency: None,
            rate_micros: None,
            external_reference: None,
            no_fee_basis: None,
        }
    }

    fn entry_of(fields: Fields) -> Value {
        with_fields(json!({"reference": "ABC"}), fields)
    }

    #[test]
    fn a_record_matches_the_entry_written_from_it() {
        let r = receipt();
        let entry = entry_of(r.fields());
        assert_eq!(entry["reference"], "ABC", "the entry's own keys stay");
        assert_eq!(entry["issued_at"], "2026-12-01T18:00:00.123456", "to the microsecond");
        assert_eq!(first_difference(&r.fields(), &entry), None);
    }

    #[test]
    fn each_sealed_field_of_a_receipt_is_compared() {
        let entry = entry_of(receipt().fields());
        let changed = [
            (Receipt { total_cents: 1, ..receipt() }, "total_cents"),
            (Receipt { method: "card".into(), ..receipt() }, "method"),
            (
                Receipt { local_date: NaiveDate::from_ymd_opt(2026, 11, 30).expect("d"), ..receipt() },
                "local_date",
            ),
            (Receipt { issued_at: t("2026-12-01 18:00:01"), ..receipt() }, "issued_at"),
            (Receipt { clerk_id: 9, ..receipt() }, "clerk_id"),
            (Receipt { external_reference: Some("PAY-1".into()), ..receipt() }, "external_reference_sha256"),
        ];
        for (record, field) in changed {
            assert_eq!(first_difference(&record.fields(), &entry), Some(field));
        }
    }

    #[test]
    fn a_field_the_entry_does_not_hold_is_not_compared() {
        // An entry written before the fields were sealed: method, total and items only.
        let old = json!({"method": "cash_usd", "total_cents": 16_500, "local_total_cents": null});
        assert_eq!(first_difference(&receipt().fields(), &old), None);
        assert_eq!(
            first_difference(&Receipt { total_cents: 100, ..receipt() }.fields(), &old),
            Some("total_cents")
        );
        assert_eq!(first_difference(&Receipt { seq: 5, ..receipt() }.fields(), &old), None);
        assert_eq!(first_difference(&receipt().fields(), &Value::Null), None);
    }

    #[test]
    fn free_text_is_held_as_its_hash_never_as_text() {
        let void = Void {
            id: 1,
            receipt_id: 7,
            post_code: "MEX".into(),
            local_date: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
            voided_at: t("2026-12-01 19:00:00"),
            voided_by: 4,
            reason: "charged twice by mistake".into(),
        };
        let entry = entry_of(void.fields());
        assert!(!entry.to_string().contains("charged twice"));
        assert_eq!(entry["reason_sha256"], sha256_hex("charged twice by mistake"));
        let edited = Void { reason: "charged twice".into(), ..void };
        assert_eq!(first_difference(&edited.fields(), &entry), Some("reason_sha256"));
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "the standard digest"
        );
    }

    #[test]
    fn a_document_event_is_sealed_as_its_entry_names_the_state() {
        let event = DocumentEvent {
            id: 3,
            document_id: 2,
            status: "in_adjudication".into(),
            at: t("2026-12-01 10:00:00"),
            staff_id: Some(4),
            note: None,
        };
        assert_eq!(entry_of(event.fields(true))["status"], "in_adjudication");
        let moved = json!({"from": "received", "to": "in_adjudication"});
        assert_eq!(first_difference(&event.fields(false), &moved), None);
        let back = DocumentEvent { status: "received".into(), ..event };
        assert_eq!(first_difference(&back.fields(false), &moved), Some("to"));
    }

    #[test]
    fn closes_hold_their_totals_as_json() {
        let close = Closeout {
            id: 1,
            post_code: "MEX".into(),
            local_date: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
            clerk_id: 2,
            submitted_at: t("2026-12-01 20:00:00"),
            expected: r#"[{"method":"card","currency":"USD","amount_cents":16500}]"#.into(),
            counted: "not json".into(),
            explanation: None,
        };
        let entry = entry_of(close.fields());
        assert_eq!(entry["expected"][0]["amount_cents"], 16_500);
        assert_eq!(entry["counted"], "not json");
        let recounted =
            Closeout { expected: r#"[{"method":"card","currency":"USD","amount_cents":1}]"#.into(), ..close };
        assert_eq!(first_difference(&recounted.fields(), &entry), Some("expected"));
    }
}
