//! The encrypted key file: every stored key in one file, sealed with XChaCha20-Poly1305 under a key
//! derived from a passphrase with argon2id. Used where no OS keychain exists.
//!
//! Layout (version 1), all integers little-endian:
//!
//! ```text
//! magic "ZKAGKEYS" (8) | version 1 (1) | kdf 1 = argon2id v0x13 (1) | m_cost KiB (4) | t_cost (4) |
//! p_cost (4) | salt (16) | nonce (24) | ciphertext of the JSON object {entry: key} + tag (16+)
//! ```
//!
//! The whole header is the AEAD's associated data, so a changed parameter fails like a wrong
//! passphrase instead of being trusted. Every write draws a fresh random nonce (192 bits: random
//! nonces cannot collide in practice) and replaces the file atomically: temporary file in the same
//! directory, fsync, rename, fsync of the directory. Nothing but this sealed form reaches the disk.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use tokio::sync::Mutex;

use super::{KeyStoreError, MIN_PASSPHRASE_CHARS};
use crate::secret::Secret;

const MAGIC: &[u8; 8] = b"ZKAGKEYS";
const VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = MAGIC.len() + 2 + 12 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
/// A key file holds a few hundred short keys; anything near this size is not ours.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// argon2id parameters of new files: OWASP's m=19 MiB, t=2, p=1 (about 23 ms per unlock in release).
const NEW_PARAMS: KdfParams = KdfParams { m_cost: 19 * 1024, t_cost: 2, p_cost: 1 };
/// Largest parameters accepted from a file, so a doctored header cannot make an unlock allocate
/// gigabytes or run for minutes.
const MAX_M_COST: u32 = 256 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KdfParams {
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
}

/// A derived file key together with the salt and parameters it was derived with.
#[derive(Clone)]
struct FileKey {
    salt: [u8; SALT_LEN],
    params: KdfParams,
    key: Secret<[u8; 32]>,
}

impl FileKey {
    fn derive(passphrase: &Secret, salt: [u8; SALT_LEN], params: KdfParams) -> Result<Self, String> {
        let argon_params = Params::new(params.m_cost, params.t_cost, params.p_cost, Some(32))
            .map_err(|e| format!("unusable key derivation parameters ({e})"))?;
        let mut key = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
            .hash_password_into(passphrase.expose().as_bytes(), &salt, &mut key)
            .map_err(|e| format!("key derivation failed ({e})"))?;
        Ok(Self { salt, params, key: Secret::new(key) })
    }

    fn fresh(passphrase: &Secret) -> Result<Self, String> {
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        Self::derive(passphrase, salt, NEW_PARAMS)
    }

    fn matches(&self, header: &Header) -> bool {
        self.salt == header.salt && self.params == header.params
    }
}

struct Header {
    params: KdfParams,
    salt: [u8; SALT_LEN],
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// Reads the header; the error says what is wrong with the file.
fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    if bytes.len() < HEADER_LEN + TAG_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err("it is not an agent key file".into());
    }
    let version = bytes[8];
    if version != VERSION {
        return Err(format!(
            "it has format version {version}, which this zk-agent does not know (a newer one wrote it)"
        ));
    }
    if bytes[9] != KDF_ARGON2ID {
        return Err(format!("it names an unknown key derivation ({})", bytes[9]));
    }
    let params = KdfParams { m_cost: u32_at(bytes, 10), t_cost: u32_at(bytes, 14), p_cost: u32_at(bytes, 18) };
    if params.m_cost > MAX_M_COST || params.t_cost > MAX_T_COST || params.p_cost > MAX_P_COST {
        return Err("its key derivation parameters are out of range".into());
    }
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&bytes[22..22 + SALT_LEN]);
    Ok(Header { params, salt })
}

enum OpenError {
    /// The tag did not verify: a wrong passphrase, or a changed file (the two cannot be told apart).
    WrongPassphrase,
    Damaged(String),
}

