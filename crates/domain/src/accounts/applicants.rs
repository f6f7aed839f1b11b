//! Applicant accounts: the public who book online.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::accounts::fields::{Email, NewPassword, PersonName};
use crate::accounts::{login, Tools};
use crate::audit::{self, Action, Event};
use crate::auth::tokens::Audience;
use crate::auth::Actor;
use crate::auth::Applicant;
use crate::db::schema::applicants;
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::error::{AppError, Code, FieldError};
use crate::throttle::{self, Limit};
use crate::wording::Lang;

/// `RETURNING` lists the columns by hand: the multi-backend connection can't return a
/// `Selectable`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applicants)]
pub struct ApplicantRecord {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub created_at: NaiveDateTime,
    /// `en` or `es`: the language of the account's messages.
    pub language: String,
    /// When the address was confirmed; `None` until the link sent to it is opened.
    pub email_confirmed_at: Option<NaiveDateTime>,
    /// Whether the account wants the notices about its documents.
    pub document_notices: bool,
}

impl ApplicantRecord {
    /// The language its messages are written in (English for a value no language has).
    pub fn lang(&self) -> Lang {
        Lang::parse(&self.language).unwrap_or(Lang::En)
    }
}

/// A registration that passed every field rule.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: NewPassword,
    pub full_name: PersonName,
    /// The language its messages are written in.
    pub language: Lang,
}

impl Registration {
    /// Checks all fields at once so the applicant sees every problem in one answer.
    pub fn parse(
        email: &str,
        password: &str,
        full_name: &str,
        language: Lang,
    ) -> Result<Registration, AppError> {
        let mut errors = Vec::new();
        let email = Email::parse(email).map_err(|m| errors.push(FieldError::new("email", m))).ok();
        let password =
            NewPassword::parse(password).map_err(|m| errors.push(FieldError::new("password", m))).ok();
        let full_name =
            PersonName::parse(full_name).map_err(|m| errors.push(FieldError::new("full_name", m))).ok();
        match (email, password, full_name) {
            (Some(email), Some(password), Some(full_name)) if errors.is_empty() => {
                Ok(Registration { email, password, full_name, language })
            }
            _ => Err(AppError::invalid(errors)),
        }
    }
}

/// Creates the account, counted against the client address's hourly registrations first
/// (429): unlimited accounts would undo the one-active-appointment rule and the per-applicant
/// booking limits.
pub async fn register(
    tools: &Tools<'_>,
    registration: Registration,
    client_address: String,
) -> Result<ApplicantRecord, AppError> {
    let now = tools.clock.naive();
    let limit = Limit { max: tools.limits.max_registrations_per_address, window: Duration::hours(1) };
    crate::db::run(tools.pool, move |conn| {
        let bucket = format!("register:address:{client_address}");
        match throttle::take(conn, &bucket, limit, now)? {
            Some(wait) => Err(AppError::too_many_requests(wait)),
            None => Ok(()),
        }
    })
    .await?;
    let hash = tools.hasher.hash(registration.password.expose().to_string()).await?;
    let public_url = tools.public_url.to_string();
    crate::db::run(tools.pool, move |conn| create(conn, &registration, &hash, &public_url, now)).await
}

