//! Local time at each post, shared by every capability: a post's zone, its local day and the
//! UTC bounds of local dates, clock times as written in requests, RFC 3339 with the post's
//! offset, and the US fiscal year receipts and registers are numbered in. Every zone comes from
//! chrono-tz, never a fixed offset (Tijuana, Ciudad Juárez and Matamoros keep US daylight saving
//! time; the rest of Mexico has none since 2022).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::schema::posts;
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::rule::Rule;

/// A post's zone, or 404 for an unknown post code.
pub fn post_zone(conn: &mut DbConn, post: &str) -> Result<Tz, AppError> {
    let zone: Option<String> = posts::table.find(post).select(posts::timezone).first(conn).optional()?;
    let zone = zone.ok_or_else(|| AppError::not_found(format!("no post {post}")))?;
    zone.parse().map_err(|_| AppError::internal(anyhow::anyhow!("post {post} has a bad zone")))
}

/// Today's date at `post`; with no post (a page about every post), the embassy's, in Mexico
/// City. "Today" is always a local date: from 18:00 in Mexico the UTC date is tomorrow.
pub fn today_at(conn: &mut DbConn, post: Option<&str>, now: NaiveDateTime) -> Result<NaiveDate, AppError> {
    let zone = post_zone(conn, post.unwrap_or(EMBASSY))?;
    Ok(local_date(now, zone))
}

/// The latest local date at any post at `now`: a date after it has begun nowhere yet. A price
/// from that date has taken effect at no post.
pub fn latest_local_date(conn: &mut DbConn, now: NaiveDateTime) -> Result<NaiveDate, AppError> {
    let zones: Vec<String> = posts::table.select(posts::timezone).load(conn)?;
    let mut latest = now.date() - Duration::days(1);
    for zone in zones {
        let tz: Tz =
            zone.parse().map_err(|_| AppError::internal(anyhow::anyhow!("a post has a bad zone")))?;
        latest = latest.max(local_date(now, tz));
    }
    Ok(latest)
}

/// The embassy's post code: its date stands for a page about every post.
pub const EMBASSY: &str = "MEX";

/// The US federal fiscal year a date falls in: 1 October to 30 September, named by the year it
/// ends (2026-11-27 is in FY2027).
pub fn fiscal_year(date: NaiveDate) -> i32 {
    if date.month() >= 10 {
        date.year() + 1
    } else {
        date.year()
    }
}

/// Refuses dates outside 2000–2200 with a field error. Nothing the service deals in lies
/// outside them, and such a date would overflow date arithmetic or PostgreSQL's date range.
pub fn plausible(field: &str, date: NaiveDate) -> Result<NaiveDate, FieldError> {
    if (2000..=2200).contains(&date.year()) {
        Ok(date)
    } else {
        Err(FieldError::new(field, Rule::DateOutOfRange))
    }
}

/// A local clock time written exactly `HH:MM` (00:00 to 23:59), as the OpenAPI document's
/// pattern says; `8:00` or `08:00:00` are refused rather than guessed at.
pub fn clock_time(raw: &str) -> Option<NaiveTime> {
    let b = raw.as_bytes();
    let digits = |i: usize| b.get(i).filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'));
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    let (h, m) = (digits(0)? * 10 + digits(1)?, digits(3)? * 10 + digits(4)?);
    NaiveTime::from_hms_opt(h, m, 0).filter(|_| h < 24 && m < 60)
}

/// The first instant at or after local `date` `time` that exists in `tz`, as UTC. Gaps are at
/// most an hour, so stepping by minutes finds one quickly.
pub fn local_to_utc(date: NaiveDate, time: NaiveTime, tz: Tz) -> NaiveDateTime {
    let mut local = date.and_time(time);
    for _ in 0..=180 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.naive_utc();
        }
        local += Duration::minutes(1);
    }
    // Unreachable for real zones; fall back to reading the wall time as UTC.
    date.and_time(time)
}

/// The UTC interval `[start, end)` covered by local `date`, 23 to 25 hours long.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> (NaiveDateTime, NaiveDateTime) {
    let next = date.succ_opt().unwrap_or(date);
    (local_to_utc(date, NaiveTime::MIN, tz), local_to_utc(next, NaiveTime::MIN, tz))
}

/// The post-local date of a UTC instant.
pub fn local_date(utc: NaiveDateTime, tz: Tz) -> NaiveDate {
    Utc.from_utc_datetime(&utc).with_timezone(&tz).date_naive()
}

