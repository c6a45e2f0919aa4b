//! The one place that turns an agent into a model request: what each provider is sent of the
//! agent's configuration. Chat, CAD analysis and the command line all build their requests here.
//!
//! - Both providers get the model, temperature and max tokens.
//! - FastGPT gets its workflow variables (the agent's, then the caller's on top), the `chatId` to
//!   continue, the id the answer will have, and detail events when the agent or the caller asks for
//!   them. It never gets the system prompt: a FastGPT app has its own.
//! - OpenAI-compatible servers get the system prompt as the first message, and nothing FastGPT-only.

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use serde_json::{Map, Value};
use zk_model_api::{ApiKey, ChatRequest, Content, Message, ModelClient, Role};
pub use zk_model_api::{ChatEvent, ChatResponse, Interactive, ModelApiError};

use super::{AgentKind, AgentParameters, AgentSpec, ProviderKind, ResolvedAgent};
use crate::secret::{Secret, redact_url};

/// What a caller adds to the agent's own configuration.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// The conversation's turns to send, ending with the question (no system prompt: that is the
    /// agent's). FastGPT continuing a chat needs only the question.
    pub messages: Vec<Message>,
    /// FastGPT: the chat to continue; FastGPT keeps its history.
    pub chat_id: Option<String>,
    /// FastGPT: the id the answer gets (`responseChatItemId`).
    pub answer_id: Option<String>,
    /// FastGPT: workflow variables over the agent's own (a conversation's, say).
    pub variables: Map<String, Value>,
    /// FastGPT: detail events on or off whatever the agent says; `None` keeps the agent's setting.
    pub detail: Option<bool>,
}

impl Exchange {
    /// A single question, as the command line and an analysis ask it.
    pub fn question(text: impl Into<String>) -> Self {
        Self { messages: vec![Message::user(text.into())], ..Self::default() }
    }
}

impl AgentSpec {
    /// The request this agent sends for `exchange`.
    pub fn model_request(&self, exchange: Exchange) -> ChatRequest {
        let mut request = ChatRequest {
            model: self.model.clone(),
            temperature: self.parameters.temperature,
            max_tokens: self.parameters.max_tokens,
            ..ChatRequest::default()
        };
        match self.provider {
            ProviderKind::Fastgpt => {
                let mut variables = self.variables.clone();
                variables.extend(exchange.variables);
                request.variables = (!variables.is_empty()).then_some(variables);
                request.chat_id = exchange.chat_id;
                request.response_chat_item_id = exchange.answer_id;
                request.detail = exchange.detail.unwrap_or(self.parameters.detail);
                request.messages = exchange.messages;
            }
            ProviderKind::Openai => {
                let system = self.system_prompt.trim();
                if !system.is_empty() {
                    request
                        .messages
                        .push(Message { role: Role::System, content: Content::Text(self.system_prompt.clone()) });
                }
                request.messages.extend(exchange.messages);
            }
        }
        request
    }
}

/// A client of the agent's endpoint with `key`, waiting `read_idle_secs` on a silent stream.
pub(super) fn client_for(spec: &AgentSpec, key: Option<Secret>) -> Result<ModelClient, ModelApiError> {
    Ok(ModelClient::new(spec.provider.client_provider(), &spec.base_url, key.map(|k| ApiKey::new(k.expose().clone())))?
        .with_read_idle(Duration::from_secs(u64::from(spec.parameters.read_idle_secs))))
}

/// What a model API failure means for whoever asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFailure {
    /// `upstream_auth`, `upstream_quota`, `upstream_error`, `upstream_timeout`, `upstream_stalled`,
    /// `upstream_cut`, `upstream_malformed`, `upstream_unreachable`, `upstream_rejected`, `too_large`.
    pub code: &'static str,
    /// Says what happened and, where the user can act, what to do; URLs without credentials.
    pub message: String,
    /// The answer broke off mid-stream: what arrived is worth keeping.
    pub broke_off: bool,
    /// Trying again may help.
    pub retryable: bool,
}

/// Describes a model API failure the same way for chat answers and drawing analyses.
pub fn describe_failure(error: &ModelApiError) -> ModelFailure {
    let (broke_off, code) = match error {
        ModelApiError::Stalled(_) => (true, "upstream_stalled"),
        ModelApiError::Interrupted(_) => (true, "upstream_cut"),
        ModelApiError::Malformed(_) => (true, "upstream_malformed"),
        ModelApiError::TooLarge(_) => (true, "too_large"),
        ModelApiError::Auth { .. } => (false, "upstream_auth"),
        ModelApiError::Quota { .. } => (false, "upstream_quota"),
        ModelApiError::Upstream { .. } => (false, "upstream_error"),
        ModelApiError::Rejected { .. } => (false, "upstream_rejected"),
        ModelApiError::Timeout(_) => (false, "upstream_timeout"),
        ModelApiError::Unreachable(_) => (false, "upstream_unreachable"),
    };
    let message = match error {
        ModelApiError::Auth { .. } => format!("{error}; check the agent's API key"),
        _ => error.to_string(),
    };
    ModelFailure { code, message: redact_url(&message), broke_off, retryable: broke_off || error.is_retryable() }
}

