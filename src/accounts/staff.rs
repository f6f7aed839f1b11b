//! Staff accounts: clerks, supervisors, auditors, admins; optionally bound to one post.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::accounts::fields::{NewPassword, Username};
use crate::auth::{passwords, Role};
use crate::db::schema::{posts, staff};
use crate::db::{is_unique_violation, DbConn, Pool};
use crate::error::{AppError, FieldError};

#[derive(Debug, Clone)]
pub struct StaffRecord {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub post_code: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

type StaffRow = (i64, String, String, Option<String>, Option<NaiveDateTime>, NaiveDateTime);

const COLUMNS: (
    staff::id,
    staff::username,
    staff::role,
    staff::post_code,
    staff::disabled_at,
    staff::created_at,
) = (staff::id, staff::username, staff::role, staff::post_code, staff::disabled_at, staff::created_at);

fn record(row: StaffRow) -> QueryResult<StaffRecord> {
    let (id, username, role, post_code, disabled_at, created_at) = row;
    let role = Role::parse(&role).ok_or_else(|| {
        diesel::result::Error::DeserializationError(format!("unknown staff role {role:?}").into())
    })?;
    Ok(StaffRecord { id, username, role, post_code, disabled_at, created_at })
}

/// A new staff account that passed every field rule.
#[derive(Debug)]
pub struct NewStaff {
    pub username: Username,
    pub password: NewPassword,
    pub role: Role,
    pub post: Option<String>,
}

impl NewStaff {
    pub fn parse(
        username: &str,
        password: &str,
        role: &str,
        post: Option<&str>,
    ) -> Result<NewStaff, AppError> {
        let mut errors = Vec::new();
        let username =
            Username::parse(username).map_err(|m| errors.push(FieldError::new("username", m))).ok();
        let password =
            NewPassword::parse(password).map_err(|m| errors.push(FieldError::new("password", m))).ok();
        let role = Role::parse(role)
            .ok_or_else(|| {
                errors.push(FieldError::new("role", "must be clerk, supervisor, auditor or admin"))
            })
            .ok();
        let post = post.map(|p| p.trim().to_uppercase()).filter(|p| !p.is_empty());
        match (username, password, role) {
            (Some(username), Some(password), Some(role)) if errors.is_empty() => {
                Ok(NewStaff { username, password, role, post })
            }
            _ => Err(AppError::invalid(errors)),
        }
    }
}

/// Creates a staff account; 422 for an unknown post, 409 when the username exists.
pub fn create(pool: &Pool, new: NewStaff) -> Result<StaffRecord, AppError> {
    let hash = passwords::hash(new.password.expose()).map_err(AppError::internal)?;
    let mut conn = pool.get()?;
    if let Some(post) = &new.post {
        let known: i64 = posts::table.filter(posts::code.eq(post)).count().get_result(&mut conn)?;
        if known == 0 {
            return Err(AppError::invalid_field("post", format!("{post} is not a known post")));
        }
    }
    let inserted = diesel::insert_into(staff::table)
        .values((
            staff::username.eq(new.username.as_str()),
            staff::password_hash.eq(&hash),
            staff::role.eq(new.role.as_str()),
            staff::post_code.eq(&new.post),
            staff::created_at.eq(Utc::now().naive_utc()),
        ))
        .returning(COLUMNS)
        .get_result::<StaffRow>(&mut conn);
    match inserted {
        Ok(row) => Ok(record(row)?),
        Err(e) if is_unique_violation(&e) => Err(AppError::conflict(
            "username_taken",
            format!("a staff account named {} exists", new.username.as_str()),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The account behind a staff token, unless it has been disabled.
pub fn find_active(conn: &mut DbConn, id: i64) -> QueryResult<Option<StaffRecord>> {
    staff::table
        .find(id)
        .filter(staff::disabled_at.is_null())
        .select(COLUMNS)
        .first::<StaffRow>(conn)
        .optional()?
        .map(record)
        .transpose()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<StaffRecord>> {
    staff::table
        .order(staff::username)
        .select(COLUMNS)
        .load::<StaffRow>(conn)?
        .into_iter()
        .map(record)
        .collect()
}

/// `(id, password_hash, role)` of an active account, for a login.
pub fn credentials(conn: &mut DbConn, username: &str) -> QueryResult<Option<(i64, String, String)>> {
    staff::table
        .filter(staff::username.eq(username))
        .filter(staff::disabled_at.is_null())
        .select((staff::id, staff::password_hash, staff::role))
        .first(conn)
        .optional()
}

/// Whether an active admin exists; at first start there is none, and `serve` says how to
/// create one.
pub fn has_active_admin(conn: &mut DbConn) -> QueryResult<bool> {
    let admins: i64 = staff::table
        .filter(staff::role.eq(Role::Admin.as_str()))
        .filter(staff::disabled_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(admins > 0)
}

fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<StaffRecord>> {
    staff::table
        .filter(staff::username.eq(username.trim().to_lowercase()))
        .select(COLUMNS)
        .first::<StaffRow>(conn)
        .optional()?
        .map(record)
        .transpose()
}

/// Disables or re-enables an account. A disabled account's tokens stop working at once (the
/// staff extractor reads the account on every request). Nobody disables themselves, so an
/// admin can't lock the last admin out by mistake.
pub fn set_disabled(
    conn: &mut DbConn,
    acting_staff_id: i64,
    username: &str,
    disabled: bool,
) -> Result<StaffRecord, AppError> {
    let target = find_by_username(conn, username)?
        .ok_or_else(|| AppError::not_found(format!("no staff account named {username}")))?;
    if disabled && target.id == acting_staff_id {
        return Err(AppError::conflict("cannot_disable_self", "an account cannot disable itself"));
    }
    let disabled_at = disabled.then(|| target.disabled_at.unwrap_or_else(|| Utc::now().naive_utc()));
    diesel::update(staff::table.find(target.id)).set(staff::disabled_at.eq(disabled_at)).execute(conn)?;
    Ok(StaffRecord { disabled_at, ..target })
}

/// Sets a new password chosen by an admin (e.g. a clerk who forgot theirs).
pub fn reset_password(pool: &Pool, username: &str, password: NewPassword) -> Result<StaffRecord, AppError> {
    let hash = passwords::hash(password.expose()).map_err(AppError::internal)?;
    let mut conn = pool.get()?;
    let target = find_by_username(&mut conn, username)?
        .ok_or_else(|| AppError::not_found(format!("no staff account named {username}")))?;
    diesel::update(staff::table.find(target.id)).set(staff::password_hash.eq(&hash)).execute(&mut conn)?;
    Ok(target)
}
