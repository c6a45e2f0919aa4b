//! Logging: the format and filter of log records, and the webhook that receives ERROR records.

use super::{ConfigError, Reader, Setting};
use crate::secret::Secret;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("LOG_FORMAT", "text or json (default text)"),
    Setting::plain("LOG_LEVEL", "tracing filter, e.g. info or zk_core=debug (default info)"),
    Setting::plain("ERROR_MONITOR_ENABLED", "send ERROR records to the webhook (default false)"),
    // The webhook URL often carries a token in its path or query, so it is hidden whole.
    Setting::secret("ERROR_MONITOR_WEBHOOK_URL", "webhook that receives ERROR records"),
];

#[derive(Debug, Clone)]
pub struct LoggingConfig {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `zk_core=debug`.
    pub level: String,
    pub error_monitor: ErrorMonitorConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct ErrorMonitorConfig {
    pub enabled: bool,
    pub webhook_url: Option<Secret>,
}

pub(super) fn read(reader: &mut Reader) -> Result<LoggingConfig, ConfigError> {
    let error_monitor = ErrorMonitorConfig {
        enabled: reader.bool("ERROR_MONITOR_ENABLED")?.unwrap_or(false),
        webhook_url: reader.url("ERROR_MONITOR_WEBHOOK_URL", &["http", "https"])?.map(Secret::new),
    };
    if error_monitor.enabled && error_monitor.webhook_url.is_none() {
        return Err(reader.error(
            "ERROR_MONITOR_WEBHOOK_URL",
            "is missing while ERROR_MONITOR_ENABLED is true",
            "set the webhook URL or ERROR_MONITOR_ENABLED=false",
        ));
    }
    let format = match reader.string("LOG_FORMAT").as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(_) => {
            return Err(reader.error("LOG_FORMAT", "must be text or json", "set LOG_FORMAT=text or LOG_FORMAT=json"));
        }
    };
    let level = reader.string("LOG_LEVEL").unwrap_or_else(|| "info".into());
    if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
        return Err(reader.error(
            "LOG_LEVEL",
            "is not a valid log filter",
            "use a level such as info, warn or debug, or a filter like zk_core=debug",
        ));
    }
    Ok(LoggingConfig { format, level, error_monitor })
}
