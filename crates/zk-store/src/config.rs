//! Which database to open. Reading it from the environment is the core's configuration's job.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// The database the core opens.
#[derive(Clone)]
pub enum DatabaseConfig {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        /// Connection options, including the password: never printed (see the `Debug` impl).
        connect: Box<PgConnectOptions>,
        /// The same target with the password removed, for logs and `config show`.
        display: String,
        pool_max: u32,
        pool_min: u32,
        acquire_timeout: Duration,
    },
}

impl DatabaseConfig {
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite://{}", path.display()),
            Self::Postgres { display, .. } => display.clone(),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }

    /// How the connection to PostgreSQL is protected, and the host it goes to (`None` for SQLite,
    /// a local file).
    pub fn tls(&self) -> Option<(DatabaseTls, String)> {
        let Self::Postgres { connect, .. } = self else { return None };
        let tls = match connect.get_ssl_mode() {
            PgSslMode::Disable | PgSslMode::Allow | PgSslMode::Prefer => DatabaseTls::Off,
            PgSslMode::Require => DatabaseTls::Unverified,
            PgSslMode::VerifyCa | PgSslMode::VerifyFull => DatabaseTls::Verified,
        };
        Some((tls, connect.get_host().to_owned()))
    }
}

/// TLS to PostgreSQL as configured (`DB_SSL`, `DB_SSL_REJECT_UNAUTHORIZED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseTls {
    /// Not required: plain text unless the server insists.
    Off,
    /// Encrypted, the server's certificate not checked.
    Unverified,
    /// Encrypted, the certificate checked against the CA (and the host name).
    Verified,
}

/// Shows the target without its password.
impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres { display, pool_max, pool_min, acquire_timeout, .. } => f
                .debug_struct("Postgres")
                .field("target", display)
                .field("pool_max", pool_max)
                .field("pool_min", pool_min)
                .field("acquire_timeout", acquire_timeout)
                .finish_non_exhaustive(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let config = DatabaseConfig::Postgres {
            connect: Box::new(PgConnectOptions::from_str("postgres://zk:hunter2-secret@db:5432/zk").expect("a URL")),
            display: "postgres://zk:***@db:5432/zk".into(),
            pool_max: 10,
            pool_min: 0,
            acquire_timeout: Duration::from_secs(2),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db:5432"), "{shown}");
    }
}
