//! The data layer: one connection type over SQLite and PostgreSQL, the pool, migrations.
//!
//! The backend is chosen from the URL scheme by [`DatabaseUrl`], never by trial: diesel's derived
//! `establish` tries each backend in turn, which would turn an unreachable PostgreSQL URL into a
//! SQLite file of that name.

pub mod schema;
pub mod waiting;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Any advisory-lock key works as long as every instance uses the same one.
const MIGRATION_LOCK_KEY: i64 = 0x636f_6e73_756c_6172;

/// Per-connection SQLite settings. WAL lets readers run beside the single writer; the busy
/// timeout makes writers queue instead of failing with "database is locked".
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                              PRAGMA synchronous = NORMAL;";

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Which database engine a connection talks to; reported by `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Sqlite(_) => Backend::Sqlite,
            DbConn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Opens one connection to exactly the backend the URL names, with its settings applied.
    pub fn open(url: &DatabaseUrl) -> diesel::ConnectionResult<DbConn> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(DbConn::Postgres),
        }
    }
}

/// r2d2 manager that opens connections with [`DbConn::open`].
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        DbConn::open(&self.url).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Builds the pool. Fails fast when the database can't be reached, so a bad `DATABASE_URL`
/// stops the process at start instead of at the first request.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<Pool> {
    if let DatabaseUrl::Sqlite(path) = url {
        create_private_file(path)?;
    }
    // One connection first: an unreachable database is one clear error, not r2d2 logging every
    // failed attempt of every pooled connection until its timeout.
    // libpq's messages run over several lines; a start-up failure is one line.
    let mut first = DbConn::open(url)
        .map_err(|e| anyhow::anyhow!(e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")))?;
    if let DatabaseUrl::Sqlite(_) = url {
        // WAL is a property of the file. Switching needs the file to itself, so it is done once
        // here, before the pool opens its connections all at once.
        first.batch_execute("PRAGMA journal_mode = WAL;")?;
    }
    drop(first);
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .error_handler(Box::new(QuietErrors))
        .build(Manager { url: url.clone() })?;
    Ok(pool)
}

/// Creates a new SQLite database file readable by its owner only (0600): it holds password
/// hashes and personal data. SQLite gives its `-wal` and `-shm` files the same mode. An
/// existing file keeps the mode its operator chose.
fn create_private_file(path: &str) -> anyhow::Result<()> {
    let path = std::path::Path::new(path.split('?').next().unwrap_or(path));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot create the database file {}: {e}", path.display())),
    }
}

/// r2d2 reports every failed connection attempt, many a second while a database is down; the
/// request that needed the connection gets 503 and that is logged once, so these stay at debug.
#[derive(Debug)]
struct QuietErrors;

impl r2d2::HandleError<r2d2::Error> for QuietErrors {
    fn handle_error(&self, error: r2d2::Error) {
        tracing::debug!(error = %error, "database connection attempt failed");
    }
}

/// Applies pending migrations on a connection of their own. On PostgreSQL an advisory lock
/// keeps two instances starting at once from applying the same migration twice.
///
/// On SQLite that connection has foreign-key enforcement off, as SQLite's procedure for
/// rebuilding a table requires (the pragma can't change inside the transaction each migration
/// runs in, and with it on, dropping the old table would take its references along); every
/// reference is checked once the migrations are done.
pub fn run_migrations(url: &DatabaseUrl) -> anyhow::Result<usize> {
    let mut conn = match url {
        DatabaseUrl::Sqlite(path) => {
            let mut c = SqliteConnection::establish(path)?;
            c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = OFF;")?;
            DbConn::Sqlite(c)
        }
        DatabaseUrl::Postgres(_) => DbConn::open(url)?,
    };
    let applied = match &mut conn {
        DbConn::Sqlite(c) => {
            let applied = c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
                .len();
            #[derive(diesel::QueryableByName)]
            struct Violation {
                #[diesel(sql_type = diesel::sql_types::Text)]
                table: String,
            }
            use diesel::RunQueryDsl;
            // Only after a migration ran: the check reads every table.
            let broken: Vec<Violation> = match applied {
                0 => Vec::new(),
                _ => diesel::sql_query("PRAGMA foreign_key_check").load(c)?,
            };
            if let Some(v) = broken.first() {
                anyhow::bail!("after migrating, table {} holds rows whose references are broken", v.table);
            }
            applied
        }
        DbConn::Postgres(c) => {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(c)?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(c)?;
            result?
        }
    };
    Ok(applied)
}

/// Whether `conn` is inside a transaction already.
fn in_transaction(conn: &mut DbConn) -> diesel::QueryResult<bool> {
    let depth = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?,
        DbConn::Postgres(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?
        }
    };
    Ok(depth.is_some())
}

/// Runs blocking database work off the async workers with one connection from `pool`: the
/// use-cases the API and the pages share take the pool, not the application state.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, crate::error::AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, crate::error::AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    crate::blocking::run(move || {
        // Counted while it waits for a connection (`/metrics`): r2d2 doesn't say.
        let waiting = waiting::Waiting::start();
        let got = pool.get();
        drop(waiting);
        let mut conn = got?;
        f(&mut conn)
    })
    .await?
}

/// Runs `f` in a transaction that takes the write lock up front, or joins the caller's: an
/// operation called inside another's transaction runs in a savepoint of it, so the two
/// commit or roll back together.
///
/// On SQLite a deferred transaction that reads before it writes can fail with SQLITE_BUSY
/// without waiting; `BEGIN IMMEDIATE` queues behind the busy timeout instead. On PostgreSQL
/// this is an ordinary transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let joins = in_transaction(conn)?;
    match conn {
        DbConn::Sqlite(c) if !joins => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    let outcome = f(conn);
    let finish = match (&outcome, conn) {
        (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConn::Postgres(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConn::Postgres(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    finish?;
    outcome
}

/// Runs `f` on one consistent snapshot of the database, for reads made of several statements
/// that must agree with each other while writers go on (the audit chain walk): `REPEATABLE
/// READ, READ ONLY` on PostgreSQL, where each statement would otherwise see the latest
/// commits; a deferred transaction on SQLite, whose snapshot is taken at its first read.
pub fn read_snapshot<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // Inside a transaction already: its snapshot (or its writes) are what `f` should see.
    if in_transaction(conn)? {
        return f(conn);
    }
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")?,
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        )?,
    }
    let outcome = f(conn);
    // Nothing was written: ending it either way is the same.
    let finish = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        DbConn::Postgres(c) => AnsiTransactionManager::rollback_transaction(c),
    };
    finish?;
    outcome
}

