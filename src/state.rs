//! What every handler shares: the pool, the token keys, the settings, the password-hashing
//! threads, the availability cache, the server's keyed-hash keys and the PDF templates.

use std::sync::Arc;

use crate::auth::hash_pool::HashPool;
use crate::auth::tokens::Keys;
use crate::booking::availability_cache::AvailabilityCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DbConn, Pool};
use crate::documents::identity::MatchingKey;
use crate::error::AppError;
use crate::fees::verification::ReceiptKey;
use crate::pdf::Templates;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub keys: Arc<Keys>,
    pub settings: Arc<Settings>,
    pub hasher: HashPool,
    pub availability: Arc<AvailabilityCache>,
    /// Keys document numbers' hashes and the surnames tracking lookups compare.
    pub matching: Arc<MatchingKey>,
    /// Signs the verification codes printed on receipts.
    pub receipts: Arc<ReceiptKey>,
    /// Signs the citizen registry's links.
    pub stay_links: Arc<crate::registry::links::StayKey>,
    /// The PDF templates, loaded and checked at start-up.
    pub templates: Arc<Templates>,
    /// Report exports streaming at once: each holds a pooled connection for as long as it
    /// streams, so they get a quarter of the pool and the window keeps the rest.
    pub exports: Arc<tokio::sync::Semaphore>,
    /// The one clock every "now" is read from.
    pub clock: Clock,
    /// What `/metrics` serves (the request counts the middleware keeps, among others).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// What the account use-cases that check or set a password take from the state.
    pub fn account_tools(&self) -> crate::accounts::Tools<'_> {
        crate::accounts::Tools {
            pool: &self.pool,
            hasher: &self.hasher,
            limits: &self.settings.login_throttle,
            clock: &self.clock,
            public_url: &self.settings.public_url,
        }
    }

    /// Runs blocking database work off the async workers with one pooled connection.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        crate::db::run(&self.pool, f).await
    }
}
