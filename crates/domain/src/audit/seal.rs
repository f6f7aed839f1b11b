//! The sealer: appends queued entries to their chains, in batches, outside the writers'
//! transactions. Every instance runs one on a short timer; running several at once is safe,
//! because a batch is appended while its chain's head row is locked.

use std::time::Duration;

use diesel::prelude::*;

use crate::audit::chain::GENESIS;
use crate::audit::read::Entry;
use crate::db::schema::{audit_chains, audit_log, audit_pending, audit_seals};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn, Pool};

/// Entries sealed per transaction at most.
const BATCH: i64 = 500;

/// How often each instance's sealer looks for queued entries: an entry is in its chain well
/// within a second of its change.
pub const SEAL_EVERY: Duration = Duration::from_millis(100);

/// Seals every queued entry, chain by chain. A chain that fails doesn't hold up the others:
/// its error is returned once every chain has had its turn. Returns how many it sealed.
pub fn seal_pending(conn: &mut DbConn) -> anyhow::Result<usize> {
    let chains: Vec<String> = audit_pending::table.select(audit_pending::chain).distinct().load(conn)?;
    let mut sealed = 0;
    let mut failed = Vec::new();
    for chain in chains {
        loop {
            match seal_batch(conn, &chain) {
                Ok(n) => {
                    sealed += n;
                    if (n as i64) < BATCH {
                        break;
                    }
                }
                Err(e) => {
                    failed.push(format!("chain {chain}: {e}"));
                    break;
                }
            }
        }
    }
    match failed.is_empty() {
        true => Ok(sealed),
        false => Err(anyhow::anyhow!("sealed {sealed}, but {}", failed.join("; "))),
    }
}

/// Appends up to [`BATCH`] queued entries of `chain`, oldest first, in one transaction.
fn seal_batch(conn: &mut DbConn, chain: &str) -> QueryResult<usize> {
    write_transaction(conn, |c| {
        let (mut seq, mut prev_hash) = lock_head(c, chain)?;
        let queued: Vec<Entry> = audit_pending::table
            .inner_join(audit_log::table)
            .filter(audit_pending::chain.eq(chain))
            .order(audit_pending::entry_id)
            .limit(BATCH)
            .select(audit_log::all_columns)
            .load(c)?;
        if queued.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(queued.len());
        for entry in queued {
            seq += 1;
            let (entry_id, content) = (entry.id, entry.content(chain, seq));
            let hash = content.hash(&prev_hash);
            diesel::insert_into(audit_seals::table)
                .values((
                    audit_seals::chain.eq(chain),
                    audit_seals::seq.eq(seq),
                    audit_seals::entry_id.eq(entry_id),
                    audit_seals::prev_hash.eq(&prev_hash),
                    audit_seals::hash.eq(&hash),
                ))
                .execute(c)?;
            prev_hash = hash;
            ids.push(entry_id);
        }
        diesel::delete(audit_pending::table.filter(audit_pending::entry_id.eq_any(&ids))).execute(c)?;
        diesel::update(audit_chains::table.find(chain))
            .set((audit_chains::last_seq.eq(seq), audit_chains::last_hash.eq(&prev_hash)))
            .execute(c)?;
        Ok(ids.len())
    })
}

/// Locks `chain`'s head until the transaction ends and returns its last number and hash;
/// a chain's first sealer creates the head (recoverably: two first sealers race on the
/// primary key, and the loser locks the winner's row).
fn lock_head(conn: &mut DbConn, chain: &str) -> QueryResult<(i64, String)> {
    for _ in 0..3 {
        let head = diesel::update(audit_chains::table.find(chain))
            .set(audit_chains::last_seq.eq(audit_chains::last_seq))
            .returning((audit_chains::last_seq, audit_chains::last_hash))
            .get_result::<(i64, String)>(conn)
            .optional()?;
        if let Some(head) = head {
            return Ok(head);
        }
        let created = recoverable(conn, |c| {
            diesel::insert_into(audit_chains::table)
                .values((
                    audit_chains::chain.eq(chain),
                    audit_chains::last_seq.eq(0_i64),
                    audit_chains::last_hash.eq(GENESIS),
                ))
                .execute(c)
        });
        match created {
            Ok(_) => return Ok((0, GENESIS.to_string())),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(diesel::result::Error::NotFound)
}

/// Runs [`seal_pending`] every [`SEAL_EVERY`] until the process ends. A failure is logged
/// when it starts and when it ends, not ten times a second while the database is away.
pub async fn run_forever(pool: Pool) {
    let mut failing = false;
    loop {
        tokio::time::sleep(SEAL_EVERY).await;
        let pool = pool.clone();
        let outcome = crate::blocking::run(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            seal_pending(&mut conn)
        })
        .await
        .map_err(|e| anyhow::anyhow!("the sealer panicked: {e}"))
        .and_then(|sealed| sealed);
        match outcome {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("sealing audit entries works again");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %format!("{e:#}"), "sealing audit entries failed; retrying every 100 ms");
            }
            Err(e) => tracing::debug!(error = %format!("{e:#}"), "sealing audit entries still fails"),
        }
    }
}
