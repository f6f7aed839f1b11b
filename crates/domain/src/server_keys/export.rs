//! `consular-desk keys export --out FILE`: moves the server keys out of the database. The file
//! is written and made durable first, then the keys leave `app_secrets` (with the audit entry,
//! in one transaction), so a failure at any step loses no key.

use std::path::Path;

use anyhow::Context;
use diesel::prelude::*;
use serde_json::json;

use super::{database_key, file, held, KeyName};
use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::config::{Secret, Settings};
use crate::db::schema::app_secrets;

/// Writes every key the server would use without a key file (its variable's value, else the
/// database's, generated if not yet) to `out`, then deletes the database's. Returns the line to
/// print.
pub fn run(settings: &Settings, out: &Path) -> anyhow::Result<String> {
    if out.exists() {
        anyhow::bail!("{} already exists; keys export never overwrites a file", out.display());
    }
    let url = &settings.database_url;
    let pool = crate::db::build_pool(url, 1).with_context(|| format!("cannot open the database {url:?}"))?;
    crate::db::run_migrations(url)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let mut keys: Vec<(KeyName, Secret)> = Vec::new();
    for name in KeyName::ALL {
        let secret = match name.in_variable(settings) {
            Some(secret) => secret.clone(),
            None => database_key(&mut conn, name)?,
        };
        keys.push((name, secret));
    }
    file::create(out, &file::render(&keys)?)?;

    let removed = held(&mut conn)?;
    let names: Vec<&str> = removed.iter().map(|n| n.as_str()).collect();
    conn.transaction(|conn| {
        diesel::delete(app_secrets::table.filter(app_secrets::name.eq_any(&names))).execute(conn)?;
        let exported: Vec<&str> = KeyName::ALL.iter().map(|n| n.as_str()).collect();
        let event = Event::unnamed(Action::ServerKeysExported)
            .with(json!({"keys": exported, "removed_from_database": names}));
        audit::record(conn, &Actor::System, event, crate::clock::Clock::system().naive())
    })
    .context("the key file is written, but removing the keys from the database failed")?;
    // No server may be running to seal the entry: seal it here.
    audit::seal::seal_pending(&mut conn)?;
    let removed = if names.is_empty() { "none".to_string() } else { names.join(", ") };
    Ok(format!(
        "wrote {count} keys to {path} and removed {removed} from the database; set \
         CONSULAR_DESK_KEY_FILE={path} on every instance",
        count = KeyName::ALL.len(),
        path = out.display(),
    ))
}
