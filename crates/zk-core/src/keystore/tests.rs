//! The key store's rules, with keyring's mock keychain and temporary directories. The real OS
//! keychain is exercised by `tests/integration/keystore.rs`.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;

use keyring::credential::CredentialApi;
use keyring::mock::MockCredential;

use super::*;

const PASSPHRASE: &str = "correct horse battery staple";
const KEY: &str = "sk-live-7f3a9c2e4b1d8f6a0c5e";

/// The mock store replaces the OS keychain for every entry created after this call; each test sets
/// it, since tests run in any order.
fn mock_keychain(service: &str) -> Keychain {
    keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
    Keychain::new(service)
}

/// A mock keychain whose probe fails as a machine without a Secret Service does.
fn broken_keychain() -> Keychain {
    let keychain = mock_keychain("zk-agent-test");
    let probe = keyring::Entry::new("zk-agent-test", PROBE_ENTRY).unwrap();
    let mock: &MockCredential = probe.get_credential().downcast_ref().unwrap();
    mock.set_error(keyring::Error::PlatformFailure("org.freedesktop.DBus.Error.ServiceUnknown".into()));
    keychain.insert_entry(PROBE_ENTRY, probe);
    keychain
}

fn options(mode: KeyStoreMode, dir: &Path, passphrase: Option<&str>) -> KeyStoreOptions {
    KeyStoreOptions {
        mode,
        file_path: dir.join("agent-keys.enc"),
        passphrase: passphrase.map(|p| Secret::new(p.to_owned())),
        service_name: "zk-agent-test".into(),
    }
}

fn env_of(pairs: &[(&str, &str)]) -> EnvLookup {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Arc::new(move |var| map.get(var).cloned())
}

async fn open(options: KeyStoreOptions, keychain: Keychain) -> KeyStore {
    KeyStore::open_inner(options, env_of(&[]), keychain, PROBE_TIMEOUT).await
}

fn key(value: &str) -> Secret {
    Secret::new(value.to_owned())
}

#[tokio::test]
async fn auto_uses_the_keychain_when_the_probe_answers() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(options(KeyStoreMode::Auto, dir.path(), Some(PASSPHRASE)), mock_keychain("zk-agent-test")).await;
    let status = store.status().await;
    assert_eq!(
        status,
        KeyStoreStatus { backend: KeyStoreBackend::Keychain, available: true, locked: false, reason: None },
        "a keychain that answers NoEntry to the probe is used, passphrase or not"
    );
    let entry = entry_for_agent("0190F3A2-7C4E-7B1A-9D2E-5F6A7B8C9D0E");
    assert_eq!(entry, "agent:0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e");
    assert!(store.get(&entry).await.unwrap().is_none());
    store.set(&entry, &key(KEY)).await.unwrap();
    let stored = KeyRef::Stored { entry: entry.clone() };
    assert_eq!(store.resolve(&stored).await.unwrap().unwrap().expose(), KEY);
    store.delete(&entry).await.unwrap();
    store.delete(&entry).await.unwrap();
    assert!(store.get(&entry).await.unwrap().is_none(), "deleted, and deleting twice is fine");
    assert!(!dir.path().join("agent-keys.enc").exists(), "with a keychain nothing is written to the data dir");
    assert!(
        matches!(store.unlock(key(PASSPHRASE)).await, Err(KeyStoreError::NothingToUnlock(_))),
        "the keychain has no passphrase of ours"
    );
}

#[tokio::test]
async fn no_keychain_and_nothing_else_means_environment_only_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::open_inner(
        options(KeyStoreMode::Auto, dir.path(), None),
        env_of(&[("OPENAI_API_KEY", KEY)]),
        broken_keychain(),
        PROBE_TIMEOUT,
    )
    .await;
    let status = store.status().await;
    assert_eq!((status.backend, status.available, status.locked), (KeyStoreBackend::Environment, false, false));
    let reason = status.reason.unwrap();
    assert!(reason.starts_with("no Secret Service on the session bus (no keychain)") || !cfg!(target_os = "linux"));
    assert!(reason.contains("ServiceUnknown"), "the platform's own words are kept: {reason}");
    assert!(
        reason.contains(
            "set ZK_KEYSTORE_PASSPHRASE to keep keys in an encrypted file, or give each agent an environment variable"
        ),
        "{reason}"
    );

    let error = store.set("agent:a", &key(KEY)).await.unwrap_err();
    assert!(matches!(error, KeyStoreError::Unavailable { .. }), "nothing can be stored: {error}");
    assert_eq!(CoreError::from(error).code(), "keychain_unavailable");
    assert!(store.get("agent:a").await.is_err(), "a read says why, rather than pretending there is no key");
    let env = KeyRef::Env { var: "OPENAI_API_KEY".into() };
    assert_eq!(store.resolve(&env).await.unwrap().unwrap().expose(), KEY);
    let both = [KeyRef::Stored { entry: "agent:a".into() }, env];
    assert_eq!(
        store.resolve_first(&both).await.unwrap().unwrap().expose(),
        KEY,
        "a key stored nowhere is looked up as the agent's variable"
    );
    assert!(!dir.path().join("agent-keys.enc").exists(), "no file is created");
}

