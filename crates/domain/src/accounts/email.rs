//! The account's address: the link that confirms it (on registration, on request, and for a
//! new address), changing it, and the account's mail preferences.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::accounts::applicants::{self, ApplicantRecord};
use crate::accounts::fields::Email;
use crate::accounts::links::{self, Purpose};
use crate::accounts::Tools;
use crate::audit::{self, Action, Event};
use crate::auth::{Actor, Applicant};
use crate::clock::Clock;
use crate::db::schema::applicants as table;
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn, Pool};
use crate::error::{AppError, Code};
use crate::mail::{self, Kind, Letter};
use crate::throttle::{self, Limit};
use crate::wording::Lang;

/// Confirmation messages one account may ask for in an hour.
const RESENDS_PER_HOUR: u32 = 5;

/// Queues the message with the link that confirms `address` for the account (its own, or the
/// one it is changing to), in the caller's transaction.
pub fn send_confirmation(
    c: &mut DbConn,
    record: &ApplicantRecord,
    address: &str,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let token = links::issue(c, Purpose::ConfirmEmail, record.id, address, now)?;
    let letter = Letter::new(Kind::ConfirmEmail, address, record.lang())
        .with("name", &record.full_name)
        .with("link", format!("{public_url}/confirm-email?token={token}"));
    mail::enqueue(c, &letter, now)?;
    Ok(())
}

/// Opens a confirmation link: the account's address is confirmed, or, for a link sent to a
/// new address, the account moves to it and the old address is told. 400 for a link that
/// can't be used; 409 when another account took the new address meanwhile.
pub async fn confirm(pool: &Pool, clock: &Clock, token: String) -> Result<(), AppError> {
    let now = clock.naive();
    crate::db::run(pool, move |conn| {
        write_transaction(conn, |c| {
            let (id, address) =
                links::consume(c, Purpose::ConfirmEmail, &token, now)?.ok_or_else(links::not_valid)?;
            let account = applicants::find(c, id)?.ok_or_else(links::not_valid)?;
            let actor = Actor::Applicant(id);
            if account.email == address {
                diesel::update(table::table.find(id).filter(table::email_confirmed_at.is_null()))
                    .set(table::email_confirmed_at.eq(now))
                    .execute(c)?;
                audit::record(c, &actor, Event::new(Action::ApplicantEmailConfirmed, id), now)?;
                return Ok(());
            }
            let moved = recoverable(c, |c| {
                diesel::update(table::table.find(id))
                    .set((table::email.eq(&address), table::email_confirmed_at.eq(now)))
                    .execute(c)
            });
            match moved {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(AppError::new(Code::EmailTaken, "another account has this address now"))
                }
                Err(e) => return Err(e.into()),
            }
            audit::record(c, &actor, Event::new(Action::ApplicantEmailChanged, id), now)?;
            let letter = Letter::new(Kind::EmailChanged, &account.email, account.lang())
                .with("name", &account.full_name)
                .with("new_email", &address);
            mail::enqueue(c, &letter, now)?;
            Ok(())
        })
    })
    .await
}

/// Sends the confirmation link again (a few times an hour per account). 409 when the address
/// is confirmed already.
pub async fn resend(pool: &Pool, clock: &Clock, public_url: &str, who: Applicant) -> Result<(), AppError> {
    let now = clock.naive();
    let public_url = public_url.to_string();
    crate::db::run(pool, move |conn| {
        let limit = Limit { max: RESENDS_PER_HOUR, window: Duration::hours(1) };
        if let Some(wait) = throttle::take(conn, &format!("confirm:account:{}", who.id), limit, now)? {
            return Err(AppError::too_many_requests(wait));
        }
        write_transaction(conn, |c| {
            let account = applicants::find(c, who.id)?
                .ok_or_else(|| AppError::new(Code::InvalidToken, "this account no longer exists"))?;
            if account.email_confirmed_at.is_some() {
                return Err(AppError::new(Code::AlreadyConfirmed, "this address is confirmed already"));
            }
            send_confirmation(c, &account, &account.email, &public_url, now)
        })
    })
    .await
}

/// Starts a change of the account's address after checking its password (throttled like a
/// sign-in): the link goes to the new address, and the account keeps the old one until it is
/// opened. 409 when another account has the new address.
pub async fn change(
    tools: &Tools<'_>,
    who: Applicant,
    new_email: Email,
    current_password: String,
    client_address: String,
) -> Result<(), AppError> {
    applicants::check_current_password(tools, &who, current_password, client_address).await?;
    let now = tools.clock.naive();
    let public_url = tools.public_url.to_string();
    crate::db::run(tools.pool, move |conn| {
        write_transaction(conn, |c| {
            let taken: bool =
                diesel::select(diesel::dsl::exists(table::table.filter(table::email.eq(new_email.as_str()))))
                    .get_result(c)?;
            if taken {
                return Err(AppError::new(Code::EmailTaken, "an account with this e-mail address exists"));
            }
            let account = applicants::find(c, who.id)?
                .ok_or_else(|| AppError::new(Code::InvalidToken, "this account no longer exists"))?;
            send_confirmation(c, &account, new_email.as_str(), &public_url, now)
        })
    })
    .await
}

/// What the account wants from the service's mail.
#[derive(Debug, Clone, Copy)]
pub struct Preferences {
    pub language: Lang,
    pub document_notices: bool,
}

/// Sets the account's language and whether it wants the notices about its documents.
pub async fn set_preferences(
    pool: &Pool,
    clock: &Clock,
    who: Applicant,
    preferences: Preferences,
) -> Result<ApplicantRecord, AppError> {
    let now = clock.naive();
    crate::db::run(pool, move |conn| {
        write_transaction(conn, |c| {
            diesel::update(table::table.find(who.id))
                .set((
                    table::language.eq(preferences.language.code()),
                    table::document_notices.eq(preferences.document_notices),
                ))
                .execute(c)?;
            let event = Event::new(Action::ApplicantPreferencesChanged, who.id).with(serde_json::json!({
                "language": preferences.language.code(),
                "document_notices": preferences.document_notices,
            }));
            audit::record(c, &Actor::Applicant(who.id), event, now)?;
            applicants::find(c, who.id)?
                .ok_or_else(|| AppError::new(Code::InvalidToken, "this account no longer exists"))
        })
    })
    .await
}