/// Runs `f` in a transaction whose commit doesn't wait for the disk on PostgreSQL, for
/// bookkeeping whose loss in a crash is harmless (throttle counters) and which would otherwise
/// queue every request of a rush behind one hot row's WAL flush. Never for bookings or money.
/// On SQLite (WAL with `synchronous = NORMAL`) commits don't wait for the disk anyway.
pub fn without_waiting_for_disk<T, F>(conn: &mut DbConn, f: F) -> diesel::QueryResult<T>
where
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T>,
{
    use diesel::RunQueryDsl;
    match conn {
        DbConn::Sqlite(_) => f(conn),
        DbConn::Postgres(_) => conn.transaction(|c| {
            diesel::sql_query("SET LOCAL synchronous_commit TO OFF").execute(c)?;
            f(c)
        }),
    }
}

/// Runs one statement (or a few) whose failure, such as a unique violation the caller
/// handles, must leave the surrounding transaction usable. PostgreSQL aborts a transaction on
/// any failed statement, so there it runs in a savepoint; SQLite backs out only the failed
/// statement, so there it runs as it is (a savepoint would cost two more statements).
pub fn recoverable<T, F>(conn: &mut DbConn, f: F) -> diesel::QueryResult<T>
where
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T>,
{
    match conn {
        DbConn::Sqlite(_) => f(conn),
        DbConn::Postgres(_) => conn.transaction(f),
    }
}

