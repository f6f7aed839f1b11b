//! An appointment as an iCalendar file (RFC 5545) for the applicant's calendar: one event with
//! its times in UTC (any calendar shows them in its own zone), the post's address, and the
//! reference to quote. Text is escaped and lines folded at 75 octets, as the RFC requires.

use chrono::{DateTime, Utc};

/// What the event says.
pub struct Event<'a> {
    pub reference: &'a str,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    /// When the file is made.
    pub stamp: DateTime<Utc>,
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
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//consular-desk//appointments//EN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}@consular-desk", escape(event.reference)),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(event.starts)),
        format!("DTEND:{}", utc(event.ends)),
        format!("SUMMARY:{}", escape(event.summary)),
        format!("LOCATION:{}", escape(event.location)),
        format!("DESCRIPTION:{}", escape(event.description)),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn an_event_is_escaped_folded_and_in_utc() {
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 1, h, 15, 0).single().unwrap_or_default();
        let location =
            "Paseo de la Reforma 305, Col. Cuauhtémoc; 06500 Ciudad de México, CDMX, and a long tail";
        let text = calendar(&Event {
            reference: "K7Q-M4X-PT9",
            summary: "Passport renewal",
            location,
            description: "Reference K7Q-M4X-PT9\nBring your passport",
            starts: at(15),
            ends: at(16),
            stamp: at(9),
        });
        assert!(text.contains("DTSTART:20261201T151500Z\r\n") && text.contains("DTEND:20261201T161500Z\r\n"));
        assert!(text.contains("UID:K7Q-M4X-PT9@consular-desk\r\n"));
        assert!(text.contains("DESCRIPTION:Reference K7Q-M4X-PT9\\nBring your passport\r\n"));
        assert!(text.lines().all(|l| l.len() <= 75), "folded: {text}");
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains("LOCATION:Paseo de la Reforma 305\\, Col. Cuauhtémoc\\; 06500 Ciudad de México\\, CDMX\\, and a long tail\r\n"));
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    }
}
