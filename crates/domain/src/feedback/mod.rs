//! "Tell us what you think": what the public writes about a post, and optionally one of its
//! services, with an address to be answered at if they want one. Anyone may write, from the
//! `/feedback` page or `POST /api/v1/feedback`, a few times an hour from one client address;
//! staff of the post read it by date, and auditors (and admins) export it as CSV.
//!
//! A submission is a state change like any other: it writes its audit entry (`feedback.submitted`,
//! with the post, the service and whether an address was given, never the text or the address)
//! in its own transaction. Exports are recorded too (`feedback.exported`): they carry people's
//! words and addresses out of the service. Staff reading the list is not.

pub mod export;
pub mod rules;

use chrono::{Duration, NaiveDate, NaiveDateTime, SubsecRound as _};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::staff::parse_email;
use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::calendar;
use crate::config::FeedbackSettings;
use crate::db::schema::{feedback, posts, services};
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, FieldError};
use crate::rule::Rule;
use crate::throttle::{self, Limit};
use crate::wording::Lang;

pub use rules::{FeedbackText, MAX_TEXT_CHARS};

/// The widest range of dates one list or export covers.
pub const MAX_RANGE_DAYS: i64 = 400;
/// Days a list covers when no `from` is given: the last 30, today included.
pub const DEFAULT_DAYS: i64 = 30;
/// The most entries one list shows, the newest first; the export has them all.
pub const MAX_LISTED: i64 = 500;

/// What someone thinks, as the API and the page send it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The post it is about (422 `not_a_choice` for a code no post has).
    #[schema(schema_with = crate::field_schemas::post)]
    pub post: String,
    /// One of the post's services it is about, if any (422 `not_a_choice` for an unknown code).
    #[schema(schema_with = crate::field_schemas::optional_service)]
    #[serde(default)]
    pub service: Option<String>,
    /// What the person thinks.
    #[schema(schema_with = crate::field_schemas::feedback_text)]
    pub text: String,
    /// Where to answer, if the person wants an answer.
    #[schema(schema_with = crate::field_schemas::optional_email)]
    #[serde(default)]
    pub email: Option<String>,
    /// The language the text is written in.
    #[schema(schema_with = crate::field_schemas::optional_language)]
    #[serde(default)]
    pub language: Option<String>,
}

/// A request that keeps every rule a request can be held to alone.
#[derive(Debug, Clone)]
struct Checked {
    post: String,
    service: Option<String>,
    text: FeedbackText,
    email: Option<String>,
    language: Lang,
}

/// Checks every field at once, so a form shows each field's error together: 422 naming them.
fn check(request: &FeedbackRequest) -> Result<Checked, AppError> {
    let mut errors = Vec::new();
    let post = crate::reference::post_code(&request.post);
    if post.is_none() {
        errors.push(FieldError::new("post", Rule::NotAPost));
    }
    let service = rules::service(request.service.as_deref()).map_err(|e| errors.push(e)).ok().flatten();
    let text =
        FeedbackText::parse(&request.text).map_err(|rule| errors.push(FieldError::new("text", rule))).ok();
    let email = parse_email(request.email.as_deref()).map_err(|e| errors.push(e)).ok().flatten();
    let language = rules::language(request.language.as_deref()).map_err(|e| errors.push(e)).ok();
    match (post, text, language) {
        (Some(post), Some(text), Some(language)) if errors.is_empty() => {
            Ok(Checked { post, service, text, email: email.map(|e| e.as_str().to_string()), language })
        }
        _ => Err(AppError::invalid(errors)),
    }
}

/// 422 `not_a_choice` for a post or a service that doesn't exist.
fn check_known(conn: &mut DbConn, checked: &Checked) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let post: i64 = posts::table.filter(posts::code.eq(&checked.post)).count().get_result(conn)?;
    if post == 0 {
        errors.push(FieldError::new("post", Rule::NotAChoice));
    }
    if let Some(service) = &checked.service {
        let known: i64 = services::table.filter(services::code.eq(service)).count().get_result(conn)?;
        if known == 0 {
            errors.push(FieldError::new("service", Rule::NotAChoice));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid(errors))
    }
}

