//! The states of a visit (a booked appointment or a walk-in), the moves between them, and
//! which hold a seat: written once here, so that booking, the window and reports can't each
//! decide differently. Pure rules.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an appointment stands. Stored as its `as_str` (a CHECK constraint lists the same),
/// and so in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Booked online or by staff; may still be cancelled or rescheduled.
    Booked,
    /// Cancelled by the applicant; its seats went back (after the release delay).
    Cancelled,
    /// The person arrived and has a queue ticket.
    CheckedIn,
    /// The ticket was called to a window.
    Called,
    /// Being served at the window.
    InService,
    /// Served at the window.
    Completed,
    /// Nobody came: not checked in by the end of the grace period, or not at the window when
    /// called.
    NoShow,
    /// Checked in (or called) and still waiting when the post closed: closed by the system at
    /// closing time, for a supervisor to book again.
    NotServed,
}

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 8] = [
        AppointmentStatus::Booked,
        AppointmentStatus::Cancelled,
        AppointmentStatus::CheckedIn,
        AppointmentStatus::Called,
        AppointmentStatus::InService,
        AppointmentStatus::Completed,
        AppointmentStatus::NoShow,
        AppointmentStatus::NotServed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::CheckedIn => "checked_in",
            AppointmentStatus::Called => "called",
            AppointmentStatus::InService => "in_service",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::NoShow => "no_show",
            AppointmentStatus::NotServed => "not_served",
        }
    }

    pub fn parse(raw: &str) -> Option<AppointmentStatus> {
        AppointmentStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the appointment's seats count in its slot's `booked`. Only a cancellation gives
    /// them back; a no-show's slot is in the past and its seat stays taken.
    pub fn holds_seat(self) -> bool {
        self != AppointmentStatus::Cancelled
    }

    /// Whether the applicant may still cancel or reschedule it (before it starts).
    pub fn is_active(self) -> bool {
        self == AppointmentStatus::Booked
    }

    /// Whether a visit in this state may move to `next`. A called ticket may be called again
    /// (recalled to the same or another window).
    pub fn can_become(self, next: AppointmentStatus) -> bool {
        use AppointmentStatus::*;
        matches!(
            (self, next),
            (Booked, Cancelled | CheckedIn | NoShow)
                | (CheckedIn, Called | Cancelled | NotServed)
                | (Called, Called | InService | Completed | NoShow | NotServed)
                | (InService, Completed)
        )
    }

    /// Whether the visit is over, one way or another.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            AppointmentStatus::Cancelled
                | AppointmentStatus::Completed
                | AppointmentStatus::NoShow
                | AppointmentStatus::NotServed
        )
    }
}

impl fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::AppointmentStatus::{self, *};

    #[test]
    fn json_speaks_the_stored_names() {
        for status in AppointmentStatus::ALL {
            let json = serde_json::to_value(status).expect("serializes");
            assert_eq!(json, status.as_str());
            assert_eq!(serde_json::from_value::<AppointmentStatus>(json).ok(), Some(status));
        }
    }

    #[test]
    fn names_round_trip() {
        for s in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(AppointmentStatus::parse("Booked"), None);
    }

    #[test]
    fn moves_and_seats() {
        assert!(Booked.can_become(Cancelled) && Booked.can_become(CheckedIn) && Booked.can_become(NoShow));
        assert!(CheckedIn.can_become(Called) && Called.can_become(Called), "called, and recalled");
        assert!(
            Called.can_become(InService) && Called.can_become(Completed) && InService.can_become(Completed)
        );
        assert!(Called.can_become(NoShow), "called and not at the window");
        assert!(CheckedIn.can_become(NotServed) && Called.can_become(NotServed), "closed at closing time");
        assert!(!Booked.can_become(NotServed) && !InService.can_become(NotServed));
        for done in [Cancelled, Completed, NoShow, NotServed] {
            assert!(done.is_final());
            assert!(AppointmentStatus::ALL.iter().all(|next| !done.can_become(*next)), "{done} is final");
        }
        assert!(!Booked.can_become(Completed), "served without checking in");
        assert!(!CheckedIn.can_become(Completed), "served without being called");
        assert!(!InService.can_become(NoShow), "at the window is not a no-show");
        assert!(!Cancelled.holds_seat() && Booked.holds_seat() && NoShow.holds_seat());
        assert!(Booked.is_active() && !CheckedIn.is_active());
    }
}
