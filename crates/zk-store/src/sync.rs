//! The outbox of object-storage sync: one row per stored content (its SHA-256), written in the same
//! transaction as the file row that brings it (see [`crate::files`]), claimed under a lease by the
//! sync service of any instance, and turned into a tombstone when the last file referencing the
//! content is deleted.

use async_trait::async_trait;

use crate::Timestamp;
use crate::error::StoreResult;

/// What the bucket must end up with for a content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOp {
    /// The object, under its content address.
    Upload,
    /// No object: no file references the content any more (a tombstone).
    Delete,
}

impl SyncOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Delete => "delete",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Upload, Self::Delete].into_iter().find(|op| op.as_str() == value)
    }
}

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// Due at `next_attempt_at`.
    Pending,
    /// Claimed by a sync service under a lease (`claimed_by`, `lease_until`).
    Uploading,
    /// The bucket agrees with the row's op.
    Synced,
    /// Given up until someone asks again ([`SyncStore::requeue_sync`]).
    Failed,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Uploading => "uploading",
            Self::Synced => "synced",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Pending, Self::Uploading, Self::Synced, Self::Failed].into_iter().find(|s| s.as_str() == value)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SyncRecord {
    pub sha256: String,
    pub size: i64,
    /// `upload` or `delete` ([`SyncOp`]).
    pub op: String,
    /// `pending`, `uploading`, `synced` or `failed` ([`SyncState`]).
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    /// The multipart upload in progress, if any, and the ETags of its completed parts in order.
    pub upload_id: Option<String>,
    pub parts: sqlx::types::Json<Vec<String>>,
    /// Proves ownership of a claimed row: every update by a sync service names it.
    pub claimed_by: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub synced_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SyncRecord {
    pub fn op(&self) -> Option<SyncOp> {
        SyncOp::parse(&self.op)
    }

    pub fn state(&self) -> Option<SyncState> {
        SyncState::parse(&self.state)
    }
}

/// The outbox in numbers, for status views.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncCounts {
    /// Uploads not yet done (pending or in flight), and their bytes.
    pub pending: i64,
    pub pending_bytes: i64,
    /// Tombstones not yet applied.
    pub deleting: i64,
    pub failed: i64,
    pub synced: i64,
}

