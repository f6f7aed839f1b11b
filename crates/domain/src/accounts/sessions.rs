//! Sessions end when asked. A token names its session (`sid`); signing out records the session
//! as ended, and "sign out everywhere" increments the account's credential version, which
//! ends every token issued before. Both are read by the query that already loads the account
//! on every request, so every instance sees a sign-out at once, not after a cache expires.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::{self, Action, Event};
use crate::auth::tokens::{Audience, Session};
use crate::auth::Actor;
use crate::db::schema::{applicants, ended_sessions, staff};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn, Pool};
use crate::error::{AppError, Code};

/// Whether `sid` has ended: a clause for the query that loads the account.
pub fn has_ended(sid: &str) -> diesel::dsl::exists<diesel::dsl::Find<ended_sessions::table, &str>> {
    diesel::dsl::exists(ended_sessions::table.find(sid))
}

/// Ends one session: its token signs nobody in from now on. Ending a session twice is harmless.
pub fn end(
    conn: &mut DbConn,
    actor: &Actor,
    door: Audience,
    session: &Session,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |c| -> Result<(), AppError> {
        let inserted = recoverable(c, |c| {
            diesel::insert_into(ended_sessions::table)
                .values((
                    ended_sessions::sid.eq(&session.id),
                    ended_sessions::ended_at.eq(now),
                    ended_sessions::expires_at.eq(session.expires_at.naive_utc()),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {
                let event = Event::new(Action::SessionEnded, account_id(actor))
                    .with(serde_json::json!({ "door": crate::accounts::login::door_name(door) }));
                audit::record(c, actor, event, now)?;
                Ok(())
            }
            // Signed out twice (a double click, a retry): already ended.
            Err(e) if is_unique_violation(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    })
}

/// Ends every session of the actor's account, this one included, by incrementing its
/// credential version.
pub fn end_everywhere(conn: &mut DbConn, actor: &Actor, now: NaiveDateTime) -> Result<(), AppError> {
    write_transaction(conn, |c| -> Result<(), AppError> {
        let changed = match actor {
            Actor::Applicant(id) => diesel::update(applicants::table.find(id))
                .set(applicants::credential_version.eq(applicants::credential_version + 1))
                .execute(c)?,
            Actor::Staff(member) => diesel::update(staff::table.find(member.id))
                .set(staff::credential_version.eq(staff::credential_version + 1))
                .execute(c)?,
            _ => 0,
        };
        if changed != 1 {
            return Err(AppError::new(Code::InvalidToken, "this account no longer exists"));
        }
        audit::record(c, actor, Event::new(Action::SessionsEndedEverywhere, account_id(actor)), now)?;
        Ok(())
    })
}

/// Ends `session` (see [`end`]) on behalf of its owner.
pub async fn sign_out(
    pool: &Pool,
    now: NaiveDateTime,
    actor: Actor,
    door: Audience,
    session: Session,
) -> Result<(), AppError> {
    crate::db::run(pool, move |conn| end(conn, &actor, door, &session, now)).await
}

/// Ends every session of the actor's account (see [`end_everywhere`]).
pub async fn sign_out_everywhere(pool: &Pool, now: NaiveDateTime, actor: Actor) -> Result<(), AppError> {
    crate::db::run(pool, move |conn| end_everywhere(conn, &actor, now)).await
}

/// Forgets ended sessions whose tokens have expired anyway; returns how many.
pub fn sweep(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(ended_sessions::table.filter(ended_sessions::expires_at.lt(now))).execute(conn)
}

fn account_id(actor: &Actor) -> String {
    match actor {
        Actor::Applicant(id) => id.to_string(),
        Actor::Staff(member) => member.id.to_string(),
        _ => String::new(),
    }
}
