//! The pages' two languages: which one a visitor gets (a remembered choice, else their
//! browser's Accept-Language, else English), every text in both, and dates and money written
//! the way each language writes them (Mexican Spanish keeps the decimal point).

use actix_web::HttpRequest;
use chrono::{Datelike, NaiveDate};

/// The cookie that remembers a visitor's choice.
pub const COOKIE: &str = "lang";

pub use crate::wording::Lang;

/// What the pages add to the domain's [`Lang`]: which one a request asks for, and dates, money
/// and broken rules as each language writes them. A trait because `Lang` is the domain crate's
/// type (the orphan rule) and knows nothing of requests.
pub trait PageLang: Sized {
    fn of(req: &HttpRequest) -> Lang;
    fn date(self, date: NaiveDate) -> String;
    fn date_time(self, rfc3339: &str) -> String;
    fn money(self, cents: i64, currency: &str) -> String;
    fn rule(self, rule: &crate::rule::Rule) -> String;
}

impl PageLang for Lang {
    /// The remembered choice, else the best of Accept-Language, else English.
    fn of(req: &HttpRequest) -> Lang {
        if let Some(lang) = req.cookie(COOKIE).and_then(|c| Lang::parse(c.value())) {
            return lang;
        }
        let header = req.headers().get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("");
        from_accept_language(header)
    }

    /// `1 de diciembre de 2026`, `December 1, 2026`.
    fn date(self, date: NaiveDate) -> String {
        let month = date.month0() as usize;
        match self {
            Lang::En => format!("{} {}, {}", MONTHS_EN[month], date.day(), date.year()),
            Lang::Es => format!("{} de {} de {}", date.day(), MONTHS_ES[month], date.year()),
        }
    }

    /// `2026-12-01T09:15:00-06:00` as `1 de diciembre de 2026, 09:15 (UTC-06:00)`: a time in the
    /// post's zone, with its offset.
    fn date_time(self, rfc3339: &str) -> String {
        match chrono::DateTime::parse_from_rfc3339(rfc3339) {
            Ok(at) => {
                format!("{}, {} (UTC{})", self.date(at.date_naive()), at.format("%H:%M"), at.format("%:z"))
            }
            Err(_) => rfc3339.to_string(),
        }
    }

    /// `US$1,234.50` / `1,234.50 USD`: cents as the language writes an amount.
    fn money(self, cents: i64, currency: &str) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        let whole = (cents / 100).unsigned_abs();
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(d);
        }
        let amount = format!("{sign}{grouped}.{:02}", (cents % 100).unsigned_abs());
        match (self, currency) {
            (Lang::En, "USD") => format!("US${amount}"),
            _ => format!("{amount} {currency}"),
        }
    }

    /// A broken rule as a sentence in this language (the rules word themselves in both).
    fn rule(self, rule: &crate::rule::Rule) -> String {
        format!("{}.", rule.words(self))
    }
}

/// A text in English and Spanish.
pub type Text = (&'static str, &'static str);

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// The language with the highest weight among English and Spanish (`es-MX,es;q=0.9,en;q=0.5`
/// is Spanish); English when neither is named.
pub fn from_accept_language(header: &str) -> Lang {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut fields = part.trim().split(';');
        let tag = fields.next().unwrap_or("").trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = Lang::parse(primary) else { continue };
        let weight = fields
            .find_map(|f| f.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .filter(|q| q.is_finite())
            .unwrap_or(1.0);
        if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, lang));
        }
    }
    best.map_or(Lang::En, |(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_of_the_two() {
        assert_eq!(from_accept_language("es-MX,es;q=0.9,en;q=0.5"), Lang::Es);
        assert_eq!(from_accept_language("en-US,en;q=0.9,es;q=0.8"), Lang::En);
        assert_eq!(from_accept_language("fr-FR, es;q=0.3"), Lang::Es);
        assert_eq!(from_accept_language("es;q=0, en;q=0.1"), Lang::En);
        assert_eq!(from_accept_language("de"), Lang::En);
        assert_eq!(from_accept_language(""), Lang::En);
        assert_eq!(from_accept_language("es;q=abc"), Lang::Es);
    }

    #[test]
    fn a_rule_reads_as_a_sentence_in_either_language() {
        use crate::rule::Rule;
        assert_eq!(Lang::En.rule(&Rule::NotAPhone), "is not a phone number.");
        assert_eq!(Lang::Es.rule(&Rule::NotAPhone), "No es un número de teléfono.");
        assert_eq!(Lang::Es.rule(&Rule::Between { min: 1, max: 500 }), "Debe estar entre 1 y 500.");
        assert_eq!(
            Lang::Es.rule(&Rule::FreeText { max: 500 }),
            "Debe tener de 1 a 500 caracteres, sin caracteres de control ni de formato invisibles."
        );
    }

    #[test]
    fn dates_and_money_are_written_as_each_language_writes_them() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        assert_eq!(Lang::En.date(day), "December 1, 2026");
        assert_eq!(Lang::Es.date(day), "1 de diciembre de 2026");
        assert_eq!(Lang::En.money(123_450, "USD"), "US$1,234.50");
        assert_eq!(Lang::Es.money(123_450, "USD"), "1,234.50 USD");
        assert_eq!(Lang::Es.money(28_460_000, "MXN"), "284,600.00 MXN");
        assert_eq!(Lang::En.money(-505, "USD"), "US$-5.05");
        assert_eq!(Lang::En.money(0, "USD"), "US$0.00");
    }
}
