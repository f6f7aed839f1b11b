//! Who an appointment is for: one to four people, as the service allows. Pure rules.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::fields::PersonName;
use crate::error::FieldError;
use crate::rule::Rule;

/// No service takes more than four people on one appointment.
pub const MAX_PARTY: usize = 4;

/// One person as the applicant typed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PersonInput {
    #[schema(schema_with = crate::field_schemas::person_name)]
    pub given_names: String,
    #[schema(schema_with = crate::field_schemas::person_name)]
    pub surname: String,
    /// `YYYY-MM-DD`; helps the window tell minors from adults.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::wire::optional_date"
    )]
    #[schema(schema_with = crate::field_schemas::birth_date)]
    pub date_of_birth: Option<NaiveDate>,
}

/// The checked party, stored as JSON on the appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party(Vec<PersonInput>);

impl Party {
    /// Checks every person; `max` is the service's limit. `today` bounds dates of birth.
    pub fn parse(people: &[PersonInput], max: usize, today: NaiveDate) -> Result<Party, Vec<FieldError>> {
        let mut errors = Vec::new();
        if people.is_empty() {
            errors.push(FieldError::new("applicants", Rule::NameSomeone));
        }
        if people.len() > max.min(MAX_PARTY) {
            errors.push(FieldError::new("applicants", Rule::PartyTooLarge { max: max.min(MAX_PARTY) }));
        }
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        let mut checked = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let given = PersonName::parse(&p.given_names)
                .map_err(|m| errors.push(FieldError::new(format!("applicants[{i}].given_names"), m)))
                .ok();
            let surname = PersonName::parse(&p.surname)
                .map_err(|m| errors.push(FieldError::new(format!("applicants[{i}].surname"), m)))
                .ok();
            if let Some(dob) = p.date_of_birth {
                if dob > today || dob < earliest {
                    errors
                        .push(FieldError::new(format!("applicants[{i}].date_of_birth"), Rule::NotABirthDate));
                }
            }
            if let (Some(given), Some(surname)) = (given, surname) {
                checked.push(PersonInput {
                    given_names: given.as_str().to_string(),
                    surname: surname.as_str().to_string(),
                    date_of_birth: p.date_of_birth,
                });
            }
        }
        if errors.is_empty() {
            Ok(Party(checked))
        } else {
            Err(errors)
        }
    }

    /// Seats the party takes: one per person, since each is served at the window.
    pub fn seats(&self) -> i32 {
        self.0.len() as i32
    }

    pub fn people(&self) -> &[PersonInput] {
        &self.0
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    pub fn from_json(json: &str) -> Party {
        Party(serde_json::from_str(json).unwrap_or_default())
    }
}

/// A phone number to reach the applicant: digits, spaces and `+()-`, 7 to 20 digits.
pub fn parse_phone(raw: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim_matches(' ');
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    let allowed = trimmed.chars().all(|c| c.is_ascii_digit() || " +()-.".contains(c));
    if allowed && (7..=20).contains(&digits) {
        Ok(trimmed.to_string())
    } else {
        Err(FieldError::new("phone", Rule::NotAPhone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(given: &str, surname: &str) -> PersonInput {
        PersonInput { given_names: given.into(), surname: surname.into(), date_of_birth: None }
    }
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    #[test]
    fn a_family_of_four_fits_where_the_service_allows_it() {
        let family: Vec<_> = ["Ana", "Luis", "Sofía", "Mateo"].iter().map(|g| person(g, "Núñez")).collect();
        assert_eq!(Party::parse(&family, 4, today()).map(|p| p.seats()), Ok(4));
        assert!(Party::parse(&family, 1, today()).is_err());
        let mut five = family.clone();
        five.push(person("Eva", "Núñez"));
        assert!(Party::parse(&five, 9, today()).is_err());
        assert!(Party::parse(&[], 4, today()).is_err());
    }

    #[test]
    fn people_are_checked_field_by_field() {
        let mut p = person(" ", "Núñez");
        p.date_of_birth = NaiveDate::from_ymd_opt(2030, 1, 1);
        let errors = Party::parse(&[p], 4, today()).expect_err("invalid");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["applicants[0].given_names", "applicants[0].date_of_birth"]);
    }

    #[test]
    fn party_round_trips_through_json() {
        let party = Party::parse(&[person("José", "Núñez")], 1, today()).expect("valid");
        assert_eq!(Party::from_json(&party.to_json()), party);
    }

    #[test]
    fn phones() {
        assert_eq!(parse_phone(" +52 (55) 5080-2000 "), Ok("+52 (55) 5080-2000".into()));
        assert!(parse_phone("call me").is_err());
        assert!(parse_phone("123").is_err());
    }
}
