//! Agents: the watched folder of agent files and the FastGPT deployment they talk to.

use std::path::{Path, PathBuf};

use super::{ConfigError, Reader, Setting};
use crate::secret::Secret;

pub(super) const SETTINGS: &[Setting] = &[
    Setting::plain("AGENTS_DIR", "watched folder of agent files, *.toml and *.json (default: agents/ in the data dir)"),
    Setting::plain("FASTGPT_API_URL", "base URL of the FastGPT deployment"),
    Setting::secret("FASTGPT_API_KEY", "FastGPT API key"),
];

#[derive(Debug, Clone)]
pub struct AgentsConfig {
    /// The watched agents folder: agent files there are applied as they change.
    pub dir: PathBuf,
    pub fastgpt: Option<FastGptConfig>,
}

#[derive(Debug, Clone)]
pub struct FastGptConfig {
    pub base_url: String,
    pub api_key: Option<Secret>,
}

pub(super) fn read(reader: &mut Reader, data_dir: &Path) -> Result<AgentsConfig, ConfigError> {
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
    let dir = reader.string("AGENTS_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("agents"));
    Ok(AgentsConfig { dir, fastgpt })
}
