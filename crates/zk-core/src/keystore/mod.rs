//! Agents' API keys, kept out of the database and out of every plaintext file.
//!
//! Where the keys live, chosen once when the store opens (`ZK_KEYSTORE`, default `auto`):
//!
//! 1. the OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service on Linux),
//!    when a probe at open answers in time;
//! 2. otherwise an encrypted file (`ZK_KEYSTORE_FILE`, default `<data dir>/agent-keys.enc`), sealed
//!    with a key derived from a passphrase (`ZK_KEYSTORE_PASSPHRASE`, or [`KeyStore::unlock`] at run
//!    time): used when a passphrase is given or the file already exists (then "locked" until unlocked);
//! 3. otherwise nothing is stored: each agent names an environment variable that holds its key.
//!
//! [`KeyStore::status`] says which of these is active, whether keys can be stored, and, when
//! something is missing, what is wrong and how to fix it. Keys travel as [`Secret`], so they never
//! reach a log line or an error message.

mod file;
mod keychain;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::KeyStoreConfig;
use crate::error::CoreError;
use crate::secret::Secret;
use file::{EncryptedFile, LockState};
use keychain::{CALL_TIMEOUT, Keychain, PROBE_ENTRY, PROBE_TIMEOUT};

pub use crate::config::{KeyStoreMode, MIN_PASSPHRASE_CHARS, default_key_file};

/// The longest API key accepted; real keys are well under 1 KiB.
const MAX_KEY_BYTES: usize = 16 * 1024;
/// The longest entry name; keychains limit attribute lengths, and ours are `agent:<uuid>`.
const MAX_ENTRY_BYTES: usize = 255;

/// How to open a [`KeyStore`].
#[derive(Debug, Clone)]
pub struct KeyStoreOptions {
    pub mode: KeyStoreMode,
    /// The encrypted file (default `<data dir>/agent-keys.enc`).
    pub file_path: PathBuf,
    /// Unlocks (or, for a new file, sets) the encrypted file's passphrase at open.
    pub passphrase: Option<Secret>,
    /// The keychain's service name under which every entry is filed.
    pub service_name: String,
}

impl KeyStoreOptions {
    /// The keychain service name of the app's entries.
    pub const DEFAULT_SERVICE_NAME: &'static str = "zk-agent";

    /// The options the configuration asks for, under [`Self::DEFAULT_SERVICE_NAME`].
    pub fn from_config(config: &KeyStoreConfig) -> Self {
        Self {
            mode: config.mode,
            file_path: config.file.clone(),
            passphrase: config.passphrase.clone(),
            service_name: Self::DEFAULT_SERVICE_NAME.to_owned(),
        }
    }
}

/// Which store holds the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyStoreBackend {
    Keychain,
    EncryptedFile,
    Environment,
}

/// What the UI and `zk-agent doctor` show about the key store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct KeyStoreStatus {
    pub backend: KeyStoreBackend,
    /// Keys can be stored in `backend` (false for environment variables only, and for a keychain
    /// that was asked for explicitly but does not answer).
    pub available: bool,
    /// The encrypted file needs its passphrase ([`KeyStore::unlock`]) before keys can be read or stored.
    pub locked: bool,
    /// What is wrong (or which fallback is in use) and how to fix it; `None` when all is well.
    pub reason: Option<String>,
}

/// Where an agent's key comes from, as saved in the agent's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeyRef {
    /// An entry in the active store (OS keychain or encrypted file); see [`entry_for_agent`].
    Stored { entry: String },
    /// An environment variable of the server process, e.g. `OPENAI_API_KEY`.
    Env { var: String },
}

impl KeyRef {
    /// Checks the name without looking anything up, so an agent's configuration can be refused
    /// when it is saved rather than when the agent is first used.
    pub fn validate(&self) -> Result<(), KeyStoreError> {
        match self {
            Self::Stored { entry } => validate_entry(entry),
            Self::Env { var } => validate_env_var(var),
        }
    }
}

