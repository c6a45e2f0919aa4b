//! A lost database: the file store holds files but the database that records them is gone or empty.
//!
//! Starting on an empty database in that case would look like "everything was deleted" (and ask for
//! setup again), while the files stay on disk with nothing pointing at them. So [`Core::open`]
//! refuses, says what it found, where the last backup is if one is found, and the two ways on:
//! restore the database from a backup, or start over on purpose (`zk-agent serve --new-database`),
//! which moves the orphaned files aside into a dated folder next to the file store.
//!
//! What counts as "empty" (only when the file store holds at least one file under `sha256/`):
//! - SQLite: the database file is missing, or it is 0 bytes long;
//! - both backends: the database has no migration applied (no tables), or it is migrated but holds no
//!   account and no file record (what `zk-agent migrate` leaves on a lost database). A file record
//!   goes only with an upload by an account, and a blob is removed with its last record, so such a
//!   database cannot be the one the files belong to.
//!
//! A database with accounts or file records is the database of record, even when some blobs are not
//! referenced. A new install (no database, an empty or missing file store) starts as before.
//!
//! [`Core::open`]: crate::app::Core::open

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::store::{DatabaseConfig, FileScope, Store, StoreResult};

/// What `Core::open` does with a lost database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LostDatabasePolicy {
    /// Refuse to start and say how to go on (every front door, by default).
    #[default]
    Refuse,
    /// Start on a new, empty database; the orphaned files are moved aside first
    /// (`zk-agent serve --new-database`). Refused when the database is in use.
    StartOver,
}

/// How the database looked when it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyDatabase {
    /// The SQLite file does not exist.
    Missing,
    /// The SQLite file is 0 bytes long.
    ZeroBytes,
    /// No migration was ever applied: no tables.
    NoTables,
    /// Migrated, but without a single account or file record.
    NoRecords,
}

impl EmptyDatabase {
    fn describe(self) -> &'static str {
        match self {
            Self::Missing => "is missing",
            Self::ZeroBytes => "is empty (0 bytes)",
            Self::NoTables => "is empty (no tables: it was never migrated)",
            Self::NoRecords => "is empty (no accounts and no file records)",
        }
    }
}

/// The SQLite file's state before it is opened (opening creates a missing file): `None` when it
/// holds bytes, and always for PostgreSQL.
pub fn before_open(database: &DatabaseConfig) -> Option<EmptyDatabase> {
    let DatabaseConfig::Sqlite { path } = database else { return None };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(EmptyDatabase::Missing),
        Ok(meta) if meta.is_file() && meta.len() == 0 => Some(EmptyDatabase::ZeroBytes),
        // Unreadable or not a file: opening it reports the real problem.
        _ => None,
    }
}

/// Whether an open database is empty in the sense above (`None`: it is in use).
pub async fn after_open(store: &dyn Store) -> StoreResult<Option<EmptyDatabase>> {
    let (applied, _) = store.migration_status().await?;
    if applied == 0 {
        return Ok(Some(EmptyDatabase::NoTables));
    }
    if store.count_users().await? == 0 && store.list_files(FileScope::All, None, 1).await?.is_empty() {
        return Ok(Some(EmptyDatabase::NoRecords));
    }
    Ok(None)
}

/// How many files the file store holds (regular files under `UPLOAD_DIR/sha256`); 0 when the folder
/// is missing.
pub fn stored_files(upload_dir: &Path) -> u64 {
    fn count(dir: &Path) -> u64 {
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        entries
            .flatten()
            .map(|entry| match entry.file_type() {
                Ok(kind) if kind.is_dir() => count(&entry.path()),
                Ok(kind) if kind.is_file() => 1,
                _ => 0,
            })
            .sum()
    }
    count(&upload_dir.join("sha256"))
}

/// The refusal: what was found, the last backup, the ways on. Its `Display` is the whole message.
#[derive(Debug)]
pub struct LostDatabase {
    database: String,
    found: EmptyDatabase,
    upload_dir: PathBuf,
    files: u64,
    backup: Option<PathBuf>,
    looked_in: Vec<PathBuf>,
    sqlite_path: Option<PathBuf>,
}

