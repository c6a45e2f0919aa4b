//! The key store against the real OS keychain, and the real "no keychain" path.
//!
//! On Linux the keychain is the Secret Service on the session bus: `scripts/test.sh` runs the tests
//! inside `scripts/keyring-session.sh` (GNOME Keyring, unlocked, on a private bus). Without a
//! keychain that answers, the keychain tests say SKIPPED on stderr and pass, except under `CI=true`,
//! where they fail: CI must never pass by skipping the keychain.
//!
//! Every run files its entries under a service name of its own and deletes them afterwards, also
//! when an assertion fails (see [`Cleanup`]).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use zk_core::keystore::{
    KeyRef, KeyStore, KeyStoreBackend, KeyStoreError, KeyStoreMode, KeyStoreOptions, entry_for_agent,
};
use zk_core::secret::Secret;
use zk_tests::process::{free_port, zk_agent};

/// A session bus address where nothing listens: how a machine without a keychain looks on Linux.
const NO_BUS: &str = "unix:path=/nonexistent/zk-agent-test/bus";
/// Marks the child process of [`no_keychain_falls_back_to_the_file_or_the_environment`].
const CHILD_MARKER: &str = "ZK_KEYSTORE_TEST_CHILD";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn options(mode: KeyStoreMode, service: &str, dir: &Path, passphrase: Option<&str>) -> KeyStoreOptions {
    KeyStoreOptions {
        mode,
        file_path: dir.join("agent-keys.enc"),
        passphrase: passphrase.map(|p| Secret::new(p.to_owned())),
        service_name: service.to_owned(),
    }
}

fn unique_service() -> String {
    format!("zk-agent-test-{}", uuid::Uuid::new_v4().simple())
}

/// Deletes the run's entries straight through keyring when dropped, so a failed assertion does not
/// leave keys behind in the developer's keychain.
struct Cleanup {
    service: String,
    entries: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for entry in &self.entries {
            if let Ok(credential) = keyring::Entry::new(&self.service, entry) {
                // NoEntry (already deleted by the test) is the usual answer.
                let _ = credential.delete_credential();
            }
        }
    }
}

/// A store on the real keychain, or `None` (after a SKIPPED line) when there is none outside CI.
async fn real_keychain(service: &str, dir: &Path) -> Option<KeyStore> {
    let store = KeyStore::open(options(KeyStoreMode::Keychain, service, dir, None)).await;
    let status = store.status().await;
    if status.available {
        return Some(store);
    }
    let reason = status.reason.unwrap_or_default();
    assert!(
        !in_ci(),
        "CI=true: the OS keychain must be available for the key store tests, but: {reason}; \
         run them through scripts/test.sh (scripts/keyring-session.sh starts GNOME Keyring on a private session bus)"
    );
    // Straight to the process's stderr: the test harness captures eprintln! of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the real-keychain test (set CI=true to make this a failure): {reason}; \
         scripts/keyring-session.sh provides a keychain"
    );
    None
}

