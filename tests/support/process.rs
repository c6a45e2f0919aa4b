//! The real `zk-agent` binary as a child process: a hermetic environment, logs captured to files,
//! and a guard that kills the process when it goes out of scope, so a failing test leaves no server.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A TCP port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// The binary under test: `ZK_AGENT_BIN`, else `zk-agent` next to the test executable's directory
/// (`target/debug/deps/integration-…` → `target/debug/zk-agent`).
pub fn zk_agent_binary() -> PathBuf {
    let path = match std::env::var("ZK_AGENT_BIN") {
        Ok(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            let exe = std::env::current_exe().expect("the test executable's path");
            exe.parent().and_then(Path::parent).expect("target/<profile>/deps has a parent").join("zk-agent")
        }
    };
    assert!(
        path.is_file(),
        "{} does not exist: build it first: cargo build -p zk-server --bin zk-agent",
        path.display()
    );
    path
}

/// A `zk-agent` command whose environment holds only PATH, HOME and what the caller adds; it runs in
/// `home`, so no `.env` or config file of the developer's machine is read.
pub fn zk_agent(home: &Path) -> Command {
    let mut command = Command::new(zk_agent_binary());
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", home).current_dir(home);
    command
}

/// A running child process, killed (SIGKILL) and reaped on drop.
pub struct ChildGuard {
    child: Option<Child>,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

impl ChildGuard {
    /// Spawns `command` with stdout and stderr going to `<log_prefix>.out` and `<log_prefix>.err`.
    pub fn spawn(mut command: Command, log_prefix: &Path) -> ChildGuard {
        let stdout_path = log_prefix.with_extension("out");
        let stderr_path = log_prefix.with_extension("err");
        let stdout = File::create(&stdout_path).expect("create the stdout log");
        let stderr = File::create(&stderr_path).expect("create the stderr log");
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        ChildGuard { child: Some(child), stdout_path, stderr_path }
    }

    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `Some(status)` once the process has ended.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Both logs, for failure messages.
    pub fn logs(&self) -> String {
        format!("--- stdout ---\n{}\n--- stderr ---\n{}", self.stdout(), self.stderr())
    }

    /// Waits until `GET <base>/api/health` answers 200, failing early if the process exits.
    pub async fn wait_healthy(&mut self, http: &reqwest::Client, base: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                panic!("zk-agent exited ({status}) before it became healthy\n{}", self.logs());
            }
            let response = http.get(format!("{base}/api/health")).timeout(Duration::from_secs(5)).send().await;
            if response.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                return;
            }
            assert!(Instant::now() < deadline, "zk-agent was not healthy within {timeout:?}\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill_9();
    }
}
