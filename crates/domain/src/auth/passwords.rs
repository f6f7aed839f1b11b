//! argon2id password hashing, reusing each thread's 19 MiB of working memory.
//!
//! `Argon2::hash_password` allocates and frees its memory on every call; on a thread pool the
//! freed blocks stay in each thread's malloc arena, so a sign-in storm grew the process by
//! gigabytes that never came back. Here every hashing thread keeps one buffer and reuses it, so
//! memory is bounded by the number of hashing threads ([`crate::auth::hash_pool`]).
//! Slow on purpose: run it on the hashing pool, never on an async worker.

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

/// Stored hashes asking for more memory than this (64 MiB) are refused rather than honoured:
/// a tampered row must not make the server allocate without bound.
const MAX_MEMORY_BLOCKS: usize = 64 * 1024;

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` over this thread's argon2 memory, grown to `blocks` if needed and then kept.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        f(&mut memory[..blocks])
    })
}

/// Hashes with argon2id (default parameters: 19 MiB, 2 passes) and a random salt, as a PHC
/// string that carries its own parameters.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
    })
    .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("{e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    Ok(phc.to_string())
}

/// Checks a password against a stored hash. `None` (no such account) still burns one
/// verification against a fixed hash, so an unknown user costs the same time as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (stored, real) = match stored {
        Some(s) => (s, true),
        None => (dummy_hash(), false),
    };
    matches(password, stored).unwrap_or(false) && real
}

/// `Some(true)` when `password` hashes to `stored`; `None` when `stored` is not an argon2 PHC
/// string this server accepts.
fn matches(password: &str, stored: &str) -> Option<bool> {
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm: Algorithm = parsed.algorithm.as_str().parse().ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    if params.block_count() > MAX_MEMORY_BLOCKS {
        return None;
    }
    let (salt, expected) = (parsed.salt?, parsed.hash?);
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    with_memory(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, memory)
    })
    .ok()?;
    // Constant time: every byte is compared whatever the first difference.
    let difference = out.iter().zip(expected.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    Some(difference == 0)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("no account has this password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    #[test]
    fn round_trip_and_wrong_password() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("correct horse batterx", Some(&h)));
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crate() {
        // Hashes stored before this module reused memory must still verify, and ours must
        // verify with the crate's own verifier.
        let ours = hash("contraseña segura").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default().verify_password(b"contrase\xc3\xb1a segura", &parsed).is_ok());
        use argon2::password_hash::PasswordHasher;
        let theirs = Argon2::default().hash_password(b"old account password").expect("hash").to_string();
        assert!(verify("old account password", Some(&theirs)));
    }

    #[test]
    fn unknown_account_never_verifies() {
        assert!(!verify("no account has this password", None));
        assert!(!verify("anything", Some("not a phc string")));
    }

    #[test]
    fn absurd_memory_parameters_are_refused() {
        let greedy = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$\
                      AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!verify("x", Some(greedy)));
    }
}
