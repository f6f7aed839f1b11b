//! Finding anything from one box, for staff, within the posts they may see: a visit by its
//! reference (typed or scanned from the confirmation's QR code), a receipt or a notarial
//! register entry by its number, a document by its tracking number or the last four of a
//! document number it records, and visits and documents by the words of a name (a prefix of
//! each, accents and case aside) or a phone number.
//!
//! - [`query`]: what the typed text can mean, pure.
//! - [`index`]: the `search_terms` index, written beside each visit and document, and its
//!   start-up backfill.
//!
//! Numbers are looked up on their own tables' unique indexes; words, phones and last fours
//! in one range of the index per post (`term >= 'n:lop' AND term < 'n:loq'`), so a search
//! reads about as many index entries as it shows, however many visits the post holds.

pub mod index;
pub mod query;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Actor;
use crate::booking::party::Party;
use crate::calendar;
use crate::db::schema::{
    appointments, documents, notarial_register, posts, receipt_voids, receipts, search_terms,
};
use crate::db::DbConn;
use crate::documents::intake::{CheckedItem, RecordedSigner};
use crate::error::{AppError, Code};
pub use query::{parse, Query, QueryError, MAX_QUERY_CHARS};

/// Results a search shows at most; a longer list says so and asks for more of the name.
pub const LIMIT: usize = 50;

/// What a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A booked appointment or a walk-in.
    Visit,
    Receipt,
    RegisterEntry,
    /// A tracked application or notarial job.
    Document,
}

/// How the text found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    Reference,
    TrackingNumber,
    ReceiptNumber,
    EntryNumber,
    Name,
    Phone,
    LastFour,
}

/// One thing found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResult {
    pub kind: Kind,
    /// Its reference or number: `K7Q-M4X-PT9`, `MEX-2027-000123`, `7KQM-4XPT-9ABCD`.
    pub id: String,
    /// What a list shows: the number and the person's name.
    pub label: String,
    /// The staff page that shows it.
    pub href: String,
    /// The person (or people) it is about.
    pub name: String,
    pub post: String,
    /// Its time (the visit's start, the receipt's issue, the entry's or document's recording),
    /// RFC 3339 with the post's offset.
    pub at: String,
    /// Its state: a visit's (`booked`, `checked_in`, …), a document's (`received`, …), a
    /// receipt's (`issued` or `voided`), an entry's (`recorded` or `corrected`).
    pub status: String,
    pub matched: Matched,
}

/// What a search found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    /// The text searched, cleaned of invisible characters.
    pub query: String,
    /// The posts searched.
    pub posts: Vec<String>,
    /// At most [`LIMIT`]: numbers first, then names, phones and last fours, in order of the
    /// word matched and newest first.
    pub results: Vec<SearchResult>,
    /// More matched than are shown: type more of the name.
    pub truncated: bool,
}

/// The posts `actor` searches: their own; for staff bound to none, `asked` (404 if no such
/// post) or every post. A bound member asking for another post is refused (403 `wrong_post`).
pub fn scope(conn: &mut DbConn, actor: &Actor, asked: Option<&str>) -> Result<Vec<String>, AppError> {
    let member = actor.staff()?;
    let asked = asked.map(crate::reference::normalise_post).filter(|p| !p.is_empty());
    match (&member.post, asked) {
        (Some(own), None) => Ok(vec![own.clone()]),
        (Some(_), Some(post)) => {
            member.ensure_post(&post)?;
            Ok(vec![post])
        }
        (None, Some(post)) => {
            calendar::post_zone(conn, &post)?;
            Ok(vec![post])
        }
        (None, None) => Ok(posts::table.order(posts::code).select(posts::code).load(conn)?),
    }
}

/// The refusal of a text that can't be searched, as the API says it.
pub fn refusal(error: QueryError) -> AppError {
    let detail = match error {
        QueryError::Empty => "type a name, a reference or a number to search for".to_string(),
        QueryError::TooLong => format!("a search is at most {MAX_QUERY_CHARS} characters"),
    };
    AppError::new(Code::InvalidQuery, detail)
}

