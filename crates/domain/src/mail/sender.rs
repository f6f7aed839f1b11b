//! One round of the sender: claim a batch, compose and send each message, mark each. Every
//! instance runs rounds on a timer (the server's `mail_sender`); they share the queue through
//! the claims. Logs name the message's row and kind, never an address or a body.

use chrono::Duration;

use crate::clock::Clock;
use crate::db::Pool;
use crate::mail::compose::{Composed, Composer};
use crate::mail::transport::Transport;
use crate::mail::{outbox, pace};

/// How hard the sender tries.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Messages claimed at once.
    pub batch: i64,
    /// How long a claim lasts: a message claimed by a sender that died is sent again after it.
    pub lease: Duration,
    /// Tries before a message is given up.
    pub max_tries: u32,
    /// The wait after the first failed try; it doubles with each.
    pub retry_base: Duration,
    /// Messages per second all instances together send at most; 0: no limit.
    pub rate_per_second: u32,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
    pub withdrawn: usize,
    /// The shared pace allows the next claim only after this long.
    pub paced: Option<std::time::Duration>,
}

/// Claims up to a batch and sends it. A message whose try fails waits its backoff (or is given
/// up); the others go on.
pub fn send_due(
    pool: &Pool,
    transport: &Transport,
    composer: &Composer,
    policy: &Policy,
    clock: &Clock,
) -> anyhow::Result<Round> {
    let mut conn = pool.get()?;
    let claimed = match pace::claim_paced(
        &mut conn,
        policy.rate_per_second,
        policy.batch,
        policy.lease,
        clock.naive(),
    )? {
        Ok(claimed) => claimed,
        Err(wait) => return Ok(Round { paced: Some(wait), ..Round::default() }),
    };
    let mut round = Round { claimed: claimed.len(), ..Round::default() };
    for message in &claimed {
        let outcome = match composer.compose(&mut conn, message, clock.now()) {
            Ok(Composed::Message(mail, id)) => transport.send(&mail, &id),
            Ok(Composed::Withdrawn(why)) => {
                outbox::mark_withdrawn(&mut conn, message.id, why, clock.naive())?;
                round.withdrawn += 1;
                tracing::debug!(outbox_id = message.id, kind = %message.kind, "mail withdrawn");
                continue;
            }
            Err(e) => Err(format!("{e:#}")),
        };
        match outcome {
            Ok(()) => {
                outbox::mark_sent(&mut conn, message.id, clock.naive())?;
                round.sent += 1;
                tracing::debug!(outbox_id = message.id, kind = %message.kind, "mail sent");
            }
            Err(reason) => {
                outbox::mark_failed(
                    &mut conn,
                    message,
                    &reason,
                    policy.max_tries,
                    policy.retry_base,
                    clock.naive(),
                )?;
                round.failed += 1;
                tracing::warn!(outbox_id = message.id, kind = %message.kind, tries = message.tries, "mail not sent; will retry or give up");
            }
        }
    }
    Ok(round)
}
