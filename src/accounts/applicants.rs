//! Applicant accounts: the public who book online.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::accounts::fields::{Email, NewPassword, PersonName};
use crate::auth::passwords;
use crate::db::schema::applicants;
use crate::db::{is_unique_violation, DbConn, Pool};
use crate::error::{AppError, FieldError};

/// `RETURNING` lists the columns by hand: the multi-backend connection can't return a
/// `Selectable`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applicants)]
pub struct ApplicantRecord {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub created_at: NaiveDateTime,
}

/// A registration that passed every field rule.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: NewPassword,
    pub full_name: PersonName,
}

impl Registration {
    /// Checks all fields at once so the applicant sees every problem in one answer.
    pub fn parse(email: &str, password: &str, full_name: &str) -> Result<Registration, AppError> {
        let mut errors = Vec::new();
        let email = Email::parse(email).map_err(|m| errors.push(FieldError::new("email", m))).ok();
        let password =
            NewPassword::parse(password).map_err(|m| errors.push(FieldError::new("password", m))).ok();
        let full_name =
            PersonName::parse(full_name).map_err(|m| errors.push(FieldError::new("full_name", m))).ok();
        match (email, password, full_name) {
            (Some(email), Some(password), Some(full_name)) if errors.is_empty() => {
                Ok(Registration { email, password, full_name })
            }
            _ => Err(AppError::invalid(errors)),
        }
    }
}

/// Creates the account. Hashing runs before a connection is taken from the pool.
pub fn register(pool: &Pool, registration: Registration) -> Result<ApplicantRecord, AppError> {
    let hash = passwords::hash(registration.password.expose()).map_err(AppError::internal)?;
    let mut conn = pool.get()?;
    let inserted = diesel::insert_into(applicants::table)
        .values((
            applicants::email.eq(registration.email.as_str()),
            applicants::full_name.eq(registration.full_name.as_str()),
            applicants::password_hash.eq(&hash),
            applicants::created_at.eq(Utc::now().naive_utc()),
        ))
        .returning((applicants::id, applicants::email, applicants::full_name, applicants::created_at))
        .get_result(&mut conn);
    match inserted {
        Ok(record) => Ok(record),
        Err(e) if is_unique_violation(&e) => Err(AppError::conflict(
            "email_taken",
            "an account with this e-mail address exists; sign in instead",
        )),
        Err(e) => Err(e.into()),
    }
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<ApplicantRecord>> {
    applicants::table.find(id).select(ApplicantRecord::as_select()).first(conn).optional()
}

/// `(id, password_hash)` for a login.
pub fn credentials(conn: &mut DbConn, email: &str) -> QueryResult<Option<(i64, String)>> {
    applicants::table
        .filter(applicants::email.eq(email))
        .select((applicants::id, applicants::password_hash))
        .first(conn)
        .optional()
}
