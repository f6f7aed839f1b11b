//! The window's rules, pure and unit-tested: which letter a ticket has, how it reads, when an
//! arriving applicant may check in, and in which order the queue is called.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;

use crate::config::WindowSettings;
use crate::error::FieldError;
use crate::rule::Rule;
use crate::wording::Words;

/// The services the window has a line for, with their ticket letters.
pub const LINES: [(&str, char); 5] = [
    ("notarial", 'N'),
    ("passport-new", 'P'),
    ("passport-renewal", 'P'),
    ("passport-correction", 'P'),
    ("crba", 'C'),
];

/// The letter of an emergency's ticket, called before all others.
pub const EMERGENCY: char = 'E';

/// The letter of a ticket: emergencies `E`; otherwise the service's line, notarial `N`,
/// passports `P`, CRBA `C` (a routine walk-in takes its service's line like an appointment).
/// `None` for a service the window has no line for.
pub fn ticket_letter(service: &str, emergency: bool) -> Option<char> {
    let letter = LINES.iter().find(|(code, _)| *code == service).map(|(_, letter)| *letter)?;
    Some(if emergency { EMERGENCY } else { letter })
}

/// A routine walk-in's stored reason code: no emergency, it waits in its service's line.
pub const ROUTINE: &str = "routine";

/// The emergencies that let a walk-in go first, each with its stable code (what the API takes
/// and the record keeps) and its words. A fixed list, so "emergency" means the same at every
/// window and the day's report can count them.
pub const EMERGENCY_REASONS: [(&str, Words); 6] = [
    (
        "lost_passport_travel_72h",
        (
            "Lost or stolen passport, travelling within 72 hours",
            "Pasaporte perdido o robado, con viaje en menos de 72 horas",
        ),
    ),
    ("arrest", ("Arrest", "Detención")),
    ("death", ("Death", "Fallecimiento")),
    ("destitution", ("A person without means", "Persona sin recursos")),
    ("crime_victim", ("Victim of a crime", "Víctima de un delito")),
    ("child_in_danger", ("A child in danger", "Menor en peligro")),
];

/// The words of an emergency reason's code (`None` for a code not on the list, such as a walk-in
/// recorded before the list existed, whose reason was free text).
pub fn emergency_words(code: &str) -> Option<Words> {
    EMERGENCY_REASONS.iter().find(|(c, _)| *c == code).map(|(_, words)| *words)
}

/// What kind of walk-in the clerk records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkIn {
    /// No appointment, no emergency: the service's line, behind the hour's appointments.
    Routine,
    /// One of [`EMERGENCY_REASONS`] (its code): an `E` ticket, called first.
    Emergency(&'static str),
}

impl WalkIn {
    /// The walk-in `kind` (`routine` or `emergency`) with its `reason` code, which an emergency
    /// needs and a routine walk-in must not have.
    pub fn parse(kind: &str, reason: Option<&str>) -> Result<WalkIn, FieldError> {
        match (kind, reason.map(str::trim).filter(|r| !r.is_empty())) {
            ("routine", None) => Ok(WalkIn::Routine),
            ("routine", Some(_)) => Err(FieldError::new("reason", Rule::OnlyForEmergency)),
            ("emergency", Some(code)) => EMERGENCY_REASONS
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(c, _)| WalkIn::Emergency(c))
                .ok_or_else(|| FieldError::new("reason", Rule::NotAnEmergencyReason)),
            ("emergency", None) => Err(FieldError::new("reason", Rule::EmergencyNeedsReason)),
            _ => Err(FieldError::new("kind", Rule::NotAWalkInKind)),
        }
    }

    /// The code stored as the visit's `walk_in_reason`.
    pub fn code(self) -> &'static str {
        match self {
            WalkIn::Routine => ROUTINE,
            WalkIn::Emergency(code) => code,
        }
    }

    pub fn is_emergency(self) -> bool {
        matches!(self, WalkIn::Emergency(_))
    }
}

/// Whether a walk-in with this stored reason goes first. Anything but `routine` does: walk-ins
/// recorded before routine ones existed were all emergencies.
pub fn is_emergency_reason(stored: &str) -> bool {
    stored != ROUTINE
}

/// The ticket as shown and called out: `P-014` (three digits at least).
pub fn ticket(letter: char, number: i64) -> String {
    format!("{letter}-{number:03}")
}

/// The gapless counter that numbers one letter's tickets at a post on one local day.
pub fn ticket_counter(post: &str, local_day: NaiveDate, letter: char) -> String {
    format!("ticket:{post}:{local_day}:{letter}")
}

/// When a check-in for an appointment starting at `starts_at` is made at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Check-in opens at the given time.
    TooEarly {
        opens_at: NaiveDateTime,
    },
    OnTime,
    /// The grace period is over: only a clerk's override, with a reason, checks in.
    TooLate,
}

