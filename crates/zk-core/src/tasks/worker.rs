//! The worker pool: claims tasks, runs their handlers under a time limit, keeps their leases alive.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{TaskContext, TaskFailure, TaskService};
use crate::store::{TaskOutcome, TaskRecord, Timestamp};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub workers: usize,
    /// How long a claim lasts without renewal; a killed worker's task is reclaimed after this.
    pub lease: Duration,
    /// How often idle workers look for due tasks (enqueues in this process wake them at once).
    pub poll_interval: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// How often to read task changes made by other server instances (sharing the database) and pass
    /// them to this instance's watchers.
    pub change_feed_interval: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(300),
            change_feed_interval: Duration::from_secs(1),
        }
    }
}

/// Owns the worker tasks; [`WorkerPool::shutdown`] stops them and hands unfinished tasks back.
pub struct WorkerPool {
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl WorkerPool {
    pub fn start(service: Arc<TaskService>, settings: WorkerSettings) -> Self {
        let tracker = TaskTracker::new();
        let shutdown = CancellationToken::new();
        for index in 0..settings.workers {
            let (service, settings, shutdown) = (service.clone(), settings.clone(), shutdown.clone());
            tracker.spawn(async move { worker_loop(index, service, settings, shutdown).await });
        }
        tracker.spawn(change_feed(service, settings.change_feed_interval, shutdown.clone()));
        tracker.close();
        Self { tracker, shutdown }
    }

    /// Stops claiming, releases running tasks back to the queue, and waits up to `grace`.
    pub async fn shutdown(self, grace: Duration) {
        self.shutdown.cancel();
        if tokio::time::timeout(grace, self.tracker.wait()).await.is_err() {
            tracing::warn!("task workers did not stop within {grace:?}; their leases will expire");
        }
    }
}

async fn worker_loop(index: usize, service: Arc<TaskService>, settings: WorkerSettings, shutdown: CancellationToken) {
    let kinds = service.kinds();
    let mut consecutive_errors: u32 = 0;
    tracing::debug!(worker = index, ?kinds, "task worker started");
    while !shutdown.is_cancelled() {
        let now = service.clock().now();
        let lease_token = uuid::Uuid::new_v4().to_string();
        let lease_until =
            Timestamp::from(now + chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::seconds(30)));
        match service.store().claim_task(&kinds, &lease_token, Timestamp::from(now), lease_until).await {
            Ok(Some(task)) => {
                consecutive_errors = 0;
                run_one(&service, &settings, task, lease_token, &shutdown).await;
                continue;
            }
            Ok(None) => consecutive_errors = 0,
            Err(error) => {
                if consecutive_errors.is_multiple_of(60) {
                    tracing::warn!(worker = index, %error, "cannot claim tasks; retrying");
                }
                consecutive_errors += 1;
            }
        }
        let woken = service.wake().clone();
        tokio::select! {
            _ = woken.notified() => {}
            _ = tokio::time::sleep(settings.poll_interval) => {}
            _ = shutdown.cancelled() => break,
        }
    }
}

/// Publishes task changes read from the database, so that a watcher connected to this instance sees
/// progress of tasks that another instance runs. Changes of this instance's own workers arrive twice
/// (once directly, once here); watchers keep the newest `updated_at` per task.
async fn change_feed(service: Arc<TaskService>, interval: Duration, shutdown: CancellationToken) {
    // Reads overlap by this much, because a row can commit after a later-stamped one.
    let overlap = chrono::Duration::seconds(2);
    let mut since = Timestamp::from(service.clock().now() - overlap);
    let mut published: std::collections::HashMap<i64, Timestamp> = std::collections::HashMap::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.cancelled() => return,
        }
        let Ok(changes) = service.store().tasks_updated_since(since, 1000).await else { continue };
        for task in changes {
            if published.get(&task.id).is_some_and(|at| *at >= task.updated_at) {
                continue;
            }
            published.insert(task.id, task.updated_at);
            service.publish(super::TaskView::from(task));
        }
        let horizon = Timestamp::from(service.clock().now() - overlap);
        since = since.max(horizon);
        published.retain(|_, at| *at >= since);
    }
}

