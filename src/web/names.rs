//! The domain's names (`crate::wording`) in the page's language. The API keeps the codes;
//! only pages and papers say names.

use crate::booking::status::AppointmentStatus;
use crate::documents::tracking::{Kind, Status};
use crate::web::i18n::Lang;
use crate::wording;

/// A service's name; an unknown code is shown as it is.
pub fn service(lang: Lang, code: &str) -> String {
    wording::service(code).map_or_else(|| code.to_string(), |n| lang.t(n).to_string())
}

/// An appointment's state; an unknown code is shown as it is.
pub fn appointment_status(lang: Lang, status: AppointmentStatus) -> &'static str {
    lang.t(wording::appointment_status(status))
}

pub fn role(lang: Lang, role: crate::auth::Role) -> &'static str {
    lang.t(wording::role(role))
}

pub fn document_kind(lang: Lang, kind: Kind) -> &'static str {
    lang.t(wording::document_kind(kind))
}

pub fn document_status(lang: Lang, status: Status) -> &'static str {
    lang.t(wording::document_status(status))
}

/// A post's city, which names its consular district: the reference data's, in Spanish where
/// the two languages differ (only Mexico City does).
pub fn city(lang: Lang, code: &str, city: &str) -> String {
    match (lang, code) {
        (Lang::Es, "MEX") => "Ciudad de México".to_string(),
        _ => city.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_service_has_a_name_in_both_languages() {
        for status in AppointmentStatus::ALL {
            assert_ne!(appointment_status(Lang::Es, status), status.as_str());
        }
        for code in ["notarial", "passport-new", "passport-renewal", "passport-correction", "crba"] {
            assert_ne!(service(Lang::Es, code), service(Lang::En, code));
        }
        assert_eq!(service(Lang::Es, "visa-interview"), "visa-interview", "an unknown code as it is");
    }
}