/// Whether `now` is inside the check-in window of an appointment starting at `starts_at`.
pub fn check_in_timing(settings: &WindowSettings, starts_at: NaiveDateTime, now: NaiveDateTime) -> Timing {
    let opens_at = starts_at - settings.check_in_early;
    if now < opens_at {
        Timing::TooEarly { opens_at }
    } else if now > starts_at + settings.check_in_grace {
        Timing::TooLate
    } else {
        Timing::OnTime
    }
}

/// When an appointment that nobody checked in for becomes a no-show.
pub fn no_show_after(settings: &WindowSettings, starts_at: NaiveDateTime) -> NaiveDateTime {
    starts_at + settings.check_in_grace
}

/// Which of the queue's three kinds a waiting visit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// An emergency walk-in: before everyone.
    Emergency,
    /// A booked appointment.
    Booked,
    /// A routine walk-in: behind the appointments of the hour it arrived in.
    Routine,
}

/// A checked-in visit waiting to be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub id: i64,
    pub kind: Kind,
    /// The appointment's time; a walk-in's is its arrival (UTC).
    pub starts_at: NaiveDateTime,
    pub checked_in_at: NaiveDateTime,
}

/// The local hour (its start, as a local time) that `utc` falls in at the post.
fn local_hour(utc: NaiveDateTime, tz: Tz) -> NaiveDateTime {
    let local = tz.from_utc_datetime(&utc).naive_local();
    local.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(local)
}

/// The queue's order: emergencies first (by arrival); then hour by hour of the post's day,
/// the hour's appointments (by their time) before the routine walk-ins who arrived in that
/// hour (by arrival), so a walk-in never jumps a booked person yet doesn't wait behind the
/// whole afternoon; ties by check-in time and the id, so two clerks always agree.
pub fn queue_order(waiting: &mut [Waiting], tz: Tz) {
    waiting.sort_by_key(|w| {
        let emergency = w.kind == Kind::Emergency;
        let hour = if emergency { NaiveDateTime::MIN } else { local_hour(w.starts_at, tz) };
        (!emergency, hour, w.kind, w.starts_at, w.checked_in_at, w.id)
    });
}

/// When the window's day `date` closes at a post, as UTC: at the post's closing time when set,
/// else at the end of that day's last opening, else (no opening that day) at midnight, so
/// nothing of one day is left waiting in the next.
pub fn closing_at(
    date: NaiveDate,
    setting: Option<NaiveTime>,
    last_opening_ends: Option<NaiveTime>,
    tz: Tz,
) -> NaiveDateTime {
    match setting.or(last_opening_ends) {
        Some(time) => crate::calendar::local_to_utc(date, time, tz),
        None => crate::calendar::day_bounds(date, tz).1,
    }
}

