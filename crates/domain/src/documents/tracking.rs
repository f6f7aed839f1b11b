//! Document tracking: the kinds of tracked document, their state machines (docs/DOMAIN.md, "Document tracking"), and
//! tracking numbers. Pure rules.

use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::booking::reference_code::{check_symbol, value, ALPHABET};

/// Longer notes (on a document's step, a correction, a cash close's explanation) are refused.
/// Here, in a module of pure rules, so that `field_schemas` reads it without a circle through
/// `documents::records`, whose request types carry those schemas.
pub const MAX_NOTE_CHARS: usize = 500;

/// What is tracked: a passport application (DS-11, DS-82, DS-5504), a CRBA (DS-2029), or a
/// notarial job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DocumentKind)]
pub enum Kind {
    Passport,
    Crba,
    Notarial,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Passport => "passport",
            Kind::Crba => "crba",
            Kind::Notarial => "notarial",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Passport, Kind::Crba, Kind::Notarial].into_iter().find(|k| k.as_str() == text)
    }
}

macro_rules! statuses {
    ($($variant:ident = $name:literal,)*) => {
        /// Where a tracked document is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[schema(as = DocumentStatus)]
        pub enum Status { $($variant,)* }

        impl Status {
            pub const ALL: &'static [Status] = &[$(Status::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Status::$variant => $name,)* }
            }
        }
    };
}

statuses! {
    Received = "received",
    SentForAdjudication = "sent_for_adjudication",
    MoreInformationNeeded = "more_information_needed",
    Approved = "approved",
    Printed = "printed",
    ReceivedAtPost = "received_at_post",
    ReadyForPickup = "ready_for_pickup",
    Delivered = "delivered",
    Denied = "denied",
    Withdrawn = "withdrawn",
    Pending = "pending",
    Completed = "completed",
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.iter().copied().find(|s| s.as_str() == text)
    }
}

use Status::*;

/// Passports and CRBAs (both adjudicated, printed and sent back to post): the main flow, and
/// the side exits. More information needed leads back into the flow (to adjudication) once
/// the applicant has sent it; an application can be withdrawn until it is approved.
const APPLICATION_STEPS: &[(Status, &[Status])] = &[
    (Received, &[SentForAdjudication, MoreInformationNeeded, Withdrawn]),
    (SentForAdjudication, &[Approved, MoreInformationNeeded, Denied, Withdrawn]),
    (MoreInformationNeeded, &[SentForAdjudication, Denied, Withdrawn]),
    (Approved, &[Printed]),
    (Printed, &[ReceivedAtPost]),
    (ReceivedAtPost, &[ReadyForPickup]),
    (ReadyForPickup, &[Delivered]),
];

/// Notarial work: usually completed at the window; pending (awaiting a document) until it is
/// ready for pickup and delivered.
const NOTARIAL_STEPS: &[(Status, &[Status])] =
    &[(Pending, &[ReadyForPickup]), (ReadyForPickup, &[Delivered])];

fn steps(kind: Kind) -> &'static [(Status, &'static [Status])] {
    match kind {
        Kind::Passport | Kind::Crba => APPLICATION_STEPS,
        Kind::Notarial => NOTARIAL_STEPS,
    }
}

/// Whether a `kind` document in `from` may move to `to`.
pub fn allowed(kind: Kind, from: Status, to: Status) -> bool {
    steps(kind).iter().any(|(state, next)| *state == from && next.contains(&to))
}

/// Every state a `kind` document can be in.
pub fn states(kind: Kind) -> Vec<Status> {
    Status::ALL.iter().copied().filter(|s| reachable(kind, *s)).collect()
}

fn reachable(kind: Kind, status: Status) -> bool {
    initial(kind).contains(&status) || steps(kind).iter().any(|(_, next)| next.contains(&status))
}

/// The states a document starts in: an application is received; a notarial job is completed
/// at the window or pending.
pub fn initial(kind: Kind) -> &'static [Status] {
    match kind {
        Kind::Passport | Kind::Crba => &[Received],
        Kind::Notarial => &[Completed, Pending],
    }
}

