//! Emergency messages and newsletters. An officer writes one in English and Spanish for some
//! districts (or all of Mexico); the preview counts who it will reach; sending queues one outbox
//! row per recipient address in a single `INSERT … SELECT`, so 100 000 registrants are queued
//! in one statement with flat memory, and the instances' senders share the sending. An
//! emergency message may need a second officer's approval (`CONSULAR_DESK_EMERGENCY_APPROVAL`).
//! Writing, approving and queuing are recorded in the audit trail.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::fields::invisible;
use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::db::schema::{bulletins, posts};
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, Code, FieldError};
use crate::mail::Kind;
use crate::rule::Rule;

pub const MAX_SUBJECT_CHARS: usize = 150;
pub const MAX_BODY_CHARS: usize = 10_000;
/// An emergency message's window of presence: at most a year.
pub const MAX_WINDOW_DAYS: i64 = 366;
/// `districts: ["*"]`: all of Mexico.
pub const ALL_OF_MEXICO: &str = "*";

/// Bulk mail's place in the outbox's order: after single messages people wait for.
pub const EMERGENCY_PRIORITY: i32 = 1;
pub const NEWSLETTER_PRIORITY: i32 = 2;

/// An emergency message as the officer writes it; a newsletter leaves out the dates.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulletinInput {
    /// Post codes of the consular districts, or `["*"]` for all of Mexico.
    #[schema(min_items = 1, max_items = 20)]
    pub districts: Vec<String>,
    /// Emergency messages: registrants present on any day from `from` to `to` (inclusive).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[schema(schema_with = crate::field_schemas::bulletin_subject)]
    pub subject_en: String,
    #[schema(schema_with = crate::field_schemas::bulletin_body)]
    pub body_en: String,
    #[schema(schema_with = crate::field_schemas::bulletin_subject)]
    pub subject_es: String,
    #[schema(schema_with = crate::field_schemas::bulletin_body)]
    pub body_es: String,
}

/// Which of the two it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulletinKind {
    Emergency,
    Newsletter,
}

impl BulletinKind {
    fn code(self) -> &'static str {
        match self {
            BulletinKind::Emergency => "emergency",
            BulletinKind::Newsletter => "newsletter",
        }
    }

    fn mail_kind(self) -> Kind {
        match self {
            BulletinKind::Emergency => Kind::Emergency,
            BulletinKind::Newsletter => Kind::Newsletter,
        }
    }
}

/// A checked bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bulletin {
    pub kind: BulletinKind,
    /// Empty: all of Mexico.
    pub districts: Vec<String>,
    pub window: Option<(NaiveDate, NaiveDate)>,
    pub subject_en: String,
    pub body_en: String,
    pub subject_es: String,
    pub body_es: String,
}

fn text(field: &str, raw: &str, max: usize, lines: bool, errors: &mut Vec<FieldError>) -> String {
    let trimmed = raw.trim();
    let hidden = trimmed.chars().any(|c| invisible(c) && !(lines && (c == '\n' || c == '\r')));
    if trimmed.is_empty() {
        errors.push(FieldError::new(field, Rule::Empty));
    } else if trimmed.chars().count() > max {
        errors.push(FieldError::new(field, Rule::LongerThan { max }));
    } else if hidden {
        errors.push(FieldError::new(field, Rule::Invisible));
    }
    trimmed.replace("\r\n", "\n")
}

