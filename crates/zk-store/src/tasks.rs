//! The durable task queue: enqueue, claim under a lease, heartbeat, finish, cancel.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Timestamp;
use crate::error::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == value)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRecord {
    pub id: i64,
    pub kind: String,
    pub payload: sqlx::types::Json<Value>,
    pub state: String,
    pub progress: i32,
    pub message: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub timeout_ms: i64,
    pub run_after: Timestamp,
    /// Proves ownership of a running task: every update by a worker names it.
    pub lease_token: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub cancel_requested: bool,
    pub result: Option<sqlx::types::Json<Value>>,
    pub error: Option<String>,
    pub created_by: Option<i64>,
    pub idempotency_key: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

impl TaskRecord {
    pub fn state(&self) -> TaskState {
        TaskState::parse(&self.state).unwrap_or(TaskState::Failed)
    }
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub kind: String,
    pub payload: Value,
    pub max_attempts: i32,
    pub timeout_ms: i64,
    pub run_after: Timestamp,
    pub created_by: Option<i64>,
    /// Enqueueing again with the same key (and creator) returns the first task instead of a new one.
    pub idempotency_key: Option<String>,
    pub now: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    pub created_by: Option<i64>,
    pub state: Option<TaskState>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// How a running task ends, as told by the worker that holds its lease.
#[derive(Debug, Clone)]
pub enum TaskOutcome {
    Succeeded {
        result: Value,
    },
    /// Failed for good (attempts used up, time limit, or an error not worth retrying).
    Failed {
        error: String,
    },
    /// Back to the queue, to run again at `run_after`.
    Retry {
        error: String,
        run_after: Timestamp,
    },
    Cancelled,
    /// Handed back without counting as an attempt (graceful shutdown).
    Released,
}

/// The durable task queue. Every update by a worker names its lease token; one that lost its lease changes nothing.
///
/// Methods that take a `now` never read the clock themselves: the caller's clock decides.
#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Inserts a queued task, or returns the existing one with the same creator and idempotency key.
    async fn enqueue_task(&self, task: &NewTask) -> StoreResult<TaskRecord>;
    async fn task(&self, id: i64) -> StoreResult<Option<TaskRecord>>;
    async fn list_tasks(&self, query: &TaskQuery) -> StoreResult<Vec<TaskRecord>>;
    /// Claims the next runnable task of one of `kinds`: queued and due, or running with an expired
    /// lease (its worker died). Bumps `attempts`, sets a fresh lease.
    async fn claim_task(
        &self,
        kinds: &[String],
        lease_token: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<TaskRecord>>;
    /// Extends the lease and records progress. `None` when the lease is no longer ours, else whether
    /// a cancel was requested.
    async fn heartbeat_task(
        &self,
        id: i64,
        lease_token: &str,
        progress: i32,
        message: Option<&str>,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<bool>>;
    /// Ends a running task; false (and nothing changes) when the lease is no longer ours.
    async fn finish_task(&self, id: i64, lease_token: &str, outcome: &TaskOutcome, now: Timestamp)
    -> StoreResult<bool>;
    /// Cancels a queued task at once, or flags a running one for its worker; returns the new row.
    async fn cancel_task(&self, id: i64, now: Timestamp) -> StoreResult<Option<TaskRecord>>;
    /// Tasks updated after `since`, for change feeds across server instances.
    async fn tasks_updated_since(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<TaskRecord>>;
    /// The queue at `now`: tasks queued and running, and the earliest `run_after` among queued tasks
    /// that may run now (a retry waiting for its time is not late).
    async fn queue_stats(&self, now: Timestamp) -> StoreResult<QueueStats>;
}

/// The queue at a moment (see [`TaskStore::queue_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    pub oldest_ready: Option<Timestamp>,
}

/// Implements [`TaskStore`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`. `$claim` is the backend's task-claim statement, binding kinds (JSON array), lease token, now, lease end.
macro_rules! impl_task_store {
    ($store:ty, $db:ty, $claim:expr) => {
        #[async_trait::async_trait]
        impl $crate::TaskStore for $store {
            async fn enqueue_task(&self, task: &NewTask) -> StoreResult<TaskRecord> {
                let inserted = sqlx::query_as::<$db, TaskRecord>(
                    "INSERT INTO tasks (kind, payload, state, progress, attempts, max_attempts, timeout_ms, run_after, \
                     cancel_requested, created_by, idempotency_key, created_at, updated_at) \
                     VALUES ($1, $2, 'queued', 0, 0, $3, $4, $5, FALSE, $6, $8, $7, $7) RETURNING *",
                )
                .bind(&task.kind)
                .bind(sqlx::types::Json(&task.payload))
                .bind(task.max_attempts)
                .bind(task.timeout_ms)
                .bind(task.run_after)
                .bind(task.created_by)
                .bind(task.now)
                .bind(&task.idempotency_key)
                .fetch_one(&self.pool)
                .await;
                match (inserted, &task.idempotency_key) {
                    (Ok(record), _) => Ok(record),
                    // The key was used before (perhaps by a request whose answer was lost): that task.
                    (Err(sqlx::Error::Database(e)), Some(key)) if e.is_unique_violation() => {
                        Ok(sqlx::query_as::<$db, TaskRecord>(
                            "SELECT * FROM tasks WHERE idempotency_key = $1 AND created_by = $2",
                        )
                        .bind(key)
                        .bind(task.created_by)
                        .fetch_one(&self.pool)
                        .await?)
                    }
                    (Err(e), _) => Err(e.into()),
                }
            }

            async fn task(&self, id: i64) -> StoreResult<Option<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>("SELECT * FROM tasks WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn list_tasks(&self, query: &TaskQuery) -> StoreResult<Vec<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>(
                    "SELECT * FROM tasks WHERE ($1 IS NULL OR created_by = $1) AND ($2 IS NULL OR state = $2) \
                     AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
                )
                .bind(query.created_by)
                .bind(query.state.map(TaskState::as_str))
                .bind(query.before_id)
                .bind(query.limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn claim_task(&self, kinds: &[String], lease_token: &str, now: Timestamp, lease_until: Timestamp) -> StoreResult<Option<TaskRecord>> {
                let kinds = serde_json::to_string(kinds).map_err(anyhow::Error::from)?;
                Ok(sqlx::query_as::<$db, TaskRecord>($claim)
                    .bind(kinds)
                    .bind(lease_token)
                    .bind(now)
                    .bind(lease_until)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn heartbeat_task(
                &self,
                id: i64,
                lease_token: &str,
                progress: i32,
                message: Option<&str>,
                now: Timestamp,
                lease_until: Timestamp,
            ) -> StoreResult<Option<bool>> {
                Ok(sqlx::query_scalar::<$db, bool>(
                    "UPDATE tasks SET progress = $3, message = COALESCE($4, message), lease_until = $6, updated_at = $5 \
                     WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING cancel_requested",
                )
                .bind(id)
                .bind(lease_token)
                .bind(progress.clamp(0, 100))
                .bind(message)
                .bind(now)
                .bind(lease_until)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn finish_task(&self, id: i64, lease_token: &str, outcome: &TaskOutcome, now: Timestamp) -> StoreResult<bool> {
                let query = match outcome {
                    TaskOutcome::Succeeded { result } => sqlx::query(
                        "UPDATE tasks SET state = 'succeeded', progress = 100, result = $4, error = NULL, lease_token = NULL, \
                             lease_until = NULL, finished_at = $3, updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'",
                    )
                    .bind(id)
                    .bind(lease_token)
                    .bind(now)
                    .bind(sqlx::types::Json(result)),
                    TaskOutcome::Failed { error } => sqlx::query("UPDATE tasks SET state = 'failed', error = $4, lease_token = NULL, lease_until = NULL, \
                         finished_at = $3, updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now)
                    .bind(error),
                    TaskOutcome::Retry { error, run_after } => sqlx::query("UPDATE tasks SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, error = $4, \
                         run_after = $5, lease_token = NULL, lease_until = NULL, updated_at = $3, \
                         finished_at = CASE WHEN cancel_requested THEN $3 ELSE finished_at END WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now)
                    .bind(error)
                    .bind(*run_after),
                    TaskOutcome::Cancelled => sqlx::query("UPDATE tasks SET state = 'cancelled', lease_token = NULL, lease_until = NULL, finished_at = $3, updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now),
                    TaskOutcome::Released => sqlx::query("UPDATE tasks SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, \
                         attempts = attempts - 1, run_after = $3, lease_token = NULL, lease_until = NULL, updated_at = $3, \
                         finished_at = CASE WHEN cancel_requested THEN $3 ELSE finished_at END WHERE id = $1 AND lease_token = $2 AND state = 'running'")
                    .bind(id)
                    .bind(lease_token)
                    .bind(now),
                };
                Ok(query.execute(&self.pool).await?.rows_affected() == 1)
            }

            async fn cancel_task(&self, id: i64, now: Timestamp) -> StoreResult<Option<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>(
                    "UPDATE tasks SET \
                       state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END, \
                       finished_at = CASE WHEN state = 'queued' THEN $2 ELSE finished_at END, \
                       cancel_requested = CASE WHEN state = 'running' THEN TRUE ELSE cancel_requested END, \
                       updated_at = CASE WHEN state IN ('queued', 'running') THEN $2 ELSE updated_at END \
                     WHERE id = $1 RETURNING *",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn queue_stats(&self, now: Timestamp) -> StoreResult<QueueStats> {
                let (queued, running) = sqlx::query_as::<$db, (i64, i64)>(
                    "SELECT COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0), \
                     COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) \
                     FROM tasks WHERE state IN ('queued', 'running')",
                )
                .fetch_one(&self.pool)
                .await?;
                let (oldest_ready,) =
                    sqlx::query_as::<$db, (Option<Timestamp>,)>("SELECT MIN(run_after) FROM tasks WHERE state = 'queued' AND run_after <= $1")
                        .bind(now)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(QueueStats { queued, running, oldest_ready })
            }

            async fn tasks_updated_since(&self, since: Timestamp, limit: i64) -> StoreResult<Vec<TaskRecord>> {
                Ok(sqlx::query_as::<$db, TaskRecord>("SELECT * FROM tasks WHERE updated_at > $1 ORDER BY updated_at, id LIMIT $2")
                    .bind(since)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?)
            }
        }
    };
}

pub(crate) use impl_task_store;
