//! The window's rules, pure and unit-tested: which letter a ticket has, how it reads, when an
//! arriving applicant may check in, and in which order the queue is called.

use chrono::{NaiveDate, NaiveDateTime};

use crate::config::WindowSettings;

/// The services the window has a line for, with their ticket letters.
pub const LINES: [(&str, char); 5] = [
    ("notarial", 'N'),
    ("passport-new", 'P'),
    ("passport-renewal", 'P'),
    ("passport-correction", 'P'),
    ("crba", 'C'),
];

/// The letter of an emergency's (a walk-in's) ticket, called before all others.
pub const EMERGENCY: char = 'E';

/// The letter of a ticket: emergencies (walk-ins) `E`, notarial `N`, passports `P`, CRBA `C`.
/// `None` for a service the window has no line for.
pub fn ticket_letter(service: &str, walk_in: bool) -> Option<char> {
    let letter = LINES.iter().find(|(code, _)| *code == service).map(|(_, letter)| *letter)?;
    Some(if walk_in { EMERGENCY } else { letter })
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

/// A checked-in visit waiting to be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub id: i64,
    pub emergency: bool,
    /// The appointment's time; a walk-in's is its arrival.
    pub starts_at: NaiveDateTime,
    pub checked_in_at: NaiveDateTime,
}

/// The queue's order: emergencies first, then by appointment time, then by check-in time
/// (and the id, so two clerks always agree).
pub fn queue_order(waiting: &mut [Waiting]) {
    waiting.sort_by_key(|w| (!w.emergency, w.starts_at, w.checked_in_at, w.id));
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
        assert_eq!(ticket_letter("crba", true), Some('E'), "a walk-in is an emergency");
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
        let w = |id, emergency, starts: &str, arrived: &str| Waiting {
            id,
            emergency,
            starts_at: at(starts),
            checked_in_at: at(arrived),
        };
        let mut queue = vec![
            w(1, false, "2026-12-01 10:00", "2026-12-01 09:10"),
            w(2, false, "2026-12-01 09:30", "2026-12-01 09:20"),
            w(3, true, "2026-12-01 09:40", "2026-12-01 09:40"),
            w(4, false, "2026-12-01 09:30", "2026-12-01 09:05"),
            w(5, true, "2026-12-01 09:35", "2026-12-01 09:35"),
        ];
        queue_order(&mut queue);
        assert_eq!(queue.iter().map(|w| w.id).collect::<Vec<_>>(), [5, 3, 4, 2, 1]);
    }
}
