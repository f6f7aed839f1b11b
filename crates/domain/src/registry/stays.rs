//! A registered stay: who travels, how to reach them, when and where, and what they want
//! (emergency messages, the newsletter). Registered by anyone; confirmed, seen, changed and
//! deleted by the holder of its signed link; read by the staff of its district (audited);
//! deleted by the maintenance timer once it has been over for the retention period.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::fields::{Email, PersonName};
use crate::audit::{self, Action, Event};
use crate::auth::Actor;
use crate::booking::party::{parse_phone, PersonInput};
use crate::config::RegistrySettings;
use crate::db::schema::{mexican_states, posts, stay_travellers, stays};
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, FieldError};
use crate::mail::outbox::{enqueue, Letter};
use crate::mail::Kind;
use crate::registry::links::{Purpose, StayKey};
use crate::rule::Rule;
use crate::throttle::{self, Limit};
use crate::wording::Lang;

/// A family or a group registers together; more is a list, not a stay.
pub const MAX_TRAVELLERS: usize = 10;
/// A stay longer than two years is a residence: register it again when it goes on.
pub const MAX_STAY_DAYS: i64 = 730;
/// An unconfirmed registration is deleted after this long.
pub const UNCONFIRMED_DAYS: i64 = 7;
/// Staff read a district's registrations this many at a time.
pub const PAGE_SIZE: i64 = 100;

/// A stay as the person registers or changes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StayInput {
    /// 1 to 10 people.
    #[schema(min_items = 1, max_items = 10)]
    pub travellers: Vec<PersonInput>,
    #[schema(schema_with = crate::field_schemas::email)]
    pub email: String,
    #[serde(default)]
    #[schema(schema_with = crate::field_schemas::phone)]
    pub phone: Option<String>,
    /// First day in Mexico (`YYYY-MM-DD`).
    #[schema(value_type = String, format = Date)]
    pub arrives: NaiveDate,
    /// Last day in Mexico: not before `arrives`, not in the past, at most 730 days after
    /// `arrives`.
    #[schema(value_type = String, format = Date)]
    pub departs: NaiveDate,
    /// The post whose consular district the stay is in (`GDL`); or give `state`.
    #[serde(default)]
    #[schema(max_length = 3)]
    pub district: Option<String>,
    /// The Mexican state (`JAL`), which names its district; both may be given (a traveller in
    /// northern Sonora names `SON` and `NOG`).
    #[serde(default)]
    #[schema(max_length = 3)]
    pub state: Option<String>,
    pub emergency_messages: bool,
    pub newsletter: bool,
    /// `en` (default) or `es`: the language of the messages.
    #[serde(default)]
    #[schema(max_length = 2)]
    pub language: Option<String>,
}

/// A checked stay, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStay {
    pub travellers: Vec<PersonInput>,
    pub email: String,
    pub phone: Option<String>,
    pub arrives: NaiveDate,
    pub departs: NaiveDate,
    pub district: String,
    pub state: Option<String>,
    pub emergency_messages: bool,
    pub newsletter: bool,
    pub lang: Lang,
}

/// What [`check`] compares against: the posts' codes and the states with their districts.
pub struct Places {
    pub posts: Vec<String>,
    pub states: Vec<(String, String)>,
}

impl Places {
    pub fn load(conn: &mut DbConn) -> QueryResult<Places> {
        Ok(Places {
            posts: posts::table.select(posts::code).load(conn)?,
            states: mexican_states::table
                .select((mexican_states::code, mexican_states::post_code))
                .load(conn)?,
        })
    }
}

