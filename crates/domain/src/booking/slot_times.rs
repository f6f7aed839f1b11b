//! Where slots fall: weekly opening hours turned into UTC slot instants on a post-local day.
//! Pure rules over [`crate::calendar`].

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday,
};
use chrono_tz::Tz;

/// One weekly opening: on `weekday`, slots of `slot_minutes` from `opens` until `closes`, each
/// with `capacity` seats (the windows open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub weekday: Weekday,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub slot_minutes: u32,
    pub capacity: u32,
}

/// A slot to materialize, in UTC, with the post-local date it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotTime {
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub local_date: NaiveDate,
    pub capacity: u32,
}

/// The slots of `date` (a post-local date) under `openings`.
///
/// A local start time that doesn't exist (spring forward: no 02:30) yields no slot; one that
/// exists twice (fall back: two 01:30s) yields two, since they are different instants.
pub fn slots_on(date: NaiveDate, tz: Tz, openings: &[Opening]) -> Vec<SlotTime> {
    let mut slots = Vec::new();
    for opening in openings.iter().filter(|o| o.weekday == date.weekday()) {
        if opening.slot_minutes == 0 {
            continue;
        }
        let step = Duration::minutes(i64::from(opening.slot_minutes));
        let mut local = date.and_time(opening.opens);
        let close = date.and_time(opening.closes);
        while local + step <= close {
            let instants: Vec<DateTime<Tz>> = match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => vec![t],
                LocalResult::Ambiguous(first, second) => vec![first, second],
                LocalResult::None => Vec::new(),
            };
            for start in instants {
                let starts_at = start.naive_utc();
                slots.push(SlotTime {
                    starts_at,
                    ends_at: starts_at + step,
                    local_date: date,
                    capacity: opening.capacity,
                });
            }
            local += step;
        }
    }
    slots.sort_by_key(|s| s.starts_at);
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::rfc3339;
    use crate::calendar::tests::{d, t, tz};

    fn all_day(weekday: Weekday) -> Vec<Opening> {
        vec![Opening { weekday, opens: t(0, 0), closes: t(4, 0), slot_minutes: 30, capacity: 1 }]
    }

    #[test]
    fn office_hours_follow_the_post_zone() {
        let openings = vec![Opening {
            weekday: Weekday::Tue,
            opens: t(8, 0),
            closes: t(9, 0),
            slot_minutes: 20,
            capacity: 3,
        }];
        let slots = slots_on(d(2026, 12, 1), tz("America/Mexico_City"), &openings);
        assert_eq!(slots.len(), 3);
        assert_eq!(rfc3339(slots[0].starts_at, tz("America/Mexico_City")), "2026-12-01T08:00:00-06:00");
        assert_eq!(slots[0].starts_at, d(2026, 12, 1).and_time(t(14, 0)));
        assert_eq!(slots[2].ends_at, d(2026, 12, 1).and_time(t(15, 0)));
        assert!(slots_on(d(2026, 12, 2), tz("America/Mexico_City"), &openings).is_empty());
    }

    #[test]
    fn spring_forward_has_no_two_thirty_in_tijuana() {
        // 2027-03-14 is the second Sunday of March: 02:00 PST jumps to 03:00 PDT.
        let slots = slots_on(d(2027, 3, 14), tz("America/Tijuana"), &all_day(Weekday::Sun));
        let local: Vec<String> = slots.iter().map(|s| rfc3339(s.starts_at, tz("America/Tijuana"))).collect();
        assert_eq!(local.len(), 6, "{local:?}");
        assert!(local.contains(&"2027-03-14T01:30:00-08:00".to_string()));
        assert!(!local.iter().any(|l| l.contains("T02:")), "{local:?}");
        assert!(local.contains(&"2027-03-14T03:00:00-07:00".to_string()));
    }

    #[test]
    fn fall_back_has_two_one_thirties_in_matamoros() {
        // 2026-11-01, first Sunday of November: 02:00 CDT falls back to 01:00 CST.
        let zone = tz("America/Matamoros");
        let slots = slots_on(d(2026, 11, 1), zone, &all_day(Weekday::Sun));
        let local: Vec<String> = slots.iter().map(|s| rfc3339(s.starts_at, zone)).collect();
        assert_eq!(local.len(), 10, "{local:?}");
        assert!(local.contains(&"2026-11-01T01:30:00-05:00".to_string()));
        assert!(local.contains(&"2026-11-01T01:30:00-06:00".to_string()));
        let mut starts: Vec<_> = slots.iter().map(|s| s.starts_at).collect();
        starts.dedup();
        assert_eq!(starts.len(), 10, "every slot is a distinct instant");
    }

    #[test]
    fn ciudad_juarez_changes_but_mexico_city_no_longer_does() {
        let openings = |weekday| {
            vec![Opening { weekday, opens: t(9, 0), closes: t(9, 30), slot_minutes: 30, capacity: 1 }]
        };
        let utc_hour = |zone: &str, date: NaiveDate| {
            use chrono::Timelike;
            slots_on(date, tz(zone), &openings(date.weekday()))[0].starts_at.hour()
        };
        // Ciudad Juárez: MST (-7) in winter, MDT (-6) after 2027-03-14.
        assert_eq!(utc_hour("America/Ciudad_Juarez", d(2027, 3, 12)), 16);
        assert_eq!(utc_hour("America/Ciudad_Juarez", d(2027, 3, 15)), 15);
        // Mexico City: -6 all year, also after the first Sunday of April, its old change day.
        assert_eq!(utc_hour("America/Mexico_City", d(2027, 4, 2)), 15);
        assert_eq!(utc_hour("America/Mexico_City", d(2027, 4, 5)), 15);
        assert_eq!(utc_hour("America/Mexico_City", d(2027, 7, 1)), 15);
        // Hermosillo (and Nogales) never change: -7.
        assert_eq!(utc_hour("America/Hermosillo", d(2027, 7, 1)), 16);
    }
}
