//! Stored files' metadata; the bytes live in the file store under their SHA-256.

use async_trait::async_trait;

use crate::Timestamp;
use crate::error::StoreResult;

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

/// Which files a read returns. Who may read what is the file service's rule; this names the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileScope {
    /// Every file.
    All,
    /// The files this user uploaded, and the files used by something every signed-in user sees:
    /// a CAD library drawing's file (`cad_drawings.file_id`).
    OwnAndShared(i64),
}

impl FileScope {
    /// The user whose files the scope holds besides the shared ones; `None` for every file.
    pub(crate) fn user(self) -> Option<i64> {
        match self {
            Self::All => None,
            Self::OwnAndShared(user_id) => Some(user_id),
        }
    }
}

/// Files' metadata.
///
/// Methods that take a `now` never read the clock themselves: the caller's clock decides.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Inserts the row and queues its content for object-storage sync, in one transaction.
    async fn insert_file(&self, file: &FileRecord) -> StoreResult<()>;
    async fn file(&self, id: &str) -> StoreResult<Option<FileRecord>>;
    /// The file, when it is in `scope`.
    async fn scoped_file(&self, id: &str, scope: FileScope) -> StoreResult<Option<FileRecord>>;
    /// The files in `scope`, newest id first, older than `before` when given.
    async fn list_files(&self, scope: FileScope, before: Option<&str>, limit: i64) -> StoreResult<Vec<FileRecord>>;
    /// Deletes the row; returns how many rows still reference the same content. When none does, the
    /// content's outbox row becomes a tombstone in the same transaction.
    async fn delete_file(&self, id: &str) -> StoreResult<Option<i64>>;
}

/// Implements [`FileStore`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
macro_rules! impl_file_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::FileStore for $store {
            async fn insert_file(&self, file: &FileRecord) -> StoreResult<()> {
                // The file row and its outbox row commit together.
                let mut tx = self.pool.begin().await?;
                $crate::files::insert_file!($db, &mut *tx, file)?;
                tx.commit().await?;
                Ok(())
            }

            async fn file(&self, id: &str) -> StoreResult<Option<FileRecord>> {
                Ok(sqlx::query_as::<$db, FileRecord>("SELECT * FROM files WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn scoped_file(&self, id: &str, scope: $crate::FileScope) -> StoreResult<Option<FileRecord>> {
                Ok(sqlx::query_as::<$db, FileRecord>(concat!(
                    "SELECT * FROM files WHERE id = $2 AND ",
                    $crate::files::in_scope!()
                ))
                .bind(scope.user())
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn list_files(
                &self,
                scope: $crate::FileScope,
                before: Option<&str>,
                limit: i64,
            ) -> StoreResult<Vec<FileRecord>> {
                Ok(sqlx::query_as::<$db, FileRecord>(concat!(
                    "SELECT * FROM files WHERE ($2 IS NULL OR id < $2) AND ",
                    $crate::files::in_scope!(),
                    " ORDER BY id DESC LIMIT $3"
                ))
                .bind(scope.user())
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn delete_file(&self, id: &str) -> StoreResult<Option<i64>> {
                let mut tx = self.pool.begin().await?;
                let Some(sha256) =
                    sqlx::query_scalar::<$db, String>("DELETE FROM files WHERE id = $1 RETURNING sha256")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                else {
                    return Ok(None);
                };
                let remaining = sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM files WHERE sha256 = $1")
                    .bind(&sha256)
                    .fetch_one(&mut *tx)
                    .await?;
                if remaining == 0 {
                    // The last reference went: the bucket's copy goes too.
                    $crate::sync::queue_delete!($db, &mut *tx, &sha256)?;
                }
                tx.commit().await?;
                Ok(Some(remaining))
            }
        }
    };
}

/// The condition of [`FileScope`] on a row of `files`, with the scope's user (or NULL for every file)
/// bound as `$1`.
macro_rules! in_scope {
    () => {
        "($1 IS NULL OR files.uploaded_by = $1 \
          OR EXISTS (SELECT 1 FROM cad_drawings d WHERE d.file_id = files.id))"
    };
}

/// Inserts a file row and queues its content for object-storage sync (see [`crate::SyncStore`]) on
/// `$executor`, a transaction: the store's own, or a unit of work's.
macro_rules! insert_file {
    ($db:ty, $executor:expr, $file:expr) => {{
        let file: &$crate::FileRecord = $file;
        let inserted = sqlx::query::<$db>(
            "INSERT INTO files (id, sha256, size, media_type, original_name, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&file.id)
        .bind(&file.sha256)
        .bind(file.size)
        .bind(&file.media_type)
        .bind(&file.original_name)
        .bind(file.uploaded_by)
        .bind(file.created_at)
        .execute($executor)
        .await
        .map(|_| ())
        .map_err($crate::StoreError::from);
        match inserted {
            Ok(()) => $crate::sync::queue_upload!($db, $executor, file),
            Err(error) => Err(error),
        }
    }};
}

pub(crate) use {impl_file_store, in_scope, insert_file};