/// Checks a stay as typed; every broken rule, by field. Pure rule.
pub fn check(input: &StayInput, today: NaiveDate, places: &Places) -> Result<NewStay, Vec<FieldError>> {
    let mut errors = Vec::new();
    if input.travellers.is_empty() || input.travellers.len() > MAX_TRAVELLERS {
        errors.push(FieldError::new("travellers", Rule::NameATraveller { max: MAX_TRAVELLERS }));
    }
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let mut travellers = Vec::new();
    for (i, t) in input.travellers.iter().take(MAX_TRAVELLERS).enumerate() {
        let given = PersonName::parse(&t.given_names)
            .map_err(|r| errors.push(FieldError::new(format!("travellers[{i}].given_names"), r)))
            .ok();
        let surname = PersonName::parse(&t.surname)
            .map_err(|r| errors.push(FieldError::new(format!("travellers[{i}].surname"), r)))
            .ok();
        if t.date_of_birth.is_some_and(|dob| dob > today || dob < earliest) {
            errors.push(FieldError::new(format!("travellers[{i}].date_of_birth"), Rule::NotABirthDate));
        }
        if let (Some(given), Some(surname)) = (given, surname) {
            travellers.push(PersonInput {
                given_names: given.as_str().to_string(),
                surname: surname.as_str().to_string(),
                date_of_birth: t.date_of_birth,
            });
        }
    }
    let email = Email::parse(&input.email).map_err(|r| errors.push(FieldError::new("email", r))).ok();
    let phone = match input.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(raw) => parse_phone(raw).map_err(|e| errors.push(e)).ok(),
    };
    if input.departs < input.arrives {
        errors.push(FieldError::new("departs", Rule::NotBeforeFrom));
    } else if input.departs < today {
        errors.push(FieldError::new("departs", Rule::InThePast));
    } else if (input.departs - input.arrives).num_days() > MAX_STAY_DAYS {
        errors.push(FieldError::new("departs", Rule::StayTooLong { max_days: MAX_STAY_DAYS }));
    }
    let state = input.state.as_deref().map(|s| s.trim().to_uppercase()).filter(|s| !s.is_empty());
    let named = input.district.as_deref().map(|d| d.trim().to_uppercase()).filter(|d| !d.is_empty());
    let state_district = match &state {
        None => None,
        Some(code) => match places.states.iter().find(|(c, _)| c == code) {
            Some((_, district)) => Some(district.clone()),
            None => {
                errors.push(FieldError::new("state", Rule::NotAState));
                None
            }
        },
    };
    let district = match (&named, &state) {
        (Some(d), _) if places.posts.contains(d) => Some(d.clone()),
        (Some(_), _) => {
            errors.push(FieldError::new("district", Rule::NotAPost));
            None
        }
        (None, Some(_)) => state_district,
        (None, None) => {
            errors.push(FieldError::new("district", Rule::DistrictOrState));
            None
        }
    };
    if !input.emergency_messages && !input.newsletter {
        errors.push(FieldError::new("emergency_messages", Rule::AskForSomething));
    }
    let lang = match input.language.as_deref() {
        None | Some("") => Some(Lang::En),
        Some(code) => {
            let lang = Lang::parse(code);
            if lang.is_none() {
                errors.push(FieldError::new("language", Rule::NotAChoice));
            }
            lang
        }
    };
    match (errors.is_empty(), email, district, lang) {
        (true, Some(email), Some(district), Some(lang)) => Ok(NewStay {
            travellers,
            email: email.as_str().to_string(),
            phone,
            arrives: input.arrives,
            departs: input.departs,
            district,
            state,
            emergency_messages: input.emergency_messages,
            newsletter: input.newsletter,
            lang,
        }),
        _ => Err(errors),
    }
}

/// A stay as its holder and the staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StayView {
    pub id: i64,
    pub travellers: Vec<PersonInput>,
    pub email: String,
    pub phone: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub arrives: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub departs: NaiveDate,
    pub district: String,
    pub state: Option<String>,
    pub emergency_messages: bool,
    pub newsletter: bool,
    pub language: String,
    /// False until the link in the confirmation message is used; nothing else is sent before.
    pub confirmed: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stays)]
struct StayRow {
    id: i64,
    email: String,
    phone: Option<String>,
    language: String,
    arrives: NaiveDate,
    departs: NaiveDate,
    district: String,
    state_code: Option<String>,
    emergency_messages: bool,
    newsletter: bool,
    confirmed_at: Option<NaiveDateTime>,
}