/// The outbox of object-storage sync.
///
/// Methods that take a `now` never read the clock themselves: the caller's clock decides.
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Claims the most overdue row (pending and due, or claimed under a lease that ran out) for
    /// `token` until `lease_until`, counting an attempt. Two callers never get the same row while
    /// its lease runs.
    async fn claim_sync(&self, token: &str, now: Timestamp, lease_until: Timestamp) -> StoreResult<Option<SyncRecord>>;
    /// Records a multipart upload's progress and extends the lease; false when the lease is no
    /// longer `token`'s.
    async fn sync_progress(
        &self,
        sha256: &str,
        token: &str,
        upload_id: Option<&str>,
        parts: &[String],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<bool>;
    /// `done` was carried out: the row is synced, or pending again when its op changed meanwhile (a
    /// file deleted during its upload, or stored again during its deletion). False when the lease
    /// is no longer `token`'s.
    async fn finish_sync(&self, sha256: &str, token: &str, done: SyncOp, now: Timestamp) -> StoreResult<bool>;
    /// The attempt failed for a passing reason: pending again from `next_attempt_at`, keeping a
    /// multipart upload's progress.
    async fn defer_sync(
        &self,
        sha256: &str,
        token: &str,
        error: &str,
        next_attempt_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// The attempt failed for a reason retrying cannot mend: failed until requeued.
    async fn fail_sync(&self, sha256: &str, token: &str, error: &str, now: Timestamp) -> StoreResult<bool>;
    /// Failed rows become pending (attempts from zero) and every pending row is due at `now`: "sync
    /// now". Returns how many rows changed.
    async fn requeue_sync(&self, now: Timestamp) -> StoreResult<u64>;
    async fn sync_record(&self, sha256: &str) -> StoreResult<Option<SyncRecord>>;
    /// Rows in content order after `after`, at most `limit`.
    async fn sync_records(&self, after: Option<&str>, limit: i64) -> StoreResult<Vec<SyncRecord>>;
    async fn sync_counts(&self) -> StoreResult<SyncCounts>;
    /// The error of the most recently updated row that is not synced, if it has one.
    async fn last_sync_error(&self) -> StoreResult<Option<String>>;
}

/// Implements [`SyncStore`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`. `$claim` is the
/// backend's claim statement, binding token, now, lease end.
macro_rules! impl_sync_store {
    ($store:ty, $db:ty, $claim:expr) => {
        #[async_trait::async_trait]
        impl $crate::SyncStore for $store {
            async fn claim_sync(
                &self,
                token: &str,
                now: Timestamp,
                lease_until: Timestamp,
            ) -> StoreResult<Option<$crate::SyncRecord>> {
                Ok(sqlx::query_as::<$db, $crate::SyncRecord>($claim)
                    .bind(token)
                    .bind(now)
                    .bind(lease_until)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn sync_progress(
                &self,
                sha256: &str,
                token: &str,
                upload_id: Option<&str>,
                parts: &[String],
                now: Timestamp,
                lease_until: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query::<$db>(
                    "UPDATE object_sync SET upload_id = $3, parts = $4, lease_until = $6, updated_at = $5 \
                     WHERE sha256 = $1 AND claimed_by = $2 AND state = 'uploading'",
                )
                .bind(sha256)
                .bind(token)
                .bind(upload_id)
                .bind(sqlx::types::Json(parts))
                .bind(now)
                .bind(lease_until)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn finish_sync(
                &self,
                sha256: &str,
                token: &str,
                done: $crate::SyncOp,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query::<$db>(
                    "UPDATE object_sync SET \
                       state = CASE WHEN op = $3 THEN 'synced' ELSE 'pending' END, \
                       attempts = CASE WHEN op = $3 THEN attempts ELSE 0 END, \
                       synced_at = CASE WHEN op = $3 THEN $4 ELSE synced_at END, \
                       next_attempt_at = $4, last_error = NULL, upload_id = NULL, parts = '[]', \
                       claimed_by = NULL, lease_until = NULL, updated_at = $4 \
                     WHERE sha256 = $1 AND claimed_by = $2 AND state = 'uploading'",
                )
                .bind(sha256)
                .bind(token)
                .bind(done.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn defer_sync(
                &self,
                sha256: &str,
                token: &str,
                error: &str,
                next_attempt_at: Timestamp,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let done = sqlx::query::<$db>(
                    "UPDATE object_sync SET state = 'pending', last_error = $3, next_attempt_at = $4, \
                       claimed_by = NULL, lease_until = NULL, updated_at = $5 \
                     WHERE sha256 = $1 AND claimed_by = $2 AND state = 'uploading'",
                )
                .bind(sha256)
                .bind(token)
                .bind(error)
                .bind(next_attempt_at)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn fail_sync(&self, sha256: &str, token: &str, error: &str, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query::<$db>(
                    "UPDATE object_sync SET state = 'failed', last_error = $3, claimed_by = NULL, \
                       lease_until = NULL, updated_at = $4 \
                     WHERE sha256 = $1 AND claimed_by = $2 AND state = 'uploading'",
                )
                .bind(sha256)
                .bind(token)
                .bind(error)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn requeue_sync(&self, now: Timestamp) -> StoreResult<u64> {
                let done = sqlx::query::<$db>(
                    "UPDATE object_sync SET state = 'pending', next_attempt_at = $1, \
                       attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, updated_at = $1 \
                     WHERE state = 'failed' OR (state = 'pending' AND next_attempt_at > $1)",
                )
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn sync_record(&self, sha256: &str) -> StoreResult<Option<$crate::SyncRecord>> {
                Ok(sqlx::query_as::<$db, $crate::SyncRecord>("SELECT * FROM object_sync WHERE sha256 = $1")
                    .bind(sha256)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn sync_records(&self, after: Option<&str>, limit: i64) -> StoreResult<Vec<$crate::SyncRecord>> {
                Ok(sqlx::query_as::<$db, $crate::SyncRecord>(
                    "SELECT * FROM object_sync WHERE ($1 IS NULL OR sha256 > $1) ORDER BY sha256 LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn sync_counts(&self) -> StoreResult<$crate::SyncCounts> {
                Ok(sqlx::query_as::<$db, $crate::SyncCounts>(
                    "SELECT \
                       CAST(COALESCE(SUM(CASE WHEN op = 'upload' AND state IN ('pending', 'uploading') THEN 1 ELSE 0 END), 0) AS BIGINT) \
                         AS pending, \
                       CAST(COALESCE(SUM(CASE WHEN op = 'upload' AND state IN ('pending', 'uploading') THEN size ELSE 0 END), 0) AS BIGINT) \
                         AS pending_bytes, \
                       CAST(COALESCE(SUM(CASE WHEN op = 'delete' AND state IN ('pending', 'uploading') THEN 1 ELSE 0 END), 0) AS BIGINT) \
                         AS deleting, \
                       CAST(COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed, \
                       CAST(COALESCE(SUM(CASE WHEN op = 'upload' AND state = 'synced' THEN 1 ELSE 0 END), 0) AS BIGINT) AS synced \
                     FROM object_sync",
                )
                .fetch_one(&self.pool)
                .await?)
            }

            async fn last_sync_error(&self) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar::<$db, String>(
                    "SELECT last_error FROM object_sync WHERE state <> 'synced' AND last_error IS NOT NULL \
                     ORDER BY updated_at DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?)
            }
        }
    };
}

/// Queues the content of a file row just inserted on `$executor` (the file's transaction): a new
/// content is pending; a content whose tombstone was not yet applied, or was, is to be uploaded
/// again; a content already queued or synced is left as it is.
macro_rules! queue_upload {
    ($db:ty, $executor:expr, $file:expr) => {{
        let file: &$crate::FileRecord = $file;
        sqlx::query::<$db>(
            "INSERT INTO object_sync (sha256, size, op, state, attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, 'upload', 'pending', 0, $3, $3, $3) \
             ON CONFLICT (sha256) DO UPDATE SET \
               op = 'upload', \
               state = CASE WHEN object_sync.op = 'delete' AND object_sync.state <> 'uploading' \
                 THEN 'pending' ELSE object_sync.state END, \
               attempts = CASE WHEN object_sync.op = 'delete' THEN 0 ELSE object_sync.attempts END, \
               next_attempt_at = CASE WHEN object_sync.op = 'delete' \
                 THEN excluded.next_attempt_at ELSE object_sync.next_attempt_at END, \
               updated_at = CASE WHEN object_sync.op = 'delete' \
                 THEN excluded.updated_at ELSE object_sync.updated_at END",
        )
        .bind(&file.sha256)
        .bind(file.size)
        .bind(file.created_at)
        .execute($executor)
        .await
        .map(|_| ())
        .map_err($crate::StoreError::from)
    }};
}

/// Turns the outbox row of `$sha256` into a tombstone on `$executor` (the deletion's transaction),
/// once no file references the content. A row being uploaded stays claimed: its service finishes
/// and then finds the op changed.
macro_rules! queue_delete {
    ($db:ty, $executor:expr, $sha256:expr) => {{
        let sha256: &str = $sha256;
        sqlx::query::<$db>(
            "UPDATE object_sync SET op = 'delete', attempts = 0, last_error = NULL, \
               state = CASE WHEN state = 'uploading' THEN 'uploading' ELSE 'pending' END \
             WHERE sha256 = $1",
        )
        .bind(sha256)
        .execute($executor)
        .await
        .map(|_| ())
        .map_err($crate::StoreError::from)
    }};
}

pub(crate) use {impl_sync_store, queue_delete, queue_upload};
