//! A small pool of threads of its own for argon2, with a bounded queue.
//!
//! Each hash takes 19 MiB and tens of milliseconds of one core. On actix's blocking pool (up to
//! hundreds of threads) a sign-in storm ran hundreds at once and took gigabytes. Here at most
//! `threads` run at once, each reusing its memory ([`super::passwords`]), and at most `queue`
//! wait; past that the caller gets 503 with `Retry-After`, and the rest of the API keeps
//! answering because the async workers and the blocking pool are never busy hashing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use crate::auth::passwords;
use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

/// Handle to the hashing threads; cheap to clone. The threads end when the last handle drops.
#[derive(Clone)]
pub struct HashPool {
    jobs: SyncSender<Job>,
    /// Jobs queued and not yet taken by a thread, for `/metrics` (the channel doesn't say).
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

/// How long a shed caller is told to wait: about the time the queue takes to drain.
const RETRY_AFTER_SECS: u64 = 1;

impl HashPool {
    /// Starts `threads` hashing threads that take jobs from a queue of at most `queue`.
    pub fn start(threads: usize, queue: usize) -> std::io::Result<HashPool> {
        let (jobs, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let queued = Arc::new(AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let receiver = Arc::clone(&receiver);
            let taken = Arc::clone(&queued);
            std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || loop {
                // The lock is held only while waiting for the next job, not while hashing.
                let job = match receiver.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                match job {
                    // A panicking job drops its reply (the caller gets a 500); the thread lives on.
                    Ok(job) => {
                        taken.fetch_sub(1, Ordering::Relaxed);
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                    Err(_) => return, // every handle dropped: the app has stopped
                }
            })?;
        }
        Ok(HashPool { jobs, queued, capacity: queue })
    }

    /// Jobs waiting for a hashing thread now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Jobs that may wait before callers are refused.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Queues `work`, or refuses at once (503) when the queue is full.
    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<T>, AppError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        // Counted before it is sent, so a thread that takes it at once never counts below zero.
        self.queued.fetch_add(1, Ordering::Relaxed);
        let sent = self.jobs.try_send(job);
        if sent.is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        sent.map(|()| answer).map_err(|e| match e {
            TrySendError::Full(_) => AppError::Unavailable {
                detail: "too many sign-ins at once; try again in a moment".into(),
                retry_after_secs: Some(RETRY_AFTER_SECS),
            },
            TrySendError::Disconnected(_) => {
                AppError::internal(anyhow::anyhow!("the hashing threads are gone"))
            }
        })
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let answer = self.submit(work)?;
        answer.await.map_err(|_| AppError::internal(anyhow::anyhow!("a hashing thread panicked")))
    }

    /// An argon2id PHC string for a new password.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || passwords::hash(&password)).await?.map_err(AppError::internal)
    }

    /// Whether `password` matches `stored`; `None` burns the same time (no such account).
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        self.run(move || passwords::verify(&password, stored.as_deref())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_sheds_with_retry_after() {
        // One thread and a queue of one: with a job running and one waiting, the next is shed.
        let pool = HashPool::start(1, 1).expect("pool");
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let running = pool
            .submit(move || {
                let _ = started_tx.send(());
                let _ = release_rx.recv();
            })
            .expect("the first job is taken");
        started_rx.recv().expect("the worker started");
        assert_eq!(pool.queued(), 0, "the running job is not waiting");
        let waiting = pool.submit(|| ()).expect("the second job waits in the queue");
        assert_eq!((pool.queued(), pool.capacity()), (1, 1));
        match pool.hash("x".repeat(12)).await {
            Err(AppError::Unavailable { retry_after_secs: Some(_), .. }) => {}
            other => panic!("expected 503, got {:?}", other.map(|_| ())),
        }
        let _ = release_tx.send(());
        running.await.expect("the running job finished");
        waiting.await.expect("the waiting job ran");
        assert!(pool.verify("x".repeat(12), None).await.is_ok_and(|ok| !ok));
    }
}