/// Creates the account with an already computed password hash, its audit entry (the new
/// applicant is the actor: nobody else registers them) and the message with the link that
/// confirms its address (`public_url` is where the link points). 409 when the e-mail is taken.
pub fn create(
    conn: &mut DbConn,
    registration: &Registration,
    password_hash: &str,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<ApplicantRecord, AppError> {
    write_transaction(conn, |c| {
        let inserted = recoverable(c, |c| {
            diesel::insert_into(applicants::table)
                .values((
                    applicants::email.eq(registration.email.as_str()),
                    applicants::full_name.eq(registration.full_name.as_str()),
                    applicants::password_hash.eq(password_hash),
                    applicants::created_at.eq(now),
                    applicants::language.eq(registration.language.code()),
                ))
                .returning(RETURNED)
                .get_result::<ApplicantRecord>(c)
        });
        let record = match inserted {
            Ok(record) => record,
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::new(
                    Code::EmailTaken,
                    "an account with this e-mail address exists; sign in instead",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        audit::record(
            c,
            &Actor::Applicant(record.id),
            Event::new(Action::ApplicantRegistered, record.id),
            now,
        )?;
        crate::accounts::email::send_confirmation(c, &record, &record.email, public_url, now)?;
        Ok(record)
    })
}

/// The columns of an [`ApplicantRecord`], for `RETURNING`.
const RETURNED: (
    applicants::id,
    applicants::email,
    applicants::full_name,
    applicants::created_at,
    applicants::language,
    applicants::email_confirmed_at,
    applicants::document_notices,
) = (
    applicants::id,
    applicants::email,
    applicants::full_name,
    applicants::created_at,
    applicants::language,
    applicants::email_confirmed_at,
    applicants::document_notices,
);

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<ApplicantRecord>> {
    applicants::table.find(id).select(ApplicantRecord::as_select()).first(conn).optional()
}

/// The account's credential version, which every valid token of it carries, and whether the
/// session `sid` has ended; `None` when the account is gone. One query on every request.
pub fn credential_version(conn: &mut DbConn, id: i64, sid: &str) -> QueryResult<Option<(i32, bool)>> {
    applicants::table
        .find(id)
        .select((applicants::credential_version, crate::accounts::sessions::has_ended(sid)))
        .first(conn)
        .optional()
}

/// `(id, password_hash, credential_version)` for a sign-in.
pub fn credentials(conn: &mut DbConn, email: &str) -> QueryResult<Option<(i64, String, i32)>> {
    applicants::table
        .filter(applicants::email.eq(email))
        .select((applicants::id, applicants::password_hash, applicants::credential_version))
        .first(conn)
        .optional()
}

/// Changes the applicant's password after checking the current one. Every token issued
/// before, the caller's included, stops working.
pub async fn change_password(
    tools: &Tools<'_>,
    who: Applicant,
    current_password: String,
    new_password: NewPassword,
    client_address: String,
) -> Result<(), AppError> {
    let now = tools.clock.naive();
    check_current_password(tools, &who, current_password, client_address).await?;
    let hash = tools.hasher.hash(new_password.expose().to_string()).await?;
    crate::db::run(tools.pool, move |conn| set_password(conn, &who, &hash, now)).await
}

/// 403 `wrong_current_password` unless `current_password` is the account's, checked like a
/// sign-in (and throttled like one: a stolen token must not become a way to guess it). Asked
/// before the password or the address changes.
pub async fn check_current_password(
    tools: &Tools<'_>,
    who: &Applicant,
    current_password: String,
    client_address: String,
) -> Result<(), AppError> {
    let id = who.id;
    let account = crate::db::run(tools.pool, move |conn| Ok(find(conn, id)?)).await?;
    let account =
        account.ok_or_else(|| AppError::new(Code::InvalidToken, "this account no longer exists"))?;
    let checked = login::check_password(
        tools,
        who.actor(),
        Audience::Public,
        &account.email,
        current_password,
        client_address,
    )
    .await;
    match checked {
        Ok(signed_in) if signed_in.subject == id => Ok(()),
        Err(e) if !e.is_unauthorized() => Err(e),
        _ => Err(AppError::new(Code::WrongCurrentPassword, "the current password is not correct")),
    }
}

/// Stores the applicant's new password hash, only if no other change got in first (the token
/// that asked must still be valid); every earlier token ends.
pub fn set_password(
    conn: &mut DbConn,
    who: &Applicant,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |c| {
        let changed = diesel::update(
            applicants::table.find(who.id).filter(applicants::credential_version.eq(who.credential_version)),
        )
        .set((
            applicants::password_hash.eq(password_hash),
            applicants::credential_version.eq(applicants::credential_version + 1),
        ))
        .execute(c)?;
        if changed == 0 {
            return Err(AppError::new(Code::InvalidToken, "this token is no longer valid; sign in again"));
        }
        audit::record(c, &who.actor(), Event::new(Action::ApplicantPasswordChanged, who.id), now)?;
        Ok(())
    })
}
