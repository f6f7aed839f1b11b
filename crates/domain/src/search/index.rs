//! The search index: the words each visit and document is found by, written in the
//! transaction that writes the visit or document, and at start-up for rows written before the
//! index existed (idempotent: a row with any word of its own is indexed already).
//!
//! Each person's name gives a term per word (`n:lopez`) and one per pair of its words
//! (`m:lop maria`), so a full name is one range however common each of its words is.

use std::collections::BTreeSet;

use diesel::prelude::*;

use crate::booking::party::Party;
use crate::db::schema::{appointments, documents, search_terms};
use crate::db::{is_unique_violation, write_transaction, DbConn, Pool};
use crate::documents::intake::CheckedItem;
use crate::search::query::words;

/// What a term finds.
pub const VISIT: &str = "visit";
pub const DOCUMENT: &str = "document";

/// What each term is, as its first two characters.
pub const NAME: &str = "n:";
pub const PAIR: &str = "m:";
pub const PHONE: &str = "p:";
pub const LAST_FOUR: &str = "4:";
pub const REFERENCE: &str = "r:";
pub const TRACKING: &str = "t:";

/// Visits or documents indexed per transaction by the backfill.
const BACKFILL_CHUNK: i64 = 1000;
/// Rows per INSERT: four values each, within both databases' limits on bound parameters.
const ROWS_PER_INSERT: usize = 4000;

/// Letters of a pair's first word its term keeps: a search's first word then needs only these
/// many to read the pair as one range (`lop mar` finds López Martínez).
pub const PAIR_HEAD: usize = 3;

/// The term of two words of one person's name, `first` before `second` in byte order:
/// `m:lop martinez` for López and Martínez. A two-word search reads one range of these, so a
/// full name common word by word and rare together costs what a rare word does.
pub fn pair_term(first: &str, second: &str) -> String {
    let head: String = first.chars().take(PAIR_HEAD).collect();
    format!("{PAIR}{head} {second}")
}

/// Every word of one person's name, and every pair of its different words.
fn person_terms(terms: &mut BTreeSet<String>, given_names: &str, surname: &str) {
    let mut folded = words(given_names);
    folded.extend(words(surname));
    folded.sort();
    folded.dedup();
    for (i, first) in folded.iter().enumerate() {
        terms.insert(format!("{NAME}{first}"));
        for second in &folded[i + 1..] {
            terms.insert(pair_term(first, second));
        }
    }
}

/// A phone's digits whole, and its last ten (the national number in Mexico and the US) and
/// last eight (a local number), so each way of giving it finds it by prefix.
fn phone_terms(terms: &mut BTreeSet<String>, phone: &str) {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    for keep in [digits.len(), 10, 8] {
        if let Some(tail) = digits.get(digits.len().saturating_sub(keep)..).filter(|t| t.len() >= 5) {
            terms.insert(format!("{PHONE}{tail}"));
        }
    }
}

/// The terms a visit is found by: its reference, every word of its party's names, its phone.
pub fn visit_terms(reference: &str, party: &str, phone: Option<&str>) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    terms.insert(format!("{REFERENCE}{}", reference.replace('-', "").to_lowercase()));
    for person in Party::from_json(party).people() {
        person_terms(&mut terms, &person.given_names, &person.surname);
    }
    if let Some(phone) = phone {
        phone_terms(&mut terms, phone);
    }
    terms
}

