//! The audit trail for auditors and admins: pages of entries, and the chain check.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::Denied;
use crate::audit::read::{self, Filter, Stored, Verification};
use crate::audit::Action;
use crate::auth::roles::AuditorOrAdmin;
use crate::error::{AppError, FieldError};
use crate::field_schemas as schemas;
use crate::http::{Guarded, HttpError, Staff};
use crate::reference::post_code;
use crate::rule::Rule;
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";
const MAX_LIMIT: i64 = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Entries recorded at or after this time (RFC 3339).
    #[param(format = DateTime)]
    from: Option<DateTime<FixedOffset>>,
    /// Entries recorded before this time (RFC 3339).
    #[param(format = DateTime)]
    to: Option<DateTime<FixedOffset>>,
    /// One post's entries; a member bound to a post reads only its own.
    #[param(pattern = r"^[A-Za-z]{3}$")]
    post: Option<String>,
    /// `applicant`, `staff`, `system` or `anonymous`, optionally with the account id: `staff:12`.
    #[param(pattern = r"^(applicant|staff|system|anonymous)(:[0-9]{1,18})?$")]
    actor: Option<String>,
    /// An action such as `appointment.booked`.
    #[param(schema_with = schemas::audit_action)]
    action: Option<String>,
    /// The kind of thing changed, such as `appointment` or `staff`.
    #[param(pattern = r"^[a-z_]{1,40}$")]
    entity: Option<String>,
    /// The id of the thing changed (a reference, an account id).
    #[param(min_length = 1, max_length = 64)]
    entity_id: Option<String>,
    /// Entries after this id: the previous page's `next_after`.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Entries per page (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// Check only this post's chain; a member bound to a post checks only its own.
    #[param(pattern = r"^[A-Za-z]{3}$")]
    post: Option<String>,
}

/// Who acted.
#[derive(Serialize, ToSchema)]
pub struct ActorView {
    /// `applicant`, `staff`, `system` or `anonymous`.
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    /// The staff role at the time.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

/// One audit entry: ids and codes, never names, e-mails or document numbers.
#[derive(Serialize, ToSchema)]
pub struct EntryView {
    id: i64,
    /// The chain: a post code, or `*` for events of no post.
    chain: String,
    /// When it was recorded (UTC).
    recorded_at: String,
    actor: ActorView,
    #[schema(schema_with = schemas::audit_action)]
    action: String,
    entity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post: Option<String>,
    /// What changed, as ids and codes.
    #[schema(value_type = Object)]
    change: serde_json::Value,
    /// Its place in its chain; absent for the fraction of a second before it is sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    seal: Option<SealView>,
}

/// An entry's place in its chain.
#[derive(Serialize, ToSchema)]
pub struct SealView {
    /// 1, 2, 3... within the chain.
    seq: i64,
    /// SHA-256 (hex) of the entry before it in its chain.
    prev_hash: String,
    /// SHA-256 (hex) of `prev_hash` and this entry's content.
    hash: String,
}

/// A page of entries, oldest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    entries: Vec<EntryView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<i64>,
}

impl From<Stored> for EntryView {
    fn from(stored: Stored) -> Self {
        let e = stored.entry;
        EntryView {
            id: e.id,
            recorded_at: e.recorded_at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true),
            actor: ActorView { kind: e.actor_kind, id: e.actor_id, role: e.actor_role },
            // Shown as stored, even if someone broke it: the check says which entry.
            change: serde_json::from_str(&e.change).unwrap_or(serde_json::Value::String(e.change)),
            chain: e.chain,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            post: e.post,
            seal: stored.seal.map(|(seq, prev_hash, hash)| SealView { seq, prev_hash, hash }),
        }
    }
}

/// The `post` filter: `Ok(None)` when absent, 422 when it spells no post code.
fn post_filter(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    raw.map(|p| post_code(p).ok_or_else(|| FieldError::new("post", Rule::NotAPost))).transpose()
}

