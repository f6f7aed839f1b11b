//! Scheduled backups (`CONSULAR_DESK_BACKUP_DIR`, `_EVERY_HOURS`, `_KEEP`), run from every
//! instance's maintenance timer and taken by one of them a period: the one whose conditional
//! update of the one-row `backup_schedule` changed it. The others, on the same database, see
//! no row changed and do nothing.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{postgres, sqlite_file, stamp, Written};
use crate::config::{BackupSettings, DatabaseUrl};
use crate::db::schema::backup_schedule;
use crate::db::DbConn;

/// Our files' names: `consular-desk-<UTC moment>.db` (SQLite) or `.dump` (pg_dump).
const PREFIX: &str = "consular-desk-";

/// Claims the backup of the period ending `now` for this instance: true when nobody has
/// started one within `every`.
pub fn claim(conn: &mut DbConn, every: chrono::Duration, now: NaiveDateTime) -> QueryResult<bool> {
    let due = backup_schedule::last_started_at.is_null().or(backup_schedule::last_started_at.le(now - every));
    let changed = diesel::update(backup_schedule::table.filter(backup_schedule::id.eq(1)).filter(due))
        .set(backup_schedule::last_started_at.eq(now))
        .execute(conn)?;
    Ok(changed == 1)
}

/// The file a backup taken at `now` goes to.
pub fn file_for(dir: &Path, url: &DatabaseUrl, now: NaiveDateTime) -> PathBuf {
    let extension = match url {
        DatabaseUrl::Sqlite(_) => "db",
        DatabaseUrl::Postgres(_) => "dump",
    };
    dir.join(format!("{PREFIX}{}.{extension}", stamp(now)))
}

/// Takes the period's backup when this instance wins the claim; `None` when another has it
/// (or took it within the period). Blocking: run it off the async workers.
pub fn run_if_due(
    conn: &mut DbConn,
    url: &DatabaseUrl,
    settings: &BackupSettings,
    now: NaiveDateTime,
) -> anyhow::Result<Option<Written>> {
    let Some(dir) = &settings.dir else {
        return Ok(None);
    };
    if !claim(conn, settings.every, now)? {
        return Ok(None);
    }
    create_private_dir(dir)?;
    let out = file_for(dir, url, now);
    let written = match url {
        DatabaseUrl::Sqlite(path) => super::sqlite(sqlite_file(path), &out)?,
        DatabaseUrl::Postgres(url) => postgres::dump(url, &out)?,
    };
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned());
    diesel::update(backup_schedule::table.find(1)).set(backup_schedule::last_file.eq(name)).execute(conn)?;
    let dropped = prune(dir, settings.keep)?;
    if dropped > 0 {
        tracing::info!(dropped, keep = settings.keep, "older backups deleted");
    }
    Ok(Some(written))
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("cannot create the backup directory {}", dir.display()))
}

/// Whether `name` is one of our scheduled backups: other files in the directory are never
/// touched.
pub fn is_ours(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return false;
    };
    let moment = rest.strip_suffix(".db").or_else(|| rest.strip_suffix(".dump"));
    moment.is_some_and(|m| NaiveDateTime::parse_from_str(m, "%Y%m%dT%H%M%SZ").is_ok())
}

/// Deletes our backups in `dir` but the newest `keep` (names sort by their moment); returns how
/// many went.
pub fn prune(dir: &Path, keep: u32) -> anyhow::Result<usize> {
    let mut ours: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| is_ours(n))
        .collect();
    ours.sort();
    let excess = ours.len().saturating_sub(keep as usize);
    for name in &ours[..excess] {
        std::fs::remove_file(dir.join(name)).with_context(|| format!("cannot delete {name}"))?;
    }
    Ok(excess)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_names_are_pruned_and_the_newest_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let names = [
            "consular-desk-20261201T000000Z.db",
            "consular-desk-20261202T000000Z.db",
            "consular-desk-20261203T000000Z.db",
            "consular-desk-notes.db",
            "other.db",
        ];
        for n in names {
            std::fs::write(dir.path().join(n), b"x").expect("file");
        }
        assert_eq!(prune(dir.path(), 2).expect("prune"), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        left.sort();
        assert_eq!(left, [names[1], names[2], names[3], names[4]]);
    }
}
