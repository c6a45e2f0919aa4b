//! Where the local server listens and what it serves.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, Reader, Setting};

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
];

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
    Ok(ServerConfig { host, port, allowed_hosts, ui_dir, header_timeout, max_connections })
}
