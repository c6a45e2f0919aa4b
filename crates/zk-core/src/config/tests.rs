use super::*;
use crate::keystore::KeyStoreMode;

fn sources(pairs: &[(&str, &str)]) -> ConfigSources {
    ConfigSources {
        env: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        flags: BTreeMap::from([("ZK_DATA_DIR".to_owned(), "/tmp/zk-test-data".to_owned())]),
        ..ConfigSources::default()
    }
}

fn error_of(pairs: &[(&str, &str)]) -> ConfigError {
    match Config::from_sources(&sources(pairs)) {
        Ok(_) => panic!("expected a configuration error for {pairs:?}"),
        Err(e) => e,
    }
}

#[test]
fn nothing_set_runs_offline_on_sqlite_in_the_data_dir() {
    let config = Config::from_sources(&sources(&[])).expect("defaults are valid");
    assert_eq!(config.server.port, 3000);
    assert_eq!(config.server.host.to_string(), "127.0.0.1", "binds loopback by default");
    assert!(
        matches!(&config.database, DatabaseConfig::Sqlite { path } if path == Path::new("/tmp/zk-test-data/zk-agent.db"))
    );
    assert_eq!(config.files.upload_dir, Path::new("/tmp/zk-test-data/files"));
    assert!(config.cache.redis_url.is_none() && config.agents.fastgpt.is_none());
}

#[test]
fn flags_beat_environment_beat_dotenv_beat_config_file() {
    let mut s = sources(&[("PORT", "4000")]);
    s.dotenv.push((
        PathBuf::from(".env"),
        HashMap::from([("PORT".into(), "5000".into()), ("UPLOAD_DIR".into(), "/d".into())]),
    ));
    s.file = Some((
        PathBuf::from("c.toml"),
        HashMap::from([("UPLOAD_DIR".into(), "/f".into()), ("TASK_WORKERS".into(), "3".into())]),
    ));
    let config = Config::from_sources(&s).expect("valid");
    assert_eq!(config.server.port, 4000, "environment beats .env");
    assert_eq!(config.files.upload_dir, Path::new("/d"), ".env beats the config file");
    assert_eq!(config.tasks.workers, 3, "the config file beats defaults");
    s.flags.insert("PORT".into(), "4500".into());
    assert_eq!(Config::from_sources(&s).expect("valid").server.port, 4500, "flags beat everything");
    let shown = Config::from_sources(&s).expect("valid").shown;
    let port = shown.iter().find(|s| s.name == "PORT").expect("PORT is shown");
    assert_eq!(port.source, Source::Flag);
}

#[test]
fn bad_values_name_the_variable_the_problem_and_the_fix() {
    let e = error_of(&[("PORT", "abc")]);
    assert_eq!(e.name, "PORT");
    assert!(e.to_string().contains("PORT=\"abc\" (from environment): is not a TCP port number; fix: set PORT"), "{e}");
    assert_eq!(error_of(&[("PORT", "0")]).name, "PORT");
    assert_eq!(error_of(&[("DB_POOL_MAX", "-1")]).name, "DB_POOL_MAX");
    assert_eq!(error_of(&[("DATABASE_URL", "mysql://x")]).name, "DATABASE_URL");
    assert_eq!(error_of(&[("LOG_FORMAT", "xml")]).name, "LOG_FORMAT");
    assert_eq!(error_of(&[("DB_SSL", "maybe")]).name, "DB_SSL");
    assert_eq!(error_of(&[("UPLOAD_MAX_BYTES", "lots")]).name, "UPLOAD_MAX_BYTES");
    assert_eq!(error_of(&[("FASTGPT_API_KEY", "fastgpt-x")]).name, "FASTGPT_API_URL");
    assert_eq!(error_of(&[("REDIS_URL", "localhost:6379")]).name, "REDIS_URL");
}

#[test]
fn short_or_equal_jwt_secrets_are_refused_without_printing_them() {
    let e = error_of(&[("JWT_ACCESS_SECRET", "tooshort-secret")]);
    assert_eq!(e.name, "JWT_ACCESS_SECRET");
    assert!(!e.to_string().contains("tooshort"), "the secret never appears in the message: {e}");
    let same = "x".repeat(40);
    assert_eq!(error_of(&[("JWT_ACCESS_SECRET", &same), ("JWT_REFRESH_SECRET", &same)]).name, "JWT_REFRESH_SECRET");
}

