//! Configuration, compatible with the platform's operations manual (PRODUCT.md section 3).
//!
//! Precedence, highest first: command-line flags > environment > `.env` / `.env.production` in the
//! working directory > the TOML config file in the OS config directory > built-in defaults. With nothing
//! set the defaults run fully offline: SQLite and a file store in the OS data directory.
//!
//! Every value remembers where it came from (`zk-agent config show`), and a bad value is an error that
//! names the variable, what is wrong with the value and how to fix it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::sqlite::SqliteConnectOptions;

use crate::keystore::{self, KeyStoreMode};
use crate::secret::{Secret, redact_url};

/// Every name the configuration understands, with a one-line meaning (shown by `config show`).
pub const SETTINGS: &[(&str, &str)] = &[
    ("HOST", "address the local server binds (default 127.0.0.1)"),
    ("PORT", "TCP port of the local server (default 3000)"),
    ("DATABASE_URL", "postgres://… or sqlite://…; wins over the DB_* parts"),
    ("DB_HOST", "PostgreSQL host (selects PostgreSQL when DATABASE_URL is unset)"),
    ("DB_PORT", "PostgreSQL port (default 5432)"),
    ("DB_NAME", "PostgreSQL database name"),
    ("DB_USER", "PostgreSQL user"),
    ("DB_PASSWORD", "PostgreSQL password"),
    ("DB_POOL_MAX", "largest number of database connections (default 10)"),
    ("DB_POOL_MIN", "connections kept open when idle (default 0)"),
    ("DB_SSL", "connect to PostgreSQL over TLS (default false)"),
    ("DB_SSL_REJECT_UNAUTHORIZED", "verify the server certificate and host name (default true)"),
    ("DB_SSL_CA", "CA certificate file for DB_SSL"),
    ("DB_SSL_CERT", "client certificate file for DB_SSL"),
    ("DB_SSL_KEY", "client key file for DB_SSL"),
    ("DB_ACQUIRE_TIMEOUT_MS", "how long a request waits for a database connection (default 2000)"),
    ("JWT_ACCESS_SECRET", "HS256 key of access tokens, 32+ characters (default: generated in the data dir)"),
    ("JWT_REFRESH_SECRET", "key that hashes refresh tokens, 32+ characters (default: generated)"),
    ("ACCESS_TOKEN_TTL_SECS", "lifetime of an access token (default 900)"),
    ("REFRESH_TOKEN_TTL_SECS", "lifetime of a sign-in session (default 2592000, 30 days)"),
    ("FASTGPT_API_URL", "base URL of the FastGPT deployment"),
    ("FASTGPT_API_KEY", "FastGPT API key"),
    ("UPLOAD_DIR", "directory of the local file store (default: files/ in the data dir)"),
    ("AGENTS_DIR", "watched folder of agent files, *.toml and *.json (default: agents/ in the data dir)"),
    ("UPLOAD_MAX_BYTES", "largest accepted upload, e.g. 104857600 or 100MiB (default 100MiB)"),
    ("CAD_MAX_BYTES", "largest CAD drawing opened, refused before parsing, e.g. 256MiB (default 256MiB)"),
    ("CAD_TIME_BUDGET_SECS", "longest time opening (and drawing) one CAD drawing may take (default 60)"),
    (
        "CAD_DIR",
        "watched folder of drawings, *.dxf and *.dwg, imported into the CAD library (default: drawings/ in the data dir)",
    ),
    ("CAD_CACHE_BYTES", "memory for recently opened drawings and their scenes, e.g. 512MiB (default 512MiB)"),
    ("REDIS_URL", "redis://… ; wins over the REDIS_* parts; unset: in-process cache"),
    ("REDIS_HOST", "Redis host"),
    ("REDIS_PORT", "Redis port (default 6379)"),
    ("REDIS_PASSWORD", "Redis password"),
    ("REDIS_PREFIX", "prefix of every cache key, to share one Redis between deployments (default zk:)"),
    ("ERROR_MONITOR_ENABLED", "send ERROR records to the webhook (default false)"),
    ("ERROR_MONITOR_WEBHOOK_URL", "webhook that receives ERROR records"),
    ("ALLOWED_HOSTS", "extra Host names the server answers to, comma separated"),
    ("TASK_WORKERS", "background task workers in this process (default 2)"),
    ("TASK_LEASE_SECS", "how long a running task stays claimed without a heartbeat (default 30)"),
    ("LOG_FORMAT", "text or json (default text)"),
    ("LOG_LEVEL", "tracing filter, e.g. info or zk_core=debug (default info)"),
    ("UI_DIR", "built UI to serve (default ui/dist when present)"),
    ("ZK_DATA_DIR", "data directory (default: the OS data dir)/zk-agent"),
    ("ZK_KEYSTORE", "where agents' API keys live: auto (default), keychain, file or env"),
    ("ZK_KEYSTORE_PASSPHRASE", "passphrase of the encrypted key file, used where no OS keychain exists"),
    ("ZK_KEYSTORE_FILE", "the encrypted key file (default: agent-keys.enc in the data dir)"),
    ("NODE_ENV", "production also reads .env.production"),
];

