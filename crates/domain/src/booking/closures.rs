//! Closures: holidays and ad-hoc closed days or half-days of a post. A closure hides the
//! slots it covers from booking; appointments already there are kept and listed so staff can
//! offer another time. Nothing is deleted.

use crate::mail::{notices, Kind};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Action, Event};
use crate::auth::{Actor, StaffMember};
use crate::booking::availability_cache::AvailabilityCache;
use crate::booking::status::AppointmentStatus;
use crate::calendar;
use crate::db::schema::{appointments, closures, slots};
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, FieldError};
use crate::rule::Rule;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ClosureRequest {
    /// The post-local date, `YYYY-MM-DD`, today or later.
    #[schema(schema_with = crate::field_schemas::plausible_date)]
    pub date: NaiveDate,
    /// With `to`, closes part of the day (local `HH:MM`); without both, the whole day.
    #[schema(schema_with = crate::field_schemas::optional_clock_time)]
    pub from: Option<String>,
    #[schema(schema_with = crate::field_schemas::optional_clock_time)]
    pub to: Option<String>,
    /// Shown to staff, e.g. "Thanksgiving Day" or "power cut".
    #[schema(schema_with = crate::field_schemas::reason)]
    pub reason: String,
}

/// A checked closure. Pure rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClosure {
    pub date: NaiveDate,
    pub part: Option<(NaiveTime, NaiveTime)>,
    pub reason: String,
}

impl NewClosure {
    pub fn parse(req: &ClosureRequest, today: NaiveDate) -> Result<NewClosure, AppError> {
        let mut errors = Vec::new();
        let time = |field: &str, v: &Option<String>, errors: &mut Vec<FieldError>| {
            v.as_deref().and_then(|t| {
                let time = calendar::clock_time(t);
                if time.is_none() {
                    errors.push(FieldError::new(field, Rule::NotAClockTime));
                }
                time
            })
        };
        let from = time("from", &req.from, &mut errors);
        let to = time("to", &req.to, &mut errors);
        let part = match (&req.from, &req.to, from, to) {
            (None, None, _, _) => None,
            (Some(_), Some(_), Some(f), Some(t)) if f < t => Some((f, t)),
            (Some(_), Some(_), Some(_), Some(_)) => {
                errors.push(FieldError::new("to", Rule::AfterFrom));
                None
            }
            (Some(_), None, _, _) | (None, Some(_), _, _) => {
                errors.push(FieldError::new("from", Rule::BothOrNeither));
                None
            }
            _ => None,
        };
        let reason = crate::booking::free_text("reason", &req.reason, 200).map_err(|e| errors.push(e)).ok();
        if req.date < today {
            errors.push(FieldError::new("date", Rule::InThePast));
        } else if let Err(e) = calendar::plausible("date", req.date) {
            errors.push(e);
        }
        match reason {
            Some(reason) if errors.is_empty() => Ok(NewClosure { date: req.date, part, reason }),
            _ => Err(AppError::invalid(errors)),
        }
    }