/// Twelve random symbols (60 bits) and a check symbol, shown as `7KQM-4XPT-9ABCD`: nothing to
/// count up from, and a mistyped symbol is caught before the database is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingNumber(String);

const PAYLOAD_LEN: usize = 12;

impl TrackingNumber {
    pub fn generate() -> TrackingNumber {
        let mut rng = rand::rng();
        let payload: Vec<u8> =
            (0..PAYLOAD_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())]).collect();
        TrackingNumber::from_payload(&payload)
    }

    fn from_payload(payload: &[u8]) -> TrackingNumber {
        let mut symbols = payload.to_vec();
        symbols.push(check_symbol(payload));
        let text: String = symbols.iter().map(|&b| b as char).collect();
        TrackingNumber(format!("{}-{}-{}", &text[0..4], &text[4..8], &text[8..13]))
    }

    /// Any case, with or without dashes or spaces; `None` for a wrong shape or check symbol.
    pub fn parse(input: &str) -> Option<TrackingNumber> {
        let symbols: Vec<u8> = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| u8::try_from(c.to_ascii_uppercase() as u32).unwrap_or(b'?'))
            .collect();
        if symbols.len() != PAYLOAD_LEN + 1 || !symbols.iter().all(|s| value(*s).is_some()) {
            return None;
        }
        let (payload, check) = symbols.split_at(PAYLOAD_LEN);
        (check_symbol(payload) == check[0]).then(|| TrackingNumber::from_payload(payload))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_runs_from_received_to_delivered() {
        let flow =
            [Received, SentForAdjudication, Approved, Printed, ReceivedAtPost, ReadyForPickup, Delivered];
        for pair in flow.windows(2) {
            assert!(allowed(Kind::Passport, pair[0], pair[1]), "{pair:?}");
            assert!(allowed(Kind::Crba, pair[0], pair[1]), "{pair:?}");
        }
        assert!(allowed(Kind::Passport, SentForAdjudication, MoreInformationNeeded));
        assert!(allowed(Kind::Passport, MoreInformationNeeded, SentForAdjudication), "back into the flow");
        assert!(!allowed(Kind::Passport, Received, Delivered));
        assert!(!allowed(Kind::Passport, Approved, Withdrawn));
    }

    #[test]
    fn final_states_lead_nowhere() {
        for kind in [Kind::Passport, Kind::Crba, Kind::Notarial] {
            for end in [Delivered, Denied, Withdrawn, Completed] {
                assert!(Status::ALL.iter().all(|to| !allowed(kind, end, *to)), "{kind:?} {end:?}");
            }
        }
    }

    #[test]
    fn notarial_jobs_have_their_own_short_machine() {
        assert!(allowed(Kind::Notarial, Pending, ReadyForPickup));
        assert!(allowed(Kind::Notarial, ReadyForPickup, Delivered));
        assert!(!allowed(Kind::Notarial, Received, SentForAdjudication));
        assert_eq!(states(Kind::Notarial), [ReadyForPickup, Delivered, Pending, Completed]);
        assert_eq!(states(Kind::Passport).len(), 10);
    }

    #[test]
    fn tracking_numbers_are_random_and_checked() {
        let a = TrackingNumber::generate();
        assert_ne!(a, TrackingNumber::generate());
        assert_eq!(a.as_str().len(), 15);
        assert_eq!(TrackingNumber::parse(&a.as_str().to_lowercase().replace('-', " ")), Some(a.clone()));
        let mut typo = a.as_str().as_bytes().to_vec();
        typo[0] = if typo[0] == b'2' { b'3' } else { b'2' };
        assert_eq!(TrackingNumber::parse(std::str::from_utf8(&typo).expect("ascii")), None);
        assert_eq!(TrackingNumber::parse("K7Q-M4X-PT9"), None, "a booking reference is not one");
    }
}