const SECRET_NAMES: &[&str] = &[
    "DB_PASSWORD",
    "JWT_ACCESS_SECRET",
    "JWT_REFRESH_SECRET",
    "FASTGPT_API_KEY",
    "REDIS_PASSWORD",
    "ERROR_MONITOR_WEBHOOK_URL",
    "ZK_KEYSTORE_PASSPHRASE",
];
const URL_NAMES: &[&str] = &["DATABASE_URL", "REDIS_URL"];

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Environment,
    DotEnv(PathBuf),
    ConfigFile(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("command-line flag"),
            Self::Environment => f.write_str("environment"),
            Self::DotEnv(path) | Self::ConfigFile(path) => write!(f, "{}", path.display()),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A configuration problem, worded for the person who has to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub name: String,
    /// The offending value, already redacted when the name is a secret.
    pub value: Option<String>,
    pub source: Option<Source>,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(value) = &self.value {
            write!(f, "={value:?}")?;
        }
        if let Some(source) = &self.source {
            write!(f, " (from {source})")?;
        }
        write!(f, ": {}; fix: {}", self.problem, self.fix)
    }
}

impl std::error::Error for ConfigError {}

/// The raw layers, before any value is interpreted.
#[derive(Debug, Default, Clone)]
pub struct ConfigSources {
    /// Values from command-line flags, keyed by the variable name they stand for.
    pub flags: BTreeMap<String, String>,
    pub env: HashMap<String, String>,
    /// Later files win over earlier ones (`.env.production` over `.env`).
    pub dotenv: Vec<(PathBuf, HashMap<String, String>)>,
    pub file: Option<(PathBuf, HashMap<String, String>)>,
}

impl ConfigSources {
    /// Reads the process environment, the `.env` files in `working_dir` and the config file
    /// (`--config`/`ZK_CONFIG`, else `<OS config dir>/zk-agent/config.toml` when it exists).
    pub fn discover(flags: BTreeMap<String, String>, working_dir: &Path) -> Result<Self, ConfigError> {
        Self::discover_with(flags, std::env::vars().collect(), working_dir)
    }

    /// [`ConfigSources::discover`] with the environment given, not read from the process.
    pub fn discover_with(
        flags: BTreeMap<String, String>,
        env: HashMap<String, String>,
        working_dir: &Path,
    ) -> Result<Self, ConfigError> {
        let mut sources = Self { flags, env, ..Self::default() };

        let production = sources.get_raw("NODE_ENV").is_some_and(|(v, _)| v == "production");
        let mut dotenv_files = vec![working_dir.join(".env")];
        if production {
            dotenv_files.push(working_dir.join(".env.production"));
        }
        for path in dotenv_files {
            if path.is_file() {
                let values = read_dotenv(&path)?;
                sources.dotenv.push((path, values));
            }
        }

        let explicit = sources.get_raw("ZK_CONFIG").map(|(v, _)| PathBuf::from(v));
        let config_path = explicit.clone().or_else(|| dirs::config_dir().map(|d| d.join("zk-agent/config.toml")));
        if let Some(path) = config_path {
            if path.is_file() {
                let values = read_config_file(&path)?;
                sources.file = Some((path, values));
            } else if explicit.is_some() {
                return Err(ConfigError {
                    name: "ZK_CONFIG".into(),
                    value: Some(path.display().to_string()),
                    source: None,
                    problem: "the config file does not exist".into(),
                    fix: "point --config or ZK_CONFIG at an existing TOML file, or unset it".into(),
                });
            }
        }
        Ok(sources)
    }

