//! Holding the money and legal records to their sealed entries: every receipt, receipt line,
//! void, cash close and signature, notarial register entry and document change of state is
//! read and compared with the audit entry that recorded it ([`super::sealed`] says what each
//! holds). The chains prove the entries unchanged; this proves the rows still say what the
//! entries say, which the append-only triggers can't against whoever can drop them.
//!
//! One pass over each table and one over the entries, matched by key in a hash map: the check
//! stays linear in the number of records.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::Value;

use crate::audit::read::BadEntry;
use crate::audit::sealed::{self, first_difference, Fields};
use crate::audit::Action;
use crate::db::schema::{
    audit_log, audit_seals, closeout_signatures, closeouts, document_events, documents, notarial_register,
    receipt_lines, receipt_voids, receipts,
};
use crate::db::DbConn;

/// A record's row differs from its sealed entry.
pub const DIFFERS: &str = "record_differs";
/// A row no entry records: written behind the triggers.
pub const UNSEALED: &str = "record_unsealed";
/// An entry's row is gone.
pub const MISSING: &str = "record_missing";

/// An audit entry that records a row (or, for receipt lines and document changes, a part of
/// one entry or one of a series), with its place in its chain when sealed.
#[derive(Debug, Clone)]
struct Recorded {
    id: i64,
    chain: String,
    seq: Option<i64>,
    /// What names the row: see each kind's key.
    key: String,
    change: Value,
}

/// A row as the check holds it to its entry.
trait Record {
    const TABLE: &'static str;
    /// The key of the entry's field naming the row's id, for a row that is gone.
    const ID_KEY: &'static str;
    fn row_id(&self) -> i64;
    fn post(&self) -> &str;
    /// What names the row in its entry's key.
    fn key(&self) -> String;
    fn fields(&self) -> Fields;
}

/// What the walk found: how many rows it held, and the earliest problem (by entry id, rows no
/// entry records last).
#[derive(Debug, Default)]
pub struct Holding {
    pub records: i64,
    pub first_bad: Option<BadEntry>,
}

impl Holding {
    fn found(&mut self, bad: BadEntry) {
        let rank = |b: &BadEntry| (b.id.unwrap_or(i64::MAX), b.row_id.unwrap_or(i64::MAX));
        if self.first_bad.as_ref().is_none_or(|first| rank(&bad) < rank(first)) {
            self.first_bad = Some(bad);
        }
    }

    /// Holds every row of one kind to the entry of the same key; entries left over name rows
    /// that are gone.
    fn hold<R: Record>(&mut self, rows: &[R], entries: Vec<Recorded>) {
        let mut by_key: HashMap<String, Recorded> = entries.into_iter().map(|e| (e.key.clone(), e)).collect();
        for row in rows {
            self.records += 1;
            let problem = match by_key.remove(&row.key()) {
                None => Some((row.post().to_string(), None, None)),
                Some(entry) => first_difference(&row.fields(), &entry.change)
                    .map(|f| (entry.chain.clone(), Some(entry), Some(f))),
            };
            if let Some((chain, entry, field)) = problem {
                self.found(BadEntry {
                    chain,
                    seq: entry.as_ref().and_then(|e| e.seq),
                    id: entry.as_ref().map(|e| e.id),
                    problem: if entry.is_some() { DIFFERS } else { UNSEALED }.into(),
                    table: Some(R::TABLE.into()),
                    row_id: Some(row.row_id()),
                    field: field.map(str::to_string),
                });
            }
        }
        for entry in by_key.into_values() {
            self.found(BadEntry {
                row_id: entry.change.get(R::ID_KEY).and_then(Value::as_i64),
                chain: entry.chain,
                seq: entry.seq,
                id: Some(entry.id),
                problem: MISSING.into(),
                table: Some(R::TABLE.into()),
                field: None,
            });
        }
    }
}

