//! Reading the trail: pages of entries with filters, and the walk that checks every chain.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::chain::{Content, GENESIS};
use crate::audit::records;
use crate::auth::StaffMember;
use crate::db::schema::{audit_chains, audit_log, audit_pending, audit_seals};
use crate::db::{read_snapshot, DbConn};
use crate::error::AppError;

/// Which entries to read. Times are UTC; `post` limits to one post's entries.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub post: Option<String>,
    /// `applicant`, `staff`, `system` or `anonymous`, and optionally the account id.
    pub actor_kind: Option<String>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Entries with an id above this (the previous page's `next_after`).
    pub after: Option<i64>,
}

/// An entry as stored, with its seal once it has one.
#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    pub entry: Entry,
    /// `(seq, prev_hash, hash)`; none while the entry waits for its sealer.
    pub seal: Option<(i64, String, String)>,
}

/// The columns of an audit_log row, in table order.
#[derive(Debug, Clone, Queryable)]
pub struct Entry {
    pub id: i64,
    pub chain: String,
    pub recorded_at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub post: Option<String>,
    pub change: String,
}

impl Entry {
    /// What the seal at `seq` of `chain` hashes: the sealer and the check build it here alike.
    pub(crate) fn content(&self, chain: &str, seq: i64) -> Content {
        Content {
            chain: chain.to_string(),
            seq,
            entry_id: self.id,
            recorded_at: self.recorded_at,
            actor_kind: self.actor_kind.clone(),
            actor_id: self.actor_id,
            actor_role: self.actor_role.clone(),
            action: self.action.clone(),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            post: self.post.clone(),
            change: self.change.clone(),
        }
    }
}

/// Up to `limit` entries matching `filter`, oldest first.
pub fn page(conn: &mut DbConn, filter: &Filter, limit: i64) -> QueryResult<Vec<Stored>> {
    let mut query = audit_log::table
        .left_join(audit_seals::table)
        .select((
            audit_log::all_columns,
            (audit_seals::seq, audit_seals::prev_hash, audit_seals::hash).nullable(),
        ))
        .order(audit_log::id)
        .limit(limit)
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(audit_log::recorded_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::recorded_at.lt(to));
    }
    if let Some(post) = &filter.post {
        query = query.filter(audit_log::post_code.eq(post.clone()));
    }
    if let Some(kind) = &filter.actor_kind {
        query = query.filter(audit_log::actor_kind.eq(kind.clone()));
    }
    if let Some(id) = filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(entity) = &filter.entity {
        query = query.filter(audit_log::entity.eq(entity.clone()));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(entity_id.clone()));
    }
    if let Some(after) = filter.after {
        query = query.filter(audit_log::id.gt(after));
    }
    query.load(conn)
}

/// The first place at which the trail, or a record held to it, stops holding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct BadEntry {
    /// The chain: a post code, or `*` for events of no post.
    pub chain: String,
    /// The position in the chain where the walk failed; none for an entry in no chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// The entry found there; none when the chain ends before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `altered` (the hash is not of the entry's content), `broken_link` (it doesn't follow
    /// the entry before it: moved, or its predecessor changed), `missing` (entries are gone
    /// here), `unsealed` (an entry neither in a chain nor waiting for one), `stale` (waiting
    /// for its sealer for over a minute: no instance is sealing) or `rewritten` (the chain
    /// no longer has a head that was kept from an earlier check). For a money or legal record
    /// held to the sealed entry that recorded it: `record_differs` (the row no longer says
    /// what its entry says), `record_unsealed` (no entry records the row: it was written
    /// behind the triggers) or `record_missing` (the entry's row is gone); `id` and `seq` are
    /// then the entry's, when there is one.
    pub problem: String,
    /// For a record: its table (`receipts`, `receipt_lines`, `receipt_voids`, `closeouts`,
    /// `closeout_signatures`, `notarial_register`, `document_events`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// For a record: the row's id (a signature's is its close's); none when a gone row's
    /// entry doesn't hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_id: Option<i64>,
    /// For `record_differs`: the first field of the entry the row no longer matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A chain's last entry as a check saw it. Kept outside the database, it proves later that
/// the chain was not rewritten up to there, which the chain alone can't prove against someone
/// who can rewrite the whole database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Head {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// `CHAIN:SEQ:HASH`, as the command line takes it.
    pub fn parse(raw: &str) -> Option<Head> {
        let mut parts = raw.splitn(3, ':');
        let (chain, seq, hash) = (parts.next()?, parts.next()?.parse().ok()?, parts.next()?);
        let well_formed = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        (!chain.is_empty() && well_formed).then(|| Head {
            chain: chain.to_string(),
            seq,
            hash: hash.to_lowercase(),
        })
    }
}