/// The terms a document is found by: its tracking number, the names of its applicant or
/// signers, and the last four of every document number it records (kept masked, `****1234`).
pub fn document_terms(tracking: &str, details: &str) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    terms.insert(format!("{TRACKING}{}", tracking.replace('-', "").to_lowercase()));
    let Ok(item) = serde_json::from_str::<CheckedItem>(details) else {
        return terms;
    };
    let mut masked = Vec::new();
    if let Some(person) = &item.applicant {
        person_terms(&mut terms, &person.given_names, &person.surname);
    }
    if let Some(passport) = &item.previous_passport {
        masked.push(passport.number.masked.clone());
    }
    if let Some(number) = item.identity_document.as_ref().and_then(|i| i.number.as_ref()) {
        masked.push(number.masked.clone());
    }
    for signer in item.signers.iter().flatten() {
        person_terms(&mut terms, &signer.given_names, &signer.surname);
        if let Some(number) = &signer.id_proof.number {
            masked.push(number.masked.clone());
        }
    }
    for number in masked {
        let last: String = number.trim_start_matches('*').to_lowercase();
        if last.chars().count() == 4 {
            terms.insert(format!("{LAST_FOUR}{last}"));
        }
    }
    terms
}

type Row = (String, String, &'static str, i64);

fn insert(conn: &mut DbConn, rows: &[Row]) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(post, term, target, id)| {
                (
                    search_terms::post_code.eq(post),
                    search_terms::term.eq(term),
                    search_terms::target.eq(*target),
                    search_terms::target_id.eq(*id),
                )
            })
            .collect();
        // One statement for many rows: diesel writes it for each backend, not for both at once.
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(search_terms::table).values(values).execute(c)?,
            DbConn::Postgres(c) => diesel::insert_into(search_terms::table).values(values).execute(c)?,
        };
    }
    Ok(())
}

/// Replaces the terms of one visit or document.
fn write(
    conn: &mut DbConn,
    post: &str,
    target: &'static str,
    id: i64,
    terms: BTreeSet<String>,
) -> QueryResult<()> {
    diesel::delete(
        search_terms::table.filter(search_terms::target.eq(target)).filter(search_terms::target_id.eq(id)),
    )
    .execute(conn)?;
    let rows: Vec<Row> = terms.into_iter().map(|t| (post.to_string(), t, target, id)).collect();
    insert(conn, &rows)
}

/// Indexes the visit `reference`: call it in the transaction that writes the visit.
pub fn visit(conn: &mut DbConn, reference: &str) -> QueryResult<()> {
    let (id, post, party, phone): (i64, String, String, Option<String>) = appointments::table
        .filter(appointments::reference.eq(reference))
        .select((appointments::id, appointments::post_code, appointments::party, appointments::phone))
        .first(conn)?;
    write(conn, &post, VISIT, id, visit_terms(reference, &party, phone.as_deref()))
}

/// Indexes the document `id`: call it in the transaction that writes the document.
pub fn document(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    let (post, tracking, details): (String, String, String) = documents::table
        .find(id)
        .select((documents::post_code, documents::tracking_number, documents::details))
        .first(conn)?;
    write(conn, &post, DOCUMENT, id, document_terms(&tracking, &details))
}

/// How many visits and documents a backfill indexed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfilled {
    pub visits: usize,
    pub documents: usize,
}

