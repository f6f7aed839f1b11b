//! Money: integer cents, and the one rounding rule for local currency. Pure rules.
//!
//! Exchange rates are kept as micro-units of local currency per US dollar (`rate_micros`:
//! 17.25 MXN per USD is 17 250 000), so no amount ever passes through a float.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount of money: integer cents (centavos) and an ISO 4217 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    pub amount_cents: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum Currency {
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "MXN")]
    Mxn,
}

impl Currency {
    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Mxn => "MXN",
        }
    }

    pub fn parse(text: &str) -> Option<Currency> {
        [Currency::Usd, Currency::Mxn].into_iter().find(|c| c.as_str() == text)
    }
}

impl Money {
    pub fn usd(amount_cents: i64) -> Money {
        Money { amount_cents, currency: Currency::Usd }
    }

    pub fn mxn(amount_cents: i64) -> Money {
        Money { amount_cents, currency: Currency::Mxn }
    }
}

/// Every post in Mexico takes pesos.
pub const LOCAL_CURRENCY: Currency = Currency::Mxn;

/// The amount in local currency for `usd_cents` at `rate_micros` local units per dollar,
/// **rounded half up to the whole peso**: the cash desk holds no centavo coins, and the
/// payer never pays less than the fee (a half peso rounds up). Integer arithmetic only;
/// `None` on overflow.
pub fn local_amount(usd_cents: i64, rate_micros: i64) -> Option<i64> {
    // cents × micros = local cents × 10^6; a whole peso is 100 local cents.
    let exact = i128::from(usd_cents).checked_mul(i128::from(rate_micros))?;
    let per_peso: i128 = 100 * 1_000_000;
    let pesos = (exact + per_peso / 2).div_euclid(per_peso);
    i64::try_from(pesos * 100).ok()
}

/// `130.00` for 13 000 cents: how amounts print on receipts and in CSV.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", (cents / 100).abs(), (cents % 100).abs())
}

/// `17.250000` for a rate of 17 250 000 micros.
pub fn format_rate(rate_micros: i64) -> String {
    format!("{}.{:06}", rate_micros / 1_000_000, rate_micros % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_amounts_round_half_up_to_the_whole_peso() {
        // 130 USD at 17.25: 2 242.50 MXN exactly, which rounds up to 2 243.
        assert_eq!(local_amount(13_000, 17_250_000), Some(224_300));
        // 130 USD at 17.2538: 2 242.994 → 2 243.
        assert_eq!(local_amount(13_000, 17_253_800), Some(224_300));
        // 50 USD at 17.2099: 860.495 → 860.
        assert_eq!(local_amount(5_000, 17_209_900), Some(86_000));
        // 35 USD at 17.00: exactly 595.
        assert_eq!(local_amount(3_500, 17_000_000), Some(59_500));
        assert_eq!(local_amount(0, 17_000_000), Some(0));
        assert_eq!(local_amount(i64::MAX, i64::MAX), None);
    }

    #[test]
    fn amounts_print_with_two_decimals() {
        assert_eq!(format_cents(13_000), "130.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-13_050), "-130.50");
        assert_eq!(format_rate(17_250_000), "17.250000");
    }
}
