//! Upkeep every instance runs on a timer: release held seats whose delay has passed, mark
//! appointments nobody checked in for as no-shows, close the visits still waiting at their
//! post's closing time as not served, extend the slot horizon, drop stale
//! throttle counters, idempotency answers and ended sessions whose tokens have expired, queue
//! the reminders of appointments that are near, and forget sent mail and used links. Each step is safe to run from several
//! instances at once (conditional updates decide who does what). Scheduled backups run on a
//! timer of the same period beside it ([`Backups`]).

use chrono::{Duration, NaiveDateTime};

use crate::clock::Clock;

use std::sync::Arc;

use crate::booking::availability_cache::AvailabilityCache;
use crate::booking::{appointments, slots};
use crate::config::{BackupSettings, BookingSettings, DatabaseUrl, WindowSettings};
use crate::db::Pool;
use crate::throttle;
use crate::window::visits;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Done {
    pub seats_released: usize,
    pub no_shows_marked: usize,
    /// Visits still waiting at their post's closing time, closed as not served.
    pub not_served_closed: usize,
    pub slots_generated: usize,
    pub throttle_buckets_dropped: usize,
    pub idempotency_keys_dropped: usize,
    pub ended_sessions_dropped: usize,
    pub reminders_queued: usize,
    /// Sent messages older than 30 days, and used or expired account links, forgotten.
    pub mail_rows_dropped: usize,
    /// Registered stays over for the retention period, and registrations never confirmed.
    pub stays_deleted: usize,
}

pub fn run_once(
    pool: &Pool,
    booking: &BookingSettings,
    window: &WindowSettings,
    reminder_hours: u32,
    retention_days: u32,
    now: NaiveDateTime,
) -> anyhow::Result<Done> {
    let mut conn = pool.get()?;
    let (ended, unconfirmed) = crate::registry::stays::prune(&mut conn, retention_days, now)?;
    Ok(Done {
        seats_released: appointments::release_due_holds(&mut conn, now)?,
        no_shows_marked: visits::sweep_no_shows(&mut conn, window, now)?,
        not_served_closed: crate::window::closing::sweep(&mut conn, now)?,
        slots_generated: slots::extend_horizons(&mut conn, booking.horizon_days, now)?,
        throttle_buckets_dropped: throttle::prune(&mut conn, Duration::days(1), now)?,
        idempotency_keys_dropped: appointments::prune_idempotency_keys(&mut conn, now)?,
        ended_sessions_dropped: crate::accounts::sessions::sweep(&mut conn, now)?,
        reminders_queued: crate::mail::reminders::queue_due(&mut conn, reminder_hours, now)?,
        mail_rows_dropped: crate::mail::outbox::prune_sent(&mut conn, now - Duration::days(30))?
            + crate::accounts::links::prune(&mut conn, now)?,
        stays_deleted: ended + unconfirmed,
    })
}

/// Scheduled backups, looked at every maintenance period; [`Backups::new`] gives `None` when off
/// (`CONSULAR_DESK_BACKUP_DIR` unset, or PostgreSQL without pg_dump, which is said once).
#[derive(Clone)]
pub struct Backups {
    url: DatabaseUrl,
    settings: BackupSettings,
    /// This instance's backup still runs: the next tick doesn't start another.
    running: Arc<std::sync::atomic::AtomicBool>,
}

impl Backups {
    pub fn new(url: &DatabaseUrl, settings: &BackupSettings) -> Option<Backups> {
        let dir = settings.dir.as_ref()?;
        if matches!(url, DatabaseUrl::Postgres(_)) && !crate::backup::postgres::pg_dump_available() {
            tracing::warn!(
                dir = %dir.display(),
                "scheduled backups are off: pg_dump is not on PATH (CONSULAR_DESK_BACKUP_DIR is set)"
            );
            return None;
        }
        Some(Backups { url: url.clone(), settings: settings.clone(), running: Arc::default() })
    }

    /// Every `every` (the maintenance period), [`Backups::tick`]: a timer beside the upkeep's,
    /// so a backup that takes minutes never holds the upkeep back.
    pub async fn run_forever(self, pool: Pool, every: std::time::Duration, clock: Clock) {
        let mut ticker = actix_web::rt::time::interval(every);
        ticker.tick().await; // the first tick is immediate: the first backup comes a period after start
        loop {
            ticker.tick().await;
            self.tick(&pool, clock.naive());
        }
    }

    /// Starts the period's backup off the async workers (it is blocking and may take minutes)
    /// unless this instance's last one still runs; whether this instance takes it is decided
    /// in the database. Logs one line per backup.
    fn tick(&self, pool: &Pool, now: NaiveDateTime) {
        use std::sync::atomic::Ordering;
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let (this, pool) = (self.clone(), pool.clone());
        actix_web::rt::spawn(async move {
            let running = this.running.clone();
            let outcome = actix_web::web::block(move || -> anyhow::Result<_> {
                let mut conn = pool.get()?;
                crate::backup::schedule::run_if_due(&mut conn, &this.url, &this.settings, now)
            })
            .await;
            match outcome {
                Ok(Ok(Some(written))) => tracing::info!("{}", written.line()),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %format!("{e:#}"), "scheduled backup failed; the next period tries again")
                }
                Err(e) => {
                    tracing::error!(error = %e, "scheduled backup panicked; the next period tries again")
                }
            }
            running.store(false, Ordering::Release);
        });
    }
}

/// Runs [`run_once`] every `booking.maintenance_every` until the process ends. Released seats
/// and new slots change what availability shows, so this instance's cached answers are dropped.
pub async fn run_forever(
    pool: Pool,
    booking: BookingSettings,
    window: WindowSettings,
    availability: Arc<AvailabilityCache>,
    reminder_hours: u32,
    retention_days: u32,
    clock: Clock,
) {
    let mut ticker = actix_web::rt::time::interval(booking.maintenance_every);
    ticker.tick().await; // the first tick is immediate; start-up already did the work
    loop {
        ticker.tick().await;
        let (pool, settings, window) = (pool.clone(), booking.clone(), window.clone());
        let now = clock.naive();
        match actix_web::web::block(move || {
            run_once(&pool, &settings, &window, reminder_hours, retention_days, now)
        })
        .await
        {
            Ok(Ok(done)) if done != Done::default() => {
                if done.seats_released > 0 || done.slots_generated > 0 {
                    availability.invalidate_all();
                }
                tracing::info!(?done, "maintenance")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "maintenance failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "maintenance task panicked; will retry"),
        }
    }
}