/// Searches `posts` for `query`: numbers first, then words. `posts` come from [`scope`].
pub fn search(conn: &mut DbConn, posts: &[String], query: &Query) -> Result<SearchResults, AppError> {
    let zones = zones(conn, posts)?;
    let mut found = Vec::new();
    if let Some(reference) = &query.reference {
        let ids: Vec<i64> = appointments::table
            .filter(appointments::reference.eq(reference.as_str()))
            .filter(appointments::post_code.eq_any(posts))
            .select(appointments::id)
            .load(conn)?;
        found.extend(visits_by_id(conn, &ids, &zones, Matched::Reference)?.into_values());
    }
    if let Some(tracking) = &query.tracking {
        let ids: Vec<i64> = documents::table
            .filter(documents::tracking_number.eq(tracking.as_str()))
            .filter(documents::post_code.eq_any(posts))
            .select(documents::id)
            .load(conn)?;
        found.extend(documents_by_id(conn, &ids, &zones, Matched::TrackingNumber)?.into_values());
    }
    if let Some(number) = &query.number {
        found.extend(receipt(conn, number, posts, &zones)?);
        found.extend(entry(conn, number, posts, &zones)?);
    }
    let mut searches: Vec<(Matched, Plan)> = Vec::new();
    if let Some(last) = &query.last_four {
        searches.push((Matched::LastFour, Plan::Words(vec![format!("{}{last}", index::LAST_FOUR)])));
    }
    if let Some(digits) = &query.phone {
        searches.push((Matched::Phone, Plan::Words(vec![format!("{}{digits}", index::PHONE)])));
    }
    if !query.words.is_empty() {
        searches.push((Matched::Name, Plan::for_words(&query.words)));
    }
    let mut truncated = false;
    for (matched, plan) in searches {
        let (targets, more) = terms(conn, posts, &plan, LIMIT + 1 - found.len().min(LIMIT))?;
        truncated |= more;
        let ids_of = |wanted: &str| -> Vec<i64> {
            targets.iter().filter(|(t, _)| t == wanted).map(|(_, id)| *id).collect()
        };
        let (visit_ids, document_ids) = (ids_of(index::VISIT), ids_of(index::DOCUMENT));
        let mut visits = visits_by_id(conn, &visit_ids, &zones, matched)?;
        let mut documents = documents_by_id(conn, &document_ids, &zones, matched)?;
        for (target, id) in targets {
            found.extend(match target.as_str() {
                index::VISIT => visits.remove(&id),
                _ => documents.remove(&id),
            });
        }
    }
    let mut seen = HashSet::new();
    found.retain(|r| seen.insert((r.kind, r.id.clone())));
    truncated |= found.len() > LIMIT;
    found.truncate(LIMIT);
    Ok(SearchResults { query: query.text.clone(), posts: posts.to_vec(), results: found, truncated })
}

fn zones(conn: &mut DbConn, wanted: &[String]) -> Result<HashMap<String, Tz>, AppError> {
    let rows: Vec<(String, String)> =
        posts::table.filter(posts::code.eq_any(wanted)).select((posts::code, posts::timezone)).load(conn)?;
    Ok(rows.into_iter().map(|(code, zone)| (code, zone.parse().unwrap_or(chrono_tz::UTC))).collect())
}

fn local(zones: &HashMap<String, Tz>, post: &str, at: NaiveDateTime) -> String {
    calendar::rfc3339(at, zones.get(post).copied().unwrap_or(chrono_tz::UTC))
}

/// How the index is read for one kind of search: one range of terms drives, and the other
/// prefixes are checked on each target it finds.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// The range of a pair term, then the prefixes to check.
    Pair(String, Vec<String>),
    /// Prefixes, each a range: the one with fewest matches at the post drives.
    Words(Vec<String>),
}

impl Plan {
    /// The plan for the words of a name (longest first, as [`query::parse`] orders them).
    /// Two or more words are read as the pair of the two longest when that range holds every
    /// match: the first in byte order has at least [`index::PAIR_HEAD`] letters and doesn't
    /// begin the other, so every pair of words they begin sorts as they do. The first is then
    /// checked whole (the pair keeps its head), and any other word as a word of the party.
    fn for_words(words: &[String]) -> Plan {
        let prefixed = |w: &String| format!("{}{w}", index::NAME);
        let [a, b, rest @ ..] = words else {
            return Plan::Words(words.iter().map(prefixed).collect());
        };
        let (first, second) = if a < b { (a, b) } else { (b, a) };
        if first.chars().count() < index::PAIR_HEAD || second.starts_with(first.as_str()) {
            return Plan::Words(words.iter().map(prefixed).collect());
        }
        let mut checks: Vec<String> = rest.iter().map(prefixed).collect();
        if first.chars().count() > index::PAIR_HEAD {
            checks.insert(0, prefixed(first));
        }
        Plan::Pair(index::pair_term(first, second), checks)
    }
}

