//! The cache: Redis when one is named, else in-process.

use super::{ConfigError, Reader, Setting};
use crate::secret::Secret;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::url("REDIS_URL", "redis://… ; wins over the REDIS_* parts; unset: in-process cache"),
    Setting::plain("REDIS_HOST", "Redis host"),
    Setting::plain("REDIS_PORT", "Redis port (default 6379)"),
    Setting::secret("REDIS_PASSWORD", "Redis password"),
    Setting::plain("REDIS_PREFIX", "prefix of every cache key, to share one Redis between deployments (default zk:)"),
];

#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Redis URL with its password; `None` selects the in-process cache.
    pub redis_url: Option<Secret>,
    pub prefix: String,
}

pub(super) fn read(reader: &mut Reader) -> Result<CacheConfig, ConfigError> {
    let url = reader.url("REDIS_URL", &["redis", "rediss"])?;
    let host = reader.string("REDIS_HOST");
    let port = reader.port("REDIS_PORT")?.unwrap_or(6379);
    let password = reader.secret("REDIS_PASSWORD");
    let redis_url = match (url, host) {
        (Some(url), _) => Some(Secret::new(url)),
        (None, Some(host)) => {
            let auth = password.map(|p| format!(":{}@", percent_encode(p.expose()))).unwrap_or_default();
            Some(Secret::new(format!("redis://{auth}{host}:{port}/")))
        }
        (None, None) => None,
    };
    let prefix = reader.string("REDIS_PREFIX").unwrap_or_else(|| "zk:".into());
    Ok(CacheConfig { redis_url, prefix })
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
