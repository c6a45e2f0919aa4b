//! Storage: one [`Store`] interface, implemented for SQLite and for PostgreSQL.
//!
//! Architecture invariant: only this module speaks SQL. Both backends run the same SQL text (see
//! [`sql`]); they differ in connection setup, migrations and the task-claim statement.

mod agents;
pub(crate) mod cad;
mod conversations;
mod postgres;
mod sql;
mod sqlite;
mod timestamp;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use agents::{AgentRecord, AgentStore, AgentVersionRecord, AgentWrite};
pub use cad::{
    CadAnalysisOutcome, CadAnalysisRecord, CadDrawingRecord, CadDrawingWrite, CadStore, NewCadAnalysis, NewCadDrawing,
};
pub use conversations::{
    ConversationCursor, ConversationRecord, ConversationStore, MessageHitRecord, MessageRecord, MessageUpdate,
    NewConversation, NewMessage, search_key,
};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use timestamp::Timestamp;

use crate::config::DatabaseConfig;
use crate::error::CoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Designer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Designer => "designer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "viewer" => Some(Self::Viewer),
            "designer" => Some(Self::Designer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub username_key: String,
    pub display_name: String,
    /// PHC string; `None` for the desktop's local owner, who never types a password.
    pub password_hash: Option<String>,
    pub role: String,
    pub disabled: bool,
    pub failed_logins: i32,
    pub last_failed_login_at: Option<Timestamp>,
    /// Access tokens issued before this instant are rejected (password change, disable).
    pub tokens_valid_after: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl UserRecord {
    /// The stored role; a row with an unknown role (edited by hand) gets the least privilege.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: Role,
    pub now: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: i64,
    pub client: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRecord {
    pub id: i64,
    pub session_id: String,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConfigEntry {
    pub key: String,
    pub value: sqlx::types::Json<Value>,
    pub updated_at: Timestamp,
    pub updated_by: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub target: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: Value,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: Timestamp,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: sqlx::types::Json<Value>,
}

#[derive(Debug, Clone)]
pub struct NewErrorEntry {
    pub at: Timestamp,
    pub level: String,
    pub source: String,
    pub message: String,
    pub request_id: Option<String>,
    pub user_id: Option<i64>,
    pub context: Value,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ErrorRecord {
    pub id: i64,
    pub at: Timestamp,
    pub level: String,
    pub source: String,
    pub message: String,
    pub request_id: Option<String>,
    pub user_id: Option<i64>,
    pub context: sqlx::types::Json<Value>,
}

/// Filters for the log listings, newest first; `before_id` pages backwards.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub kind: Option<String>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRecord {
    pub id: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub original_name: String,
    pub uploaded_by: Option<i64>,
    pub created_at: Timestamp,
}

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

/// Everything the core persists. Implemented by [`SqliteStore`] and [`PostgresStore`]; agents,
/// conversations and the CAD library have their own traits (and files), which every store implements too.
///
/// Methods that take a `now` never read the clock themselves: the caller's clock decides.
#[async_trait]
pub trait Store: AgentStore + ConversationStore + CadStore + Send + Sync + 'static {
    fn backend(&self) -> &'static str;
    /// Applies pending migrations of this backend.
    async fn migrate(&self) -> CoreResult<()>;
    /// Applied and known migration counts: `(applied, known)`.
    async fn migration_status(&self) -> CoreResult<(usize, usize)>;
    /// A round trip to the database.
    async fn ping(&self) -> CoreResult<()>;
    async fn close(&self);

    // Users
    async fn create_user(&self, user: NewUser) -> CoreResult<UserRecord>;
    async fn user(&self, id: i64) -> CoreResult<Option<UserRecord>>;
    async fn user_by_username(&self, username: &str) -> CoreResult<Option<UserRecord>>;
    async fn list_users(&self) -> CoreResult<Vec<UserRecord>>;
    async fn count_users(&self) -> CoreResult<i64>;
    async fn set_user_role(&self, id: i64, role: Role, now: Timestamp) -> CoreResult<bool>;
    /// Disabling also moves `tokens_valid_after` to `now`.
    async fn set_user_disabled(&self, id: i64, disabled: bool, now: Timestamp) -> CoreResult<bool>;
    /// Stores a new hash and moves `tokens_valid_after` to `now`.
    async fn set_password_hash(&self, id: i64, hash: &str, now: Timestamp) -> CoreResult<bool>;
    /// Replaces the hash without revoking anything (re-hash with stronger parameters at login).
    async fn upgrade_password_hash(&self, id: i64, hash: &str) -> CoreResult<()>;
    /// Counts a failed sign-in and returns the new count.
    async fn record_login_failure(&self, id: i64, now: Timestamp) -> CoreResult<i32>;
    async fn clear_login_failures(&self, id: i64) -> CoreResult<()>;

    // Sessions and refresh tokens
    async fn create_session(&self, session: &SessionRecord) -> CoreResult<()>;
    async fn session(&self, id: &str) -> CoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, id: &str, now: Timestamp) -> CoreResult<()>;
    /// Revokes one session (a refresh-token family); false when it was already revoked.
    async fn revoke_session(&self, id: &str, reason: &str, now: Timestamp) -> CoreResult<bool>;
    /// Revokes every live session of a user; returns the revoked session ids.
    async fn revoke_user_sessions(&self, user_id: i64, reason: &str, now: Timestamp) -> CoreResult<Vec<String>>;
    async fn insert_refresh_token(
        &self,
        session_id: &str,
        token_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> CoreResult<()>;
    async fn refresh_token(&self, token_hash: &str) -> CoreResult<Option<RefreshTokenRecord>>;
    /// Marks a refresh token used, atomically: only the first caller gets `true`.
    async fn consume_refresh_token(&self, id: i64, now: Timestamp) -> CoreResult<bool>;

    // System configuration
    async fn config_entries(&self) -> CoreResult<Vec<ConfigEntry>>;
    async fn config_entry(&self, key: &str) -> CoreResult<Option<ConfigEntry>>;
    async fn set_config_entry(&self, key: &str, value: &Value, by: Option<i64>, now: Timestamp) -> CoreResult<()>;

    // Logs
    async fn append_audit(&self, entry: &NewAuditEntry, now: Timestamp) -> CoreResult<i64>;
    async fn audit_entries(&self, query: &LogQuery) -> CoreResult<Vec<AuditRecord>>;
    async fn append_error(&self, entry: &NewErrorEntry) -> CoreResult<i64>;
    async fn error_entries(&self, query: &LogQuery) -> CoreResult<Vec<ErrorRecord>>;

    // Files
    async fn insert_file(&self, file: &FileRecord) -> CoreResult<()>;
    async fn file(&self, id: &str) -> CoreResult<Option<FileRecord>>;
    async fn list_files(&self, before: Option<&str>, limit: i64) -> CoreResult<Vec<FileRecord>>;
    /// Deletes the row; returns how many rows still reference the same content.
    async fn delete_file(&self, id: &str) -> CoreResult<Option<i64>>;

    // Tasks
    /// Inserts a queued task, or returns the existing one with the same creator and idempotency key.
    async fn enqueue_task(&self, task: &NewTask) -> CoreResult<TaskRecord>;
    async fn task(&self, id: i64) -> CoreResult<Option<TaskRecord>>;
    async fn list_tasks(&self, query: &TaskQuery) -> CoreResult<Vec<TaskRecord>>;
    /// Claims the next runnable task of one of `kinds`: queued and due, or running with an expired
    /// lease (its worker died). Bumps `attempts`, sets a fresh lease.
    async fn claim_task(
        &self,
        kinds: &[String],
        lease_token: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> CoreResult<Option<TaskRecord>>;
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
    ) -> CoreResult<Option<bool>>;
    /// Ends a running task; false (and nothing changes) when the lease is no longer ours.
    async fn finish_task(&self, id: i64, lease_token: &str, outcome: &TaskOutcome, now: Timestamp) -> CoreResult<bool>;
    /// Cancels a queued task at once, or flags a running one for its worker; returns the new row.
    async fn cancel_task(&self, id: i64, now: Timestamp) -> CoreResult<Option<TaskRecord>>;
    /// Tasks updated after `since`, for change feeds across server instances.
    async fn tasks_updated_since(&self, since: Timestamp, limit: i64) -> CoreResult<Vec<TaskRecord>>;
}

/// Opens the configured database; callers apply migrations ([`Store::migrate`]) when they want them.
pub async fn open(config: &DatabaseConfig) -> CoreResult<std::sync::Arc<dyn Store>> {
    let store: std::sync::Arc<dyn Store> = match config {
        DatabaseConfig::Sqlite { path } => std::sync::Arc::new(SqliteStore::open(path).await?),
        DatabaseConfig::Postgres { connect, pool_max, pool_min, acquire_timeout, .. } => std::sync::Arc::new(
            PostgresStore::connect((**connect.expose()).clone(), *pool_max, *pool_min, *acquire_timeout).await?,
        ),
    };
    Ok(store)
}