    /// The raw value of `name` and where it came from, honouring precedence. Empty values count as unset.
    pub fn get_raw(&self, name: &str) -> Option<(String, Source)> {
        if let Some(v) = self.flags.get(name) {
            return Some((v.clone(), Source::Flag));
        }
        if let Some(v) = self.env.get(name).filter(|v| !v.is_empty()) {
            return Some((v.clone(), Source::Environment));
        }
        for (path, values) in self.dotenv.iter().rev() {
            if let Some(v) = values.get(name).filter(|v| !v.is_empty()) {
                return Some((v.clone(), Source::DotEnv(path.clone())));
            }
        }
        if let Some((path, values)) = &self.file
            && let Some(v) = values.get(name).filter(|v| !v.is_empty())
        {
            return Some((v.clone(), Source::ConfigFile(path.clone())));
        }
        None
    }
}

fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let iter = dotenvy::from_path_iter(path).map_err(|e| file_error(path, &e.to_string()))?;
    let mut values = HashMap::new();
    for item in iter {
        let (key, value) = item.map_err(|e| file_error(path, &e.to_string()))?;
        values.insert(key, value);
    }
    Ok(values)
}

/// The config file is flat TOML with the variable names as keys, in either case: `port = 3000`.
fn read_config_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, &e.to_string()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| file_error(path, e.message()))?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let name = key.to_ascii_uppercase();
        if !SETTINGS.iter().any(|(known, _)| *known == name) {
            return Err(ConfigError {
                name: key,
                value: None,
                source: Some(Source::ConfigFile(path.to_owned())),
                problem: "unknown setting".into(),
                fix: "remove it or correct its spelling; `zk-agent config show` lists every setting".into(),
            });
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ConfigError {
                    name: key,
                    value: Some(other.to_string()),
                    source: Some(Source::ConfigFile(path.to_owned())),
                    problem: "expected a string, number or boolean".into(),
                    fix: "write the value as a plain scalar, e.g. port = 3000".into(),
                });
            }
        };
        values.insert(name, value);
    }
    Ok(values)
}

fn file_error(path: &Path, problem: &str) -> ConfigError {
    ConfigError {
        name: path.display().to_string(),
        value: None,
        source: None,
        problem: format!("cannot be read: {problem}"),
        fix: "correct the file's syntax or remove it".into(),
    }
}

/// The database the core opens.
#[derive(Debug, Clone)]
pub enum DatabaseConfig {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        /// Connection options, including the password.
        connect: Secret<Box<PgConnectOptions>>,
        /// The same target with the password removed, for logs and `config show`.
        display: String,
        pool_max: u32,
        pool_min: u32,
        acquire_timeout: Duration,
    },
}

impl DatabaseConfig {
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite://{}", path.display()),
            Self::Postgres { display, .. } => display.clone(),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }

    pub fn sqlite_options(path: &Path) -> SqliteConnectOptions {
        SqliteConnectOptions::new().filename(path).create_if_missing(true)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct FastGptConfig {
    pub base_url: String,
    pub api_key: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct ErrorMonitorConfig {
    pub enabled: bool,
    pub webhook_url: Option<Secret>,
}

/// Where agents' API keys are kept (see [`crate::keystore`]).
#[derive(Debug, Clone)]
pub struct KeyStoreConfig {
    pub mode: KeyStoreMode,
    /// Unlocks the encrypted file at start; without it a file stays locked until unlocked at run time.
    pub passphrase: Option<Secret>,
    pub file: PathBuf,
}

/// One line of `config show`: a name, its (redacted) value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownSetting {
    pub name: &'static str,
    pub value: Option<String>,
    pub source: Source,
}

/// One row of `zk-agent config show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownRow {
    pub name: &'static str,
    /// Redacted where the setting is a secret or a URL; `(unset)` when nothing set it.
    pub value: String,
    pub source: String,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub host: IpAddr,
    pub port: u16,
    pub allowed_hosts: Vec<String>,
    pub database: DatabaseConfig,
    pub jwt_access_secret: Option<Secret>,
    pub jwt_refresh_secret: Option<Secret>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub fastgpt: Option<FastGptConfig>,
    pub upload_dir: PathBuf,
    /// The watched agents folder: agent files there are applied as they change.
    pub agents_dir: PathBuf,
    pub upload_max_bytes: u64,
    /// CAD drawings larger than this are refused before they are parsed.
    pub cad_max_bytes: u64,
    /// Reading (and drawing) one CAD drawing stops with an error past this.
    pub cad_time_budget: Duration,
    /// The watched drawings folder: `*.dxf` and `*.dwg` files there are imported into the CAD library.
    pub cad_dir: PathBuf,
    /// What the viewer's cache of opened drawings and their scenes may hold (an estimate), in bytes.
    pub cad_cache_bytes: u64,
    /// Redis URL with its password; `None` selects the in-process cache.
    pub redis_url: Option<Secret>,
    pub redis_prefix: String,
    pub error_monitor: ErrorMonitorConfig,
    pub task_workers: usize,
    /// A task whose worker died is claimed again this long after its last heartbeat.
    pub task_lease: Duration,
    pub log_format: LogFormat,
    pub log_level: String,
    pub ui_dir: Option<PathBuf>,
    pub keystore: KeyStoreConfig,
    pub shown: Vec<ShownSetting>,
}