async fn run_one(
    service: &Arc<TaskService>,
    settings: &WorkerSettings,
    task: TaskRecord,
    lease_token: String,
    shutdown: &CancellationToken,
) {
    let id = task.id;
    service.publish_current(id).await;
    let kind = task.kind.clone();
    // The metrics' label: a registered kind, never whatever a caller wrote into a row.
    let kind_label = service.handler(&task.kind).map_or("unknown", |h| h.kind());
    let started = Instant::now();
    // Records the outcome, then logs it: a "task ended" line means the database has the result.
    // `label` is the outcome as the metrics count it (`timed_out` is a failure of its own there).
    let finish = |outcome: TaskOutcome, label: &'static str| {
        let service = service.clone();
        let lease_token = lease_token.clone();
        let kind = kind.clone();
        async move {
            let now = Timestamp::from(service.clock().now());
            match service.store().finish_task(id, &lease_token, &outcome, now).await {
                Ok(true) => {
                    service.metrics().task_ended(kind_label, label, started.elapsed());
                    tracing::info!(
                        task = id,
                        kind = %kind,
                        outcome = outcome_name(&outcome),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "task ended"
                    )
                }
                Ok(false) => tracing::warn!(task = id, "task lease lost before it finished; its new owner decides"),
                Err(error) => {
                    tracing::error!(task = id, %error, "cannot record the end of a task; it will be retried when its lease expires")
                }
            }
            service.publish_current(id).await;
        }
    };

    if task.attempts > task.max_attempts {
        tracing::error!(task = id, kind = %task.kind, attempts = task.attempts - 1, "task abandoned: its worker stopped on every attempt");
        finish(
            TaskOutcome::Failed { error: format!("gave up after {} attempts whose worker stopped", task.max_attempts) },
            "failed",
        )
        .await;
        return;
    }
    let Some(handler) = service.handler(&task.kind) else {
        finish(TaskOutcome::Failed { error: format!("no handler for task kind {:?}", task.kind) }, "failed").await;
        return;
    };

    let cancel = CancellationToken::new();
    if task.cancel_requested {
        cancel.cancel();
    }
    let lease_lost = CancellationToken::new();
    let reporter = ProgressReporter {
        service: service.clone(),
        task_id: id,
        lease_token: lease_token.clone(),
        lease: settings.lease,
        cancel: cancel.clone(),
        lease_lost: lease_lost.clone(),
        state: Arc::new(Mutex::new(ProgressState { percent: task.progress, message: None, last_write: None })),
    };
    // Renews the lease while the handler works quietly; stopped when this function returns.
    let keepalive = {
        let reporter = reporter.clone();
        let period = settings.lease / 3;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                reporter.flush().await;
            }
        })
    };
    let ctx = TaskContext {
        task_id: id,
        created_by: task.created_by,
        payload: task.payload.0.clone(),
        attempt: task.attempts,
        progress: reporter,
        cancel: cancel.clone(),
    };
    let limit = Duration::from_millis(task.timeout_ms.max(1) as u64);
    tracing::info!(task = id, kind = %task.kind, attempt = task.attempts, "task started");

    let mut timed_out = false;
    let outcome = tokio::select! {
        biased;
        result = tokio::time::timeout(limit, handler.run(ctx)) => Some(match result {
            Ok(Ok(value)) => TaskOutcome::Succeeded { result: value },
            Ok(Err(TaskFailure::Cancelled)) => TaskOutcome::Cancelled,
            Ok(Err(TaskFailure::Retryable(error))) if task.attempts < task.max_attempts => {
                let delay = backoff(settings, task.attempts);
                tracing::warn!(task = id, kind = %task.kind, attempt = task.attempts, %error, retry_in = ?delay, "task failed; will retry");
                let run_after = Timestamp::from(service.clock().now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(1)));
                TaskOutcome::Retry { error, run_after }
            }
            Ok(Err(TaskFailure::Retryable(error) | TaskFailure::Permanent(error))) => {
                tracing::error!(task = id, kind = %task.kind, attempt = task.attempts, %error, "task failed");
                TaskOutcome::Failed { error }
            }
            Err(_) => {
                let error = format!("stopped after its time limit of {} s", limit.as_secs_f64());
                tracing::error!(task = id, kind = %task.kind, %error, "task timed out");
                timed_out = true;
                TaskOutcome::Failed { error }
            }
        }),
        _ = cancel.cancelled() => Some(TaskOutcome::Cancelled),
        _ = lease_lost.cancelled() => None,
        _ = shutdown.cancelled() => Some(TaskOutcome::Released),
    };
    keepalive.abort();
    match outcome {
        Some(outcome) => {
            let label = if timed_out { "timed_out" } else { outcome_name(&outcome) };
            finish(outcome, label).await
        }
        None => tracing::warn!(task = id, "task lease lost while running; stopped without recording a result"),
    }
}