fn open(bytes: &[u8], key: &FileKey) -> Result<BTreeMap<String, String>, OpenError> {
    let (header, ciphertext) = bytes.split_at(HEADER_LEN);
    let nonce = XNonce::from_slice(&header[HEADER_LEN - NONCE_LEN..]);
    let cipher = XChaCha20Poly1305::new(key.key.expose().into());
    let plaintext =
        cipher.decrypt(nonce, Payload { msg: ciphertext, aad: header }).map_err(|_| OpenError::WrongPassphrase)?;
    serde_json::from_slice(&plaintext).map_err(|e| OpenError::Damaged(format!("its contents do not parse ({e})")))
}

fn seal(entries: &BTreeMap<String, String>, key: &FileKey) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(HEADER_LEN + 256);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(KDF_ARGON2ID);
    for word in [key.params.m_cost, key.params.t_cost, key.params.p_cost] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&key.salt);
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    out.extend_from_slice(&nonce);
    let plaintext = serde_json::to_vec(entries).map_err(|e| format!("cannot encode the keys ({e})"))?;
    let cipher = XChaCha20Poly1305::new(key.key.expose().into());
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &out })
        .map_err(|_| "encryption failed".to_owned())?;
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// The file's bytes, or `None` when it does not exist.
fn read(path: &Path) -> Result<Option<Vec<u8>>, KeyStoreError> {
    let io = |source| KeyStoreError::Io { path: path.to_owned(), source };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(KeyStoreError::Damaged {
            path: path.to_owned(),
            problem: format!("it is {len} bytes long, far more than a key file holds"),
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    let mut file = file;
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(Some(bytes))
}

/// Replaces `path` with `bytes` so that a crash leaves either the old file or the new one, never a
/// mix: a temporary file in the same directory (same file system, so the rename is atomic), fsync,
/// rename over the target, fsync of the directory so the rename itself survives a power cut.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // tempfile creates it with mode 0600 on Unix; the explicit set below keeps that true whatever
    // the umask or the library's default.
    let mut temp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    // On failure the temporary file is removed when `temp`'s error value is dropped.
    temp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(())
}

/// The unlocked state: the passphrase (to re-derive when another writer changed the salt) and the
/// key derived for the file's current salt, so each read or write does not pay for argon2 again.
struct Unlocked {
    passphrase: Secret,
    key: FileKey,
}

/// What a locked file says about itself in the status.
pub(super) enum LockState {
    Unlocked,
    Locked { exists: bool },
}

/// The encrypted key file backend. Its mutex serialises reads and writes within this process, so
/// two concurrent `set`s cannot each write a file missing the other's key.
pub(super) struct EncryptedFile {
    path: PathBuf,
    state: Mutex<Option<Unlocked>>,
}

impl EncryptedFile {
    pub(super) fn new(path: PathBuf) -> Self {
        Self { path, state: Mutex::new(None) }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) async fn lock_state(&self) -> LockState {
        if self.state.lock().await.is_some() {
            LockState::Unlocked
        } else {
            let path = self.path.clone();
            let exists = tokio::task::spawn_blocking(move || path.exists()).await.unwrap_or(false);
            LockState::Locked { exists }
        }
    }

    /// Checks `passphrase` against the file (or accepts it for a file not written yet) and keeps it.
    /// A wrong passphrase changes nothing, on disk or in memory.
    pub(super) async fn unlock(&self, passphrase: Secret) -> Result<(), KeyStoreError> {
        let mut state = self.state.lock().await;
        let path = self.path.clone();
        let unlocked = blocking(move || {
            let key = match read(&path)? {
                None => {
                    let chars = passphrase.expose().chars().count();
                    if chars < MIN_PASSPHRASE_CHARS {
                        return Err(KeyStoreError::WeakPassphrase { chars });
                    }
                    FileKey::fresh(&passphrase).map_err(|problem| KeyStoreError::Damaged { path, problem })?
                }
                Some(bytes) => {
                    let header = parse_header(&bytes).map_err(|problem| damaged(&path, problem))?;
                    let key = FileKey::derive(&passphrase, header.salt, header.params)
                        .map_err(|problem| damaged(&path, problem))?;
                    open(&bytes, &key).map_err(|e| open_error(&path, e))?;
                    key
                }
            };
            Ok(Unlocked { passphrase, key })
        })
        .await?;
        *state = Some(unlocked);
        Ok(())
    }

    pub(super) async fn get(&self, entry: &str) -> Result<Option<Secret>, KeyStoreError> {
        let entry = entry.to_owned();
        self.with_entries(move |entries| Ok((None, entries.get(&entry).cloned().map(Secret::new)))).await
    }

    pub(super) async fn set(&self, entry: &str, key: &Secret) -> Result<(), KeyStoreError> {
        let (entry, value) = (entry.to_owned(), key.expose().clone());
        self.with_entries(move |mut entries| {
            entries.insert(entry, value);
            Ok((Some(entries), ()))
        })
        .await
    }

    pub(super) async fn delete(&self, entry: &str) -> Result<(), KeyStoreError> {
        let entry = entry.to_owned();
        self.with_entries(move |mut entries| {
            let changed = entries.remove(&entry).is_some();
            Ok((changed.then_some(entries), ()))
        })
        .await
    }

    /// Reads and opens the file, lets `change` look at (and perhaps replace) the entries, and writes
    /// the replacement, all under the lock and on a blocking thread (argon2, AEAD and file I/O).
    async fn with_entries<T: Send + 'static>(
        &self,
        change: impl FnOnce(BTreeMap<String, String>) -> Result<(Option<BTreeMap<String, String>>, T), KeyStoreError>
        + Send
        + 'static,
    ) -> Result<T, KeyStoreError> {
        let mut state = self.state.lock().await;
        let Some(unlocked) = state.as_ref() else {
            return Err(KeyStoreError::Locked { path: self.path.clone() });
        };
        let (path, passphrase, key) = (self.path.clone(), unlocked.passphrase.clone(), unlocked.key.clone());
        let (key, result) = blocking(move || {
            let (entries, key) = match read(&path)? {
                None => (BTreeMap::new(), key),
                Some(bytes) => {
                    let header = parse_header(&bytes).map_err(|problem| damaged(&path, problem))?;
                    // Another writer (a second instance) may have re-created the file with a new salt.
                    let key = if key.matches(&header) {
                        key
                    } else {
                        FileKey::derive(&passphrase, header.salt, header.params)
                            .map_err(|problem| damaged(&path, problem))?
                    };
                    (open(&bytes, &key).map_err(|e| open_error(&path, e))?, key)
                }
            };
            let (replacement, result) = change(entries)?;
            if let Some(entries) = replacement {
                let sealed = seal(&entries, &key).map_err(|problem| damaged(&path, problem))?;
                write_atomically(&path, &sealed).map_err(|source| KeyStoreError::Io { path: path.clone(), source })?;
            }
            Ok((key, result))
        })
        .await?;
        if let Some(unlocked) = state.as_mut() {
            unlocked.key = key;
        }
        Ok(result)
    }
}