#[test]
fn postgres_from_parts_and_from_url_never_show_the_password() {
    let config = Config::from_sources(&sources(&[
        ("DB_HOST", "db.internal"),
        ("DB_NAME", "zk"),
        ("DB_USER", "zk"),
        ("DB_PASSWORD", "pa:ss@word"),
        ("DB_POOL_MAX", "20"),
    ]))
    .expect("valid");
    let DatabaseConfig::Postgres { display, pool_max, .. } = &config.database else {
        panic!("DB_HOST selects PostgreSQL")
    };
    assert_eq!(display, "postgres://zk@db.internal:5432/zk");
    assert_eq!(*pool_max, 20);
    let dump = format!("{config:?}");
    assert!(!dump.contains("pa:ss@word"), "Debug of the whole config hides the password");
    let shown = config.shown.iter().find(|s| s.name == "DB_PASSWORD").expect("shown");
    assert_eq!(shown.value.as_deref(), Some("<redacted>"));

    let config = Config::from_sources(&sources(&[("DATABASE_URL", "postgres://u:s3cr3tpw@h:5433/d")])).expect("valid");
    assert!(!format!("{config:?}").contains("s3cr3tpw"));
    let shown = config.shown.iter().find(|s| s.name == "DATABASE_URL").expect("shown");
    assert_eq!(shown.value.as_deref(), Some("postgres://u:<redacted>@h:5433/d"));
}

#[test]
fn redis_from_parts_encodes_the_password() {
    let config = Config::from_sources(&sources(&[("REDIS_HOST", "cache"), ("REDIS_PASSWORD", "p@ss")])).expect("valid");
    assert_eq!(config.cache.redis_url.as_ref().map(|u| u.expose().as_str()), Some("redis://:p%40ss@cache:6379/"));
}

#[test]
fn sizes_accept_units() {
    assert_eq!(parse_size("100MiB"), Some(100 << 20));
    assert_eq!(parse_size("50MB"), Some(50_000_000));
    assert_eq!(parse_size("1024"), Some(1024));
    assert_eq!(parse_size("12 parsecs"), None);
    assert_eq!(parse_size("99999999999999999999G"), None);
}

#[test]
fn dotenv_production_is_read_only_in_production_and_wins_over_dotenv() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(".env"), "PORT=4001\nUPLOAD_DIR=/from-dotenv\n").expect("write");
    std::fs::write(dir.path().join(".env.production"), "PORT=4002\n").expect("write");
    let flags = || BTreeMap::from([("ZK_DATA_DIR".to_owned(), "/tmp/zk-test-data".to_owned())]);
    let home = HashMap::from([("HOME".to_owned(), dir.path().display().to_string())]);
    let development = ConfigSources::discover_with(flags(), home.clone(), dir.path()).expect("sources");
    assert_eq!(Config::from_sources(&development).expect("valid").server.port, 4001, ".env alone outside production");
    let mut env = home;
    env.insert("NODE_ENV".into(), "production".into());
    let production = ConfigSources::discover_with(flags(), env, dir.path()).expect("sources");
    let config = Config::from_sources(&production).expect("valid");
    assert_eq!(config.server.port, 4002, ".env.production wins in production");
    assert_eq!(config.files.upload_dir, Path::new("/from-dotenv"), ".env still fills the rest");
    let shown = config.shown.iter().find(|s| s.name == "PORT").expect("shown");
    assert_eq!(shown.source, Source::DotEnv(dir.path().join(".env.production")));
}