#[tokio::test]
async fn no_keychain_with_a_passphrase_falls_back_to_the_encrypted_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(options(KeyStoreMode::Auto, dir.path(), Some(PASSPHRASE)), broken_keychain()).await;
    let status = store.status().await;
    assert_eq!((status.backend, status.available, status.locked), (KeyStoreBackend::EncryptedFile, true, false));
    let reason = status.reason.unwrap();
    assert!(reason.contains("keys are kept in the encrypted file"), "the fallback is named: {reason}");
    store.set("agent:a", &key(KEY)).await.unwrap();
    assert_eq!(store.get("agent:a").await.unwrap().unwrap().expose(), KEY);
    assert!(dir.path().join("agent-keys.enc").is_file());
}

#[tokio::test]
async fn the_file_holds_no_plaintext_and_no_temporary_file_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(options(KeyStoreMode::File, dir.path(), Some(PASSPHRASE)), mock_keychain("unused")).await;
    let entry = entry_for_agent("0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e");
    for i in 0..5 {
        store.set(&entry, &key(&format!("{KEY}{i}"))).await.unwrap();
    }
    store.set("agent:other", &key("fastgpt-Zq81bY0pLm")).await.unwrap();
    let bytes = std::fs::read(dir.path().join("agent-keys.enc")).unwrap();
    for needle in [KEY, "fastgpt-Zq81bY0pLm", &entry, "agent:", PASSPHRASE, "\"entries\""] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle:?} does not appear in the file's bytes"
        );
    }
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["agent-keys.enc"], "the atomic writes left no temporary file");
}

#[tokio::test]
async fn a_wrong_passphrase_is_refused_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent-keys.enc");
    let first = open(options(KeyStoreMode::File, dir.path(), Some(PASSPHRASE)), mock_keychain("unused")).await;
    first.set("agent:a", &key(KEY)).await.unwrap();
    let before = std::fs::read(&path).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();

    // At open: the store starts locked and says why.
    let store =
        open(options(KeyStoreMode::File, dir.path(), Some("not the passphrase")), mock_keychain("unused")).await;
    let status = store.status().await;
    assert!(status.locked && status.available);
    let reason = status.reason.unwrap();
    assert!(reason.starts_with("ZK_KEYSTORE_PASSPHRASE: the passphrase does not open"), "{reason}");
    let error = store.get("agent:a").await.unwrap_err();
    assert!(matches!(error, KeyStoreError::Locked { .. }), "{error}");
    assert_eq!(CoreError::from(error).code(), "keystore_locked");

    // At run time.
    let error = store.unlock(key("still not the passphrase")).await.unwrap_err();
    assert!(matches!(error, KeyStoreError::WrongPassphrase { .. }), "{error}");
    assert!(error.to_string().contains("nothing was changed"), "{error}");
    let core = CoreError::from(error);
    assert!(matches!(core, CoreError::Invalid { field: Some("passphrase"), .. }), "{core:?}");
    assert!(store.status().await.locked, "still locked");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file's bytes are unchanged");
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified, "and it was not rewritten");

    store.unlock(key(PASSPHRASE)).await.unwrap();
    let status = store.status().await;
    assert_eq!((status.locked, status.reason), (false, None), "the open problem is cleared");
    assert_eq!(store.get("agent:a").await.unwrap().unwrap().expose(), KEY);
}

