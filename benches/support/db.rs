//! Fresh databases of a run's own: a SQLite file in a temporary directory, or a new database on
//! a PostgreSQL server, dropped again when the run ends (also when it fails half-way), so runs
//! never measure each other's rows.

use std::path::Path;

use anyhow::Context;
use consular_desk::config::DatabaseUrl;
use consular_desk::db::DbConn;
use diesel::{Connection, RunQueryDsl};

/// `BENCH_DATABASE_URL` when it names a PostgreSQL server.
pub fn postgres_from_env() -> Option<String> {
    std::env::var("BENCH_DATABASE_URL").ok().filter(|url| is_postgres(url))
}

/// Whether `url` names a PostgreSQL server.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A database of the run's own and a scratch directory beside it; a PostgreSQL database is
/// dropped when this is dropped.
pub struct BenchDb {
    url: String,
    /// The PostgreSQL server's URL and the database's name, to drop it.
    postgres: Option<(String, String)>,
    /// Holds the SQLite file, and any other scratch file of the run, until the end.
    dir: tempfile::TempDir,
}

impl BenchDb {
    /// A new database named after `name`: `<name>.db` in a temporary directory, or, when
    /// `postgres` names a server, `bench_<name>_<random>` created there.
    pub fn fresh(postgres: Option<&str>, name: &str) -> anyhow::Result<BenchDb> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let Some(admin_url) = postgres else {
            // `sqlite://` followed by the absolute path: `sqlite:///tmp/.../name.db`.
            let url = format!("sqlite://{}", dir.path().join(format!("{name}.db")).display());
            return Ok(BenchDb { url, postgres: None, dir });
        };
        let db_name = format!("bench_{name}_{:016x}", rand::random::<u64>());
        let mut conn = diesel::PgConnection::establish(admin_url)
            .context("cannot connect to the PostgreSQL benchmark URL")?;
        diesel::sql_query(format!("CREATE DATABASE {db_name}"))
            .execute(&mut conn)
            .with_context(|| format!("cannot create database {db_name}"))?;
        let url = with_database(admin_url, &db_name);
        Ok(BenchDb { url, postgres: Some((admin_url.to_string(), db_name)), dir })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The run's scratch directory (it holds the SQLite file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn backend(&self) -> &'static str {
        match self.postgres {
            None => "sqlite",
            Some(_) => "postgres",
        }
    }

    /// One connection of the benchmark's own, beside the server's pool.
    pub fn connect(&self) -> anyhow::Result<DbConn> {
        let url = DatabaseUrl::parse(&self.url).map_err(anyhow::Error::msg)?;
        DbConn::open(&url).context("cannot connect to the benchmark database")
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres {
            let dropped = diesel::PgConnection::establish(admin_url).map(|mut conn| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn)
            });
            if !matches!(dropped, Ok(Ok(_))) {
                eprintln!("{}: could not drop database {name}; drop it by hand", env!("CARGO_CRATE_NAME"));
            }
        }
    }
}

/// `postgres://u@h:5432/postgres?x=y` with the database swapped for `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_starts = base.find("://").map_or(0, |i| i + 3);
    let authority = match base[authority_starts..].find('/') {
        Some(i) => &base[..authority_starts + i],
        None => base,
    };
    format!("{authority}/{name}{query}")
}
