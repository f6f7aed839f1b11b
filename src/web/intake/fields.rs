//! An intake form's fields as typed, and the [`IntakeItem`] they describe. Pure.
//!
//! Inputs are named by the rules' own field names (`items[0].applicant.surname`,
//! `signers[1].id_proof.number`), so each error from `documents::intake::check` lands on its
//! input with no mapping. This module only reads what was typed: a date that isn't one, a
//! count that isn't a whole number, a choice that isn't offered. Every rule stays in `check`.

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::booking::party::PersonInput;
use crate::documents::intake::{
    BirthReport, CheckedItem, Form, IdentityInput, IntakeItem, NewPassport, NotarialJob, PassportOnFile,
    PreviousPassportInput, SignerInput, MAX_SIGNERS,
};
use crate::error::FieldError;
use crate::rule::Rule;
pub use crate::web::typed::Typed;

/// Signer rows a notarial section shows: as many as asked for (1 to [`MAX_SIGNERS`]).
pub fn signer_rows(typed: &Typed, prefix: &str) -> usize {
    typed.rows(&format!("{prefix}signer_rows"), MAX_SIGNERS)
}

/// A section holding nothing but what the booking gave (names, a date of birth) was left for
/// later.
pub fn left_blank(typed: &Typed, prefix: &str, booked: Option<&PersonInput>) -> bool {
    let mut except = vec![
        format!("{prefix}applicant.given_names"),
        format!("{prefix}applicant.surname"),
        format!("{prefix}signer_rows"),
    ];
    let born = format!("{prefix}applicant.date_of_birth");
    let as_booked = booked.and_then(|p| p.date_of_birth).map(|d| d.to_string());
    if as_booked.as_deref() == Some(typed.get(&born).trim()) {
        except.push(born);
    }
    typed.blank_except(prefix, &except)
}

/// An enumeration's wire code (`ds3053`, `us_passport`).
pub fn code<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The item the inputs under `prefix` describe, for `form`. `window` reads the clerk's
/// "pending" box. Errors are only about reading; the rules are checked later.
pub fn item(form: Form, typed: &Typed, prefix: &str, window: bool) -> Result<IntakeItem, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut read = Reader { typed, prefix, errors: &mut errors };
    let item = match form {
        Form::Ds11 => IntakeItem::Ds11(NewPassport {
            applicant: Some(read.applicant()),
            minor_consent: read.choice("minor_consent"),
            identity_document: read.identity("identity_document"),
        }),
        Form::Ds82 | Form::Ds5504 => {
            let on_file = PassportOnFile {
                applicant: Some(read.applicant()),
                previous_passport: read.previous_passport(),
                identity_document: read.identity("identity_document"),
            };
            if form == Form::Ds82 {
                IntakeItem::Ds82(on_file)
            } else {
                IntakeItem::Ds5504(on_file)
            }
        }
        Form::Ds2029 => IntakeItem::Ds2029(BirthReport {
            applicant: Some(read.applicant()),
            identity_document: read.identity("identity_document"),
        }),
        Form::Notarial => IntakeItem::Notarial(read.notarial_job(window)),
    };
    if errors.is_empty() {
        Ok(item)
    } else {
        Err(errors)
    }
}

/// The notarial job the inputs under `prefix` describe (a register correction is one).
pub fn notarial_job(typed: &Typed, prefix: &str, window: bool) -> Result<NotarialJob, Vec<FieldError>> {
    let mut errors = Vec::new();
    let job = Reader { typed, prefix, errors: &mut errors }.notarial_job(window);
    if errors.is_empty() {
        Ok(job)
    } else {
        Err(errors)
    }
}

/// The forms the page asks an identity document for: every application (the rules take one
/// on each, so a page that left it out would drop one saved through the API).
pub fn shows_identity(form: Form) -> bool {
    form != Form::Notarial
}

