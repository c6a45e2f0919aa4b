//! The store's error type: what a caller can do about a failed read or write.

use thiserror::Error;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique key is taken; the message names what (`a user named "ann" already exists`).
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The database cannot be reached (outage, pool exhausted): fail fast, retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database cannot be used as it is (a damaged or unreadable file); the message says what to do.
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Self::Unavailable(error.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict("already exists".into()),
            sqlx::Error::Database(db) if is_connection_loss(db.code().as_deref()) => {
                Self::Unavailable(error.to_string())
            }
            sqlx::Error::RowNotFound => Self::NotFound("row".into()),
            _ => Self::Internal(anyhow::Error::new(error).context("database query failed")),
        }
    }
}

/// PostgreSQL SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown).
fn is_connection_loss(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
}