/// An answer as it streams: events, or the error that ended it.
pub type AnswerStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, ModelApiError>> + Send>>;

impl ResolvedAgent {
    /// An agent that is not stored: a provider, an endpoint and perhaps a model and a key, given on
    /// the command line to diagnose a deployment. Plain answers unless the exchange asks for detail.
    pub fn unstored(
        provider: ProviderKind,
        base_url: &str,
        model: Option<String>,
        key: Option<Secret>,
    ) -> Result<Self, ModelApiError> {
        let spec = AgentSpec {
            name: "command line".into(),
            description: String::new(),
            kind: AgentKind::default(),
            provider,
            base_url: base_url.to_owned(),
            app_id: None,
            model,
            api_key_env: None,
            system_prompt: String::new(),
            parameters: AgentParameters { detail: false, ..AgentParameters::default() },
            variables: Map::new(),
            enabled: true,
        };
        let client = client_for(&spec, key)?;
        Ok(Self { id: 0, spec, client })
    }

    /// Asks the agent and streams its answer; `read_idle` overrides how long the stream may stay
    /// silent before it counts as stalled.
    pub async fn ask(&self, exchange: Exchange, read_idle: Option<Duration>) -> Result<AnswerStream, ModelApiError> {
        let request = self.spec.model_request(exchange);
        let client = match read_idle {
            Some(idle) => self.client.clone().with_read_idle(idle),
            None => self.client.clone(),
        };
        let stream = client.chat_stream(&request).await?;
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(provider: ProviderKind) -> AgentSpec {
        AgentSpec {
            name: "a".into(),
            description: String::new(),
            kind: AgentKind::default(),
            provider,
            base_url: "http://127.0.0.1:1".into(),
            app_id: None,
            model: Some("m".into()),
            api_key_env: None,
            system_prompt: "You check drawings.".into(),
            parameters: AgentParameters { temperature: Some(0.2), detail: false, ..Default::default() },
            variables: json!({ "project": "A 栋", "stage": "draft" }).as_object().cloned().unwrap_or_default(),
            enabled: true,
        }
    }

    fn exchange() -> Exchange {
        Exchange {
            chat_id: Some("chat-1".into()),
            answer_id: Some("answer-1".into()),
            variables: json!({ "stage": "final" }).as_object().cloned().unwrap_or_default(),
            detail: Some(true),
            ..Exchange::question("这张图的比例是多少？")
        }
    }

    #[test]
    fn fastgpt_gets_variables_chat_and_detail_but_no_system_prompt() {
        let request = spec(ProviderKind::Fastgpt).model_request(exchange());
        let variables = request.variables.expect("FastGPT gets the variables");
        assert_eq!(variables.get("project"), Some(&json!("A 栋")), "the agent's own");
        assert_eq!(variables.get("stage"), Some(&json!("final")), "the caller's win over the agent's");
        assert_eq!(request.chat_id.as_deref(), Some("chat-1"));
        assert_eq!(request.response_chat_item_id.as_deref(), Some("answer-1"));
        assert!(request.detail, "the caller asked for detail events");
        assert_eq!(request.messages.len(), 1, "only the question: {:?}", request.messages);
        assert_eq!(request.messages[0].role, Role::User);
        assert_eq!((request.model.as_deref(), request.temperature), (Some("m"), Some(0.2)));
    }

    #[test]
    fn openai_gets_the_system_prompt_and_nothing_fastgpt_only() {
        let request = spec(ProviderKind::Openai).model_request(exchange());
        assert_eq!(request.variables, None, "OpenAI-compatible servers get no workflow variables");
        assert_eq!((request.chat_id, request.response_chat_item_id), (None, None));
        assert!(!request.detail);
        assert_eq!(request.messages.len(), 2);
        assert_eq!(request.messages[0].role, Role::System);
        assert_eq!(request.messages[0].content, Content::Text("You check drawings.".into()));
        assert_eq!(request.messages[1].role, Role::User);
        assert_eq!((request.model.as_deref(), request.temperature), (Some("m"), Some(0.2)));
    }

    #[test]
    fn an_empty_system_prompt_and_no_variables_send_nothing() {
        let mut openai = spec(ProviderKind::Openai);
        openai.system_prompt = "  ".into();
        assert_eq!(openai.model_request(Exchange::question("q")).messages.len(), 1);
        let mut fastgpt = spec(ProviderKind::Fastgpt);
        fastgpt.variables.clear();
        assert_eq!(fastgpt.model_request(Exchange::question("q")).variables, None);
    }

    #[test]
    fn fastgpt_detail_follows_the_agent_unless_the_caller_says() {
        let mut agent = spec(ProviderKind::Fastgpt);
        agent.parameters.detail = true;
        assert!(agent.model_request(Exchange::question("q")).detail, "the agent's setting");
        let plain = Exchange { detail: Some(false), ..Exchange::question("q") };
        assert!(!agent.model_request(plain).detail, "the caller's word wins");
    }
}