/// The inputs under `prefix` that show a checked item again (numbers stay masked, so they
/// are typed again).
pub fn from_checked(typed: &mut Typed, prefix: &str, item: &CheckedItem) {
    let mut set = |field: &str, value: String| typed.set(format!("{prefix}{field}"), value);
    if let Some(person) = &item.applicant {
        set("applicant.given_names", person.given_names.clone());
        set("applicant.surname", person.surname.clone());
        set("applicant.date_of_birth", person.date_of_birth.map(|d| d.to_string()).unwrap_or_default());
    }
    if let Some(consent) = &item.minor_consent {
        set("minor_consent", code(consent));
    }
    if let Some(passport) = &item.previous_passport {
        set("previous_passport.issued_on", passport.issued_on.to_string());
    }
    if let Some(identity) = &item.identity_document {
        set("identity_document.kind", code(&identity.kind));
    }
    if let Some(act) = &item.act {
        set("act", code(act));
    }
    set("document_title", item.document_title.clone().unwrap_or_default());
    set("pages", item.pages.map(|n| n.to_string()).unwrap_or_default());
    set("certificates", item.certificates.map(|n| n.to_string()).unwrap_or_default());
    set("venue", item.venue.clone().unwrap_or_default());
    for (i, signer) in item.signers.iter().flatten().enumerate() {
        set(&format!("signers[{i}].given_names"), signer.given_names.clone());
        set(&format!("signers[{i}].surname"), signer.surname.clone());
        set(&format!("signers[{i}].id_proof.kind"), code(&signer.id_proof.kind));
    }
    let rows = item.signers.as_ref().map_or(0, Vec::len);
    typed.set(format!("{prefix}signer_rows"), (rows + 1).min(MAX_SIGNERS).to_string());
}

/// The inputs under `prefix` that start from a person the booking named.
pub fn from_person(typed: &mut Typed, prefix: &str, form: Form, person: &PersonInput) {
    let born = person.date_of_birth.map(|d| d.to_string()).unwrap_or_default();
    if form == Form::Notarial {
        typed.set(format!("{prefix}signers[0].given_names"), person.given_names.clone());
        typed.set(format!("{prefix}signers[0].surname"), person.surname.clone());
        typed.set(format!("{prefix}signer_rows"), "2");
    } else {
        typed.set(format!("{prefix}applicant.given_names"), person.given_names.clone());
        typed.set(format!("{prefix}applicant.surname"), person.surname.clone());
        typed.set(format!("{prefix}applicant.date_of_birth"), born);
    }
}

struct Reader<'a> {
    typed: &'a Typed,
    prefix: &'a str,
    errors: &'a mut Vec<FieldError>,
}

