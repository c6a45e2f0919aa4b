//! `zk-agent doctor`: checks what a running server needs and prints a fix for each problem.
//! Changes nothing: it does not migrate, create accounts or start workers.
//!
//! Exit codes: 0 when no check failed (warnings allowed), 1 when one did. `--json` prints one JSON
//! document instead of lines: `{status, exit_code, checks: [{check, status, detail, fix}]}`.

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

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// Free space under which the disk check warns, and under which it fails.
const DISK_WARN_BYTES: u64 = 2 * 1024 * 1024 * 1024;
const DISK_FAIL_BYTES: u64 = 200 * 1024 * 1024;

struct Report {
    worst: Verdict,
    /// `--json`: the checks are kept and printed as one document at the end.
    json: Option<Vec<serde_json::Value>>,
}

impl Report {
    fn line(&mut self, verdict: Verdict, what: &str, detail: &str, fix: Option<&str>) {
        self.worst = self.worst.max(verdict);
        if let Some(checks) = &mut self.json {
            checks.push(serde_json::json!({
                "check": what.replace(' ', "_"),
                "status": verdict.as_str(),
                "detail": detail,
                "fix": fix,
            }));
            return;
        }
        let mark = match verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        out!("[{mark}] {what:<14} {detail}");
        if let Some(fix) = fix {
            out!("       fix: {fix}");
        }
    }

    /// The closing line (or the JSON document) and the exit code.
    fn finish(self) -> ExitCode {
        let failed = self.worst == Verdict::Fail;
        if let Some(checks) = self.json {
            let document = serde_json::json!({
                "status": self.worst.as_str(),
                "exit_code": u8::from(failed),
                "checks": checks,
            });
            out!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
        } else if failed {
            out!("\nsome checks failed; apply the fixes above and run `zk-agent doctor` again");
        } else {
            out!("\nall checks passed");
        }
        if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
    }
}

