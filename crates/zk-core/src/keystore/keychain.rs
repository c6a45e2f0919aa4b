//! The OS keychain through `keyring`: macOS Keychain, Windows Credential Manager, the Secret Service
//! (GNOME Keyring, KWallet) on Linux. Every keyring call blocks (D-Bus, Security.framework, Win32),
//! so each runs under `spawn_blocking` and under a time limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyring::Entry;

use super::KeyStoreError;
use crate::secret::Secret;

/// The entry a probe reads. It is never written: `NoEntry` is the answer of a working keychain.
pub(super) const PROBE_ENTRY: &str = "zk-agent-keystore-probe";
/// How long start-up waits for the keychain to answer the probe. A dead D-Bus peer otherwise holds
/// the caller for each call's own D-Bus timeout (several per probe).
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one read or write may take: long enough for the user to answer the keychain's unlock
/// prompt, short enough that a hung keychain does not hold a request forever.
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Entries of one service name in the OS keychain.
#[derive(Clone)]
pub(super) struct Keychain {
    service: Arc<str>,
    /// One handle per entry, created on first use. Real handles hold only the service and entry
    /// names; keyring's mock store keeps the value in its handle, so with one handle per entry the
    /// mock behaves like a real store in tests. A std mutex: held for a map lookup, never across await.
    entries: Arc<Mutex<HashMap<String, Arc<Entry>>>>,
}

impl Keychain {
    pub(super) fn new(service: &str) -> Self {
        Self { service: service.into(), entries: Arc::default() }
    }

    fn entry(&self, name: &str) -> keyring::Result<Arc<Entry>> {
        // A poisoned map is still a valid map of handles.
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = entries.get(name) {
            return Ok(entry.clone());
        }
        let entry = Arc::new(Entry::new(&self.service, name)?);
        entries.insert(name.to_owned(), entry.clone());
        Ok(entry)
    }

    /// Puts a ready-made handle in place of the one `entry` would create (tests: a mock credential
    /// set to fail, or one that hangs).
    #[cfg(test)]
    pub(super) fn insert_entry(&self, name: &str, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.insert(name.to_owned(), Arc::new(entry));
    }

    /// Runs one keyring call on a blocking thread, giving up after `timeout`. A call that times out
    /// keeps its thread until the platform returns (each D-Bus call gives up after 2 s; a keychain
    /// unlock prompt waits for the user): the caller does not wait for it, the runtime's shutdown does.
    async fn call<T: Send + 'static>(
        &self,
        name: &str,
        timeout: Duration,
        work: impl FnOnce(&Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<keyring::Result<T>, KeyStoreError> {
        let this = self.clone();
        let name = name.to_owned();
        let task = tokio::task::spawn_blocking(move || this.entry(&name).and_then(|entry| work(&entry)));
        match tokio::time::timeout(timeout, task).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(join)) => Err(KeyStoreError::Internal(format!("the keychain call ended abnormally ({join})"))),
            Err(_) => Err(KeyStoreError::KeychainTimeout { after: timeout }),
        }
    }

    /// `Ok` when the keychain answers; otherwise what is wrong, worded for the user.
    pub(super) async fn probe(&self, timeout: Duration) -> Result<(), String> {
        match self.call(PROBE_ENTRY, timeout, |entry| entry.get_password().map(drop)).await {
            // NoEntry is the expected answer; a value, an undecodable value or duplicates all mean
            // that the store itself works.
            Ok(
                Ok(()) | Err(keyring::Error::NoEntry | keyring::Error::BadEncoding(_) | keyring::Error::Ambiguous(_)),
            ) => Ok(()),
            Ok(Err(error)) => Err(unavailable_reason(&error)),
            Err(KeyStoreError::KeychainTimeout { after }) => {
                Err(format!("the OS keychain did not answer within {} s", after.as_secs()))
            }
            Err(error) => Err(error.to_string()),
        }
    }

    pub(super) async fn get(&self, name: &str, timeout: Duration) -> Result<Option<Secret>, KeyStoreError> {
        match self.call(name, timeout, |entry| entry.get_password()).await? {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(failure(error)),
        }
    }

    pub(super) async fn set(&self, name: &str, value: &Secret, timeout: Duration) -> Result<(), KeyStoreError> {
        let value = value.clone();
        self.call(name, timeout, move |entry| entry.set_password(value.expose())).await?.map_err(failure)
    }

    /// Deleting an entry that does not exist succeeds: the outcome the caller wanted holds.
    pub(super) async fn delete(&self, name: &str, timeout: Duration) -> Result<(), KeyStoreError> {
        match self.call(name, timeout, |entry| entry.delete_credential()).await? {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(failure(error)),
        }
    }
}

/// Why the keychain cannot be used, in the words of the platform we run on.
fn unavailable_reason(error: &keyring::Error) -> String {
    let detail = match error {
        keyring::Error::PlatformFailure(e) => e.to_string(),
        keyring::Error::NoStorageAccess(e) => format!("access refused: {e}"),
        other => other.to_string(),
    };
    if cfg!(target_os = "linux") || cfg!(target_os = "freebsd") || cfg!(target_os = "openbsd") {
        format!("no Secret Service on the session bus (no keychain): {detail}")
    } else {
        format!("the OS keychain cannot be used: {detail}")
    }
}

/// A keychain failure during a read or write. Never carries the value: keyring's errors name the
/// platform's problem, and `BadEncoding` (which holds the stored bytes) is reduced to a sentence.
fn failure(error: keyring::Error) -> KeyStoreError {
    let reason = match error {
        keyring::Error::BadEncoding(_) => "the stored key is not valid UTF-8; store it again".to_owned(),
        keyring::Error::Ambiguous(found) => {
            format!("{} keychain items match this entry; remove the duplicates in the keychain app", found.len())
        }
        keyring::Error::TooLong(what, limit) => format!("the {what} is longer than the keychain's limit of {limit}"),
        keyring::Error::Invalid(what, why) => format!("the keychain refuses the {what}: {why}"),
        other => unavailable_reason(&other),
    };
    KeyStoreError::Keychain { reason }
}