/// Indexes every visit and document that has no terms yet (those written before the index
/// existed), a chunk per transaction. Safe to run again, and beside another instance doing
/// the same (a chunk the other wrote first is skipped on the next round).
pub fn backfill(conn: &mut DbConn) -> QueryResult<Backfilled> {
    let mut done = Backfilled::default();
    let mut after = 0;
    loop {
        let indexed = search_terms::table
            .filter(search_terms::target.eq(VISIT))
            .filter(search_terms::target_id.eq(appointments::id));
        let chunk: Vec<(i64, String, String, String, Option<String>)> = appointments::table
            .filter(appointments::id.gt(after))
            .filter(diesel::dsl::not(diesel::dsl::exists(indexed)))
            .order(appointments::id)
            .limit(BACKFILL_CHUNK)
            .select((
                appointments::id,
                appointments::reference,
                appointments::post_code,
                appointments::party,
                appointments::phone,
            ))
            .load(conn)?;
        let Some(last) = chunk.last().map(|c| c.0) else { break };
        let rows: Vec<Row> = chunk
            .iter()
            .flat_map(|(id, reference, post, party, phone)| {
                visit_terms(reference, party, phone.as_deref())
                    .into_iter()
                    .map(|t| (post.clone(), t, VISIT, *id))
            })
            .collect();
        match write_transaction(conn, |c| insert(c, &rows)) {
            Ok(()) => done.visits += chunk.len(),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e),
        }
        after = last;
    }
    let mut after = 0;
    loop {
        let indexed = search_terms::table
            .filter(search_terms::target.eq(DOCUMENT))
            .filter(search_terms::target_id.eq(documents::id));
        let chunk: Vec<(i64, String, String, String)> = documents::table
            .filter(documents::id.gt(after))
            .filter(diesel::dsl::not(diesel::dsl::exists(indexed)))
            .order(documents::id)
            .limit(BACKFILL_CHUNK)
            .select((documents::id, documents::tracking_number, documents::post_code, documents::details))
            .load(conn)?;
        let Some(last) = chunk.last().map(|c| c.0) else { break };
        let rows: Vec<Row> = chunk
            .iter()
            .flat_map(|(id, tracking, post, details)| {
                document_terms(tracking, details).into_iter().map(|t| (post.clone(), t, DOCUMENT, *id))
            })
            .collect();
        match write_transaction(conn, |c| insert(c, &rows)) {
            Ok(()) => done.documents += chunk.len(),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e),
        }
        after = last;
    }
    Ok(done)
}

/// Runs [`backfill`] on a thread of its own, so a large database starts serving at once
/// (searches find older rows as they are indexed).
pub fn backfill_in_background(pool: Pool) {
    let started = std::thread::Builder::new().name("search-backfill".into()).spawn(move || {
        let outcome = pool
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut c| backfill(&mut c).map_err(|e| e.to_string()));
        match outcome {
            Ok(Backfilled { visits: 0, documents: 0 }) => {}
            Ok(done) => {
                tracing::info!(visits = done.visits, documents = done.documents, "search index backfilled")
            }
            Err(error) => {
                tracing::warn!(%error, "search index backfill stopped; it resumes at the next start")
            }
        }
    });
    if let Err(error) = started {
        tracing::warn!(%error, "cannot start the search index backfill");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_is_found_by_reference_names_and_phone() {
        let party = r#"[{"given_names":"José María","surname":"Núñez López"},{"given_names":"Ana","surname":"Núñez"}]"#;
        let terms = visit_terms("K7Q-M4X-PT9", party, Some("+52 (55) 5080-2000"));
        let expected = [
            "m:ana nunez",
            "m:jos lopez",
            "m:jos maria",
            "m:jos nunez",
            "m:lop maria",
            "m:lop nunez",
            "m:mar nunez",
            "n:ana",
            "n:jose",
            "n:lopez",
            "n:maria",
            "n:nunez",
            "p:50802000",
            "p:525550802000",
            "p:5550802000",
            "r:k7qm4xpt9",
        ];
        assert_eq!(terms.iter().map(String::as_str).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn a_document_is_found_by_tracking_names_and_last_four() {
        let details = r#"{"form":"notarial","signers":[
            {"given_names":"José","surname":"Núñez","id_proof":{"kind":"national_id","number":{"masked":"****3456","hash":"ab"}}},
            {"given_names":"王","surname":"芳","id_proof":{"kind":"personally_known"}}]}"#;
        let terms = document_terms("7KQM-4XPT-9ABCD", details);
        let expected =
            ["4:3456", "m:jos nunez", "m:王 芳", "n:jose", "n:nunez", "n:王", "n:芳", "t:7kqm4xpt9abcd"];
        assert_eq!(terms.iter().map(String::as_str).collect::<Vec<_>>(), expected);
        assert_eq!(document_terms("7KQM-4XPT-9ABCD", "not json").len(), 1);
    }
}