/// How long an entry may wait for a sealer before the check calls it `stale`.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// What a walk of the chains found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// True when every chain holds from its first entry to its head, and every entry is in a
    /// chain or waiting for its sealer.
    pub ok: bool,
    /// How many chained entries were checked.
    pub entries: i64,
    /// How many money and legal records (receipts, their lines, voids, cash closes and their
    /// signatures, register entries, documents' changes of state) were held to their entries.
    pub records: i64,
    /// How many chains were walked.
    pub chains: i64,
    /// Entries written but not yet in their chain (each instance seals several times a second).
    pub pending: i64,
    /// Each chain's last entry, for chains that hold: keep them elsewhere, and pass them to a
    /// later `consular-desk audit verify --expect CHAIN:SEQ:HASH`.
    pub heads: Vec<Head>,
    /// The earliest entry (by id) at which the trail fails; when every chain holds, the
    /// earliest record that doesn't hold to its entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<BadEntry>,
}

const BATCH: i64 = 2000;

/// Walks every chain (or only `post`'s) from its start: each seal must have the next number,
/// link to the hash before it, and hash its entry's content; the last must be the chain's
/// head. Then every entry must be sealed in its own chain or queued (for less than
/// [`STALE_AFTER`]), every head kept from an earlier check (`expected`) must still be there,
/// and every money and legal record must still say what its entry says ([`records`]).
pub fn verify(
    conn: &mut DbConn,
    post: Option<&str>,
    expected: &[Head],
    now: NaiveDateTime,
) -> QueryResult<Verification> {
    // One snapshot: sealers append while the walk runs, and a head read after the walk would
    // be ahead of the seals the walk saw.
    read_snapshot(conn, |c| verify_snapshot(c, post, expected, now))
}

fn verify_snapshot(
    conn: &mut DbConn,
    post: Option<&str>,
    expected: &[Head],
    now: NaiveDateTime,
) -> QueryResult<Verification> {
    let mut chains: Vec<String> = match post {
        Some(p) => vec![p.to_string()],
        None => {
            let mut names: Vec<String> = audit_chains::table.select(audit_chains::chain).load(conn)?;
            names.extend(audit_seals::table.select(audit_seals::chain).distinct().load::<String>(conn)?);
            names
        }
    };
    chains.sort();
    chains.dedup();
    let mut entries = 0;
    let mut bad: Vec<BadEntry> = Vec::new();
    let mut heads = Vec::new();
    for chain in &chains {
        let (checked, failed) = walk(conn, chain)?;
        entries += checked;
        match failed {
            Some(failed) => bad.push(failed),
            None => heads.extend(head(conn, chain)?),
        }
    }
    // An entry counts as sealed only in its own chain: one moved into another chain's queue
    // and sealed there is loose here.
    let mut loose = audit_log::table
        .left_join(
            audit_seals::table
                .on(audit_seals::entry_id.eq(audit_log::id).and(audit_seals::chain.eq(audit_log::chain))),
        )
        .left_join(audit_pending::table)
        .filter(audit_seals::entry_id.is_null())
        .into_boxed();
    if let Some(p) = post {
        loose = loose.filter(audit_log::chain.eq(p.to_string()));
    }
    let unsealed: Vec<(i64, String, NaiveDateTime, Option<i64>)> = loose
        .select((audit_log::id, audit_log::chain, audit_log::recorded_at, audit_pending::entry_id.nullable()))
        .load(conn)?;
    let pending = unsealed.iter().filter(|(.., queued)| queued.is_some()).count() as i64;
    for (id, chain, recorded_at, queued) in &unsealed {
        let problem = match queued {
            None => "unsealed",
            Some(_) if *recorded_at < now - STALE_AFTER => "stale",
            Some(_) => continue,
        };
        bad.push(BadEntry {
            chain: chain.clone(),
            seq: None,
            id: Some(*id),
            problem: problem.into(),
            ..BadEntry::default()
        });
        break;
    }
    for kept in expected.iter().filter(|h| post.is_none_or(|p| p == h.chain)) {
        let found: Option<(String, i64)> = audit_seals::table
            .find((&kept.chain, kept.seq))
            .select((audit_seals::hash, audit_seals::entry_id))
            .first(conn)
            .optional()?;
        let problem = match &found {
            None => "missing",
            Some((hash, _)) if *hash != kept.hash => "rewritten",
            Some(_) => continue,
        };
        let id = found.map(|(_, id)| id);
        bad.push(BadEntry {
            chain: kept.chain.clone(),
            seq: Some(kept.seq),
            id,
            problem: problem.into(),
            ..BadEntry::default()
        });
    }
    // Records are held to entries the chains prove: a broken chain is named first.
    let holding = records::hold_all(conn, post)?;
    let first_bad = bad.into_iter().min_by_key(|b| b.id.unwrap_or(i64::MAX)).or(holding.first_bad);
    let chains = chains.len() as i64;
    let records = holding.records;
    Ok(Verification { ok: first_bad.is_none(), entries, records, chains, pending, heads, first_bad })
}

