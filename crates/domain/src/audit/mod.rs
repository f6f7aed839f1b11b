//! The audit trail: who changed what, when, at which post. Every operation that changes state
//! calls [`record`] inside its own transaction, so an entry exists exactly when its change does.
//!
//! Entries hold ids and codes only: never names, e-mail addresses or document numbers. Each
//! belongs to a chain: its post's, or `*` for events of no post. The writing transaction only
//! appends the entry (a trigger queues it); each instance's sealer ([`seal`]) then appends queued
//! entries to their chains in batches, numbering them and hashing each with the one before.
//! So the writers of a booking rush never wait for one another on a chain, and a chain stays
//! linear however many sealers and instances there are (its head row is locked while a batch
//! is appended). One chain per post rather than one for everything: a post's auditor can check
//! its own post's chain alone.
//!
//! This module only appends and reads; nothing in the code updates or deletes an entry or a
//! seal, and database triggers refuse it on both backends.

pub mod chain;
pub mod read;
pub mod records;
pub mod seal;
pub mod sealed;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Actor;
use crate::db::schema::audit_log;
use crate::db::DbConn;
use chain::GLOBAL_CHAIN;

macro_rules! actions {
    ($($variant:ident = $name:literal $entity:literal;)*) => {
        /// What happened. The name is `<entity>.<verb>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action { $($variant,)* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// The kind of thing the action changes.
            pub fn entity(self) -> &'static str {
                match self { $(Action::$variant => $entity,)* }
            }
        }
    };
}

actions! {
    ApplicantRegistered = "applicant.registered" "applicant";
    ApplicantPasswordChanged = "applicant.password_changed" "applicant";
    ApplicantEmailConfirmed = "applicant.email_confirmed" "applicant";
    ApplicantEmailChanged = "applicant.email_changed" "applicant";
    ApplicantPasswordReset = "applicant.password_reset" "applicant";
    ApplicantPreferencesChanged = "applicant.preferences_changed" "applicant";
    MailSentAgain = "mail.sent_again" "mail";
    SignInFailed = "sign_in.failed" "sign_in";
    SignInThrottled = "sign_in.throttled" "sign_in";
    SessionEnded = "session.ended" "session";
    SessionsEndedEverywhere = "session.ended_everywhere" "session";
    AppointmentBooked = "appointment.booked" "appointment";
    AppointmentCancelled = "appointment.cancelled" "appointment";
    AppointmentRescheduled = "appointment.rescheduled" "appointment";
    AppointmentCheckedIn = "appointment.checked_in" "appointment";
    AppointmentWalkedIn = "appointment.walked_in" "appointment";
    AppointmentCalled = "appointment.called" "appointment";
    AppointmentCompleted = "appointment.completed" "appointment";
    AppointmentNoShow = "appointment.no_show" "appointment";
    AppointmentNotServed = "appointment.not_served" "appointment";
    AppointmentRebooked = "appointment.rebooked" "appointment";
    SeatHoldReleased = "seat_hold.released" "seat_hold";
    IntakePrefilled = "intake.prefilled" "intake";
    DocumentRecorded = "document.recorded" "document";
    DocumentTransitioned = "document.transitioned" "document";
    RegisterEntryRecorded = "register_entry.recorded" "register_entry";
    RegisterEntryCorrected = "register_entry.corrected" "register_entry";
    ReceiptIssued = "receipt.issued" "receipt";
    ReceiptVoided = "receipt.voided" "receipt";
    ExchangeRateSet = "exchange_rate.set" "exchange_rate";
    CloseoutSubmitted = "closeout.submitted" "closeout";
    CloseoutSigned = "closeout.signed" "closeout";
    FeeVersionAdded = "fee.version_added" "fee";
    FeeVersionWithdrawn = "fee.version_withdrawn" "fee";
    FeeReportExported = "fee_report.exported" "fee_report";
    FeedbackSubmitted = "feedback.submitted" "feedback";
    FeedbackExported = "feedback.exported" "feedback";
    ScheduleReplaced = "schedule.replaced" "schedule";
    ClosingTimeSet = "post.closing_time_set" "post";
    ClosureCreated = "closure.created" "closure";
    ClosureDeleted = "closure.deleted" "closure";
    StaffCreated = "staff.created" "staff";
    StaffDisabled = "staff.disabled" "staff";
    StaffEnabled = "staff.enabled" "staff";
    StaffPasswordReset = "staff.password_reset" "staff";
    StaffReassigned = "staff.reassigned" "staff";
    StaffEmailChanged = "staff.email_changed" "staff";
    ServerKeysExported = "server_keys.exported" "server_keys";
    StayRead = "stay.read" "stay";
    StaysPruned = "stay.pruned" "stay";
    MexicanStateReassigned = "mexican_state.reassigned" "mexican_state";
    BulletinWritten = "bulletin.written" "bulletin";
    BulletinApproved = "bulletin.approved" "bulletin";
    BulletinQueued = "bulletin.queued" "bulletin";
}

impl Action {
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.as_str() == name)
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: Action,
    /// The id of the thing changed (a reference, an account id...); none for a sign-in with
    /// an unknown name.
    pub entity_id: Option<String>,
    /// The post the change belongs to; `None` for events of no post.
    pub post: Option<String>,
    /// What changed, as ids and codes.
    pub change: serde_json::Value,
}

impl Event {
    pub fn new(action: Action, entity_id: impl ToString) -> Event {
        Event { action, entity_id: Some(entity_id.to_string()), post: None, change: serde_json::json!({}) }
    }

    /// An event with no entity id (a sign-in with a name nobody has).
    pub fn unnamed(action: Action) -> Event {
        Event { action, entity_id: None, post: None, change: serde_json::json!({}) }
    }

    pub fn at_post(mut self, post: Option<&str>) -> Event {
        self.post = post.map(str::to_string);
        self
    }

    pub fn with(mut self, change: serde_json::Value) -> Event {
        self.change = change;
        self
    }
}

/// Appends `event` by `actor` to the trail; a trigger queues it for its chain's sealer. Call
/// it inside the transaction that makes the change: one insert, no lock on the chain.
pub fn record(conn: &mut DbConn, actor: &Actor, event: Event, now: NaiveDateTime) -> QueryResult<()> {
    let chain = event.post.clone().unwrap_or_else(|| GLOBAL_CHAIN.to_string());
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::chain.eq(&chain),
            audit_log::recorded_at.eq(chain::to_micros(now)),
            audit_log::actor_kind.eq(actor.kind()),
            audit_log::actor_id.eq(actor.id()),
            audit_log::actor_role.eq(actor.role().map(|r| r.as_str())),
            audit_log::action.eq(event.action.as_str()),
            audit_log::entity.eq(event.action.entity()),
            audit_log::entity_id.eq(&event.entity_id),
            audit_log::post_code.eq(&event.post),
            audit_log::change.eq(event.change.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_and_start_with_their_entity() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.as_str()));
            assert!(action.as_str().starts_with(&format!("{}.", action.entity())));
            assert_eq!(Action::parse(action.as_str()), Some(*action));
        }
    }
}
