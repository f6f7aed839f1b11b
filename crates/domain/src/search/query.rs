//! What a search box's text can mean, pure: the text cleaned of what a scanner or a paste adds
//! (line ends, zero-width and direction marks), then read every way it fits: a booking
//! reference (as the confirmation's QR code holds it, or typed with or without dashes), a
//! tracking number, a receipt or register entry number, the last four of a document number, a
//! phone number, and words of a name. A text may fit several ways; the search tries them all.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::booking::reference_code::Reference;
use crate::documents::tracking::TrackingNumber;

/// Longer than anything worth typing in the box (names, numbers); a longer text is refused.
pub const MAX_QUERY_CHARS: usize = 100;
/// A text this long (in bytes, before cleaning) is refused without being read.
const MAX_RAW_BYTES: usize = 1024;
/// A name search uses at most this many words.
const MAX_WORDS: usize = 6;
/// Digits a phone search needs: fewer would match too much (four are a document's last four).
const MIN_PHONE_DIGITS: usize = 5;

/// Why a search text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// Nothing (or only invisible characters) was typed.
    Empty,
    /// Longer than [`MAX_QUERY_CHARS`].
    TooLong,
}

/// A search text, cleaned, with each meaning it can have.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The text as searched (cleaned), to show back.
    pub text: String,
    pub reference: Option<Reference>,
    pub tracking: Option<TrackingNumber>,
    /// A receipt or register entry number, `MEX-2027-000123`.
    pub number: Option<String>,
    /// The last four symbols of a document number, folded.
    pub last_four: Option<String>,
    /// The digits of a phone number (a prefix of one).
    pub phone: Option<String>,
    /// Folded words of a name; each must begin some word of the same person or party.
    pub words: Vec<String>,
}

/// Characters that show nothing: zero-width spaces and joiners, direction marks and
/// embeddings, the byte-order mark, the soft hyphen, variation selectors, tags.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}' | '\u{E0000}'..='\u{E0FFF}')
}

/// The text without invisible characters, control characters (a scanner's Enter or Tab) as
/// spaces, runs of spaces as one, trimmed, in NFC.
pub fn clean(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        .filter(|c| !invisible(*c))
        .map(|c| if c.is_control() || c.is_whitespace() { ' ' } else { c })
        .collect();
    spaced.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ").nfc().collect()
}