#[tokio::test]
async fn an_existing_file_without_a_passphrase_is_locked_until_unlocked() {
    let dir = tempfile::tempdir().unwrap();
    let writer = open(options(KeyStoreMode::File, dir.path(), Some(PASSPHRASE)), mock_keychain("unused")).await;
    writer.set("agent:a", &key(KEY)).await.unwrap();

    let store = open(options(KeyStoreMode::Auto, dir.path(), None), broken_keychain()).await;
    let status = store.status().await;
    assert_eq!((status.backend, status.available, status.locked), (KeyStoreBackend::EncryptedFile, true, true));
    let reason = status.reason.unwrap();
    assert!(reason.contains("no Secret Service") || !cfg!(target_os = "linux"), "{reason}");
    assert!(reason.contains("is locked; enter its passphrase to unlock it, or set ZK_KEYSTORE_PASSPHRASE"), "{reason}");
    assert!(matches!(store.set("agent:b", &key(KEY)).await, Err(KeyStoreError::Locked { .. })));

    store.unlock(key(PASSPHRASE)).await.unwrap();
    assert!(!store.status().await.locked);
    let stored = KeyRef::Stored { entry: "agent:a".into() };
    assert_eq!(store.resolve(&stored).await.unwrap().unwrap().expose(), KEY);
}

#[tokio::test]
async fn file_mode_without_a_passphrase_or_file_asks_for_a_new_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(options(KeyStoreMode::File, dir.path(), None), mock_keychain("unused")).await;
    let status = store.status().await;
    assert!(status.locked);
    assert!(status.reason.unwrap().contains("has no passphrase yet; set ZK_KEYSTORE_PASSPHRASE"));
    assert!(matches!(store.unlock(key("short")).await, Err(KeyStoreError::WeakPassphrase { chars: 5 })));
    store.unlock(key(PASSPHRASE)).await.unwrap();
    store.set("agent:a", &key(KEY)).await.unwrap();
    assert!(dir.path().join("agent-keys.enc").is_file(), "the first key creates the file");
}

#[tokio::test]
async fn an_explicit_keychain_that_does_not_answer_is_not_replaced_by_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(options(KeyStoreMode::Keychain, dir.path(), Some(PASSPHRASE)), broken_keychain()).await;
    let status = store.status().await;
    assert_eq!((status.backend, status.available, status.locked), (KeyStoreBackend::Keychain, false, false));
    assert!(status.reason.unwrap().contains("or set ZK_KEYSTORE=auto to fall back"));
    let error = store.set("agent:a", &key(KEY)).await.unwrap_err();
    assert_eq!(CoreError::from(error).code(), "keychain_unavailable");
    assert!(!dir.path().join("agent-keys.enc").exists(), "the key was not put elsewhere");
}

/// A keychain that answers nothing for a while, like a D-Bus peer that accepted the call and hung.
#[derive(Debug)]
struct HangingCredential;

impl CredentialApi for HangingCredential {
    fn set_secret(&self, _: &[u8]) -> keyring::Result<()> {
        std::thread::sleep(Duration::from_millis(800));
        Ok(())
    }
    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        std::thread::sleep(Duration::from_millis(800));
        Err(keyring::Error::NoEntry)
    }
    fn delete_credential(&self) -> keyring::Result<()> {
        Ok(())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[tokio::test]
async fn a_hung_keychain_does_not_hang_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = mock_keychain("zk-agent-test");
    keychain.insert_entry(PROBE_ENTRY, keyring::Entry::new_with_credential(Box::new(HangingCredential)));
    let started = std::time::Instant::now();
    let store = KeyStore::open_inner(
        options(KeyStoreMode::Auto, dir.path(), None),
        env_of(&[]),
        keychain,
        Duration::from_millis(100),
    )
    .await;
    assert!(started.elapsed() < Duration::from_millis(700), "the probe gave up after its timeout");
    let status = store.status().await;
    assert_eq!(status.backend, KeyStoreBackend::Environment);
    assert!(status.reason.unwrap().starts_with("the OS keychain did not answer within"));
}

