//! Reading the trail: pages of entries with filters, and the walk that checks every chain.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::chain::{Content, GENESIS};
use crate::audit::counter_scope;
use crate::auth::StaffMember;
use crate::counters;
use crate::db::schema::{audit_log, counters as counters_t};
use crate::db::DbConn;
use crate::error::AppError;

/// Which entries to read. Times are UTC; `post` limits to one post's chain.
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

/// One stored entry.
#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    pub id: i64,
    pub content: StoredContent,
    pub prev_hash: String,
    pub hash: String,
}

/// The stored columns of [`Content`], in table order.
pub type StoredContent = (
    String,
    i64,
    NaiveDateTime,
    String,
    Option<i64>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

impl Stored {
    pub fn content(&self) -> Content {
        let (
            chain,
            seq,
            recorded_at,
            actor_kind,
            actor_id,
            actor_role,
            action,
            entity,
            entity_id,
            post,
            change,
        ) = self.content.clone();
        Content {
            chain,
            seq,
            recorded_at,
            actor_kind,
            actor_id,
            actor_role,
            action,
            entity,
            entity_id,
            post,
            change,
        }
    }
}

macro_rules! stored_columns {
    () => {
        (
            audit_log::id,
            (
                audit_log::chain,
                audit_log::seq,
                audit_log::recorded_at,
                audit_log::actor_kind,
                audit_log::actor_id,
                audit_log::actor_role,
                audit_log::action,
                audit_log::entity,
                audit_log::entity_id,
                audit_log::post_code,
                audit_log::change,
            ),
            audit_log::prev_hash,
            audit_log::hash,
        )
    };
}

/// Up to `limit` entries matching `filter`, oldest first.
pub fn page(conn: &mut DbConn, filter: &Filter, limit: i64) -> QueryResult<Vec<Stored>> {
    let mut query = audit_log::table.select(stored_columns!()).order(audit_log::id).limit(limit).into_boxed();
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

/// The first entry at which a chain stops holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BadEntry {
    /// The chain: a post code, or `*` for events of no post.
    pub chain: String,
    /// The position in the chain where the walk failed.
    pub seq: i64,
    /// The entry found at that position; none when the chain ends before it.
    pub id: Option<i64>,
    /// `altered` (its hash is not of its content), `broken_link` (it doesn't follow the entry
    /// before it: moved, or its predecessor changed) or `missing` (entries are gone here).
    pub problem: String,
}

/// What a walk of the chains found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// True when every chain holds from its first entry to its counter's last number.
    pub ok: bool,
    /// How many entries were checked.
    pub entries: i64,
    /// How many chains were walked.
    pub chains: i64,
    /// The earliest entry (by id) at which a chain fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<BadEntry>,
}

const BATCH: i64 = 2000;

/// Walks every chain (or only `post`'s) from its start: each entry must have the next number,
/// link to the hash before it, and hash to what it holds; the last must be the counter's last.
pub fn verify(conn: &mut DbConn, post: Option<&str>) -> QueryResult<Verification> {
    let mut chains: Vec<String> = match post {
        Some(p) => vec![p.to_string()],
        None => {
            // From the counters too: a chain whose every entry was deleted still has its counter.
            let mut names: Vec<String> = audit_log::table.select(audit_log::chain).distinct().load(conn)?;
            let scopes: Vec<String> = counters_t::table
                .filter(counters_t::scope.like("audit:%"))
                .select(counters_t::scope)
                .load(conn)?;
            names.extend(scopes.into_iter().filter_map(|s| s.strip_prefix("audit:").map(str::to_string)));
            names
        }
    };
    chains.sort();
    chains.dedup();
    let mut entries = 0;
    let mut first_bad: Option<BadEntry> = None;
    for chain in &chains {
        let (checked, bad) = walk(conn, chain)?;
        entries += checked;
        if let Some(bad) = bad {
            let earlier = match &first_bad {
                None => true,
                Some(current) => bad.id.unwrap_or(i64::MAX) < current.id.unwrap_or(i64::MAX),
            };
            if earlier {
                first_bad = Some(bad);
            }
        }
    }
    Ok(Verification { ok: first_bad.is_none(), entries, chains: chains.len() as i64, first_bad })
}

/// Walks one chain; returns how many entries it checked and where it failed.
fn walk(conn: &mut DbConn, chain: &str) -> QueryResult<(i64, Option<BadEntry>)> {
    let mut expected = 1_i64;
    let mut prev_hash = GENESIS.to_string();
    let mut checked = 0;
    let bad = |seq: i64, id: Option<i64>, problem: &str| BadEntry {
        chain: chain.to_string(),
        seq,
        id,
        problem: problem.to_string(),
    };
    loop {
        let batch: Vec<Stored> = audit_log::table
            .filter(audit_log::chain.eq(chain))
            .filter(audit_log::seq.ge(expected))
            .order(audit_log::seq)
            .limit(BATCH)
            .select(stored_columns!())
            .load(conn)?;
        let done = (batch.len() as i64) < BATCH;
        for entry in batch {
            checked += 1;
            let content = entry.content();
            if content.seq != expected {
                return Ok((checked, Some(bad(expected, Some(entry.id), "missing"))));
            }
            if entry.prev_hash != prev_hash {
                return Ok((checked, Some(bad(expected, Some(entry.id), "broken_link"))));
            }
            if content.hash(&prev_hash) != entry.hash {
                return Ok((checked, Some(bad(expected, Some(entry.id), "altered"))));
            }
            prev_hash = entry.hash;
            expected += 1;
        }
        if done {
            break;
        }
    }
    // Entries cut from the end leave the counter ahead of the chain.
    let last = counters::last(conn, &counter_scope(chain))?.unwrap_or(0);
    if last != expected - 1 {
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
) -> Result<Verification, AppError> {
    if let Some(post) = post {
        reader.ensure_post(post)?;
    }
    Ok(verify(conn, post.or(reader.post.as_deref()))?)
}
