//! The gapless counter under many concurrent writers: on SQLite many threads on one pool, on
//! PostgreSQL the same threads split over two pools (two instances). Some transactions take a
//! number and roll back; the committed numbers must be exactly 1..=n, none twice.

use std::sync::{Arc, Mutex};

use consular_desk::config::DatabaseUrl;
use consular_desk::counters;
use consular_desk::db::{build_pool, write_transaction, DbConn, Pool};

use crate::helpers::spawn_app;

const THREADS: usize = 16;
const PER_THREAD: usize = 40;

fn pool(url: &str) -> Pool {
    build_pool(&DatabaseUrl::parse(url).expect("url"), 8).expect("pool")
}

#[actix_web::test]
async fn concurrent_writers_leave_no_gap_and_no_repeat() {
    let (_app, db) = spawn_app().await; // migrated
    let pools = [pool(db.url()), pool(db.url())];
    let committed: Arc<Mutex<Vec<(usize, i64)>>> = Arc::default();
    let scopes = ["receipt:MEX:FY2027", "receipt:GDL:FY2027"];
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (pool, committed) = (&pools[t % 2], Arc::clone(&committed));
            s.spawn(move || {
                let mut conn = pool.get().expect("connection");
                for i in 0..PER_THREAD {
                    let scope = (t + i) % 2;
                    let roll_back = (t * PER_THREAD + i).is_multiple_of(5);
                    let outcome = write_transaction(&mut conn, |c: &mut DbConn| {
                        let n = counters::next(c, scopes[scope])?;
                        if roll_back {
                            return Err(diesel::result::Error::RollbackTransaction);
                        }
                        Ok(n)
                    });
                    match outcome {
                        Ok(n) => committed.lock().expect("lock").push((scope, n)),
                        Err(diesel::result::Error::RollbackTransaction) => {}
                        Err(e) => panic!("taking a number failed: {e}"),
                    }
                }
            });
        }
    });
    let committed = committed.lock().expect("lock").clone();
    let mut conn = pools[0].get().expect("connection");
    for (i, scope) in scopes.iter().enumerate() {
        let mut numbers: Vec<i64> = committed.iter().filter(|(s, _)| *s == i).map(|(_, n)| *n).collect();
        numbers.sort_unstable();
        let expected: Vec<i64> = (1..=numbers.len() as i64).collect();
        assert_eq!(numbers, expected, "{scope}: a gap or a repeat");
        assert_eq!(counters::last(&mut conn, scope).expect("last"), Some(numbers.len() as i64), "{scope}");
    }
    assert_eq!(committed.len(), THREADS * PER_THREAD * 4 / 5, "every fifth transaction rolled back");
}
