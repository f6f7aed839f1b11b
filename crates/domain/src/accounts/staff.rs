//! Staff accounts: clerks, supervisors, auditors, admins; optionally bound to one post.
//!
//! Every operation here takes the acting admin and checks its post first ([`Actor::ensure_scope`]):
//! a post-bound admin manages only staff of its own post and creates no unbound staff.
//! Anything that changes what an account may do (password, disabling, role, post) increments
//! its `credential_version`, which ends every token issued before.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::accounts::fields::{Email, NewPassword, Username};
use crate::accounts::Tools;
use crate::audit::{self, Action, Event};
use crate::auth::{Actor, Role, StaffMember};
use crate::db::schema::{posts, staff};
use crate::db::{is_unique_violation, recoverable, write_transaction, DbConn};
use crate::error::{AppError, Code, FieldError};
use crate::mail::{self, Kind, Letter};
use crate::rule::Rule;
use crate::wording::{self, Lang};

#[derive(Debug, Clone)]
pub struct StaffRecord {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub post_code: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub credential_version: i32,
    /// Where the messages about the account go (a reset password, a new role or post); none
    /// when the account has no address.
    pub email: Option<String>,
}

type StaffRow =
    (i64, String, String, Option<String>, Option<NaiveDateTime>, NaiveDateTime, i32, Option<String>);

const COLUMNS: (
    staff::id,
    staff::username,
    staff::role,
    staff::post_code,
    staff::disabled_at,
    staff::created_at,
    staff::credential_version,
    staff::email,
) = (
    staff::id,
    staff::username,
    staff::role,
    staff::post_code,
    staff::disabled_at,
    staff::created_at,
    staff::credential_version,
    staff::email,
);

fn record(row: StaffRow) -> QueryResult<StaffRecord> {
    let (id, username, role, post_code, disabled_at, created_at, credential_version, email) = row;
    let role = Role::parse(&role).ok_or_else(|| {
        diesel::result::Error::DeserializationError(format!("unknown staff role {role:?}").into())
    })?;
    Ok(StaffRecord { id, username, role, post_code, disabled_at, created_at, credential_version, email })
}

/// A new staff account that passed every field rule.
#[derive(Debug)]
pub struct NewStaff {
    pub username: Username,
    pub password: NewPassword,
    pub role: Role,
    pub post: Option<String>,
    /// The account's address for the messages about it, if it has one.
    pub email: Option<Email>,
}

impl NewStaff {
    pub fn parse(
        username: &str,
        password: &str,
        role: &str,
        post: Option<&str>,
        email: Option<&str>,
    ) -> Result<NewStaff, AppError> {
        let mut errors = Vec::new();
        let username =
            Username::parse(username).map_err(|m| errors.push(FieldError::new("username", m))).ok();
        let password =
            NewPassword::parse(password).map_err(|m| errors.push(FieldError::new("password", m))).ok();
        let role = parse_role(role).map_err(|e| errors.push(e)).ok();
        let post = parse_post(post).map_err(|e| errors.push(e)).ok();
        let email = parse_email(email).map_err(|e| errors.push(e)).ok();
        match (username, password, role, post, email) {
            (Some(username), Some(password), Some(role), Some(post), Some(email)) if errors.is_empty() => {
                Ok(NewStaff { username, password, role, post, email })
            }
            _ => Err(AppError::invalid(errors)),
        }
    }
}

fn parse_role(raw: &str) -> Result<Role, FieldError> {
    Role::parse(raw).ok_or_else(|| FieldError::new("role", Rule::NotARole))
}

/// A post code as given (three letters, any case), or `None` for every post.
fn parse_post(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw {
        None => Ok(None),
        Some(p) => crate::reference::post_code(p)
            .map(Some)
            .ok_or_else(|| FieldError::new("post", Rule::NotAPostOrEvery)),
    }
}

/// An address as given, or `None` for an account without one (an empty one counts as none).
pub fn parse_email(raw: Option<&str>) -> Result<Option<Email>, FieldError> {
    match raw.filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => Email::parse(e).map(Some).map_err(|rule| FieldError::new("email", rule)),
    }
}

