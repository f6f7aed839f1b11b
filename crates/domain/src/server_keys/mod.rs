//! The server's keys and where each one lives. A key comes from its environment variable, else
//! from the key file (`CONSULAR_DESK_KEY_FILE`), else from the database (`app_secrets`,
//! generated on first use): the embedded default, so the two-command start needs nothing set.
//! Kept beside the hashes it keys, though, a copy of the database recovers document numbers
//! from their last four, so production keeps them outside.
//!
//! A key lives in one place, never silently two: with a key file set, the database may hold
//! no key at all; without one, it may not hold a key its variable also sets. Once the keys
//! have been moved out (`keys export`, which leaves an audit entry), none is generated in the
//! database again: a server started without its key file would otherwise make new keys and
//! quietly stop matching every earlier record and receipt.

pub mod export;
pub mod file;

use anyhow::bail;
use diesel::prelude::*;

use crate::auth::tokens::Keys;
use crate::config::{Secret, Settings};
use crate::db::schema::{app_secrets, audit_log};
use crate::db::DbConn;
use file::KeyFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyName {
    /// Keys the hashes of document numbers and of the surnames the tracking lookup compares.
    DocumentMatching,
    /// Keys the verification codes printed on receipts.
    ReceiptSigning,
    /// Signs applicants' tokens.
    JwtPublic,
    /// Signs staff tokens.
    JwtStaff,
}

impl KeyName {
    pub const ALL: [KeyName; 4] =
        [KeyName::DocumentMatching, KeyName::ReceiptSigning, KeyName::JwtPublic, KeyName::JwtStaff];

    /// The key's name in the key file and its row in `app_secrets`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyName::DocumentMatching => "document_matching",
            KeyName::ReceiptSigning => "receipt_signing",
            KeyName::JwtPublic => "jwt_public",
            KeyName::JwtStaff => "jwt_staff",
        }
    }

    pub fn parse(name: &str) -> Option<KeyName> {
        KeyName::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The environment variable that may give the key.
    pub fn variable(self) -> &'static str {
        match self {
            KeyName::DocumentMatching => "CONSULAR_DESK_DOCUMENT_MATCHING_SECRET",
            KeyName::ReceiptSigning => "CONSULAR_DESK_RECEIPT_SIGNING_SECRET",
            KeyName::JwtPublic => "CONSULAR_DESK_PUBLIC_JWT_SECRET",
            KeyName::JwtStaff => "CONSULAR_DESK_STAFF_JWT_SECRET",
        }
    }

    /// The value its variable gave, if any.
    fn in_variable(self, settings: &Settings) -> Option<&Secret> {
        match self {
            KeyName::DocumentMatching => settings.keys.document_matching_secret.as_ref(),
            KeyName::ReceiptSigning => settings.keys.receipt_signing_secret.as_ref(),
            KeyName::JwtPublic => settings.jwt.public_secret.as_ref(),
            KeyName::JwtStaff => settings.jwt.staff_secret.as_ref(),
        }
    }

    /// `a, b, c` for a message.
    pub fn list(names: &[KeyName]) -> String {
        names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Every server key, loaded once at start.
pub struct ServerKeys {
    keys: Vec<(KeyName, Secret)>,
    in_database: Vec<KeyName>,
}

impl ServerKeys {
    /// Loads every key from where it lives, refusing any mix (see the module's comment).
    pub fn load(settings: &Settings, conn: &mut DbConn) -> anyhow::Result<ServerKeys> {
        let file = settings.keys.file.as_deref().map(file::read).transpose()?;
        let held = held(conn)?;
        let mut outside = Vec::new();
        for name in KeyName::ALL {
            outside.push((name, from_outside(name, settings, file.as_ref())?));
        }
        match &file {
            Some(file) => {
                if !held.is_empty() {
                    bail!("{}", still_held(&held));
                }
                let missing: Vec<KeyName> =
                    outside.iter().filter(|(_, s)| s.is_none()).map(|(n, _)| *n).collect();
                if !missing.is_empty() {
                    bail!(
                        "CONSULAR_DESK_KEY_FILE {} lacks {} (and no variable gives it)",
                        file.path().display(),
                        KeyName::list(&missing)
                    );
                }
            }
            None => {
                let twice: Vec<KeyName> = outside
                    .iter()
                    .filter(|(n, s)| s.is_some() && held.contains(n))
                    .map(|(n, _)| *n)
                    .collect();
                if !twice.is_empty() {
                    bail!("{} (their variables set them too)", still_held(&twice));
                }
            }
        }
        let mut keys = Vec::new();
        let mut in_database = Vec::new();
        for (name, secret) in outside {
            let secret = match secret {
                Some(secret) => secret,
                None => {
                    in_database.push(name);
                    database_key(conn, name)?
                }
            };
            keys.push((name, secret));
        }
        Ok(ServerKeys { keys, in_database })
    }

    pub fn get(&self, name: KeyName) -> &Secret {
        self.keys
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, secret)| secret)
            .unwrap_or_else(|| unreachable!("load gives every key"))
    }

    /// The keys kept in the database (the embedded default), for the start-up warning.
    pub fn in_database(&self) -> &[KeyName] {
        &self.in_database
    }

    /// The token signers, with the settings' previous secrets still verifying.
    pub fn tokens(&self, settings: &Settings) -> Keys {
        Keys::new(&settings.jwt, self.get(KeyName::JwtPublic), self.get(KeyName::JwtStaff))
    }
}

