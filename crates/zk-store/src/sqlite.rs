//! SQLite: the offline default. One file in the data dir, WAL journal, `synchronous=NORMAL`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use serde_json::Value;

use super::sql::impl_store;
use super::*;
use crate::error::StoreError;

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

    /// Opens (creating if missing) the database file and checks it is not damaged.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unusable(format!("cannot create the database directory {}: {e}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(anyhow::Error::from)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode is durable against application crashes; a power cut may lose the last
            // transactions but never corrupts the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        let store = Self { pool };
        store.check_integrity(path).await?;
        Ok(store)
    }

    /// `PRAGMA quick_check`: a damaged file is refused, never silently replaced by an empty one.
    async fn check_integrity(&self, path: &Path) -> StoreResult<()> {
        let verdict: Result<String, sqlx::Error> = sqlx::query_scalar("PRAGMA quick_check").fetch_one(&self.pool).await;
        match verdict {
            Ok(ok) if ok == "ok" => Ok(()),
            Ok(problem) => Err(StoreError::Unusable(format!(
                "the database {} is damaged ({problem}); restore it from a backup or move it aside",
                path.display()
            ))),
            Err(e) => Err(StoreError::Unusable(format!(
                "the database {} cannot be read ({e}); restore it from a backup or move it aside",
                path.display()
            ))),
        }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

// Without row locks, SQLite serialises writers; the single UPDATE … RETURNING is atomic.
impl_store!(
    SqliteStore,
    sqlx::Sqlite,
    "UPDATE tasks SET state = 'running', attempts = attempts + 1, lease_token = $2, lease_until = $4, \
       progress = CASE WHEN state = 'running' THEN progress ELSE 0 END, \
       started_at = COALESCE(started_at, $3), updated_at = $3 \
     WHERE id = (SELECT id FROM tasks WHERE kind IN (SELECT value FROM json_each($1)) \
       AND ((state = 'queued' AND run_after <= $3) OR (state = 'running' AND lease_until < $3)) \
       ORDER BY run_after, id LIMIT 1) \
     RETURNING *"
);
