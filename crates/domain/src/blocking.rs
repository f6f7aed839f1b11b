//! Blocking work (the database, drawing a PDF, hashing) run off the async workers, on the
//! runtime's blocking threads, without the domain knowing which web framework serves it.

use crate::error::AppError;

/// Runs `f` on a blocking thread and waits for it. A panic in `f` is a 500, not a crash.
pub async fn run<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("blocking task failed: {e}")))
}
