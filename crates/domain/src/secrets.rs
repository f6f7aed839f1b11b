//! Server secrets that are not configured: generated on first start and kept in the database
//! (`app_secrets`), so restarts and other instances agree.

use base64::Engine;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::Secret;
use crate::db::schema::app_secrets;
use crate::db::{is_unique_violation, DbConn};

/// The secret stored as `name`, if there is one.
pub fn find(conn: &mut DbConn, name: &str) -> QueryResult<Option<Secret>> {
    let value = app_secrets::table.find(name).select(app_secrets::value).first::<String>(conn).optional()?;
    Ok(value.map(Secret::new))
}

/// The secret stored as `name`, generated (48 random bytes) and stored if there is none yet.
pub fn stored(conn: &mut DbConn, name: &str) -> anyhow::Result<Secret> {
    if let Some(secret) = find(conn, name)? {
        return Ok(secret);
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let generated = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let inserted = diesel::insert_into(app_secrets::table)
        .values((
            app_secrets::name.eq(name),
            app_secrets::value.eq(&generated),
            // When the key was made, on the machine's clock: a record, not a decision.
            app_secrets::created_at.eq(crate::clock::Clock::system().naive()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Secret::new(generated)),
        // Another instance stored its secret first: use that one.
        Err(e) if is_unique_violation(&e) => {
            find(conn, name)?.ok_or_else(|| anyhow::anyhow!("secret {name} vanished after a conflict"))
        }
        Err(e) => Err(e.into()),
    }
}

/// A server key for keyed hashes (HMAC-SHA-256): document numbers, surnames, receipt codes.
pub struct Key(Secret);

impl Key {
    pub fn new(secret: Secret) -> Key {
        Key(secret)
    }

    /// The key stored as `name` (generated on first start).
    pub fn load(conn: &mut DbConn, name: &str) -> anyhow::Result<Key> {
        Ok(Key(stored(conn, name)?))
    }

    /// HMAC-SHA-256 of `text` under `purpose`, so one purpose's tag is never another's.
    pub fn mac(&self, purpose: &str, text: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(text.as_bytes());
        mac
    }

    /// The tag's bytes.
    pub fn tag(&self, purpose: &str, text: &str) -> [u8; 32] {
        self.mac(purpose, text).finalize().into_bytes().into()
    }
}
