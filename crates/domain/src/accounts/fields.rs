//! Parse-don't-validate newtypes for what people type into account forms.

use crate::rule::Rule;
use unicode_normalization::UnicodeNormalization;

/// An e-mail address of plausible shape, stored lower-cased. Deliverability is not checked.
/// The rule is exactly the `pattern` the OpenAPI document gives (`api::auth`): no trimming, so
/// what the document refuses the server refuses too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, Rule> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(Rule::LongerThan { max: Self::MAX_CHARS });
        }
        let Some((local, domain)) = raw.split_once('@') else {
            return Err(Rule::NotAnEmail);
        };
        let label_ok = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let domain_ok = domain.split('.').count() >= 2 && domain.split('.').all(label_ok);
        let local_ok = (1..=64).contains(&local.chars().count())
            && !local.chars().any(|c| space(c) || c.is_control() || c == '@' || hidden_in_address(c));
        if !(domain_ok && local_ok) {
            return Err(Rule::NotAnEmail);
        }
        Ok(Email(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whitespace as the OpenAPI patterns' `\s` reads it: Unicode White_Space, and the byte order
/// mark, which ECMA-262 counts too.
fn space(c: char) -> bool {
    c.is_whitespace() || c == '\u{FEFF}'
}

/// Characters that print as nothing, refused in an address so that `a\u{200B}na@…` can't
/// pass for `ana@…` (an account lookalike, and mail that would go nowhere). Exactly the ranges
/// the OpenAPI pattern excludes (`field_schemas::email`).
fn hidden_in_address(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}')
}

/// A new password: 10 to 128 characters (NIST 800-63B asks for at least 8; the cap keeps
/// argon2 from being fed megabytes).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<NewPassword, Rule> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Rule::AtLeastChars { min: Self::MIN_CHARS });
        }
        if chars > Self::MAX_CHARS {
            return Err(Rule::AtMostChars { max: Self::MAX_CHARS });
        }
        if raw.chars().all(space) {
            return Err(Rule::OnlySpaces);
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

/// A person's name as printed on papers: 1 to 200 characters, inner spaces collapsed, stored
/// in Unicode NFC so that the same name typed on two keyboards is the same string. Accents are
/// kept (José Núñez); control and invisible format characters are refused, since they make
/// two different-looking names equal or one name look like another on a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<PersonName, Rule> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(Rule::LongerThan { max: Self::MAX_CHARS });
        }
        if raw.chars().any(invisible) {
            return Err(Rule::Invisible);
        }
        let value: String = raw.split_whitespace().collect::<Vec<_>>().join(" ").nfc().collect();
        if value.is_empty() {
            return Err(Rule::Empty);
        }
        Ok(PersonName(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters no name and no typed text needs (also [`crate::booking::free_text`]'s rule): controls (tabs and line breaks included), the Unicode format
/// characters (category Cf: bidi overrides and isolates, zero-width space,
/// joiners, soft hyphen, word joiner, BOM, tags, ...), line and paragraph separators, private
/// use and noncharacters.
pub fn invisible(c: char) -> bool {
    let cp = c as u32;
    c.is_control()
        || matches!(cp,
            0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x3164 | 0xFEFF | 0xFFA0
            | 0x0600..=0x0605 | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180B..=0x180F
            | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0xFE00..=0xFE0F | 0xFFF9..=0xFFFB
            | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFDD0..=0xFDEF)
        || (cp & 0xFFFE) == 0xFFFE
}

/// A staff login name: 3 to 64 of `A-Z a-z 0-9 . _ -`, stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, Rule> {
        // Checked before lower-casing: Unicode lower-cases the Kelvin sign to `k`.
        if !(3..=64).contains(&raw.len()) {
            return Err(Rule::CharsBetween { min: 3, max: 64 });
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(Rule::UsernameSymbols);
        }
        Ok(Username(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse("Ana.Lopez@Example.MX").map(|e| e.0), Ok("ana.lopez@example.mx".into()));
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.mx",
            "ana@example",
            "ana lopez@example.mx",
            "ana@exa mple.mx",
            "ana@@example.mx",
            "ana@.mx",
            " ana@example.mx",
            "ana@exam_ple.mx",
            "a\u{200B}na@example.mx",
            "ana\u{00AD}@example.mx",
            "an\u{2066}a@example.mx",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("          ").is_err());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
        assert!(NewPassword::parse("contraseña segura").is_ok());
        assert!(!format!("{:?}", NewPassword::parse("secret-value-1").expect("valid")).contains("secret"));
    }

    #[test]
    fn names_keep_accents_and_collapse_spaces() {
        assert_eq!(PersonName::parse("  José   Núñez ").map(|n| n.0), Ok("José Núñez".into()));
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse("a\u{0007}b").is_err());
        assert!(PersonName::parse("Ana\tLópez").is_err());
        assert!(PersonName::parse(&format!("{}{}", " ".repeat(150), "a".repeat(60))).is_err());
    }

    #[test]
    fn names_are_stored_nfc() {
        // "Núñez" typed with combining marks is the same name as with precomposed letters.
        let decomposed = "Nu\u{0301}n\u{0303}ez";
        assert_eq!(PersonName::parse(decomposed).map(|n| n.0), Ok("Núñez".into()));
    }

    #[test]
    fn names_refuse_invisible_and_bidi_characters() {
        for bad in [
            "Ana\u{200B}López", // zero-width space
            "Ana\u{200D}López", // zero-width joiner
            "\u{202E}zeñúN",    // right-to-left override
            "Ana\u{2066}López", // left-to-right isolate
            "Ana\u{FEFF}",      // byte order mark
            "Ana\u{00AD}López", // soft hyphen
            "Ana\u{2028}López", // line separator
            "Ana\u{E0041}",     // tag character
            "Ana\u{E000}",      // private use
        ] {
            assert!(PersonName::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(PersonName::parse("Zoë O'Brien-Ávila").is_ok());
        assert!(PersonName::parse("محمد").is_ok());
        assert!(PersonName::parse("李小龍").is_ok());
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("M.Garcia").map(|u| u.0), Ok("m.garcia".into()));
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("drop table").is_err());
        assert!(Username::parse("\u{212A}elvin").is_err(), "the Kelvin sign is not a k");
    }
}