pub async fn run(flags: BTreeMap<String, String>, json: bool) -> ExitCode {
    let mut report = Report { worst: Verdict::Ok, json: json.then(Vec::new) };
    let config = match Config::load(flags) {
        Ok(config) => {
            report.line(Verdict::Ok, "configuration", "valid", None);
            config
        }
        Err(error) => {
            report.line(Verdict::Fail, "configuration", &error.to_string(), Some(&error.fix));
            return report.finish();
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

    disk_space(&mut report, &config.data_dir);

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
    database_tls(&mut report, &config);

    // Kept open for the agents' probes when the database is usable.
    let mut usable_store = None;
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
                (None, Ok((applied, known))) if applied >= known => {
                    report.line(
                        Verdict::Ok,
                        "database",
                        &format!(
                            "{} reachable ({:.1} ms), {applied}/{known} migrations applied",
                            config.database.display(),
                            check.latency_ms
                        ),
                        None,
                    );
                    usable_store = Some(store.clone());
                }
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
            if usable_store.is_none() {
                store.close().await;
            }
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
        Some(path) => report.line(
            Verdict::Ok,
            "dwg",
            &format!(
                "DXF and DWG R11/R12 and R13 to R2018 open with the built-in reader; other DWG files convert with {}",
                path.display()
            ),
            None,
        ),
        None => report.line(
            Verdict::Ok,
            "dwg",
            "DXF and DWG R11/R12 and R13 to R2018 open with the built-in reader; a DWG it cannot read \
             (another version, or a damaged file) is refused with the reason (no dwg2dxf on PATH)",
            Some("put LibreDWG's dwg2dxf on PATH to try those too, or save them as DXF from the CAD program"),
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

    if let Some(store) = usable_store {
        fastgpt_agents(&mut report, store.clone(), keys).await;
        store.close().await;
    }

    report.finish()
}

/// Whether the connection to PostgreSQL is encrypted: plain text is fine to this machine, a warning
/// to any other host.
fn database_tls(report: &mut Report, config: &Config) {
    use zk_core::store::DatabaseTls;
    let Some((tls, host)) = config.database.tls() else { return };
    let local = host.starts_with('/') || matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]");
    match tls {
        DatabaseTls::Verified => {
            report.line(Verdict::Ok, "database tls", &format!("to {host}, certificate verified"), None)
        }
        DatabaseTls::Unverified => report.line(
            Verdict::Warn,
            "database tls",
            &format!("to {host} encrypted, but the server's certificate is not checked"),
            Some("set DB_SSL_REJECT_UNAUTHORIZED=true (and DB_SSL_CA to the server's CA)"),
        ),
        DatabaseTls::Off if local => {
            report.line(Verdict::Ok, "database tls", &format!("off, to {host} on this machine"), None)
        }
        DatabaseTls::Off => report.line(
            Verdict::Warn,
            "database tls",
            &format!("off: passwords and data cross the network to {host} in plain text"),
            Some("set DB_SSL=true (and DB_SSL_CA to the server's CA)"),
        ),
    }
}

/// Each enabled FastGPT agent answers with its key, as `GET /api/fastgpt/health` probes them.
async fn fastgpt_agents(report: &mut Report, store: std::sync::Arc<dyn zk_core::store::Store>, keys: KeyStore) {
    let agents = match health::fastgpt_agents(store, std::sync::Arc::new(keys)).await {
        Ok(agents) => agents,
        Err(error) => {
            report.line(Verdict::Warn, "fastgpt agents", &format!("cannot list the agents: {error}"), None);
            return;
        }
    };
    for agent in agents {
        let what = format!("agent {}", agent.name);
        let probe = agent.health;
        let latency = probe.latency_ms.unwrap_or_default();
        let error = probe.error.unwrap_or_default();
        match probe.status {
            "reachable" => report.line(Verdict::Ok, &what, &format!("FastGPT answers ({latency:.0} ms)"), None),
            "no_key" => report.line(
                Verdict::Fail,
                &what,
                &format!("no key: {error}"),
                Some("store the agent's key in the app, or set the environment variable its api_key_env names"),
            ),
            "unauthorized" => report.line(
                Verdict::Fail,
                &what,
                &format!("FastGPT refuses the agent's key ({latency:.0} ms): {error}"),
                Some("replace the agent's key with a valid key of its FastGPT app"),
            ),
            _ => report.line(
                Verdict::Fail,
                &what,
                &format!("FastGPT does not answer: {error}"),
                Some("check the agent's base_url and that this machine can reach it"),
            ),
        }
    }
}

/// Free space on the data directory's file system, as `df -Pk` reports it (POSIX output: the
/// fourth column of the second line is the available kilobytes). Where `df` cannot tell, a warning.
fn disk_space(report: &mut Report, dir: &std::path::Path) {
    // The nearest folder that exists: the data directory may not be created yet.
    let existing = dir.ancestors().find(|p| p.exists()).unwrap_or(dir);
    let output = std::process::Command::new("df").arg("-Pk").arg(existing).output();
    let available = output.ok().filter(|o| o.status.success()).and_then(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .nth(1)
            .and_then(|line| line.split_whitespace().nth(3).and_then(|kb| kb.parse::<u64>().ok()))
    });
    let fix = "free space on that disk (old backups, logs), or move ZK_DATA_DIR to a larger one";
    match available.map(|kb| kb * 1024) {
        Some(bytes) if bytes < DISK_FAIL_BYTES => report.line(
            Verdict::Fail,
            "disk space",
            &format!("{} MiB free under {}", bytes >> 20, dir.display()),
            Some(fix),
        ),
        Some(bytes) if bytes < DISK_WARN_BYTES => report.line(
            Verdict::Warn,
            "disk space",
            &format!("{} MiB free under {}", bytes >> 20, dir.display()),
            Some(fix),
        ),
        Some(bytes) => report.line(
            Verdict::Ok,
            "disk space",
            &format!("{:.1} GiB free under {}", bytes as f64 / f64::from(1u32 << 30), dir.display()),
            None,
        ),
        None => report.line(
            Verdict::Warn,
            "disk space",
            &format!("cannot tell the free space under {} (no `df`)", dir.display()),
            Some("check the free space by hand: the database and the file store grow there"),
        ),
    }
}

fn database_fix(config: &Config) -> &'static str {
    match config.database.backend() {
        "postgres" => "start PostgreSQL or correct DATABASE_URL / DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD",
        _ => "check that the database file's directory is writable, or restore the file from a backup",
    }
}