#[test]
fn keystore_settings_default_to_auto_in_the_data_dir_and_hide_the_passphrase() {
    let config = Config::from_sources(&sources(&[])).expect("defaults are valid");
    assert_eq!(config.keystore.mode, KeyStoreMode::Auto);
    assert_eq!(config.keystore.file, Path::new("/tmp/zk-test-data/agent-keys.enc"));
    assert!(config.keystore.passphrase.is_none());

    let config = Config::from_sources(&sources(&[
        ("ZK_KEYSTORE", "FILE"),
        ("ZK_KEYSTORE_PASSPHRASE", "four random words here"),
        ("ZK_KEYSTORE_FILE", "/srv/zk/keys.enc"),
    ]))
    .expect("valid");
    assert_eq!(config.keystore.mode, KeyStoreMode::File);
    assert_eq!(config.keystore.file, Path::new("/srv/zk/keys.enc"));
    assert_eq!(config.keystore.passphrase.as_ref().map(|p| p.expose().as_str()), Some("four random words here"));
    assert!(!format!("{config:?}").contains("four random words"), "Debug of the config hides the passphrase");
    let shown = config.shown.iter().find(|s| s.name == "ZK_KEYSTORE_PASSPHRASE").expect("shown");
    assert_eq!(shown.value.as_deref(), Some("<redacted>"));

    let e = error_of(&[("ZK_KEYSTORE", "vault")]);
    assert_eq!(e.name, "ZK_KEYSTORE");
    assert!(e.to_string().contains("must be auto, keychain, file or env; fix: set ZK_KEYSTORE=auto"), "{e}");
    let e = error_of(&[("ZK_KEYSTORE_PASSPHRASE", "hunter2")]);
    assert_eq!(e.name, "ZK_KEYSTORE_PASSPHRASE");
    assert!(e.to_string().contains("is 7 characters long") && !e.to_string().contains("hunter2"), "{e}");
    assert_eq!(error_of(&[("ZK_KEYSTORE_FILE", "/tmp")]).name, "ZK_KEYSTORE_FILE");
}

#[test]
fn config_file_rejects_unknown_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "port = 3100\nprot = 1\n").expect("write");
    let e = read_config_file(&path).expect_err("typo is refused");
    assert_eq!(e.name, "prot");
    std::fs::write(&path, "port = 3100\nlog_format = \"json\"\n").expect("write");
    let values = read_config_file(&path).expect("valid file");
    assert_eq!(values.get("PORT").map(String::as_str), Some("3100"));
}

