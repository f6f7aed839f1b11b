//! Stopping without loss. On SIGTERM actix-web stops accepting and drains: every request in
//! flight is answered with `Connection: close`, idle kept-alive connections are closed, and
//! whatever is still running after `CONSULAR_DESK_SHUTDOWN_SECONDS` is dropped. (SIGINT and
//! SIGQUIT stop at once.) Then [`finish`] ends the timers and seals the audit entries the last
//! requests queued, and the process exits 0. The draining of kept-alive connections is
//! actix's own (actix-server 2.10 and actix-http 3.20 in Cargo.lock): `tests/api/shutdown.rs`
//! holds it, with the rest, to a booking rush and a fee run, and fails if it stops.

use actix_web::rt::task::JoinHandle;

use crate::db::Pool;

/// After the server has stopped: end the timers (a mail round already sending finishes on its
/// own thread and marks what it sent) and seal what the last requests queued, so the trail is
/// whole when the process exits.
pub async fn finish(timers: Vec<JoinHandle<()>>, pool: Pool) {
    for timer in &timers {
        timer.abort();
    }
    let sealed = crate::blocking::run(move || -> anyhow::Result<usize> {
        let mut conn = pool.get()?;
        crate::audit::seal::seal_pending(&mut conn)
    })
    .await;
    match sealed {
        Ok(Ok(n)) => tracing::info!(sealed = n, "stopped; audit entries sealed"),
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "stopped; sealing failed (the next start seals them)")
        }
        Err(e) => tracing::warn!(error = %e, "stopped; the sealer panicked (the next start seals them)"),
    }
}
