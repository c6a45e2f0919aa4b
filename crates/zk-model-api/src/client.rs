//! The HTTP client: one type for FastGPT (`/api/v1/chat/completions`) and OpenAI-compatible servers
//! (`/v1/chat/completions`), streaming or not.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ModelApiError;
use crate::events::{ChatEvent, EventDecoder, Interactive, NodeResponse, interactive, node_response};
use crate::sse::SseDecoder;

/// Largest single SSE event accepted.
const MAX_FRAME_BYTES: usize = 1 << 20;
/// Largest answer (text plus reasoning) accepted from one stream.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Largest error body read.
const MAX_ERROR_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// FastGPT's OpenAPI: `{base}/api/v1/chat/completions`, detail events, chatId, variables.
    Fastgpt,
    /// Any OpenAI-compatible server: `{base}/v1/chat/completions`.
    Openai,
}

/// An API key; `Debug` never shows it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: ImageUrl,
    },
    /// A file at a URL the provider can reach (FastGPT); sent as a text mention to OpenAI servers.
    FileUrl {
        name: String,
        url: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Content,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Self { role: Role::User, content: Content::Text(text.into()) }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    /// OpenAI-compatible servers need it; FastGPT ignores it.
    pub model: Option<String>,
    /// FastGPT keeps the history of this chat and reads only the last message.
    pub chat_id: Option<String>,
    /// FastGPT's named detail events.
    pub detail: bool,
    pub variables: Option<Map<String, Value>>,
    pub response_chat_item_id: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
}

/// A whole (non-streamed) answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatResponse {
    pub text: String,
    pub reasoning: String,
    pub finish_reason: Option<String>,
    pub interactive: Option<Interactive>,
    pub nodes: Vec<NodeResponse>,
    pub variables: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct ModelClient {
    http: reqwest::Client,
    provider: Provider,
    base_url: String,
    api_key: Option<ApiKey>,
    /// A stream with no bytes for this long is stalled.
    read_idle: Duration,
    /// A whole non-streamed answer, or the first byte of a stream, must come within this.
    request_timeout: Duration,
}