impl Reader<'_> {
    /// The person applying, as typed.
    fn applicant(&mut self) -> PersonInput {
        PersonInput {
            given_names: self.typed.get(&self.name("applicant.given_names")).to_string(),
            surname: self.typed.get(&self.name("applicant.surname")).to_string(),
            date_of_birth: self.date("applicant.date_of_birth"),
        }
    }

    /// The passport renewed or corrected; its date is needed once a number is typed.
    fn previous_passport(&mut self) -> Option<PreviousPassportInput> {
        let number = self.typed.get(&self.name("previous_passport.number")).to_string();
        let issued = self.date("previous_passport.issued_on");
        if issued.is_none() && !number.trim().is_empty() {
            self.missing("previous_passport.issued_on", Rule::GiveIssueDate);
        }
        issued.map(|issued_on| PreviousPassportInput { number, issued_on })
    }

    fn notarial_job(&mut self, window: bool) -> NotarialJob {
        let (typed, prefix) = (self.typed, self.prefix);
        let act = self.choice("act");
        let (pages, certificates) = (self.whole("pages"), self.whole("certificates"));
        let rows = signer_rows(typed, prefix);
        // Rows left empty at the end are rows not needed; an empty row between two signers is
        // a signer without a name, which the rules refuse.
        let used = (0..rows).rev().find(|i| !self.row_blank(*i)).map_or(0, |last| last + 1);
        let mut signers = Vec::new();
        for i in 0..used {
            let Some(id_proof) = self.identity(&format!("signers[{i}].id_proof")) else {
                self.missing(&format!("signers[{i}].id_proof.kind"), Rule::SignerIdentity);
                continue;
            };
            signers.push(SignerInput {
                given_names: typed.get(&self.name(&format!("signers[{i}].given_names"))).to_string(),
                surname: typed.get(&self.name(&format!("signers[{i}].surname"))).to_string(),
                id_proof,
            });
        }
        NotarialJob {
            act,
            document_title: Some(typed.get(&self.name("document_title")).to_string()),
            pages,
            certificates,
            signers: Some(signers),
            venue: typed.given(&self.name("venue")),
            pending: window.then(|| typed.given(&self.name("pending")).is_some()),
        }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    /// A date typed as `YYYY-MM-DD`; none when left empty.
    fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let name = self.name(field);
        let text = self.typed.get(&name).trim().to_string();
        if text.is_empty() {
            return None;
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map_err(|_| self.errors.push(FieldError::new(name, Rule::NotADate)))
            .ok()
    }

    /// A whole number; none when left empty.
    fn whole(&mut self, field: &str) -> Option<u32> {
        let name = self.name(field);
        let text = self.typed.get(&name).trim().to_string();
        if text.is_empty() {
            return None;
        }
        text.parse().map_err(|_| self.errors.push(FieldError::new(name, Rule::NotAWholeNumber))).ok()
    }

    /// One of an enumeration's codes; none when nothing was chosen.
    fn choice<T: DeserializeOwned>(&mut self, field: &str) -> Option<T> {
        let name = self.name(field);
        let text = self.typed.get(&name).to_string();
        if text.is_empty() {
            return None;
        }
        serde_json::from_value(serde_json::Value::String(text))
            .map_err(|_| self.errors.push(FieldError::new(name, Rule::NotAChoice)))
            .ok()
    }

    /// An identity document: its kind and, when the kind has one, its number; none when
    /// neither was given.
    fn identity(&mut self, field: &str) -> Option<IdentityInput> {
        let number = self.typed.given(&self.name(&format!("{field}.number")));
        match self.choice(&format!("{field}.kind")) {
            Some(kind) => Some(IdentityInput { kind, number }),
            None if number.is_some() => {
                let name = self.name(&format!("{field}.kind"));
                self.errors.push(FieldError::new(name, Rule::SayWhichDocument));
                None
            }
            None => None,
        }
    }

    /// Names `field` as needed, unless reading it already failed.
    fn missing(&mut self, field: &str, rule: Rule) {
        let name = self.name(field);
        if !self.errors.iter().any(|e| e.field == name) {
            self.errors.push(FieldError::new(name, rule));
        }
    }

    fn row_blank(&self, row: usize) -> bool {
        ["given_names", "surname", "id_proof.kind", "id_proof.number"]
            .iter()
            .all(|f| self.typed.get(&self.name(&format!("signers[{row}].{f}"))).trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::intake::{Act, IdKind, MinorConsent};

    fn typed(pairs: &[(&str, &str)]) -> Typed {
        Typed::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn fields(result: Result<IntakeItem, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_minors_passport_application_reads_its_consent_and_identity_document() {
        let form = typed(&[
            ("items[1].applicant.given_names", "Sofía"),
            ("items[1].applicant.surname", "Núñez"),
            ("items[1].applicant.date_of_birth", "2015-03-02"),
            ("items[1].minor_consent", "ds3053"),
            ("items[1].identity_document.kind", "national_id"),
            ("items[1].identity_document.number", "CURP1234"),
        ]);
        let Ok(IntakeItem::Ds11(item)) = item(Form::Ds11, &form, "items[1].", false) else {
            panic!("a DS-11")
        };
        assert_eq!(item.minor_consent, Some(MinorConsent::Ds3053));
        let identity = item.identity_document.expect("a document");
        assert_eq!((identity.kind, identity.number.as_deref()), (IdKind::NationalId, Some("CURP1234")));
        assert_eq!(
            item.applicant.and_then(|p| p.date_of_birth).map(|d| d.to_string()).as_deref(),
            Some("2015-03-02")
        );
    }

    #[test]
    fn what_is_not_a_date_a_number_or_a_choice_is_its_own_fields_error() {
        let form = typed(&[
            ("applicant.date_of_birth", "02/03/2015"),
            ("minor_consent", "grandma_said_yes"),
            ("identity_document.number", "CURP1234"),
        ]);
        assert_eq!(
            fields(item(Form::Ds11, &form, "", false)),
            ["applicant.date_of_birth", "minor_consent", "identity_document.kind"]
        );
        let notarial = typed(&[("act", "jurat"), ("pages", "two"), ("certificates", "1.5")]);
        assert_eq!(fields(item(Form::Notarial, &notarial, "", true)), ["pages", "certificates"]);
    }

    #[test]
    fn empty_signer_rows_at_the_end_are_dropped_and_one_in_between_is_kept_for_the_rules() {
        let mut form = typed(&[
            ("act", "acknowledgment"),
            ("document_title", "Poder notarial"),
            ("pages", "3"),
            ("certificates", "1"),
            ("signer_rows", "4"),
            ("signers[0].given_names", "Ana"),
            ("signers[0].surname", "Núñez"),
            ("signers[0].id_proof.kind", "us_passport"),
            ("signers[0].id_proof.number", "ZQXW1234"),
            ("signers[2].given_names", "Luis"),
            ("signers[2].surname", "Ortega"),
            ("signers[2].id_proof.kind", "personally_known"),
        ]);
        assert_eq!(
            fields(item(Form::Notarial, &form, "", true)),
            ["signers[1].id_proof.kind"],
            "the empty row between two signers is not skipped"
        );
        form.set("signers[1].id_proof.kind".into(), "credible_witness");
        let job = notarial_job(&form, "", true).expect("a job");
        let signers = job.signers.expect("signers");
        assert_eq!(signers.len(), 3, "row 3 is dropped; row 1 goes to the rules, which want its names");
        assert!(signers[1].given_names.is_empty());
        assert_eq!(
            (job.act, job.pages, job.certificates, job.pending),
            (Some(Act::Acknowledgment), Some(3), Some(1), Some(false))
        );
        assert_eq!(
            notarial_job(&form, "", false).expect("a job").pending,
            None,
            "the applicant sets no pending"
        );
    }

    #[test]
    fn a_section_with_only_the_bookings_names_was_left_for_later() {
        let mut form = Typed::default();
        let born = NaiveDate::from_ymd_opt(2015, 3, 2);
        let sofia =
            PersonInput { given_names: "Sofía".into(), surname: "Núñez".into(), date_of_birth: born };
        from_person(&mut form, "items[0].", Form::Ds11, &sofia);
        assert!(left_blank(&form, "items[0].", Some(&sofia)), "the booking's date of birth is the booking's");
        assert!(!left_blank(&form, "items[0].", None), "without the booking it was typed");
        form.set("items[0].applicant.date_of_birth".into(), "2015-03-03");
        assert!(!left_blank(&form, "items[0].", Some(&sofia)), "a date typed over the booking's");
        form.set("items[0].applicant.date_of_birth".into(), "2015-03-02");
        form.set("items[0].minor_consent".into(), "ds3053");
        assert!(!left_blank(&form, "items[0].", Some(&sofia)));
    }

    #[test]
    fn a_saved_item_comes_back_without_its_numbers() {
        let saved: CheckedItem = serde_json::from_value(serde_json::json!({
            "form": "DS-82",
            "applicant": {"given_names": "Ana", "surname": "Núñez", "date_of_birth": "1990-06-15"},
            "previous_passport": {"number": {"masked": "****1234"}, "issued_on": "2020-01-10"},
        }))
        .expect("an item");
        let mut form = Typed::default();
        from_checked(&mut form, "", &saved);
        assert_eq!(form.get("previous_passport.issued_on"), "2020-01-10");
        assert_eq!(form.get("previous_passport.number"), "");
        assert_eq!(form.get("applicant.date_of_birth"), "1990-06-15");
    }
}
