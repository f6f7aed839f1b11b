//! Numbers as people type them into the pages: amounts (`1,234.50`, `85`, `85,50`) as cents,
//! and exchange rates (`17.25`, `17,2538`) in millionths. Anything else is `None`, for the
//! field's error.

/// The text with a decimal point and no thousands separators, or `None` when its separators
/// don't group by three. A comma is the decimal mark when it follows the last dot
/// (`1.234,50`), or when it is the only one and not followed by exactly three digits (`85,5`,
/// `17,2538`; `1,234` is a thousand and more) — or always, where the number can't reach a
/// thousand (`decimal_comma`: exchange rates, so `17,253` is seventeen pesos).
fn decimal_point(text: &str, decimal_comma: bool) -> Option<String> {
    let text = text.trim();
    let groups_of_three = |whole: &str, separator: char| whole.split(separator).skip(1).all(|g| g.len() == 3);
    match (text.rfind(','), text.rfind('.')) {
        (Some(comma), Some(dot)) if comma > dot => {
            let whole = &text[..comma];
            (!whole.contains(',') && groups_of_three(whole, '.'))
                .then(|| format!("{}.{}", whole.replace('.', ""), &text[comma + 1..]))
        }
        (Some(comma), None)
            if text.matches(',').count() == 1 && (decimal_comma || text.len() - comma - 1 != 3) =>
        {
            Some(text.replacen(',', ".", 1))
        }
        _ => {
            let whole = text.split('.').next().unwrap_or("");
            groups_of_three(whole, ',').then(|| text.replace(',', ""))
        }
    }
}

/// `digits[.fraction]` with at most `places` decimals (commas between thousands allowed, or a
/// decimal comma), scaled by 10^places.
fn scaled(text: &str, places: u32, decimal_comma: bool) -> Option<i64> {
    let text = decimal_point(text, decimal_comma)?;
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

/// `1,234.50` or `1.234,50` → 123 450 cents.
pub fn cents(text: &str) -> Option<i64> {
    scaled(text, 2, false)
}

/// `17.25` or `17,25` → 17 250 000 millionths.
pub fn rate_micros(text: &str) -> Option<i64> {
    scaled(text, 6, true)
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
        // Dots between thousands before a decimal comma, as typed in Mexico and Europe.
        assert_eq!(cents("1.234,50"), Some(123_450));
        assert_eq!(cents("1.234.567,8"), Some(123_456_780));
        assert_eq!(cents("1.23,50"), None, "dots must group by three");
        assert_eq!(cents("1,234.567,8"), None);
        // A rate never reaches a thousand: its one comma is always the decimal mark.
        assert_eq!(rate_micros("17,253"), Some(17_253_000));
        assert_eq!(rate_micros("17,25,"), None);
        assert_eq!(cents("999999999999999"), None, "too long");
    }
}