fn travellers_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, PersonInput)>> {
    let rows: Vec<(i64, String, String, Option<NaiveDate>)> = stay_travellers::table
        .filter(stay_travellers::stay_id.eq_any(ids))
        .order((stay_travellers::stay_id, stay_travellers::position))
        .select((
            stay_travellers::stay_id,
            stay_travellers::given_names,
            stay_travellers::surname,
            stay_travellers::date_of_birth,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, given_names, surname, date_of_birth)| {
            (id, PersonInput { given_names, surname, date_of_birth })
        })
        .collect())
}

fn views(conn: &mut DbConn, rows: Vec<StayRow>) -> QueryResult<Vec<StayView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let people = travellers_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let travellers = people.iter().filter(|(id, _)| *id == r.id).map(|(_, p)| p.clone()).collect();
            StayView {
                id: r.id,
                travellers,
                email: r.email,
                phone: r.phone,
                arrives: r.arrives,
                departs: r.departs,
                district: r.district,
                state: r.state_code,
                emergency_messages: r.emergency_messages,
                newsletter: r.newsletter,
                language: r.language,
                confirmed: r.confirmed_at.is_some(),
            }
        })
        .collect())
}

fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<StayRow>> {
    stays::table.find(id).select(StayRow::as_select()).first(conn).optional()
}

/// The stay `id` if `sig` is its link for `purpose`; the same 404 for an unknown stay and a
/// wrong signature, so a guess learns nothing.
fn held(conn: &mut DbConn, key: &StayKey, purpose: Purpose, id: i64, sig: &str) -> Result<StayRow, AppError> {
    match find(conn, id)? {
        Some(row) if key.holds(purpose, row.id, &row.email, sig) => Ok(row),
        _ => Err(AppError::not_found(
            "no registration for this link: it was deleted, or the link is not whole",
        )),
    }
}

