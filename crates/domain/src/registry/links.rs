//! The signed links in the registry's messages: whoever holds one may see, change or delete
//! that registration (or, with the newsletter's, stop the newsletter), without an account.
//! A link is the stay's id with an HMAC-SHA-256 tag over the id and the address it was sent
//! to, under the server's document-matching key with a purpose of its own: a changed address
//! ends the links sent to the old one, and a tag for one purpose opens nothing else.

use base64::Engine;

use crate::config::Secret;
use crate::secrets::Key;

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// See, change, confirm or delete the registration.
    Manage,
    /// Stop the newsletter (RFC 8058 one-click unsubscribe).
    Unsubscribe,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::Manage => "registry.manage",
            Purpose::Unsubscribe => "registry.unsubscribe",
        }
    }
}

/// The key the links are signed with.
pub struct StayKey(Key);

/// Bytes of the tag kept in a link: 128 bits.
const TAG_BYTES: usize = 16;

impl StayKey {
    pub fn new(secret: Secret) -> StayKey {
        StayKey(Key::new(secret))
    }

    /// The `sig` of stay `id`, sent to `email`, for `purpose`.
    pub fn sign(&self, purpose: Purpose, id: i64, email: &str) -> String {
        let tag = self.0.tag(purpose.label(), &format!("{id}\n{}", email.to_lowercase()));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
    }

    /// Whether `sig` is the tag of stay `id` at `email` for `purpose`; compared in constant
    /// time.
    pub fn holds(&self, purpose: Purpose, id: i64, email: &str, sig: &str) -> bool {
        let expected = self.sign(purpose, id, email);
        let (a, b) = (expected.as_bytes(), sig.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The page a stay's holder manages it on.
pub fn manage_url(public_url: &str, key: &StayKey, id: i64, email: &str) -> String {
    let sig = key.sign(Purpose::Manage, id, email);
    format!("{}/registry/{id}?sig={sig}", public_url.trim_end_matches('/'))
}

/// The newsletter's unsubscribe address (`List-Unsubscribe`): a page with a button for a
/// person, and RFC 8058's one-click POST for a mail program.
pub fn unsubscribe_url(public_url: &str, key: &StayKey, id: i64, email: &str) -> String {
    let sig = key.sign(Purpose::Unsubscribe, id, email);
    format!("{}/registry/{id}/unsubscribe?sig={sig}", public_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StayKey {
        StayKey::new(Secret::new("a test secret that is long enough".into()))
    }

    #[test]
    fn a_link_opens_its_own_stay_for_its_own_purpose_at_its_own_address() {
        let key = key();
        let sig = key.sign(Purpose::Manage, 7, "ana@example.mx");
        assert!(key.holds(Purpose::Manage, 7, "ana@example.mx", &sig));
        assert!(key.holds(Purpose::Manage, 7, "ANA@example.mx", &sig), "addresses compare lower-cased");
        assert!(!key.holds(Purpose::Manage, 8, "ana@example.mx", &sig));
        assert!(!key.holds(Purpose::Manage, 7, "otra@example.mx", &sig));
        assert!(!key.holds(Purpose::Unsubscribe, 7, "ana@example.mx", &sig));
        assert!(!key.holds(Purpose::Manage, 7, "ana@example.mx", ""));
        assert!(!key.holds(Purpose::Manage, 7, "ana@example.mx", &sig[..sig.len() - 1]));
    }

    #[test]
    fn links_name_the_stay_and_carry_the_tag() {
        let key = key();
        let url = manage_url("https://desk.example/", &key, 42, "ana@example.mx");
        assert!(url.starts_with("https://desk.example/registry/42?sig="), "{url}");
        let unsubscribe = unsubscribe_url("https://desk.example", &key, 42, "ana@example.mx");
        assert!(unsubscribe.starts_with("https://desk.example/registry/42/unsubscribe?sig="));
        assert_ne!(url.split("sig=").nth(1), unsubscribe.split("sig=").nth(1));
    }
}