impl ModelClient {
    pub fn new(provider: Provider, base_url: &str, api_key: Option<ApiKey>) -> Result<Self, ModelApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ModelApiError::Unreachable(e.to_string()))?;
        Ok(Self {
            http,
            provider,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            read_idle: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
        })
    }

    /// Sets the read-idle limit of streams (FastGPT sends a heartbeat every 10 s, so 60 s is generous).
    pub fn with_read_idle(mut self, limit: Duration) -> Self {
        self.read_idle = limit;
        self
    }

    pub fn with_request_timeout(mut self, limit: Duration) -> Self {
        self.request_timeout = limit;
        self
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    fn completions_url(&self) -> String {
        match self.provider {
            Provider::Fastgpt => format!("{}/api/v1/chat/completions", self.base_url),
            Provider::Openai => format!("{}/v1/chat/completions", self.base_url),
        }
    }

    fn body(&self, request: &ChatRequest, stream: bool) -> Value {
        match self.provider {
            Provider::Fastgpt => {
                let mut body = json!({ "stream": stream, "detail": request.detail, "messages": request.messages });
                if let Some(chat_id) = &request.chat_id {
                    body["chatId"] = json!(chat_id);
                }
                if let Some(id) = &request.response_chat_item_id {
                    body["responseChatItemId"] = json!(id);
                }
                if let Some(variables) = &request.variables {
                    body["variables"] = Value::Object(variables.clone());
                }
                body
            }
            Provider::Openai => {
                let messages: Vec<Value> = request.messages.iter().map(openai_message).collect();
                let mut body = json!({ "model": request.model.clone().unwrap_or_default(), "stream": stream, "messages": messages });
                if let Some(t) = request.temperature {
                    body["temperature"] = json!(t);
                }
                if let Some(m) = request.max_tokens {
                    body["max_tokens"] = json!(m);
                }
                body
            }
        }
    }

    fn post(&self, url: String, body: &Value) -> reqwest::RequestBuilder {
        let request = self.http.post(url).json(body);
        match &self.api_key {
            Some(key) => request.bearer_auth(&key.0),
            None => request,
        }
    }

    async fn send(&self, url: String, body: &Value) -> Result<reqwest::Response, ModelApiError> {
        let sent = tokio::time::timeout(self.request_timeout, self.post(url, body).send()).await;
        let response = sent.map_err(|_| ModelApiError::Timeout(self.request_timeout))?.map_err(transport)?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_response(response).await)
    }

    /// Streams the answer. The stream yields events until the server ends it; a cut, a stall, a
    /// malformed frame or an error event ends it with an error (events received before stay valid).
    pub async fn chat_stream(
        &self,
        request: &ChatRequest,
    ) -> Result<impl Stream<Item = Result<ChatEvent, ModelApiError>> + Send + 'static, ModelApiError> {
        let response = self.send(self.completions_url(), &self.body(request, true)).await?;
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            // HTTP 200 with a JSON body instead of a stream: FastGPT's way of reporting some failures.
            let body = read_capped(response).await?;
            let value: Value = serde_json::from_slice(&body).map_err(|e| ModelApiError::Malformed(e.to_string()))?;
            return Err(ModelApiError::from_body(200, value.get("error").unwrap_or(&value), None));
        }
        let state = StreamState {
            body: Box::pin(response.bytes_stream()),
            sse: SseDecoder::new(MAX_FRAME_BYTES),
            events: EventDecoder::new(MAX_ANSWER_BYTES),
            queue: VecDeque::new(),
            failure: None,
            read_idle: self.read_idle,
            over: false,
        };
        Ok(futures_util::stream::unfold(state, |mut state| async move { state.next().await.map(|item| (item, state)) }))
    }

    /// The whole answer at once (`stream: false`).
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelApiError> {
        let response = self.send(self.completions_url(), &self.body(request, false)).await?;
        let body = read_capped_to(response, MAX_ANSWER_BYTES * 2).await?;
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| ModelApiError::Malformed(format!("the answer is not JSON: {e}")))?;
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return Err(ModelApiError::from_body(200, error, None));
        }
        let choice = value
            .get("choices")
            .and_then(|c| c.get(0))
            .ok_or_else(|| ModelApiError::Malformed("the answer has no choices".into()))?;
        let message = &choice["message"];
        let mut answer = ChatResponse {
            finish_reason: choice.get("finish_reason").and_then(Value::as_str).map(str::to_owned),
            reasoning: message.get("reasoning_content").and_then(Value::as_str).unwrap_or_default().to_owned(),
            nodes: value
                .get("responseData")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(node_response).collect())
                .unwrap_or_default(),
            variables: value.get("newVariables").and_then(Value::as_object).cloned().unwrap_or_default(),
            ..ChatResponse::default()
        };
        match &message["content"] {
            Value::String(text) => answer.text = text.clone(),
            // FastGPT with detail and several parts: text, tool, interactive and reasoning items.
            Value::Array(items) => {
                for item in items {
                    match item.get("type").and_then(Value::as_str) {
                        Some("text") => answer.text.push_str(item["text"]["content"].as_str().unwrap_or_default()),
                        Some("reasoning") => {
                            answer.reasoning.push_str(item["reasoning"]["content"].as_str().unwrap_or_default())
                        }
                        Some("interactive") => answer.interactive = Some(interactive(&item["interactive"])),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(answer)
    }

    /// A cheap call that checks reachability and the key without a model call: FastGPT's
    /// `getHistories` with `pageSize: 1`, or an OpenAI server's model list. Returns the latency.
    pub async fn probe(&self) -> Result<Duration, ModelApiError> {
        let started = Instant::now();
        match self.provider {
            Provider::Fastgpt => {
                let url = format!("{}/api/core/chat/getHistories", self.base_url);
                let response =
                    self.send(url, &json!({ "appId": "", "offset": 0, "pageSize": 1, "source": "api" })).await?;
                let body = read_capped(response).await?;
                let value: Value =
                    serde_json::from_slice(&body).map_err(|e| ModelApiError::Malformed(e.to_string()))?;
                match value.get("code").and_then(Value::as_i64) {
                    Some(200) | None => Ok(started.elapsed()),
                    Some(_) => Err(ModelApiError::from_body(200, &value, None)),
                }
            }
            Provider::Openai => {
                let request = self.http.get(format!("{}/v1/models", self.base_url));
                let request = match &self.api_key {
                    Some(key) => request.bearer_auth(&key.0),
                    None => request,
                };
                let response = tokio::time::timeout(self.request_timeout, request.send())
                    .await
                    .map_err(|_| ModelApiError::Timeout(self.request_timeout))?
                    .map_err(transport)?;
                if !response.status().is_success() {
                    return Err(error_response(response).await);
                }
                Ok(started.elapsed())
            }
        }
    }
}

/// One conversation in a FastGPT app's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub chat_id: String,
    /// The custom title when the user set one, else FastGPT's title.
    pub title: String,
    pub top: bool,
    pub update_time: Option<String>,
}

/// One message of a FastGPT conversation (`obj` Human or AI), its text parts joined.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordItem {
    pub data_id: String,
    pub human: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

impl ModelClient {
    /// A page of a FastGPT app's conversations (`getHistories`).
    pub async fn histories(
        &self,
        app_id: &str,
        offset: u64,
        page_size: u64,
    ) -> Result<Page<HistoryItem>, ModelApiError> {
        let body = json!({ "appId": app_id, "offset": offset, "pageSize": page_size, "source": "api" });
        let data =
            self.fastgpt_data("/api/core/chat/getHistories", "/api/core/chat/history/getHistories", &body).await?;
        let items = list_of(&data)
            .iter()
            .filter_map(|item| {
                let chat_id = item.get("chatId")?.as_str()?.to_owned();
                let custom = item.get("customTitle").and_then(Value::as_str).filter(|t| !t.is_empty());
                let title = custom.or_else(|| item.get("title").and_then(Value::as_str)).unwrap_or_default().to_owned();
                let top = item.get("top").and_then(Value::as_bool).unwrap_or(false);
                let update_time = item.get("updateTime").and_then(Value::as_str).map(str::to_owned);
                Some(HistoryItem { chat_id, title, top, update_time })
            })
            .collect();
        Ok(Page { items, total: data.get("total").and_then(Value::as_u64).unwrap_or(0) })
    }

    /// A page of one FastGPT conversation's messages, oldest first (`getPaginationRecords`).
    pub async fn records(
        &self,
        app_id: &str,
        chat_id: &str,
        offset: u64,
        page_size: u64,
    ) -> Result<Page<RecordItem>, ModelApiError> {
        let body = json!({ "appId": app_id, "chatId": chat_id, "offset": offset, "pageSize": page_size });
        let data = self
            .fastgpt_data("/api/core/chat/getPaginationRecords", "/api/core/chat/record/getPaginationRecords", &body)
            .await?;
        let items = list_of(&data)
            .iter()
            .filter_map(|item| {
                let data_id = item.get("dataId").or_else(|| item.get("_id"))?.as_str()?.to_owned();
                let human = item.get("obj").and_then(Value::as_str) == Some("Human");
                let text = item
                    .get("value")
                    .and_then(Value::as_array)
                    .map(|parts| {
                        parts
                            .iter()
                            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                            .filter_map(|p| p.pointer("/text/content").and_then(Value::as_str))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                Some(RecordItem { data_id, human, text })
            })
            .collect();
        Ok(Page { items, total: data.get("total").and_then(Value::as_u64).unwrap_or(0) })
    }

    /// POSTs to a FastGPT API that answers `{code, data}`; a 404 retries the newer path.
    async fn fastgpt_data(&self, path: &str, newer_path: &str, body: &Value) -> Result<Value, ModelApiError> {
        let response = match self.send(format!("{}{path}", self.base_url), body).await {
            Err(ModelApiError::Rejected { status: 404, .. }) | Err(ModelApiError::Upstream { status: 404, .. }) => {
                self.send(format!("{}{newer_path}", self.base_url), body).await?
            }
            other => other?,
        };
        let bytes = read_capped_to(response, MAX_ANSWER_BYTES).await?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| ModelApiError::Malformed(e.to_string()))?;
        match value.get("code").and_then(Value::as_i64) {
            Some(200) | None => Ok(value.get("data").cloned().unwrap_or(Value::Null)),
            Some(_) => Err(ModelApiError::from_body(200, &value, None)),
        }
    }
}

fn list_of(data: &Value) -> Vec<Value> {
    data.get("list").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// A message as OpenAI-compatible servers take it: file parts become a text mention.
fn openai_message(message: &Message) -> Value {
    let content = match &message.content {
        Content::Text(text) => json!(text),
        Content::Parts(parts) => Value::Array(
            parts
                .iter()
                .map(|part| match part {
                    Part::FileUrl { name, url } => json!({ "type": "text", "text": format!("[file {name}: {url}]") }),
                    other => json!(other),
                })
                .collect(),
        ),
    };
    json!({ "role": message.role, "content": content })
}

struct StreamState {
    body: std::pin::Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    sse: SseDecoder,
    events: EventDecoder,
    /// Events decoded and not yet handed out; they come before a failure that followed them.
    queue: VecDeque<ChatEvent>,
    failure: Option<ModelApiError>,
    read_idle: Duration,
    /// Nothing more will be read (the stream ended or failed).
    over: bool,
}

impl StreamState {
    async fn next(&mut self) -> Option<Result<ChatEvent, ModelApiError>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(Ok(event));
            }
            if let Some(failure) = self.failure.take() {
                return Some(Err(failure));
            }
            if self.over {
                return None;
            }
            match tokio::time::timeout(self.read_idle, self.body.next()).await {
                Err(_) => self.fail(ModelApiError::Stalled(self.read_idle)),
                Ok(Some(Err(error))) => self.fail(ModelApiError::Interrupted(error.to_string())),
                Ok(Some(Ok(chunk))) => match self.sse.push(&chunk) {
                    Ok(frames) => frames.iter().for_each(|frame| self.decode(frame)),
                    Err(error) => self.fail(ModelApiError::Malformed(error.to_string())),
                },
                Ok(None) => {
                    match self.sse.finish() {
                        Ok(Some(frame)) => self.decode(&frame),
                        Ok(None) => {}
                        Err(error) => self.fail(ModelApiError::Malformed(error.to_string())),
                    }
                    if !self.events.ended() {
                        self.fail(ModelApiError::Interrupted("the connection closed before the answer ended".into()));
                    }
                    self.over = true;
                }
            }
        }
    }

    fn decode(&mut self, frame: &crate::sse::Frame) {
        if self.failure.is_some() {
            return;
        }
        match self.events.decode(frame) {
            Ok(events) => self.queue.extend(events),
            Err(error) => self.fail(error),
        }
    }

    /// Ends the stream with `error`, after the events decoded before it.
    fn fail(&mut self, error: ModelApiError) {
        self.over = true;
        self.failure.get_or_insert(error);
    }
}

fn transport(error: reqwest::Error) -> ModelApiError {
    if error.is_timeout() {
        ModelApiError::Timeout(Duration::ZERO)
    } else {
        ModelApiError::Unreachable(error.to_string())
    }
}

async fn error_response(response: reqwest::Response) -> ModelApiError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_capped(response).await.unwrap_or_default();
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    ModelApiError::from_body(status, &value, retry_after)
}

async fn read_capped(response: reqwest::Response) -> Result<Vec<u8>, ModelApiError> {
    read_capped_to(response, MAX_ERROR_BODY).await
}

async fn read_capped_to(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ModelApiError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ModelApiError::Interrupted(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ModelApiError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
