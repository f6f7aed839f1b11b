//! PostgreSQL: the documented routine, run for the operator. `pg_dump --format=custom` writes
//! the backup, `pg_restore --list` proves it readable, and a restore goes into an empty
//! database only (`pg_restore` into one that has tables would mix two histories).
//!
//! The tools must be on PATH and match the server's major version (pg_dump refuses a newer
//! server). The URL's password, if any, goes to them in `PGPASSWORD`, never on a command line
//! that `ps` shows.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use anyhow::Context;
use diesel::prelude::*;

use super::{read_contents, refuse_existing, Contents, Partial, Written};
use crate::config::DatabaseUrl;
use crate::db::{read_snapshot, DbConn};

/// What to do by hand when the tools are missing.
pub const ROUTINE: &str =
    "on PostgreSQL a backup is `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"` \
     (then `pg_restore --list FILE` to see it is readable); a restore is `createdb NEW` and \
     `pg_restore --dbname=postgres://…/NEW FILE`, then DATABASE_URL pointed at NEW";

/// Whether `pg_dump` runs here.
pub fn pg_dump_available() -> bool {
    Command::new("pg_dump").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Backs the database at `url` up into `out` with pg_dump (see the module's comment).
pub fn dump(url: &str, out: &Path) -> anyhow::Result<Written> {
    let started = Instant::now();
    refuse_existing(out)?;
    let mut conn = DbConn::open(&DatabaseUrl::Postgres(url.to_string()))
        .map_err(|e| anyhow::anyhow!("cannot open the database: {}", one_line(&e.to_string())))?;
    let partial = Partial::create_beside(out)?;
    let file = partial.path.display().to_string();
    // pg_dump dumps the snapshot this transaction exports, and the chains are checked in it:
    // what the line says is what the file holds.
    let contents = read_snapshot(&mut conn, |c| -> anyhow::Result<Contents> {
        #[derive(QueryableByName)]
        struct Snapshot {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        let snapshot = diesel::sql_query("SELECT pg_export_snapshot() AS id").get_result::<Snapshot>(c)?.id;
        let contents = read_contents(c).context("the database fails its checks; no backup written")?;
        let (file, snapshot) = (format!("--file={file}"), format!("--snapshot={snapshot}"));
        run("pg_dump", &["--format=custom", &file, &snapshot], url)?;
        Ok(contents)
    })?;
    drop(conn);
    let objects = list(&partial.path)?;
    let bytes = std::fs::metadata(&partial.path)?.len();
    partial.publish(out)?;
    Ok(Written {
        source: "postgres://…".into(),
        checks: format!(
            "pg_dump --format=custom, read back by pg_restore --list ({objects} entries); audit chains \
             ok in the snapshot it holds"
        ),
        file: out.to_path_buf(),
        bytes,
        took: started.elapsed(),
        contents,
    })
}

/// How many entries `pg_restore --list` reads in the archive; fails when it can't read it.
pub fn list(file: &Path) -> anyhow::Result<usize> {
    let out = tool("pg_restore", &["--list".as_ref(), file.as_os_str()], None)?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with(';')).count())
}

/// Restores `file` into the database at `url`, which must have no tables; then reads what it
/// ends with and checks its chains.
pub fn restore(file: &Path, url: &str) -> anyhow::Result<Contents> {
    if !file.is_file() {
        anyhow::bail!("no copy to restore: {} is not a file", file.display());
    }
    list(file).with_context(|| format!("{} is not a pg_dump archive pg_restore reads", file.display()))?;
    let database = DatabaseUrl::Postgres(url.to_string());
    let mut conn = DbConn::open(&database)
        .map_err(|e| anyhow::anyhow!("cannot open the database: {}", one_line(&e.to_string())))?;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let tables = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .get_result::<Count>(&mut conn)?
    .n;
    if tables > 0 {
        anyhow::bail!(
            "the database in DATABASE_URL has {tables} tables; a restore goes into a new, empty \
             database only: `createdb NEW`, point DATABASE_URL at it and run restore again, then \
             start the servers on it (nothing was changed)"
        );
    }
    drop(conn);
    let file_arg = file.display().to_string();
    run("pg_restore", &["--exit-on-error", "--single-transaction", "--no-owner", &file_arg], url)?;
    let mut conn = DbConn::open(&database)
        .map_err(|e| anyhow::anyhow!("cannot open the database: {}", one_line(&e.to_string())))?;
    read_contents(&mut conn).context("restored, but the copy fails its checks: don't start servers on it")
}

/// Runs `program` with `args` and `--dbname=<url without password>`.
fn run(program: &str, args: &[&str], url: &str) -> anyhow::Result<Output> {
    let (url, password) = split_password(url);
    let dbname = format!("--dbname={url}");
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    all.push(dbname.as_ref());
    tool(program, &all, password.as_deref())
}

fn tool(program: &str, args: &[&std::ffi::OsStr], password: Option<&str>) -> anyhow::Result<Output> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("{program} is not on PATH, so nothing was done; {ROUTINE}")
        }
        Err(e) => return Err(e).with_context(|| format!("cannot run {program}")),
    };
    if !out.status.success() {
        let said = one_line(&String::from_utf8_lossy(&out.stderr));
        anyhow::bail!("{program} failed ({}): {said}", out.status);
    }
    Ok(out)
}

/// libpq's messages run over several lines.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The URL without its password, and the password (percent-decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return (url.to_string(), None);
    };
    let Some(colon) = authority[..at].find(':') else {
        return (url.to_string(), None);
    };
    let password = percent_decode(&authority[colon + 1..at]);
    (format!("{}{}{}", &url[..scheme_end], &authority[..colon], &rest[at..]), Some(password))
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://cd:s%40cret@db.internal:5432/cd?sslmode=require"),
            ("postgres://cd@db.internal:5432/cd?sslmode=require".to_string(), Some("s@cret".to_string()))
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".into(), None)
        );
        assert_eq!(split_password("postgres:///x"), ("postgres:///x".into(), None));
    }
}