/// True when the error is a unique-constraint violation: how "already exists" shows up, since
/// diesel's multi-backend connection has no `ON CONFLICT`.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(err, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::RunQueryDsl;

    /// An operation called inside another's transaction joins it: the inner one's failure
    /// rolls back only its own part, and the outer one's failure rolls back both.
    #[test]
    fn write_transactions_nest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::Sqlite(dir.path().join("nest.db").display().to_string());
        let mut conn = DbConn::open(&url).expect("open");
        conn.batch_execute("CREATE TABLE t (v INTEGER NOT NULL)").expect("table");
        let insert =
            |c: &mut DbConn, v: i32| diesel::sql_query(format!("INSERT INTO t VALUES ({v})")).execute(c);
        let count = |c: &mut DbConn| -> i64 {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query("SELECT count(*) AS n FROM t").get_result::<N>(c).expect("count").n
        };
        let kept: diesel::QueryResult<()> = write_transaction(&mut conn, |c| {
            insert(c, 1)?;
            let inner: diesel::QueryResult<()> = write_transaction(c, |c| {
                insert(c, 2)?;
                Err(diesel::result::Error::RollbackTransaction)
            });
            assert!(inner.is_err());
            write_transaction(c, |c| insert(c, 3).map(|_| ()))
        });
        assert!(kept.is_ok());
        assert_eq!(count(&mut conn), 2, "the outer row and the second inner one");
        let dropped: diesel::QueryResult<()> = write_transaction(&mut conn, |c| {
            write_transaction(c, |c| insert(c, 4).map(|_| ()))?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(dropped.is_err());
        assert_eq!(count(&mut conn), 2, "the outer failure took the inner row along");
    }

    /// An upgrade, not a fresh start: a database at migration 4 with an appointment and a seat
    /// hold on it goes through the visits rebuild (migration 5) with both intact, the hold
    /// still referring to its appointment, and foreign keys enforced afterwards.
    #[test]
    fn the_visits_rebuild_keeps_appointments_and_what_refers_to_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("upgrade.db").display().to_string();
        let mut old = SqliteConnection::establish(&path).expect("open");
        for _ in 0..4 {
            old.run_next_migration(SQLITE_MIGRATIONS).expect("migration 1 to 4");
        }
        old.batch_execute(
            "INSERT INTO posts VALUES ('MEX', 'Mexico City', 'Mexico City', 'embassy', 'America/Mexico_City', '+52', '2026-01-01 00:00:00');
             INSERT INTO services VALUES ('notarial', 'Notarial', NULL, 30, 4, 'x');
             INSERT INTO applicants (email, full_name, password_hash, created_at) VALUES ('a@b.mx', 'A', 'h', '2026-01-01 00:00:00');
             INSERT INTO slots (post_code, service_code, starts_at, ends_at, local_date, capacity, booked, offered)
                 VALUES ('MEX', 'notarial', '2026-12-01 15:00:00', '2026-12-01 15:30:00', '2026-12-01', 2, 2, 2);
             INSERT INTO appointments (reference, slot_id, post_code, service_code, starts_at, applicant_id, party_size, party, status, created_at, updated_at)
                 VALUES ('K7Q-M4X-PT9', 1, 'MEX', 'notarial', '2026-12-01 15:00:00', 1, 1, '[]', 'cancelled', '2026-11-01 00:00:00', '2026-11-01 00:00:00');
             INSERT INTO seat_holds (slot_id, appointment_id, seats, release_at) VALUES (1, 1, 1, '2026-11-01 00:10:00');",
        )
        .expect("rows at migration 4");
        drop(old);

        let applied = run_migrations(&DatabaseUrl::Sqlite(path.clone())).expect("upgrade");
        assert!(applied >= 2, "migrations 5 and later applied: {applied}");
        let mut conn = DbConn::open(&DatabaseUrl::Sqlite(path)).expect("open with foreign keys on");
        #[derive(diesel::QueryableByName, Debug, PartialEq)]
        struct Kept {
            #[diesel(sql_type = diesel::sql_types::Text)]
            reference: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            kind: String,
        }
        let kept: Vec<Kept> = diesel::sql_query(
            "SELECT a.reference, a.kind FROM seat_holds h JOIN appointments a ON a.id = h.appointment_id",
        )
        .load(&mut conn)
        .expect("join");
        assert_eq!(kept, vec![Kept { reference: "K7Q-M4X-PT9".into(), kind: "booked".into() }]);
        let orphan = conn.batch_execute(
            "INSERT INTO seat_holds (slot_id, appointment_id, seats, release_at) VALUES (1, 99, 1, '2026-11-01 00:10:00')",
        );
        assert!(orphan.is_err(), "foreign keys are enforced on the service's connections");
        let slotless = conn.batch_execute(
            "INSERT INTO appointments (reference, kind, post_code, service_code, starts_at, applicant_id, party_size, party, status, created_at, updated_at)
                 VALUES ('AAA-BBB-CCC', 'booked', 'MEX', 'notarial', '2026-12-01 15:00:00', 1, 1, '[]', 'booked', '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        );
        assert!(slotless.is_err(), "a booked visit needs a slot");
    }
}
