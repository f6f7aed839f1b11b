//! An appointment as an iCalendar file (RFC 5545) for the applicant's calendar: one event with
//! its times in UTC (any calendar shows them in its own zone), the post's address, and the
//! reference to quote. Text is escaped and lines folded at 75 octets, as the RFC requires.
//!
//! Every version of one appointment's file carries the same UID (from the reference) and a
//! SEQUENCE that grows with each reschedule and with the cancellation (the `sequence` column),
//! so a calendar that imports the newer file updates its event instead of adding a second one;
//! a cancelled appointment's file is `METHOD:CANCEL` with `STATUS:CANCELLED` (RFC 5546), which
//! removes it.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::booking::appointments::AppointmentView;
use crate::booking::status::AppointmentStatus;
use crate::error::AppError;
use crate::reference::Post;
use crate::wording::Lang;

/// What the event says.
#[derive(Debug, Clone)]
pub struct Event {
    pub reference: String,
    pub summary: String,
    pub location: String,
    pub description: String,
    /// The language of the texts (`en`, `es`).
    pub language: &'static str,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    /// When the file is made.
    pub stamp: DateTime<Utc>,
    /// The event's version: 0 as booked, one more with every change.
    pub sequence: u32,
    /// The appointment was cancelled: the file removes the event.
    pub cancelled: bool,
}

/// How long a visit without a slot end is shown (walk-ins have none).
const DEFAULT_LENGTH: Duration = Duration::minutes(30);