impl LostDatabase {
    pub fn new(config: &Config, found: EmptyDatabase, files: u64) -> Self {
        let (backup, looked_in) = last_backup(config);
        let sqlite_path = match &config.database {
            DatabaseConfig::Sqlite { path } => Some(path.clone()),
            DatabaseConfig::Postgres { .. } => None,
        };
        Self {
            database: config.database.display(),
            found,
            upload_dir: config.files.upload_dir.clone(),
            files,
            backup,
            looked_in,
            sqlite_path,
        }
    }
}

impl LostDatabase {
    /// The first line of the message: what was found (`zk-agent doctor` shows it with its own fix).
    pub fn headline(&self) -> String {
        let files = if self.files == 1 { "1 file".to_owned() } else { format!("{} files", self.files) };
        format!(
            "the file store at {} holds {files} but the database {} {}",
            self.upload_dir.display(),
            self.database,
            self.found.describe()
        )
    }
}

impl fmt::Display for LostDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}; starting on an empty database would lose track of them, so ZK-Agent did not start",
            self.headline()
        )?;
        let looked: Vec<String> = self.looked_in.iter().map(|p| p.display().to_string()).collect();
        match &self.backup {
            Some(path) => writeln!(f, "last backup found: {}", path.display())?,
            None => writeln!(
                f,
                "no backup found (looked in {}); ZK-Agent makes no backups by itself yet, so a copy you made \
                 yourself is the one to restore",
                looked.join(", ")
            )?,
        }
        writeln!(f, "to go on, either")?;
        match &self.sqlite_path {
            Some(path) => writeln!(
                f,
                "  - restore the database from a backup: copy it back to {} and start again",
                path.display()
            )?,
            None => writeln!(
                f,
                "  - restore the database from a backup (your PostgreSQL dump or snapshot) into {} and start again",
                self.database
            )?,
        }
        write!(
            f,
            "  - or start over with an empty database: zk-agent serve --new-database (with the same ZK_DATA_DIR, \
             DATABASE_URL and UPLOAD_DIR): the store's files are moved aside into a dated folder next to {}, not deleted",
            self.upload_dir.display()
        )
    }
}

impl std::error::Error for LostDatabase {}

/// The newest backup-looking file: a copy beside the SQLite file named after it
/// (`zk-agent.db.bak`, `zk-agent.db-2026-12-01`…) or any file in `<data dir>/backups`; and the places
/// looked in.
fn last_backup(config: &Config) -> (Option<PathBuf>, Vec<PathBuf>) {
    let mut candidates: Vec<(SystemTime, PathBuf)> = Vec::new();
    let mut looked_in = Vec::new();
    if let DatabaseConfig::Sqlite { path } = &config.database
        && let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str()))
    {
        looked_in.push(dir.join(format!("{name}.*")));
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let file_name = entry.file_name();
            let Some(other) = file_name.to_str() else { continue };
            let Some(rest) = other.strip_prefix(name) else { continue };
            let copy = (rest.starts_with('.') || rest.starts_with('-') || rest.starts_with('_'))
                && !matches!(rest, "-wal" | "-shm" | "-journal");
            if copy
                && let Ok(meta) = entry.metadata()
                && meta.is_file()
                && meta.len() > 0
            {
                candidates.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), entry.path()));
            }
        }
    }
    let backups = config.data_dir.join("backups");
    for entry in std::fs::read_dir(&backups).into_iter().flatten().flatten() {
        if let Ok(meta) = entry.metadata()
            && meta.is_file()
        {
            candidates.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), entry.path()));
        }
    }
    looked_in.push(backups);
    let newest = candidates.into_iter().max_by_key(|(modified, _)| *modified).map(|(_, path)| path);
    (newest, looked_in)
}

/// `--new-database` on a database that holds accounts or files: nothing to start over from.
#[derive(Debug)]
pub struct DatabaseInUse {
    pub database: String,
}

impl fmt::Display for DatabaseInUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--new-database starts over only after a lost database, but the database {} holds accounts or files; \
             nothing was changed: start without --new-database",
            self.database
        )
    }
}

impl std::error::Error for DatabaseInUse {}

/// Where `--new-database` put the files of the file store it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// The dated folder next to the file store; the blobs are in its `sha256/`.
    pub dir: PathBuf,
    pub files: u64,
}