/// Every source at once: what `zk-agent config show` prints for it, row by row.
#[test]
fn config_show_rows_keep_their_order_values_redaction_and_sources() {
    let flags = [("ZK_DATA_DIR", "/srv/zk/data"), ("LOG_LEVEL", "debug"), ("PORT", "4200")];
    let env = [
        ("PORT", "4000"),
        ("METRICS_TOKEN", "metrics-token-0123456789"),
        ("DB_HOST", "db.internal"),
        ("DB_USER", "zk"),
        ("DB_PASSWORD", "pg-pass-Zq81"),
        ("DB_POOL_MAX", "20"),
        ("JWT_ACCESS_SECRET", "jwt-access-secret-0123456789abcdefghij"),
        ("FASTGPT_API_URL", "https://fastgpt.example.com/"),
        ("FASTGPT_API_KEY", "fastgpt-key-77x"),
        ("REDIS_URL", "redis://:redis-pw-4k@cache.internal:6379/0"),
        ("ERROR_MONITOR_ENABLED", "true"),
        ("ERROR_MONITOR_WEBHOOK_URL", "https://hooks.example.com/t/hook-token-9"),
        ("ZK_KEYSTORE_PASSPHRASE", "four random words here"),
        ("NODE_ENV", "production"),
    ];
    let dotenv = [("UPLOAD_DIR", "/srv/zk-files"), ("TASK_WORKERS", "5"), ("PORT", "4100"), ("CAD_MAX_BYTES", "64MiB")];
    let production = [("TASK_LEASE_SECS", "45"), ("UPLOAD_DIR", "/srv/zk-uploads")];
    let file = [
        ("TASK_WORKERS", "7"),
        ("LOG_FORMAT", "json"),
        ("ALLOWED_HOSTS", "zk.example.com"),
        ("UI_DIR", "/opt/zk/ui"),
        ("ZK_KEYSTORE_FILE", "/srv/zk/keys.enc"),
    ];
    let map = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let sources = ConfigSources {
        flags: flags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        env: map(&env),
        dotenv: vec![
            (PathBuf::from("/srv/zk/.env"), map(&dotenv)),
            (PathBuf::from("/srv/zk/.env.production"), map(&production)),
        ],
        file: Some((PathBuf::from("/etc/zk-agent/config.toml"), map(&file))),
    };
    let config = Config::from_sources(&sources).expect("valid");
    let shown = config.shown_rows();
    let rows: Vec<(&str, &str, &str)> = shown.iter().map(|r| (r.name, r.value.as_str(), r.source.as_str())).collect();
    let expected = [
        ("HOST", "(unset)", "default"),
        ("PORT", "4200", "command-line flag"),
        ("DATABASE_URL", "(unset)", "default"),
        ("DB_HOST", "db.internal", "environment"),
        ("DB_PORT", "(unset)", "default"),
        ("DB_NAME", "(unset)", "default"),
        ("DB_USER", "zk", "environment"),
        ("DB_PASSWORD", "<redacted>", "environment"),
        ("DB_POOL_MAX", "20", "environment"),
        ("DB_POOL_MIN", "(unset)", "default"),
        ("DB_SSL", "(unset)", "default"),
        ("DB_SSL_REJECT_UNAUTHORIZED", "(unset)", "default"),
        ("DB_SSL_CA", "(unset)", "default"),
        ("DB_SSL_CERT", "(unset)", "default"),
        ("DB_SSL_KEY", "(unset)", "default"),
        ("DB_ACQUIRE_TIMEOUT_MS", "(unset)", "default"),
        ("JWT_ACCESS_SECRET", "<redacted>", "environment"),
        ("JWT_REFRESH_SECRET", "(unset)", "default"),
        ("ACCESS_TOKEN_TTL_SECS", "(unset)", "default"),
        ("REFRESH_TOKEN_TTL_SECS", "(unset)", "default"),
        ("AUTH_HASH_WORKERS", "(unset)", "default"),
        ("AUTH_HASH_QUEUE_MS", "(unset)", "default"),
        ("FASTGPT_API_URL", "https://fastgpt.example.com/", "environment"),
        ("FASTGPT_API_KEY", "<redacted>", "environment"),
        ("UPLOAD_DIR", "/srv/zk-uploads", "/srv/zk/.env.production"),
        ("AGENTS_DIR", "(unset)", "default"),
        ("UPLOAD_MAX_BYTES", "(unset)", "default"),
        ("S3_ENDPOINT", "(unset)", "default"),
        ("S3_BUCKET", "(unset)", "default"),
        ("S3_REGION", "(unset)", "default"),
        ("S3_ACCESS_KEY_ID", "(unset)", "default"),
        ("S3_SECRET_ACCESS_KEY", "(unset)", "default"),
        ("S3_PREFIX", "(unset)", "default"),
        ("S3_FORCE_PATH_STYLE", "(unset)", "default"),
        ("CAD_MAX_BYTES", "64MiB", "/srv/zk/.env"),
        ("CAD_TIME_BUDGET_SECS", "(unset)", "default"),
        ("CAD_MAX_INSTANCES", "(unset)", "default"),
        ("CAD_MAX_VERTICES", "(unset)", "default"),
        ("CAD_MAX_SVG_BYTES", "(unset)", "default"),
        ("CAD_WORKERS", "(unset)", "default"),
        ("CAD_QUEUE_SECS", "(unset)", "default"),
        ("CAD_DIR", "(unset)", "default"),
        ("CAD_CACHE_BYTES", "(unset)", "default"),
        ("REDIS_URL", "redis://:<redacted>@cache.internal:6379/0", "environment"),
        ("REDIS_HOST", "(unset)", "default"),
        ("REDIS_PORT", "(unset)", "default"),
        ("REDIS_PASSWORD", "(unset)", "default"),
        ("REDIS_PREFIX", "(unset)", "default"),
        ("ERROR_MONITOR_ENABLED", "true", "environment"),
        ("ERROR_MONITOR_WEBHOOK_URL", "<redacted>", "environment"),
        ("ALLOWED_HOSTS", "zk.example.com", "/etc/zk-agent/config.toml"),
        ("HTTP_HEADER_TIMEOUT_SECS", "(unset)", "default"),
        ("HTTP_MAX_CONNECTIONS", "(unset)", "default"),
        ("METRICS_ENABLED", "(unset)", "default"),
        ("METRICS_TOKEN", "<redacted>", "environment"),
        ("TASK_WORKERS", "5", "/srv/zk/.env"),
        ("TASK_LEASE_SECS", "45", "/srv/zk/.env.production"),
        ("LOG_FORMAT", "json", "/etc/zk-agent/config.toml"),
        ("LOG_LEVEL", "debug", "command-line flag"),
        ("UI_DIR", "/opt/zk/ui", "/etc/zk-agent/config.toml"),
        ("ZK_DATA_DIR", "/srv/zk/data", "command-line flag"),
        ("ZK_KEYSTORE", "(unset)", "default"),
        ("ZK_KEYSTORE_PASSPHRASE", "<redacted>", "environment"),
        ("ZK_KEYSTORE_FILE", "/srv/zk/keys.enc", "/etc/zk-agent/config.toml"),
        ("NODE_ENV", "production", "environment"),
    ];
    assert_eq!(rows, expected, "`config show` lists every setting in this order, secrets redacted");
}