/// The words of a name as the index keeps them and a search compares them: accents dropped,
/// lower case, apostrophes joined (`O'Brien` is `obrien`), anything else not a letter or digit
/// a break (`Núñez-López` is `nunez` and `lopez`).
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.nfd() {
        if is_combining_mark(c) || matches!(c, '\'' | '’' | 'ʼ' | '`' | '´') || invisible(c) {
            continue;
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The digits of a phone number, if the text is one (digits, spaces and `+()-.`).
fn phone_digits(text: &str) -> Option<String> {
    let allowed = text.chars().all(|c| c.is_ascii_digit() || " +()-.".contains(c));
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (allowed && digits.len() >= MIN_PHONE_DIGITS).then_some(digits)
}

/// `MEX-2027-000123`, `mex 2027 123` or `MEX2027000123` as `MEX-2027-000123`.
fn post_year_number(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split(['-', ' ']).filter(|p| !p.is_empty()).collect();
    let (post, year, seq) = match parts.as_slice() {
        [post, year, seq] => (*post, *year, *seq),
        [compact] if compact.len() == 13 && compact.is_char_boundary(3) && compact.is_char_boundary(7) => {
            (&compact[..3], &compact[3..7], &compact[7..])
        }
        _ => return None,
    };
    let fits = post.len() == 3
        && post.chars().all(|c| c.is_ascii_uppercase())
        && year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && (1..=6).contains(&seq.len())
        && seq.chars().all(|c| c.is_ascii_digit());
    let seq: i64 = seq.parse().ok().filter(|_| fits)?;
    Some(format!("{post}-{year}-{seq:06}"))
}

/// `1234`, `****1234`, `…AB12`: the last four of a document number as the index keeps them.
fn last_four(text: &str) -> Option<String> {
    let rest = text.trim_start_matches(['*', '•', '…', '.', '#', ' ']);
    let masked = rest.len() != text.len();
    let fits = rest.chars().count() == 4 && rest.chars().all(|c| c.is_ascii_alphanumeric());
    (fits && (masked || rest.chars().any(|c| c.is_ascii_digit()))).then(|| rest.to_ascii_lowercase())
}

/// Reads a search text every way it fits.
pub fn parse(raw: &str) -> Result<Query, QueryError> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(QueryError::TooLong);
    }
    let text = clean(raw);
    if text.is_empty() {
        return Err(QueryError::Empty);
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let last_four = last_four(&text);
    let phone = phone_digits(&text).filter(|_| last_four.is_none());
    let mut words = words(&text);
    // The longest word drives the search (the fewest matches); a long list adds nothing.
    words.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    words.dedup();
    words.truncate(MAX_WORDS);
    let has_letter = text.chars().any(char::is_alphabetic);
    Ok(Query {
        reference: Reference::parse(&text),
        tracking: TrackingNumber::parse(&text),
        number: post_year_number(&text),
        last_four,
        phone,
        words: if has_letter { words } else { Vec::new() },
        text,
    })
}

/// The first string after every string that starts with `prefix` (in byte order, as both
/// databases compare the index's terms): `n:lop` gives `n:loq`.
pub fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    // Only for a prefix of nothing but char::MAX: no string ends the range, and none is used.
    String::from(char::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_accents_case_and_punctuation() {
        assert_eq!(words("José  NÚÑEZ-López"), ["jose", "nunez", "lopez"]);
        assert_eq!(words("O'Brien d’Arcy"), ["obrien", "darcy"]);
        assert_eq!(words("王 芳"), ["王", "芳"]);
        assert_eq!(parse("NUÑ").expect("query").words, ["nun"]);
        assert_eq!(parse("lop").expect("query").words, ["lop"]);
        // The longest word first: it has the fewest matches.
        assert_eq!(parse("ana núñez").expect("query").words, ["nunez", "ana"]);
    }

    #[test]
    fn a_scanned_or_typed_reference_is_read_as_one() {
        let reference = Reference::generate();
        let compact = reference.as_str().replace('-', "").to_lowercase();
        for typed in [
            reference.as_str().to_string(),
            compact.clone(),
            format!("{}\r\n", reference),
            format!(" \u{200B}{compact}\u{FEFF}"),
        ] {
            assert_eq!(parse(&typed).expect("query").reference.as_ref(), Some(&reference), "{typed:?}");
        }
    }

    #[test]
    fn receipt_and_register_numbers_in_any_spelling() {
        for typed in ["MEX-2027-000123", "mex-2027-123", "MEX 2027 000123", "mex2027000123"] {
            assert_eq!(parse(typed).expect("query").number.as_deref(), Some("MEX-2027-000123"), "{typed}");
        }
        assert_eq!(parse("MEX-27-123").expect("query").number, None);
        assert_eq!(parse("MEX-2027-1234567").expect("query").number, None);
    }

    #[test]
    fn digits_are_a_phone_or_the_last_four() {
        let q = parse("+52 (55) 5080-2000").expect("query");
        assert_eq!(q.phone.as_deref(), Some("525550802000"));
        assert!(q.words.is_empty() && q.last_four.is_none());
        let q = parse("1234").expect("query");
        assert_eq!((q.last_four.as_deref(), q.phone), (Some("1234"), None));
        assert_eq!(parse("****ab12").expect("query").last_four.as_deref(), Some("ab12"));
        assert_eq!(parse("lope").expect("query").last_four, None, "four letters are a name");
        assert_eq!(parse("123").expect("query").phone, None);
    }

    #[test]
    fn empty_invisible_and_long_texts_are_refused() {
        assert_eq!(parse(""), Err(QueryError::Empty));
        assert_eq!(parse(" \u{200B}\u{200D}\u{FEFF}\t\n"), Err(QueryError::Empty));
        assert_eq!(parse(&"a".repeat(MAX_QUERY_CHARS + 1)), Err(QueryError::TooLong));
        assert_eq!(parse(&"a".repeat(60 * 1024)), Err(QueryError::TooLong));
        assert_eq!(parse("lo\u{200B}pez").expect("query").words, ["lopez"]);
        assert_eq!(clean("  Ana\u{00A0}\u{202E}López \n"), "Ana López");
    }

    #[test]
    fn prefix_ranges_end_after_every_match() {
        assert_eq!(prefix_end("n:lop"), "n:loq");
        assert_eq!(prefix_end("n:z"), "n:{");
        assert!(prefix_end("n:王").as_str() > "n:王zzz");
        assert!("n:lopez" < prefix_end("n:lop").as_str() && "n:lopez" >= "n:lop");
    }
}