impl Config {
    /// Loads from the process environment, `.env` files, the config file and the given flags.
    pub fn load(flags: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Self::from_sources(&ConfigSources::discover(flags, &cwd)?)
    }

    pub fn from_sources(sources: &ConfigSources) -> Result<Self, ConfigError> {
        let mut reader = Reader { sources, shown: Vec::new() };

        let data_dir = match reader.string("ZK_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => default_data_dir()?,
        };
        let host = reader
            .parse("HOST", "an IP address such as 127.0.0.1", "set HOST=127.0.0.1 (or 0.0.0.0 to serve the network)")?
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let port = reader.port("PORT")?.unwrap_or(3000);
        let allowed_hosts = reader
            .string("ALLOWED_HOSTS")
            .map(|v| v.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
            .unwrap_or_default();
        let database = reader.database(&data_dir)?;
        let jwt_access_secret = reader.jwt_secret("JWT_ACCESS_SECRET")?;
        let jwt_refresh_secret = reader.jwt_secret("JWT_REFRESH_SECRET")?;
        if let (Some(a), Some(r)) = (&jwt_access_secret, &jwt_refresh_secret)
            && a == r
        {
            return Err(reader.error(
                "JWT_REFRESH_SECRET",
                "must differ from JWT_ACCESS_SECRET",
                "generate two independent values, e.g. with `openssl rand -base64 48`",
            ));
        }
        let access_token_ttl = reader.seconds("ACCESS_TOKEN_TTL_SECS", 60, 86_400)?.unwrap_or(Duration::from_secs(900));
        let refresh_token_ttl =
            reader.seconds("REFRESH_TOKEN_TTL_SECS", 300, 365 * 86_400)?.unwrap_or(Duration::from_secs(30 * 86_400));
        let fastgpt_url = reader.url("FASTGPT_API_URL", &["http", "https"])?;
        let fastgpt_key = reader.secret("FASTGPT_API_KEY");
        let fastgpt = match (fastgpt_url, fastgpt_key) {
            (Some(base_url), api_key) => {
                Some(FastGptConfig { base_url: base_url.trim_end_matches('/').to_owned(), api_key })
            }
            (None, Some(_)) => {
                return Err(reader.error(
                    "FASTGPT_API_URL",
                    "is missing while FASTGPT_API_KEY is set",
                    "set FASTGPT_API_URL to your FastGPT host, e.g. https://fastgpt.example.com",
                ));
            }
            (None, None) => None,
        };
        let upload_dir = reader.string("UPLOAD_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("files"));
        let agents_dir = reader.string("AGENTS_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("agents"));
        let upload_max_bytes = reader.size("UPLOAD_MAX_BYTES")?.unwrap_or(100 * 1024 * 1024);
        let cad_max_bytes = reader.size("CAD_MAX_BYTES")?.unwrap_or(crate::cad::DEFAULT_MAX_BYTES);
        let cad_time_budget =
            reader.seconds("CAD_TIME_BUDGET_SECS", 1, 3600)?.unwrap_or(crate::cad::DEFAULT_TIME_BUDGET);
        let cad_dir = reader.string("CAD_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("drawings"));
        let cad_cache_bytes = reader.size("CAD_CACHE_BYTES")?.unwrap_or(crate::cad::cache::DEFAULT_CACHE_BYTES);
        let redis_url = reader.redis()?;
        let redis_prefix = reader.string("REDIS_PREFIX").unwrap_or_else(|| "zk:".into());
        let error_monitor = ErrorMonitorConfig {
            enabled: reader.bool("ERROR_MONITOR_ENABLED")?.unwrap_or(false),
            webhook_url: reader.url("ERROR_MONITOR_WEBHOOK_URL", &["http", "https"])?.map(Secret::new),
        };
        if error_monitor.enabled && error_monitor.webhook_url.is_none() {
            return Err(reader.error(
                "ERROR_MONITOR_WEBHOOK_URL",
                "is missing while ERROR_MONITOR_ENABLED is true",
                "set the webhook URL or ERROR_MONITOR_ENABLED=false",
            ));
        }
        let task_workers = reader.number("TASK_WORKERS", 0, 64)?.unwrap_or(2) as usize;
        let task_lease = reader.seconds("TASK_LEASE_SECS", 2, 3600)?.unwrap_or(Duration::from_secs(30));
        let log_format = match reader.string("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => {
                return Err(reader.error(
                    "LOG_FORMAT",
                    "must be text or json",
                    "set LOG_FORMAT=text or LOG_FORMAT=json",
                ));
            }
        };
        let log_level = reader.string("LOG_LEVEL").unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            return Err(reader.error(
                "LOG_LEVEL",
                "is not a valid log filter",
                "use a level such as info, warn or debug, or a filter like zk_core=debug",
            ));
        }
        let ui_dir = reader
            .string("UI_DIR")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("ui/dist")).filter(|p| p.join("index.html").is_file()));
        reader.string("NODE_ENV");
        let keystore = reader.keystore(&data_dir)?;

        Ok(Self {
            data_dir,
            host,
            port,
            allowed_hosts,
            database,
            jwt_access_secret,
            jwt_refresh_secret,
            access_token_ttl,
            refresh_token_ttl,
            fastgpt,
            upload_dir,
            agents_dir,
            upload_max_bytes,
            cad_max_bytes,
            cad_time_budget,
            cad_dir,
            cad_cache_bytes,
            redis_url,
            redis_prefix,
            error_monitor,
            task_workers,
            task_lease,
            log_format,
            log_level,
            ui_dir,
            keystore,
            shown: reader.shown,
        })
    }