fn store_travellers(conn: &mut DbConn, id: i64, travellers: &[PersonInput]) -> QueryResult<()> {
    diesel::delete(stay_travellers::table.filter(stay_travellers::stay_id.eq(id))).execute(conn)?;
    for (i, t) in travellers.iter().enumerate() {
        diesel::insert_into(stay_travellers::table)
            .values((
                stay_travellers::stay_id.eq(id),
                stay_travellers::position.eq(i as i32 + 1),
                stay_travellers::given_names.eq(&t.given_names),
                stay_travellers::surname.eq(&t.surname),
                stay_travellers::date_of_birth.eq(t.date_of_birth),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Queues the message that confirms the address (double opt-in).
fn queue_confirmation(conn: &mut DbConn, id: i64, stay: &NewStay, now: NaiveDateTime) -> QueryResult<i64> {
    let letter = Letter::new(Kind::RegistryConfirm, &stay.email, stay.lang).with("stay", id.to_string());
    enqueue(conn, &letter, now)
}

/// 429 when this client address or this e-mail address has registered too often.
fn throttled(
    conn: &mut DbConn,
    limits: &RegistrySettings,
    client: &str,
    email: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let per_client = Limit { max: limits.registrations_per_address, window: Duration::hours(1) };
    if let Some(wait) = throttle::take(conn, &format!("registry:address:{client}"), per_client, now)? {
        return Err(AppError::too_many_requests(wait));
    }
    let per_email = Limit { max: limits.registrations_per_email, window: Duration::days(1) };
    if let Some(wait) =
        throttle::take(conn, &format!("registry:email:{}", email.to_lowercase()), per_email, now)?
    {
        return Err(AppError::too_many_requests(wait));
    }
    Ok(())
}

/// Registers a stay and queues its confirmation message. The answer holds no link: only the
/// address's owner gets one.
pub fn register(
    conn: &mut DbConn,
    limits: &RegistrySettings,
    input: &StayInput,
    client: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let places = Places::load(conn)?;
    let stay = check(input, now.date(), &places).map_err(AppError::invalid)?;
    throttled(conn, limits, client, &stay.email, now)?;
    write_transaction(conn, |c| {
        let id: i64 = diesel::insert_into(stays::table)
            .values((
                stays::email.eq(&stay.email),
                stays::phone.eq(&stay.phone),
                stays::language.eq(stay.lang.code()),
                stays::arrives.eq(stay.arrives),
                stays::departs.eq(stay.departs),
                stays::district.eq(&stay.district),
                stays::state_code.eq(&stay.state),
                stays::emergency_messages.eq(stay.emergency_messages),
                stays::newsletter.eq(stay.newsletter),
                stays::created_at.eq(now),
                stays::updated_at.eq(now),
            ))
            .returning(stays::id)
            .get_result(c)?;
        store_travellers(c, id, &stay.travellers)?;
        queue_confirmation(c, id, &stay, now)?;
        Ok(())
    })
}

/// The stay, for the holder of its link.
pub fn view(conn: &mut DbConn, key: &StayKey, id: i64, sig: &str) -> Result<StayView, AppError> {
    let row = held(conn, key, Purpose::Manage, id, sig)?;
    Ok(views(conn, vec![row])?.remove(0))
}

/// Confirms the address: the link came to it. Confirming twice is fine.
pub fn confirm(
    conn: &mut DbConn,
    key: &StayKey,
    id: i64,
    sig: &str,
    now: NaiveDateTime,
) -> Result<StayView, AppError> {
    let row = held(conn, key, Purpose::Manage, id, sig)?;
    diesel::update(stays::table.find(row.id).filter(stays::confirmed_at.is_null()))
        .set((stays::confirmed_at.eq(now), stays::updated_at.eq(now)))
        .execute(conn)?;
    view(conn, key, id, sig)
}

/// Changes the stay. A new address must be confirmed again (a message goes to it) and ends
/// the links sent to the old one; the answer then says `confirmed: false`.
pub fn update(
    conn: &mut DbConn,
    key: &StayKey,
    id: i64,
    sig: &str,
    input: &StayInput,
    now: NaiveDateTime,
) -> Result<StayView, AppError> {
    let row = held(conn, key, Purpose::Manage, id, sig)?;
    let places = Places::load(conn)?;
    let stay = check(input, now.date(), &places).map_err(AppError::invalid)?;
    let new_address = !stay.email.eq_ignore_ascii_case(&row.email);
    write_transaction(conn, |c| {
        diesel::update(stays::table.find(row.id))
            .set((
                stays::email.eq(&stay.email),
                stays::phone.eq(&stay.phone),
                stays::language.eq(stay.lang.code()),
                stays::arrives.eq(stay.arrives),
                stays::departs.eq(stay.departs),
                stays::district.eq(&stay.district),
                stays::state_code.eq(&stay.state),
                stays::emergency_messages.eq(stay.emergency_messages),
                stays::newsletter.eq(stay.newsletter),
                stays::updated_at.eq(now),
            ))
            .execute(c)?;
        if new_address {
            diesel::update(stays::table.find(row.id))
                .set(stays::confirmed_at.eq(None::<NaiveDateTime>))
                .execute(c)?;
            queue_confirmation(c, row.id, &stay, now)?;
        }
        store_travellers(c, row.id, &stay.travellers)?;
        Ok::<_, AppError>(())
    })?;
    let row = find(conn, row.id)?.ok_or_else(|| AppError::not_found("the registration is gone"))?;
    Ok(views(conn, vec![row])?.remove(0))
}

/// Deletes the stay and its travellers; its messages still queued are withdrawn when their
/// turn comes.
pub fn delete(conn: &mut DbConn, key: &StayKey, id: i64, sig: &str) -> Result<(), AppError> {
    let row = held(conn, key, Purpose::Manage, id, sig)?;
    write_transaction(conn, |c| {
        diesel::delete(stay_travellers::table.filter(stay_travellers::stay_id.eq(row.id))).execute(c)?;
        diesel::delete(stays::table.find(row.id)).execute(c)?;
        Ok(())
    })
}

/// Stops the newsletter (RFC 8058 one-click); emergency messages go on.
pub fn unsubscribe(
    conn: &mut DbConn,
    key: &StayKey,
    id: i64,
    sig: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let row = held(conn, key, Purpose::Unsubscribe, id, sig)?;
    diesel::update(stays::table.find(row.id))
        .set((stays::newsletter.eq(false), stays::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Whether the stay still gets the newsletter, for the holder of its unsubscribe link (the
/// page behind the link says so before its button); the same 404 as [`unsubscribe`].
pub fn gets_newsletter(conn: &mut DbConn, key: &StayKey, id: i64, sig: &str) -> Result<bool, AppError> {
    Ok(held(conn, key, Purpose::Unsubscribe, id, sig)?.newsletter)
}

/// What a message about a stay needs when it is sent; `None` once the stay is deleted.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub id: i64,
    pub email: String,
    pub confirmed: bool,
    pub emergency_messages: bool,
    pub newsletter: bool,
    pub arrives: NaiveDate,
    pub departs: NaiveDate,
    pub district: String,
    pub travellers: Vec<String>,
}

pub fn recipient(conn: &mut DbConn, id: i64) -> QueryResult<Option<Recipient>> {
    let Some(row) = find(conn, id)? else { return Ok(None) };
    let travellers = travellers_of(conn, &[id])?
        .into_iter()
        .map(|(_, p)| format!("{} {}", p.given_names, p.surname))
        .collect();
    Ok(Some(Recipient {
        id,
        email: row.email,
        confirmed: row.confirmed_at.is_some(),
        emergency_messages: row.emergency_messages,
        newsletter: row.newsletter,
        arrives: row.arrives,
        departs: row.departs,
        district: row.district,
        travellers,
    }))
}

/// A page of `district`'s stays for staff: those present on `on` (all current and future ones
/// without it), by arrival. Each stay read is recorded in the audit trail, in the same
/// transaction. 422 for a district that is no post, 403 for staff of another post.
pub fn list_for_staff(
    conn: &mut DbConn,
    actor: &Actor,
    district: &str,
    on: Option<NaiveDate>,
    page: i64,
    now: NaiveDateTime,
) -> Result<Vec<StayView>, AppError> {
    let district = district.trim().to_uppercase();
    let known: i64 = posts::table.filter(posts::code.eq(&district)).count().get_result(conn)?;
    if known == 0 {
        return Err(AppError::invalid_field("district", Rule::NotAPost));
    }
    actor.ensure_post(&district)?;
    let page = page.max(1);
    write_transaction(conn, |c| {
        let mut query = stays::table
            .filter(stays::district.eq(&district))
            .filter(stays::confirmed_at.is_not_null())
            .into_boxed();
        query = match on {
            Some(day) => query.filter(stays::arrives.le(day)).filter(stays::departs.ge(day)),
            None => query.filter(stays::departs.ge(now.date())),
        };
        let rows: Vec<StayRow> = query
            .order((stays::arrives, stays::id))
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
            .select(StayRow::as_select())
            .load(c)?;
        for row in &rows {
            let event = Event { post: Some(district.clone()), ..Event::new(Action::StayRead, row.id) };
            audit::record(c, actor, event, now)?;
        }
        Ok(views(c, rows)?)
    })
}

/// Deletes the stays over for `retention_days` and the registrations never confirmed within a
/// week; the audit trail gets the counts only. Returns them.
pub fn prune(conn: &mut DbConn, retention_days: u32, now: NaiveDateTime) -> QueryResult<(usize, usize)> {
    let ended_before = now.date() - Duration::days(i64::from(retention_days));
    let unconfirmed_before = now - Duration::days(UNCONFIRMED_DAYS);
    write_transaction(conn, |c| {
        let ended = stays::table.filter(stays::departs.lt(ended_before)).select(stays::id);
        let unconfirmed = stays::table
            .filter(stays::confirmed_at.is_null())
            .filter(stays::created_at.lt(unconfirmed_before))
            .select(stays::id);
        diesel::delete(stay_travellers::table.filter(stay_travellers::stay_id.eq_any(ended))).execute(c)?;
        diesel::delete(stay_travellers::table.filter(stay_travellers::stay_id.eq_any(unconfirmed)))
            .execute(c)?;
        let over = diesel::delete(stays::table.filter(stays::departs.lt(ended_before))).execute(c)?;
        let never = diesel::delete(
            stays::table
                .filter(stays::confirmed_at.is_null())
                .filter(stays::created_at.lt(unconfirmed_before)),
        )
        .execute(c)?;
        if over + never > 0 {
            let event = Event {
                change: serde_json::json!({"ended": over, "unconfirmed": never, "retention_days": retention_days}),
                ..Event::unnamed(Action::StaysPruned)
            };
            audit::record(c, &Actor::System, event, now)?;
        }
        Ok((over, never))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).expect("date")
    }

    fn places() -> Places {
        Places {
            posts: vec!["MEX".into(), "GDL".into(), "NOG".into(), "HMO".into()],
            states: vec![("JAL".into(), "GDL".into()), ("SON".into(), "HMO".into())],
        }
    }

    fn input() -> StayInput {
        StayInput {
            travellers: vec![PersonInput {
                given_names: "Ana".into(),
                surname: "López".into(),
                date_of_birth: None,
            }],
            email: "ana@example.com".into(),
            phone: None,
            arrives: today(),
            departs: today() + Duration::days(10),
            district: None,
            state: Some("jal".into()),
            emergency_messages: true,
            newsletter: false,
            language: None,
        }
    }

    fn rules(input: &StayInput) -> Vec<(String, &'static str)> {
        match check(input, today(), &places()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| (e.field.clone(), e.rule.code())).collect(),
        }
    }

    #[test]
    fn a_state_names_its_district_and_a_named_district_wins() {
        let stay = check(&input(), today(), &places()).expect("valid");
        assert_eq!((stay.district.as_str(), stay.state.as_deref()), ("GDL", Some("JAL")));
        let north = StayInput { state: Some("SON".into()), district: Some("nog".into()), ..input() };
        assert_eq!(check(&north, today(), &places()).expect("valid").district, "NOG");
    }

    #[test]
    fn a_stay_names_a_place_someone_and_something_wanted() {
        let nowhere = StayInput { state: None, ..input() };
        assert_eq!(rules(&nowhere), vec![("district".to_string(), "district_or_state")]);
        let unknown = StayInput { state: Some("XX".into()), ..input() };
        assert_eq!(rules(&unknown), vec![("state".to_string(), "not_a_state")]);
        let nobody = StayInput { travellers: Vec::new(), ..input() };
        assert_eq!(rules(&nobody), vec![("travellers".to_string(), "traveller_count")]);
        let nothing = StayInput { emergency_messages: false, ..input() };
        assert_eq!(rules(&nothing), vec![("emergency_messages".to_string(), "nothing_asked")]);
    }

    #[test]
    fn dates_run_forward_from_today_for_at_most_two_years() {
        let backwards = StayInput { departs: today() - Duration::days(1), ..input() };
        assert_eq!(rules(&backwards), vec![("departs".to_string(), "before_from")]);
        let over = StayInput {
            arrives: today() - Duration::days(30),
            departs: today() - Duration::days(1),
            ..input()
        };
        assert_eq!(rules(&over), vec![("departs".to_string(), "in_the_past")]);
        let long = StayInput { departs: today() + Duration::days(MAX_STAY_DAYS + 1), ..input() };
        assert_eq!(rules(&long), vec![("departs".to_string(), "stay_too_long")]);
    }

    #[test]
    fn invisible_characters_in_a_name_are_refused() {
        let mut hidden = input();
        hidden.travellers[0].surname = "Ló\u{200B}pez".into();
        assert_eq!(rules(&hidden), vec![("travellers[0].surname".to_string(), "invisible_characters")]);
    }
}
