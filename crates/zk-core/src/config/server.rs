//! Where the local server listens and what it serves.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, Reader, Setting};
use crate::secret::Secret;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("HOST", "address the local server binds (default 127.0.0.1)"),
    Setting::plain("PORT", "TCP port of the local server (default 3000)"),
    Setting::plain("ALLOWED_HOSTS", "extra Host names the server answers to, comma separated"),
    Setting::plain("UI_DIR", "a built UI on disk to serve instead of the one built into zk-agent (development)"),
    Setting::plain(
        "HTTP_HEADER_TIMEOUT_SECS",
        "a connection that has not sent a whole request head within this many seconds is closed (default 15, 1 to 30)",
    ),
    Setting::plain(
        "HTTP_MAX_CONNECTIONS",
        "open connections the server accepts at once; more wait until one closes (default 512)",
    ),
    Setting::plain("METRICS_ENABLED", "serve /metrics and record request metrics (default true)"),
    Setting::secret(
        "METRICS_TOKEN",
        "bearer token /metrics requires, 16+ characters (unset: /metrics answers loopback clients only)",
    ),
];

/// The shortest `METRICS_TOKEN` accepted.
const MIN_METRICS_TOKEN_CHARS: usize = 16;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: IpAddr,
    pub port: u16,
    /// Host names answered besides the listening address, lower case.
    pub allowed_hosts: Vec<String>,
    pub ui_dir: Option<PathBuf>,
    /// A connection that has not sent a whole request head within this time is closed (slow clients
    /// must not hold connections forever).
    pub header_timeout: Duration,
    /// Connections accepted at once; the next one waits (in the listen backlog) until one closes.
    pub max_connections: usize,
    /// Whether `/metrics` is served and requests are measured.
    pub metrics_enabled: bool,
    /// The bearer token `/metrics` requires; without one it answers loopback clients only.
    pub metrics_token: Option<Secret>,
}

pub(super) fn read(reader: &mut Reader) -> Result<ServerConfig, ConfigError> {
    let host = reader
        .parse("HOST", "an IP address such as 127.0.0.1", "set HOST=127.0.0.1 (or 0.0.0.0 to serve the network)")?
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let port = reader.port("PORT")?.unwrap_or(3000);
    let allowed_hosts = reader
        .string("ALLOWED_HOSTS")
        .map(|v| v.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
        .unwrap_or_default();
    let ui_dir = reader.string("UI_DIR").map(PathBuf::from);
    let header_timeout = reader.seconds("HTTP_HEADER_TIMEOUT_SECS", 1, 30)?.unwrap_or(Duration::from_secs(15));
    let max_connections = reader.number("HTTP_MAX_CONNECTIONS", 1, 100_000)?.unwrap_or(512) as usize;
    let metrics_enabled = reader.bool("METRICS_ENABLED")?.unwrap_or(true);
    let metrics_token = reader.secret("METRICS_TOKEN");
    if let Some(token) = &metrics_token
        && (token.expose().trim().chars().count() < MIN_METRICS_TOKEN_CHARS
            || token.expose().contains(char::is_whitespace))
    {
        return Err(reader.error(
            "METRICS_TOKEN",
            "must be at least 16 characters without spaces",
            "generate one, e.g. with `openssl rand -hex 24`, and give Prometheus the same value",
        ));
    }
    Ok(ServerConfig {
        host,
        port,
        allowed_hosts,
        ui_dir,
        header_timeout,
        max_connections,
        metrics_enabled,
        metrics_token,
    })
}
