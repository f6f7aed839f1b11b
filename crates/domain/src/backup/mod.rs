//! Backups and restores (docs/OPERATIONS.md, "Backups").
//!
//! SQLite: a copy taken through the online backup API while servers run ([`online`]), written
//! beside its destination under a temporary name (0600), checked (`PRAGMA integrity_check`,
//! every audit chain, the records held to their entries) and only then given its name, never
//! over an existing file. A restore checks the copy again, refuses while a server uses the
//! database ([`lock`]), keeps the current database aside and puts the copy in place
//! ([`restore`]). PostgreSQL: `pg_dump --format=custom` and `pg_restore` ([`postgres`]).
//! Scheduled backups: [`schedule`].
//!
//! A restored copy ends where the backup was taken: receipts and register entries made after
//! it are not in it, and their numbers will be issued again. What the copy ends with
//! ([`Contents`]) is printed so staff can tell which papers to re-issue.

pub mod lock;
pub mod online;
pub mod postgres;
pub mod restore;
pub mod schedule;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit;
use crate::audit::read::{BadEntry, Head};
use crate::config::DatabaseUrl;
use crate::db::schema::{audit_log, notarial_register, posts, receipts};
use crate::db::DbConn;

/// What a copy (or a database) ends with, once its audit chains were found to hold.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    /// Chained audit entries checked.
    pub entries: i64,
    /// Each chain's head, `CHAIN:SEQ:HASH` as `audit verify --expect` takes it.
    pub heads: Vec<Head>,
    /// Each post's last receipt number (of its latest fiscal year).
    pub last_receipts: Vec<String>,
    /// Each post's last notarial-register entry number.
    pub last_register: Vec<String>,
}

impl Contents {
    /// `MEX:12:ab…, *:3:cd…` in full: they are for `audit verify --expect`.
    pub fn heads_text(&self) -> String {
        match self.heads.is_empty() {
            true => "none".into(),
            false => self.heads.iter().map(head_text).collect::<Vec<_>>().join(", "),
        }
    }

    /// `last receipts MEX-2027-000042, GDL-2027-000007; last register entries none`.
    pub fn numbers_text(&self) -> String {
        let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        format!(
            "last receipts {}; last register entries {}",
            list(&self.last_receipts),
            list(&self.last_register)
        )
    }
}

pub fn head_text(head: &Head) -> String {
    format!("{}:{}:{}", head.chain, head.seq, head.hash)
}

/// Checks the chains of the database behind `conn` and reads what it ends with. Fails when it
/// is no consular-desk database or a chain or record doesn't hold.
///
/// An entry written but not yet sealed is fine in a copy (the sealer of the server that opens
/// it seals it); one waiting for over a minute before the copy's last entry means no sealer
/// ran, so the copy is judged as of its own last entry, not of today.
pub fn read_contents(conn: &mut DbConn) -> anyhow::Result<Contents> {
    let as_of: Option<NaiveDateTime> = audit_log::table
        .select(diesel::dsl::max(audit_log::recorded_at))
        .first(conn)
        .map_err(|e| anyhow::anyhow!("not a consular-desk database: {e}"))?;
    let verification = audit::read::verify(conn, None, &[], as_of.unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("not a consular-desk database: {e}"))?;
    if let Some(bad) = &verification.first_bad {
        anyhow::bail!("{}", broken(bad));
    }
    let mut contents =
        Contents { entries: verification.entries, heads: verification.heads, ..Contents::default() };
    let codes: Vec<String> = posts::table.select(posts::code).order(posts::code).load(conn)?;
    for code in codes {
        let receipt: Option<String> = receipts::table
            .filter(receipts::post_code.eq(&code))
            .order((receipts::fiscal_year.desc(), receipts::seq.desc()))
            .select(receipts::receipt_number)
            .first(conn)
            .optional()?;
        contents.last_receipts.extend(receipt);
        let entry: Option<String> = notarial_register::table
            .filter(notarial_register::post_code.eq(&code))
            .order((notarial_register::fiscal_year.desc(), notarial_register::seq.desc()))
            .select(notarial_register::entry_number)
            .first(conn)
            .optional()?;
        contents.last_register.extend(entry);
    }
    Ok(contents)
}

/// What a restore says, whatever the backend: the numbers after the backup come again.
pub const REISSUE_WARNING: &str = "warning: receipts and notarial-register entries made after this \
    backup was taken are not in it, and their numbers will be issued again (each post goes on from \
    the last numbers above). Before staff work on it: gather the receipts and register entries \
    issued after the backup (paper copies, PDFs, the day's cash), void or re-issue them under \
    their new numbers, and check the chains against heads kept from before with `consular-desk \
    audit verify --expect CHAIN:SEQ:HASH` (docs/OPERATIONS.md, \"Numbers issued after the backup come again\")";

