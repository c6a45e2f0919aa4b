//! The bounded pool every password hash and check runs in.
//!
//! argon2id holds 19 MiB for the tens of milliseconds a hash takes, and anyone can ask for one by
//! posting a sign-in. Unbounded, a flood of sign-ins ran hundreds at once (3.2 GB in 3 s). Here a
//! semaphore with one permit per worker decides how many run; a request waits for a permit at most
//! the queue timeout and is then refused as busy (503 with `Retry-After`), so memory is bounded by
//! the worker count whatever arrives. One more permit is kept for clients the caller trusts (a
//! browser with a valid device cookie), so that a flood of strangers does not queue its owner.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::password::HashMemory;
use crate::error::{CoreError, CoreResult};

/// The most workers chosen by default: 8 × 19 MiB stays far below the 512 MiB a sign-in flood may
/// take, however many cores the machine has.
pub const MAX_DEFAULT_WORKERS: usize = 8;
/// How long a sign-in waits for a worker by default.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(3);
/// What a refused request is told to wait.
const RETRY_AFTER_SECS: u64 = 2;

/// One worker per core (`available_parallelism`), at most [`MAX_DEFAULT_WORKERS`].
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, NonZeroUsize::get).clamp(1, MAX_DEFAULT_WORKERS)
}

/// Runs CPU-heavy password work on blocking threads, at most `size` at once.
pub struct HashingPool {
    /// One permit per worker; a permit moves into the blocking job, so a job whose request was
    /// dropped still holds it until the hash ends.
    permits: Arc<Semaphore>,
    /// The lane only trusted callers may take when every worker is busy.
    reserved: Arc<Semaphore>,
    size: usize,
    queue_timeout: Duration,
    gauge: Arc<Gauge>,
    /// The working memory of idle workers: at most one per permit ever exists, each allocated once
    /// and reused. A std mutex, held only to take or return one, never across an await.
    spare: Arc<Mutex<Vec<HashMemory>>>,
}

/// How many jobs run now and the most that ever ran at once (what tests and benchmarks read).
#[derive(Default)]
struct Gauge {
    running: AtomicUsize,
    high_water: AtomicUsize,
}

impl HashingPool {
    pub fn new(size: usize, queue_timeout: Duration) -> Self {
        let size = size.max(1);
        Self {
            permits: Arc::new(Semaphore::new(size)),
            reserved: Arc::new(Semaphore::new(1)),
            size,
            queue_timeout,
            gauge: Arc::default(),
            spare: Arc::default(),
        }
    }

    /// How many jobs of strangers may run at once; trusted callers have one more lane.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The most jobs that ever ran at once (at most `size() + 1`, the reserved lane included).
    pub fn high_water(&self) -> usize {
        self.gauge.high_water.load(Ordering::SeqCst)
    }

    /// Runs `job` on a blocking thread once a worker is free; `CoreError::Busy` when none frees up
    /// within the queue timeout.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> CoreResult<T> {
        self.worker(false).await?.run(job).await
    }

    /// As [`run`](Self::run), for a caller the service trusts: it takes whichever frees first, a
    /// worker or the reserved lane.
    pub async fn run_trusted<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> CoreResult<T> {
        self.worker(true).await?.run(job).await
    }

    /// Waits for a worker (or, when `trusted`, the reserved lane) at most the queue timeout. The
    /// caller holds it while it checks and records what depends on the job, so that attempts sent
    /// at once do not all pass a check made before any of them was recorded.
    pub async fn worker(&self, trusted: bool) -> CoreResult<Worker> {
        let shared = self.permits.clone().acquire_owned();
        let acquire = async {
            if trusted {
                tokio::select! {
                    permit = shared => permit,
                    permit = self.reserved.clone().acquire_owned() => permit,
                }
            } else {
                shared.await
            }
        };
        match tokio::time::timeout(self.queue_timeout, acquire).await {
            Ok(Ok(permit)) => {
                Ok(Worker { permit: Arc::new(permit), gauge: self.gauge.clone(), spare: self.spare.clone() })
            }
            // Elapsed, or closed (never: the pool does not close its semaphores).
            Ok(Err(_)) | Err(_) => {
                Err(CoreError::Busy { what: "checking other sign-ins", retry_after_secs: RETRY_AFTER_SECS })
            }
        }
    }
}

/// A worker of the pool, held until dropped. Its permit is shared with the blocking job it runs, so
/// a request dropped while its hash runs (a client that hung up) frees the worker only when the
/// hash ends.
pub struct Worker {
    permit: Arc<OwnedSemaphorePermit>,
    gauge: Arc<Gauge>,
    spare: Arc<Mutex<Vec<HashMemory>>>,
}

impl Worker {
    /// Runs `job` on a blocking thread with this worker's memory.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> CoreResult<T> {
        let (permit, gauge, spare) = (self.permit.clone(), self.gauge.clone(), self.spare.clone());
        tokio::task::spawn_blocking(move || {
            let now = gauge.running.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.high_water.fetch_max(now, Ordering::SeqCst);
            let mut memory = spare.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default();
            let output = job(&mut memory);
            spare.lock().unwrap_or_else(|p| p.into_inner()).push(memory);
            gauge.running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            output
        })
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("password work failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_the_pool_size_run_at_once() {
        let pool = Arc::new(HashingPool::new(2, Duration::from_secs(30)));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(|_| std::thread::sleep(Duration::from_millis(20))).await })
            })
            .collect();
        for job in jobs {
            assert!(job.await.expect("joined").is_ok(), "every job runs when the queue waits long enough");
        }
        assert_eq!(pool.high_water(), 2, "two workers ran at once, never more");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_request_that_waits_too_long_is_refused_as_busy() {
        let pool = Arc::new(HashingPool::new(1, Duration::from_millis(50)));
        let slow = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|_| std::thread::sleep(Duration::from_millis(500))).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let refused = pool.run(|_| ()).await;
        assert!(
            matches!(refused, Err(CoreError::Busy { retry_after_secs, .. }) if retry_after_secs > 0),
            "a full pool refuses after the queue timeout, with a time to retry: {refused:?}"
        );
        assert!(slow.await.expect("joined").is_ok());
        assert!(pool.run(|_| ()).await.is_ok(), "a free worker takes the next job");
        assert_eq!(pool.high_water(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_trusted_caller_takes_the_reserved_lane_when_strangers_fill_the_pool() {
        let pool = Arc::new(HashingPool::new(1, Duration::from_millis(50)));
        let slow = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|_| std::thread::sleep(Duration::from_millis(500))).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(matches!(pool.run(|_| ()).await, Err(CoreError::Busy { .. })), "a stranger waits and is refused");
        assert!(pool.run_trusted(|_| ()).await.is_ok(), "the owner's device is checked at once");
        assert!(slow.await.expect("joined").is_ok());
        assert!(pool.high_water() <= 2, "the reserved lane adds one job at most");
    }

    #[test]
    fn the_default_follows_the_cores_within_bounds() {
        assert!((1..=MAX_DEFAULT_WORKERS).contains(&default_workers()));
    }
}
