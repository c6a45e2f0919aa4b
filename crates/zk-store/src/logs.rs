//! The audit log and the error log: appended, then listed newest first.

use async_trait::async_trait;
use serde_json::Value;

use crate::Timestamp;
use crate::error::StoreResult;

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

/// The audit log (who did what) and the error log (ERROR events).
///
/// Methods that take a `now` never read the clock themselves: the caller's clock decides.
#[async_trait]
pub trait LogStore: Send + Sync {
    async fn append_audit(&self, entry: &NewAuditEntry, now: Timestamp) -> StoreResult<i64>;
    async fn audit_entries(&self, query: &LogQuery) -> StoreResult<Vec<AuditRecord>>;
    async fn append_error(&self, entry: &NewErrorEntry) -> StoreResult<i64>;
    async fn error_entries(&self, query: &LogQuery) -> StoreResult<Vec<ErrorRecord>>;
}

/// Implements [`LogStore`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
macro_rules! impl_log_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::LogStore for $store {
            async fn append_audit(&self, entry: &NewAuditEntry, now: Timestamp) -> StoreResult<i64> {
                $crate::logs::append_audit!($db, &self.pool, entry, now)
            }

            async fn audit_entries(&self, query: &LogQuery) -> StoreResult<Vec<AuditRecord>> {
                Ok(sqlx::query_as::<$db, AuditRecord>(
                    "SELECT * FROM audit_log WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(&query.kind)
                .bind(query.before_id)
                .bind(query.limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn append_error(&self, entry: &NewErrorEntry) -> StoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>(
                    "INSERT INTO error_log (at, level, source, message, request_id, user_id, context) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(entry.at)
                .bind(&entry.level)
                .bind(&entry.source)
                .bind(&entry.message)
                .bind(&entry.request_id)
                .bind(entry.user_id)
                .bind(sqlx::types::Json(&entry.context))
                .fetch_one(&self.pool)
                .await?)
            }

            async fn error_entries(&self, query: &LogQuery) -> StoreResult<Vec<ErrorRecord>> {
                Ok(sqlx::query_as::<$db, ErrorRecord>(
                    "SELECT * FROM error_log WHERE ($1 IS NULL OR level = $1) AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(&query.kind)
                .bind(query.before_id)
                .bind(query.limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

/// Appends an audit entry on `$executor` (the pool, or a unit of work's transaction); its id.
macro_rules! append_audit {
    ($db:ty, $executor:expr, $entry:expr, $now:expr) => {{
        let entry: &$crate::NewAuditEntry = $entry;
        sqlx::query_scalar::<$db, i64>(
            "INSERT INTO audit_log (at, actor_id, actor_name, action, target, outcome, ip, request_id, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind($now)
        .bind(entry.actor_id)
        .bind(&entry.actor_name)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.outcome)
        .bind(&entry.ip)
        .bind(&entry.request_id)
        .bind(sqlx::types::Json(&entry.details))
        .fetch_one($executor)
        .await
        .map_err($crate::StoreError::from)
    }};
}

pub(crate) use {append_audit, impl_log_store};
