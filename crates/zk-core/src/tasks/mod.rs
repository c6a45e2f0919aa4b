//! Background tasks: a durable queue in the database and a pool of workers that run handlers by kind.
//!
//! A task is `queued` → `running` → `succeeded` | `failed` | `cancelled`. A running task holds a lease
//! (a random token and an expiry) that its worker renews; every update names the token, so a worker
//! that lost its lease (it stalled, or died and the task was reclaimed) can change nothing. A task
//! survives a restart: one left `running` by a killed process is claimed again when its lease expires.

mod selftest;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

pub use selftest::SelfTest;
pub use worker::{WorkerPool, WorkerSettings};

use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::metrics::Metrics;
use crate::request::Principal;
use crate::store::{NewTask, Role, Store, TaskQuery, TaskRecord, TaskState, Timestamp};

/// Why a handler did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskFailure {
    /// Worth another attempt (network, a busy upstream).
    Retryable(String),
    /// Retrying cannot help (bad payload, missing input).
    Permanent(String),
    /// The handler noticed a cancel request and stopped.
    Cancelled,
}

/// What a handler gets: its payload, and a way to report progress and notice cancellation.
pub struct TaskContext {
    pub task_id: i64,
    /// Who enqueued it; handlers that act for a user act for this one, never for a user named in the payload.
    pub created_by: Option<i64>,
    pub payload: Value,
    pub attempt: i32,
    progress: worker::ProgressReporter,
    cancel: CancellationToken,
}

impl TaskContext {
    /// Records progress (0–100) and an optional message; visible to watchers at once.
    pub async fn progress(&self, percent: i32, message: Option<&str>) {
        self.progress.report(percent, message).await;
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Runs tasks of one kind. Registered with the [`TaskService`] before workers start.
#[async_trait]
pub trait TaskHandler: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    /// Checks a payload when the task is enqueued, so a bad one is refused then, not at run time.
    fn validate(&self, payload: &Value) -> CoreResult<()>;
    async fn run(&self, ctx: TaskContext) -> Result<Value, TaskFailure>;
}

/// A task as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct TaskView {
    pub id: i64,
    pub kind: String,
    pub state: TaskState,
    pub progress: i32,
    pub message: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub timeout_ms: i64,
    pub cancel_requested: bool,
    pub payload: Value,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

impl From<TaskRecord> for TaskView {
    fn from(task: TaskRecord) -> Self {
        let state = task.state();
        Self {
            id: task.id,
            kind: task.kind,
            state,
            progress: task.progress,
            message: task.message,
            attempts: task.attempts,
            max_attempts: task.max_attempts,
            timeout_ms: task.timeout_ms,
            cancel_requested: task.cancel_requested,
            payload: task.payload.0,
            result: task.result.map(|r| r.0),
            error: task.error,
            created_by: task.created_by,
            created_at: task.created_at,
            started_at: task.started_at,
            finished_at: task.finished_at,
            updated_at: task.updated_at,
        }
    }
}

/// What a caller may set when enqueueing; the rest has defaults.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct EnqueueRequest {
    pub kind: String,
    #[serde(default)]
    pub payload: Value,
    pub max_attempts: Option<i32>,
    pub timeout_secs: Option<u64>,
    /// A client-chosen key (1–200 visible ASCII characters); retrying with it never makes a second task.
    pub idempotency_key: Option<String>,
}

const DEFAULT_MAX_ATTEMPTS: i32 = 3;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
const MAX_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

