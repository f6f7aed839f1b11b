//! What the admins do with mail: read a day's counts and the messages that were given up, and
//! put one of those back in the queue. Neither shows an address or a body: the admins see
//! that a message failed and why, not what it said or to whom.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::db::schema::outbox as outbox_table;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, Code};
use crate::mail::outbox::{self, FailedMessage, KindCounts};

/// One UTC day of mail: how many messages of each kind went, wait or were given up, and the
/// ones given up with their reasons.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MailDay {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub kinds: Vec<KindCounts>,
    pub failed: Vec<FailedMessage>,
}

/// The messages queued on `date` (UTC).
pub fn day(conn: &mut DbConn, date: NaiveDate) -> Result<MailDay, AppError> {
    let (from, to) = outbox::day_bounds(date);
    let (kinds, failed) = outbox::summary(conn, from, to)?;
    Ok(MailDay { date, kinds, failed })
}

/// Puts the given-up message `id` back in the queue, due now, and records who did: 404 when
/// there is no such message, 409 `not_failed` when it wasn't given up (it went, or is still
/// being tried).
pub fn send_again(conn: &mut DbConn, actor: &Actor, id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    write_transaction(conn, |c| {
        if !outbox::send_again(c, id, now)? {
            let exists: i64 = outbox_table::table.find(id).count().get_result(c)?;
            return Err(if exists == 0 {
                AppError::not_found(format!("no message {id}"))
            } else {
                AppError::new(Code::NotFailed, format!("message {id} was not given up"))
            });
        }
        audit::record(c, actor, Event::new(Action::MailSentAgain, id), now)?;
        Ok(())
    })
}
