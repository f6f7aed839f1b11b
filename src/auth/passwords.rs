//! argon2id password hashing. Slow on purpose, so callers run it through `web::block`.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use std::sync::OnceLock;

/// Hashes with argon2id (default parameters: 19 MiB, 2 passes) and a random salt, as a PHC
/// string that carries its own parameters.
pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Checks a password against a stored hash. `None` (no such account) still burns one
/// verification against a fixed hash, so an unknown user costs the same time as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (stored, real) = match stored {
        Some(s) => (s, true),
        None => (dummy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    matches && real
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("no account has this password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_password() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("correct horse batterx", Some(&h)));
    }

    #[test]
    fn unknown_account_never_verifies() {
        assert!(!verify("no account has this password", None));
        assert!(!verify("anything", Some("not a phc string")));
    }
}
