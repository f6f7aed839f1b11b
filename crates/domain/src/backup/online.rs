//! SQLite's online backup API (`sqlite3_backup_*`), the one way to copy a database that a
//! server is writing to: copying the file and its `-wal` by hand can catch a checkpoint half
//! way and give a torn copy.
//!
//! diesel doesn't expose the API, so this is a small FFI wrapper over `libsqlite3-sys`, the
//! same bundled SQLite diesel links. Every pointer it holds is owned by a guard that closes it.

use std::ffi::{c_int, CStr, CString};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use libsqlite3_sys as ffi;

/// How long a connection waits for a lock before SQLite says BUSY.
const BUSY_TIMEOUT_MS: c_int = 10_000;
/// How long the copy retries BUSY/LOCKED before giving up.
const RETRY_FOR: Duration = Duration::from_secs(30);

/// One open connection, closed when dropped.
struct Db(*mut ffi::sqlite3);

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: the handle came from sqlite3_open_v2 and is closed only here;
        // sqlite3_close accepts NULL (a failed open) as a no-op; nothing is left open on it
        // (the backup object is finished before either connection drops).
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

impl Db {
    fn open(path: &Path, flags: c_int) -> anyhow::Result<Db> {
        let name = path
            .to_str()
            .and_then(|p| CString::new(p).ok())
            .with_context(|| format!("{} is not a usable file name", path.display()))?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: `name` is a NUL-terminated string that outlives the call; `raw` receives the
        // handle, which the guard owns even when the open fails (SQLite asks to close it then).
        let rc = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut raw, flags, std::ptr::null()) };
        let db = Db(raw);
        if rc != ffi::SQLITE_OK {
            bail!("cannot open {}: {}", path.display(), db.message(rc));
        }
        // SAFETY: `db.0` is an open connection.
        unsafe { ffi::sqlite3_busy_timeout(db.0, BUSY_TIMEOUT_MS) };
        Ok(db)
    }

    /// The connection's last error, or the code's text when there is no connection.
    fn message(&self, rc: c_int) -> String {
        // SAFETY: both return pointers to static or connection-owned NUL-terminated strings,
        // copied before anything else runs on the connection.
        let text = unsafe {
            if self.0.is_null() {
                ffi::sqlite3_errstr(rc)
            } else {
                ffi::sqlite3_errmsg(self.0)
            }
        };
        if text.is_null() {
            return format!("SQLite error {rc}");
        }
        // SAFETY: checked non-null above; SQLite's strings are NUL-terminated.
        unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned()
    }

    fn exec(&self, sql: &CStr) -> anyhow::Result<()> {
        // SAFETY: an open connection and a NUL-terminated statement; no callback, no error
        // string (the message is read from the connection instead).
        let rc = unsafe {
            ffi::sqlite3_exec(self.0, sql.as_ptr(), None, std::ptr::null_mut(), std::ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            bail!("{}: {}", sql.to_string_lossy(), self.message(rc));
        }
        Ok(())
    }
}

/// Copies the database at `source` into `destination` (an existing empty file the caller
/// created with the mode it wants) while other connections keep writing to `source`, then
/// makes the copy one self-contained file (`journal_mode = DELETE`, no `-wal` beside it).
///
/// One `sqlite3_backup_step(-1)` copies every page inside one read transaction: in WAL mode
/// that is a consistent snapshot, and writers go on meanwhile. A backup taken in several
/// smaller steps starts over each time another connection writes between two steps, so under
/// a rush of receipts it might never finish. BUSY and LOCKED (a checkpoint or a schema change
/// holding the file for a moment) are retried for a while.
pub fn copy(source: &Path, destination: &Path) -> anyhow::Result<()> {
    let src = Db::open(source, ffi::SQLITE_OPEN_READONLY)?;
    let dst = Db::open(destination, ffi::SQLITE_OPEN_READWRITE)?;
    let main = c"main";
    // SAFETY: two open connections and the schema name "main", a NUL-terminated literal.
    let backup = unsafe { ffi::sqlite3_backup_init(dst.0, main.as_ptr(), src.0, main.as_ptr()) };
    if backup.is_null() {
        bail!("cannot start the online backup: {}", dst.message(ffi::SQLITE_ERROR));
    }
    let started = Instant::now();
    let rc = loop {
        // SAFETY: `backup` is live until sqlite3_backup_finish below.
        let rc = unsafe { ffi::sqlite3_backup_step(backup, -1) };
        match rc {
            ffi::SQLITE_OK => continue,
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED if started.elapsed() < RETRY_FOR => {
                std::thread::sleep(Duration::from_millis(50))
            }
            other => break other,
        }
    };
    // SAFETY: finishes and frees `backup`, which is not used afterwards.
    let finished = unsafe { ffi::sqlite3_backup_finish(backup) };
    if rc != ffi::SQLITE_DONE {
        bail!("the online backup of {} failed: {}", source.display(), dst.message(rc));
    }
    if finished != ffi::SQLITE_OK {
        bail!("the online backup of {} failed: {}", source.display(), dst.message(finished));
    }
    // The pages came with the source's WAL flag; the copy is one file that needs no -wal.
    dst.exec(c"PRAGMA journal_mode = DELETE")?;
    Ok(())
}
