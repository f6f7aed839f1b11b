//! The fees a visit should expect to pay, printed on the appointment's confirmation so nobody
//! arrives without the money: per person for passports and CRBAs (a child under 16 on the
//! appointment's date pays the minor's book fee), per certificate for notarial acts. The
//! amounts come from the schedule in force on the appointment's date, never from here.

use chrono::NaiveDate;

use crate::booking::party::PersonInput;
use crate::documents::intake::age_on;

/// A fee the visit is likely to be charged, and how many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub fee_code: &'static str,
    pub quantity: u32,
    /// Charged once per notarial certificate, however many: the quantity is one certificate's.
    pub per_certificate: bool,
}

/// What `service` usually costs the `people` of one visit on `date`, in the order to print.
pub fn for_visit(service: &str, people: &[PersonInput], date: NaiveDate) -> Vec<Expected> {
    let minor = |p: &PersonInput| p.date_of_birth.is_some_and(|born| age_on(born, date) < 16);
    let per_person: Vec<Vec<&'static str>> = people
        .iter()
        .map(|p| match service {
            "passport-renewal" => vec!["passport-book-adult", "passport-book-security-surcharge"],
            "passport-new" if minor(p) => {
                vec!["passport-book-minor", "passport-book-security-surcharge", "passport-execution"]
            }
            "passport-new" => {
                vec!["passport-book-adult", "passport-book-security-surcharge", "passport-execution"]
            }
            "passport-correction" => vec!["passport-correction"],
            "crba" => vec!["crba"],
            _ => Vec::new(),
        })
        .collect();
    let mut expected: Vec<Expected> = Vec::new();
    for code in per_person.into_iter().flatten() {
        match expected.iter_mut().find(|e| e.fee_code == code) {
            Some(e) => e.quantity += 1,
            None => expected.push(Expected { fee_code: code, quantity: 1, per_certificate: false }),
        }
    }
    if service == "notarial" {
        expected.push(Expected { fee_code: "notarial-certificate", quantity: 1, per_certificate: true });
    }
    expected
}

/// True when a person of `people` is under 16 on `date`: a first passport then needs both
/// parents or a DS-3053.
pub fn has_child_under_16(people: &[PersonInput], date: NaiveDate) -> bool {
    people.iter().any(|p| p.date_of_birth.is_some_and(|born| age_on(born, date) < 16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::d;

    fn person(born: Option<NaiveDate>) -> PersonInput {
        PersonInput { given_names: "Ana".into(), surname: "Ruiz".into(), date_of_birth: born }
    }

    #[test]
    fn a_family_pays_per_person_and_a_child_the_minor_fee() {
        let date = d(2027, 1, 15);
        let family = [person(Some(d(1990, 5, 1))), person(None), person(Some(d(2011, 1, 16)))];
        let codes: Vec<(&str, u32)> =
            for_visit("passport-new", &family, date).iter().map(|e| (e.fee_code, e.quantity)).collect();
        assert_eq!(
            codes,
            [
                ("passport-book-adult", 2),
                ("passport-book-security-surcharge", 3),
                ("passport-execution", 3),
                ("passport-book-minor", 1)
            ]
        );
        assert!(has_child_under_16(&family, date));
        // Sixteen on the day itself is no longer a child.
        assert!(!has_child_under_16(&[person(Some(d(2011, 1, 15)))], date));
    }

    #[test]
    fn notarial_acts_are_per_certificate_and_unknown_services_expect_nothing() {
        let one = [person(None)];
        let notarial = for_visit("notarial", &one, d(2027, 1, 15));
        assert_eq!(
            notarial,
            [Expected { fee_code: "notarial-certificate", quantity: 1, per_certificate: true }]
        );
        assert!(for_visit("visa-interview", &one, d(2027, 1, 15)).is_empty());
    }
}
