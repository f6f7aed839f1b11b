//! Rendered availability answers, kept for at most a second.
//!
//! At slot-release time everybody refreshes the same few availability pages. Each answer is
//! rendered once per second (per instance) and served as bytes to everyone asking in between;
//! concurrent misses wait for the one rendering instead of each querying the database. Seats
//! are still taken only by the conditional UPDATE, so a cached page can at worst show a seat
//! that has just gone, which booking then answers with 409 `slot_full`.
//!
//! Freshness: an instance's own bookings, cancellations, reschedules, schedule changes and
//! closures drop the post's answers at once ([`AvailabilityCache::invalidate`]); changes made by
//! other instances (or the maintenance timer) show within the one-second lifetime.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::NaiveDate;
use tokio::sync::OnceCell;

use crate::error::AppError;

/// How long a rendered answer is served: the staleness another instance's change can have.
pub const LIFETIME: Duration = Duration::from_secs(1);

/// Distinct queries kept at once; beyond that the cache starts over, so odd date ranges can't
/// grow it without bound.
const MAX_ENTRIES: usize = 2048;

/// One availability question, as asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub post: String,
    pub service: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

struct Entry {
    rendered_after: Instant,
    generation: u64,
    /// A failure is kept too, for the requests already waiting on this rendering; the entry
    /// then leaves the map so the next request renders afresh.
    answer: OnceCell<Result<Bytes, AppError>>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Arc<Entry>>,
    /// Per post: bumped by every local change that can alter its availability.
    generations: HashMap<String, u64>,
}

#[derive(Default)]
pub struct AvailabilityCache {
    inner: Mutex<Inner>,
}

impl AvailabilityCache {
    /// The answer to `key`, rendered by `render` unless a fresh one is at hand. A failed
    /// rendering answers everyone who waited for it (rather than each of them rendering in
    /// turn), and is not kept for later requests.
    pub async fn get_or_render<F, Fut>(&self, key: Key, render: F) -> Result<Bytes, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, AppError>>,
    {
        let entry = self.entry(key.clone());
        let answer = entry.answer.get_or_init(render).await.clone();
        if answer.is_err() {
            let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if inner.entries.get(&key).is_some_and(|current| Arc::ptr_eq(current, &entry)) {
                inner.entries.remove(&key);
            }
        }
        answer
    }

    fn entry(&self, key: Key) -> Arc<Entry> {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = inner.generations.get(&key.post).copied().unwrap_or(0);
        let now = Instant::now();
        let fresh = |e: &Entry| e.generation == generation && now.duration_since(e.rendered_after) < LIFETIME;
        if let Some(entry) = inner.entries.get(&key).filter(|e| fresh(e)) {
            return Arc::clone(entry);
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.retain(|_, e| now.duration_since(e.rendered_after) < LIFETIME);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
        }
        // `rendered_after` is taken before rendering starts, so the answer is never older than
        // it claims.
        let entry = Arc::new(Entry { rendered_after: now, generation, answer: OnceCell::new() });
        inner.entries.insert(key, Arc::clone(&entry));
        entry
    }

    /// Drops every kept answer for `post`: this instance just changed its seats or schedule.
    pub fn invalidate(&self, post: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *inner.generations.entry(post.to_string()).or_default() += 1;
    }

    /// Drops every kept answer (the maintenance timer released seats somewhere).
    pub fn invalidate_all(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(post: &str) -> Key {
        Key { post: post.into(), service: "notarial".into(), from: None, to: None }
    }

    #[tokio::test]
    async fn renders_once_until_invalidated() {
        let cache = AvailabilityCache::default();
        let renders = AtomicUsize::new(0);
        let render = || async {
            let n = renders.fetch_add(1, Ordering::SeqCst);
            Ok(Bytes::from(format!("render {n}")))
        };
        assert_eq!(cache.get_or_render(key("MEX"), render).await.ok(), Some(Bytes::from("render 0")));
        assert_eq!(cache.get_or_render(key("MEX"), render).await.ok(), Some(Bytes::from("render 0")));
        cache.invalidate("GDL");
        assert_eq!(cache.get_or_render(key("MEX"), render).await.ok(), Some(Bytes::from("render 0")));
        cache.invalidate("MEX");
        assert_eq!(cache.get_or_render(key("MEX"), render).await.ok(), Some(Bytes::from("render 1")));
    }

    #[tokio::test]
    async fn errors_are_not_kept() {
        let cache = AvailabilityCache::default();
        let failed = cache.get_or_render(key("MEX"), || async { Err(AppError::not_found("no post")) }).await;
        assert!(failed.is_err());
        let ok = cache.get_or_render(key("MEX"), || async { Ok(Bytes::from("ok")) }).await;
        assert_eq!(ok.ok(), Some(Bytes::from("ok")));
    }

    #[tokio::test]
    async fn answers_expire() {
        let cache = AvailabilityCache::default();
        let _ = cache.get_or_render(key("MEX"), || async { Ok(Bytes::from("old")) }).await;
        std::thread::sleep(LIFETIME + Duration::from_millis(20));
        let again = cache.get_or_render(key("MEX"), || async { Ok(Bytes::from("new")) }).await;
        assert_eq!(again.ok(), Some(Bytes::from("new")));
    }
}