/// Moves `UPLOAD_DIR/sha256` into `<UPLOAD_DIR>-set-aside-<UTC date and time>/sha256`, next to the
/// file store, so the new database starts with an empty store and the old files stay whole.
pub fn set_aside(upload_dir: &Path, files: u64, clock: &SharedClock) -> anyhow::Result<SetAside> {
    let name = upload_dir.file_name().and_then(|n| n.to_str()).unwrap_or("files");
    let parent = upload_dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stamp = clock.now().format("%Y%m%d-%H%M%S").to_string();
    let mut dir = parent.join(format!("{name}-set-aside-{stamp}"));
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = parent.join(format!("{name}-set-aside-{stamp}-{n}"));
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create {} to move the orphaned files aside: {e}; check that {} is writable",
            dir.display(),
            parent.display()
        )
    })?;
    let from = upload_dir.join("sha256");
    std::fs::rename(&from, dir.join("sha256")).map_err(|e| {
        // Leave nothing half done behind: the empty folder goes again.
        let _ = std::fs::remove_dir(&dir);
        anyhow::anyhow!(
            "cannot move {} to {}: {e}; move it elsewhere yourself (keep it: it holds the old files) and \
             start again",
            from.display(),
            dir.display()
        )
    })?;
    tracing::warn!(files, from = %from.display(), to = %dir.display(), "orphaned files moved aside for a new database");
    Ok(SetAside { dir, files })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;

    fn blob(upload_dir: &Path, name: &str) {
        let dir = upload_dir.join("sha256").join("ab").join("cd");
        std::fs::create_dir_all(&dir).expect("blob folder");
        std::fs::write(dir.join(name), b"bytes").expect("blob");
    }

    #[test]
    fn files_are_counted_under_sha256_only() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        assert_eq!(stored_files(dir.path()), 0, "a missing store holds nothing");
        blob(dir.path(), "a");
        blob(dir.path(), "b");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp");
        std::fs::write(dir.path().join("tmp").join("upload-1"), b"half").expect("temp file");
        assert_eq!(stored_files(dir.path()), 2, "temporary uploads are not stored files");
    }

    #[test]
    fn a_missing_or_zero_byte_sqlite_file_is_empty_before_it_is_opened() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("zk.db");
        let database = DatabaseConfig::Sqlite { path: path.clone() };
        assert_eq!(before_open(&database), Some(EmptyDatabase::Missing));
        std::fs::write(&path, b"").expect("an empty file");
        assert_eq!(before_open(&database), Some(EmptyDatabase::ZeroBytes));
        std::fs::write(&path, b"SQLite format 3\0").expect("a file with bytes");
        assert_eq!(before_open(&database), None, "a file with bytes is opened and checked as a database");
    }

    #[test]
    fn the_message_names_the_store_the_database_the_backup_and_both_ways_on() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = Config::offline(dir.path());
        let message = LostDatabase::new(&config, EmptyDatabase::Missing, 3).to_string();
        let store = config.files.upload_dir.display().to_string();
        assert!(message.contains(&format!("the file store at {store} holds 3 files")), "{message}");
        assert!(message.contains("zk-agent.db is missing"), "{message}");
        assert!(message.contains("no backup found"), "{message}");
        assert!(message.contains("restore the database from a backup"), "{message}");
        assert!(message.contains("zk-agent serve --new-database"), "{message}");

        let copy = dir.path().join("zk-agent.db.bak");
        std::fs::write(&copy, b"a copy").expect("a backup copy");
        let message = LostDatabase::new(&config, EmptyDatabase::ZeroBytes, 1).to_string();
        assert!(message.contains(&format!("last backup found: {}", copy.display())), "{message}");
        assert!(message.contains("holds 1 file but"), "{message}");
    }

    #[test]
    fn setting_aside_moves_the_blobs_into_a_dated_folder_next_to_the_store() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = dir.path().join("files");
        blob(&store, "a");
        let clock: SharedClock = Arc::new(SystemClock);
        let moved = set_aside(&store, 1, &clock).expect("moved aside");
        assert_eq!(moved.dir.parent(), Some(dir.path()), "next to the file store");
        assert!(moved.dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("files-set-aside-")));
        assert!(moved.dir.join("sha256/ab/cd/a").is_file(), "the blob kept its place under the new folder");
        assert_eq!(stored_files(&store), 0, "the store is empty now");
        blob(&store, "b");
        let again = set_aside(&store, 1, &clock).expect("moved aside again");
        assert_ne!(again.dir, moved.dir, "a second move in the same second gets its own folder");
    }
}
