//! The application's one clock. Every "now" the service decides on (a check-in's timing, a
//! receipt's date, a token's expiry, the day's closing) is read from here, so the tests can
//! fix the time (10:00 on a Tuesday in Mexico City) and pass whenever CI runs.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

/// The system clock, or one that was set to a moment and runs on from there in real time.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    System,
    /// `set` at `since` (a monotonic instant): now is `set` plus the real time gone by since.
    Set(Mutex<(DateTime<Utc>, Instant)>),
}

impl Clock {
    /// The machine's clock: what the service runs on.
    pub fn system() -> Clock {
        Clock(Arc::new(Source::System))
    }

    /// A clock that reads `start` now and runs on from there; [`Clock::set`] and
    /// [`Clock::advance`] move it.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock(Arc::new(Source::Set(Mutex::new((start, Instant::now())))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Source::System => Utc::now(),
            Source::Set(at) => {
                let (set, since) = *at.lock().unwrap_or_else(PoisonError::into_inner);
                set + Duration::from_std(since.elapsed()).unwrap_or_else(|_| Duration::zero())
            }
        }
    }

    /// Now in UTC without its zone, as the database stores times.
    pub fn naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Moves a set clock to `to` (it runs on from there). The system clock can't be moved.
    pub fn set(&self, to: DateTime<Utc>) {
        match &*self.0 {
            Source::System => debug_assert!(false, "the system clock can't be set"),
            Source::Set(at) => *at.lock().unwrap_or_else(PoisonError::into_inner) = (to, Instant::now()),
        }
    }

    /// Moves a set clock on by `by`.
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_reads_its_moment_and_runs_on() {
        let start = DateTime::parse_from_rfc3339("2026-12-08T16:00:00Z").map(|t| t.with_timezone(&Utc));
        let clock = Clock::starting_at(start.expect("a moment"));
        let first = clock.now();
        assert!(first - start.expect("a moment") < Duration::seconds(5));
        clock.advance(Duration::hours(8));
        assert!(clock.now() - first >= Duration::hours(8));
        assert!(clock.now() >= clock.now() - Duration::seconds(1));
    }
}