/// Holds every record of `post` (or of every post) to its sealed entry.
pub fn hold_all(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Holding> {
    let mut entries = entries(conn, post)?;
    let mut take = |actions: &[Action]| -> Vec<(Action, Recorded)> {
        let (taken, rest) = std::mem::take(&mut entries).into_iter().partition(|(a, _)| actions.contains(a));
        entries = rest;
        taken
    };
    let issued = take(&[Action::ReceiptIssued]);
    let voided = take(&[Action::ReceiptVoided]);
    let submitted = take(&[Action::CloseoutSubmitted]);
    let signed = take(&[Action::CloseoutSigned]);
    let registered = take(&[Action::RegisterEntryRecorded, Action::RegisterEntryCorrected]);
    let documented = take(&[Action::DocumentRecorded, Action::DocumentTransitioned]);

    let mut holding = Holding::default();
    let items = issued.iter().flat_map(|(_, e)| receipt_items(e)).collect();
    holding.hold(&load_lines(conn, post)?, items);
    holding.hold(&load_receipts(conn, post)?, issued.into_iter().map(|(_, e)| e).collect());
    let voids = voided
        .into_iter()
        .filter_map(|(_, e)| Some(Recorded { key: e.change.get("receipt_id")?.to_string(), ..e }));
    holding.hold(&load_voids(conn, post)?, voids.collect());
    holding.hold(&load_closeouts(conn, post)?, submitted.into_iter().map(|(_, e)| e).collect());
    holding.hold(&load_signatures(conn, post)?, signed.into_iter().map(|(_, e)| e).collect());
    holding.hold(&load_register(conn, post)?, registered.into_iter().map(|(_, e)| e).collect());
    holding.hold(&load_document_events(conn, post)?, in_series(documented));
    Ok(holding)
}

/// id, chain, seq, action, entity id, change.
type EntryRow = (i64, String, Option<i64>, String, Option<String>, String);

/// The entries that record rows, oldest first, keyed by the entity they name.
fn entries(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<(Action, Recorded)>> {
    const ACTIONS: [Action; 8] = [
        Action::ReceiptIssued,
        Action::ReceiptVoided,
        Action::CloseoutSubmitted,
        Action::CloseoutSigned,
        Action::RegisterEntryRecorded,
        Action::RegisterEntryCorrected,
        Action::DocumentRecorded,
        Action::DocumentTransitioned,
    ];
    let mut query = audit_log::table
        .left_join(
            audit_seals::table
                .on(audit_seals::entry_id.eq(audit_log::id).and(audit_seals::chain.eq(audit_log::chain))),
        )
        .filter(audit_log::action.eq_any(ACTIONS.map(Action::as_str)))
        .order(audit_log::id)
        .select((
            audit_log::id,
            audit_log::chain,
            audit_seals::seq.nullable(),
            audit_log::action,
            audit_log::entity_id,
            audit_log::change,
        ))
        .into_boxed();
    if let Some(p) = post {
        query = query.filter(audit_log::chain.eq(p.to_string()));
    }
    let rows: Vec<EntryRow> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, chain, seq, action, entity_id, change)| {
            let change = serde_json::from_str(&change).unwrap_or(Value::Null);
            Some((
                Action::parse(&action)?,
                Recorded { id, chain, seq, key: entity_id.unwrap_or_default(), change },
            ))
        })
        .collect())
}

/// A receipt's entry as one entry per line: the nth item records line n.
fn receipt_items(entry: &Recorded) -> Vec<Recorded> {
    let items = entry.change.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| Recorded { key: format!("{}#{}", entry.key, i + 1), change: item, ..entry.clone() })
        .collect()
}

/// A document's entries in order: the nth records its nth change of state.
fn in_series(entries: Vec<(Action, Recorded)>) -> Vec<Recorded> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    entries
        .into_iter()
        .map(|(_, e)| {
            let n = seen.entry(e.key.clone()).or_default();
            *n += 1;
            Recorded { key: format!("{}#{n}", e.key), ..e }
        })
        .collect()
}

impl Record for sealed::Receipt {
    const TABLE: &'static str = "receipts";
    const ID_KEY: &'static str = "receipt_id";
    fn row_id(&self) -> i64 {
        self.id
    }
    fn post(&self) -> &str {
        &self.post_code
    }
    fn key(&self) -> String {
        self.receipt_number.clone()
    }
    fn fields(&self) -> Fields {
        sealed::Receipt::fields(self)
    }
}