    /// The UTC interval the closure covers in `tz`.
    pub fn bounds(&self, tz: Tz) -> (NaiveDateTime, NaiveDateTime) {
        match self.part {
            None => calendar::day_bounds(self.date, tz),
            Some((from, to)) => {
                (calendar::local_to_utc(self.date, from, tz), calendar::local_to_utc(self.date, to, tz))
            }
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedAppointment {
    pub reference: String,
    pub service: String,
    pub starts_at: String,
    pub party_size: i32,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosureView {
    pub id: i64,
    pub post: String,
    pub date: NaiveDate,
    pub from: Option<String>,
    pub to: Option<String>,
    pub starts_at: String,
    pub ends_at: String,
    pub reason: String,
    /// Booked appointments inside the closure, kept, to be offered another time.
    pub to_rebook: Vec<AffectedAppointment>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = closures)]
struct ClosureRow {
    id: i64,
    post_code: String,
    local_date: NaiveDate,
    from_local: Option<NaiveTime>,
    to_local: Option<NaiveTime>,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    reason: String,
}

fn affected(
    conn: &mut DbConn,
    post: &str,
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    tz: Tz,
) -> QueryResult<Vec<AffectedAppointment>> {
    let rows: Vec<(String, String, NaiveDateTime, i32, Option<String>)> = appointments::table
        .inner_join(slots::table)
        .filter(appointments::post_code.eq(post))
        .filter(appointments::status.eq(AppointmentStatus::Booked.as_str()))
        .filter(slots::starts_at.lt(ends))
        .filter(slots::ends_at.gt(starts))
        .order(appointments::starts_at)
        .select((
            appointments::reference,
            appointments::service_code,
            appointments::starts_at,
            appointments::party_size,
            appointments::phone,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(reference, service, starts_at, party_size, phone)| AffectedAppointment {
            reference,
            service,
            starts_at: calendar::rfc3339(starts_at, tz),
            party_size,
            phone,
        })
        .collect())
}

fn to_view(conn: &mut DbConn, row: ClosureRow, tz: Tz) -> QueryResult<ClosureView> {
    let ClosureRow {
        id,
        post_code: post,
        local_date: date,
        from_local: from,
        to_local: to,
        starts_at,
        ends_at,
        reason,
    } = row;
    let to_rebook = affected(conn, &post, starts_at, ends_at, tz)?;
    Ok(ClosureView {
        id,
        post,
        date,
        from: from.map(|t| t.format("%H:%M").to_string()),
        to: to.map(|t| t.format("%H:%M").to_string()),
        starts_at: calendar::rfc3339(starts_at, tz),
        ends_at: calendar::rfc3339(ends_at, tz),
        reason,
        to_rebook,
    })
}

/// Closes part of a post's calendar on behalf of `actor` (403 outside its post).
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    tz: Tz,
    closure: &NewClosure,
    now: NaiveDateTime,
) -> Result<ClosureView, AppError> {
    actor.ensure_post(post)?;
    let staff_id = actor.id();
    let (starts, ends) = closure.bounds(tz);
    if starts >= ends {
        return Err(AppError::invalid_field("from", Rule::HoursDontExist));
    }
    write_transaction(conn, |c| {
        let id: i64 = diesel::insert_into(closures::table)
            .values((
                closures::post_code.eq(post),
                closures::local_date.eq(closure.date),
                closures::from_local.eq(closure.part.map(|p| p.0)),
                closures::to_local.eq(closure.part.map(|p| p.1)),
                closures::starts_at.eq(starts),
                closures::ends_at.eq(ends),
                closures::reason.eq(&closure.reason),
                closures::created_by_staff_id.eq(staff_id),
                closures::created_at.eq(now),
            ))
            .returning(closures::id)
            .get_result(c)?;
        // Lock the slots the closure covers: a booking in flight on one of them either
        // commits first (and is listed below) or waits and then sees the closure.
        diesel::update(
            slots::table
                .filter(slots::post_code.eq(post))
                .filter(slots::starts_at.lt(ends))
                .filter(slots::ends_at.gt(starts)),
        )
        .set(slots::booked.eq(slots::booked))
        .execute(c)?;
        let row: ClosureRow = closures::table.find(id).select(ClosureRow::as_select()).first(c)?;
        let view = to_view(c, row, tz)?;
        let event = Event::new(Action::ClosureCreated, id).at_post(Some(post)).with(json!({
            "date": closure.date,
            "from": view.from,
            "to": view.to,
            "to_rebook": view.to_rebook,
        }));
        audit::record(c, actor, event, now)?;
        // Each person whose appointment falls in the closure is asked to choose another time.
        for displaced in &view.to_rebook {
            notices::appointment(c, Kind::AppointmentDisplaced, &displaced.reference, now)?;
        }
        Ok(view)
    })
}

/// Closures of a post touching local dates `from..=to` (403 outside `actor`'s post).
pub fn list(
    conn: &mut DbConn,
    actor: &StaffMember,
    post: &str,
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ClosureView>, AppError> {
    actor.ensure_post(post)?;
    let rows: Vec<ClosureRow> = closures::table
        .filter(closures::post_code.eq(post))
        .filter(closures::local_date.between(from, to))
        .order(closures::starts_at)
        .select(ClosureRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|row| to_view(conn, row, tz)).collect::<QueryResult<_>>()?)
}

/// Reopens what a closure covered (unless another closure still covers it).
pub fn delete(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    actor.ensure_post(post)?;
    write_transaction(conn, |c| {
        let deleted =
            diesel::delete(closures::table.find(id).filter(closures::post_code.eq(post))).execute(c)?;
        if deleted == 0 {
            return Err(AppError::not_found("no such closure at this post"));
        }
        audit::record(c, actor, Event::new(Action::ClosureDeleted, id).at_post(Some(post)), now)?;
        Ok(())
    })
}

/// Closes (part of) a post's day as `actor`, as the API and the admins' page both do: the
/// request is read against the post's local today, and this instance's cached availability of
/// the post is dropped.
pub async fn close(
    pool: &crate::db::Pool,
    availability: &AvailabilityCache,
    now: NaiveDateTime,
    actor: Actor,
    post: String,
    request: ClosureRequest,
) -> Result<ClosureView, AppError> {
    let (view, post) = crate::db::run(pool, move |conn| {
        let tz = crate::calendar::post_zone(conn, &post)?;
        let closure = NewClosure::parse(&request, crate::calendar::local_date(now, tz))?;
        Ok((create(conn, &actor, &post, tz, &closure, now)?, post))
    })
    .await?;
    availability.invalidate(&post);
    Ok(view)
}

/// Removes a closure as `actor`, as the API and the admins' page both do; its slots are offered
/// again (unless another closure covers them) and this instance's cached availability of the
/// post is dropped.
pub async fn reopen(
    pool: &crate::db::Pool,
    availability: &Arc<AvailabilityCache>,
    now: NaiveDateTime,
    actor: Actor,
    post: String,
    id: i64,
) -> Result<(), AppError> {
    let cache = availability.clone();
    crate::db::run(pool, move |conn| delete(conn, &actor, &post, id, now).map(|()| cache.invalidate(&post)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(date: (i32, u32, u32), from: Option<&str>, to: Option<&str>) -> ClosureRequest {
        ClosureRequest {
            date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).expect("date"),
            from: from.map(String::from),
            to: to.map(String::from),
            reason: "Día de la Revolución".into(),
        }
    }
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    #[test]
    fn whole_and_half_days() {
        let whole = NewClosure::parse(&req((2026, 12, 25), None, None), today()).expect("valid");
        let tz: Tz = "America/Mexico_City".parse().expect("zone");
        let (s, e) = whole.bounds(tz);
        assert_eq!(calendar::rfc3339(s, tz), "2026-12-25T00:00:00-06:00");
        assert_eq!(calendar::rfc3339(e, tz), "2026-12-26T00:00:00-06:00");
        let half =
            NewClosure::parse(&req((2026, 12, 24), Some("12:00"), Some("17:00")), today()).expect("valid");
        let (s, e) = half.bounds(tz);
        assert_eq!(
            (calendar::rfc3339(s, tz), calendar::rfc3339(e, tz)),
            ("2026-12-24T12:00:00-06:00".into(), "2026-12-24T17:00:00-06:00".into())
        );
    }

    #[test]
    fn bad_closures_are_refused() {
        assert!(NewClosure::parse(&req((2026, 11, 1), None, None), today()).is_err());
        assert!(NewClosure::parse(&req((2026, 12, 24), Some("12:00"), None), today()).is_err());
        assert!(NewClosure::parse(&req((2026, 12, 24), Some("15:00"), Some("12:00")), today()).is_err());
        assert!(NewClosure::parse(&req((2026, 12, 24), Some("noon"), Some("15:00")), today()).is_err());
    }
}