/// 404 unless `post` (if any) is a known post code.
fn known_post(conn: &mut DbConn, post: Option<&str>) -> Result<(), AppError> {
    if let Some(post) = post {
        let known: i64 = posts::table.filter(posts::code.eq(post)).count().get_result(conn)?;
        if known == 0 {
            return Err(AppError::not_found(format!("no post {post}")));
        }
    }
    Ok(())
}

/// Creates a staff account on behalf of `actor` (an admin, or the system for the operator's
/// `create-staff`) with an already computed password hash: 403 outside the actor's post, 404
/// for an unknown post, 409 when the username exists. Callers hashing on a request check
/// [`Actor::ensure_scope`] first, so that nobody gets a hash computed for nothing.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    new: &NewStaff,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<StaffRecord, AppError> {
    actor.ensure_scope(new.post.as_deref())?;
    write_transaction(conn, |c| {
        known_post(c, new.post.as_deref())?;
        let inserted = recoverable(c, |c| {
            diesel::insert_into(staff::table)
                .values((
                    staff::username.eq(new.username.as_str()),
                    staff::password_hash.eq(password_hash),
                    staff::role.eq(new.role.as_str()),
                    staff::post_code.eq(&new.post),
                    staff::email.eq(new.email.as_ref().map(Email::as_str)),
                    staff::created_at.eq(now),
                ))
                .returning(COLUMNS)
                .get_result::<StaffRow>(c)
        });
        let created = match inserted {
            Ok(row) => record(row)?,
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::new(
                    Code::UsernameTaken,
                    format!("a staff account named {} exists", new.username.as_str()),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let event = Event::new(Action::StaffCreated, created.id)
            .at_post(created.post_code.as_deref())
            .with(json!({"role": created.role.as_str(), "post": created.post_code}));
        audit::record(c, actor, event, now)?;
        Ok(created)
    })
}

/// The account behind a staff token, unless it has been disabled, and whether the session
/// `sid` has ended. One query on every request.
pub fn find_active(conn: &mut DbConn, id: i64, sid: &str) -> QueryResult<Option<(StaffRecord, bool)>> {
    staff::table
        .find(id)
        .filter(staff::disabled_at.is_null())
        .select((COLUMNS, crate::accounts::sessions::has_ended(sid)))
        .first::<(StaffRow, bool)>(conn)
        .optional()?
        .map(|(row, ended)| Ok((record(row)?, ended)))
        .transpose()
}

/// The accounts `actor` manages: all of them, or those of its post.
pub fn list(conn: &mut DbConn, actor: &StaffMember) -> QueryResult<Vec<StaffRecord>> {
    let mut query = staff::table.order(staff::username).select(COLUMNS).into_boxed();
    if let Some(post) = &actor.post {
        query = query.filter(staff::post_code.eq(post.clone()));
    }
    query.load::<StaffRow>(conn)?.into_iter().map(record).collect()
}

/// What a sign-in needs of an account: `(id, password_hash, role, credential_version, post)`.
pub type Credentials = (i64, String, String, i32, Option<String>);

/// The credentials of an active account, for a sign-in.
pub fn credentials(conn: &mut DbConn, username: &str) -> QueryResult<Option<Credentials>> {
    staff::table
        .filter(staff::username.eq(username))
        .filter(staff::disabled_at.is_null())
        .select((staff::id, staff::password_hash, staff::role, staff::credential_version, staff::post_code))
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

/// The account named `username` that `actor` may manage: 404 when there is none, 403
/// (`wrong_post`) when it belongs to another post or to every post.
fn managed(conn: &mut DbConn, actor: &Actor, username: &str) -> Result<StaffRecord, AppError> {
    let target = staff::table
        .filter(staff::username.eq(username.trim().to_lowercase()))
        .select(COLUMNS)
        .first::<StaffRow>(conn)
        .optional()?
        .map(record)
        .transpose()?
        .ok_or_else(|| AppError::not_found(format!("no staff account named {username}")))?;
    actor.ensure_scope(target.post_code.as_deref())?;
    Ok(target)
}

/// The account row as `target` saw it: an update through this changes nothing if the account
/// was changed since it was checked (another admin moved it to another post, say), so a check
/// and its write can't be split by a slow password hash.
fn unchanged(
    target: &StaffRecord,
) -> diesel::helper_types::Filter<
    diesel::helper_types::Find<staff::table, i64>,
    diesel::helper_types::Eq<staff::credential_version, i32>,
> {
    staff::table.find(target.id).filter(staff::credential_version.eq(target.credential_version))
}

fn changed_meanwhile() -> AppError {
    AppError::new(Code::AccountChanged, "the account was changed meanwhile; look again and retry")
}

/// Disables or re-enables an account. Disabling ends its tokens for good: re-enabling brings
/// none of them back, and re-enabling an active account changes nothing. Nobody disables
/// themselves, so an admin can't lock the last admin out by mistake.
pub fn set_disabled(
    conn: &mut DbConn,
    actor: &Actor,
    username: &str,
    disabled: bool,
    now: NaiveDateTime,
) -> Result<StaffRecord, AppError> {
    let target = managed(conn, actor, username)?;
    if disabled && Some(target.id) == actor.id() {
        return Err(AppError::new(Code::CannotDisableSelf, "an account cannot disable itself"));
    }
    if disabled == target.disabled_at.is_some() {
        return Ok(target);
    }
    let disabled_at = disabled.then_some(now);
    let version_step = i32::from(disabled);
    write_transaction(conn, |c| {
        let credential_version = diesel::update(unchanged(&target))
            .set((
                staff::disabled_at.eq(disabled_at),
                staff::credential_version.eq(staff::credential_version + version_step),
            ))
            .returning(staff::credential_version)
            .get_result(c)
            .optional()?
            .ok_or_else(changed_meanwhile)?;
        let action = if disabled { Action::StaffDisabled } else { Action::StaffEnabled };
        audit::record(c, actor, Event::new(action, target.id).at_post(target.post_code.as_deref()), now)?;
        Ok(StaffRecord { disabled_at, credential_version, ..target })
    })
}

/// A new role and post for an account, checked against the acting admin's post on both sides.
#[derive(Debug)]
pub struct Assignment {
    pub role: Role,
    pub post: Option<String>,
}

impl Assignment {
    pub fn parse(role: &str, post: Option<&str>) -> Result<Assignment, AppError> {
        match (parse_role(role), parse_post(post)) {
            (Ok(role), Ok(post)) => Ok(Assignment { role, post }),
            (role, post) => Err(AppError::invalid([role.err(), post.err()].into_iter().flatten().collect())),
        }
    }
}

/// Changes an account's role and post; its earlier tokens end. Nobody reassigns themselves
/// (an admin demoting itself could leave no admin).
pub fn reassign(
    conn: &mut DbConn,
    actor: &Actor,
    username: &str,
    assignment: &Assignment,
    now: NaiveDateTime,
) -> Result<StaffRecord, AppError> {
    let target = managed(conn, actor, username)?;
    actor.ensure_scope(assignment.post.as_deref())?;
    if Some(target.id) == actor.id() {
        return Err(AppError::new(Code::CannotReassignSelf, "an account cannot change its own role or post"));
    }
    known_post(conn, assignment.post.as_deref())?;
    write_transaction(conn, |c| {
        let (credential_version, email) = diesel::update(unchanged(&target))
            .set((
                staff::role.eq(assignment.role.as_str()),
                staff::post_code.eq(&assignment.post),
                staff::credential_version.eq(staff::credential_version + 1),
            ))
            .returning((staff::credential_version, staff::email))
            .get_result::<(i32, Option<String>)>(c)
            .optional()?
            .ok_or_else(changed_meanwhile)?;
        // On the chain of the post the account leaves and, if it moves, of the one it joins:
        // each post's auditor sees who came and went.
        let event = Event::new(Action::StaffReassigned, target.id).with(json!({
            "from_role": target.role.as_str(),
            "from_post": target.post_code,
            "role": assignment.role.as_str(),
            "post": assignment.post,
        }));
        audit::record(c, actor, event.clone().at_post(target.post_code.as_deref()), now)?;
        if assignment.post != target.post_code {
            audit::record(c, actor, event.at_post(assignment.post.as_deref()), now)?;
        }
        if let Some(to) = &email {
            let post = match &assignment.post {
                Some(code) => post_name(c, code)?,
                None => "every post".to_string(),
            };
            let letter = Letter::new(Kind::StaffAssignmentChanged, to, Lang::En)
                .with("username", &target.username)
                .with("role", Lang::En.t(wording::role(assignment.role)))
                .with("post", post);
            mail::enqueue(c, &letter, now)?;
        }
        Ok(StaffRecord {
            role: assignment.role,
            post_code: assignment.post.clone(),
            credential_version,
            email,
            ..target.clone()
        })
    })
}

/// Sets a new password chosen by an admin (e.g. a clerk who forgot theirs); the account's
/// earlier tokens end. The target is checked before the password is hashed.
pub async fn reset_password(
    tools: &Tools<'_>,
    actor: &Actor,
    username: String,
    password: NewPassword,
) -> Result<StaffRecord, AppError> {
    let now = tools.clock.naive();
    let scope = actor.clone();
    let target = crate::db::run(tools.pool, move |conn| managed(conn, &scope, &username)).await?;
    let hash = tools.hasher.hash(password.expose().to_string()).await?;
    let actor = actor.clone();
    crate::db::run(tools.pool, move |conn| set_password(conn, &actor, target, &hash, now)).await
}

/// Stores a new password hash for `target` as it was checked; the account's earlier tokens end.
pub fn set_password(
    conn: &mut DbConn,
    actor: &Actor,
    target: StaffRecord,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<StaffRecord, AppError> {
    actor.ensure_scope(target.post_code.as_deref())?;
    write_transaction(conn, |c| {
        let (credential_version, email) = diesel::update(unchanged(&target))
            .set((
                staff::password_hash.eq(password_hash),
                staff::credential_version.eq(staff::credential_version + 1),
            ))
            .returning((staff::credential_version, staff::email))
            .get_result::<(i32, Option<String>)>(c)
            .optional()?
            .ok_or_else(changed_meanwhile)?;
        let event = Event::new(Action::StaffPasswordReset, target.id).at_post(target.post_code.as_deref());
        audit::record(c, actor, event, now)?;
        // The message says the password changed, never what it is.
        if let Some(to) = &email {
            let letter =
                Letter::new(Kind::StaffPasswordReset, to, Lang::En).with("username", &target.username);
            mail::enqueue(c, &letter, now)?;
        }
        Ok(StaffRecord { credential_version, email, ..target.clone() })
    })
}

/// Sets or removes (`None`) the address an account's messages go to. Its sessions go on: the
/// address changes nothing the account may do.
pub fn set_email(
    conn: &mut DbConn,
    actor: &Actor,
    username: &str,
    email: Option<Email>,
    now: NaiveDateTime,
) -> Result<StaffRecord, AppError> {
    let target = managed(conn, actor, username)?;
    let email = email.map(|e| e.as_str().to_string());
    write_transaction(conn, |c| {
        if diesel::update(unchanged(&target)).set(staff::email.eq(&email)).execute(c)? == 0 {
            return Err(changed_meanwhile());
        }
        // Whether the account has an address, never the address.
        let event = Event::new(Action::StaffEmailChanged, target.id)
            .at_post(target.post_code.as_deref())
            .with(json!({"has_email": email.is_some()}));
        audit::record(c, actor, event, now)?;
        Ok(StaffRecord { email: email.clone(), ..target.clone() })
    })
}

/// A post's name for a message (its code when it has none).
fn post_name(conn: &mut DbConn, code: &str) -> QueryResult<String> {
    let name: Option<String> =
        posts::table.filter(posts::code.eq(code)).select(posts::name).first(conn).optional()?;
    Ok(name.filter(|n| !n.is_empty()).map_or_else(|| code.to_string(), |n| format!("{n} ({code})")))
}

/// Opens a staff account as `actor` (an admin), as the API and the admins' page both do: the
/// scope is checked before the password is hashed, so nobody gets a hash for nothing.
pub async fn open_account(
    tools: &Tools<'_>,
    actor: crate::auth::Actor,
    new: NewStaff,
) -> Result<StaffRecord, AppError> {
    let now = tools.clock.naive();
    actor.ensure_scope(new.post.as_deref())?;
    let hash = tools.hasher.hash(new.password.expose().to_string()).await?;
    crate::db::run(tools.pool, move |conn| create(conn, &actor, &new, &hash, now)).await
}
