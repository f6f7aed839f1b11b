//! Numbers as people type them into the pages: amounts (`1,234.50`, `85`, `85,50`) as cents,
//! and exchange rates (`17.25`, `17,2538`) in millionths. Anything else is `None`, for the
//! field's error.

/// The text with a decimal comma read as a point: one comma, no point, and not followed by
/// exactly three digits (`17,2538` and `85,5` are decimals; `1,234` is a thousand and more).
/// Commas between thousands are dropped; `None` when they don't group by three.
fn decimal_point(text: &str) -> Option<String> {
    let text = text.trim();
    let decimal_comma = !text.contains('.')
        && text.matches(',').count() == 1
        && text.rsplit(',').next().is_some_and(|tail| tail.len() != 3);
    if decimal_comma {
        return Some(text.replace(',', "."));
    }
    let whole = text.split('.').next().unwrap_or("");
    let grouped = whole.split(',').skip(1).all(|group| group.len() == 3);
    grouped.then(|| text.replace(',', ""))
}

/// `digits[.fraction]` with at most `places` decimals (commas between thousands allowed, or a
/// decimal comma), scaled by 10^places.
fn scaled(text: &str, places: u32) -> Option<i64> {
    let text = decimal_point(text)?;
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
        // Decimal commas, as typed in Mexico as often as points.
        assert_eq!(rate_micros("17,2538"), Some(17_253_800));
        assert_eq!(cents("85,5"), Some(8_550));
        assert_eq!(cents("1,234"), Some(123_400), "three digits after a comma: thousands");
        assert_eq!(cents("1,234,567.89"), Some(123_456_789));
        assert_eq!(cents("1,2,3"), None);
        assert_eq!(cents("12,"), Some(1_200));
        assert_eq!(rate_micros("17.2500001"), None);
        assert_eq!(cents("999999999999999"), None, "too long");
    }
}
