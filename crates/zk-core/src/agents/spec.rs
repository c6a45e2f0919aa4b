//! [`AgentSpec`]: an agent's whole configuration, as stored, exported and edited; and its validation.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    #[default]
    Chat,
    Poster,
    Cad,
}

impl AgentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Poster => "poster",
            Self::Cad => "cad",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// FastGPT's `/api/v1/chat/completions`; FastGPT keeps the conversation under a `chatId`.
    Fastgpt,
    /// Any OpenAI-compatible `/v1/chat/completions` (a local model server works offline).
    Openai,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fastgpt => "fastgpt",
            Self::Openai => "openai",
        }
    }

    pub fn client_provider(self) -> zk_model_api::Provider {
        match self {
            Self::Fastgpt => zk_model_api::Provider::Fastgpt,
            Self::Openai => zk_model_api::Provider::Openai,
        }
    }
}

/// Model parameters; `None` leaves the provider's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AgentParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// How many tokens of history an OpenAI-compatible agent is sent (FastGPT keeps its own).
    #[serde(default = "default_context_budget")]
    pub context_budget: u32,
    /// FastGPT's detail events (workflow steps, tool calls, quotes); off gives plain answers.
    #[serde(default = "yes")]
    pub detail: bool,
    /// Seconds a stream may stay silent before it counts as stalled.
    #[serde(default = "default_read_idle")]
    pub read_idle_secs: u32,
}

impl Default for AgentParameters {
    fn default() -> Self {
        Self {
            temperature: None,
            max_tokens: None,
            context_budget: default_context_budget(),
            detail: true,
            read_idle_secs: default_read_idle(),
        }
    }
}

fn default_context_budget() -> u32 {
    8000
}

fn default_read_idle() -> u32 {
    60
}

fn yes() -> bool {
    true
}

/// An agent's configuration. The API key is not part of it: it lives in the key store (or an
/// environment variable named here), so exports and history never hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub kind: AgentKind,
    pub provider: ProviderKind,
    pub base_url: String,
    /// FastGPT's app id: needed to import the app's conversation history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The model name an OpenAI-compatible server is asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// An environment variable holding the key, used when the key store has none for this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub system_prompt: String,
    #[serde(default)]
    pub parameters: AgentParameters,
    /// FastGPT workflow variables sent with every message.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[ts(type = "Record<string, unknown>")]
    pub variables: Map<String, Value>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// One thing wrong with a spec: the field (dotted path) and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SpecProblem {
    pub field: String,
    pub message: String,
}

impl SpecProblem {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

const MAX_NAME_CHARS: usize = 64;
const MAX_PROMPT_CHARS: usize = 100_000;

impl AgentSpec {
    /// Trims what users type around values (names, URLs), so the stored form is canonical.
    pub fn normalized(mut self) -> Self {
        self.name = self.name.trim().to_owned();
        self.base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        for field in [&mut self.app_id, &mut self.model, &mut self.api_key_env] {
            *field = field.take().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        }
        self
    }

    /// Every problem at once, so an editor or an import can show them all.
    pub fn problems(&self) -> Vec<SpecProblem> {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            problems.push(SpecProblem::new("name", "give the agent a name"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            problems.push(SpecProblem::new("name", format!("the name is longer than {MAX_NAME_CHARS} characters")));
        } else if name.chars().any(char::is_control) {
            problems.push(SpecProblem::new("name", "the name contains control characters"));
        }
        match reqwest::Url::parse(self.base_url.trim()) {
            Err(error) => problems.push(SpecProblem::new(
                "base_url",
                format!("{:?} is not a URL ({error}); write it like https://fastgpt.example.com", self.base_url),
            )),
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                problems.push(SpecProblem::new("base_url", "the URL must start with http:// or https://"))
            }
            Ok(url) if !url.username().is_empty() || url.password().is_some() => problems.push(SpecProblem::new(
                "base_url",
                "the URL contains credentials; remove them and store the API key in the key store",
            )),
            Ok(url) if url.query().is_some() || url.fragment().is_some() => {
                problems.push(SpecProblem::new("base_url", "the URL must not have a query or fragment"))
            }
            Ok(_) => {}
        }
        if self.provider == ProviderKind::Openai && self.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            problems.push(SpecProblem::new("model", "an OpenAI-compatible agent needs a model name"));
        }
        if let Some(var) = &self.api_key_env {
            if !is_env_name(var) {
                problems.push(SpecProblem::new(
                    "api_key_env",
                    format!(
                        "{var:?} is not an environment variable name (letters, digits and _, not starting with a digit)"
                    ),
                ));
            } else if let Err(error) = (crate::keystore::KeyRef::Env { var: var.clone() }).validate() {
                // The app's own secrets (DB_PASSWORD …) must not be sent to a URL an agent's editor chooses.
                problems.push(SpecProblem::new("api_key_env", error.to_string()));
            }
        }
        if self.system_prompt.chars().count() > MAX_PROMPT_CHARS {
            problems.push(SpecProblem::new(
                "system_prompt",
                format!("the system prompt is longer than {MAX_PROMPT_CHARS} characters"),
            ));
        }
        let p = &self.parameters;
        if let Some(t) = p.temperature
            && !(0.0..=2.0).contains(&t)
        {
            problems.push(SpecProblem::new("parameters.temperature", "temperature is between 0 and 2"));
        }
        if p.max_tokens == Some(0) {
            problems.push(SpecProblem::new("parameters.max_tokens", "max_tokens is at least 1"));
        }
        if !(256..=2_000_000).contains(&p.context_budget) {
            problems.push(SpecProblem::new(
                "parameters.context_budget",
                "context_budget is between 256 and 2000000 tokens",
            ));
        }
        if !(1..=3600).contains(&p.read_idle_secs) {
            problems.push(SpecProblem::new("parameters.read_idle_secs", "read_idle_secs is between 1 and 3600"));
        }
        if self.variables.keys().any(|k| k.trim().is_empty()) {
            problems.push(SpecProblem::new("variables", "a variable has an empty name"));
        }
        problems
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn fastgpt(name: &str) -> AgentSpec {
        AgentSpec {
            name: name.into(),
            description: String::new(),
            kind: AgentKind::Chat,
            provider: ProviderKind::Fastgpt,
            base_url: "https://fastgpt.example.com".into(),
            app_id: None,
            model: None,
            api_key_env: None,
            system_prompt: String::new(),
            parameters: AgentParameters::default(),
            variables: Map::new(),
            enabled: true,
        }
    }

    #[test]
    fn a_plain_fastgpt_agent_is_valid() {
        assert_eq!(fastgpt("Helper").problems(), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut spec = fastgpt(" ");
        spec.provider = ProviderKind::Openai;
        spec.base_url = "ftp://x".into();
        spec.api_key_env = Some("1BAD".into());
        spec.parameters.temperature = Some(3.0);
        let fields: Vec<String> = spec.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["name", "base_url", "model", "api_key_env", "parameters.temperature"]);
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        let mut spec = fastgpt("x");
        spec.base_url = "https://user:secret@fastgpt.example.com".into();
        assert_eq!(spec.problems()[0].field, "base_url", "a key must not hide in the URL");
    }

    #[test]
    fn normalizing_trims_and_drops_empty_optionals() {
        let mut spec = fastgpt("  Helper ");
        spec.base_url = " https://a.example/ ".into();
        spec.model = Some("  ".into());
        let spec = spec.normalized();
        assert_eq!((spec.name.as_str(), spec.base_url.as_str(), spec.model), ("Helper", "https://a.example", None));
    }
}