/// Checks a bulletin as written; `posts` are the districts there are. Pure rule.
pub fn check(
    kind: BulletinKind,
    input: &BulletinInput,
    posts: &[String],
) -> Result<Bulletin, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut districts: Vec<String> = Vec::new();
    let everywhere = input.districts.iter().any(|d| d.trim() == ALL_OF_MEXICO);
    if input.districts.is_empty() || input.districts.len() > 20 || (everywhere && input.districts.len() > 1) {
        errors.push(FieldError::new("districts", Rule::NameADistrict));
    } else if !everywhere {
        for (i, raw) in input.districts.iter().enumerate() {
            let code = raw.trim().to_uppercase();
            if !posts.contains(&code) {
                errors.push(FieldError::new(format!("districts[{i}]"), Rule::NotAPost));
            } else if districts.contains(&code) {
                errors.push(FieldError::new(format!("districts[{i}]"), Rule::ListedTwice));
            } else {
                districts.push(code);
            }
        }
    }
    let window = match (kind, input.from, input.to) {
        (BulletinKind::Newsletter, None, None) => None,
        (BulletinKind::Newsletter, _, _) => {
            errors.push(FieldError::new("from", Rule::NotAChoice));
            None
        }
        (BulletinKind::Emergency, Some(from), Some(to)) if to < from => {
            errors.push(FieldError::new("to", Rule::NotBeforeFrom));
            None
        }
        (BulletinKind::Emergency, Some(from), Some(to)) if (to - from).num_days() > MAX_WINDOW_DAYS => {
            errors.push(FieldError::new("to", Rule::RangeTooLong { max_days: MAX_WINDOW_DAYS }));
            None
        }
        (BulletinKind::Emergency, Some(from), Some(to)) => Some((from, to)),
        (BulletinKind::Emergency, from, _) => {
            let missing = if from.is_none() { "from" } else { "to" };
            errors.push(FieldError::new(missing, Rule::Empty));
            None
        }
    };
    let bulletin = Bulletin {
        kind,
        districts,
        window,
        subject_en: text("subject_en", &input.subject_en, MAX_SUBJECT_CHARS, false, &mut errors),
        body_en: text("body_en", &input.body_en, MAX_BODY_CHARS, true, &mut errors),
        subject_es: text("subject_es", &input.subject_es, MAX_SUBJECT_CHARS, false, &mut errors),
        body_es: text("body_es", &input.body_es, MAX_BODY_CHARS, true, &mut errors),
    };
    if errors.is_empty() {
        Ok(bulletin)
    } else {
        Err(errors)
    }
}

/// 403 unless `actor` may write to every district named: staff bound to a post write to their
/// own district only; all of Mexico is for unbound staff.
fn ensure_districts(actor: &Actor, bulletin: &Bulletin) -> Result<(), AppError> {
    if bulletin.districts.is_empty() {
        return actor.ensure_scope(None);
    }
    bulletin.districts.iter().try_for_each(|d| actor.ensure_post(d))
}

/// The registrants' filter, as SQL over `stays s`: confirmed, wanting this kind, in the
/// districts (checked post codes, so written into the statement), present in the window.
fn recipients_filter(bulletin: &Bulletin) -> String {
    let wants = match bulletin.kind {
        BulletinKind::Emergency => "s.emergency_messages",
        BulletinKind::Newsletter => "s.newsletter",
    };
    let mut filter = format!("s.confirmed_at IS NOT NULL AND {wants}");
    if !bulletin.districts.is_empty() {
        let quoted: Vec<String> = bulletin
            .districts
            .iter()
            .filter(|d| d.chars().all(|c| c.is_ascii_uppercase()))
            .map(|d| format!("'{d}'"))
            .collect();
        let list = if quoted.is_empty() { "NULL".to_string() } else { quoted.join(", ") };
        filter.push_str(&format!(" AND s.district IN ({list})"));
    }
    filter
}

