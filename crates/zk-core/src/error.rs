//! The core's error type: one variant per outcome a front door maps differently.

use thiserror::Error;

pub type CoreResult<T> = Result<T, CoreError>;

#[derive(Debug, Error)]
pub enum CoreError {
    /// The caller sent something invalid; the message says what and how to fix it.
    #[error("{message}")]
    Invalid { message: String, field: Option<&'static str> },
    /// Invalid input with several problems the caller shows one by one (an agent file, a form).
    #[error("{message}")]
    Problems { message: String, problems: serde_json::Value },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// No valid credentials (wrong password, bad or expired token).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but the role or ownership does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Every worker of a bounded pool is taken and the wait ran out (a sign-in flood, heavy CAD
    /// drawings); `what` says what the workers are doing. Retry shortly.
    #[error("the server is busy {what}; try again in a few seconds")]
    Busy { what: &'static str, retry_after_secs: u64 },
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("{0}")]
    UnsupportedType(String),
    /// Well-formed input that cannot be used (a drawing the CAD reader refuses); `code` names the case.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// A drawing has no layout of that name; `available` lists the ones it has.
    #[error("the drawing has no layout named {name:?}; its layouts are: {}", available.join(", "))]
    NoSuchLayout { name: String, available: Vec<String> },
    /// The database cannot be reached (outage, pool exhausted): fail fast, retry later.
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// No OS keychain (or other store of agents' keys) can be used; the message says why and the fix.
    #[error("{0}")]
    KeychainUnavailable(String),
    /// The encrypted key file waits for its passphrase.
    #[error("{0}")]
    KeyStoreLocked(String),
    #[error("storage error: {0}")]
    Storage(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl CoreError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { message: message.into(), field: Some(field) }
    }

    /// A short, stable code the UI can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } | Self::Problems { .. } => "invalid_input",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            Self::Busy { .. } => "busy",
            Self::TooLarge { .. } => "too_large",
            Self::UnsupportedType(_) => "unsupported_type",
            Self::Unprocessable { code, .. } => code,
            Self::NoSuchLayout { .. } => "no_such_layout",
            Self::DatabaseUnavailable(_) => "database_unavailable",
            Self::KeychainUnavailable(_) => "keychain_unavailable",
            Self::KeyStoreLocked(_) => "keystore_locked",
            Self::Storage(_) => "storage_error",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<zk_store::StoreError> for CoreError {
    fn from(error: zk_store::StoreError) -> Self {
        use zk_store::StoreError;
        match error {
            StoreError::Conflict(message) => Self::Conflict(message),
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Unavailable(message) => Self::DatabaseUnavailable(message),
            StoreError::Unusable(message) => Self::Storage(message),
            StoreError::Internal(error) => Self::Internal(error),
        }
    }
}