fn outcome_name(outcome: &TaskOutcome) -> &'static str {
    match outcome {
        TaskOutcome::Succeeded { .. } => "succeeded",
        TaskOutcome::Failed { .. } => "failed",
        TaskOutcome::Retry { .. } => "retry",
        TaskOutcome::Cancelled => "cancelled",
        TaskOutcome::Released => "released",
    }
}

/// Exponential backoff with ±20 % jitter, so that retries of many tasks do not arrive together.
fn backoff(settings: &WorkerSettings, attempt: i32) -> Duration {
    let exponent = (attempt.max(1) - 1).min(20) as u32;
    let base = settings.retry_base.saturating_mul(2u32.saturating_pow(exponent)).min(settings.retry_cap);
    base.mul_f64(rand::rng().random_range(0.8..1.2)).min(settings.retry_cap)
}

struct ProgressState {
    percent: i32,
    message: Option<String>,
    last_write: Option<Instant>,
}

/// Writes progress and renews the lease; learns of cancel requests and lost leases on each write.
#[derive(Clone)]
pub(super) struct ProgressReporter {
    service: Arc<TaskService>,
    task_id: i64,
    lease_token: String,
    lease: Duration,
    cancel: CancellationToken,
    lease_lost: CancellationToken,
    // An async mutex: a write awaits the database while holding it, so writes stay in order.
    state: Arc<Mutex<ProgressState>>,
}

/// Progress writes closer together than this are folded into the next one.
const MIN_WRITE_INTERVAL: Duration = Duration::from_millis(100);

impl ProgressReporter {
    pub(super) async fn report(&self, percent: i32, message: Option<&str>) {
        let mut state = self.state.lock().await;
        state.percent = percent.clamp(0, 100);
        if let Some(message) = message {
            state.message = Some(message.chars().take(500).collect());
        }
        let due = state.last_write.is_none_or(|t| t.elapsed() >= MIN_WRITE_INTERVAL) || state.percent == 100;
        if due {
            self.write(&mut state).await;
        }
    }

    async fn flush(&self) {
        let mut state = self.state.lock().await;
        self.write(&mut state).await;
    }

    async fn write(&self, state: &mut ProgressState) {
        let now = self.service.clock().now();
        let lease_until =
            Timestamp::from(now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(30)));
        let result = self
            .service
            .store()
            .heartbeat_task(
                self.task_id,
                &self.lease_token,
                state.percent,
                state.message.as_deref(),
                Timestamp::from(now),
                lease_until,
            )
            .await;
        state.last_write = Some(Instant::now());
        match result {
            Ok(Some(cancel_requested)) => {
                if cancel_requested {
                    self.cancel.cancel();
                }
                self.service.publish_current(self.task_id).await;
            }
            Ok(None) => self.lease_lost.cancel(),
            // A failed write keeps the lease until it expires; the next write may succeed.
            Err(error) => tracing::warn!(task = self.task_id, %error, "cannot record task progress"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
        let settings = WorkerSettings {
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(60),
            ..WorkerSettings::default()
        };
        let first = backoff(&settings, 1);
        assert!(first >= Duration::from_millis(1600) && first <= Duration::from_millis(2400), "{first:?}");
        let third = backoff(&settings, 3);
        assert!(third >= Duration::from_millis(6400) && third <= Duration::from_millis(9600), "{third:?}");
        assert!(backoff(&settings, 30) <= Duration::from_secs(60));
    }
}
