//! The audit trail: who changed what, when, at which post. Every operation that changes state
//! calls [`record`] inside its own transaction, so an entry exists exactly when its change does.
//!
//! Entries hold ids and codes only: never names, e-mail addresses or document numbers. They
//! are chained per post (plus one chain for events of no post): each entry's sequence number
//! comes from the gapless counter `audit:<chain>`, whose row lock is held until the writing
//! transaction ends, so one chain is written by one transaction at a time and stays linear with
//! any number of writers and instances; the previous entry's hash is then read by its number.
//! Chains per post rather than one chain: writers at different posts never wait for each
//! other, and a post's auditor can check its own chain alone.
//!
//! This module only appends and reads; nothing in the code updates or deletes an entry, and
//! database triggers refuse it on both backends.

pub mod chain;
pub mod read;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Actor;
use crate::counters;
use crate::db::schema::audit_log;
use crate::db::DbConn;
use chain::{Content, GENESIS, GLOBAL_CHAIN};

macro_rules! actions {
    ($($variant:ident = $name:literal $entity:literal;)*) => {
        /// What happened. The name is `<entity>.<verb>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
        pub enum Action { $(#[serde(rename = $name)] $variant,)* }

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
    SignInFailed = "sign_in.failed" "sign_in";
    SignInThrottled = "sign_in.throttled" "sign_in";
    AppointmentBooked = "appointment.booked" "appointment";
    AppointmentCancelled = "appointment.cancelled" "appointment";
    AppointmentRescheduled = "appointment.rescheduled" "appointment";
    SeatHoldReleased = "seat_hold.released" "seat_hold";
    ScheduleReplaced = "schedule.replaced" "schedule";
    ClosureCreated = "closure.created" "closure";
    ClosureDeleted = "closure.deleted" "closure";
    StaffCreated = "staff.created" "staff";
    StaffDisabled = "staff.disabled" "staff";
    StaffEnabled = "staff.enabled" "staff";
    StaffPasswordReset = "staff.password_reset" "staff";
    StaffReassigned = "staff.reassigned" "staff";
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

/// The counter scope that numbers a chain.
pub(crate) fn counter_scope(chain: &str) -> String {
    format!("audit:{chain}")
}

/// Appends `event` by `actor` to its post's chain. Call it inside the transaction that makes
/// the change, as late as possible in it: from here until commit, the chain waits for it.
pub fn record(conn: &mut DbConn, actor: &Actor, event: Event, now: NaiveDateTime) -> QueryResult<()> {
    let chain = event.post.clone().unwrap_or_else(|| GLOBAL_CHAIN.to_string());
    let seq = counters::next(conn, &counter_scope(&chain))?;
    let prev_hash = if seq == 1 {
        GENESIS.to_string()
    } else {
        audit_log::table
            .filter(audit_log::chain.eq(&chain))
            .filter(audit_log::seq.eq(seq - 1))
            .select(audit_log::hash)
            .first::<String>(conn)?
    };
    let content = Content {
        chain,
        seq,
        recorded_at: chain::to_micros(now),
        actor_kind: actor.kind().to_string(),
        actor_id: actor.id(),
        actor_role: actor.role().map(|r| r.as_str().to_string()),
        action: event.action.as_str().to_string(),
        entity: event.action.entity().to_string(),
        entity_id: event.entity_id,
        post: event.post,
        change: event.change.to_string(),
    };
    let hash = content.hash(&prev_hash);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::chain.eq(&content.chain),
            audit_log::seq.eq(content.seq),
            audit_log::recorded_at.eq(content.recorded_at),
            audit_log::actor_kind.eq(&content.actor_kind),
            audit_log::actor_id.eq(content.actor_id),
            audit_log::actor_role.eq(&content.actor_role),
            audit_log::action.eq(&content.action),
            audit_log::entity.eq(&content.entity),
            audit_log::entity_id.eq(&content.entity_id),
            audit_log::post_code.eq(&content.post),
            audit_log::change.eq(&content.change),
            audit_log::prev_hash.eq(&prev_hash),
            audit_log::hash.eq(&hash),
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