/// The store entry of an agent's key.
pub fn entry_for_agent(agent_uuid: &str) -> String {
    format!("agent:{}", agent_uuid.trim().to_ascii_lowercase())
}

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// No store of keys is usable; the reason says why and what to do.
    #[error("{reason}")]
    Unavailable { reason: String },
    /// The OS keychain failed a read or write.
    #[error("OS keychain: {reason}")]
    Keychain { reason: String },
    #[error(
        "the OS keychain did not answer within {} s; check that it is running and unlocked, then retry",
        after.as_secs()
    )]
    KeychainTimeout { after: Duration },
    #[error(
        "the agent key file {} is locked; enter its passphrase to unlock it, or set ZK_KEYSTORE_PASSPHRASE",
        path.display()
    )]
    Locked { path: PathBuf },
    #[error(
        "the passphrase does not open the agent key file {} (a wrong passphrase, or the file was changed); nothing was changed, try again",
        path.display()
    )]
    WrongPassphrase { path: PathBuf },
    #[error("the passphrase is {chars} characters long; a new agent key file needs at least {MIN_PASSPHRASE_CHARS}")]
    WeakPassphrase { chars: usize },
    #[error(
        "the agent key file {} is damaged: {problem}; restore it from a backup, or move it away and enter the keys again",
        path.display()
    )]
    Damaged { path: PathBuf, problem: String },
    #[error("the agent key file {}: {source}; check the directory's permissions and free space", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key entry {entry:?} {problem}")]
    InvalidEntry { entry: String, problem: &'static str },
    #[error("environment variable {var:?} {problem}")]
    InvalidEnvVar { var: String, problem: String },
    #[error("{0}")]
    InvalidKey(&'static str),
    #[error("the key store uses {0}; there is nothing to unlock")]
    NothingToUnlock(&'static str),
    #[error("key store: {0}")]
    Internal(String),
}

impl From<KeyStoreError> for CoreError {
    fn from(error: KeyStoreError) -> Self {
        match error {
            KeyStoreError::Unavailable { .. }
            | KeyStoreError::Keychain { .. }
            | KeyStoreError::KeychainTimeout { .. } => CoreError::KeychainUnavailable(error.to_string()),
            KeyStoreError::Locked { .. } => CoreError::KeyStoreLocked(error.to_string()),
            KeyStoreError::WrongPassphrase { .. } | KeyStoreError::WeakPassphrase { .. } => {
                CoreError::invalid("passphrase", error.to_string())
            }
            KeyStoreError::InvalidEntry { .. } => CoreError::invalid("entry", error.to_string()),
            KeyStoreError::InvalidEnvVar { .. } => CoreError::invalid("env_var", error.to_string()),
            KeyStoreError::InvalidKey(_) => CoreError::invalid("api_key", error.to_string()),
            KeyStoreError::NothingToUnlock(_) => CoreError::Conflict(error.to_string()),
            KeyStoreError::Damaged { .. } | KeyStoreError::Io { .. } => CoreError::Storage(error.to_string()),
            KeyStoreError::Internal(_) => CoreError::Internal(anyhow::Error::new(error)),
        }
    }
}

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The key store service. Cheap to clone: every clone shares one store.
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<Inner>,
}

struct Inner {
    mode: KeyStoreMode,
    backend: Backend,
    env: EnvLookup,
}

enum Backend {
    Keychain(Keychain),
    /// Asked for explicitly (`ZK_KEYSTORE=keychain`) but not answering: the user chose the keychain,
    /// so keys are not quietly put elsewhere.
    KeychainUnavailable {
        reason: String,
    },
    File {
        file: EncryptedFile,
        /// Why the file is in use instead of the keychain (`auto` fallback).
        fallback: Option<String>,
        /// Why the passphrase given at open did not unlock the file; cleared by a successful unlock.
        /// A std mutex: held only to read or replace the string.
        open_problem: Mutex<Option<String>>,
    },
    Environment {
        reason: String,
    },
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match &self.inner.backend {
            Backend::Keychain(_) | Backend::KeychainUnavailable { .. } => "keychain",
            Backend::File { .. } => "encrypted_file",
            Backend::Environment { .. } => "environment",
        };
        f.debug_struct("KeyStore").field("mode", &self.inner.mode).field("backend", &backend).finish()
    }
}

impl KeyStore {
    /// Opens the store the options ask for; environment references read the process environment.
    /// Never fails: whatever is missing shows in [`KeyStore::status`] and in the errors of later calls.
    pub async fn open(options: KeyStoreOptions) -> KeyStore {
        Self::open_with_env(options, |var| std::env::var(var).ok()).await
    }

