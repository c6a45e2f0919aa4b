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
            create_private_dir(parent).map_err(|e| {
                StoreError::Unusable(format!("cannot create the database directory {}: {e}", parent.display()))
            })?;
        }
        create_private_file(path).map_err(|e| {
            StoreError::Unusable(format!(
                "cannot create the database {}: {e}; check that its directory is writable",
                path.display()
            ))
        })?;
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

/// Creates `dir` and its missing parents, those it creates 0700 on Unix; an existing one is left alone.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file empty, 0600 on Unix, when it is missing; SQLite then gives its `-wal`
/// and `-shm` files the same mode (it copies the main file's). An existing file is left alone.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
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
     RETURNING *",
    // SQLite has one writer at a time: the sub-select and the update are one atomic statement.
    "UPDATE object_sync SET state = 'uploading', claimed_by = $1, lease_until = $3, attempts = attempts + 1, \
       updated_at = $2 \
     WHERE sha256 = (SELECT sha256 FROM object_sync \
       WHERE (state = 'pending' AND next_attempt_at <= $2) OR (state = 'uploading' AND lease_until < $2) \
       ORDER BY next_attempt_at, sha256 LIMIT 1) \
     RETURNING *"
);

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or_else(|e| panic!("{path:?}: {e}"))
    }

    #[tokio::test]
    async fn the_database_and_its_directory_are_private_to_their_owner() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("data").join("zk.db");
        let store = SqliteStore::open(&path).await.expect("the database opens");
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(store.pool()).await.expect("a write");
        assert_eq!(mode(&dir.path().join("data")), 0o700, "the database's directory is created 0700");
        assert_eq!(mode(&path), 0o600, "the database file is created 0600");
        for suffix in ["-wal", "-shm"] {
            let side = path.with_file_name(format!("zk.db{suffix}"));
            assert!(side.exists(), "WAL mode keeps {side:?} while the database is open");
            assert_eq!(mode(&side), 0o600, "{side:?} follows the database's mode");
        }
        store.pool().close().await;
    }
}
