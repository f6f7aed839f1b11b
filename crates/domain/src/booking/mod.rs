//! Appointment booking: schedules, closures, slots and appointments.

pub mod appointments;
pub mod availability_cache;
pub mod closures;
pub mod ics;
pub mod online;
pub mod party;
pub mod reference_code;
pub mod schedule;
pub mod slot_times;
pub mod slots;
pub mod status;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Actor;
use crate::calendar;
use crate::config::BookingSettings;
use crate::db::schema::services;
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::rule::Rule;
use crate::throttle::{self, Limit};
use appointments::Rules;

/// The widest availability window one request may ask for.
pub const MAX_AVAILABILITY_DAYS: i64 = 92;

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableSlot {
    pub slot_id: i64,
    pub starts_at: String,
    pub ends_at: String,
    pub remaining: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Availability {
    pub post: String,
    pub service: String,
    pub timezone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub slots: Vec<AvailableSlot>,
}

/// 404 unless `service` is a known service code (like an unknown post: the request is
/// well-formed, the thing it names doesn't exist).
pub fn known_service(conn: &mut DbConn, service: &str) -> Result<(), AppError> {
    if service.contains('\0') {
        return Err(AppError::not_found("no such service"));
    }
    let n: i64 = services::table.filter(services::code.eq(service)).count().get_result(conn)?;
    if n == 0 {
        return Err(AppError::not_found(format!("no service {service:?}")));
    }
    Ok(())
}

/// A date from a request, refused with 422 when it lies outside 2000–2200
/// ([`calendar::plausible`]).
pub fn plausible_date(field: &str, date: Option<NaiveDate>) -> Result<Option<NaiveDate>, AppError> {
    date.map(|d| calendar::plausible(field, d)).transpose().map_err(|e| AppError::invalid(vec![e]))
}

/// What availability is asked for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Service code, e.g. `passport-renewal` (404 for an unknown one).
    pub service: String,
    /// First local date (`YYYY-MM-DD`); today by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    pub from: Option<NaiveDate>,
    /// Last local date, on or after `from` and at most 92 days later; 30 days after `from`
    /// by default.
    #[param(schema_with = crate::field_schemas::plausible_date)]
    pub to: Option<NaiveDate>,
}

/// Slots of a post and service that `actor` may book, between two local dates (default: the
/// next 30 days). Staff see the slots inside the applicants' notice period too, and only at
/// their post.
pub fn availability(
    conn: &mut DbConn,
    rules: &Rules,
    actor: &Actor,
    post: &str,
    query: &AvailabilityQuery,
    now: NaiveDateTime,
) -> Result<Availability, AppError> {
    if let Actor::Staff(member) = actor {
        member.ensure_post(post)?;
    }
    let (service, from, to) = (query.service.as_str(), query.from, query.to);
    let (from, to) = (plausible_date("from", from)?, plausible_date("to", to)?);
    let tz = calendar::post_zone(conn, post)?;
    known_service(conn, service)?;
    let from = from.unwrap_or_else(|| calendar::local_date(now, tz));
    let to = to.unwrap_or(from + Duration::days(30));
    if to < from || (to - from).num_days() > MAX_AVAILABILITY_DAYS {
        return Err(AppError::invalid(vec![FieldError::new(
            "to",
            Rule::RangeTooLong { max_days: MAX_AVAILABILITY_DAYS },
        )]));
    }
    let (earliest, latest) = appointments::booking_window(rules, actor, now);
    let slots = slots::bookable(conn, post, service, from, to, earliest, latest)?
        .into_iter()
        .map(|s| AvailableSlot {
            slot_id: s.id,
            starts_at: calendar::rfc3339(s.starts_at, tz),
            ends_at: calendar::rfc3339(s.ends_at, tz),
            remaining: s.remaining(),
        })
        .collect();
    Ok(Availability {
        post: post.to_string(),
        service: service.to_string(),
        timezone: tz.name().to_string(),
        from,
        to,
        slots,
    })
}

/// The one rule for what people type in a line of text (reasons, notes, titles, venues,
/// explanations, fee descriptions, window labels): at most `max` characters, not only white
/// space, none of the control, bidi or invisible format characters names refuse
/// ([`crate::accounts::fields::invisible`]: `fine \u{202E}gnp.exe` would print as
/// `fine exe.png`); kept trimmed and in Unicode NFC, so one text typed on two keyboards is
/// one string.
pub fn free_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    use unicode_normalization::UnicodeNormalization;
    let text = raw.trim();
    if text.is_empty() || raw.chars().count() > max || raw.chars().any(crate::accounts::fields::invisible) {
        return Err(FieldError::new(field, Rule::FreeText { max }));
    }
    Ok(text.nfc().collect())
}

/// Counts a booking attempt (book or reschedule) against the applicant's and the client
/// address's hourly limits: bots hoard consular slots. 429 when either is exceeded.
pub fn count_attempt(
    conn: &mut DbConn,
    settings: &BookingSettings,
    applicant_id: i64,
    client_address: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let window = Duration::hours(1);
    let buckets = [
        (format!("booking:applicant:{applicant_id}"), settings.max_attempts_per_applicant),
        (format!("booking:address:{client_address}"), settings.max_attempts_per_address),
    ];
    for (bucket, max) in buckets {
        if let Some(wait) = throttle::take(conn, &bucket, Limit { max, window }, now)? {
            return Err(AppError::too_many_requests(wait));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::free_text;

    #[test]
    fn typed_text_refuses_bidi_and_invisible_characters_and_is_kept_in_nfc() {
        for bad in [
            "fine \u{202E}gnp.exe",
            "a\u{202A}b",
            "a\u{2066}b\u{2069}",
            "left\u{200E}mark",
            "right\u{200F}mark",
            "arabic\u{061C}mark",
            "zero\u{200B}width",
            "joiner\u{200D}",
            "soft\u{00AD}hyphen",
            "\u{FEFF}bom",
            "tag\u{E0041}",
            "tab\there",
            "two\nlines",
            "nul\u{0}",
            "   ",
            "",
        ] {
            assert!(free_text("reason", bad, 200).is_err(), "{bad:?}");
        }
        assert_eq!(free_text("reason", "  Jose\u{0301} asked  ", 200).ok().as_deref(), Some("José asked"));
        assert_eq!(
            free_text("reason", "Señora Núñez, 王芳 ✓", 200).ok().as_deref(),
            Some("Señora Núñez, 王芳 ✓")
        );
        assert!(free_text("reason", &"a".repeat(201), 200).is_err());
    }
}
