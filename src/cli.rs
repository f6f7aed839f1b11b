//! The command line of docs/API.md: `serve` (default), `migrate`, `create-staff`, `audit verify`,
//! `export fee-report`, `keys export`, `backup`, `restore`.

use std::io::BufRead;
use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::reports::fee_report::Scope;

use crate::accounts::staff::{self, NewStaff};
use crate::audit;
use crate::audit::read::Head;
use crate::auth::Actor;
use crate::backup;
use crate::clock::Clock;
use crate::config::DatabaseUrl;
use crate::config::Settings;
use crate::startup::{prepare_tables, Application};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "consular-desk",
    version,
    about = "American Citizen Services desk: appointments, intake, fees, tracking"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default). Applies migrations and seeds reference data first.
    Serve {
        /// Address to listen on; overrides CONSULAR_DESK_BIND.
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply pending migrations (and seed reference data), then exit.
    Migrate,
    /// Create a staff account; the password is read from the first line of standard input.
    CreateStaff {
        #[arg(long)]
        username: String,
        /// clerk, supervisor, auditor or admin.
        #[arg(long)]
        role: String,
        /// Bind the account to one post, e.g. MEX.
        #[arg(long)]
        post: Option<String>,
        /// Where the messages about the account go (a password reset, a new role or post).
        #[arg(long)]
        email: Option<String>,
        /// Required: passwords are never taken from the command line, where `ps` shows them.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The server keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// A checked copy of the database: SQLite's online backup while servers run (checked for
    /// integrity and its audit chains before it gets its name), pg_dump on PostgreSQL.
    Backup {
        /// The file to create; an existing file is never overwritten.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Put a backup in place of the database (SQLite: stop every server first; the database
    /// there before is kept aside). PostgreSQL: into an empty database only.
    Restore {
        /// The backup: a SQLite file, or a pg_dump archive on PostgreSQL.
        file: std::path::PathBuf,
    },
    /// Export a report to a file, offline: straight from the database, no server needed.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The fee report: every receipt line of a range of local dates, with voids, totals and
    /// the cash closes.
    FeeReport {
        /// A post code, or `all`.
        #[arg(long)]
        post: String,
        /// First local date (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last local date, included.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// csv, xlsx, json or pdf (a summary: totals and closes).
        #[arg(long, value_parser = ["csv", "xlsx", "json", "pdf"])]
        format: String,
        /// The file to write.
        #[arg(long)]
        out: std::path::PathBuf,
        /// CSV: start with a UTF-8 byte order mark, for spreadsheet programs.
        #[arg(long)]
        bom: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Move the server keys out of the database into a new key file (mode 0600), for
    /// CONSULAR_DESK_KEY_FILE. Stop every instance first.
    Export {
        /// The key file to create; an existing file is never overwritten.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every hash chain of the audit log; exits 1 and names the first bad entry when one
    /// doesn't hold.
    Verify {
        /// Walk only this post's chain.
        #[arg(long)]
        post: Option<String>,
        /// A head printed by an earlier check (`CHAIN:SEQ:HASH`) that must still be in its
        /// chain: the chain alone can't show that someone who can rewrite the database
        /// rewrote it whole. Repeatable.
        #[arg(long = "expect", value_name = "CHAIN:SEQ:HASH")]
        expect: Vec<String>,
    },
}

/// Runs the parsed command. Errors come back as one line for `main` to print.
pub fn run(cli: Cli, mut settings: Settings) -> anyhow::Result<()> {
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve { bind: None }) {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            serve(settings)
        }
        Command::Migrate => {
            prepare_tables(&settings, Clock::system().naive())?;
            println!("migrations applied; reference data seeded ({:?})", settings.database_url);
            Ok(())
        }
        Command::CreateStaff { username, role, post, email, password_stdin: _ } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let new = NewStaff::parse(&username, password, &role, post.as_deref(), email.as_deref())
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            let (pool, _) = prepare_tables(&settings, Clock::system().naive())?;
            let hash = crate::auth::passwords::hash(new.password.expose())?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            // The operator at the server's console acts as the system.
            let record = staff::create(&mut conn, &Actor::System, &new, &hash, Clock::system().naive())
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            // No server may be running to seal the entry: seal it here.
            audit::seal::seal_pending(&mut conn)?;
            println!(
                "created {} {}{}",
                record.role.as_str(),
                record.username,
                record.post_code.map(|p| format!(" (post {p})")).unwrap_or_default()
            );
            Ok(())
        }
        Command::Backup { out } => {
            let written = match &settings.database_url {
                DatabaseUrl::Sqlite(path) => backup::sqlite(backup::sqlite_file(path), &out)?,
                DatabaseUrl::Postgres(url) => backup::postgres::dump(url, &out)?,
            };
            println!("{}", written.line());
            Ok(())
        }
        Command::Restore { file } => restore(&settings, &file),
        Command::Keys { command: KeysCommand::Export { out } } => export_keys(&settings, &out),
        Command::Export { command: ExportCommand::FeeReport { post, from, to, format, out, bom } } => {
            let post = match post.as_str() {
                "all" => None,
                code => Some(
                    crate::reference::post_code(code)
                        .ok_or_else(|| anyhow::anyhow!("--post {code:?} is not a post code or `all`"))?,
                ),
            };
            let scope = Scope { post, from, to, service: None, fee_code: None, method: None, clerk: None };
            let format = crate::reports::export::Format::parse(&format)
                .ok_or_else(|| anyhow::anyhow!("--format {format:?} is not csv, xlsx, json or pdf"))?;
            crate::reports::export::to_file(&settings, scope, format, &out, bom)
        }
        Command::Audit { command: AuditCommand::Verify { post, expect } } => {
            let post = post
                .map(|p| {
                    crate::reference::post_code(&p)
                        .ok_or_else(|| anyhow::anyhow!("--post {p:?} is not a post code"))
                })
                .transpose()?;
            let expected = expect
                .iter()
                .map(|h| {
                    Head::parse(h).ok_or_else(|| anyhow::anyhow!("--expect {h:?} is not CHAIN:SEQ:HASH"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            // A check changes nothing: no migrations, no seeding, no new database file.
            if let crate::config::DatabaseUrl::Sqlite(path) = &settings.database_url {
                let file = path.split('?').next().unwrap_or(path);
                if !std::path::Path::new(file).is_file() {
                    anyhow::bail!("no database to check: {file} does not exist");
                }
            }
            let pool = crate::db::build_pool(&settings.database_url, 1)
                .with_context(|| format!("cannot open the database {:?}", settings.database_url))?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            if let Some(p) = &post {
                use diesel::prelude::*;
                let known: i64 = crate::db::schema::posts::table
                    .find(p)
                    .count()
                    .get_result(&mut conn)
                    .context("the posts can't be read (has this database been migrated?)")?;
                anyhow::ensure!(known > 0, "--post {p:?}: no such post");
            }
            let outcome = audit::read::verify(&mut conn, post.as_deref(), &expected, Clock::system().naive())
                .context("the audit tables can't be read (has this database been migrated?)")?;
            println!("{}", serde_json::to_string(&outcome)?);
            match outcome.first_bad {
                None => Ok(()),
                Some(bad) => Err(anyhow::anyhow!(broken(&bad))),
            }
        }
    }
}

/// `restore`: what was done, what the copy ends with, and what staff must do about the
/// numbers issued after the backup.
fn restore(settings: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let (done, contents) = match &settings.database_url {
        DatabaseUrl::Sqlite(path) => {
            let db = backup::sqlite_file(path);
            let restored = backup::restore::sqlite(file, db, Clock::system().naive())?;
            let before = match &restored.kept_aside {
                Some(aside) => format!("the database there before is kept as {}", aside.display()),
                None => "there was no database there before".into(),
            };
            let done = format!(
                "restored {} → {}: integrity ok; audit chains ok ({} entries); {before}",
                file.display(),
                db.display(),
                restored.contents.entries
            );
            (done, restored.contents)
        }
        DatabaseUrl::Postgres(url) => {
            let contents = backup::postgres::restore(file, url)?;
            let done = format!(
                "restored {} into the empty database of DATABASE_URL with pg_restore: audit chains ok ({} entries)",
                file.display(),
                contents.entries
            );
            (done, contents)
        }
    };
    println!("{done}");
    println!("the copy ends with: {}; audit heads {}", contents.numbers_text(), contents.heads_text());
    println!("{}", backup::REISSUE_WARNING);
    Ok(())
}

/// `keys export`: one line of output.
fn export_keys(settings: &Settings, out: &std::path::Path) -> anyhow::Result<()> {
    println!("{}", crate::server_keys::export::run(settings, out)?);
    Ok(())
}

/// One line for a terminal naming where the trail, or a record held to it, fails.
fn broken(bad: &audit::read::BadEntry) -> String {
    if let Some(table) = &bad.table {
        let row = bad.row_id.map(|r| format!(" {r}")).unwrap_or_default();
        let entry = bad.id.map(|id| format!(" (audit entry {id})")).unwrap_or_default();
        let field = bad.field.as_ref().map(|f| format!(" in {f}")).unwrap_or_default();
        return format!("audit record {table}{row}{entry} fails: {}{field}", bad.problem);
    }
    let at = match (bad.seq, bad.id) {
        (Some(seq), _) if bad.problem == "rewritten" => format!("at entry {seq}"),
        (Some(seq), Some(id)) => format!("at entry {seq} (id {id})"),
        (Some(seq), None) => format!("at entry {seq} (gone)"),
        (None, id) => format!("outside it (id {})", id.unwrap_or_default()),
    };
    format!("audit chain {} is broken {at}: {}", bad.chain, bad.problem)
}

/// One line for a terminal: the detail, and the field messages of a 422.
fn describe(err: &crate::error::AppError) -> String {
    let problem = err.problem();
    let fields: Vec<String> = problem.errors.iter().map(|f| format!("{} {}", f.field, f.message())).collect();
    if fields.is_empty() {
        problem.detail
    } else {
        fields.join("; ")
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = format!("{:?}", settings.database_url);
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        println!("consular-desk listening on http://{} ({database}); API docs at /docs/", app.address());
        if app.needs_first_admin() {
            println!(
                "no admin account yet; create one with:\n  \
                 echo 'a long passphrase' | cargo run --release -- create-staff --username admin --role admin --password-stdin"
            );
        }
        app.run_until_stopped().await.context("server stopped with an error")
    })
}
