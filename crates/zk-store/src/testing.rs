//! Fresh, throw-away databases on both backends.
//!
//! Every [`TestDatabase`] is new and empty: a SQLite file in its own temporary directory, or a
//! PostgreSQL database `zk_test_<uuid>` created on the server named by `ZK_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Dropping the value removes it, also when the test
//! panicked, so a test run leaves nothing behind.
//!
//! Without a reachable PostgreSQL the PostgreSQL half of a test is skipped with a line on stderr, except
//! under `CI=true`, where it fails: CI must never pass by skipping the backend the team deploys on.

use std::any::Any;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tempfile::TempDir;

use crate::{DatabaseConfig, Store};

/// The administrative database tests connect to in order to create and drop their own databases.
pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long a connection attempt to the PostgreSQL server may take before it counts as unreachable.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One fresh database, removed again on drop.
pub struct TestDatabase {
    kind: Kind,
}

enum Kind {
    Sqlite {
        /// Owns the directory: the file lives exactly as long as this value.
        _dir: TempDir,
        path: PathBuf,
    },
    Postgres {
        /// The administrative connection string, used to create and drop the test database.
        admin_url: String,
        /// `zk_test_<uuid>`: only ASCII letters, digits and `_`, so it is safe to quote into SQL.
        name: String,
        /// The connection string of the test database itself.
        url: String,
    },
}

impl TestDatabase {
    /// An empty SQLite file in a new temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::Builder::new().prefix("zk-test-db-").tempdir().expect("create a temporary directory");
        let path = dir.path().join("zk-agent.sqlite3");
        TestDatabase { kind: Kind::Sqlite { _dir: dir, path } }
    }

    /// A new, empty PostgreSQL database, or `None` (after a line on stderr) when the server cannot be
    /// reached. Under `CI=true` an unreachable server panics instead.
    pub async fn postgres() -> Option<TestDatabase> {
        let admin_url = pg_admin_url();
        let shown = without_password(&admin_url);
        let admin = PgConnectOptions::from_str(&admin_url)
            .unwrap_or_else(|e| panic!("ZK_TEST_PG_URL={shown:?} is not a PostgreSQL URL: {e}"));
        let mut conn = match tokio::time::timeout(PG_CONNECT_TIMEOUT, PgConnection::connect_with(&admin)).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return unreachable_postgres(&shown, &e.to_string()),
            Err(_) => return unreachable_postgres(&shown, &format!("no answer within {PG_CONNECT_TIMEOUT:?}")),
        };
        let name = format!("zk_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {shown} is reachable but refused CREATE DATABASE {name}: {e}"));
        // Closing politely; a failure here changes nothing for the test.
        let _ = conn.close().await;
        let url = database_url_in(&admin_url, &name);
        Some(TestDatabase { kind: Kind::Postgres { admin_url, name, url } })
    }

    /// `"sqlite"` or `"postgres"`, the same names as [`Store::backend`].
    pub fn backend(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite { .. } => "sqlite",
            Kind::Postgres { .. } => "postgres",
        }
    }

    /// The SQLite file, for tests that damage or inspect it; `None` on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite { path, .. } => Some(path),
            Kind::Postgres { .. } => None,
        }
    }

    /// The configuration that opens this database, as the core's config loader would build it.
    pub fn config(&self) -> DatabaseConfig {
        match &self.kind {
            Kind::Sqlite { path, .. } => DatabaseConfig::Sqlite { path: path.clone() },
            Kind::Postgres { url, .. } => {
                let options = PgConnectOptions::from_str(url).expect("the test database URL parses");
                DatabaseConfig::Postgres {
                    connect: Box::new(options),
                    display: without_password(url),
                    pool_max: 5,
                    pool_min: 0,
                    acquire_timeout: Duration::from_secs(2),
                }
            }
        }
    }

    /// The `DATABASE_URL` for tests that spawn the `zk-agent` binary.
    pub fn database_url(&self) -> String {
        match &self.kind {
            Kind::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Kind::Postgres { url, .. } => url.clone(),
        }
    }

    /// Opens the database through [`crate::open`] and applies every migration.
    pub async fn open_store(&self) -> Arc<dyn Store> {
        let store = self.open_unmigrated_store().await;
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("[{}] migrating the test database failed: {e}", self.backend()));
        store
    }

    /// Opens the database without migrating it.
    pub async fn open_unmigrated_store(&self) -> Arc<dyn Store> {
        crate::open(&self.config())
            .await
            .unwrap_or_else(|e| panic!("[{}] opening the test database failed: {e}", self.backend()))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Kind::Postgres { admin_url, name, .. } = &self.kind else {
            return; // The TempDir field removes the SQLite directory.
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its own small
        // runtime does the work and is joined, so the database is gone before the test returns.
        // `WITH (FORCE)` ends connections a test left open (a pool not yet closed, a panic mid-query).
        let name = name.clone();
        let (admin_url, statement) = (admin_url.clone(), format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#));
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let admin = PgConnectOptions::from_str(&admin_url)?;
                let mut conn = tokio::time::timeout(PG_CONNECT_TIMEOUT, PgConnection::connect_with(&admin)).await??;
                sqlx::query(&statement).execute(&mut conn).await?;
                let _ = conn.close().await;
                Ok(())
            })
        })
        .join();
        // Never panic in Drop (it may run while a test is already unwinding): say what is left over.
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("warning: could not drop the test database {name} ({e}); run: DROP DATABASE \"{name}\"")
            }
            Err(_) => eprintln!("warning: dropping the test database {name} panicked; run: DROP DATABASE \"{name}\""),
        }
    }
}