/// The visits or documents found by `plan`, per post, in index order; at most `limit` of
/// them, and whether there were more.
fn terms(
    conn: &mut DbConn,
    posts: &[String],
    plan: &Plan,
    limit: usize,
) -> Result<(Vec<(String, i64)>, bool), AppError> {
    let other = diesel::alias!(search_terms as other);
    let mut targets = Vec::new();
    let mut seen = HashSet::new();
    let mut more = false;
    for post in posts {
        let ordered = match plan {
            Plan::Pair(pair, checks) => [std::slice::from_ref(pair), checks].concat(),
            Plan::Words(prefixes) => most_selective_first(conn, post, prefixes)?,
        };
        let Some((first, others)) = ordered.split_first() else {
            continue;
        };
        let mut q = search_terms::table
            .filter(search_terms::post_code.eq(post))
            .filter(search_terms::term.ge(first))
            .filter(search_terms::term.lt(query::prefix_end(first)))
            .select((search_terms::target, search_terms::target_id))
            .order((search_terms::term, search_terms::target, search_terms::target_id.desc()))
            .into_boxed();
        for prefix in others {
            q = q.filter(diesel::dsl::exists(
                other
                    .filter(other.field(search_terms::target).eq(search_terms::target))
                    .filter(other.field(search_terms::target_id).eq(search_terms::target_id))
                    .filter(other.field(search_terms::post_code).eq(post))
                    .filter(other.field(search_terms::term).ge(prefix))
                    .filter(other.field(search_terms::term).lt(query::prefix_end(prefix))),
            ));
        }
        // A target matching the first prefix twice (`lop`: López and Lopera) comes twice;
        // reading a little more keeps `limit` distinct ones.
        let rows: Vec<(String, i64)> = q.limit(2 * limit as i64 + 2).load(conn)?;
        let read = rows.len();
        let before = targets.len();
        for row in rows {
            if seen.insert(row.clone()) {
                targets.push(row);
            }
        }
        more |= read == 2 * limit + 2 && targets.len() - before >= limit;
    }
    more |= targets.len() > limit;
    targets.truncate(limit);
    Ok((targets, more))
}

/// Index entries counted at most, to choose which word of several drives a search.
const SELECTIVITY_CAP: i64 = 2000;

/// `prefixes` with the one of fewest matches at `post` first (counted up to a cap): a word
/// common alone but rare beside the others (`lopez wang`) is then checked only where the rare
/// one is, and a word that matches nothing ends the search at once.
fn most_selective_first(conn: &mut DbConn, post: &str, prefixes: &[String]) -> Result<Vec<String>, AppError> {
    if prefixes.len() < 2 {
        return Ok(prefixes.to_vec());
    }
    let mut counted = Vec::new();
    for prefix in prefixes {
        let hits: Vec<i64> = search_terms::table
            .filter(search_terms::post_code.eq(post))
            .filter(search_terms::term.ge(prefix))
            .filter(search_terms::term.lt(query::prefix_end(prefix)))
            .select(search_terms::target_id)
            .limit(SELECTIVITY_CAP)
            .load(conn)?;
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        counted.push((hits.len(), prefix.clone()));
    }
    counted.sort_by_key(|(n, _)| *n);
    Ok(counted.into_iter().map(|(_, p)| p).collect())
}

fn names(people: &[crate::booking::party::PersonInput]) -> String {
    people.iter().map(|p| format!("{} {}", p.given_names, p.surname)).collect::<Vec<_>>().join(", ")
}

fn signer_names(signers: &str) -> String {
    let signers: Vec<RecordedSigner> = serde_json::from_str(signers).unwrap_or_default();
    signers.iter().map(|s| format!("{} {}", s.given_names, s.surname)).collect::<Vec<_>>().join(", ")
}

/// The visits `ids` as results.
fn visits_by_id(
    conn: &mut DbConn,
    ids: &[i64],
    zones: &HashMap<String, Tz>,
    matched: Matched,
) -> Result<HashMap<i64, SearchResult>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String, String, NaiveDateTime, String)> = appointments::table
        .filter(appointments::id.eq_any(ids))
        .select((
            appointments::id,
            appointments::reference,
            appointments::post_code,
            appointments::party,
            appointments::starts_at,
            appointments::status,
        ))
        .load(conn)?;
    let by_id: HashMap<i64, SearchResult> = rows
        .into_iter()
        .map(|(id, reference, post, party, starts_at, status)| {
            let name = names(Party::from_json(&party).people());
            let result = SearchResult {
                kind: Kind::Visit,
                label: format!("{reference} · {name}"),
                href: format!("/staff/visits/{reference}"),
                id: reference,
                name,
                at: local(zones, &post, starts_at),
                post,
                status,
                matched,
            };
            (id, result)
        })
        .collect();
    Ok(by_id)
}

