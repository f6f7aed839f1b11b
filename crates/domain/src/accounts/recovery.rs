//! "Forgot your password": a single-use link valid for 30 minutes goes to the account's
//! address; opening it sets a new password and ends every session of the account. The answer
//! to a request is the same whether or not an account has the address; requests are throttled
//! per client address and per address asked for (existing or not, so the throttle tells
//! nothing either).

use chrono::Duration;
use diesel::prelude::*;

use crate::accounts::fields::{Email, NewPassword};
use crate::accounts::links::{self, Purpose, RESET_PASSWORD_TTL};
use crate::accounts::{applicants, Tools};
use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::db::schema::applicants as table;
use crate::db::write_transaction;
use crate::error::AppError;
use crate::mail::{self, Kind, Letter};
use crate::throttle::{self, Limit};
use crate::wording::Lang;

/// Reset requests from one client address in an hour.
const REQUESTS_PER_ADDRESS: u32 = 10;
/// Reset requests for one e-mail address in an hour.
const REQUESTS_PER_ACCOUNT: u32 = 3;

/// Queues the reset link when an account has `email`; the same `Ok` either way.
pub async fn request(tools: &Tools<'_>, email: Email, client_address: String) -> Result<(), AppError> {
    let now = tools.clock.naive();
    let public_url = tools.public_url.to_string();
    crate::db::run(tools.pool, move |conn| {
        let hour = Duration::hours(1);
        for (bucket, max) in [
            (format!("reset:address:{client_address}"), REQUESTS_PER_ADDRESS),
            (format!("reset:account:{}", email.as_str()), REQUESTS_PER_ACCOUNT),
        ] {
            if let Some(wait) = throttle::take(conn, &bucket, Limit { max, window: hour }, now)? {
                return Err(AppError::too_many_requests(wait));
            }
        }
        write_transaction(conn, |c| {
            let account: Option<(i64, String, String)> = table::table
                .filter(table::email.eq(email.as_str()))
                .select((table::id, table::full_name, table::language))
                .first(c)
                .optional()?;
            let Some((id, name, language)) = account else {
                return Ok(());
            };
            let token = links::issue(c, Purpose::ResetPassword, id, email.as_str(), now)?;
            let letter =
                Letter::new(Kind::PasswordReset, email.as_str(), Lang::parse(&language).unwrap_or(Lang::En))
                    .with("name", name)
                    .with("link", format!("{public_url}/reset-password?token={token}"))
                    .with("minutes", RESET_PASSWORD_TTL.num_minutes().to_string());
            mail::enqueue(c, &letter, now)?;
            Ok(())
        })
    })
    .await
}

/// Sets a new password with a reset link: every token of the account stops working, the
/// address counts as confirmed (the link reached it), and the account is told by mail. 400 for
/// a link that can't be used.
pub async fn reset(tools: &Tools<'_>, token: String, new_password: NewPassword) -> Result<(), AppError> {
    let now = tools.clock.naive();
    let probe = token.clone();
    // A link that can't work is refused before the password is hashed (which is costly).
    let usable =
        crate::db::run(tools.pool, move |conn| Ok(links::usable(conn, Purpose::ResetPassword, &probe, now)?))
            .await?;
    if !usable {
        return Err(links::not_valid());
    }
    let hash = tools.hasher.hash(new_password.expose().to_string()).await?;
    crate::db::run(tools.pool, move |conn| {
        write_transaction(conn, |c| {
            let (id, _) =
                links::consume(c, Purpose::ResetPassword, &token, now)?.ok_or_else(links::not_valid)?;
            diesel::update(table::table.find(id))
                .set((
                    table::password_hash.eq(&hash),
                    table::credential_version.eq(table::credential_version + 1),
                    table::email_confirmed_at.eq(diesel::dsl::sql::<
                        diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
                    >("COALESCE(email_confirmed_at, ")
                    .bind::<diesel::sql_types::Timestamp, _>(now)
                    .sql(")")),
                ))
                .execute(c)?;
            let account = applicants::find(c, id)?.ok_or_else(links::not_valid)?;
            audit::record(c, &Actor::Applicant(id), Event::new(Action::ApplicantPasswordReset, id), now)?;
            let letter = Letter::new(Kind::PasswordChanged, &account.email, account.lang())
                .with("name", &account.full_name);
            mail::enqueue(c, &letter, now)?;
            Ok(())
        })
    })
    .await
}