/// One line naming where a chain or a record fails.
fn broken(bad: &BadEntry) -> String {
    let at = match (bad.seq, bad.id) {
        (Some(seq), _) => format!(" at entry {seq}"),
        (None, Some(id)) => format!(" (audit entry id {id})"),
        (None, None) => String::new(),
    };
    match &bad.table {
        Some(table) => format!("a {table} record fails its audit entry{at}: {}", bad.problem),
        None => format!("audit chain {} fails{at}: {}", bad.chain, bad.problem),
    }
}

/// The checks of a SQLite copy: `PRAGMA integrity_check`, then [`read_contents`].
pub fn check_sqlite_copy(path: &Path) -> anyhow::Result<Contents> {
    let url = DatabaseUrl::Sqlite(path.display().to_string());
    let mut conn = DbConn::open(&url).map_err(|e| anyhow::anyhow!("not a SQLite database: {e}"))?;
    #[derive(QueryableByName)]
    struct Integrity {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let found: Vec<Integrity> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| anyhow::anyhow!("not a SQLite database, or damaged: {e}"))?;
    match found.first() {
        Some(row) if found.len() == 1 && row.integrity_check == "ok" => {}
        Some(row) => anyhow::bail!("the integrity check fails: {}", row.integrity_check),
        None => anyhow::bail!("the integrity check said nothing"),
    }
    read_contents(&mut conn)
}

/// A backup written and checked.
#[derive(Debug)]
pub struct Written {
    pub source: String,
    /// What was checked, e.g. `integrity ok; audit chains ok`.
    pub checks: String,
    pub file: PathBuf,
    pub bytes: u64,
    pub took: Duration,
    pub contents: Contents,
}

impl Written {
    /// The one line `backup` prints and the schedule logs.
    pub fn line(&self) -> String {
        format!(
            "backup {} → {}: {} in {:.1} s; {} ({} entries; heads {}); {}",
            self.source,
            self.file.display(),
            size(self.bytes),
            self.took.as_secs_f64(),
            self.checks,
            self.contents.entries,
            self.contents.heads_text(),
            self.contents.numbers_text(),
        )
    }
}

/// `12.3 MiB`.
pub fn size(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The file of a `sqlite://` path (without its `?` options).
pub fn sqlite_file(path: &str) -> &Path {
    Path::new(path.split('?').next().unwrap_or(path))
}

/// Backs the SQLite database `db` up into `out` (see the module's comment). `out` must not
/// exist; a failed check leaves nothing behind.
pub fn sqlite(db: &Path, out: &Path) -> anyhow::Result<Written> {
    let started = Instant::now();
    if !db.is_file() {
        anyhow::bail!("no database to back up: {} does not exist", db.display());
    }
    refuse_existing(out)?;
    let partial = Partial::create_beside(out)?;
    online::copy(db, &partial.path)?;
    let copied = started.elapsed();
    let contents =
        check_sqlite_copy(&partial.path).context("the copy fails its checks; no backup written")?;
    let bytes = std::fs::metadata(&partial.path)?.len();
    partial.publish(out)?;
    Ok(Written {
        source: format!("sqlite://{}", db.display()),
        // The copy is what writers feel; the checks read the copy alone.
        checks: format!("copied in {:.1} s; integrity ok; audit chains ok", copied.as_secs_f64()),
        file: out.to_path_buf(),
        bytes,
        took: started.elapsed(),
        contents,
    })
}

/// Backups never overwrite a file.
pub fn refuse_existing(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        anyhow::bail!("{} exists; a backup never overwrites a file", out.display());
    }
    Ok(())
}

/// A file being written beside its destination, under a hidden temporary name, mode 0600;
/// the temporary name (and any journal SQLite left beside it) goes when it is dropped,
/// published or not.
pub(crate) struct Partial {
    pub(crate) path: PathBuf,
}

impl Partial {
    pub(crate) fn create_beside(out: &Path) -> anyhow::Result<Partial> {
        let dir = match out.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let path = dir.join(format!(".{name}.partial-{}-{:08x}", std::process::id(), rand::random::<u32>()));
        create_private(&path)?;
        Ok(Partial { path })
    }

    /// Gives the file its name: a hard link, which fails rather than replace a file that
    /// appeared meanwhile, then the temporary name goes. Both are flushed to disk first.
    pub(crate) fn publish(self, out: &Path) -> anyhow::Result<()> {
        File::open(&self.path)?.sync_all()?;
        std::fs::hard_link(&self.path, out).with_context(|| format!("cannot create {}", out.display()))?;
        sync_dir(out);
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        for suffix in ["-journal", "-wal", "-shm"] {
            let mut side = self.path.as_os_str().to_owned();
            side.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(side));
        }
    }
}

/// A new file readable by its owner only: copies hold password hashes and personal data.
pub(crate) fn create_private(path: &Path) -> anyhow::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).with_context(|| format!("cannot create {}", path.display()))
}

/// Flushes the directory holding `path`, so a rename or link in it survives a crash.
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// `20261203T173500Z`: in file names.
pub fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}