/// Runs `story` once against a fresh, migrated SQLite store and once against a fresh, migrated
/// PostgreSQL store (skipped outside CI when PostgreSQL is unreachable). Both runs happen even when
/// the first fails; the final panic names the backend(s) that failed.
pub async fn each_backend<F, Fut>(story: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let story = &story;
    each_database(move |db| async move {
        let store = db.open_store().await;
        story(Arc::clone(&store)).await;
        store.close().await;
    })
    .await;
}

/// Like [`each_backend`], for stories that need the database itself (open it twice, open it without
/// migrating, spawn the binary against it).
pub async fn each_database<F, Fut>(story: F)
where
    F: Fn(Arc<TestDatabase>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut failures = Vec::new();
    let sqlite = Arc::new(TestDatabase::sqlite());
    if let Err(message) = run_labelled(story(Arc::clone(&sqlite))).await {
        failures.push(format!("[sqlite] {message}"));
    }
    drop(sqlite);
    if let Some(postgres) = TestDatabase::postgres().await.map(Arc::new) {
        if let Err(message) = run_labelled(story(Arc::clone(&postgres))).await {
            failures.push(format!("[postgres] {message}"));
        }
        drop(postgres);
    }
    assert!(failures.is_empty(), "the story failed on {} backend(s):\n{}", failures.len(), failures.join("\n"));
}

/// Runs one backend's story, turning its panic into the panic message so the other backend still runs.
async fn run_labelled<Fut: Future<Output = ()>>(story: Fut) -> Result<(), String> {
    // A scoped runtime task is not available for non-'static futures, so the story runs on this task
    // and its panic is caught at the poll boundary.
    let outcome = CatchUnwind { inner: Box::pin(story) }.await;
    outcome.map_err(|payload| panic_message(payload.as_ref()))
}

/// Polls a future and returns its panic payload instead of unwinding through the caller.
struct CatchUnwind<'a> {
    inner: std::pin::Pin<Box<dyn Future<Output = ()> + 'a>>,
}

impl Future for CatchUnwind<'_> {
    type Output = Result<(), Box<dyn Any + Send>>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let inner = &mut self.inner;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(())) => std::task::Poll::Ready(Ok(())),
            Err(payload) => std::task::Poll::Ready(Err(payload)),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

fn pg_admin_url() -> String {
    std::env::var("ZK_TEST_PG_URL").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_PG_ADMIN_URL.to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn unreachable_postgres(shown: &str, why: &str) -> Option<TestDatabase> {
    if in_ci() {
        panic!(
            "PostgreSQL is not reachable at {shown} ({why}), and CI=true forbids skipping the PostgreSQL \
             half of the store tests; start PostgreSQL or point ZK_TEST_PG_URL at a reachable server"
        );
    }
    eprintln!("skipped: PostgreSQL not reachable at {shown} ({why}); set ZK_TEST_PG_URL to run the PostgreSQL half");
    None
}

/// The admin URL with its database path replaced by `name` (user, password, host and query kept).
fn database_url_in(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_at..].find('/').map_or(base.len(), |i| authority_at + i);
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// A connection URL as it may be shown: any password replaced by `***`.
fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let authority_end = url[scheme_end..].find('/').map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}:***{}", &url[..scheme_end], &authority[..colon], &url[scheme_end + at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_everything_but_the_database_and_hide_the_password() {
        let admin = "postgres://zk:s3cret@db.example:5433/postgres?sslmode=disable";
        assert_eq!(
            database_url_in(admin, "zk_test_1"),
            "postgres://zk:s3cret@db.example:5433/zk_test_1?sslmode=disable"
        );
        assert_eq!(database_url_in("postgres://postgres@127.0.0.1:5432", "t"), "postgres://postgres@127.0.0.1:5432/t");
        assert_eq!(without_password(admin), "postgres://zk:***@db.example:5433/postgres?sslmode=disable");
        assert_eq!(without_password("postgres://postgres@127.0.0.1/x"), "postgres://postgres@127.0.0.1/x");
    }
}
