//! The pages' two languages: which one a visitor gets (a remembered choice, else their
//! browser's Accept-Language, else English), every text in both, and dates and money written
//! the way each language writes them (Mexican Spanish keeps the decimal point).

use actix_web::HttpRequest;
use chrono::{Datelike, NaiveDate};

/// The cookie that remembers a visitor's choice.
pub const COOKIE: &str = "lang";

pub use crate::wording::Lang;

/// What the pages add to the domain's [`Lang`]: which one a request asks for, and dates, money
/// and the rules' messages as each language writes them. A trait because `Lang` is the domain
/// crate's type (the orphan rule) and knows nothing of requests.
pub trait PageLang: Sized {
    fn of(req: &HttpRequest) -> Lang;
    fn date(self, date: NaiveDate) -> String;
    fn date_time(self, rfc3339: &str) -> String;
    fn money(self, cents: i64, currency: &str) -> String;
    fn field_error(self, message: &str) -> String;
    fn error_text(self, error: &crate::error::FieldError) -> String;
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

    /// A rule's message (the rules speak English, as the API does) as a field error in this
    /// language; a message without Spanish words shows in English inside a Spanish sentence.
    fn field_error(self, message: &str) -> String {
        let message = message.trim_end_matches('.');
        match self {
            Lang::En => format!("{message}."),
            Lang::Es => match spanish(message) {
                Some(es) => format!("{es}."),
                None => format!("Revise este dato ({message})."),
            },
        }
    }

    /// An error as a page shows it: one the page wrote itself (field `form`) is in the page's
    /// language already; a rule's is translated.
    fn error_text(self, error: &crate::error::FieldError) -> String {
        if error.field == "form" {
            error.message.clone()
        } else {
            self.field_error(&error.message)
        }
    }
}