impl LogQuery {
    /// The filter and page size, or 422 naming every bad parameter.
    fn parse(self) -> Result<(Filter, i64), AppError> {
        let mut errors = Vec::new();
        let (actor_kind, actor_id) = match self.actor.as_deref().map(|a| a.split_once(':').unwrap_or((a, "")))
        {
            None => (None, None),
            Some((kind, id)) => {
                if !["applicant", "staff", "system", "anonymous"].contains(&kind) {
                    errors.push(FieldError::new("actor", Rule::NotAnActor));
                }
                let id = if id.is_empty() {
                    None
                } else {
                    id.parse::<i64>().map_err(|_| errors.push(FieldError::new("actor", Rule::ActorId))).ok()
                };
                (Some(kind.to_string()), id)
            }
        };
        if let Some(action) = &self.action {
            if Action::parse(action).is_none() {
                errors.push(FieldError::new("action", Rule::NotAnAction));
            }
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to < from {
                errors.push(FieldError::new("to", Rule::NotBeforeFrom));
            }
        }
        let post = post_filter(self.post.as_deref()).map_err(|e| errors.push(e)).ok().flatten();
        let well_formed =
            |s: &str| (1..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if self.entity.as_deref().is_some_and(|e| !well_formed(e)) {
            errors.push(FieldError::new("entity", Rule::EntityName));
        }
        if self.entity_id.as_deref().is_some_and(|id| !(1..=64).contains(&id.chars().count())) {
            errors.push(FieldError::new("entity_id", Rule::CharsBetween { min: 1, max: 64 }));
        }
        let limit = self.limit.unwrap_or(100);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new("limit", Rule::Between { min: 1, max: MAX_LIMIT }));
        }
        if self.after.is_some_and(|a| a < 0) {
            errors.push(FieldError::new("after", Rule::NotNegative));
        }
        if !errors.is_empty() {
            return Err(AppError::invalid(errors));
        }
        let filter = Filter {
            from: self.from.map(|t| t.naive_utc()),
            to: self.to.map(|t| t.naive_utc()),
            post,
            actor_kind,
            actor_id,
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
            after: self.after,
        };
        Ok((filter, limit))
    }
}

/// Audit entries, oldest first, with filters; page with `after`.
#[utoipa::path(tag = "audit", security(("staff_token" = [])), params(LogQuery), responses(
    (status = 200, body = AuditPage),
    Denied,
    (status = 422, description = "`validation_failed`: an unknown action or actor kind, `to` before `from`, a limit or a field out of range", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/audit/log")]
pub async fn log(
    state: web::Data<AppState>,
    request: Guarded<Staff<AuditorOrAdmin>, web::Query<LogQuery>>,
) -> Result<HttpResponse, HttpError> {
    let Guarded(reader, query) = request;
    let (filter, limit) = query.into_inner().parse()?;
    let member = reader.0.member;
    let stored = state.db(move |conn| read::page_for(conn, &member, filter, limit)).await?;
    let next_after = (stored.len() as i64 == limit).then(|| stored.last().map(|s| s.entry.id)).flatten();
    let entries = stored.into_iter().map(EntryView::from).collect();
    Ok(HttpResponse::Ok().json(AuditPage { entries, next_after }))
}

/// Walks the hash chains and names the first entry that doesn't hold: altered, out of place,
/// or missing (also from the end).
#[utoipa::path(tag = "audit", security(("staff_token" = [])), params(VerifyQuery), responses(
    (status = 200, body = Verification),
    Denied,
    (status = 422, description = "`validation_failed`: `post` is not a three-letter code", body = crate::error::Problem, content_type = PROBLEM),
))]
#[get("/audit/log/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    request: Guarded<Staff<AuditorOrAdmin>, web::Query<VerifyQuery>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let Guarded(reader, query) = request;
    let post = post_filter(query.into_inner().post.as_deref()).map_err(|e| AppError::invalid(vec![e]))?;
    let member = reader.0.member;
    let outcome = state.db(move |conn| read::verify_for(conn, &member, post.as_deref(), now)).await?;
    Ok(HttpResponse::Ok().json(outcome))
}