fn damaged(path: &Path, problem: String) -> KeyStoreError {
    KeyStoreError::Damaged { path: path.to_owned(), problem }
}

fn open_error(path: &Path, error: OpenError) -> KeyStoreError {
    match error {
        OpenError::WrongPassphrase => KeyStoreError::WrongPassphrase { path: path.to_owned() },
        OpenError::Damaged(problem) => damaged(path, problem),
    }
}

/// Runs CPU- or disk-bound work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeyStoreError> + Send + 'static,
) -> Result<T, KeyStoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| KeyStoreError::Internal(format!("the key file task ended abnormally ({e})")))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn passphrase(text: &str) -> Secret {
        Secret::new(text.to_owned())
    }

    #[tokio::test]
    async fn keys_round_trip_through_the_sealed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent-keys.enc");
        let file = EncryptedFile::new(path.clone());
        file.unlock(passphrase("correct horse battery")).await.unwrap();
        assert!(!path.exists(), "unlocking a new file writes nothing until a key is stored");
        file.set("agent:a", &Secret::new("sk-alpha-1234567890".into())).await.unwrap();
        file.set("agent:b", &Secret::new("fastgpt-beta-0987654321".into())).await.unwrap();
        file.delete("agent:a").await.unwrap();

        let reopened = EncryptedFile::new(path.clone());
        assert!(matches!(reopened.get("agent:b").await, Err(KeyStoreError::Locked { .. })), "a new handle is locked");
        reopened.unlock(passphrase("correct horse battery")).await.unwrap();
        assert_eq!(reopened.get("agent:b").await.unwrap().unwrap().expose(), "fastgpt-beta-0987654321");
        assert!(reopened.get("agent:a").await.unwrap().is_none(), "the deleted key is gone");
    }

    #[tokio::test]
    async fn every_write_uses_a_fresh_nonce() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent-keys.enc");
        let file = EncryptedFile::new(path.clone());
        file.unlock(passphrase("correct horse battery")).await.unwrap();
        file.set("agent:a", &Secret::new("sk-same".into())).await.unwrap();
        let first = std::fs::read(&path).unwrap();
        file.set("agent:a", &Secret::new("sk-same".into())).await.unwrap();
        let second = std::fs::read(&path).unwrap();
        assert_eq!(first[..HEADER_LEN - NONCE_LEN], second[..HEADER_LEN - NONCE_LEN], "salt and parameters stay");
        assert_ne!(first[HEADER_LEN - NONCE_LEN..HEADER_LEN], second[HEADER_LEN - NONCE_LEN..HEADER_LEN], "new nonce");
        assert_ne!(first[HEADER_LEN..], second[HEADER_LEN..], "same contents, different ciphertext");
    }

    #[tokio::test]
    async fn a_changed_header_or_body_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent-keys.enc");
        let file = EncryptedFile::new(path.clone());
        file.unlock(passphrase("correct horse battery")).await.unwrap();
        file.set("agent:a", &Secret::new("sk-alpha".into())).await.unwrap();
        let good = std::fs::read(&path).unwrap();

        for (at, why) in [(26, "salt"), (HEADER_LEN - 1, "nonce"), (HEADER_LEN + 2, "ciphertext")] {
            let mut bad = good.clone();
            bad[at] ^= 1;
            std::fs::write(&path, &bad).unwrap();
            let fresh = EncryptedFile::new(path.clone());
            let error = fresh.unlock(passphrase("correct horse battery")).await.unwrap_err();
            assert!(matches!(error, KeyStoreError::WrongPassphrase { .. }), "a changed {why} does not open: {error}");
        }
        let mut bad = good.clone();
        bad[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, &bad).unwrap();
        let error = EncryptedFile::new(path.clone()).unlock(passphrase("correct horse battery")).await.unwrap_err();
        assert!(matches!(error, KeyStoreError::Damaged { .. }), "absurd argon2 parameters are not run: {error}");
        std::fs::write(&path, b"sk-plaintext-is-not-a-key-file").unwrap();
        let error = EncryptedFile::new(path.clone()).unlock(passphrase("correct horse battery")).await.unwrap_err();
        assert!(error.to_string().contains("not an agent key file"), "{error}");
    }

    #[tokio::test]
    async fn a_short_passphrase_cannot_create_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = EncryptedFile::new(dir.path().join("agent-keys.enc"));
        let error = file.unlock(passphrase("short")).await.unwrap_err();
        assert!(matches!(error, KeyStoreError::WeakPassphrase { chars: 5 }), "{error}");
        assert!(matches!(file.lock_state().await, LockState::Locked { exists: false }));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent-keys.enc");
        let file = EncryptedFile::new(path.clone());
        file.unlock(passphrase("correct horse battery")).await.unwrap();
        file.set("agent:a", &Secret::new("sk-alpha".into())).await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only the owner may read the key file");
    }

    #[tokio::test]
    async fn concurrent_sets_keep_every_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::sync::Arc::new(EncryptedFile::new(dir.path().join("agent-keys.enc")));
        file.unlock(passphrase("correct horse battery")).await.unwrap();
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let file = file.clone();
                tokio::spawn(async move { file.set(&format!("agent:{i}"), &Secret::new(format!("sk-{i}"))).await })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap().unwrap();
        }
        for i in 0..8 {
            assert_eq!(file.get(&format!("agent:{i}")).await.unwrap().unwrap().expose(), &format!("sk-{i}"));
        }
    }
}
