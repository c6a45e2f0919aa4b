//! The background task workers of this process.

use std::time::Duration;

use super::{ConfigError, Reader, Setting};

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("TASK_WORKERS", "background task workers in this process (default 2)"),
    Setting::plain("TASK_LEASE_SECS", "how long a running task stays claimed without a heartbeat (default 30)"),
];

#[derive(Debug, Clone)]
pub struct TasksConfig {
    pub workers: usize,
    /// A task whose worker died is claimed again this long after its last heartbeat.
    pub lease: Duration,
}

pub(super) fn read(reader: &mut Reader) -> Result<TasksConfig, ConfigError> {
    let workers = reader.number("TASK_WORKERS", 0, 64)?.unwrap_or(2) as usize;
    let lease = reader.seconds("TASK_LEASE_SECS", 2, 3600)?.unwrap_or(Duration::from_secs(30));
    Ok(TasksConfig { workers, lease })
}
