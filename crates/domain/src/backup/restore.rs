//! Putting a SQLite copy in place of the database (docs/OPERATIONS.md, "Restoring").

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;

use super::lock::DatabaseLock;
use super::{check_sqlite_copy, stamp, sync_dir, Contents, Partial};
use crate::config::DatabaseUrl;
use crate::db::DbConn;

/// A restore done.
#[derive(Debug)]
pub struct Restored {
    /// Where the database that was there before now is, if there was one.
    pub kept_aside: Option<PathBuf>,
    pub contents: Contents,
}

/// The files of a SQLite database: itself and what SQLite keeps beside it.
const SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Replaces the database `db` with the copy `copy`, once the copy passes the checks a backup
/// passes and no server uses `db`. The copy is first copied beside `db` (0600), so what was
/// checked is what goes in place; the database there before is renamed
/// `<db>.before-restore-<now>` with its `-wal` and `-shm` (SQLite finds them by that name), so
/// nothing is lost and no stale `-wal` is ever read into the restored copy.
pub fn sqlite(copy: &Path, db: &Path, now: NaiveDateTime) -> anyhow::Result<Restored> {
    if !copy.is_file() {
        anyhow::bail!("no copy to restore: {} is not a file", copy.display());
    }
    let _lock = DatabaseLock::for_restore(db)?;
    let staged = Partial::create_beside(db)?;
    {
        let mut from =
            std::fs::File::open(copy).with_context(|| format!("cannot read {}", copy.display()))?;
        let mut to = std::fs::OpenOptions::new().write(true).open(&staged.path)?;
        std::io::copy(&mut from, &mut to).with_context(|| format!("cannot copy {}", copy.display()))?;
        to.sync_all()?;
    }
    let contents = check(&staged.path)
        .with_context(|| format!("{} fails its checks; nothing was changed", copy.display()))?;
    let aside = with_suffix(db, &format!(".before-restore-{}", stamp(now)));
    let kept_aside = if db.exists() {
        std::fs::rename(db, &aside).with_context(|| format!("cannot move {} aside", db.display()))?;
        Some(aside.clone())
    } else {
        None
    };
    for suffix in SIDE_FILES {
        let side = with_suffix(db, suffix);
        if side.exists() {
            std::fs::rename(&side, with_suffix(&aside, suffix))
                .with_context(|| format!("cannot move {} aside", side.display()))?;
        }
    }
    if let Err(e) = std::fs::rename(&staged.path, db) {
        // Put back what was moved aside: the database stays as it was.
        for suffix in SIDE_FILES.iter().chain([&""]) {
            let _ = std::fs::rename(with_suffix(&aside, suffix), with_suffix(db, suffix));
        }
        return Err(e)
            .with_context(|| format!("cannot put the copy at {}; nothing was changed", db.display()));
    }
    sync_dir(db);
    Ok(Restored { kept_aside, contents })
}

/// The copy as one file (a copy made by hand of a server's file is flagged WAL), then the
/// checks of a backup.
fn check(staged: &Path) -> anyhow::Result<Contents> {
    {
        let url = DatabaseUrl::Sqlite(staged.display().to_string());
        let mut conn = DbConn::open(&url).map_err(|e| anyhow::anyhow!("not a SQLite database: {e}"))?;
        conn.batch_execute("PRAGMA journal_mode = DELETE")
            .map_err(|e| anyhow::anyhow!("not a SQLite database: {e}"))?;
    }
    check_sqlite_copy(staged)
}