/// The documents `ids` as results.
fn documents_by_id(
    conn: &mut DbConn,
    ids: &[i64],
    zones: &HashMap<String, Tz>,
    matched: Matched,
) -> Result<HashMap<i64, SearchResult>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String, String, NaiveDateTime, String)> = documents::table
        .filter(documents::id.eq_any(ids))
        .select((
            documents::id,
            documents::tracking_number,
            documents::post_code,
            documents::details,
            documents::recorded_at,
            documents::status,
        ))
        .load(conn)?;
    let by_id: HashMap<i64, SearchResult> = rows
        .into_iter()
        .map(|(id, tracking, post, details, recorded_at, status)| {
            let name =
                serde_json::from_str::<CheckedItem>(&details).map(|i| i.person_name()).unwrap_or_default();
            let result = SearchResult {
                kind: Kind::Document,
                label: format!("{tracking} · {name}"),
                href: format!("/staff/documents/{tracking}"),
                id: tracking,
                name,
                at: local(zones, &post, recorded_at),
                post,
                status,
                matched,
            };
            (id, result)
        })
        .collect();
    Ok(by_id)
}

fn receipt(
    conn: &mut DbConn,
    number: &str,
    posts: &[String],
    zones: &HashMap<String, Tz>,
) -> Result<Option<SearchResult>, AppError> {
    let row: Option<(i64, String, NaiveDateTime, String, String)> = receipts::table
        .inner_join(appointments::table.on(appointments::id.eq(receipts::appointment_id)))
        .filter(receipts::receipt_number.eq(number))
        .filter(receipts::post_code.eq_any(posts))
        .select((
            receipts::id,
            receipts::post_code,
            receipts::issued_at,
            appointments::party,
            receipts::payer,
        ))
        .first(conn)
        .optional()?;
    let Some((id, post, issued_at, party, payer)) = row else { return Ok(None) };
    let voided: i64 =
        receipt_voids::table.filter(receipt_voids::receipt_id.eq(id)).count().get_result(conn)?;
    let people = names(Party::from_json(&party).people());
    let name = if people.is_empty() { payer } else { people };
    Ok(Some(SearchResult {
        kind: Kind::Receipt,
        id: number.to_string(),
        label: format!("{number} · {name}"),
        href: format!("/staff/receipts/{number}"),
        name,
        at: local(zones, &post, issued_at),
        post,
        status: if voided > 0 { "voided" } else { "issued" }.to_string(),
        matched: Matched::ReceiptNumber,
    }))
}

fn entry(
    conn: &mut DbConn,
    number: &str,
    posts: &[String],
    zones: &HashMap<String, Tz>,
) -> Result<Option<SearchResult>, AppError> {
    let row: Option<(i64, String, NaiveDateTime, String)> = notarial_register::table
        .filter(notarial_register::entry_number.eq(number))
        .filter(notarial_register::post_code.eq_any(posts))
        .select((
            notarial_register::id,
            notarial_register::post_code,
            notarial_register::recorded_at,
            notarial_register::signers,
        ))
        .first(conn)
        .optional()?;
    let Some((id, post, recorded_at, signers)) = row else { return Ok(None) };
    let corrected: i64 =
        notarial_register::table.filter(notarial_register::corrects.eq(id)).count().get_result(conn)?;
    let tz = zones.get(&post).copied().unwrap_or(chrono_tz::UTC);
    let day = calendar::local_date(recorded_at, tz);
    let name = signer_names(&signers);
    Ok(Some(SearchResult {
        kind: Kind::RegisterEntry,
        id: number.to_string(),
        label: format!("{number} · {name}"),
        // The register page of the entry's day, at its row.
        href: format!("/staff/register?post={post}&from={day}&to={day}#{number}"),
        name,
        at: calendar::rfc3339(recorded_at, tz),
        post,
        status: if corrected > 0 { "corrected" } else { "recorded" }.to_string(),
        matched: Matched::EntryNumber,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Plan {
        Plan::for_words(&parse(text).expect("query").words)
    }

    #[test]
    fn two_words_are_read_as_one_pair_range() {
        assert_eq!(plan("maría lópez"), Plan::Pair("m:lop maria".into(), vec!["n:lopez".into()]));
        assert_eq!(plan("lop mar"), Plan::Pair("m:lop mar".into(), vec![]));
        assert_eq!(
            plan("ana lopez martinez"),
            Plan::Pair("m:lop martinez".into(), vec!["n:lopez".into(), "n:ana".into()])
        );
    }

    #[test]
    fn pairs_that_could_miss_a_name_fall_back_to_words() {
        // One word: its own range.
        assert_eq!(plan("lopez"), Plan::Words(vec!["n:lopez".into()]));
        // `li` heads no pair term of Lin or Lima.
        assert_eq!(plan("li wang"), Plan::Words(vec!["n:wang".into(), "n:li".into()]));
        // `mar` begins María and Mariana, which sort before or after `maria`'s other words.
        assert_eq!(plan("mar maria"), Plan::Words(vec!["n:maria".into(), "n:mar".into()]));
    }
}