/// The longest a reason for a late check-in (or a walk-in) may be.
pub const MAX_REASON_CHARS: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time")
    }

    fn settings() -> WindowSettings {
        WindowSettings { check_in_early: Duration::minutes(60), check_in_grace: Duration::minutes(15) }
    }

    #[test]
    fn letters_and_tickets() {
        assert_eq!(ticket_letter("notarial", false), Some('N'));
        assert_eq!(ticket_letter("passport-renewal", false), Some('P'));
        assert_eq!(ticket_letter("crba", false), Some('C'));
        assert_eq!(ticket_letter("crba", true), Some('E'), "an emergency");
        assert_eq!(ticket_letter("visa", false), None);
        assert_eq!(ticket_letter("visa", true), None, "no line, not even for emergencies");
        assert_eq!(ticket('P', 14), "P-014");
        assert_eq!(ticket('N', 1234), "N-1234");
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert_eq!(ticket_counter("MEX", day, 'P'), "ticket:MEX:2026-12-01:P");
    }

    #[test]
    fn the_check_in_window() {
        let starts = at("2026-12-01 15:00");
        let s = settings();
        assert_eq!(
            check_in_timing(&s, starts, at("2026-12-01 13:59")),
            Timing::TooEarly { opens_at: at("2026-12-01 14:00") }
        );
        assert_eq!(check_in_timing(&s, starts, at("2026-12-01 14:00")), Timing::OnTime);
        assert_eq!(check_in_timing(&s, starts, at("2026-12-01 15:15")), Timing::OnTime);
        assert_eq!(check_in_timing(&s, starts, at("2026-12-01 15:16")), Timing::TooLate);
        assert_eq!(no_show_after(&s, starts), at("2026-12-01 15:15"));
    }

    #[test]
    fn emergencies_first_then_appointment_time_then_arrival() {
        let w = |id, kind, starts: &str, arrived: &str| Waiting {
            id,
            kind,
            starts_at: at(starts),
            checked_in_at: at(arrived),
        };
        let mut queue = vec![
            w(1, Kind::Booked, "2026-12-01 10:00", "2026-12-01 09:10"),
            w(2, Kind::Booked, "2026-12-01 09:30", "2026-12-01 09:20"),
            w(3, Kind::Emergency, "2026-12-01 09:40", "2026-12-01 09:40"),
            w(4, Kind::Booked, "2026-12-01 09:30", "2026-12-01 09:05"),
            w(5, Kind::Emergency, "2026-12-01 09:35", "2026-12-01 09:35"),
        ];
        queue_order(&mut queue, chrono_tz::UTC);
        assert_eq!(queue.iter().map(|w| w.id).collect::<Vec<_>>(), [5, 3, 4, 2, 1]);
    }

    /// Times are UTC; Mexico City is six hours behind, so 16:00 UTC is 10:00 there.
    #[test]
    fn routine_walk_ins_wait_behind_the_appointments_of_their_hour() {
        let w =
            |id, kind, starts: &str| Waiting { id, kind, starts_at: at(starts), checked_in_at: at(starts) };
        let mut queue = vec![
            w(1, Kind::Routine, "2026-12-01 16:05"),
            w(2, Kind::Booked, "2026-12-01 16:30"),
            w(3, Kind::Booked, "2026-12-01 17:00"),
            w(4, Kind::Emergency, "2026-12-01 16:50"),
            w(5, Kind::Routine, "2026-12-01 16:40"),
            w(6, Kind::Booked, "2026-12-01 16:00"),
            w(7, Kind::Routine, "2026-12-01 17:01"),
            w(8, Kind::Booked, "2026-12-01 15:45"),
        ];
        queue_order(&mut queue, chrono_tz::America::Mexico_City);
        // The emergency; the 9 o'clock appointment; the 10 o'clock ones, then that hour's
        // walk-ins by arrival; then 11 o'clock's appointment and its walk-in.
        assert_eq!(queue.iter().map(|w| w.id).collect::<Vec<_>>(), [4, 8, 6, 2, 1, 5, 3, 7]);
        // Kathmandu is 5:45 ahead: its hours don't start on a UTC hour.
        let mut queue = vec![
            w(1, Kind::Routine, "2026-12-01 04:16"), // 10:01 local
            w(2, Kind::Booked, "2026-12-01 04:30"),  // 10:15 local
            w(3, Kind::Booked, "2026-12-01 04:10"),  // 09:55 local
        ];
        queue_order(&mut queue, chrono_tz::Asia::Kathmandu);
        assert_eq!(queue.iter().map(|w| w.id).collect::<Vec<_>>(), [3, 2, 1]);
    }

    #[test]
    fn walk_in_kinds_and_reasons() {
        assert_eq!(WalkIn::parse("routine", None), Ok(WalkIn::Routine));
        assert_eq!(WalkIn::parse("routine", Some(" ")), Ok(WalkIn::Routine), "a blank reason is none");
        assert_eq!(WalkIn::parse("emergency", Some("arrest")), Ok(WalkIn::Emergency("arrest")));
        assert_eq!(WalkIn::parse("emergency", Some("arrest")).map(WalkIn::code), Ok("arrest"));
        assert_eq!(WalkIn::parse("routine", None).map(WalkIn::code), Ok(ROUTINE));
        for (kind, reason, field) in [
            ("emergency", None, "reason"),
            ("emergency", Some("bored"), "reason"),
            ("routine", Some("arrest"), "reason"),
            ("urgent", None, "kind"),
        ] {
            assert_eq!(
                WalkIn::parse(kind, reason).map_err(|e| e.field),
                Err(field.to_string()),
                "{kind} {reason:?}"
            );
        }
        assert_eq!(EMERGENCY_REASONS.len(), 6);
        assert!(EMERGENCY_REASONS.iter().all(|(code, (en, es))| is_emergency_reason(code) && en != es));
        assert!(!is_emergency_reason(ROUTINE));
        assert!(is_emergency_reason("lost passport, flight tonight"), "an old free-text reason");
        assert_eq!(emergency_words("death"), Some(("Death", "Fallecimiento")));
        assert_eq!(ticket_letter("notarial", WalkIn::Routine.is_emergency()), Some('N'));
    }

    #[test]
    fn the_day_closes_at_the_setting_or_the_last_opening_or_midnight() {
        let mex = chrono_tz::America::Mexico_City;
        let day = NaiveDate::from_ymd_opt(2026, 12, 8).expect("date");
        let time = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").expect("time");
        assert_eq!(closing_at(day, Some(time("18:00")), Some(time("14:00")), mex), at("2026-12-09 00:00"));
        assert_eq!(closing_at(day, None, Some(time("14:00")), mex), at("2026-12-08 20:00"));
        assert_eq!(closing_at(day, None, None, mex), at("2026-12-09 06:00"), "midnight at the post");
    }
}
