//! Parse-don't-validate newtypes for what people type into account forms.

/// A lower-cased, trimmed e-mail address of plausible shape. Deliverability is not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let value = raw.trim().to_lowercase();
        if value.len() > 254 {
            return Err("is longer than 254 characters");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err("is not an e-mail address");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@');
        if !(domain_ok && local_ok) {
            return Err("is not an e-mail address");
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10 to 128 characters (NIST 800-63B asks for at least 8; the cap keeps
/// argon2 from being fed megabytes).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<NewPassword, String> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(format!("must be at least {} characters", Self::MIN_CHARS));
        }
        if chars > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if raw.trim().is_empty() {
            return Err("must not be only spaces".into());
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

/// A person's name as printed on papers: 1 to 200 characters, no control characters, inner
/// spaces collapsed. Accents are kept (José Núñez).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<PersonName, &'static str> {
        let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if value.is_empty() {
            return Err("must not be empty");
        }
        if value.chars().count() > 200 {
            return Err("is longer than 200 characters");
        }
        if value.chars().any(char::is_control) {
            return Err("contains control characters");
        }
        Ok(PersonName(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A staff login name: 3 to 64 of `a-z 0-9 . _ -`, stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, &'static str> {
        let value = raw.trim().to_lowercase();
        if !(3..=64).contains(&value.len()) {
            return Err("must be 3 to 64 characters");
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err("may hold only letters, digits, '.', '_' and '-'");
        }
        Ok(Username(value))
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
        assert_eq!(Email::parse("  Ana.Lopez@Example.MX ").map(|e| e.0), Ok("ana.lopez@example.mx".into()));
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
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("M.Garcia").map(|u| u.0), Ok("m.garcia".into()));
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("drop table").is_err());
    }
}
