//! Configuration, compatible with the platform's operations manual (PRODUCT.md section 3).
//!
//! Precedence, highest first: command-line flags > environment > `.env` / `.env.production` in the
//! working directory > the TOML config file in the OS config directory > built-in defaults. With nothing
//! set the defaults run fully offline: SQLite and a file store in the OS data directory.
//!
//! Every value remembers where it came from (`zk-agent config show`), and a bad value is an error that
//! names the variable, what is wrong with the value and how to fix it.
//!
//! Each area's settings live in one file: its names with their meanings and whether a value is a secret,
//! defaults, checks and the typed section of [`Config`]. The rows of `config show`, the redaction of
//! secrets and the config file's known keys all come from those declarations, so a new setting is one
//! edit in its section's file.

mod agents;
mod auth;
mod cache;
mod cad;
mod database;
mod files;
mod keystore;
mod logging;
mod server;
mod storage;
mod tasks;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use agents::{AgentsConfig, FastGptConfig};
pub use auth::AuthConfig;
pub use cache::CacheConfig;
pub use cad::{CadBudgets, CadConfig, DEFAULT_CACHE_BYTES, DEFAULT_MAX_BYTES, DEFAULT_TIME_BUDGET};
pub use database::DatabaseConfig;
pub use files::FilesConfig;
pub use keystore::{KeyStoreConfig, KeyStoreMode, MIN_PASSPHRASE_CHARS, default_key_file};
pub use logging::{ErrorMonitorConfig, LogFormat, LoggingConfig};
pub use server::ServerConfig;
pub use storage::{S3Config, StorageConfig};
pub use tasks::TasksConfig;

use crate::secret::{Secret, redact_url};

/// A name the configuration understands, with a one-line meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub meaning: &'static str,
    pub kind: SettingKind,
}

/// How `config show` and error messages may print a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    Plain,
    /// Never printed: `<redacted>`.
    Secret,
    /// A URL that may carry a password, printed with the password redacted.
    Url,
}

impl Setting {
    const fn plain(name: &'static str, meaning: &'static str) -> Self {
        Self { name, meaning, kind: SettingKind::Plain }
    }

    const fn secret(name: &'static str, meaning: &'static str) -> Self {
        Self { name, meaning, kind: SettingKind::Secret }
    }

    const fn url(name: &'static str, meaning: &'static str) -> Self {
        Self { name, meaning, kind: SettingKind::Url }
    }
}

/// The settings about the configuration itself.
const SETTINGS: &[Setting] = &[
    Setting::plain("ZK_DATA_DIR", "data directory (default: the OS data dir)/zk-agent"),
    Setting::plain("NODE_ENV", "production also reads .env.production"),
];

const SECTIONS: &[&[Setting]] = &[
    SETTINGS,
    server::SETTINGS,
    database::SETTINGS,
    auth::SETTINGS,
    agents::SETTINGS,
    files::SETTINGS,
    storage::SETTINGS,
    cad::SETTINGS,
    cache::SETTINGS,
    logging::SETTINGS,
    tasks::SETTINGS,
    keystore::SETTINGS,
];

/// Every setting of every section.
pub fn settings() -> impl Iterator<Item = &'static Setting> {
    SECTIONS.iter().flat_map(|section| section.iter())
}

/// `config show`'s order from before the settings were split by section, kept so its output stays the same.
/// Settings not named here follow these, in section order.
const SHOWN_ORDER: &str = "
    HOST PORT
    DATABASE_URL DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD DB_POOL_MAX DB_POOL_MIN
    DB_SSL DB_SSL_REJECT_UNAUTHORIZED DB_SSL_CA DB_SSL_CERT DB_SSL_KEY DB_ACQUIRE_TIMEOUT_MS
    JWT_ACCESS_SECRET JWT_REFRESH_SECRET ACCESS_TOKEN_TTL_SECS REFRESH_TOKEN_TTL_SECS
    AUTH_HASH_WORKERS AUTH_HASH_QUEUE_MS
    FASTGPT_API_URL FASTGPT_API_KEY UPLOAD_DIR AGENTS_DIR UPLOAD_MAX_BYTES
    S3_ENDPOINT S3_BUCKET S3_REGION S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY S3_PREFIX S3_FORCE_PATH_STYLE
    CAD_MAX_BYTES CAD_TIME_BUDGET_SECS CAD_MAX_INSTANCES CAD_MAX_VERTICES CAD_MAX_SVG_BYTES CAD_WORKERS CAD_QUEUE_SECS
    CAD_DIR CAD_CACHE_BYTES
    REDIS_URL REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_PREFIX
    ERROR_MONITOR_ENABLED ERROR_MONITOR_WEBHOOK_URL ALLOWED_HOSTS HTTP_HEADER_TIMEOUT_SECS HTTP_MAX_CONNECTIONS METRICS_ENABLED METRICS_TOKEN
    TASK_WORKERS TASK_LEASE_SECS
    LOG_FORMAT LOG_LEVEL UI_DIR ZK_DATA_DIR ZK_KEYSTORE ZK_KEYSTORE_PASSPHRASE ZK_KEYSTORE_FILE NODE_ENV
