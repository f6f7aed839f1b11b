//! What every handler shares: the pool, the token keys, the settings.

use std::sync::Arc;

use actix_web::web;

use crate::auth::tokens::Keys;
use crate::config::Settings;
use crate::db::{DbConn, Pool};
use crate::error::AppError;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub keys: Arc<Keys>,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// Runs blocking database work off the async workers with one pooled connection.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs blocking work that manages its own connections (e.g. a login, which must not hold
    /// a connection while argon2 runs).
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&Pool) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || f(&pool)).await?
    }
}