    /// Offline defaults rooted in `data_dir`; for tests and the desktop shell.
    pub fn offline(data_dir: &Path) -> Self {
        let sources = ConfigSources {
            flags: BTreeMap::from([("ZK_DATA_DIR".to_owned(), data_dir.display().to_string())]),
            ..ConfigSources::default()
        };
        match Self::from_sources(&sources) {
            Ok(config) => config,
            // Only ZK_DATA_DIR is set, and every default is valid.
            Err(error) => unreachable!("offline defaults are valid: {error}"),
        }
    }

    /// The rows of `zk-agent config show`: every setting, its value as it may be printed, its source.
    pub fn shown_rows(&self) -> Vec<ShownRow> {
        SETTINGS
            .iter()
            .map(|(name, _)| {
                let shown = self.shown.iter().find(|s| s.name == *name);
                ShownRow {
                    name,
                    value: shown.and_then(|s| s.value.clone()).unwrap_or_else(|| "(unset)".into()),
                    source: shown.map_or_else(|| "default".to_owned(), |s| s.source.to_string()),
                }
            })
            .collect()
    }
}

fn default_data_dir() -> Result<PathBuf, ConfigError> {
    dirs::data_dir().map(|d| d.join("zk-agent")).ok_or_else(|| ConfigError {
        name: "ZK_DATA_DIR".into(),
        value: None,
        source: None,
        problem: "this system has no data directory (HOME is unset)".into(),
        fix: "set ZK_DATA_DIR to a writable directory".into(),
    })
}

/// Reads values by name, records what it read for `config show`, and words errors.
struct Reader<'a> {
    sources: &'a ConfigSources,
    shown: Vec<ShownSetting>,
}

