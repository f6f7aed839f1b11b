//! The code printed on a receipt (and in its QR code) that proves the server issued it: ten
//! symbols of HMAC-SHA-256 over the receipt number under a server key (50 bits), shown as
//! `K7QM4-XPT9A`. Anyone can check it at `GET /api/v1/receipts/verify/{receipt_number}?sig=`;
//! a changed number or code fails.

use crate::booking::reference_code::ALPHABET;
use crate::db::DbConn;
use crate::secrets::Key;
use crate::server_keys::KeyName;

const SYMBOLS: usize = 10;

pub struct ReceiptKey(Key);

impl ReceiptKey {
    pub fn new(key: Key) -> ReceiptKey {
        ReceiptKey(key)
    }

    /// The key as the database keeps it (the embedded default); the server takes it from
    /// `server_keys`, which knows where it lives.
    pub fn load(conn: &mut DbConn) -> anyhow::Result<ReceiptKey> {
        Ok(ReceiptKey(Key::load(conn, KeyName::ReceiptSigning.as_str())?))
    }

    /// The receipt's code, `K7QM4-XPT9A`.
    pub fn code(&self, receipt_number: &str) -> String {
        let tag = self.0.tag("receipt", receipt_number);
        // Five bits per symbol, from the tag's first 50 bits.
        let bits = tag.iter().take(8).fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let symbols: String =
            (0..SYMBOLS).map(|i| ALPHABET[((bits >> (59 - 5 * i)) & 31) as usize] as char).collect();
        format!("{}-{}", &symbols[..5], &symbols[5..])
    }

    /// Whether `sig` (any case, dashes and spaces ignored) is `receipt_number`'s code; every
    /// symbol is compared, whatever the first difference.
    pub fn verify(&self, receipt_number: &str, sig: &str) -> bool {
        let given: Vec<u8> = sig
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| u8::try_from(c.to_ascii_uppercase()).unwrap_or(0))
            .collect();
        let expected: Vec<u8> = self.code(receipt_number).bytes().filter(|b| *b != b'-').collect();
        given.len() == expected.len()
            && given.iter().zip(&expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn key(k: &str) -> ReceiptKey {
        ReceiptKey::new(Key::new(Secret::new(k.repeat(48))))
    }

    #[test]
    fn a_code_verifies_its_receipt_only() {
        let code = key("k").code("MEX-2027-000123");
        assert_eq!(code.len(), 11);
        assert!(key("k").verify("MEX-2027-000123", &code));
        assert!(key("k").verify("MEX-2027-000123", &code.to_lowercase().replace('-', " ")));
        assert!(!key("k").verify("MEX-2027-000124", &code), "another receipt");
        assert!(!key("j").verify("MEX-2027-000123", &code), "another server's key");
        let mut altered = code.into_bytes();
        altered[0] = if altered[0] == b'2' { b'3' } else { b'2' };
        assert!(!key("k").verify("MEX-2027-000123", &String::from_utf8(altered).expect("ascii")));
        assert!(!key("k").verify("MEX-2027-000123", ""));
    }
}
