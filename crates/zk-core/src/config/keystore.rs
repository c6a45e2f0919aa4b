//! The store of agents' API keys: which kind, and the encrypted file's passphrase and path.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Reader, Setting};
use crate::secret::Secret;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("ZK_KEYSTORE", "where agents' API keys live: auto (default), keychain, file or env"),
    Setting::secret("ZK_KEYSTORE_PASSPHRASE", "passphrase of the encrypted key file, used where no OS keychain exists"),
    Setting::plain("ZK_KEYSTORE_FILE", "the encrypted key file (default: agent-keys.enc in the data dir)"),
];

/// Where agents' API keys are kept (see [`crate::keystore`]).
#[derive(Debug, Clone)]
pub struct KeyStoreConfig {
    pub mode: KeyStoreMode,
    /// Unlocks the encrypted file at start; without it a file stays locked until unlocked at run time.
    pub passphrase: Option<Secret>,
    pub file: PathBuf,
}

/// The shortest passphrase a new key file accepts.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// The default path of the encrypted file inside a data directory.
pub fn default_key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("agent-keys.enc")
}

/// Where keys are kept: `ZK_KEYSTORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyStoreMode {
    /// The OS keychain when it answers, else the encrypted file, else environment variables only.
    #[default]
    Auto,
    /// The OS keychain only; when it is unavailable nothing is stored (no silent fallback).
    Keychain,
    /// The encrypted file only, even where a keychain exists.
    File,
    /// Environment variables only; nothing is stored.
    Env,
}

impl KeyStoreMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Keychain => "keychain",
            Self::File => "file",
            Self::Env => "env",
        }
    }
}

impl fmt::Display for KeyStoreMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyStoreMode {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "keychain" => Ok(Self::Keychain),
            "file" => Ok(Self::File),
            "env" => Ok(Self::Env),
            _ => Err(()),
        }
    }
}

pub(super) fn read(reader: &mut Reader, data_dir: &Path) -> Result<KeyStoreConfig, ConfigError> {
    let mode = match reader.string("ZK_KEYSTORE") {
        None => KeyStoreMode::Auto,
        Some(value) => value.parse().map_err(|()| {
            reader.error(
                "ZK_KEYSTORE",
                "must be auto, keychain, file or env",
                "set ZK_KEYSTORE=auto (the OS keychain, else an encrypted file, else environment variables)",
            )
        })?,
    };
    let passphrase = reader.secret("ZK_KEYSTORE_PASSPHRASE");
    if let Some(passphrase) = &passphrase {
        let chars = passphrase.expose().chars().count();
        if chars < MIN_PASSPHRASE_CHARS {
            return Err(reader.error(
                "ZK_KEYSTORE_PASSPHRASE",
                &format!("is {chars} characters long; at least {} are needed", MIN_PASSPHRASE_CHARS),
                "choose a longer passphrase (a few unrelated words work well), or unset it",
            ));
        }
    }
    let file = reader.string("ZK_KEYSTORE_FILE").map(PathBuf::from);
    if let Some(file) = &file
        && file.is_dir()
    {
        return Err(reader.error(
            "ZK_KEYSTORE_FILE",
            "names a directory",
            "name a file, e.g. ZK_KEYSTORE_FILE=/path/to/agent-keys.enc",
        ));
    }
    Ok(KeyStoreConfig { mode, passphrase, file: file.unwrap_or_else(|| default_key_file(data_dir)) })
}
