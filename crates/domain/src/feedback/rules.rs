//! What a feedback may hold: pure rules, no I/O. The text is typed in a text area, so unlike
//! a name or a reason it may run over several lines; everything else a name refuses
//! ([`crate::accounts::fields::invisible`]: controls, bidi overrides, zero-width and other
//! invisible format characters) it refuses too.

use unicode_normalization::UnicodeNormalization;

use crate::accounts::fields::invisible;
use crate::error::FieldError;
use crate::rule::Rule;
use crate::wording::Lang;

/// The longest text, in characters (Unicode code points, as JSON Schema's `maxLength`).
pub const MAX_TEXT_CHARS: usize = 4000;

/// The longest service code looked up.
const MAX_SERVICE_CHARS: usize = 64;

/// A feedback's text: 1 to [`MAX_TEXT_CHARS`] characters with a visible one; line breaks and
/// tabs allowed, no other control or invisible format character. Kept trimmed, with its line
/// ends as LF and in Unicode NFC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackText(String);

impl FeedbackText {
    /// The length is counted on the text as sent, so the limit is exactly the OpenAPI
    /// document's `maxLength` (the page turns a browser's CRLF line ends into LF first: a text
    /// area's `maxlength` counts a line break as one character).
    pub fn parse(raw: &str) -> Result<FeedbackText, Rule> {
        if raw.chars().count() > MAX_TEXT_CHARS {
            return Err(Rule::AtMostChars { max: MAX_TEXT_CHARS });
        }
        if raw.chars().any(|c| !matches!(c, '\n' | '\r' | '\t') && invisible(c)) {
            return Err(Rule::Invisible);
        }
        let text = one_line_end(raw);
        let text = text.trim();
        if text.is_empty() {
            return Err(if raw.is_empty() { Rule::Empty } else { Rule::OnlySpaces });
        }
        Ok(FeedbackText(text.nfc().collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` with CRLF and lone CR line ends written as LF.
pub fn one_line_end(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// A service code as given, or `None` for none (null, absent or empty). Whether it names a
/// service is the database's to say; one no service can have (too long, or holding a control
/// character, which PostgreSQL would refuse as a parameter) is refused here.
pub fn service(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > MAX_SERVICE_CHARS || s.chars().any(char::is_control) => {
            Err(FieldError::new("service", Rule::NotAChoice))
        }
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// The language the text is written in: `en` (also when none is given) or `es`.
pub fn language(raw: Option<&str>) -> Result<Lang, FieldError> {
    match raw {
        None => Ok(Lang::En),
        Some(code) => Lang::parse(code).ok_or_else(|| FieldError::new("language", Rule::NotAChoice)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_keep_their_lines_and_accents_and_are_trimmed() {
        let parsed = FeedbackText::parse("  La cita fue puntual.\r\n\r\nGracias, Jose\u{0301}!\t\n ");
        assert_eq!(parsed.map(|t| t.0), Ok("La cita fue puntual.\n\nGracias, José!".into()));
        assert_eq!(FeedbackText::parse("one\rtwo").map(|t| t.0), Ok("one\ntwo".into()));
        assert_eq!(FeedbackText::parse("王芳 ✓ محمد").map(|t| t.0), Ok("王芳 ✓ محمد".into()));
    }

    #[test]
    fn empty_only_spaces_and_over_long_texts_are_refused() {
        assert_eq!(FeedbackText::parse(""), Err(Rule::Empty));
        assert_eq!(FeedbackText::parse(" \n\t\r\n "), Err(Rule::OnlySpaces));
        assert!(FeedbackText::parse(&"a".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(FeedbackText::parse(&"ñ".repeat(MAX_TEXT_CHARS)).is_ok(), "characters, not bytes");
        assert_eq!(
            FeedbackText::parse(&"a".repeat(MAX_TEXT_CHARS + 1)),
            Err(Rule::AtMostChars { max: MAX_TEXT_CHARS })
        );
    }

    #[test]
    fn invisible_and_control_characters_are_refused() {
        for bad in [
            "fine \u{202E}gnp.exe",
            "zero\u{200B}width",
            "joiner\u{200D}",
            "soft\u{00AD}hyphen",
            "\u{FEFF}bom",
            "tag\u{E0041}",
            "private\u{E000}use",
            "nul\u{0}",
            "bell\u{7}",
            "escape\u{1B}[31m",
            "line\u{2028}separator",
            "vertical\u{0B}tab",
        ] {
            assert_eq!(FeedbackText::parse(bad), Err(Rule::Invisible), "{bad:?}");
        }
    }

    #[test]
    fn services_and_languages() {
        assert_eq!(service(None), Ok(None));
        assert_eq!(service(Some("")), Ok(None));
        assert_eq!(service(Some("crba")), Ok(Some("crba".into())));
        assert!(service(Some("a\u{0}b")).is_err());
        assert!(service(Some(&"x".repeat(65))).is_err());
        assert_eq!(language(None), Ok(Lang::En));
        assert_eq!(language(Some("es")), Ok(Lang::Es));
        assert!(language(Some("fr")).is_err());
    }
}
