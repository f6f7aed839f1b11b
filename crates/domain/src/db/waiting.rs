//! Requests waiting in [`super::run`] for a pooled connection right now: r2d2 doesn't count
//! them, and `/metrics` shows them beside the pool's own figures.

use std::sync::LazyLock;

use prometheus::IntGauge;

pub static DB_WAITING: LazyLock<IntGauge> = LazyLock::new(|| {
    IntGauge::new("consular_desk_db_pool_waiting", "Requests waiting for a database connection from the pool")
        .unwrap_or_else(|_| panic!("the waiting gauge's constant name is invalid"))
});

/// Marks a request waiting for a pooled connection until the guard drops.
pub struct Waiting(());

impl Waiting {
    pub fn start() -> Waiting {
        DB_WAITING.inc();
        Waiting(())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        DB_WAITING.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_request_is_counted_until_it_has_its_connection() {
        let waiting = Waiting::start();
        assert!(DB_WAITING.get() >= 1, "counted while it waits");
        drop(waiting);
    }
}
