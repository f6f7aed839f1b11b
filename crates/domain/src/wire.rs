//! Leniencies in reading JSON bodies that JSON Schema itself grants.
//!
//! JSON has one number type: `60141.0` *is* the integer 60141 to JSON Schema (and to
//! JavaScript clients, which may send it that way), so integer fields accept whole floats.
//! And an empty string in an optional date field is a form left blank, read as absent.

use serde::de::{Deserialize, Deserializer, Error};

/// The largest integer a double carries exactly (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Ok(f as i64),
        _ => Err(D::Error::custom(format!("expected a whole number, got {number}"))),
    }
}

/// An `i64` written as `7` or `7.0`.
pub fn i64_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    whole(deserializer)
}

/// A `u32` written as `7` or `7.0`.
pub fn u32_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let n = whole(deserializer)?;
    u32::try_from(n).map_err(|_| D::Error::custom(format!("{n} is out of range")))
}

/// An optional `u32` written as `7` or `7.0`.
pub fn optional_u32_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "u32_whole")] u32);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|w| w.0))
}

/// A list of small numbers (weekdays), each written as `3` or `3.0`.
pub fn u8_list_whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let numbers = Vec::<serde_json::Number>::deserialize(deserializer)?;
    numbers
        .into_iter()
        .map(|number| {
            let n = number.as_i64().or_else(|| {
                number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT).map(|f| f as i64)
            });
            n.and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| D::Error::custom(format!("{number} is not a day number")))
        })
        .collect()
}

/// An optional `YYYY-MM-DD` where `""` means not given.
pub fn optional_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<chrono::NaiveDate>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => {
            s.parse().map(Some).map_err(|_| D::Error::custom(format!("{s:?} is not a date (YYYY-MM-DD)")))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::i64_whole")]
        id: i64,
        #[serde(default, deserialize_with = "super::optional_date")]
        date: Option<chrono::NaiveDate>,
    }

    #[test]
    fn whole_floats_are_integers_and_fractions_are_not() {
        let b: Body = serde_json::from_str(r#"{"id": 60141.0}"#).expect("whole float");
        assert_eq!(b.id, 60141);
        assert!(b.date.is_none());
        assert!(serde_json::from_str::<Body>(r#"{"id": 1.5}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"id": 1e300}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"id": "7"}"#).is_err());
    }

    #[test]
    fn blank_dates_are_absent() {
        let b: Body = serde_json::from_str(r#"{"id": 1, "date": ""}"#).expect("blank");
        assert!(b.date.is_none());
        let b: Body = serde_json::from_str(r#"{"id": 1, "date": "2026-12-01"}"#).expect("date");
        assert_eq!(b.date.map(|d| d.to_string()), Some("2026-12-01".into()));
        assert!(serde_json::from_str::<Body>(r#"{"id": 1, "date": "tomorrow"}"#).is_err());
    }
}