    /// [`KeyStore::open`] with environment references resolved by `env` instead of the process
    /// environment (tests; a front door that layers `.env` files over it).
    pub async fn open_with_env(
        options: KeyStoreOptions,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> KeyStore {
        let keychain = Keychain::new(&options.service_name);
        Self::open_inner(options, Arc::new(env), keychain, PROBE_TIMEOUT).await
    }

    async fn open_inner(
        options: KeyStoreOptions,
        env: EnvLookup,
        keychain: Keychain,
        probe_timeout: Duration,
    ) -> KeyStore {
        let backend = match options.mode {
            KeyStoreMode::Env => Backend::Environment {
                reason: "ZK_KEYSTORE=env: keys are read only from each agent's environment variable; \
                         unset ZK_KEYSTORE to keep keys in the OS keychain"
                    .into(),
            },
            KeyStoreMode::Keychain => match keychain.probe(probe_timeout).await {
                Ok(()) => Backend::Keychain(keychain),
                Err(problem) => Backend::KeychainUnavailable {
                    reason: format!(
                        "{problem}; start the OS keychain (on Linux a Secret Service such as GNOME Keyring) and \
                         restart, or set ZK_KEYSTORE=auto to fall back to an encrypted file or environment variables"
                    ),
                },
            },
            KeyStoreMode::File => file_backend(&options, None).await,
            KeyStoreMode::Auto => match keychain.probe(probe_timeout).await {
                Ok(()) => Backend::Keychain(keychain),
                Err(problem) => {
                    let path = options.file_path.clone();
                    let file_exists = tokio::task::spawn_blocking(move || path.exists()).await.unwrap_or(false);
                    if options.passphrase.is_some() || file_exists {
                        file_backend(&options, Some(problem)).await
                    } else {
                        tracing::info!(%problem, "no OS keychain; agents' keys come from environment variables only");
                        Backend::Environment {
                            reason: format!(
                                "{problem}; set ZK_KEYSTORE_PASSPHRASE to keep keys in an encrypted file, \
                                 or give each agent an environment variable"
                            ),
                        }
                    }
                }
            },
        };
        KeyStore { inner: Arc::new(Inner { mode: options.mode, backend, env }) }
    }

    /// The mode the store was opened in (`ZK_KEYSTORE`).
    pub fn mode(&self) -> KeyStoreMode {
        self.inner.mode
    }

    pub async fn status(&self) -> KeyStoreStatus {
        match &self.inner.backend {
            Backend::Keychain(_) => {
                KeyStoreStatus { backend: KeyStoreBackend::Keychain, available: true, locked: false, reason: None }
            }
            Backend::KeychainUnavailable { reason } => KeyStoreStatus {
                backend: KeyStoreBackend::Keychain,
                available: false,
                locked: false,
                reason: Some(reason.clone()),
            },
            Backend::Environment { reason } => KeyStoreStatus {
                backend: KeyStoreBackend::Environment,
                available: false,
                locked: false,
                reason: Some(reason.clone()),
            },
            Backend::File { file, fallback, open_problem } => {
                let path = file.path().display();
                let (locked, state) = match file.lock_state().await {
                    LockState::Unlocked => (false, None),
                    LockState::Locked { exists } => {
                        let problem = open_problem.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        let state = problem.unwrap_or_else(|| {
                            if exists {
                                format!(
                                    "the agent key file {path} is locked; enter its passphrase to unlock it, \
                                     or set ZK_KEYSTORE_PASSPHRASE"
                                )
                            } else {
                                format!(
                                    "the agent key file {path} has no passphrase yet; set ZK_KEYSTORE_PASSPHRASE \
                                     or enter a new passphrase (at least {MIN_PASSPHRASE_CHARS} characters) to create it"
                                )
                            }
                        });
                        (true, Some(state))
                    }
                };
                let reason = match (fallback, state) {
                    (Some(fallback), Some(state)) => Some(format!("{fallback}; {state}")),
                    (Some(fallback), None) => Some(format!("{fallback}; keys are kept in the encrypted file {path}")),
                    (None, state) => state,
                };
                KeyStoreStatus { backend: KeyStoreBackend::EncryptedFile, available: true, locked, reason }
            }
        }
    }

    /// Unlocks the encrypted file with `passphrase` (for a file not written yet: sets it). A wrong
    /// passphrase is refused and changes nothing.
    pub async fn unlock(&self, passphrase: Secret) -> Result<(), KeyStoreError> {
        match &self.inner.backend {
            Backend::File { file, open_problem, .. } => {
                file.unlock(passphrase).await?;
                *open_problem.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(())
            }
            Backend::Keychain(_) | Backend::KeychainUnavailable { .. } => {
                Err(KeyStoreError::NothingToUnlock("the OS keychain"))
            }
            Backend::Environment { .. } => Err(KeyStoreError::NothingToUnlock("environment variables only")),
        }
    }

    /// Stores `key` under `entry`, replacing any earlier key.
    pub async fn set(&self, entry: &str, key: &Secret) -> Result<(), KeyStoreError> {
        validate_entry(entry)?;
        if key.expose().trim().is_empty() {
            return Err(KeyStoreError::InvalidKey("an API key cannot be empty"));
        }
        if key.expose().len() > MAX_KEY_BYTES {
            return Err(KeyStoreError::InvalidKey("an API key longer than 16 KiB is not an API key"));
        }
        match &self.inner.backend {
            Backend::Keychain(keychain) => keychain.set(entry, key, CALL_TIMEOUT).await,
            Backend::File { file, .. } => file.set(entry, key).await,
            other => Err(other.unavailable()),
        }
    }

    /// The key stored under `entry`, or `None` when there is none.
    pub async fn get(&self, entry: &str) -> Result<Option<Secret>, KeyStoreError> {
        validate_entry(entry)?;
        match &self.inner.backend {
            Backend::Keychain(keychain) => keychain.get(entry, CALL_TIMEOUT).await,
            Backend::File { file, .. } => file.get(entry).await,
            other => Err(other.unavailable()),
        }
    }

    /// Removes the key under `entry`; removing a key that is not there succeeds.
    pub async fn delete(&self, entry: &str) -> Result<(), KeyStoreError> {
        validate_entry(entry)?;
        match &self.inner.backend {
            Backend::Keychain(keychain) => keychain.delete(entry, CALL_TIMEOUT).await,
            Backend::File { file, .. } => file.delete(entry).await,
            other => Err(other.unavailable()),
        }
    }

    /// The key `key` points at: a stored entry, or an environment variable (unset or empty: `None`).
    pub async fn resolve(&self, key: &KeyRef) -> Result<Option<Secret>, KeyStoreError> {
        match key {
            KeyRef::Stored { entry } => self.get(entry).await,
            KeyRef::Env { var } => {
                validate_env_var(var)?;
                Ok((self.inner.env)(var).filter(|v| !v.is_empty()).map(Secret::new))
            }
        }
    }

    /// The first key found among `keys`, in order: an agent with a stored key and an environment
    /// variable gets the stored one, and the variable when the key is stored nowhere (or the store
    /// cannot be read). Invalid names are errors at once; a store error is returned only when no
    /// later reference yields a key.
    pub async fn resolve_first(&self, keys: &[KeyRef]) -> Result<Option<Secret>, KeyStoreError> {
        let mut store_error = None;
        for key in keys {
            match self.resolve(key).await {
                Ok(Some(secret)) => return Ok(Some(secret)),
                Ok(None) => {}
                Err(error @ (KeyStoreError::InvalidEntry { .. } | KeyStoreError::InvalidEnvVar { .. })) => {
                    return Err(error);
                }
                Err(error) => {
                    store_error.get_or_insert(error);
                }
            }
        }
        store_error.map_or(Ok(None), Err)
    }
}

impl Backend {
    fn unavailable(&self) -> KeyStoreError {
        let reason = match self {
            Self::KeychainUnavailable { reason } | Self::Environment { reason } => reason.clone(),
            Self::Keychain(_) | Self::File { .. } => "the key store is available".into(),
        };
        KeyStoreError::Unavailable { reason }
    }
}

async fn file_backend(options: &KeyStoreOptions, fallback: Option<String>) -> Backend {
    let file = EncryptedFile::new(options.file_path.clone());
    let mut open_problem = None;
    if let Some(passphrase) = &options.passphrase
        && let Err(error) = file.unlock(passphrase.clone()).await
    {
        tracing::warn!(%error, "ZK_KEYSTORE_PASSPHRASE does not unlock the agent key file");
        open_problem = Some(format!("ZK_KEYSTORE_PASSPHRASE: {error}"));
    }
    Backend::File { file, fallback, open_problem: Mutex::new(open_problem) }
}

fn validate_entry(entry: &str) -> Result<(), KeyStoreError> {
    let problem = if entry.trim().is_empty() {
        "is empty"
    } else if entry.len() > MAX_ENTRY_BYTES {
        "is longer than 255 bytes"
    } else if entry.chars().any(char::is_control) {
        "contains control characters"
    } else if entry == PROBE_ENTRY {
        "is reserved for the keychain probe"
    } else {
        return Ok(());
    };
    Err(KeyStoreError::InvalidEntry { entry: entry.chars().take(80).collect(), problem })
}

/// Prefixes of the variables that hold the app's own settings and secrets. An agent's key is sent
/// to the agent's base URL, which whoever edits the agent chooses; naming `DB_PASSWORD` there would
/// send the database password to that server.
const RESERVED_ENV_PREFIXES: &[&str] = &["ZK_", "DB_", "DATABASE_", "JWT_", "REDIS_", "S3_", "AWS_"];

fn validate_env_var(var: &str) -> Result<(), KeyStoreError> {
    let invalid = |problem: String| Err(KeyStoreError::InvalidEnvVar { var: var.chars().take(80).collect(), problem });
    let well_formed = !var.is_empty()
        && var.len() <= 128
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !var.starts_with(|c: char| c.is_ascii_digit());
    if !well_formed {
        return invalid("is not a variable name; use letters, digits and _, e.g. OPENAI_API_KEY".into());
    }
    let upper = var.to_ascii_uppercase();
    let own_setting = crate::config::settings().any(|s| s.name == upper && s.name != "FASTGPT_API_KEY");
    if own_setting || RESERVED_ENV_PREFIXES.iter().any(|prefix| upper.starts_with(prefix)) {
        return invalid(format!(
            "holds one of zk-agent's own settings and cannot be an agent's key; name a variable of its own, e.g. {}",
            "OPENAI_API_KEY"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
