//! Reference data: posts, services, the fee schedule.

pub mod seed;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{fee_schedule, fee_withdrawals, mexican_states, posts, services};
use crate::db::{is_unique_violation, DbConn};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub code: String,
    pub name: String,
    pub city: String,
    pub kind: String,
    pub timezone: String,
    pub emergency_phone: String,
    pub created_at: NaiveDateTime,
    pub address: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub form: Option<String>,
    pub duration_minutes: i32,
    pub max_party_size: i32,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = fee_schedule)]
pub struct Fee {
    pub id: i64,
    pub code: String,
    pub description: String,
    pub cfr_item: String,
    pub amount_cents: i64,
    pub currency: String,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
}

impl Fee {
    /// In force on `date`: from `effective_from` (inclusive) to `effective_until` (exclusive).
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_until.is_none_or(|until| date < until)
    }
}

/// A post code as people type it (`mex`, ` MEX `), the way every lookup compares it.
pub fn normalise_post(raw: &str) -> String {
    raw.trim().to_ascii_uppercase()
}

/// The post code `raw` is (exactly three letters, any case), upper-cased.
pub fn post_code(raw: &str) -> Option<String> {
    (raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic())).then(|| raw.to_ascii_uppercase())
}

/// The version of each fee in force on `date`, one per code, ordered by code. When versions
/// overlap, the one that took effect last wins. Pure rule.
pub fn fees_in_force(mut versions: Vec<Fee>, date: NaiveDate) -> Vec<Fee> {
    versions.retain(|f| f.in_force_on(date));
    versions.sort_by(|a, b| a.code.cmp(&b.code).then(b.effective_from.cmp(&a.effective_from)));
    versions.dedup_by(|later, kept| later.code == kept.code);
    versions
}

/// Adds whatever reference rows are missing; safe to run at every start and from two instances
/// at once (a row another instance inserted first is a unique violation, and is fine).
pub fn seed(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let mut added = 0;
    for p in seed::POSTS {
        added += ignore_existing(
            diesel::insert_into(posts::table)
                .values((
                    posts::code.eq(p.code),
                    posts::name.eq(p.name),
                    posts::city.eq(p.city),
                    posts::kind.eq(p.kind),
                    posts::timezone.eq(p.timezone),
                    posts::emergency_phone.eq(seed::EMERGENCY_PHONE),
                    posts::created_at.eq(now),
                    posts::address.eq(p.address),
                ))
                .execute(conn),
        )?;
        // Posts seeded before addresses existed get theirs; one an admin set is kept.
        diesel::update(posts::table.find(p.code).filter(posts::address.eq("")))
            .set(posts::address.eq(p.address))
            .execute(conn)?;
    }
    for s in seed::SERVICES {
        added += ignore_existing(
            diesel::insert_into(services::table)
                .values((
                    services::code.eq(s.code),
                    services::name.eq(s.name),
                    services::form.eq(s.form),
                    services::duration_minutes.eq(s.duration_minutes),
                    services::max_party_size.eq(s.max_party_size),
                    services::description.eq(s.description),
                ))
                .execute(conn),
        )?;
    }
    for (code, name, post) in seed::MEXICAN_STATES {
        added += ignore_existing(
            diesel::insert_into(mexican_states::table)
                .values((
                    mexican_states::code.eq(code),
                    mexican_states::name.eq(name),
                    mexican_states::post_code.eq(post),
                ))
                .execute(conn),
        )?;
    }
    let (y, m, d) = seed::FEES_EFFECTIVE_FROM;
    let effective_from = NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| diesel::result::Error::QueryBuilderError("bad seed date".into()))?;
    for f in seed::FEES {
        added += ignore_existing(
            diesel::insert_into(fee_schedule::table)
                .values((
                    fee_schedule::code.eq(f.code),
                    fee_schedule::description.eq(f.description),
                    fee_schedule::cfr_item.eq(f.cfr_item),
                    fee_schedule::amount_cents.eq(f.amount_cents),
                    fee_schedule::currency.eq(seed::FEES_CURRENCY),
                    fee_schedule::effective_from.eq(effective_from),
                ))
                .execute(conn),
        )?;
    }
    Ok(added)
}

fn ignore_existing(result: QueryResult<usize>) -> QueryResult<usize> {
    match result {
        Err(e) if is_unique_violation(&e) => Ok(0),
        other => other,
    }
}

pub fn list_posts(conn: &mut DbConn) -> QueryResult<Vec<Post>> {
    posts::table.order(posts::code).select(Post::as_select()).load(conn)
}

pub fn list_services(conn: &mut DbConn) -> QueryResult<Vec<Service>> {
    services::table.order(services::code).select(Service::as_select()).load(conn)
}

/// The fees in force on `date`; withdrawn versions never were.
pub fn fees_on(conn: &mut DbConn, date: NaiveDate) -> QueryResult<Vec<Fee>> {
    let versions = fee_schedule::table
        .filter(fee_schedule::effective_from.le(date))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            fee_withdrawals::table.filter(fee_withdrawals::fee_version_id.eq(fee_schedule::id)),
        )))
        .select(Fee::as_select())
        .load(conn)?;
    Ok(fees_in_force(versions, date))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(code: &str, cents: i64, from: (i32, u32, u32), until: Option<(i32, u32, u32)>) -> Fee {
        let date = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        Fee {
            id: 0,
            code: code.into(),
            description: String::new(),
            cfr_item: String::new(),
            amount_cents: cents,
            currency: "USD".into(),
            effective_from: date(from),
            effective_until: until.map(date),
        }
    }

    fn on(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_receipt_charges_the_version_in_force_on_its_date() {
        let versions = vec![
            fee("passport-book-adult", 3_000, (2010, 7, 13), Some((2021, 12, 27))),
            fee("passport-book-adult", 5_000, (2021, 12, 27), None),
        ];
        assert_eq!(fees_in_force(versions.clone(), on(2021, 12, 26))[0].amount_cents, 3_000);
        assert_eq!(fees_in_force(versions.clone(), on(2021, 12, 27))[0].amount_cents, 5_000);
        assert_eq!(fees_in_force(versions, on(2026, 11, 27)).len(), 1);
    }

    #[test]
    fn fees_not_yet_in_force_or_ended_are_left_out() {
        let versions = vec![
            fee("crba", 10_000, (2030, 1, 1), None),
            fee("authentication", 5_000, (2020, 1, 1), Some((2021, 1, 1))),
        ];
        assert!(fees_in_force(versions, on(2026, 11, 27)).is_empty());
    }

    #[test]
    fn seed_data_is_consistent() {
        assert_eq!(seed::POSTS.len(), 10);
        assert_eq!(seed::SERVICES.len(), 5);
        for p in seed::POSTS {
            assert!(p.timezone.parse::<chrono_tz::Tz>().is_ok(), "{} has a bad zone", p.code);
        }
        let amount = |code: &str| seed::FEES.iter().find(|f| f.code == code).map(|f| f.amount_cents);
        // An adult book is 130 USD: item 2(a) plus the 2(g) surcharge; a minor book 100.
        assert_eq!(
            amount("passport-book-adult").zip(amount("passport-book-security-surcharge")).map(|(a, b)| a + b),
            Some(13_000)
        );
        assert_eq!(
            amount("passport-book-minor").zip(amount("passport-book-security-surcharge")).map(|(a, b)| a + b),
            Some(10_000)
        );
    }
}