#[tokio::test]
async fn keys_round_trip_through_the_real_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let service = unique_service();
    let entries: Vec<String> = (0..6).map(|_| entry_for_agent(&uuid::Uuid::new_v4().to_string())).collect();
    let _cleanup = Cleanup { service: service.clone(), entries: entries.clone() };
    let Some(store) = real_keychain(&service, dir.path()).await else { return };

    let auto =
        KeyStore::open(options(KeyStoreMode::Auto, &service, dir.path(), Some("a passphrase unused here"))).await;
    let status = auto.status().await;
    assert_eq!(
        (status.backend, status.available, status.locked, status.reason),
        (KeyStoreBackend::Keychain, true, false, None),
        "auto picks the keychain when it answers"
    );

    let entry = &entries[0];
    assert!(store.get(entry).await.unwrap().is_none(), "a new entry is empty");
    store.set(entry, &Secret::new("sk-first-4f1c9a".into())).await.unwrap();
    store.set(entry, &Secret::new("sk-second-77e0b2 ünïcode 密钥".into())).await.unwrap();
    assert_eq!(store.get(entry).await.unwrap().unwrap().expose(), "sk-second-77e0b2 ünïcode 密钥", "replaced");

    let raw = keyring::Entry::new(&service, entry).unwrap().get_password().unwrap();
    assert_eq!(raw, "sk-second-77e0b2 ünïcode 密钥", "filed in the OS keychain under (service, entry)");
    let stored = KeyRef::Stored { entry: entry.clone() };
    assert_eq!(
        auto.resolve(&stored).await.unwrap().unwrap().expose(),
        "sk-second-77e0b2 ünïcode 密钥",
        "a second store, opened separately, reads what the first wrote"
    );

    // Several writes at once, each on its own blocking thread and D-Bus connection.
    let writers: Vec<_> = entries[1..]
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let (store, entry) = (store.clone(), entry.clone());
            tokio::spawn(async move { store.set(&entry, &Secret::new(format!("sk-parallel-{i}"))).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    for (i, entry) in entries[1..].iter().enumerate() {
        assert_eq!(auto.get(entry).await.unwrap().unwrap().expose(), &format!("sk-parallel-{i}"));
    }

    for entry in &entries {
        store.delete(entry).await.unwrap();
    }
    store.delete(entry).await.unwrap();
    for entry in &entries {
        assert!(auto.get(entry).await.unwrap().is_none(), "deleted from the OS keychain");
    }
    assert!(
        matches!(keyring::Entry::new(&service, entry).unwrap().get_password(), Err(keyring::Error::NoEntry)),
        "nothing of this run is left in the keychain"
    );
    assert!(!dir.path().join("agent-keys.enc").exists(), "with a keychain no key file is written");
}

#[tokio::test]
async fn doctor_reports_the_real_keychain() {
    let dir = tempfile::tempdir().unwrap();
    if real_keychain(&unique_service(), dir.path()).await.is_none() {
        return;
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
    let output = zk_agent(dir.path())
        .env("ZK_DATA_DIR", dir.path())
        .env("PORT", free_port().to_string())
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .arg("doctor")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("[ok  ] keychain       the OS keychain answers"), "{stdout}");
}

/// Runs this test binary again, only `test` of this module, with `DBUS_SESSION_BUS_ADDRESS` pointing
/// nowhere (a test cannot change its own environment: set_var is unsafe, the crate forbids unsafe
/// code, and the binary's other tests run on threads beside it).
#[cfg(target_os = "linux")]
fn run_without_keychain(test: &str) -> std::process::Output {
    // The harness names a test by its path below the crate: `keystore::no_keychain_child`.
    let module = module_path!().split_once("::").map_or("", |(_crate, module)| module);
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args(["--exact", &format!("{module}::{test}"), "--ignored", "--nocapture", "--test-threads=1"])
        .env("DBUS_SESSION_BUS_ADDRESS", NO_BUS)
        .env(CHILD_MARKER, "1")
        .output()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn no_keychain_falls_back_to_the_file_or_the_environment() {
    let output = run_without_keychain("no_keychain_child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the child's assertions hold\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the child test ran\n{stdout}");
}

/// The body of [`no_keychain_falls_back_to_the_file_or_the_environment`], run in a child process
/// with no session bus. Ignored in a plain run; does nothing unless it is that child.
#[cfg(target_os = "linux")]
#[tokio::test]
#[ignore = "run by no_keychain_falls_back_to_the_file_or_the_environment in a child process"]
async fn no_keychain_child() {
    if std::env::var(CHILD_MARKER).is_err() {
        return;
    }
    assert_eq!(std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap(), NO_BUS);
    let dir = tempfile::tempdir().unwrap();
    let service = unique_service();

    // Nothing but the environment.
    let started = Instant::now();
    let store = KeyStore::open(options(KeyStoreMode::Auto, &service, dir.path(), None)).await;
    assert!(started.elapsed() < Duration::from_secs(6), "a missing bus does not hold the open");
    let status = store.status().await;
    assert_eq!((status.backend, status.available, status.locked), (KeyStoreBackend::Environment, false, false));
    let reason = status.reason.unwrap();
    assert!(reason.starts_with("no Secret Service on the session bus (no keychain)"), "{reason}");
    assert!(
        reason.ends_with(
            "set ZK_KEYSTORE_PASSPHRASE to keep keys in an encrypted file, or give each agent an environment variable"
        ),
        "{reason}"
    );
    let error = store.set("agent:x", &Secret::new("sk-x".into())).await.unwrap_err();
    assert!(matches!(error, KeyStoreError::Unavailable { .. }), "{error}");
    let path = KeyRef::Env { var: "PATH".into() };
    assert!(store.resolve(&path).await.unwrap().is_some(), "environment references still resolve");
    assert!(!dir.path().join("agent-keys.enc").exists());

    // A passphrase: the encrypted file.
    let store =
        KeyStore::open(options(KeyStoreMode::Auto, &service, dir.path(), Some("a long enough passphrase"))).await;
    let status = store.status().await;
    assert_eq!((status.backend, status.available, status.locked), (KeyStoreBackend::EncryptedFile, true, false));
    assert!(status.reason.unwrap().contains("keys are kept in the encrypted file"));
    store.set("agent:x", &Secret::new("sk-kept-in-the-file".into())).await.unwrap();
    assert_eq!(store.get("agent:x").await.unwrap().unwrap().expose(), "sk-kept-in-the-file");
    let bytes = std::fs::read(dir.path().join("agent-keys.enc")).unwrap();
    assert!(!bytes.windows(19).any(|w| w == b"sk-kept-in-the-file"), "sealed, not plaintext");

    // The file exists, no passphrase: locked until unlocked.
    let store = KeyStore::open(options(KeyStoreMode::Auto, &service, dir.path(), None)).await;
    let status = store.status().await;
    assert_eq!((status.backend, status.locked), (KeyStoreBackend::EncryptedFile, true));
    store.unlock(Secret::new("a long enough passphrase".into())).await.unwrap();
    assert_eq!(store.get("agent:x").await.unwrap().unwrap().expose(), "sk-kept-in-the-file");

    // Asked for the keychain explicitly: unavailable, no fallback.
    let store = KeyStore::open(options(KeyStoreMode::Keychain, &service, dir.path(), None)).await;
    let status = store.status().await;
    assert_eq!((status.backend, status.available), (KeyStoreBackend::Keychain, false));
    assert!(store.get("agent:x").await.is_err());
}

#[cfg(target_os = "linux")]
#[test]
fn doctor_explains_a_missing_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let doctor = |extra: &[(&str, &str)]| {
        let mut command = zk_agent(dir.path());
        command
            .env("ZK_DATA_DIR", dir.path())
            .env("PORT", free_port().to_string())
            .env("DBUS_SESSION_BUS_ADDRESS", NO_BUS);
        for (name, value) in extra {
            command.env(name, value);
        }
        let output = command.arg("doctor").output().unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };

    let (code, stdout) = doctor(&[]);
    assert_eq!(code, Some(0), "no keychain is a warning, not a failure: {stdout}");
    assert!(
        stdout.contains("[warn] keychain       none: agents' keys can come only from environment variables"),
        "{stdout}"
    );
    assert!(
        stdout.contains("fix: no Secret Service on the session bus") && stdout.contains("set ZK_KEYSTORE_PASSPHRASE"),
        "{stdout}"
    );

    let (code, stdout) = doctor(&[("ZK_KEYSTORE_PASSPHRASE", "a long enough passphrase")]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("[ok  ] keychain       agents' keys are kept in the encrypted file"), "{stdout}");
    assert!(!stdout.contains("a long enough passphrase"), "the passphrase is never printed");
    assert!(!dir.path().join("agent-keys.enc").exists(), "the doctor wrote no key file");

    let (code, stdout) = doctor(&[("ZK_KEYSTORE", "keychain")]);
    assert_eq!(code, Some(1), "an explicit keychain that is missing fails: {stdout}");
    assert!(stdout.contains("[FAIL] keychain"), "{stdout}");
}