/// RFC 3339 with the post's offset at that instant, e.g. `2026-12-01T09:15:00-06:00`.
pub fn rfc3339(utc: NaiveDateTime, tz: Tz) -> String {
    Utc.from_utc_datetime(&utc).with_timezone(&tz).to_rfc3339()
}

/// A time as every paper prints it, in the post's zone: `2026-12-01 18:45 (UTC−06:00)`, to
/// the minute, with a true minus sign. One function, so a receipt, its void line and a report's
/// signature can't disagree.
pub fn printed(at: DateTime<Tz>) -> String {
    let offset = at.offset().fix().local_minus_utc();
    let sign = if offset < 0 { '\u{2212}' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    format!("{} (UTC{sign}{:02}:{:02})", at.format("%Y-%m-%d %H:%M"), minutes / 60, minutes % 60)
}

/// [`printed`] of a stored UTC time at a post.
pub fn printed_at(utc: NaiveDateTime, tz: Tz) -> String {
    printed(Utc.from_utc_datetime(&utc).with_timezone(&tz))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Test shorthands, shared with the other modules' tests of local time.
    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }
    pub(crate) fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }
    pub(crate) fn tz(name: &str) -> Tz {
        name.parse().expect("zone")
    }

    #[test]
    fn printed_times_keep_minutes_and_offset_apart() {
        let stored = d(2026, 12, 2).and_hms_nano_opt(0, 45, 17, 641_729_933).expect("time");
        assert_eq!(printed_at(stored, tz("America/Mexico_City")), "2026-12-01 18:45 (UTC\u{2212}06:00)");
        // Tijuana keeps US daylight saving time: −07:00 in July, −08:00 in December.
        let july = d(2027, 7, 1).and_hms_nano_opt(19, 5, 59, 999_999_999).expect("time");
        assert_eq!(printed_at(july, tz("America/Tijuana")), "2027-07-01 12:05 (UTC\u{2212}07:00)");
        assert_eq!(printed_at(stored, tz("America/Tijuana")), "2026-12-01 16:45 (UTC\u{2212}08:00)");
        assert_eq!(printed_at(stored, tz("UTC")), "2026-12-02 00:45 (UTC+00:00)");
        assert_eq!(printed_at(stored, tz("Asia/Kolkata")), "2026-12-02 06:15 (UTC+05:30)");
    }

    #[test]
    fn days_are_23_to_25_hours_long() {
        let (s, e) = day_bounds(d(2027, 3, 14), tz("America/Tijuana"));
        assert_eq!(e - s, Duration::hours(23));
        let (s, e) = day_bounds(d(2026, 11, 1), tz("America/Tijuana"));
        assert_eq!(e - s, Duration::hours(25));
        let (s, e) = day_bounds(d(2026, 11, 27), tz("America/Mexico_City"));
        assert_eq!((s, e - s), (d(2026, 11, 27).and_time(t(6, 0)), Duration::hours(24)));
    }

    #[test]
    fn implausible_dates_are_refused() {
        assert!(plausible("from", d(2026, 11, 27)).is_ok());
        assert!(plausible("from", d(1999, 12, 31)).is_err());
        assert!(plausible("to", NaiveDate::MAX).is_err());
    }

    #[test]
    fn local_date_of_an_evening_in_utc() {
        let utc = d(2026, 11, 28).and_time(t(3, 0));
        assert_eq!(local_date(utc, tz("America/Mexico_City")), d(2026, 11, 27));
    }

    #[test]
    fn clock_times_are_exactly_hh_mm() {
        assert_eq!(clock_time("08:05"), NaiveTime::from_hms_opt(8, 5, 0));
        assert_eq!(clock_time("23:59"), NaiveTime::from_hms_opt(23, 59, 0));
        for bad in ["8:05", "24:00", "12:60", "08:05:00", "0805", "ab:cd", "", "０８:05"] {
            assert_eq!(clock_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_fiscal_year_starts_on_the_first_of_october() {
        assert_eq!(fiscal_year(d(2026, 11, 27)), 2027);
        assert_eq!(fiscal_year(d(2026, 10, 1)), 2027);
        assert_eq!(fiscal_year(d(2026, 9, 30)), 2026);
        assert_eq!(fiscal_year(d(2027, 1, 1)), 2027);
    }
}
