//! The store of agents' API keys: which kind, and the encrypted file's passphrase and path.

use std::path::{Path, PathBuf};

use super::{ConfigError, Reader, Setting};
use crate::keystore::{self, KeyStoreMode};
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
        if chars < keystore::MIN_PASSPHRASE_CHARS {
            return Err(reader.error(
                "ZK_KEYSTORE_PASSPHRASE",
                &format!("is {chars} characters long; at least {} are needed", keystore::MIN_PASSPHRASE_CHARS),
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
    Ok(KeyStoreConfig { mode, passphrase, file: file.unwrap_or_else(|| keystore::default_file_path(data_dir)) })
}