";

/// Every setting, in the order `config show` lists them.
fn shown_order() -> Vec<&'static Setting> {
    let mut settings: Vec<_> = settings().collect();
    // Stable: settings missing from SHOWN_ORDER keep their section order.
    settings.sort_by_key(|s| SHOWN_ORDER.split_whitespace().position(|name| name == s.name).unwrap_or(usize::MAX));
    settings
}

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
        if !settings().any(|known| known.name == name) {
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

/// What the reader recorded of one setting: a name, its (redacted) value and where it came from.
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
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub agents: AgentsConfig,
    pub files: FilesConfig,
    pub storage: StorageConfig,
    pub cad: CadConfig,
    pub cache: CacheConfig,
    pub logging: LoggingConfig,
    pub tasks: TasksConfig,
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
        // In this order, the first bad value of several is the one reported.
        let server = server::read(&mut reader)?;
        let database = database::read(&mut reader, &data_dir)?;
        let auth = auth::read(&mut reader)?;
        let agents = agents::read(&mut reader, &data_dir)?;
        let files = files::read(&mut reader, &data_dir)?;
        let storage = storage::read(&mut reader)?;
        let cad = cad::read(&mut reader, &data_dir)?;
        let cache = cache::read(&mut reader)?;
        let logging = logging::read(&mut reader)?;
        let tasks = tasks::read(&mut reader)?;
        // Read by ConfigSources::discover; recorded here for `config show`.
        reader.string("NODE_ENV");
        let keystore = keystore::read(&mut reader, &data_dir)?;

        Ok(Self {
            data_dir,
            server,
            database,
            auth,
            agents,
            files,
            storage,
            cad,
            cache,
            logging,
            tasks,
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
        shown_order()
            .into_iter()
            .map(|setting| {
                let shown = self.shown.iter().find(|s| s.name == setting.name);
                ShownRow {
                    name: setting.name,
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
    fn raw(&mut self, name: &'static str) -> Option<(String, Source)> {
        let found = self.sources.get_raw(name);
        let shown_value = found.as_ref().map(|(v, _)| shown_value(name, v));
        let source = found.as_ref().map_or(Source::Default, |(_, s)| s.clone());
        self.shown.retain(|s| s.name != name);
        self.shown.push(ShownSetting { name, value: shown_value, source });
        found
    }

    fn string(&mut self, name: &'static str) -> Option<String> {
        self.raw(name).map(|(v, _)| v)
    }

    fn secret(&mut self, name: &'static str) -> Option<Secret> {
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

    fn parse<T: FromStr>(&mut self, name: &'static str, expected: &str, fix: &str) -> Result<Option<T>, ConfigError> {
        match self.string(name) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| self.error(name, &format!("is not {expected}"), fix)),
        }
    }

    fn number(&mut self, name: &'static str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
        let fix = format!("set {name} to a whole number from {min} to {max}");
        let value: Option<u64> = self.parse(name, "a whole number", &fix)?;
        match value {
            Some(v) if v < min || v > max => Err(self.error(name, &format!("is outside {min}..={max}"), &fix)),
            other => Ok(other),
        }
    }

    fn port(&mut self, name: &'static str) -> Result<Option<u16>, ConfigError> {
        let fix = format!("set {name} to a free TCP port from 1 to 65535, e.g. {name}=3000");
        match self.parse::<u16>(name, "a TCP port number", &fix)? {
            Some(0) => Err(self.error(name, "is 0, which is not a usable port", &fix)),
            other => Ok(other),
        }
    }

    fn seconds(&mut self, name: &'static str, min: u64, max: u64) -> Result<Option<Duration>, ConfigError> {
        Ok(self.number(name, min, max)?.map(Duration::from_secs))
    }

    fn bool(&mut self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.string(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => Err(self.error(name, "is not a boolean", &format!("set {name}=true or {name}=false"))),
            },
        }
    }

    fn size(&mut self, name: &'static str) -> Result<Option<u64>, ConfigError> {
        let Some(value) = self.string(name) else { return Ok(None) };
        parse_size(&value).filter(|&n| n > 0).map(Some).ok_or_else(|| {
            self.error(
                name,
                "is not a size",
                &format!("write a positive number of bytes with an optional unit, e.g. {name}=100MiB"),
            )
        })
    }

    fn url(&mut self, name: &'static str, schemes: &[&str]) -> Result<Option<String>, ConfigError> {
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
}

/// The value as `config show` and error messages may print it.
fn shown_value(name: &str, value: &str) -> String {
    match settings().find(|s| s.name == name).map(|s| s.kind) {
        Some(SettingKind::Secret) => "<redacted>".to_owned(),
        Some(SettingKind::Url) => redact_url(value),
        Some(SettingKind::Plain) | None => value.to_owned(),
    }
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