#[test]
fn every_setting_is_declared_once_shown_and_read() {
    let mut names: Vec<&str> = settings().map(|s| s.name).collect();
    let declared = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), declared, "no two sections declare one name");
    for name in SHOWN_ORDER.split_whitespace() {
        assert!(names.contains(&name), "{name} in SHOWN_ORDER is declared by a section");
    }
    let config = Config::from_sources(&sources(&[])).expect("defaults are valid");
    let mut read: Vec<&str> = config.shown.iter().map(|s| s.name).collect();
    read.sort_unstable();
    assert_eq!(read, names, "each section reads exactly the settings it declares");
}

#[test]
fn slow_clients_and_connections_are_bounded_by_default_and_configurable() {
    let config = Config::from_sources(&sources(&[])).expect("defaults are valid");
    assert_eq!(config.server.header_timeout, Duration::from_secs(15), "a request head must arrive within 15 s");
    assert_eq!(config.server.max_connections, 512);
    let config = Config::from_sources(&sources(&[("HTTP_HEADER_TIMEOUT_SECS", "5"), ("HTTP_MAX_CONNECTIONS", "64")]))
        .expect("valid");
    assert_eq!((config.server.header_timeout, config.server.max_connections), (Duration::from_secs(5), 64));
    let e = error_of(&[("HTTP_HEADER_TIMEOUT_SECS", "60")]);
    assert!(e.to_string().contains("is outside 1..=30"), "the header timeout stays at most 30 s: {e}");
    assert_eq!(error_of(&[("HTTP_MAX_CONNECTIONS", "0")]).name, "HTTP_MAX_CONNECTIONS");
}

#[test]
fn cad_budgets_follow_cad_max_bytes_unless_set() {
    let config = Config::from_sources(&sources(&[("CAD_MAX_BYTES", "64MiB")])).expect("valid");
    let budgets = config.cad.budgets;
    assert_eq!(budgets.max_instances, 262_144, "CAD_MAX_BYTES / 256");
    assert_eq!(budgets.max_vertices, 4_194_304, "CAD_MAX_BYTES / 16");
    assert_eq!(budgets.max_svg_bytes, 64 * 1024 * 1024, "CAD_MAX_BYTES");
    assert_eq!(budgets.max_png_pixels, 8 * 1024 * 1024, "CAD_MAX_BYTES / 8");
    assert!((1..=crate::config::cad::MAX_DEFAULT_CAD_WORKERS).contains(&budgets.workers), "the cores, at most 4");

    let set = [
        ("CAD_MAX_INSTANCES", "5000"),
        ("CAD_MAX_VERTICES", "90000"),
        ("CAD_MAX_SVG_BYTES", "1MiB"),
        ("CAD_WORKERS", "3"),
        ("CAD_QUEUE_SECS", "2"),
    ];
    let budgets = Config::from_sources(&sources(&set)).expect("valid").cad.budgets;
    assert_eq!(
        (budgets.max_instances, budgets.max_vertices, budgets.max_svg_bytes, budgets.workers),
        (5000, 90_000, 1024 * 1024, 3)
    );
    assert_eq!(budgets.queue, std::time::Duration::from_secs(2));

    let error = error_of(&[("CAD_WORKERS", "0")]);
    assert!(error.to_string().contains("CAD_WORKERS"), "{error}");
}

