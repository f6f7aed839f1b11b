//! Who is using a SQLite database. Every server holds a shared advisory lock (`flock`) on a
//! file beside the database, `<db>.lock`, for as long as it runs; several servers on one file
//! share it. A restore takes it exclusively, without waiting: it gets it only when no server
//! runs, and while it holds it no server starts. The lock goes with the process, so a killed
//! server never leaves it behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

/// `<db>.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn open(db: &Path) -> anyhow::Result<File> {
    let path = lock_path(db);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path).with_context(|| format!("cannot open the lock file {}", path.display()))
}

impl DatabaseLock {
    /// A server's: shared with the other servers on the same file; refused while a restore
    /// replaces the database.
    pub fn for_server(db: &Path) -> anyhow::Result<DatabaseLock> {
        let file = open(db)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(DatabaseLock { _file: file }),
            Err(TryLockError::WouldBlock) => anyhow::bail!(
                "a restore is replacing {}; start the server once it has finished",
                db.display()
            ),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", lock_path(db).display()))
            }
        }
    }

    /// A restore's: exclusive, refused while any server uses the database.
    pub fn for_restore(db: &Path) -> anyhow::Result<DatabaseLock> {
        let file = open(db)?;
        match file.try_lock() {
            Ok(()) => Ok(DatabaseLock { _file: file }),
            Err(TryLockError::WouldBlock) => anyhow::bail!(
                "a server is using {}; stop every instance first (nothing was changed)",
                db.display()
            ),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", lock_path(db).display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_share_the_lock_and_a_restore_needs_it_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("cd.db");
        let first = DatabaseLock::for_server(&db).expect("first server");
        let second = DatabaseLock::for_server(&db).expect("second server");
        let refused = DatabaseLock::for_restore(&db).expect_err("servers run");
        assert!(refused.to_string().contains("stop every instance"), "{refused}");
        drop((first, second));
        let restore = DatabaseLock::for_restore(&db).expect("no server runs");
        assert!(DatabaseLock::for_server(&db).is_err(), "no server starts during a restore");
        drop(restore);
        assert!(DatabaseLock::for_server(&db).is_ok());
    }
}
