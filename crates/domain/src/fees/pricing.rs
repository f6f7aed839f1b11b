//! Pricing a receipt from the fee schedule in force on its local date. Pure rules.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::reference::Fee;
use crate::rule::Rule;

/// At most this many lines on one receipt, and this many of one fee.
pub const MAX_ITEMS: usize = 20;
pub const MAX_QUANTITY: u32 = 50;

/// The fee a notarial certificate (seal) is charged by: once per certificate, however many
/// people sign (22 CFR 92.43).
pub const CERTIFICATE_FEE: &str = "notarial-certificate";

/// One fee and how many times it is charged.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ItemInput {
    /// A code of the schedule in force (`GET /api/v1/fees`).
    #[schema(min_length = 1, max_length = 64)]
    pub fee_code: String,
    /// 1 to 50.
    #[serde(deserialize_with = "crate::wire::u32_whole")]
    #[schema(minimum = 1, maximum = 50)]
    pub quantity: u32,
}

/// Why no fee is charged: the fixed list of bases a no-fee record may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoFeeBasis {
    /// A DS-3053 statement of consent for a minor's passport.
    Ds3053ParentalConsent,
    /// Documents for US federal benefits (veterans' claims, Social Security).
    FederalBenefits,
    /// Official business of the US government.
    UsGovernmentBusiness,
    /// A DS-5504 correction or replacement within one year of issue.
    PassportCorrectionWithinOneYear,
}

impl NoFeeBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            NoFeeBasis::Ds3053ParentalConsent => "ds3053_parental_consent",
            NoFeeBasis::FederalBenefits => "federal_benefits",
            NoFeeBasis::UsGovernmentBusiness => "us_government_business",
            NoFeeBasis::PassportCorrectionWithinOneYear => "passport_correction_within_one_year",
        }
    }
}

/// A priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub fee_version_id: i64,
    pub fee_code: String,
    pub description: String,
    pub quantity: u32,
    pub unit_cents: i64,
    pub amount_cents: i64,
}

/// Prices `items` from `schedule` (the versions in force on the receipt's date). A no-fee
/// record charges nothing for any line. `certificates` is the notarial job's number of
/// certificates when the fee is for one: its certificate fee must be charged exactly that
/// many times.
pub fn price(
    items: &[ItemInput],
    schedule: &[Fee],
    no_fee: bool,
    certificates: Option<u32>,
) -> Result<Vec<Line>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if items.is_empty() || items.len() > MAX_ITEMS {
        errors.push(FieldError::new("items", Rule::FeeCount { max: MAX_ITEMS }));
    }
    let mut lines: Vec<Line> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        if !(1..=MAX_QUANTITY).contains(&item.quantity) {
            errors.push(FieldError::new(
                field("quantity"),
                Rule::Between { min: 1, max: i64::from(MAX_QUANTITY) },
            ));
            continue;
        }
        let Some(fee) = schedule.iter().find(|f| f.code == item.fee_code) else {
            errors.push(FieldError::new(field("fee_code"), Rule::NoFeeInForce));
            continue;
        };
        if lines.iter().any(|l| l.fee_code == fee.code) {
            errors.push(FieldError::new(field("fee_code"), Rule::FeeListedTwice));
            continue;
        }
        if let (CERTIFICATE_FEE, Some(n)) = (fee.code.as_str(), certificates) {
            if item.quantity != n {
                errors.push(FieldError::new(field("quantity"), Rule::CertificateFees { certificates: n }));
                continue;
            }
        }
        let unit = if no_fee { 0 } else { fee.amount_cents };
        lines.push(Line {
            fee_version_id: fee.id,
            fee_code: fee.code.clone(),
            description: fee.description.clone(),
            quantity: item.quantity,
            unit_cents: unit,
            amount_cents: unit * i64::from(item.quantity),
        });
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// The lines' total.
pub fn total(lines: &[Line]) -> i64 {
    lines.iter().map(|l| l.amount_cents).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn fee(id: i64, code: &str, cents: i64, from: (i32, u32, u32)) -> Fee {
        Fee {
            id,
            code: code.into(),
            description: code.into(),
            cfr_item: "22 CFR 22.1".into(),
            amount_cents: cents,
            currency: "USD".into(),
            effective_from: NaiveDate::from_ymd_opt(from.0, from.1, from.2).expect("date"),
            effective_until: None,
        }
    }
    fn item(code: &str, quantity: u32) -> ItemInput {
        ItemInput { fee_code: code.into(), quantity }
    }
    fn schedule() -> Vec<Fee> {
        vec![
            fee(1, "passport-execution", 3_500, (2021, 12, 27)),
            fee(2, "passport-book-adult", 5_000, (2021, 12, 27)),
            fee(3, "passport-book-security-surcharge", 8_000, (2021, 12, 27)),
            fee(4, CERTIFICATE_FEE, 5_000, (2021, 12, 27)),
        ]
    }

    #[test]
    fn an_adult_ds11_book_is_130_plus_35() {
        let items = [
            item("passport-book-adult", 1),
            item("passport-book-security-surcharge", 1),
            item("passport-execution", 1),
        ];
        let lines = price(&items, &schedule(), false, None).expect("priced");
        assert_eq!(total(&lines), 16_500);
    }

    #[test]
    fn one_fee_per_certificate_whatever_the_signers() {
        let lines = price(&[item(CERTIFICATE_FEE, 2)], &schedule(), false, Some(2)).expect("priced");
        assert_eq!(total(&lines), 10_000);
        let wrong =
            price(&[item(CERTIFICATE_FEE, 3)], &schedule(), false, Some(2)).expect_err("three for two");
        assert_eq!(wrong[0].field, "items[0].quantity");
    }

    #[test]
    fn no_fee_charges_nothing_and_unknown_or_repeated_codes_are_refused() {
        let lines = price(&[item(CERTIFICATE_FEE, 1)], &schedule(), true, None).expect("priced");
        assert_eq!((total(&lines), lines[0].fee_version_id), (0, 4));
        let errors = price(
            &[item("visa", 1), item("passport-execution", 1), item("passport-execution", 2)],
            &schedule(),
            false,
            None,
        )
        .expect_err("refused");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["items[0].fee_code", "items[2].fee_code"]);
        assert!(price(&[], &schedule(), false, None).is_err());
        assert!(price(&[item("passport-execution", 51)], &schedule(), false, None).is_err());
    }
}
