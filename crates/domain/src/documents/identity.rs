//! Identity-document and passport numbers are kept masked (last 4) with a keyed hash for
//! matching, never whole and never logged (docs/DOMAIN.md, "Data minimization"). The same key folds
//! the surnames the public tracking lookup compares, so no plain surname is kept twice.

use hmac::Mac;
use serde::{Deserialize, Serialize};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use crate::config::Secret;
use crate::db::DbConn;
use crate::rule::Rule;
use crate::secrets::Key;
use crate::server_keys::KeyName;

/// The server's key for document-number hashes and surname keys (`server_keys`).
pub struct MatchingKey(Key);

impl MatchingKey {
    pub fn new(secret: Secret) -> MatchingKey {
        MatchingKey(Key::new(secret))
    }

    /// The key as the database keeps it (the embedded default); the server takes it from
    /// `server_keys`, which knows where it lives.
    pub fn load(conn: &mut DbConn) -> anyhow::Result<MatchingKey> {
        Ok(MatchingKey(Key::load(conn, KeyName::DocumentMatching.as_str())?))
    }

    fn hex(&self, purpose: &str, text: &str) -> String {
        self.0.tag(purpose, text).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A number as it is kept: the last four symbols and the keyed hash of the whole.
    pub fn mask(&self, number: &DocumentNumber) -> MaskedNumber {
        let tail: String = number.0.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        MaskedNumber { masked: format!("****{tail}"), hash: Some(self.hex("number", &number.0)) }
    }

    /// The key a surname is compared by: [`fold_surname`], then the keyed hash.
    pub fn surname_key(&self, surname: &str) -> String {
        self.hex("surname", &fold_surname(surname))
    }

    /// Whether `surname` folds to the one `key` was made from, in constant time. A `key` that
    /// is not hex (the stand-in for an unknown number) matches nothing, in the same time.
    /// A surname that folds to nothing (only punctuation) matches nothing either.
    pub fn surname_matches(&self, surname: &str, key: &str) -> bool {
        let expected = from_hex(key).unwrap_or_else(|| vec![0; 32]);
        let folded = fold_surname(surname);
        let same = self.0.mac("surname", &folded).verify_slice(&expected).is_ok();
        same && !folded.is_empty()
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// A passport or identity-document number as typed: 5 to 20 letters and digits once spaces
/// and dashes are dropped, kept upper-case. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentNumber(String);

impl DocumentNumber {
    pub fn parse(raw: &str) -> Result<DocumentNumber, Rule> {
        let symbols: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(5..=20).contains(&symbols.chars().count()) || !symbols.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(Rule::DocumentNumber);
        }
        Ok(DocumentNumber(symbols.to_ascii_uppercase()))
    }
}

impl std::fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocumentNumber(…)")
    }
}

/// A number as kept: `****1234`, and (stored, never shown) its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaskedNumber {
    /// The last four symbols, e.g. `****1234`.
    pub masked: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub hash: Option<String>,
}

impl MaskedNumber {
    /// What clients see: the mask without the hash.
    pub fn shown(&self) -> MaskedNumber {
        MaskedNumber { masked: self.masked.clone(), hash: None }
    }
}

/// A surname as the tracking lookup compares it: decomposed, accents dropped, lower-cased, and
/// only letters and digits kept (`Núñez`, `NUNEZ` and `nunez` agree; so do `O'Brien` and
/// `obrien`).
pub fn fold_surname(surname: &str) -> String {
    surname
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MatchingKey {
        MatchingKey::new(Secret::new("k".repeat(48)))
    }

    #[test]
    fn numbers_are_kept_as_their_last_four_and_a_keyed_hash() {
        let number = DocumentNumber::parse("e 1234-5678").expect("valid");
        let masked = key().mask(&number);
        assert_eq!(masked.masked, "****5678");
        assert_eq!(masked.hash, key().mask(&DocumentNumber::parse("E12345678").expect("valid")).hash);
        let other = MatchingKey::new(Secret::new("j".repeat(48)));
        assert_ne!(masked.hash, other.mask(&number).hash, "the hash depends on the server's key");
        assert_eq!(masked.shown().hash, None);
        assert!(!format!("{number:?}").contains("5678"));
    }

    #[test]
    fn numbers_of_the_wrong_shape_are_refused() {
        for bad in ["", "1234", "ABC/12345", "Ñ12345678", &"9".repeat(21)] {
            assert!(DocumentNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn surnames_compare_without_case_accents_or_punctuation() {
        assert_eq!(fold_surname("Núñez"), "nunez");
        assert_eq!(fold_surname("NUÑEZ "), "nunez");
        assert_eq!(fold_surname("O'Brien-Smith"), "obriensmith");
        assert_eq!(fold_surname("王"), "王");
        let stored = key().surname_key("Núñez");
        assert!(key().surname_matches("nunez", &stored));
        assert!(!key().surname_matches("Nuno", &stored));
        assert!(!key().surname_matches("Núñez", "not hex"));
        assert!(!key().surname_matches("'", &key().surname_key("-")), "punctuation is no surname");
    }
}