/// The head of a chain that holds.
fn head(conn: &mut DbConn, chain: &str) -> QueryResult<Option<Head>> {
    Ok(audit_chains::table
        .find(chain)
        .select((audit_chains::last_seq, audit_chains::last_hash))
        .first::<(i64, String)>(conn)
        .optional()?
        .filter(|(seq, _)| *seq > 0)
        .map(|(seq, hash)| Head { chain: chain.to_string(), seq, hash }))
}

type Sealed = (i64, i64, String, String, Option<Entry>);

/// Walks one chain; returns how many seals it checked and where it failed.
fn walk(conn: &mut DbConn, chain: &str) -> QueryResult<(i64, Option<BadEntry>)> {
    let mut expected = 1_i64;
    let mut prev_hash = GENESIS.to_string();
    let mut checked = 0;
    let bad = |seq: i64, id: Option<i64>, problem: &str| BadEntry {
        chain: chain.to_string(),
        seq: Some(seq),
        id,
        problem: problem.to_string(),
        ..BadEntry::default()
    };
    loop {
        let batch: Vec<Sealed> = audit_seals::table
            .left_join(audit_log::table)
            .filter(audit_seals::chain.eq(chain))
            .filter(audit_seals::seq.ge(expected))
            .order(audit_seals::seq)
            .limit(BATCH)
            .select((
                audit_seals::seq,
                audit_seals::entry_id,
                audit_seals::prev_hash,
                audit_seals::hash,
                audit_log::all_columns.nullable(),
            ))
            .load(conn)?;
        let done = (batch.len() as i64) < BATCH;
        for (seq, entry_id, seal_prev, seal_hash, entry) in batch {
            checked += 1;
            if seq != expected {
                return Ok((checked, Some(bad(expected, Some(entry_id), "missing"))));
            }
            let Some(entry) = entry else {
                return Ok((checked, Some(bad(seq, Some(entry_id), "missing"))));
            };
            if seal_prev != prev_hash {
                return Ok((checked, Some(bad(seq, Some(entry_id), "broken_link"))));
            }
            if entry.chain != chain || entry.content(chain, seq).hash(&prev_hash) != seal_hash {
                return Ok((checked, Some(bad(seq, Some(entry_id), "altered"))));
            }
            prev_hash = seal_hash;
            expected += 1;
        }
        if done {
            break;
        }
    }
    // Seals cut from the end leave the head ahead of the chain.
    let head: Option<(i64, String)> = audit_chains::table
        .find(chain)
        .select((audit_chains::last_seq, audit_chains::last_hash))
        .first(conn)
        .optional()?;
    let (last_seq, last_hash) = head.unwrap_or((0, GENESIS.to_string()));
    if last_seq != expected - 1 || last_hash != prev_hash {
        return Ok((checked, Some(bad(expected, None, "missing"))));
    }
    Ok((checked, None))
}

/// A page of entries for `reader`: a member bound to a post reads that post's entries only
/// (403 `wrong_post` for another post); events of no post are for unbound readers.
pub fn page_for(
    conn: &mut DbConn,
    reader: &StaffMember,
    mut filter: Filter,
    limit: i64,
) -> Result<Vec<Stored>, AppError> {
    if let Some(post) = &filter.post {
        reader.ensure_post(post)?;
    }
    if reader.post.is_some() {
        filter.post = reader.post.clone();
    }
    Ok(page(conn, &filter, limit)?)
}

/// [`verify`] for `reader`: a member bound to a post checks that post's chain.
pub fn verify_for(
    conn: &mut DbConn,
    reader: &StaffMember,
    post: Option<&str>,
    now: NaiveDateTime,
) -> Result<Verification, AppError> {
    if let Some(post) = post {
        reader.ensure_post(post)?;
    }
    Ok(verify(conn, post.or(reader.post.as_deref()), &[], now)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_heads_parse() {
        let hash = "ab".repeat(32);
        assert_eq!(
            Head::parse(&format!("MEX:12:{hash}")),
            Some(Head { chain: "MEX".into(), seq: 12, hash: hash.clone() })
        );
        assert_eq!(Head::parse(&format!("*:1:{}", hash.to_uppercase())).map(|h| h.hash), Some(hash.clone()));
        for bad in ["MEX:12", "MEX:x:ab", &format!(":1:{hash}"), &format!("MEX:1:{}", &hash[..63])] {
            assert_eq!(Head::parse(bad), None, "{bad}");
        }
    }
}
