//! `zk-agent doctor`: checks what a running server needs and prints a fix for each problem.
//! Changes nothing: it does not migrate, create accounts or start workers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;

use zk_core::cache::Cache;
use zk_core::config::Config;
use zk_core::files::BlobStore;
use zk_core::health;
use zk_core::keystore::{KeyStore, KeyStoreBackend, KeyStoreMode, KeyStoreOptions};
use zk_core::lost_database::{self, LostDatabase};

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

struct Report {
    worst: Verdict,
}

impl Report {
    fn line(&mut self, verdict: Verdict, what: &str, detail: &str, fix: Option<&str>) {
        let mark = match verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        out!("[{mark}] {what:<14} {detail}");
        if let Some(fix) = fix {
            out!("       fix: {fix}");
        }
        self.worst = self.worst.max(verdict);
    }
}

pub async fn run(flags: BTreeMap<String, String>) -> ExitCode {
    let mut report = Report { worst: Verdict::Ok };
    let config = match Config::load(flags) {
        Ok(config) => {
            report.line(Verdict::Ok, "configuration", "valid", None);
            config
        }
        Err(error) => {
            report.line(Verdict::Fail, "configuration", &error.to_string(), Some(&error.fix));
            return ExitCode::FAILURE;
        }
    };

    match std::fs::create_dir_all(&config.data_dir).and_then(|()| tempfile::tempfile_in(&config.data_dir)) {
        Ok(_) => report.line(Verdict::Ok, "data dir", &config.data_dir.display().to_string(), None),
        Err(error) => report.line(
            Verdict::Fail,
            "data dir",
            &format!("{} is not writable: {error}", config.data_dir.display()),
            Some("make it writable for this user, or set ZK_DATA_DIR to a writable directory"),
        ),
    }

    let address = SocketAddr::new(config.server.host, config.server.port);
    match std::net::TcpListener::bind(address) {
        Ok(_) => report.line(Verdict::Ok, "port", &format!("{address} is free"), None),
        Err(error) => {
            let fix = format!(
                "stop the program using port {} (perhaps a running zk-agent), or set PORT to a free port",
                config.server.port
            );
            report.line(Verdict::Fail, "port", &format!("cannot listen on {address}: {error}"), Some(&fix));
        }
    }

    let missing_file = match &config.database {
        zk_core::config::DatabaseConfig::Sqlite { path } => (!path.exists()).then(|| path.clone()),
        zk_core::config::DatabaseConfig::Postgres { .. } => None,
    };
    // A lost database (the file store holds files, the database is missing or empty) is what `serve`
    // refuses; the doctor says so instead of advising a migration.
    let stored_files = lost_database::stored_files(&config.files.upload_dir);
    let lost = |found| {
        let lost = LostDatabase::new(&config, found, stored_files);
        (lost.headline(), "restore the database from a backup, or start over with `zk-agent serve --new-database`")
    };
    let found_before = lost_database::before_open(&config.database).filter(|_| stored_files > 0);
    if let Some(found) = found_before {
        let (problem, fix) = lost(found);
        report.line(Verdict::Fail, "database", &problem, Some(fix));
    }
    // Opening a SQLite database creates its file; the doctor changes nothing, so it only says so.
    let opened = match missing_file {
        _ if found_before.is_some() => None,
        Some(path) => {
            report.line(
                Verdict::Warn,
                "database",
                &format!("{} does not exist yet", path.display()),
                Some("`zk-agent migrate` or the first `zk-agent serve` creates it"),
            );
            None
        }
        None => Some(zk_core::store::open(&config.database).await),
    };
    match opened {
        None => {}
        Some(Ok(store)) => {
            let found = if stored_files > 0 { lost_database::after_open(&*store).await.ok().flatten() } else { None };
            let check = health::database(&*store).await;
            match (&check.error, store.migration_status().await) {
                (None, _) if found.is_some() => {
                    if let Some(found) = found {
                        let (problem, fix) = lost(found);
                        report.line(Verdict::Fail, "database", &problem, Some(fix));
                    }
                }
                (Some(error), _) => report.line(
                    Verdict::Fail,
                    "database",
                    &format!("{}: {error}", config.database.display()),
                    Some(database_fix(&config)),
                ),
                (None, Ok((applied, known))) if applied >= known => report.line(
                    Verdict::Ok,
                    "database",
                    &format!(
                        "{} reachable ({:.1} ms), {applied}/{known} migrations applied",
                        config.database.display(),
                        check.latency_ms
                    ),
                    None,
                ),
                (None, Ok((applied, known))) => report.line(
                    Verdict::Fail,
                    "database",
                    &format!("{} reachable, but only {applied}/{known} migrations applied", config.database.display()),
                    Some("run `zk-agent migrate` (serve also migrates at start)"),
                ),
                (None, Err(error)) => {
                    report.line(Verdict::Fail, "database", &error.to_string(), Some("check the database user's rights"))
                }
            }
            store.close().await;
        }
        Some(Err(error)) => report.line(
            Verdict::Fail,
            "database",
            &format!("{}: {error}", config.database.display()),
            Some(database_fix(&config)),
        ),
    }

    match &config.cache.redis_url {
        None => report.line(Verdict::Ok, "cache", "in-process (REDIS_URL not set)", None),
        Some(url) => match Cache::redis(url, &config.cache.prefix) {
            Ok(cache) => {
                let check = health::cache(&cache).await;
                match check.error {
                    None => {
                        report.line(Verdict::Ok, "cache", &format!("redis answers ({:.1} ms)", check.latency_ms), None)
                    }
                    Some(error) => report.line(
                        Verdict::Warn,
                        "cache",
                        &format!("{error}; requests will go to the database (slower, still correct)"),
                        Some("start Redis or correct REDIS_URL / REDIS_HOST, REDIS_PORT, REDIS_PASSWORD"),
                    ),
                }
            }
            Err(error) => report.line(Verdict::Fail, "cache", &error, Some("correct REDIS_URL")),
        },
    }

    match BlobStore::open(&config.files.upload_dir) {
        Ok(blobs) => match health::storage(&blobs).await.error {
            None => report.line(
                Verdict::Ok,
                "file store",
                &format!("{} is writable", config.files.upload_dir.display()),
                None,
            ),
            Some(error) => {
                report.line(Verdict::Fail, "file store", &error, Some("make UPLOAD_DIR writable for this user"))
            }
        },
        Err(error) => {
            report.line(Verdict::Fail, "file store", &error.to_string(), Some("set UPLOAD_DIR to a writable directory"))
        }
    }

    // The drawings folder: read only; serve creates it when it is missing.
    let cad_dir = config.cad.dir.display();
    match std::fs::read_dir(&config.cad.dir) {
        Ok(entries) => {
            let drawings = entries
                .flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().to_ascii_lowercase();
                    name.ends_with(".dxf") || name.ends_with(".dwg")
                })
                .count();
            report.line(
                Verdict::Ok,
                "drawings",
                &format!("{cad_dir} is readable ({drawings} drawings at its top)"),
                None,
            )
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => report.line(
            Verdict::Ok,
            "drawings",
            &format!("{cad_dir} does not exist yet; `zk-agent serve` creates and watches it"),
            None,
        ),
        Err(error) => report.line(
            Verdict::Fail,
            "drawings",
            &format!("{cad_dir} cannot be read: {error}"),
            Some("make CAD_DIR readable for this user, or point CAD_DIR at another folder"),
        ),
    }
    match zk_core::cad::CadOptions::from_config(&config).dwg2dxf {
        Some(path) => report.line(Verdict::Ok, "dwg", &format!("DWG drawings convert with {}", path.display()), None),
        None => report.line(
            Verdict::Ok,
            "dwg",
            "dwg2dxf not found: DWG drawings are refused with a message (DXF works)",
            Some("put LibreDWG's dwg2dxf on PATH to open DWG files"),
        ),
    }

    // Opening reads only (a probe of the keychain, the key file's header): the doctor writes nothing.
    let keys = KeyStore::open(KeyStoreOptions::from_config(&config.keystore)).await;
    let status = keys.status().await;
    let file = config.keystore.file.display();
    let reason = status.reason.as_deref();
    match (status.backend, status.available, status.locked) {
        (KeyStoreBackend::Keychain, true, _) => {
            report.line(Verdict::Ok, "keychain", "the OS keychain answers; agents' keys are kept there", None)
        }
        (KeyStoreBackend::Keychain, false, _) => {
            report.line(Verdict::Fail, "keychain", "ZK_KEYSTORE=keychain, but the OS keychain cannot be used", reason)
        }
        (KeyStoreBackend::EncryptedFile, _, false) => {
            let why = if reason.is_some() { " (no OS keychain)" } else { "" };
            report.line(
                Verdict::Ok,
                "keychain",
                &format!("agents' keys are kept in the encrypted file {file}{why}"),
                None,
            )
        }
        (KeyStoreBackend::EncryptedFile, _, true) => {
            // A passphrase that was given and still left the file locked is wrong (or the file is damaged).
            let verdict = if config.keystore.passphrase.is_some() { Verdict::Fail } else { Verdict::Warn };
            report.line(verdict, "keychain", &format!("the encrypted key file {file} is locked"), reason)
        }
        (KeyStoreBackend::Environment, _, _) if keys.mode() == KeyStoreMode::Env => report.line(
            Verdict::Ok,
            "keychain",
            "not used (ZK_KEYSTORE=env): agents' keys come from environment variables",
            None,
        ),
        (KeyStoreBackend::Environment, _, _) => report.line(
            Verdict::Warn,
            "keychain",
            "none: agents' keys can come only from environment variables",
            reason,
        ),
    }

    match &config.agents.fastgpt {
        None => report.line(
            Verdict::Ok,
            "fastgpt",
            "not configured (set FASTGPT_API_URL to use a FastGPT deployment)",
            None,
        ),
        Some(_) => {
            let health = zk_core::upstream::probe_fastgpt(&config).await;
            let base = health.base_url.clone().unwrap_or_default();
            let latency = health.latency_ms.unwrap_or_default();
            match health.status {
                "reachable" => {
                    let key = match health.key_valid {
                        Some(true) => ", key accepted",
                        _ => ", no key configured (FASTGPT_API_KEY)",
                    };
                    report.line(Verdict::Ok, "fastgpt", &format!("{base} answers ({latency:.0} ms){key}"), None)
                }
                "unauthorized" => report.line(
                    Verdict::Fail,
                    "fastgpt",
                    &format!("{base} refuses the key: {}", health.error.unwrap_or_default()),
                    Some("set FASTGPT_API_KEY to a valid key of this FastGPT deployment"),
                ),
                _ => report.line(
                    Verdict::Fail,
                    "fastgpt",
                    &format!("{base} does not answer: {}", health.error.unwrap_or_default()),
                    Some("check FASTGPT_API_URL and that this machine can reach it"),
                ),
            }
        }
    }

    match report.worst {
        Verdict::Fail => {
            out!("\nsome checks failed; apply the fixes above and run `zk-agent doctor` again");
            ExitCode::FAILURE
        }
        _ => {
            out!("\nall checks passed");
            ExitCode::SUCCESS
        }
    }
}

fn database_fix(config: &Config) -> &'static str {
    match config.database.backend() {
        "postgres" => "start PostgreSQL or correct DATABASE_URL / DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD",
        _ => "check that the database file's directory is writable, or restore the file from a backup",
    }
}