/// The window's bounds: an emergency's days, or a newsletter's "from today on".
fn bounds(bulletin: &Bulletin, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let far = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(today);
    bulletin.window.unwrap_or((today, far))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many addresses the bulletin would reach now (several stays at one address count once).
pub fn count_recipients(conn: &mut DbConn, bulletin: &Bulletin, today: NaiveDate) -> QueryResult<i64> {
    let (from, to) = bounds(bulletin, today);
    let filter = recipients_filter(bulletin);
    let rows: Vec<Count> = match conn {
        DbConn::Postgres(pg) => diesel::sql_query(format!(
            "SELECT COUNT(DISTINCT s.email) AS n FROM stays s WHERE {filter} AND s.arrives <= $1 AND s.departs >= $2"
        ))
        .bind::<Date, _>(to)
        .bind::<Date, _>(from)
        .load(pg)?,
        DbConn::Sqlite(c) => diesel::sql_query(format!(
            "SELECT COUNT(DISTINCT s.email) AS n FROM stays s WHERE {filter} AND s.arrives <= ? AND s.departs >= ?"
        ))
        .bind::<Date, _>(to)
        .bind::<Date, _>(from)
        .load(c)?,
    };
    Ok(rows.first().map_or(0, |r| r.n))
}

/// Writes one outbox row per recipient address, in one statement; returns how many. Each row
/// names the bulletin and one stay of the address (its link to manage the registration).
fn fan_out(conn: &mut DbConn, id: i64, bulletin: &Bulletin, now: NaiveDateTime) -> QueryResult<usize> {
    let (from, to) = bounds(bulletin, now.date());
    let filter = recipients_filter(bulletin);
    let (kind, priority) = match bulletin.kind {
        BulletinKind::Emergency => (bulletin.kind.mail_kind().code(), EMERGENCY_PRIORITY),
        BulletinKind::Newsletter => (bulletin.kind.mail_kind().code(), NEWSLETTER_PRIORITY),
    };
    let select = |p: [&str; 5]| {
        format!(
            "INSERT INTO outbox (kind, recipient, language, payload, state, tries, due_at, created_at, priority) \
             SELECT '{kind}', s.email, MIN(s.language), \
                 '{{\"bulletin\":\"' || CAST({} AS TEXT) || '\",\"stay\":\"' || CAST(MIN(s.id) AS TEXT) || '\"}}', \
                 'waiting', 0, {}, {}, {priority} \
             FROM stays s WHERE {filter} AND s.arrives <= {} AND s.departs >= {} \
             GROUP BY s.email",
            p[0], p[1], p[2], p[3], p[4]
        )
    };
    match conn {
        DbConn::Postgres(pg) => diesel::sql_query(select(["$1", "$2", "$2", "$3", "$4"]))
            .bind::<BigInt, _>(id)
            .bind::<Timestamp, _>(now)
            .bind::<Date, _>(to)
            .bind::<Date, _>(from)
            .execute(pg),
        DbConn::Sqlite(c) => diesel::sql_query(select(["?", "?", "?", "?", "?"]))
            .bind::<BigInt, _>(id)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Date, _>(to)
            .bind::<Date, _>(from)
            .execute(c),
    }
}

/// A bulletin as the pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BulletinView {
    pub id: i64,
    pub kind: BulletinKind,
    /// Post codes, or `["*"]`.
    pub districts: Vec<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    pub subject_en: String,
    pub subject_es: String,
    /// `awaiting_approval` or `queued`.
    pub state: String,
    pub written_by: i64,
    #[schema(value_type = String, format = DateTime)]
    pub written_at: NaiveDateTime,
    pub approved_by: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub queued_at: Option<NaiveDateTime>,
    /// Addresses queued (set when queued).
    pub recipients: Option<i32>,
}

/// A stored bulletin, as the table holds it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = bulletins)]
struct Row {
    id: i64,
    kind: String,
    districts: String,
    present_from: Option<NaiveDate>,
    present_to: Option<NaiveDate>,
    subject_en: String,
    body_en: String,
    subject_es: String,
    body_es: String,
    state: String,
    written_by: i64,
    written_at: NaiveDateTime,
    approved_by: Option<i64>,
    queued_at: Option<NaiveDateTime>,
    recipients: Option<i32>,
}

impl Row {
    fn kind(&self) -> BulletinKind {
        if self.kind == "newsletter" {
            BulletinKind::Newsletter
        } else {
            BulletinKind::Emergency
        }
    }

    /// What was checked when it was written, to queue it.
    fn bulletin(&self) -> Bulletin {
        Bulletin {
            kind: self.kind(),
            districts: if self.districts == ALL_OF_MEXICO {
                Vec::new()
            } else {
                self.districts.split(',').map(String::from).collect()
            },
            window: self.present_from.zip(self.present_to),
            subject_en: self.subject_en.clone(),
            body_en: self.body_en.clone(),
            subject_es: self.subject_es.clone(),
            body_es: self.body_es.clone(),
        }
    }

    fn view(self) -> BulletinView {
        BulletinView {
            id: self.id,
            kind: self.kind(),
            districts: self.districts.split(',').map(String::from).collect(),
            from: self.present_from,
            to: self.present_to,
            subject_en: self.subject_en,
            subject_es: self.subject_es,
            state: self.state,
            written_by: self.written_by,
            written_at: self.written_at,
            approved_by: self.approved_by,
            queued_at: self.queued_at,
            recipients: self.recipients,
        }
    }
}

fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Row>> {
    bulletins::table.find(id).select(Row::as_select()).first(conn).optional()
}

fn load_view(conn: &mut DbConn, id: i64) -> QueryResult<Option<BulletinView>> {
    Ok(find(conn, id)?.map(Row::view))
}

