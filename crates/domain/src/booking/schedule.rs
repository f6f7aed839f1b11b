//! Weekly schedules per post and service: the defaults a fresh install starts with, reading
//! them, and an admin replacing one (which re-fits the slots already generated).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::{Actor, StaffMember};
use crate::booking::availability_cache::AvailabilityCache;
use crate::booking::slot_times::{self, Opening};
use crate::booking::slots::{self, Slot};
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::db::schema::{appointments, schedules, services, slot_horizons, slots as slots_t};
use crate::db::{is_unique_violation, write_transaction, DbConn};
use crate::error::{AppError, FieldError};
use crate::rule::Rule;

/// One line of the default week.
struct DefaultOpening {
    service: &'static str,
    opens: (u32, u32),
    closes: (u32, u32),
    slot_minutes: u32,
    windows: u32,
}

/// The default week, Monday to Friday: mornings for passports and notarials, early afternoon
/// for corrections and CRBAs.
const DEFAULT_DAY: &[DefaultOpening] = &[
    DefaultOpening { service: "notarial", opens: (8, 0), closes: (12, 0), slot_minutes: 20, windows: 2 },
    DefaultOpening { service: "passport-new", opens: (8, 0), closes: (12, 0), slot_minutes: 30, windows: 3 },
    DefaultOpening {
        service: "passport-renewal",
        opens: (8, 0),
        closes: (12, 0),
        slot_minutes: 20,
        windows: 2,
    },
    DefaultOpening {
        service: "passport-correction",
        opens: (12, 0),
        closes: (13, 0),
        slot_minutes: 20,
        windows: 1,
    },
    DefaultOpening { service: "crba", opens: (13, 0), closes: (15, 15), slot_minutes: 45, windows: 1 },
];

const WORKDAYS: [Weekday; 5] = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];

/// "Nothing generated yet": any date before the first deployment will do, since the
/// generator starts from the post's today at the earliest. (Not `NaiveDate::MIN`, which is
/// outside PostgreSQL's date range.)
pub fn never() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// One opening as the admin API reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpeningSpec {
    /// ISO weekdays, 1 = Monday … 7 = Sunday, each at most once.
    #[serde(deserialize_with = "crate::wire::u8_list_whole")]
    #[schema(schema_with = crate::field_schemas::weekdays)]
    pub weekdays: Vec<u8>,
    /// Local opening time, `HH:MM`.
    #[schema(schema_with = crate::field_schemas::clock_time)]
    pub opens: String,
    /// Local closing time, `HH:MM`, after `opens`; the last slot ends by then.
    #[schema(schema_with = crate::field_schemas::clock_time)]
    pub closes: String,
    #[serde(deserialize_with = "crate::wire::u32_whole")]
    #[schema(minimum = 5, maximum = 240)]
    pub slot_minutes: u32,
    /// Windows open: how many people each slot can take.
    #[serde(deserialize_with = "crate::wire::u32_whole")]
    #[schema(minimum = 1, maximum = 50)]
    pub capacity: u32,
}

/// The most openings one week may have (a post open 7 days with several intervals a day).
pub const MAX_OPENINGS: usize = 28;

