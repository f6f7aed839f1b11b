//! Numbers as people type them into the pages: amounts (`1,234.50`, `85`) as cents, and
//! exchange rates (`17.25`) in millionths. Anything else is `None`, for the field's error.

/// `digits[.fraction]` with at most `places` decimals (commas between thousands allowed),
/// scaled by 10^places.
fn scaled(text: &str, places: u32) -> Option<i64> {
    let text = text.trim().replace(',', "");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || fraction.len() > places as usize || whole.len() > 12 {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let padded = format!("{fraction:0<width$}", width = places as usize);
    let fraction: i64 = if padded.is_empty() { 0 } else { padded.parse().ok()? };
    whole.checked_mul(10_i64.pow(places))?.checked_add(fraction)
}

/// `1,234.50` → 123 450 cents.
pub fn cents(text: &str) -> Option<i64> {
    scaled(text, 2)
}

/// `17.25` → 17 250 000 millionths.
pub fn rate_micros(text: &str) -> Option<i64> {
    scaled(text, 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_rates_read_as_people_type_them() {
        assert_eq!(cents("85"), Some(8_500));
        assert_eq!(cents("1,234.5"), Some(123_450));
        assert_eq!(cents(" 0.05 "), Some(5));
        assert_eq!(cents(".5"), Some(50));
        for bad in ["", ".", "-5", "1.234", "12a", "1e3", "١٢"] {
            assert_eq!(cents(bad), None, "{bad:?}");
        }
        assert_eq!(rate_micros("17.25"), Some(17_250_000));
        assert_eq!(rate_micros("17.2500001"), None);
        assert_eq!(cents("999999999999999"), None, "too long");
    }
}