/// The Spanish of the rules' messages a page can show: fixed ones word for word, and the ones
/// with numbers or form names in them by their pattern.
fn spanish(message: &str) -> Option<String> {
    let fixed = match message {
        "must not be empty" => "No puede quedar vacío",
        "must not be only spaces" => "No puede tener solo espacios",
        "contains control or invisible formatting characters" => {
            "Contiene caracteres de control o de formato invisibles"
        }
        "is not an e-mail address" => "No es una dirección de correo electrónico",
        "is not a phone number" => "No es un número de teléfono",
        "is not a possible date of birth" => "No es una fecha de nacimiento posible",
        "is not a possible issue date" => "No es una fecha de expedición posible",
        "is not a date (YYYY-MM-DD)" => "No es una fecha (AAAA-MM-DD)",
        "is not a whole number" => "No es un número entero",
        "is not one of the choices offered" => "No es una de las opciones ofrecidas",
        "is needed for this form" => "Es necesario para este formulario",
        "is needed for this kind of document" => "Es necesario para este tipo de documento",
        "is not taken when no document is shown" => "No se anota cuando no se presenta un documento",
        "is only for a DS-11" => "Solo corresponde a un DS-11",
        "is only for a DS-82 or a DS-5504" => "Solo corresponde a un DS-82 o un DS-5504",
        "is only for an applicant under 16" => "Solo corresponde a un solicitante menor de 16 años",
        "is set by the clerk at the window" => "Lo indica el personal en la ventanilla",
        "a CRBA is for a child under 18" => "El CRBA es para menores de 18 años",
        "a child under 16 needs both parents present, a DS-3053 consent, or evidence of sole custody" => {
            "Un menor de 16 años necesita a ambos padres presentes, un consentimiento DS-3053 o prueba de custodia exclusiva"
        }
        "a DS-82 renews only a passport issued at age 16 or older: apply on a DS-11" => {
            "El DS-82 solo renueva un pasaporte expedido a los 16 años o más: solicite con el DS-11"
        }
        "a DS-82 renews only a passport issued less than 15 years ago: apply on a DS-11" => {
            "El DS-82 solo renueva un pasaporte expedido hace menos de 15 años: solicite con el DS-11"
        }
        "must be 5 to 20 letters and digits (spaces and dashes are ignored)" => {
            "Debe tener de 5 a 20 letras y dígitos (se ignoran espacios y guiones)"
        }
        "name the person applying" => "Indique quién solicita",
        "name the notarial act" => "Indique el acto notarial",
        "give the document's title" => "Indique el título del documento",
        "give its date of issue" => "Indique su fecha de expedición",
        "say which document the number is from" => "Indique de qué documento es el número",
        "say how this signer's identity was proved" => "Indique cómo acreditó su identidad esta persona",
        "name at least one person" => "Indique al menos una persona",
        "choose a time" => "Elija un horario",
        "is in the past" => "Ya pasó",
        "is outside the booking window" => "Está fuera del periodo de reserva",
        "must be HH:MM" => "Debe tener la forma HH:MM",
        "must be after opens" => "Debe ser posterior a la apertura",
        "must name at least one day" => "Indique al menos un día",
        "names a day more than once" => "Repite un día",
        "days are 1 (Monday) to 7 (Sunday)" => "Los días van del 1 (lunes) al 7 (domingo)",
        "must be after from" => "Debe ser posterior al inicio",
        _ => "",
    };
    if !fixed.is_empty() {
        return Some(fixed.to_string());
    }
    let number_range = |rest: &str| rest.split_once(" to ").map(|(a, b)| (a.to_string(), b.to_string()));
    if let Some((low, high)) = message.strip_prefix("must be ").and_then(number_range) {
        if let Some(high) =
            high.strip_suffix(" characters, without control or invisible formatting characters")
        {
            return Some(format!(
                "Debe tener de {low} a {high} caracteres, sin caracteres de control ni de formato invisibles"
            ));
        }
        if let Some(high) = high.strip_suffix(" characters") {
            return Some(format!("Debe tener de {low} a {high} caracteres"));
        }
        if low.parse::<u64>().is_ok() && high.parse::<u64>().is_ok() {
            return Some(format!("Debe estar entre {low} y {high}"));
        }
    }
    if let Some(n) = message.strip_prefix("must be at least ").and_then(|r| r.strip_suffix(" characters")) {
        return Some(format!("Debe tener al menos {n} caracteres"));
    }
    if let Some(n) = message.strip_prefix("must be at most ").and_then(|r| r.strip_suffix(" characters")) {
        return Some(format!("Debe tener como máximo {n} caracteres"));
    }
    if let Some(n) = message.strip_prefix("is longer than ").and_then(|r| r.strip_suffix(" characters")) {
        return Some(format!("Tiene más de {n} caracteres"));
    }
    if let Some(form) = message.strip_prefix("is not part of a ") {
        return Some(format!("No forma parte de un {form}"));
    }
    if let Some(day) = message.strip_prefix("two openings overlap on ") {
        return Some(format!("Dos horarios se traslapan el día {day}"));
    }
    if let Some(n) = message.strip_prefix("at most ").and_then(|r| r.strip_suffix(" openings a week")) {
        return Some(format!("Como máximo {n} horarios por semana"));
    }
    if let Some(n) = message.strip_prefix("name 1 to ").and_then(|r| r.strip_suffix(" signers")) {
        return Some(format!("Indique de 1 a {n} firmantes"));
    }
    if let Some(n) = message.strip_prefix("give 1 to ").and_then(|r| r.strip_suffix(" items")) {
        return Some(format!("Llene al menos una solicitud (hasta {n})"));
    }
    if let Some(n) = message
        .strip_prefix("this service takes at most ")
        .and_then(|r| r.strip_suffix(" people on one appointment"))
    {
        return Some(format!("Este servicio admite como máximo {n} personas por cita"));
    }
    None
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
    fn rule_messages_read_in_spanish_by_their_words_or_their_pattern() {
        assert_eq!(Lang::En.field_error("is not a phone number"), "is not a phone number.");
        assert_eq!(Lang::Es.field_error("is not a phone number"), "No es un número de teléfono.");
        assert_eq!(Lang::Es.field_error("must be 1 to 500"), "Debe estar entre 1 y 500.");
        assert_eq!(Lang::Es.field_error("must be 3 to 64 characters"), "Debe tener de 3 a 64 caracteres.");
        assert_eq!(
            Lang::Es.field_error("must be at least 10 characters"),
            "Debe tener al menos 10 caracteres."
        );
        assert_eq!(Lang::Es.field_error("is not part of a DS-82"), "No forma parte de un DS-82.");
        assert_eq!(
            Lang::Es.field_error(
                "must be 1 to 500 characters, without control or invisible formatting characters"
            ),
            "Debe tener de 1 a 500 caracteres, sin caracteres de control ni de formato invisibles."
        );
        assert_eq!(
            Lang::Es.field_error("must be 2 to 64 of a-z 0-9 -"),
            "Revise este dato (must be 2 to 64 of a-z 0-9 -)."
        );
        assert_eq!(Lang::Es.field_error("a new rule."), "Revise este dato (a new rule).");
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