/// Checks an admin's openings; all problems at once, each naming its field. Pure rule.
/// Sizes are checked first, so an absurd request costs nothing to refuse.
pub fn parse_openings(specs: &[OpeningSpec]) -> Result<Vec<Opening>, AppError> {
    if specs.len() > MAX_OPENINGS {
        return Err(AppError::invalid_field("openings", Rule::TooManyOpenings { max: MAX_OPENINGS }));
    }
    let mut errors = Vec::new();
    let mut openings = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let field = |name: &str| format!("openings[{i}].{name}");
        let opens = calendar::clock_time(&spec.opens);
        if opens.is_none() {
            errors.push(FieldError::new(field("opens"), Rule::NotAClockTime));
        }
        let closes = calendar::clock_time(&spec.closes);
        if closes.is_none() {
            errors.push(FieldError::new(field("closes"), Rule::NotAClockTime));
        }
        if let (Some(o), Some(c)) = (opens, closes) {
            if o >= c {
                errors.push(FieldError::new(field("closes"), Rule::ClosesAfterOpens));
            }
        }
        if !(5..=240).contains(&spec.slot_minutes) {
            errors.push(FieldError::new(field("slot_minutes"), Rule::Between { min: 5, max: 240 }));
        }
        if !(1..=50).contains(&spec.capacity) {
            errors.push(FieldError::new(field("capacity"), Rule::Between { min: 1, max: 50 }));
        }
        if spec.weekdays.is_empty() {
            errors.push(FieldError::new(field("weekdays"), Rule::NoWeekday));
        }
        let mut distinct = spec.weekdays.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != spec.weekdays.len() {
            errors.push(FieldError::new(field("weekdays"), Rule::WeekdayTwice));
            continue;
        }
        let mut days = Vec::new();
        for &d in &spec.weekdays {
            match weekday(i32::from(d)) {
                Some(w) => days.push(w),
                None => errors.push(FieldError::new(field("weekdays"), Rule::NotAWeekday)),
            }
        }
        if let (Some(opens), Some(closes)) = (opens, closes) {
            for w in days {
                openings.push(Opening {
                    weekday: w,
                    opens,
                    closes,
                    slot_minutes: spec.slot_minutes,
                    capacity: spec.capacity,
                });
            }
        }
    }
    // Two openings of one day that overlap would make the same slot twice.
    for (i, a) in openings.iter().enumerate() {
        for b in &openings[i + 1..] {
            if a.weekday == b.weekday && a.opens < b.closes && b.opens < a.closes {
                errors.push(FieldError::new(
                    "openings",
                    Rule::OpeningsOverlap { weekday: a.weekday.number_from_monday() as u8 },
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(openings)
    } else {
        Err(AppError::invalid(errors))
    }
}

/// The API shape of stored openings: one entry per distinct interval, with its days.
pub fn describe(openings: &[Opening]) -> Vec<OpeningSpec> {
    let mut specs: Vec<OpeningSpec> = Vec::new();
    for o in openings {
        let opens = o.opens.format("%H:%M").to_string();
        let closes = o.closes.format("%H:%M").to_string();
        let day = o.weekday.number_from_monday() as u8;
        match specs.iter_mut().find(|s| {
            s.opens == opens
                && s.closes == closes
                && s.slot_minutes == o.slot_minutes
                && s.capacity == o.capacity
        }) {
            Some(s) => s.weekdays.push(day),
            None => specs.push(OpeningSpec {
                weekdays: vec![day],
                opens,
                closes,
                slot_minutes: o.slot_minutes,
                capacity: o.capacity,
            }),
        }
    }
    for s in &mut specs {
        s.weekdays.sort_unstable();
    }
    specs
}

fn weekday(iso: i32) -> Option<Weekday> {
    match iso {
        1 => Some(Weekday::Mon),
        2 => Some(Weekday::Tue),
        3 => Some(Weekday::Wed),
        4 => Some(Weekday::Thu),
        5 => Some(Weekday::Fri),
        6 => Some(Weekday::Sat),
        7 => Some(Weekday::Sun),
        _ => None,
    }
}

type ScheduleRow = (i32, NaiveTime, NaiveTime, i32, i32);

/// The openings of one post and service.
pub fn openings(conn: &mut DbConn, post: &str, service: &str) -> QueryResult<Vec<Opening>> {
    let rows: Vec<ScheduleRow> = schedules::table
        .filter(schedules::post_code.eq(post))
        .filter(schedules::service_code.eq(service))
        .order((schedules::weekday, schedules::opens_local))
        .select((
            schedules::weekday,
            schedules::opens_local,
            schedules::closes_local,
            schedules::slot_minutes,
            schedules::capacity,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(day, opens, closes, minutes, capacity)| {
            Some(Opening {
                weekday: weekday(day)?,
                opens,
                closes,
                slot_minutes: u32::try_from(minutes).ok()?,
                capacity: u32::try_from(capacity).ok()?,
            })
        })
        .collect())
}

fn insert_openings(conn: &mut DbConn, post: &str, service: &str, openings: &[Opening]) -> QueryResult<()> {
    for o in openings {
        diesel::insert_into(schedules::table)
            .values((
                schedules::post_code.eq(post),
                schedules::service_code.eq(service),
                schedules::weekday.eq(o.weekday.number_from_monday() as i32),
                schedules::opens_local.eq(o.opens),
                schedules::closes_local.eq(o.closes),
                schedules::slot_minutes.eq(o.slot_minutes as i32),
                schedules::capacity.eq(o.capacity as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Gives every post and service its default week, once. The horizon row is the marker: it is
/// written in the same transaction as the openings, so a second instance either sees both or
/// neither, and an admin who later empties a schedule doesn't get the defaults back.
pub fn seed_defaults(conn: &mut DbConn, post_codes: &[String]) -> QueryResult<usize> {
    let mut seeded = 0;
    for post in post_codes {
        for d in DEFAULT_DAY {
            let service = d.service;
            let (Some(opens), Some(closes)) = (
                NaiveTime::from_hms_opt(d.opens.0, d.opens.1, 0),
                NaiveTime::from_hms_opt(d.closes.0, d.closes.1, 0),
            ) else {
                continue;
            };
            let week: Vec<Opening> = WORKDAYS
                .iter()
                .map(|&weekday| Opening {
                    weekday,
                    opens,
                    closes,
                    slot_minutes: d.slot_minutes,
                    capacity: d.windows,
                })
                .collect();
            let result = write_transaction(conn, |c| {
                diesel::insert_into(slot_horizons::table)
                    .values((
                        slot_horizons::post_code.eq(post),
                        slot_horizons::service_code.eq(service),
                        slot_horizons::generated_through.eq(never()),
                    ))
                    .execute(c)?;
                insert_openings(c, post, service, &week)
            });
            match result {
                Ok(()) => seeded += 1,
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(seeded)
}

/// What replacing a schedule did to the slots already generated.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refit {
    pub slots_added: usize,
    pub slots_changed: usize,
    /// Future slots the new week no longer has: closed to new bookings, their bookings kept.
    pub slots_retired: usize,
    /// Appointments on retired slots, or on slots now offering fewer seats than are booked,
    /// to be offered another time.
    pub to_rebook: Vec<String>,
}

/// One service's week: its code and openings.
pub type ServiceWeek = (String, Vec<OpeningSpec>);

/// Every service's week at `post`, as `reader` may see it (403 outside its post, 404 for an
/// unknown post), with the post's zone.
pub fn weeks(
    conn: &mut DbConn,
    reader: &StaffMember,
    post: &str,
) -> Result<(chrono_tz::Tz, Vec<ServiceWeek>), AppError> {
    reader.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let codes: Vec<String> = services::table.order(services::code).select(services::code).load(conn)?;
    let mut weeks = Vec::new();
    for service in codes {
        let openings = describe(&openings(conn, post, &service)?);
        weeks.push((service, openings));
    }
    Ok((tz, weeks))
}

/// Replaces the week of one post and service and re-fits future slots to it, in one
/// transaction. Nothing booked is deleted: a slot the new week lacks keeps its bookings and
/// its capacity shrinks to what is booked.
pub fn replace(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    tz: chrono_tz::Tz,
    service: &str,
    new_week: &[Opening],
    now: NaiveDateTime,
) -> Result<Refit, AppError> {
    actor.ensure_post(post)?;
    write_transaction(conn, |c| {
        // Lock the horizon row first: a generator running now either finishes before us (and
        // we see its slots) or waits and then generates from the new week.
        diesel::update(slot_horizons::table.find((post, service)))
            .set(slot_horizons::generated_through.eq(slot_horizons::generated_through))
            .execute(c)?;
        diesel::delete(
            schedules::table
                .filter(schedules::post_code.eq(post))
                .filter(schedules::service_code.eq(service)),
        )
        .execute(c)?;
        insert_openings(c, post, service, new_week)?;

        let through: NaiveDate = slot_horizons::table
            .find((post, service))
            .select(slot_horizons::generated_through)
            .first::<NaiveDate>(c)
            .optional()?
            .unwrap_or_else(never);
        let today = calendar::local_date(now, tz);
        let mut wanted = Vec::new();
        let mut day = today;
        while day <= through {
            wanted.extend(slot_times::slots_on(day, tz, new_week).into_iter().filter(|s| s.starts_at > now));
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }

        let existing: Vec<Slot> = slots_t::table
            .filter(slots_t::post_code.eq(post))
            .filter(slots_t::service_code.eq(service))
            .filter(slots_t::starts_at.gt(now))
            .load(c)?;
        let mut refit = Refit { slots_added: 0, slots_changed: 0, slots_retired: 0, to_rebook: Vec::new() };
        // Slots whose bookings the new week can't seat: retired, or shrunk below `booked`.
        let mut displaced = Vec::new();
        for slot in &existing {
            match wanted.iter().find(|w| w.starts_at == slot.starts_at) {
                Some(w) if w.capacity as i32 == slot.offered && w.ends_at == slot.ends_at => {}
                Some(w) => {
                    slots::refit(c, slot.id, w.capacity as i32, w.ends_at)?;
                    refit.slots_changed += 1;
                    if slot.booked > w.capacity as i32 {
                        displaced.push(slot.id);
                    }
                }
                None => {
                    if slots::retire(c, slot.id)? {
                        refit.slots_retired += 1;
                    }
                    displaced.push(slot.id);
                }
            }
        }
        let fresh: Vec<_> =
            wanted.into_iter().filter(|w| !existing.iter().any(|s| s.starts_at == w.starts_at)).collect();
        refit.slots_added = slots::insert(c, post, service, &fresh)?;

        refit.to_rebook = appointments::table
            .filter(appointments::slot_id.eq_any(&displaced))
            .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
            .order(appointments::starts_at)
            .select(appointments::reference)
            .load(c)?;
        let event = Event::new(Action::ScheduleReplaced, format!("{post}/{service}"))
            .at_post(Some(post))
            .with(json!({
                "service": service,
                "openings": new_week.len(),
                "slots_added": refit.slots_added,
                "slots_changed": refit.slots_changed,
                "slots_retired": refit.slots_retired,
                "to_rebook": refit.to_rebook,
            }));
        audit::record(c, actor, event, now)?;
        Ok(refit)
    })
}

/// Replaces `service`'s week at `post` as `actor`, as the API and the admins' page both do:
/// the openings are checked first (all problems at once), the slots already generated are
/// re-fitted, and this instance's cached availability of the post is dropped. Returns the week
/// as stored and what the re-fit did.
pub async fn set_week(
    pool: &crate::db::Pool,
    availability: &AvailabilityCache,
    now: NaiveDateTime,
    actor: Actor,
    post: String,
    service: String,
    specs: &[OpeningSpec],
) -> Result<(Vec<OpeningSpec>, Refit), AppError> {
    let week = parse_openings(specs)?;
    let (post, refit, described) = crate::db::run(pool, move |conn| {
        let tz = calendar::post_zone(conn, &post)?;
        crate::booking::known_service(conn, &service)?;
        let refit = replace(conn, &actor, &post, tz, &service, &week, now)?;
        Ok((post, refit, describe(&week)))
    })
    .await?;
    availability.invalidate(&post);
    Ok((described, refit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(days: &[u8], opens: &str, closes: &str) -> OpeningSpec {
        OpeningSpec {
            weekdays: days.to_vec(),
            opens: opens.into(),
            closes: closes.into(),
            slot_minutes: 30,
            capacity: 2,
        }
    }

    #[test]
    fn openings_expand_per_weekday_and_describe_back() {
        let specs = vec![spec(&[1, 2, 3], "08:00", "12:00"), spec(&[6], "09:00", "11:00")];
        let openings = parse_openings(&specs).expect("valid");
        assert_eq!(openings.len(), 4);
        assert_eq!(describe(&openings), specs);
    }

    #[test]
    fn bad_openings_name_every_field() {
        let mut bad = spec(&[0, 8], "8am", "07:00");
        bad.capacity = 0;
        let err = parse_openings(&[bad]).expect_err("invalid");
        let fields: Vec<String> = err.problem().errors.into_iter().map(|e| e.field).collect();
        assert!(fields.contains(&"openings[0].opens".to_string()), "{fields:?}");
        assert!(fields.contains(&"openings[0].weekdays".to_string()));
        assert!(fields.contains(&"openings[0].capacity".to_string()));
    }

    #[test]
    fn overlapping_openings_are_refused() {
        let err = parse_openings(&[spec(&[1], "08:00", "12:00"), spec(&[1, 2], "11:00", "13:00")])
            .expect_err("overlap");
        assert_eq!(err.problem().errors[0].field, "openings");
        assert!(parse_openings(&[spec(&[1], "08:00", "12:00"), spec(&[1], "12:00", "13:00")]).is_ok());
    }

    #[test]
    fn repeated_weekdays_and_oversized_weeks_are_refused_at_once() {
        let err = parse_openings(&[spec(&[1, 1], "08:00", "12:00")]).expect_err("repeat");
        assert_eq!(err.problem().errors[0].rule, Rule::WeekdayTwice);
        let huge = spec(&vec![1; 100_000], "08:00", "12:00");
        assert!(parse_openings(&[huge]).is_err());
        let many = vec![spec(&[1], "08:00", "08:30"); MAX_OPENINGS + 1];
        assert!(parse_openings(&many).is_err());
    }
}