pub struct TaskService {
    store: Arc<dyn Store>,
    clock: SharedClock,
    handlers: HashMap<&'static str, Arc<dyn TaskHandler>>,
    /// Every change a worker or caller makes in this process, for SSE watchers. Lagging receivers
    /// lose old events (they re-read the list), so a slow browser cannot hold memory.
    events: broadcast::Sender<TaskView>,
    /// Wakes idle workers of this process when a task is enqueued.
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl TaskService {
    pub fn new(
        store: Arc<dyn Store>,
        clock: SharedClock,
        handlers: Vec<Arc<dyn TaskHandler>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (events, _) = broadcast::channel(1024);
        metrics.known_task_kinds(handlers.iter().map(|h| h.kind()));
        Self {
            store,
            clock,
            handlers: handlers.into_iter().map(|h| (h.kind(), h)).collect(),
            events,
            wake: Arc::new(Notify::new()),
            metrics,
        }
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.keys().map(|k| (*k).to_owned()).collect();
        kinds.sort();
        kinds
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TaskView> {
        self.events.subscribe()
    }

    pub(crate) fn publish(&self, task: TaskView) {
        // No receivers is normal (nobody watching).
        let _ = self.events.send(task);
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    pub async fn enqueue(&self, actor: Option<&Principal>, request: EnqueueRequest) -> CoreResult<TaskView> {
        if let Some(actor) = actor {
            actor.require(Role::Designer)?;
        }
        let handler = self.handlers.get(request.kind.as_str()).ok_or_else(|| {
            CoreError::invalid(
                "kind",
                format!("unknown task kind {:?}; known kinds: {}", request.kind, self.kinds().join(", ")),
            )
        })?;
        let payload = if request.payload.is_null() { Value::Object(Default::default()) } else { request.payload };
        if serde_json::to_vec(&payload).map_err(anyhow::Error::from)?.len() > MAX_PAYLOAD_BYTES {
            return Err(CoreError::TooLarge { what: "the task payload".into(), limit: MAX_PAYLOAD_BYTES as u64 });
        }
        handler.validate(&payload)?;
        let max_attempts = request.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if !(1..=20).contains(&max_attempts) {
            return Err(CoreError::invalid("max_attempts", "max_attempts is from 1 to 20"));
        }
        let timeout = request.timeout_secs.map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        if timeout.is_zero() || timeout > MAX_TIMEOUT {
            return Err(CoreError::invalid(
                "timeout_secs",
                format!("timeout_secs is from 1 to {}", MAX_TIMEOUT.as_secs()),
            ));
        }
        if let Some(key) = &request.idempotency_key
            && (key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(CoreError::invalid(
                "idempotency_key",
                "an idempotency key has 1 to 200 visible ASCII characters",
            ));
        }
        let now = self.now();
        let record = self
            .store
            .enqueue_task(&NewTask {
                kind: request.kind,
                payload,
                max_attempts,
                timeout_ms: timeout.as_millis() as i64,
                run_after: now,
                created_by: actor.map(|a| a.user_id),
                idempotency_key: request.idempotency_key,
                now,
            })
            .await?;
        let view = TaskView::from(record);
        tracing::info!(task = view.id, kind = %view.kind, "task queued");
        self.publish(view.clone());
        self.wake.notify_waiters();
        Ok(view)
    }

    /// Tasks the caller may see: their own, or everyone's for an admin.
    pub async fn list(
        &self,
        actor: &Principal,
        state: Option<TaskState>,
        before_id: Option<i64>,
        limit: i64,
    ) -> CoreResult<Vec<TaskView>> {
        let created_by = (actor.role != Role::Admin).then_some(actor.user_id);
        let query = TaskQuery { created_by, state, before_id, limit: limit.clamp(1, 500) };
        Ok(self.store.list_tasks(&query).await?.into_iter().map(TaskView::from).collect())
    }

    pub async fn get(&self, actor: &Principal, id: i64) -> CoreResult<TaskView> {
        let task = self
            .store
            .task(id)
            .await?
            .filter(|t| visible_to(actor, t.created_by))
            .ok_or_else(|| CoreError::NotFound(format!("task {id}")))?;
        Ok(TaskView::from(task))
    }

    pub fn may_see(actor: &Principal, task: &TaskView) -> bool {
        visible_to(actor, task.created_by)
    }

    /// Cancels a queued task at once; asks the worker of a running one to stop.
    pub async fn cancel(&self, actor: &Principal, id: i64) -> CoreResult<TaskView> {
        actor.require(Role::Designer)?;
        let task = self.get(actor, id).await?;
        if task.state.is_terminal() {
            return Err(CoreError::Conflict(format!("task {id} has already ended ({})", task.state.as_str())));
        }
        let record =
            self.store.cancel_task(id, self.now()).await?.ok_or_else(|| CoreError::NotFound(format!("task {id}")))?;
        let view = TaskView::from(record);
        tracing::info!(task = id, by = actor.user_id, "task cancel requested");
        self.publish(view.clone());
        Ok(view)
    }

    pub(crate) fn handler(&self, kind: &str) -> Option<Arc<dyn TaskHandler>> {
        self.handlers.get(kind).cloned()
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub(crate) fn wake(&self) -> &Arc<Notify> {
        &self.wake
    }

    pub(crate) async fn publish_current(&self, id: i64) {
        match self.store.task(id).await {
            Ok(Some(task)) => self.publish(TaskView::from(task)),
            Ok(None) => {}
            Err(error) => tracing::warn!(task = id, %error, "cannot read a task to publish its change"),
        }
    }
}

fn visible_to(actor: &Principal, created_by: Option<i64>) -> bool {
    actor.role == Role::Admin || created_by == Some(actor.user_id)
}