/// The key from its variable or the key file; both may give it only if they agree.
fn from_outside(
    name: KeyName,
    settings: &Settings,
    file: Option<&KeyFile>,
) -> anyhow::Result<Option<Secret>> {
    let in_file = file.and_then(|f| f.get(name));
    match (name.in_variable(settings), in_file) {
        (Some(variable), Some(in_file)) if variable != in_file => bail!(
            "{} and CONSULAR_DESK_KEY_FILE give {} different values; keep one",
            name.variable(),
            name.as_str()
        ),
        (variable, in_file) => Ok(variable.or(in_file).cloned()),
    }
}

/// The known keys `app_secrets` holds.
fn held(conn: &mut DbConn) -> anyhow::Result<Vec<KeyName>> {
    let names: Vec<String> = app_secrets::table.select(app_secrets::name).load(conn)?;
    Ok(KeyName::ALL.into_iter().filter(|k| names.iter().any(|n| n == k.as_str())).collect())
}

fn still_held(names: &[KeyName]) -> String {
    format!(
        "the database still holds the keys {}: a key lives in one place. Stop every instance and \
         move them out with `consular-desk keys export --out FILE`, then set \
         CONSULAR_DESK_KEY_FILE=FILE",
        KeyName::list(names)
    )
}

/// The key as `app_secrets` keeps it, generated on first use, unless the keys were moved out.
fn database_key(conn: &mut DbConn, name: KeyName) -> anyhow::Result<Secret> {
    if let Some(secret) = crate::secrets::find(conn, name.as_str())? {
        return Ok(secret);
    }
    if moved_out(conn)? {
        bail!(
            "the server keys were moved out of the database (`keys export`); set \
             CONSULAR_DESK_KEY_FILE to that file, or {} to the key",
            name.variable()
        );
    }
    crate::secrets::stored(conn, name.as_str())
}

/// Whether `keys export` ever ran on this database: its audit entry stays for good.
fn moved_out(conn: &mut DbConn) -> QueryResult<bool> {
    use crate::audit::Action;
    let action = Action::ServerKeysExported;
    diesel::select(diesel::dsl::exists(
        audit_log::table
            .filter(audit_log::entity.eq(action.entity()))
            .filter(audit_log::action.eq(action.as_str())),
    ))
    .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_have_their_own_variables() {
        for name in KeyName::ALL {
            assert_eq!(KeyName::parse(name.as_str()), Some(name));
            assert!(name.variable().starts_with("CONSULAR_DESK_"));
        }
        let variables: std::collections::HashSet<_> = KeyName::ALL.iter().map(|n| n.variable()).collect();
        assert_eq!(variables.len(), KeyName::ALL.len());
        assert_eq!(KeyName::parse("app_secrets"), None);
    }
}