/// Keeps a feedback: checked first (a refused one counts against nobody), then counted against
/// the client address's hourly limit (429 past it), then stored with its audit entry in one
/// transaction. Returns its id.
pub fn submit(
    conn: &mut DbConn,
    limits: &FeedbackSettings,
    request: &FeedbackRequest,
    client_address: &str,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    let checked = check(request)?;
    check_known(conn, &checked)?;
    let limit = Limit { max: limits.per_address_per_hour, window: Duration::hours(1) };
    if let Some(wait) = throttle::take(conn, &format!("feedback:address:{client_address}"), limit, now)? {
        return Err(AppError::too_many_requests(wait));
    }
    // To the second: what staff read and export, the same on both backends (PostgreSQL keeps
    // microseconds, SQLite what it is given).
    let received = now.trunc_subsecs(0);
    write_transaction(conn, |c| {
        let id: i64 = diesel::insert_into(feedback::table)
            .values((
                feedback::post_code.eq(&checked.post),
                feedback::service_code.eq(&checked.service),
                feedback::text.eq(checked.text.as_str()),
                feedback::email.eq(&checked.email),
                feedback::language.eq(checked.language.code()),
                feedback::created_at.eq(received),
            ))
            .returning(feedback::id)
            .get_result(c)?;
        let event =
            Event::new(Action::FeedbackSubmitted, id).at_post(Some(&checked.post)).with(serde_json::json!({
                "service": checked.service,
                "language": checked.language.code(),
                "answer_wanted": checked.email.is_some(),
            }));
        audit::record(c, &Actor::Anonymous, event, now)?;
        Ok(id)
    })
}

/// One feedback as staff read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackEntry {
    pub id: i64,
    pub post: String,
    /// The service it is about, if the person named one.
    pub service: Option<String>,
    pub text: String,
    /// Where the person asked to be answered, if they did.
    pub email: Option<String>,
    /// `en` or `es`.
    pub language: String,
    /// When it came, with the post's UTC offset.
    pub received_at: String,
}

/// A post's feedback over a range of its local dates, the newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackPage {
    pub post: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// At most 500, the newest first.
    pub entries: Vec<FeedbackEntry>,
    /// True when the range holds more than the entries shown: narrow it, or export it.
    pub more: bool,
}

/// The range a list or an export covers: `to` (today by default) and `from` (30 days
/// before, today included, by default); 422 for a date outside 2000–2200, `to` before `from`
/// or more than [`MAX_RANGE_DAYS`] after it.
pub fn range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let from = crate::booking::plausible_date("from", from)?;
    let to = crate::booking::plausible_date("to", to)?.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if to < from || (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(AppError::invalid(vec![FieldError::new(
            "to",
            Rule::RangeTooLong { max_days: MAX_RANGE_DAYS },
        )]));
    }
    Ok((from, to))
}

type Row = (i64, String, Option<String>, String, Option<String>, String, NaiveDateTime);

/// `post`'s feedback received from the start of local `from` to the end of local `to`, newest
/// first, at most `limit` (all with `None`).
fn rows(
    conn: &mut DbConn,
    post: &str,
    tz: chrono_tz::Tz,
    (from, to): (NaiveDate, NaiveDate),
    limit: Option<i64>,
) -> QueryResult<Vec<Row>> {
    let (start, _) = calendar::day_bounds(from, tz);
    let (_, end) = calendar::day_bounds(to, tz);
    let mut query = feedback::table
        .filter(feedback::post_code.eq(post))
        .filter(feedback::created_at.ge(start))
        .filter(feedback::created_at.lt(end))
        .order((feedback::created_at.desc(), feedback::id.desc()))
        .select((
            feedback::id,
            feedback::post_code,
            feedback::service_code,
            feedback::text,
            feedback::email,
            feedback::language,
            feedback::created_at,
        ))
        .into_boxed();
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    query.load(conn)
}

fn entry(row: Row, tz: chrono_tz::Tz) -> FeedbackEntry {
    let (id, post, service, text, email, language, created_at) = row;
    FeedbackEntry { id, post, service, text, email, language, received_at: calendar::rfc3339(created_at, tz) }
}

/// A post's feedback over a range of its local dates (see [`range`]), the newest first and at
/// most [`MAX_LISTED`]. Staff of the post, and staff bound to none (403 `wrong_post` for
/// another post's); 404 for a post that doesn't exist.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
) -> Result<FeedbackPage, AppError> {
    actor.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let (from, to) = range(from, to, calendar::local_date(now, tz))?;
    let mut found = rows(conn, post, tz, (from, to), Some(MAX_LISTED + 1))?;
    let more = found.len() as i64 > MAX_LISTED;
    found.truncate(MAX_LISTED as usize);
    Ok(FeedbackPage {
        post: post.to_string(),
        from,
        to,
        entries: found.into_iter().map(|row| entry(row, tz)).collect(),
        more,
    })
}
