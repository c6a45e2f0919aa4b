//! How many drawings the library reads or draws at once.
//!
//! One scene or export of a drawing at its budgets can hold a few hundred MB for seconds; any
//! viewer can ask for one, and three SVG exports of a bomb at once took 2.7 GB. A semaphore with
//! one permit per worker (`CAD_WORKERS`, the cores by default) decides how many run; a request waits
//! for a permit at most `CAD_QUEUE_SECS` and is then refused as busy (503 with `Retry-After`), as
//! the password-hashing pool does (`accounts::hashing`). The permit moves into the worker thread,
//! so a request whose client hung up keeps its slot until the work ends.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{CoreError, CoreResult};

/// What a refused request is told to wait.
const RETRY_AFTER_SECS: u64 = 5;

pub struct CadWorkers {
    permits: Arc<Semaphore>,
    size: usize,
    queue: Duration,
}

impl CadWorkers {
    pub fn new(size: usize, queue: Duration) -> Self {
        let size = size.max(1);
        Self { permits: Arc::new(Semaphore::new(size)), size, queue }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Waits for a worker at most the queue timeout; `CoreError::Busy` when none frees up. The
    /// caller moves the permit into the work it runs.
    pub async fn acquire(&self) -> CoreResult<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.queue, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Elapsed, or closed (never: nothing closes the semaphore).
            Ok(Err(_)) | Err(_) => {
                Err(CoreError::Busy { what: "drawing other CAD drawings", retry_after_secs: RETRY_AFTER_SECS })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_request_past_the_workers_waits_then_is_refused_as_busy() {
        let workers = CadWorkers::new(1, Duration::from_millis(50));
        let held = workers.acquire().await.unwrap();
        let refused = workers.acquire().await;
        assert!(
            matches!(refused, Err(CoreError::Busy { retry_after_secs, .. }) if retry_after_secs > 0),
            "the second request is refused with a Retry-After"
        );
        drop(held);
        assert!(workers.acquire().await.is_ok(), "a freed worker is taken");
    }
}