/// The latest bulletins the actor may see (their district's, or all for unbound staff).
pub fn recent(conn: &mut DbConn, actor: &Actor) -> Result<Vec<BulletinView>, AppError> {
    let rows: Vec<Row> =
        bulletins::table.order(bulletins::id.desc()).limit(50).select(Row::as_select()).load(conn)?;
    Ok(rows
        .into_iter()
        .map(Row::view)
        .filter(|b| {
            b.districts.iter().all(|d| d == ALL_OF_MEXICO || actor.ensure_post(d).is_ok())
                && (b.districts.iter().all(|d| d != ALL_OF_MEXICO) || actor.ensure_scope(None).is_ok())
        })
        .collect())
}

fn posts_there_are(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    posts::table.select(posts::code).load(conn)
}

/// Checks the bulletin and the actor's districts; counts its recipients now.
pub fn preview(
    conn: &mut DbConn,
    actor: &Actor,
    kind: BulletinKind,
    input: &BulletinInput,
    today: NaiveDate,
) -> Result<i64, AppError> {
    let bulletin = check(kind, input, &posts_there_are(conn)?).map_err(AppError::invalid)?;
    ensure_districts(actor, &bulletin)?;
    Ok(count_recipients(conn, &bulletin, today)?)
}

fn queue(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    bulletin: &Bulletin,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let n = fan_out(conn, id, bulletin, now)?;
    diesel::update(bulletins::table.find(id))
        .set((
            bulletins::state.eq("queued"),
            bulletins::queued_at.eq(now),
            bulletins::recipients.eq(i32::try_from(n).unwrap_or(i32::MAX)),
        ))
        .execute(conn)?;
    let event =
        Event { change: serde_json::json!({"recipients": n}), ..Event::new(Action::BulletinQueued, id) };
    audit::record(conn, actor, event, now)?;
    Ok(())
}

/// Writes the bulletin and, unless an emergency message waits for approval, queues it, all in
/// one transaction. Returns it as stored.
pub fn send(
    conn: &mut DbConn,
    actor: &Actor,
    kind: BulletinKind,
    input: &BulletinInput,
    needs_approval: bool,
    now: NaiveDateTime,
) -> Result<BulletinView, AppError> {
    let bulletin = check(kind, input, &posts_there_are(conn)?).map_err(AppError::invalid)?;
    ensure_districts(actor, &bulletin)?;
    let writer = actor.staff()?.id;
    let waits = needs_approval && kind == BulletinKind::Emergency;
    let districts =
        if bulletin.districts.is_empty() { ALL_OF_MEXICO.to_string() } else { bulletin.districts.join(",") };
    let id = write_transaction(conn, |c| {
        let id: i64 = diesel::insert_into(bulletins::table)
            .values((
                bulletins::kind.eq(kind.code()),
                bulletins::districts.eq(&districts),
                bulletins::present_from.eq(bulletin.window.map(|w| w.0)),
                bulletins::present_to.eq(bulletin.window.map(|w| w.1)),
                bulletins::subject_en.eq(&bulletin.subject_en),
                bulletins::body_en.eq(&bulletin.body_en),
                bulletins::subject_es.eq(&bulletin.subject_es),
                bulletins::body_es.eq(&bulletin.body_es),
                bulletins::state.eq("awaiting_approval"),
                bulletins::written_by.eq(writer),
                bulletins::written_at.eq(now),
            ))
            .returning(bulletins::id)
            .get_result(c)?;
        let event = Event {
            change: serde_json::json!({"kind": kind.code(), "districts": districts, "approval": waits}),
            ..Event::new(Action::BulletinWritten, id)
        };
        audit::record(c, actor, event, now)?;
        if !waits {
            queue(c, actor, id, &bulletin, now)?;
        }
        Ok::<_, AppError>(id)
    })?;
    load_view(conn, id)?.ok_or_else(|| AppError::not_found("the message is gone"))
}