#[test]
fn object_storage_is_off_until_a_bucket_is_named_and_its_secret_never_shows() {
    let config = Config::from_sources(&sources(&[])).expect("defaults are valid");
    assert!(config.storage.s3.is_none(), "nothing configured: local file store only");

    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
    let config = Config::from_sources(&sources(&[
        ("S3_ENDPOINT", "http://127.0.0.1:8333/"),
        ("S3_BUCKET", "zk-files"),
        ("S3_ACCESS_KEY_ID", "ci"),
        ("S3_SECRET_ACCESS_KEY", secret),
        ("S3_PREFIX", "/team-a"),
    ]))
    .expect("valid");
    let s3 = config.storage.s3.clone().expect("a bucket is configured");
    assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
    assert_eq!((s3.bucket.as_str(), s3.region.as_str(), s3.prefix.as_str()), ("zk-files", "us-east-1", "team-a/"));
    assert!(s3.force_path_style, "an endpoint defaults to path-style addressing");
    assert_eq!(s3.secret_access_key.as_ref().map(|s| s.expose().as_str()), Some(secret));
    assert!(!format!("{config:?}").contains(secret), "Debug never shows the secret key");
    let shown = config.shown_rows();
    assert!(shown.iter().all(|row| !row.value.contains(secret)), "config show never shows it");
    let row = shown.iter().find(|row| row.name == "S3_SECRET_ACCESS_KEY").expect("listed");
    assert_eq!(row.value, "<redacted>");

    assert_eq!(
        error_of(&[("S3_ENDPOINT", "http://127.0.0.1:8333")]).name,
        "S3_ENDPOINT",
        "an endpoint without a bucket"
    );
    assert_eq!(error_of(&[("S3_BUCKET", "Bad_Name")]).name, "S3_BUCKET");
    assert_eq!(error_of(&[("S3_BUCKET", "ok-name"), ("S3_ACCESS_KEY_ID", "ci")]).name, "S3_SECRET_ACCESS_KEY");
    let e = error_of(&[("S3_BUCKET", "ok-name"), ("S3_SECRET_ACCESS_KEY", secret)]);
    assert_eq!(e.name, "S3_ACCESS_KEY_ID");
    assert!(!e.to_string().contains(secret), "{e}");
    assert_eq!(error_of(&[("S3_BUCKET", "ok-name"), ("S3_PREFIX", "a/../b")]).name, "S3_PREFIX");
    assert_eq!(error_of(&[("S3_BUCKET", "ok-name"), ("S3_FORCE_PATH_STYLE", "maybe")]).name, "S3_FORCE_PATH_STYLE");
    assert_eq!(error_of(&[("S3_BUCKET", "ok-name"), ("S3_ENDPOINT", "ftp://x")]).name, "S3_ENDPOINT");
}

#[test]
fn metrics_settings_default_on_without_a_token_and_refuse_a_weak_token_without_printing_it() {
    let config = Config::from_sources(&sources(&[])).expect("valid");
    assert!(config.server.metrics_enabled && config.server.metrics_token.is_none(), "on, loopback only");
    let config =
        Config::from_sources(&sources(&[("METRICS_ENABLED", "false"), ("METRICS_TOKEN", "scrape-token-0123456789")]))
            .expect("valid");
    assert!(!config.server.metrics_enabled);
    assert_eq!(config.server.metrics_token.as_ref().map(|t| t.expose().as_str()), Some("scrape-token-0123456789"));
    let e = error_of(&[("METRICS_TOKEN", "short-secret")]);
    assert_eq!(e.name, "METRICS_TOKEN");
    assert!(!e.to_string().contains("short-secret") && e.fix.contains("openssl"), "redacted, with the fix: {e}");
    assert_eq!(error_of(&[("METRICS_TOKEN", "a token with spaces in it")]).name, "METRICS_TOKEN");
    assert_eq!(error_of(&[("METRICS_ENABLED", "maybe")]).name, "METRICS_ENABLED");
}