#[tokio::test]
async fn environment_references_are_checked_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::open_inner(
        options(KeyStoreMode::Env, dir.path(), None),
        env_of(&[("OPENAI_API_KEY", KEY), ("EMPTY_KEY", ""), ("DB_PASSWORD", "pg-secret"), ("FASTGPT_API_KEY", "fg")]),
        mock_keychain("unused"),
        PROBE_TIMEOUT,
    )
    .await;
    let status = store.status().await;
    assert_eq!((status.backend, status.available), (KeyStoreBackend::Environment, false));
    assert!(status.reason.unwrap().starts_with("ZK_KEYSTORE=env"));

    let env = |var: &str| KeyRef::Env { var: var.into() };
    assert_eq!(store.resolve(&env("OPENAI_API_KEY")).await.unwrap().unwrap().expose(), KEY);
    assert_eq!(store.resolve(&env("FASTGPT_API_KEY")).await.unwrap().unwrap().expose(), "fg");
    assert!(store.resolve(&env("EMPTY_KEY")).await.unwrap().is_none(), "an empty variable is no key");
    assert!(store.resolve(&env("NOT_SET_KEY")).await.unwrap().is_none());
    for bad in ["", "1ST_KEY", "MY-KEY", "KEY WITH SPACE", "KEY\0"] {
        assert!(
            matches!(store.resolve(&env(bad)).await, Err(KeyStoreError::InvalidEnvVar { .. })),
            "{bad:?} is not a variable name"
        );
    }
    for own in ["DB_PASSWORD", "JWT_ACCESS_SECRET", "ZK_KEYSTORE_PASSPHRASE", "REDIS_PASSWORD", "s3_secret_access_key"]
    {
        let error = store.resolve(&env(own)).await.unwrap_err();
        assert!(error.to_string().contains("zk-agent's own settings"), "{own} is refused: {error}");
    }
    assert!(env("DB_PASSWORD").validate().is_err() && env("OPENAI_API_KEY").validate().is_ok());
    let refs = [KeyRef::Stored { entry: "agent:a".into() }, env("DB_PASSWORD")];
    assert!(
        matches!(store.resolve_first(&refs).await, Err(KeyStoreError::InvalidEnvVar { .. })),
        "an invalid reference is an error, not skipped"
    );
}

#[tokio::test]
async fn entries_and_keys_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(options(KeyStoreMode::Auto, dir.path(), None), mock_keychain("zk-agent-test")).await;
    for bad in ["", "  ", "agent:\n", PROBE_ENTRY] {
        assert!(matches!(store.get(bad).await, Err(KeyStoreError::InvalidEntry { .. })), "{bad:?} is refused");
    }
    assert!(matches!(store.get(&"x".repeat(300)).await, Err(KeyStoreError::InvalidEntry { .. })));
    assert!(matches!(store.set("agent:a", &key(" ")).await, Err(KeyStoreError::InvalidKey(_))));
    assert!(matches!(store.set("agent:a", &key(&"k".repeat(20_000))).await, Err(KeyStoreError::InvalidKey(_))));
}

#[tokio::test]
async fn status_serialises_for_the_ui_and_nothing_prints_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(options(KeyStoreMode::Auto, dir.path(), Some(PASSPHRASE)), broken_keychain()).await;
    let json = serde_json::to_value(store.status().await).unwrap();
    assert_eq!(json["backend"], "encrypted_file");
    assert_eq!(json["available"], true);
    assert_eq!(json["locked"], false);
    assert!(json["reason"].is_string());
    let refs = serde_json::to_value([KeyRef::Stored { entry: "agent:a".into() }, KeyRef::Env { var: "K".into() }]);
    assert_eq!(
        refs.unwrap(),
        serde_json::json!([{ "kind": "stored", "entry": "agent:a" }, { "kind": "env", "var": "K" }])
    );

    store.set("agent:a", &key(KEY)).await.unwrap();
    let got = store.get("agent:a").await.unwrap();
    let printed = format!("{store:?} {got:?} {:?}", options(KeyStoreMode::File, dir.path(), Some(PASSPHRASE)));
    assert!(!printed.contains(KEY) && !printed.contains(PASSPHRASE), "{printed}");
}

#[test]
fn modes_parse_from_their_names() {
    assert_eq!("auto".parse(), Ok(KeyStoreMode::Auto));
    assert_eq!(" Keychain ".parse(), Ok(KeyStoreMode::Keychain));
    assert_eq!("file".parse(), Ok(KeyStoreMode::File));
    assert_eq!("env".parse(), Ok(KeyStoreMode::Env));
    assert_eq!("vault".parse::<KeyStoreMode>(), Err(()));
    assert_eq!(KeyStoreMode::default(), KeyStoreMode::Auto);
}