/// The event of an appointment in `lang`: "Passport renewal, U.S. Embassy Mexico City" at the
/// post's name and street address, the reference and what to do, version `sequence`.
pub fn appointment_event(
    view: &AppointmentView,
    post: Option<&Post>,
    sequence: i32,
    lang: Lang,
    stamp: DateTime<Utc>,
) -> Result<Event, AppError> {
    let at = |t: &str| {
        DateTime::parse_from_rfc3339(t).map_err(|e| {
            AppError::internal(anyhow::anyhow!("appointment {} has a bad time {t:?}: {e}", view.reference))
        })
    };
    let starts_local = at(&view.starts_at)?;
    let starts = starts_local.with_timezone(&Utc);
    let ends = match view.ends_at.as_deref() {
        Some(end) => at(end)?.with_timezone(&Utc),
        None => starts + DEFAULT_LENGTH,
    };
    let service = crate::wording::service(&view.service).map_or(view.service.as_str(), |w| lang.t(w));
    let post_name = post.map_or(view.post.as_str(), |p| p.name.as_str());
    let location = match post {
        Some(p) if !p.address.is_empty() => format!("{}, {}", p.name, p.address),
        _ => post_name.to_string(),
    };
    let zone: Tz = view.timezone.parse().unwrap_or(chrono_tz::UTC);
    let when = crate::calendar::printed(starts_local.with_timezone(&zone));
    let reference = &view.reference;
    let cancelled = view.status == AppointmentStatus::Cancelled;
    let description = match (cancelled, lang) {
        (false, Lang::En) => format!(
            "Reference {reference}: quote it at the entrance. Local time: {when}. Bring what your \
             confirmation (PDF) lists. To change or cancel it, sign in and open My appointments."
        ),
        (false, Lang::Es) => format!(
            "Referencia {reference}: menciónela en la entrada. Hora local: {when}. Traiga lo que \
             indica su confirmación (PDF). Para cambiarla o cancelarla, inicie sesión y abra Mis citas."
        ),
        (true, Lang::En) => format!("Cancelled: appointment {reference} no longer takes place."),
        (true, Lang::Es) => format!("Cancelada: la cita {reference} ya no se llevará a cabo."),
    };
    Ok(Event {
        reference: reference.clone(),
        summary: format!("{service}, {post_name}"),
        location,
        description,
        language: lang.code(),
        starts,
        ends,
        stamp,
        sequence: u32::try_from(sequence).unwrap_or(0),
        cancelled,
    })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// `line` folded into 75-octet pieces (never inside a character), each ending CRLF.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

pub fn calendar(event: &Event) -> String {
    let (method, status) = if event.cancelled { ("CANCEL", "CANCELLED") } else { ("PUBLISH", "CONFIRMED") };
    let language = event.language;
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//consular-desk//appointments//EN".into(),
        format!("METHOD:{method}"),
        "BEGIN:VEVENT".into(),
        format!("UID:{}@consular-desk", escape(&event.reference)),
        format!("SEQUENCE:{}", event.sequence),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(event.starts)),
        format!("DTEND:{}", utc(event.ends)),
        format!("STATUS:{status}"),
        format!("SUMMARY;LANGUAGE={language}:{}", escape(&event.summary)),
        format!("LOCATION;LANGUAGE={language}:{}", escape(&event.location)),
        format!("DESCRIPTION;LANGUAGE={language}:{}", escape(&event.description)),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 15, 0).single().unwrap_or_default()
    }

    fn view(status: AppointmentStatus) -> AppointmentView {
        AppointmentView {
            reference: "K7Q-M4X-PT9".into(),
            kind: "booked".into(),
            status,
            post: "MEX".into(),
            service: "passport-renewal".into(),
            slot_id: Some(7),
            starts_at: "2026-12-01T09:15:00-06:00".into(),
            ends_at: Some("2026-12-01T09:45:00-06:00".into()),
            timezone: "America/Mexico_City".into(),
            party_size: 1,
            applicants: Vec::new(),
            phone: None,
            booked_by_staff: false,
        }
    }

    fn post() -> Post {
        Post {
            code: "MEX".into(),
            name: "U.S. Embassy Mexico City".into(),
            city: "Mexico City".into(),
            kind: "embassy".into(),
            timezone: "America/Mexico_City".into(),
            emergency_phone: String::new(),
            created_at: at(0).naive_utc(),
            address:
                "Paseo de la Reforma 305, Col. Cuauhtémoc; 06500 Ciudad de México, CDMX, and a long tail"
                    .into(),
        }
    }

    #[test]
    fn an_event_is_escaped_folded_versioned_and_in_utc() {
        let event = appointment_event(&view(AppointmentStatus::Booked), Some(&post()), 2, Lang::En, at(9))
            .expect("event");
        let text = calendar(&event);
        assert!(text.contains("DTSTART:20261201T151500Z\r\n") && text.contains("DTEND:20261201T154500Z\r\n"));
        assert!(text.contains("UID:K7Q-M4X-PT9@consular-desk\r\n"));
        assert!(text.contains("SEQUENCE:2\r\n") && text.contains("DTSTAMP:20261201T091500Z\r\n"));
        assert!(text.contains("METHOD:PUBLISH\r\n") && text.contains("STATUS:CONFIRMED\r\n"));
        assert!(text.lines().all(|l| l.len() <= 75), "folded: {text}");
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains("SUMMARY;LANGUAGE=en:Passport renewal\\, U.S. Embassy Mexico City\r\n"));
        assert!(unfolded.contains("LOCATION;LANGUAGE=en:U.S. Embassy Mexico City\\, Paseo de la Reforma 305\\, Col. Cuauhtémoc\\; 06500 Ciudad de México\\, CDMX\\, and a long tail\r\n"));
        assert!(unfolded.contains("DESCRIPTION;LANGUAGE=en:Reference K7Q-M4X-PT9: quote it at the entrance. Local time: 2026-12-01 09:15 (UTC\u{2212}06:00). Bring what your confirmation (PDF) lists."), "{unfolded}");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn a_cancelled_appointment_removes_the_event_in_the_visitors_language() {
        let event = appointment_event(&view(AppointmentStatus::Cancelled), Some(&post()), 3, Lang::Es, at(9))
            .expect("event");
        let text = calendar(&event).replace("\r\n ", "");
        assert!(text.contains("METHOD:CANCEL\r\n") && text.contains("STATUS:CANCELLED\r\n"));
        assert!(text.contains("SEQUENCE:3\r\n") && text.contains("UID:K7Q-M4X-PT9@consular-desk\r\n"));
        assert!(text.contains("SUMMARY;LANGUAGE=es:Renovación de pasaporte\\, U.S. Embassy Mexico City\r\n"));
        assert!(text
            .contains("DESCRIPTION;LANGUAGE=es:Cancelada: la cita K7Q-M4X-PT9 ya no se llevará a cabo.\r\n"));
    }

    #[test]
    fn a_visit_without_an_end_lasts_half_an_hour() {
        let mut walk_in = view(AppointmentStatus::CheckedIn);
        walk_in.ends_at = None;
        let event = appointment_event(&walk_in, None, 0, Lang::En, at(9)).expect("event");
        assert_eq!(event.ends - event.starts, Duration::minutes(30));
        assert_eq!((event.summary.as_str(), event.location.as_str()), ("Passport renewal, MEX", "MEX"));
    }
}