impl Reader<'_> {
    fn name(name: &str) -> &'static str {
        SETTINGS.iter().find(|(n, _)| *n == name).map_or("?", |(n, _)| n)
    }

    fn raw(&mut self, name: &str) -> Option<(String, Source)> {
        let found = self.sources.get_raw(name);
        let shown_value = found.as_ref().map(|(v, _)| shown_value(name, v));
        let source = found.as_ref().map_or(Source::Default, |(_, s)| s.clone());
        self.shown.retain(|s| s.name != name);
        self.shown.push(ShownSetting { name: Self::name(name), value: shown_value, source });
        found
    }

    fn string(&mut self, name: &str) -> Option<String> {
        self.raw(name).map(|(v, _)| v)
    }

    fn secret(&mut self, name: &str) -> Option<Secret> {
        self.string(name).map(Secret::new)
    }

    fn error(&self, name: &str, problem: &str, fix: &str) -> ConfigError {
        let found = self.sources.get_raw(name);
        ConfigError {
            name: name.to_owned(),
            value: found.as_ref().map(|(v, _)| shown_value(name, v)),
            source: found.map(|(_, s)| s),
            problem: problem.to_owned(),
            fix: fix.to_owned(),
        }
    }

    fn parse<T: FromStr>(&mut self, name: &str, expected: &str, fix: &str) -> Result<Option<T>, ConfigError> {
        match self.string(name) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| self.error(name, &format!("is not {expected}"), fix)),
        }
    }

    fn number(&mut self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
        let fix = format!("set {name} to a whole number from {min} to {max}");
        let value: Option<u64> = self.parse(name, "a whole number", &fix)?;
        match value {
            Some(v) if v < min || v > max => Err(self.error(name, &format!("is outside {min}..={max}"), &fix)),
            other => Ok(other),
        }
    }

    fn port(&mut self, name: &str) -> Result<Option<u16>, ConfigError> {
        let fix = format!("set {name} to a free TCP port from 1 to 65535, e.g. {name}=3000");
        match self.parse::<u16>(name, "a TCP port number", &fix)? {
            Some(0) => Err(self.error(name, "is 0, which is not a usable port", &fix)),
            other => Ok(other),
        }
    }

    fn seconds(&mut self, name: &str, min: u64, max: u64) -> Result<Option<Duration>, ConfigError> {
        Ok(self.number(name, min, max)?.map(Duration::from_secs))
    }

    fn bool(&mut self, name: &str) -> Result<Option<bool>, ConfigError> {
        match self.string(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => Err(self.error(name, "is not a boolean", &format!("set {name}=true or {name}=false"))),
            },
        }
    }

    fn size(&mut self, name: &str) -> Result<Option<u64>, ConfigError> {
        let Some(value) = self.string(name) else { return Ok(None) };
        parse_size(&value).filter(|&n| n > 0).map(Some).ok_or_else(|| {
            self.error(
                name,
                "is not a size",
                &format!("write a positive number of bytes with an optional unit, e.g. {name}=100MiB"),
            )
        })
    }

    fn url(&mut self, name: &str, schemes: &[&str]) -> Result<Option<String>, ConfigError> {
        let Some(value) = self.string(name) else { return Ok(None) };
        let scheme_ok =
            value.split_once("://").is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty());
        if scheme_ok {
            Ok(Some(value))
        } else {
            let example = format!("{}://host", schemes[0]);
            Err(self.error(
                name,
                &format!("is not a URL starting with {}", schemes.join("://, ") + "://"),
                &format!("write a full URL, e.g. {name}={example}"),
            ))
        }
    }

    fn jwt_secret(&mut self, name: &str) -> Result<Option<Secret>, ConfigError> {
        match self.secret(name) {
            Some(secret) if secret.expose().len() < 32 => Err(self.error(
                name,
                &format!("is {} characters long; at least 32 are needed", secret.expose().len()),
                "generate one with `openssl rand -base64 48`, or unset it to let zk-agent generate and keep one in its data dir",
            )),
            other => Ok(other),
        }
    }

    fn database(&mut self, data_dir: &Path) -> Result<DatabaseConfig, ConfigError> {
        let pool_max = self.number("DB_POOL_MAX", 1, 1000)?.unwrap_or(10) as u32;
        let pool_min = self.number("DB_POOL_MIN", 0, 1000)?.unwrap_or(0) as u32;
        if pool_min > pool_max {
            return Err(self.error(
                "DB_POOL_MIN",
                "is larger than DB_POOL_MAX",
                "make DB_POOL_MIN at most DB_POOL_MAX",
            ));
        }
        let acquire_timeout = Duration::from_millis(self.number("DB_ACQUIRE_TIMEOUT_MS", 100, 60_000)?.unwrap_or(2000));
        let ssl = self.bool("DB_SSL")?.unwrap_or(false);
        let verify = self.bool("DB_SSL_REJECT_UNAUTHORIZED")?.unwrap_or(true);
        let ssl_files: Vec<(&str, Option<String>)> =
            ["DB_SSL_CA", "DB_SSL_CERT", "DB_SSL_KEY"].into_iter().map(|n| (n, self.string(n))).collect();
        for (name, path) in &ssl_files {
            if let Some(path) = path
                && !Path::new(path).is_file()
            {
                return Err(self.error(
                    name,
                    "names a file that does not exist",
                    &format!("point {name} at a readable PEM file"),
                ));
            }
        }

        let url = self.string("DATABASE_URL");
        let parts: Vec<(&str, Option<String>)> =
            ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER"].into_iter().map(|n| (n, self.string(n))).collect();
        let password = self.secret("DB_PASSWORD");
        let mut options = match url {
            Some(url) if url.starts_with("sqlite:") => {
                let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() || path == ":memory:" {
                    return Err(self.error(
                        "DATABASE_URL",
                        "names no database file",
                        "write DATABASE_URL=sqlite:///absolute/path/zk-agent.db",
                    ));
                }
                return Ok(DatabaseConfig::Sqlite { path: PathBuf::from(path) });
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                PgConnectOptions::from_str(&url).map_err(|e| {
                    self.error(
                        "DATABASE_URL",
                        &format!("is not a valid PostgreSQL URL ({})", redact_url(&e.to_string())),
                        "write DATABASE_URL=postgres://user:password@host:5432/database",
                    )
                })?
            }
            Some(_) => {
                return Err(self.error(
                    "DATABASE_URL",
                    "must start with postgres://, postgresql:// or sqlite://",
                    "write DATABASE_URL=postgres://user:password@host:5432/database or sqlite:///path/zk-agent.db",
                ));
            }
            None => match &parts[0].1 {
                None => return Ok(DatabaseConfig::Sqlite { path: data_dir.join("zk-agent.db") }),
                Some(host) => {
                    let port = self.port("DB_PORT")?.unwrap_or(5432);
                    let mut options = PgConnectOptions::new_without_pgpass().host(host).port(port);
                    if let Some(name) = &parts[2].1 {
                        options = options.database(name);
                    }
                    if let Some(user) = &parts[3].1 {
                        options = options.username(user);
                    }
                    options
                }
            },
        };
        if let Some(password) = &password {
            options = options.password(password.expose());
        }
        if ssl {
            options = options.ssl_mode(if verify { PgSslMode::VerifyFull } else { PgSslMode::Require });
            if let Some(ca) = &ssl_files[0].1 {
                options = options.ssl_root_cert(ca);
            }
            if let Some(cert) = &ssl_files[1].1 {
                options = options.ssl_client_cert(cert);
            }
            if let Some(key) = &ssl_files[2].1 {
                options = options.ssl_client_key(key);
            }
        }
        let display = format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        Ok(DatabaseConfig::Postgres {
            connect: Secret::new(Box::new(options)),
            display,
            pool_max,
            pool_min,
            acquire_timeout,
        })
    }

    fn keystore(&mut self, data_dir: &Path) -> Result<KeyStoreConfig, ConfigError> {
        let mode = match self.string("ZK_KEYSTORE") {
            None => KeyStoreMode::Auto,
            Some(value) => value.parse().map_err(|()| {
                self.error(
                    "ZK_KEYSTORE",
                    "must be auto, keychain, file or env",
                    "set ZK_KEYSTORE=auto (the OS keychain, else an encrypted file, else environment variables)",
                )
            })?,
        };
        let passphrase = self.secret("ZK_KEYSTORE_PASSPHRASE");
        if let Some(passphrase) = &passphrase {
            let chars = passphrase.expose().chars().count();
            if chars < keystore::MIN_PASSPHRASE_CHARS {
                return Err(self.error(
                    "ZK_KEYSTORE_PASSPHRASE",
                    &format!("is {chars} characters long; at least {} are needed", keystore::MIN_PASSPHRASE_CHARS),
                    "choose a longer passphrase (a few unrelated words work well), or unset it",
                ));
            }
        }
        let file = self.string("ZK_KEYSTORE_FILE").map(PathBuf::from);
        if let Some(file) = &file
            && file.is_dir()
        {
            return Err(self.error(
                "ZK_KEYSTORE_FILE",
                "names a directory",
                "name a file, e.g. ZK_KEYSTORE_FILE=/path/to/agent-keys.enc",
            ));
        }
        Ok(KeyStoreConfig { mode, passphrase, file: file.unwrap_or_else(|| keystore::default_file_path(data_dir)) })
    }

    fn redis(&mut self) -> Result<Option<Secret>, ConfigError> {
        let url = self.url("REDIS_URL", &["redis", "rediss"])?;
        let host = self.string("REDIS_HOST");
        let port = self.port("REDIS_PORT")?.unwrap_or(6379);
        let password = self.secret("REDIS_PASSWORD");
        Ok(match (url, host) {
            (Some(url), _) => Some(Secret::new(url)),
            (None, Some(host)) => {
                let auth = password.map(|p| format!(":{}@", percent_encode(p.expose()))).unwrap_or_default();
                Some(Secret::new(format!("redis://{auth}{host}:{port}/")))
            }
            (None, None) => None,
        })
    }
}

