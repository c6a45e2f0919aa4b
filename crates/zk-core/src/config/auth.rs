//! Sign-in: the keys of access and refresh tokens, how long each lives, and the pool that hashes
//! passwords.

use std::time::Duration;

use super::{ConfigError, Reader, Setting};
use crate::secret::Secret;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::secret(
        "JWT_ACCESS_SECRET",
        "HS256 key of access tokens, 32+ characters (default: generated in the data dir)",
    ),
    Setting::secret("JWT_REFRESH_SECRET", "key that hashes refresh tokens, 32+ characters (default: generated)"),
    Setting::plain("ACCESS_TOKEN_TTL_SECS", "lifetime of an access token (default 900)"),
    Setting::plain("REFRESH_TOKEN_TTL_SECS", "lifetime of a sign-in session (default 2592000, 30 days)"),
    Setting::plain(
        "AUTH_HASH_WORKERS",
        "password hashes (19 MiB each) computed at once (default: the cores, at most 8; 1 to 64)",
    ),
    Setting::plain(
        "AUTH_HASH_QUEUE_MS",
        "how long a sign-in waits for a hashing worker before it is answered 503 (default 3000)",
    ),
];

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `None`: the core generates one and keeps it in the data dir.
    pub jwt_access_secret: Option<Secret>,
    /// `None`: the core generates one and keeps it in the data dir.
    pub jwt_refresh_secret: Option<Secret>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How many password hashes run at once (each holds 19 MiB while it runs).
    pub hash_workers: usize,
    /// How long a sign-in waits for a hashing worker before it is refused as busy.
    pub hash_queue_timeout: Duration,
}

pub(super) fn read(reader: &mut Reader) -> Result<AuthConfig, ConfigError> {
    let jwt_access_secret = jwt_secret(reader, "JWT_ACCESS_SECRET")?;
    let jwt_refresh_secret = jwt_secret(reader, "JWT_REFRESH_SECRET")?;
    if let (Some(a), Some(r)) = (&jwt_access_secret, &jwt_refresh_secret)
        && a == r
    {
        return Err(reader.error(
            "JWT_REFRESH_SECRET",
            "must differ from JWT_ACCESS_SECRET",
            "generate two independent values, e.g. with `openssl rand -base64 48`",
        ));
    }
    let access_token_ttl = reader.seconds("ACCESS_TOKEN_TTL_SECS", 60, 86_400)?.unwrap_or(Duration::from_secs(900));
    let refresh_token_ttl =
        reader.seconds("REFRESH_TOKEN_TTL_SECS", 300, 365 * 86_400)?.unwrap_or(Duration::from_secs(30 * 86_400));
    let hash_workers = match reader.number("AUTH_HASH_WORKERS", 1, 64)? {
        Some(workers) => workers as usize,
        None => crate::accounts::hashing::default_workers(),
    };
    let hash_queue_timeout = reader
        .number("AUTH_HASH_QUEUE_MS", 10, 60_000)?
        .map_or(crate::accounts::hashing::DEFAULT_QUEUE_TIMEOUT, Duration::from_millis);
    Ok(AuthConfig {
        jwt_access_secret,
        jwt_refresh_secret,
        access_token_ttl,
        refresh_token_ttl,
        hash_workers,
        hash_queue_timeout,
    })
}

fn jwt_secret(reader: &mut Reader, name: &'static str) -> Result<Option<Secret>, ConfigError> {
    match reader.secret(name) {
        Some(secret) if secret.expose().len() < 32 => Err(reader.error(
            name,
            &format!("is {} characters long; at least 32 are needed", secret.expose().len()),
            "generate one with `openssl rand -base64 48`, or unset it to let zk-agent generate and keep one in its data dir",
        )),
        other => Ok(other),
    }
}
