//! A private, throw-away PostgreSQL cluster that a test may stop and start at will.
//!
//! The shared server on port 5432 serves every other test running in parallel, so a fault test that
//! stops "the database" needs a cluster of its own: `initdb` into a new directory under `/tmp`, trust
//! authentication, listening only on 127.0.0.1 at a free port, its socket in the same directory, fsync
//! off. The PostgreSQL tools refuse to run as root, so as root they run as `postgres` through
//! `runuser`. Dropping the value stops the cluster (`-m immediate`) and removes the directory, also
//! when the test panicked.
//!
//! Binaries: `ZK_TEST_PG_BIN` if set, else `/usr/lib/postgresql/15/bin`, else the newest
//! `/usr/lib/postgresql/*/bin`. [`PrivatePostgres::start`] returns an error when they are missing or the
//! cluster does not come up; the caller decides whether that skips (locally) or fails (under CI).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use tempfile::TempDir;
use zk_core::config::DatabaseConfig;
use zk_core::secret::redact_url;

use crate::process::free_port;

/// The user the PostgreSQL tools run as when the test runs as root.
const PG_OS_USER: &str = "postgres";
/// How long `pg_ctl` may wait for the server to start or stop.
const PG_CTL_WAIT_SECS: &str = "60";

pub struct PrivatePostgres {
    /// Owns the directory: `data/` (the cluster), the socket, and the server log.
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    as_root: bool,
}

impl PrivatePostgres {
    /// Creates and starts a new cluster. `Err` says why not (missing binaries, initdb or start failed).
    pub fn start() -> Result<PrivatePostgres, String> {
        let bin = pg_bin_dir()?;
        let as_root = running_as_root();
        if as_root && !["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].iter().any(|p| Path::new(p).exists())
        {
            return Err("the test runs as root and `runuser` (needed to run initdb as postgres) is missing".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("zk-faults-pg-")
            .tempdir_in("/tmp")
            .map_err(|e| format!("cannot create a directory under /tmp: {e}"))?;
        let port = free_port();
        let cluster = PrivatePostgres { dir, bin, port, as_root };
        if as_root {
            let chown = Command::new("chown")
                .arg(format!("{PG_OS_USER}:{PG_OS_USER}"))
                .arg(cluster.dir.path())
                .output()
                .map_err(|e| format!("cannot run chown: {e}"))?;
            check(&chown, "chown of the cluster directory to postgres")?;
        }
        let initdb = cluster
            .pg_tool("initdb")
            .arg("-D")
            .arg(cluster.data_dir())
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        check(&initdb, "initdb")?;
        // In postgresql.conf, so that every later start (the test restarts it) uses the same settings.
        let settings = format!(
            "\n# zk-agent fault test\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{socket}'\n\
             fsync = off\nmax_connections = 50\n",
            socket = cluster.dir.path().display()
        );
        let conf = cluster.data_dir().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|e| format!("cannot read {}: {e}", conf.display()))?;
        text.push_str(&settings);
        std::fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        cluster.pg_ctl_start()?;
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection string of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The configuration the server opens the cluster with, built like [`crate::db::TestDatabase::config`].
    pub fn database_config(&self, acquire_timeout: Duration) -> DatabaseConfig {
        let url = self.url();
        let options = PgConnectOptions::from_str(&url).expect("the private cluster URL parses");
        DatabaseConfig::Postgres {
            connect: Box::new(options),
            display: redact_url(&url),
            pool_max: 5,
            pool_min: 0,
            acquire_timeout,
        }
    }

    /// `pg_ctl stop -m immediate`: the server dies at once, like a crash; the next start recovers.
    pub async fn stop_immediate(&self) -> Result<(), String> {
        let output = tokio::process::Command::from(self.pg_ctl("stop", "immediate"))
            .output()
            .await
            .map_err(|e| format!("cannot run pg_ctl stop: {e}"))?;
        check(&output, "pg_ctl stop -m immediate")
    }

    /// `pg_ctl start -w`: returns once the server has started.
    pub async fn start_again(&self) -> Result<(), String> {
        let output = tokio::process::Command::from(self.pg_ctl_start_command())
            .output()
            .await
            .map_err(|e| format!("cannot run pg_ctl start: {e}"))?;
        check(&output, "pg_ctl start").map_err(|e| format!("{e}\nserver log:\n{}", self.server_log()))
    }

    /// Whether `pg_isready` says the server accepts connections on its TCP port.
    pub async fn is_ready(&self) -> bool {
        tokio::process::Command::new(self.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", "1", "-q"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// Polls `pg_isready` every 10 ms until it answers yes; returns the moment it did.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.is_ready().await {
                return Ok(Instant::now());
            }
            if Instant::now() > deadline {
                return Err(format!("pg_isready did not say yes within {timeout:?}\n{}", self.server_log()));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The server's log file, for failure messages.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// A PostgreSQL tool from the binary directory, run as `postgres` when we are root.
    fn pg_tool(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut command = if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", PG_OS_USER, "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        // Not the caller's directory, which `postgres` may not be allowed to enter.
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        command
    }

    fn pg_ctl(&self, action: &str, mode: &str) -> Command {
        let mut command = self.pg_tool("pg_ctl");
        command.arg(action).arg("-D").arg(self.data_dir()).args(["-m", mode, "-w", "-t", PG_CTL_WAIT_SECS]);
        command
    }

    fn pg_ctl_start_command(&self) -> Command {
        let mut command = self.pg_tool("pg_ctl");
        command.arg("start").arg("-D").arg(self.data_dir()).arg("-l").arg(self.log_file()).args([
            "-w",
            "-t",
            PG_CTL_WAIT_SECS,
        ]);
        // pg_ctl leaves the server running with our stdout/stderr unless they are redirected.
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let output = self.pg_ctl_start_command().output().map_err(|e| format!("cannot run pg_ctl start: {e}"))?;
        check(&output, "pg_ctl start").map_err(|e| format!("{e}\nserver log:\n{}", self.server_log()))
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // The server may already be down (the test stopped it); pg_ctl then says so and that is fine.
        let pid_file = self.data_dir().join("postmaster.pid");
        if pid_file.exists() {
            match self.pg_ctl("stop", "immediate").output() {
                Ok(output) if output.status.success() => {}
                Ok(output) => eprintln!(
                    "warning: stopping the private PostgreSQL cluster in {} failed: {}",
                    self.dir.path().display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                Err(e) => eprintln!("warning: cannot run pg_ctl stop for {}: {e}", self.dir.path().display()),
            }
        }
        // The TempDir field removes the directory (root may remove postgres-owned files).
    }
}

fn check(output: &Output, what: &str) -> Result<(), String> {
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn pg_bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("ZK_TEST_PG_BIN")
        && !dir.is_empty()
    {
        let dir = PathBuf::from(dir);
        return has_tools(&dir)
            .then_some(dir.clone())
            .ok_or_else(|| format!("ZK_TEST_PG_BIN={} lacks initdb, pg_ctl, postgres or pg_isready", dir.display()));
    }
    let preferred = PathBuf::from("/usr/lib/postgresql/15/bin");
    if has_tools(&preferred) {
        return Ok(preferred);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin; \
         install postgresql or set ZK_TEST_PG_BIN"
            .to_owned()
    })
}

fn has_tools(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres", "pg_isready"].iter().all(|tool| dir.join(tool).is_file())
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