/// The value as `config show` and error messages may print it.
fn shown_value(name: &str, value: &str) -> String {
    if SECRET_NAMES.contains(&name) {
        "<redacted>".to_owned()
    } else if URL_NAMES.contains(&name) {
        redact_url(value)
    } else {
        value.to_owned()
    }
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `1048576`, `512KB`, `100MiB`, `2G`: decimal units for KB/MB/GB, binary for KiB/MiB/GiB and K/M/G.
pub fn parse_size(value: &str) -> Option<u64> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let number: u64 = digits.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(config.port, 3000);
        assert_eq!(config.host.to_string(), "127.0.0.1", "binds loopback by default");
        assert!(
            matches!(&config.database, DatabaseConfig::Sqlite { path } if path == Path::new("/tmp/zk-test-data/zk-agent.db"))
        );
        assert_eq!(config.upload_dir, Path::new("/tmp/zk-test-data/files"));
        assert!(config.redis_url.is_none() && config.fastgpt.is_none());
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
        assert_eq!(config.port, 4000, "environment beats .env");
        assert_eq!(config.upload_dir, Path::new("/d"), ".env beats the config file");
        assert_eq!(config.task_workers, 3, "the config file beats defaults");
        s.flags.insert("PORT".into(), "4500".into());
        assert_eq!(Config::from_sources(&s).expect("valid").port, 4500, "flags beat everything");
        let shown = Config::from_sources(&s).expect("valid").shown;
        let port = shown.iter().find(|s| s.name == "PORT").expect("PORT is shown");
        assert_eq!(port.source, Source::Flag);
    }

    #[test]
    fn bad_values_name_the_variable_the_problem_and_the_fix() {
        let e = error_of(&[("PORT", "abc")]);
        assert_eq!(e.name, "PORT");
        assert!(
            e.to_string().contains("PORT=\"abc\" (from environment): is not a TCP port number; fix: set PORT"),
            "{e}"
        );
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

        let config =
            Config::from_sources(&sources(&[("DATABASE_URL", "postgres://u:s3cr3tpw@h:5433/d")])).expect("valid");
        assert!(!format!("{config:?}").contains("s3cr3tpw"));
        let shown = config.shown.iter().find(|s| s.name == "DATABASE_URL").expect("shown");
        assert_eq!(shown.value.as_deref(), Some("postgres://u:<redacted>@h:5433/d"));
    }

    #[test]
    fn redis_from_parts_encodes_the_password() {
        let config =
            Config::from_sources(&sources(&[("REDIS_HOST", "cache"), ("REDIS_PASSWORD", "p@ss")])).expect("valid");
        assert_eq!(config.redis_url.as_ref().map(|u| u.expose().as_str()), Some("redis://:p%40ss@cache:6379/"));
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
        assert_eq!(Config::from_sources(&development).expect("valid").port, 4001, ".env alone outside production");
        let mut env = home;
        env.insert("NODE_ENV".into(), "production".into());
        let production = ConfigSources::discover_with(flags(), env, dir.path()).expect("sources");
        let config = Config::from_sources(&production).expect("valid");
        assert_eq!(config.port, 4002, ".env.production wins in production");
        assert_eq!(config.upload_dir, Path::new("/from-dotenv"), ".env still fills the rest");
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
        let dotenv =
            [("UPLOAD_DIR", "/srv/zk-files"), ("TASK_WORKERS", "5"), ("PORT", "4100"), ("CAD_MAX_BYTES", "64MiB")];
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
        let rows: Vec<(&str, &str, &str)> =
            shown.iter().map(|r| (r.name, r.value.as_str(), r.source.as_str())).collect();
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
            ("FASTGPT_API_URL", "https://fastgpt.example.com/", "environment"),
            ("FASTGPT_API_KEY", "<redacted>", "environment"),
            ("UPLOAD_DIR", "/srv/zk-uploads", "/srv/zk/.env.production"),
            ("AGENTS_DIR", "(unset)", "default"),
            ("UPLOAD_MAX_BYTES", "(unset)", "default"),
            ("CAD_MAX_BYTES", "64MiB", "/srv/zk/.env"),
            ("CAD_TIME_BUDGET_SECS", "(unset)", "default"),
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
}
