//! The database: SQLite in the data dir unless `DATABASE_URL` or `DB_HOST` names another.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use super::{ConfigError, Reader, Setting};
use crate::secret::redact_url;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::url("DATABASE_URL", "postgres://… or sqlite://…; wins over the DB_* parts"),
    Setting::plain("DB_HOST", "PostgreSQL host (selects PostgreSQL when DATABASE_URL is unset)"),
    Setting::plain("DB_PORT", "PostgreSQL port (default 5432)"),
    Setting::plain("DB_NAME", "PostgreSQL database name"),
    Setting::plain("DB_USER", "PostgreSQL user"),
    Setting::secret("DB_PASSWORD", "PostgreSQL password"),
    Setting::plain("DB_POOL_MAX", "largest number of database connections (default 10)"),
    Setting::plain("DB_POOL_MIN", "connections kept open when idle (default 0)"),
    Setting::plain("DB_SSL", "connect to PostgreSQL over TLS (default false)"),
    Setting::plain("DB_SSL_REJECT_UNAUTHORIZED", "verify the server certificate and host name (default true)"),
    Setting::plain("DB_SSL_CA", "CA certificate file for DB_SSL"),
    Setting::plain("DB_SSL_CERT", "client certificate file for DB_SSL"),
    Setting::plain("DB_SSL_KEY", "client key file for DB_SSL"),
    Setting::plain("DB_ACQUIRE_TIMEOUT_MS", "how long a request waits for a database connection (default 2000)"),
];

/// The database the core opens: the store's own type, read here from the environment.
pub use zk_store::DatabaseConfig;

pub(super) fn read(reader: &mut Reader, data_dir: &Path) -> Result<DatabaseConfig, ConfigError> {
    let pool_max = reader.number("DB_POOL_MAX", 1, 1000)?.unwrap_or(10) as u32;
    let pool_min = reader.number("DB_POOL_MIN", 0, 1000)?.unwrap_or(0) as u32;
    if pool_min > pool_max {
        return Err(reader.error("DB_POOL_MIN", "is larger than DB_POOL_MAX", "make DB_POOL_MIN at most DB_POOL_MAX"));
    }
    let acquire_timeout = Duration::from_millis(reader.number("DB_ACQUIRE_TIMEOUT_MS", 100, 60_000)?.unwrap_or(2000));
    let ssl = reader.bool("DB_SSL")?.unwrap_or(false);
    let verify = reader.bool("DB_SSL_REJECT_UNAUTHORIZED")?.unwrap_or(true);
    let ssl_files: Vec<(&str, Option<String>)> =
        ["DB_SSL_CA", "DB_SSL_CERT", "DB_SSL_KEY"].into_iter().map(|n| (n, reader.string(n))).collect();
    for (name, path) in &ssl_files {
        if let Some(path) = path
            && !Path::new(path).is_file()
        {
            return Err(reader.error(
                name,
                "names a file that does not exist",
                &format!("point {name} at a readable PEM file"),
            ));
        }
    }

    let url = reader.string("DATABASE_URL");
    let parts: Vec<(&str, Option<String>)> =
        ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER"].into_iter().map(|n| (n, reader.string(n))).collect();
    let password = reader.secret("DB_PASSWORD");
    let mut options = match url {
        Some(url) if url.starts_with("sqlite:") => {
            let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(reader.error(
                    "DATABASE_URL",
                    "names no database file",
                    "write DATABASE_URL=sqlite:///absolute/path/zk-agent.db",
                ));
            }
            return Ok(DatabaseConfig::Sqlite { path: PathBuf::from(path) });
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            PgConnectOptions::from_str(&url).map_err(|e| {
                reader.error(
                    "DATABASE_URL",
                    &format!("is not a valid PostgreSQL URL ({})", redact_url(&e.to_string())),
                    "write DATABASE_URL=postgres://user:password@host:5432/database",
                )
            })?
        }
        Some(_) => {
            return Err(reader.error(
                "DATABASE_URL",
                "must start with postgres://, postgresql:// or sqlite://",
                "write DATABASE_URL=postgres://user:password@host:5432/database or sqlite:///path/zk-agent.db",
            ));
        }
        None => match &parts[0].1 {
            None => return Ok(DatabaseConfig::Sqlite { path: data_dir.join("zk-agent.db") }),
            Some(host) => {
                let port = reader.port("DB_PORT")?.unwrap_or(5432);
                let mut options = PgConnectOptions::new_without_pgpass().host(host).port(port);
                if let Some(name) = &parts[2].1 {
                    options = options.database(name);
                }
                if let Some(user) = &parts[3].1 {
                    options = options.username(user);
                }
                options
            }
        },
    };
    if let Some(password) = &password {
        options = options.password(password.expose());
    }
    if ssl {
        options = options.ssl_mode(if verify { PgSslMode::VerifyFull } else { PgSslMode::Require });
        if let Some(ca) = &ssl_files[0].1 {
            options = options.ssl_root_cert(ca);
        }
        if let Some(cert) = &ssl_files[1].1 {
            options = options.ssl_client_cert(cert);
        }
        if let Some(key) = &ssl_files[2].1 {
            options = options.ssl_client_key(key);
        }
    }
    let display = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    );
    Ok(DatabaseConfig::Postgres { connect: Box::new(options), display, pool_max, pool_min, acquire_timeout })
}