/// A bulletin as `approve` reads it: kind, districts, window, the words, state and writer.
/// A second officer approves an emergency message waiting for it, which queues it. 403 for its
/// writer, 409 once queued, 404 for an unknown one or one of districts the approver may not
/// act on.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<BulletinView, AppError> {
    let approver = actor.staff()?.id;
    write_transaction(conn, |c| {
        let Some(stored) = find(c, id)? else {
            return Err(AppError::not_found(format!("no emergency message {id}")));
        };
        let bulletin = stored.bulletin();
        if ensure_districts(actor, &bulletin).is_err() {
            return Err(AppError::not_found(format!("no emergency message {id}")));
        }
        if stored.state != "awaiting_approval" {
            return Err(AppError::new(Code::AlreadyQueued, "this message was queued already"));
        }
        if stored.written_by == approver {
            return Err(AppError::new(Code::OwnBulletin, "another officer approves the message you wrote"));
        }
        // Only one approval queues it, however many arrive at once.
        let taken =
            diesel::update(bulletins::table.find(id).filter(bulletins::state.eq("awaiting_approval")))
                .set(bulletins::approved_by.eq(approver))
                .execute(c)?;
        if taken == 0 {
            return Err(AppError::new(Code::AlreadyQueued, "this message was queued already"));
        }
        audit::record(c, actor, Event::new(Action::BulletinApproved, id), now)?;
        queue(c, actor, id, &bulletin, now)?;
        Ok(())
    })?;
    load_view(conn, id)?.ok_or_else(|| AppError::not_found("the message is gone"))
}

/// What a queued message of the bulletin says, in `lang`: subject and body.
pub fn words(conn: &mut DbConn, id: i64, spanish: bool) -> QueryResult<Option<(String, String)>> {
    let row: Option<(String, String, String, String)> = bulletins::table
        .find(id)
        .select((bulletins::subject_en, bulletins::body_en, bulletins::subject_es, bulletins::body_es))
        .first(conn)
        .optional()?;
    Ok(row.map(|(se, be, ss, bs)| if spanish { (ss, bs) } else { (se, be) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> BulletinInput {
        BulletinInput {
            districts: vec!["gdl".into()],
            from: NaiveDate::from_ymd_opt(2026, 12, 3),
            to: NaiveDate::from_ymd_opt(2026, 12, 5),
            subject_en: "Hurricane warning".into(),
            body_en: "Stay indoors.\nFollow local authorities.".into(),
            subject_es: "Alerta de huracán".into(),
            body_es: "Permanezca en interiores.".into(),
        }
    }

    fn posts() -> Vec<String> {
        vec!["MEX".into(), "GDL".into()]
    }

    fn fields(result: Result<Bulletin, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn an_emergency_names_districts_and_days_and_keeps_its_line_breaks() {
        let ok = check(BulletinKind::Emergency, &input(), &posts()).expect("valid");
        assert_eq!(ok.districts, vec!["GDL".to_string()]);
        assert!(ok.body_en.contains('\n'));
        let everywhere = BulletinInput { districts: vec!["*".into()], ..input() };
        assert_eq!(
            check(BulletinKind::Emergency, &everywhere, &posts()).expect("valid").districts,
            Vec::<String>::new()
        );
        let mixed = BulletinInput { districts: vec!["*".into(), "MEX".into()], ..input() };
        assert_eq!(fields(check(BulletinKind::Emergency, &mixed, &posts())), vec!["districts"]);
        let twice = BulletinInput { districts: vec!["MEX".into(), "mex".into()], ..input() };
        assert_eq!(fields(check(BulletinKind::Emergency, &twice, &posts())), vec!["districts[1]"]);
        let backwards = BulletinInput { to: NaiveDate::from_ymd_opt(2026, 12, 1), ..input() };
        assert_eq!(fields(check(BulletinKind::Emergency, &backwards, &posts())), vec!["to"]);
        let no_days = BulletinInput { from: None, ..input() };
        assert_eq!(fields(check(BulletinKind::Emergency, &no_days, &posts())), vec!["from"]);
    }

    #[test]
    fn a_newsletter_has_no_days_and_a_subject_is_one_visible_line() {
        let newsletter = BulletinInput { from: None, to: None, ..input() };
        assert!(check(BulletinKind::Newsletter, &newsletter, &posts()).is_ok());
        assert_eq!(fields(check(BulletinKind::Newsletter, &input(), &posts())), vec!["from"]);
        let broken =
            BulletinInput { subject_en: "Two\nlines".into(), subject_es: "Oc\u{200B}ulto".into(), ..input() };
        assert_eq!(
            fields(check(BulletinKind::Emergency, &broken, &posts())),
            vec!["subject_en", "subject_es"]
        );
    }

    #[test]
    fn the_filter_names_only_checked_post_codes() {
        let bulletin = check(BulletinKind::Emergency, &input(), &posts()).expect("valid");
        assert!(recipients_filter(&bulletin).ends_with("s.district IN ('GDL')"));
        let forged = Bulletin { districts: vec!["X') OR 1=1 --".into()], ..bulletin };
        assert!(recipients_filter(&forged).ends_with("s.district IN (NULL)"));
    }
}