fn load_receipts(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<sealed::Receipt>> {
    let mut query = receipts::table.order(receipts::id).select(sealed::Receipt::as_select()).into_boxed();
    if let Some(p) = post {
        query = query.filter(receipts::post_code.eq(p.to_string()));
    }
    query.load(conn)
}

/// A line with its receipt's number and post.
struct Line(sealed::ReceiptLine, String, String);

impl Record for Line {
    const TABLE: &'static str = "receipt_lines";
    const ID_KEY: &'static str = "line_id";
    fn row_id(&self) -> i64 {
        self.0.id
    }
    fn post(&self) -> &str {
        &self.2
    }
    fn key(&self) -> String {
        format!("{}#{}", self.1, self.0.line_no)
    }
    fn fields(&self) -> Fields {
        self.0.fields()
    }
}

fn load_lines(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<Line>> {
    let mut query = receipt_lines::table
        .inner_join(receipts::table)
        .order(receipt_lines::id)
        .select((sealed::ReceiptLine::as_select(), receipts::receipt_number, receipts::post_code))
        .into_boxed();
    if let Some(p) = post {
        query = query.filter(receipts::post_code.eq(p.to_string()));
    }
    let rows: Vec<(sealed::ReceiptLine, String, String)> = query.load(conn)?;
    Ok(rows.into_iter().map(|(line, number, post)| Line(line, number, post)).collect())
}

impl Record for sealed::Void {
    const TABLE: &'static str = "receipt_voids";
    const ID_KEY: &'static str = "void_id";
    fn row_id(&self) -> i64 {
        self.id
    }
    fn post(&self) -> &str {
        &self.post_code
    }
    /// The voided receipt's id: a receipt is voided once, and every void entry holds it.
    fn key(&self) -> String {
        self.receipt_id.to_string()
    }
    fn fields(&self) -> Fields {
        sealed::Void::fields(self)
    }
}

fn load_voids(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<sealed::Void>> {
    let mut query =
        receipt_voids::table.order(receipt_voids::id).select(sealed::Void::as_select()).into_boxed();
    if let Some(p) = post {
        query = query.filter(receipt_voids::post_code.eq(p.to_string()));
    }
    query.load(conn)
}

impl Record for sealed::Closeout {
    const TABLE: &'static str = "closeouts";
    const ID_KEY: &'static str = "closeout_id";
    fn row_id(&self) -> i64 {
        self.id
    }
    fn post(&self) -> &str {
        &self.post_code
    }
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn fields(&self) -> Fields {
        sealed::Closeout::fields(self)
    }
}

fn load_closeouts(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<sealed::Closeout>> {
    let mut query = closeouts::table.order(closeouts::id).select(sealed::Closeout::as_select()).into_boxed();
    if let Some(p) = post {
        query = query.filter(closeouts::post_code.eq(p.to_string()));
    }
    query.load(conn)
}

/// A signature with its close's post.
struct Signed(sealed::Signature, String);

impl Record for Signed {
    const TABLE: &'static str = "closeout_signatures";
    const ID_KEY: &'static str = "closeout_id";
    fn row_id(&self) -> i64 {
        self.0.closeout_id
    }
    fn post(&self) -> &str {
        &self.1
    }
    fn key(&self) -> String {
        self.0.closeout_id.to_string()
    }
    fn fields(&self) -> Fields {
        self.0.fields()
    }
}

fn load_signatures(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<Signed>> {
    let mut query = closeout_signatures::table
        .inner_join(closeouts::table)
        .order(closeout_signatures::closeout_id)
        .select((sealed::Signature::as_select(), closeouts::post_code))
        .into_boxed();
    if let Some(p) = post {
        query = query.filter(closeouts::post_code.eq(p.to_string()));
    }
    let rows: Vec<(sealed::Signature, String)> = query.load(conn)?;
    Ok(rows.into_iter().map(|(s, post)| Signed(s, post)).collect())
}

impl Record for sealed::RegisterEntry {
    const TABLE: &'static str = "notarial_register";
    const ID_KEY: &'static str = "register_id";
    fn row_id(&self) -> i64 {
        self.id
    }
    fn post(&self) -> &str {
        &self.post_code
    }
    fn key(&self) -> String {
        self.entry_number.clone()
    }
    fn fields(&self) -> Fields {
        sealed::RegisterEntry::fields(self)
    }
}

fn load_register(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<sealed::RegisterEntry>> {
    let mut query = notarial_register::table
        .order(notarial_register::id)
        .select(sealed::RegisterEntry::as_select())
        .into_boxed();
    if let Some(p) = post {
        query = query.filter(notarial_register::post_code.eq(p.to_string()));
    }
    query.load(conn)
}

/// A document's change of state with the document's tracking number and post, and its place
/// among the document's changes (1 for the state it was recorded in).
struct Change(sealed::DocumentEvent, String, String, usize);

impl Record for Change {
    const TABLE: &'static str = "document_events";
    const ID_KEY: &'static str = "event_id";
    fn row_id(&self) -> i64 {
        self.0.id
    }
    fn post(&self) -> &str {
        &self.2
    }
    fn key(&self) -> String {
        format!("{}#{}", self.1, self.3)
    }
    fn fields(&self) -> Fields {
        self.0.fields(self.3 == 1)
    }
}

fn load_document_events(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Vec<Change>> {
    let mut query = document_events::table
        .inner_join(documents::table)
        .order(document_events::id)
        .select((sealed::DocumentEvent::as_select(), documents::tracking_number, documents::post_code))
        .into_boxed();
    if let Some(p) = post {
        query = query.filter(documents::post_code.eq(p.to_string()));
    }
    let rows: Vec<(sealed::DocumentEvent, String, String)> = query.load(conn)?;
    let mut seen: HashMap<i64, usize> = HashMap::new();
    Ok(rows
        .into_iter()
        .map(|(event, tracking, post)| {
            let n = seen.entry(event.document_id).or_default();
            *n += 1;
            let n = *n;
            Change(event, tracking, post, n)
        })
        .collect())
}
