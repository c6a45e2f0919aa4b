//! What a chat stream says, as typed events: FastGPT's detail events and plain OpenAI chunks alike.
//! Unknown events are ignored (servers add events over time); malformed known ones are errors.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ModelApiError;
use crate::sse::Frame;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// Text of the answer, in order. Empty deltas (FastGPT's heartbeats) are not emitted.
    Answer {
        text: String,
    },
    /// Text from a fixed-reply node (FastGPT `fastAnswer`).
    FastAnswer {
        text: String,
    },
    /// Reasoning of a reasoning model (`delta.reasoning_content`).
    Reasoning {
        text: String,
    },
    /// A workflow node started (`flowNodeStatus`).
    NodeStatus {
        status: String,
        name: String,
    },
    /// A tool call as known so far; later events with the same id replace it with more.
    Tool(ToolCall),
    /// Workflow variables changed (`updateVariables`).
    Variables {
        values: Map<String, Value>,
    },
    /// The workflow waits for the user (`interactive`).
    Interactive(Interactive),
    /// Node responses: after each node (`flowNodeResponse`) or all at the end (`flowResponses`).
    NodeResponses {
        nodes: Vec<NodeResponse>,
    },
    WorkflowDuration {
        seconds: f64,
    },
    ChatTitle {
        title: String,
    },
    /// The model finished its answer (`finish_reason`), e.g. `stop` or `length`.
    Finished {
        reason: String,
    },
    /// The stream announced its end (`[DONE]`).
    Done,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ToolCall {
    pub id: String,
    pub tool_name: String,
    pub avatar: Option<String>,
    pub function_name: Option<String>,
    /// The arguments, concatenated from `toolParams` pieces as they arrive.
    pub params: String,
    pub response: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Interactive {
    /// Pick one option; answer with the option's `value`.
    UserSelect { description: String, options: Vec<SelectOption> },
    /// Fill a form; answer with a JSON object of `key: value`.
    UserInput { description: String, fields: Vec<InputField> },
    /// Another kind of interaction this client does not render natively.
    Other { raw: Value },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SelectOption {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InputField {
    /// `input`, `textarea`, `numberInput`, `select`, …
    pub kind: String,
    pub key: String,
    pub label: String,
    pub description: Option<String>,
    pub default_value: Option<Value>,
    pub value_type: Option<String>,
    pub required: bool,
    pub options: Vec<SelectOption>,
    pub max_length: Option<u64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NodeResponse {
    pub node_id: Option<String>,
    pub module_name: Option<String>,
    pub module_type: Option<String>,
    pub running_time: Option<f64>,
    pub total_points: Option<f64>,
    pub tokens: Option<u64>,
    /// Cited knowledge-base passages (`quoteList`).
    pub quotes: Vec<Quote>,
    /// The whole node response as sent.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Quote {
    pub id: Option<String>,
    pub question: String,
    pub answer: String,
    pub source_name: Option<String>,
    pub score: Option<f64>,
}

/// Turns frames into events, keeping what spans frames: tool calls by id, the answer size.
#[derive(Debug)]
pub struct EventDecoder {
    tools: Vec<ToolCall>,
    answer_bytes: usize,
    max_answer_bytes: usize,
    done: bool,
    finished: bool,
}

impl EventDecoder {
    pub fn new(max_answer_bytes: usize) -> Self {
        Self { tools: Vec::new(), answer_bytes: 0, max_answer_bytes, done: false, finished: false }
    }

    /// Whether the stream announced its end (`[DONE]` or a finish reason), so that a close afterwards
    /// is normal and a close before it is a cut.
    pub fn ended(&self) -> bool {
        self.done || self.finished
    }

    pub fn decode(&mut self, frame: &Frame) -> Result<Vec<ChatEvent>, ModelApiError> {
        let name = frame.event.as_deref().unwrap_or("answer");
        if frame.data.trim() == "[DONE]" {
            self.done = true;
            return Ok(vec![ChatEvent::Done]);
        }
        let known = matches!(
            name,
            "answer"
                | "fastAnswer"
                | "flowNodeStatus"
                | "flowResponses"
                | "flowNodeResponse"
                | "toolCall"
                | "toolParams"
                | "toolResponse"
                | "updateVariables"
                | "interactive"
                | "workflowDuration"
                | "chatTitle"
                | "error"
        );
        if !known {
            tracing::debug!(event = name, "ignoring an event this client does not know");
            return Ok(Vec::new());
        }
        if frame.data.trim().is_empty() {
            return Ok(Vec::new());
        }
        let data: Value = serde_json::from_str(&frame.data)
            .map_err(|e| ModelApiError::Malformed(format!("the data of a {name} event is not JSON: {e}")))?;
        if name == "error" || (name == "answer" && data.get("error").is_some_and(|e| !e.is_null())) {
            let error = if name == "error" { &data } else { &data["error"] };
            return Err(ModelApiError::from_body(200, error, None));
        }
        let events = match name {
            "answer" | "fastAnswer" => self.chunk(name, &data)?,
            "flowNodeStatus" => {
                vec![ChatEvent::NodeStatus { status: text(&data, "status"), name: text(&data, "name") }]
            }
            "flowResponses" => {
                let nodes = data.as_array().map(|a| a.iter().map(node_response).collect()).unwrap_or_default();
                vec![ChatEvent::NodeResponses { nodes }]
            }
            "flowNodeResponse" => vec![ChatEvent::NodeResponses { nodes: vec![node_response(&data)] }],
            "toolCall" | "toolParams" | "toolResponse" => vec![self.tool(name, &data)?],
            "updateVariables" => {
                vec![ChatEvent::Variables { values: data.as_object().cloned().unwrap_or_default() }]
            }
            "interactive" => vec![ChatEvent::Interactive(interactive(data.get("interactive").unwrap_or(&data)))],
            "workflowDuration" => {
                vec![ChatEvent::WorkflowDuration { seconds: data["durationSeconds"].as_f64().unwrap_or_default() }]
            }
            "chatTitle" => vec![ChatEvent::ChatTitle { title: text(&data, "title") }],
            _ => Vec::new(),
        };
        Ok(events)
    }

    /// An OpenAI-shaped chunk: `choices[0].delta` with `content` and `reasoning_content`.
    fn chunk(&mut self, name: &str, data: &Value) -> Result<Vec<ChatEvent>, ModelApiError> {
        let Some(choice) = data.get("choices").and_then(|c| c.get(0)) else {
            return Ok(Vec::new()); // usage-only chunks and other shapes carry no text
        };
        let delta = choice.get("delta").or_else(|| choice.get("message")).unwrap_or(&Value::Null);
        let mut events = Vec::new();
        if let Some(reasoning) = delta.get("reasoning_content").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            self.count(reasoning.len())?;
            events.push(ChatEvent::Reasoning { text: reasoning.to_owned() });
        }
        if let Some(content) = delta.get("content").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            self.count(content.len())?;
            let text = content.to_owned();
            events.push(if name == "fastAnswer" { ChatEvent::FastAnswer { text } } else { ChatEvent::Answer { text } });
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finished = true;
            events.push(ChatEvent::Finished { reason: reason.to_owned() });
        }
        Ok(events)
    }

    fn count(&mut self, bytes: usize) -> Result<(), ModelApiError> {
        self.answer_bytes += bytes;
        if self.answer_bytes > self.max_answer_bytes {
            return Err(ModelApiError::TooLarge(self.max_answer_bytes));
        }
        Ok(())
    }

    /// `toolCall` starts a call; `toolParams` appends to its arguments; `toolResponse` sets its result.
    fn tool(&mut self, name: &str, data: &Value) -> Result<ChatEvent, ModelApiError> {
        let tool = data.get("tool").unwrap_or(data);
        let id = tool
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ModelApiError::Malformed(format!("a {name} event has no tool id")))?;
        let index = match self.tools.iter().position(|t| t.id == id) {
            Some(index) => index,
            None => {
                self.tools.push(ToolCall { id: id.to_owned(), ..ToolCall::default() });
                self.tools.len() - 1
            }
        };
        let call = &mut self.tools[index];
        let optional = |key: &str| tool.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(tool_name) = optional("toolName") {
            call.tool_name = tool_name;
        }
        if let Some(avatar) = optional("toolAvatar") {
            call.avatar = Some(avatar);
        }
        if let Some(function) = optional("functionName") {
            call.function_name = Some(function);
        }
        let params = tool.get("params").map(as_text).unwrap_or_default();
        match name {
            "toolParams" => call.params.push_str(&params),
            _ if !params.is_empty() => call.params = params,
            _ => {}
        }
        if let Some(response) = tool.get("response").map(as_text).filter(|r| !r.is_empty()) {
            call.response = Some(response);
        }
        Ok(ChatEvent::Tool(call.clone()))
    }
}

fn text(data: &Value, key: &str) -> String {
    data.get(key).map(as_text).unwrap_or_default()
}

/// A string as it is, anything else as JSON text.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub(crate) fn node_response(raw: &Value) -> NodeResponse {
    let number = |key: &str| raw.get(key).and_then(Value::as_f64);
    let string = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
    let quotes = raw
        .get("quoteList")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|q| Quote {
                    id: q.get("id").or_else(|| q.get("_id")).and_then(Value::as_str).map(str::to_owned),
                    question: text(q, "q"),
                    answer: text(q, "a"),
                    source_name: q.get("sourceName").and_then(Value::as_str).map(str::to_owned),
                    score: q.get("score").and_then(|s| s.as_f64().or_else(|| s.get(0)?.get("value")?.as_f64())),
                })
                .collect()
        })
        .unwrap_or_default();
    NodeResponse {
        node_id: string("nodeId").or_else(|| string("id")),
        module_name: string("moduleName"),
        module_type: string("moduleType"),
        running_time: number("runningTime"),
        total_points: number("totalPoints"),
        tokens: raw.get("tokens").and_then(Value::as_u64),
        quotes,
        raw: raw.clone(),
    }
}

pub(crate) fn interactive(raw: &Value) -> Interactive {
    let params = raw.get("params").unwrap_or(&Value::Null);
    let description = text(params, "description");
    let options = |list: Option<&Value>| -> Vec<SelectOption> {
        list.and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|o| SelectOption {
                        key: o.get("key").map(as_text).unwrap_or_else(|| text(o, "label")),
                        value: text(o, "value"),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match raw.get("type").and_then(Value::as_str) {
        Some("userSelect") => {
            Interactive::UserSelect { description, options: options(params.get("userSelectOptions")) }
        }
        Some("userInput") => {
            let fields = params
                .get("inputForm")
                .and_then(Value::as_array)
                .map(|form| {
                    form.iter()
                        .map(|f| InputField {
                            kind: text(f, "type"),
                            key: text(f, "key"),
                            label: text(f, "label"),
                            description: f.get("description").and_then(Value::as_str).map(str::to_owned),
                            default_value: f.get("defaultValue").filter(|v| !v.is_null()).cloned(),
                            value_type: f.get("valueType").and_then(Value::as_str).map(str::to_owned),
                            required: f.get("required").and_then(Value::as_bool).unwrap_or(false),
                            options: options(f.get("list")),
                            max_length: f.get("maxLength").and_then(Value::as_u64),
                            min: f.get("min").and_then(Value::as_f64),
                            max: f.get("max").and_then(Value::as_f64),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Interactive::UserInput { description, fields }
        }
        _ => Interactive::Other { raw: raw.clone() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(event: Option<&str>, data: Value) -> Frame {
        Frame { event: event.map(str::to_owned), data: data.to_string() }
    }

    fn chunk(content: Value, finish: Value) -> Value {
        json!({"id":"","object":"","created":0,"model":"","choices":[{"delta":{"role":"assistant","content":content},"index":0,"finish_reason":finish}]})
    }

    #[test]
    fn plain_streams_old_and_new_shapes_and_heartbeats() {
        let mut decoder = EventDecoder::new(1 << 20);
        assert_eq!(
            decoder.decode(&frame(None, chunk(json!("你好"), Value::Null))).unwrap(),
            vec![ChatEvent::Answer { text: "你好".into() }]
        );
        assert!(
            decoder.decode(&frame(None, chunk(json!(""), Value::Null))).unwrap().is_empty(),
            "a heartbeat is no event"
        );
        let old = json!({"choices":[{"delta":{"content":"!"},"index":0,"finish_reason":null}]});
        assert_eq!(
            decoder.decode(&frame(None, old)).unwrap(),
            vec![ChatEvent::Answer { text: "!".into() }],
            "old servers omit the role"
        );
        assert!(decoder.decode(&frame(None, json!({"choices":[{"delta":{},"index":0}]}))).unwrap().is_empty());
        assert!(!decoder.ended());
        assert_eq!(
            decoder.decode(&frame(None, chunk(Value::Null, json!("stop")))).unwrap(),
            vec![ChatEvent::Finished { reason: "stop".into() }]
        );
        assert_eq!(decoder.decode(&Frame { event: None, data: "[DONE]".into() }).unwrap(), vec![ChatEvent::Done]);
        assert!(decoder.ended());
    }

    #[test]
    fn detail_events_are_understood() {
        let mut decoder = EventDecoder::new(1 << 20);
        let reasoning =
            json!({"choices":[{"delta":{"reasoning_content":"think","content":""},"index":0,"finish_reason":null}]});
        assert_eq!(
            decoder.decode(&frame(Some("answer"), reasoning)).unwrap(),
            vec![ChatEvent::Reasoning { text: "think".into() }]
        );
        assert_eq!(
            decoder.decode(&frame(Some("fastAnswer"), chunk(json!("固定回复"), Value::Null))).unwrap(),
            vec![ChatEvent::FastAnswer { text: "固定回复".into() }]
        );
        assert_eq!(
            decoder.decode(&frame(Some("flowNodeStatus"), json!({"status":"running","name":"知识库搜索"}))).unwrap(),
            vec![ChatEvent::NodeStatus { status: "running".into(), name: "知识库搜索".into() }]
        );
        assert_eq!(
            decoder.decode(&frame(Some("updateVariables"), json!({"city":"上海"}))).unwrap(),
            vec![ChatEvent::Variables { values: json!({"city":"上海"}).as_object().unwrap().clone() }]
        );
        assert_eq!(
            decoder.decode(&frame(Some("workflowDuration"), json!({"durationSeconds": 1.5}))).unwrap(),
            vec![ChatEvent::WorkflowDuration { seconds: 1.5 }]
        );
        assert_eq!(
            decoder.decode(&frame(Some("chatTitle"), json!({"title":"海报方案"}))).unwrap(),
            vec![ChatEvent::ChatTitle { title: "海报方案".into() }]
        );
        assert!(
            decoder.decode(&frame(Some("somethingNew"), json!({"x":1}))).unwrap().is_empty(),
            "unknown events are ignored"
        );

        let responses = json!([{"nodeId":"n1","moduleName":"AI 对话","moduleType":"chatNode","runningTime":0.8,"totalPoints":0.1,"tokens":42,
            "quoteList":[{"id":"q1","q":"层高多少","a":"3.2 米","sourceName":"规范.pdf","score":[{"type":"embedding","value":0.91}]}]}]);
        let ChatEvent::NodeResponses { nodes } = &decoder.decode(&frame(Some("flowResponses"), responses)).unwrap()[0]
        else {
            panic!("node responses")
        };
        assert_eq!(nodes[0].module_name.as_deref(), Some("AI 对话"));
        assert_eq!(nodes[0].tokens, Some(42));
        assert_eq!(nodes[0].quotes[0].answer, "3.2 米");
        assert_eq!(nodes[0].quotes[0].score, Some(0.91));
        let single = decoder.decode(&frame(Some("flowNodeResponse"), json!({"nodeId":"n2","moduleName":"x"}))).unwrap();
        assert!(matches!(&single[0], ChatEvent::NodeResponses { nodes } if nodes.len() == 1));
    }

    #[test]
    fn tool_calls_merge_by_id() {
        let mut decoder = EventDecoder::new(1 << 20);
        let start = json!({"tool":{"id":"t1","toolName":"查天气","toolAvatar":"a.png","functionName":"weather","params":"","response":""}});
        decoder.decode(&frame(Some("toolCall"), start)).unwrap();
        decoder.decode(&frame(Some("toolParams"), json!({"tool":{"id":"t1","params":"{\"city\":"}}))).unwrap();
        decoder.decode(&frame(Some("toolParams"), json!({"tool":{"id":"t1","params":"\"上海\"}"}}))).unwrap();
        let last = decoder.decode(&frame(Some("toolResponse"), json!({"tool":{"id":"t1","response":"晴"}}))).unwrap();
        assert_eq!(
            last,
            vec![ChatEvent::Tool(ToolCall {
                id: "t1".into(),
                tool_name: "查天气".into(),
                avatar: Some("a.png".into()),
                function_name: Some("weather".into()),
                params: "{\"city\":\"上海\"}".into(),
                response: Some("晴".into()),
            })]
        );
        assert!(
            decoder.decode(&frame(Some("toolParams"), json!({"tool":{"params":"x"}}))).is_err(),
            "a tool event needs its id"
        );
    }

    #[test]
    fn interactive_nodes_become_forms() {
        let mut decoder = EventDecoder::new(1 << 20);
        let select = json!({"interactive":{"type":"userSelect","params":{"description":"选择风格","userSelectOptions":[{"key":"a","value":"极简"},{"key":"b","value":"复古"}]}}});
        assert_eq!(
            decoder.decode(&frame(Some("interactive"), select)).unwrap(),
            vec![ChatEvent::Interactive(Interactive::UserSelect {
                description: "选择风格".into(),
                options: vec![
                    SelectOption { key: "a".into(), value: "极简".into() },
                    SelectOption { key: "b".into(), value: "复古".into() }
                ],
            })]
        );
        let input = json!({"interactive":{"type":"userInput","params":{"description":"填写尺寸","inputForm":[
            {"type":"numberInput","key":"width","label":"宽","valueType":"number","required":true,"min":1,"max":5000,"defaultValue":null},
            {"type":"select","key":"unit","label":"单位","required":false,"list":[{"label":"毫米","value":"mm"}]}]}}});
        let events = decoder.decode(&frame(Some("interactive"), input)).unwrap();
        let ChatEvent::Interactive(Interactive::UserInput { fields, .. }) = &events[0] else {
            panic!("a form: {events:?}")
        };
        assert_eq!((fields[0].key.as_str(), fields[0].required, fields[0].max), ("width", true, Some(5000.0)));
        assert_eq!(fields[1].options, vec![SelectOption { key: "毫米".into(), value: "mm".into() }]);
    }

    #[test]
    fn errors_and_malformed_frames_are_typed() {
        let mut decoder = EventDecoder::new(1 << 20);
        let error = decoder
            .decode(&frame(Some("error"), json!({"code":514,"statusText":"unAuthApiKey","message":"Api Key 不合法"})));
        assert!(matches!(error, Err(ModelApiError::Auth { .. })));
        let in_chunk = decoder.decode(&frame(None, json!({"error":{"message":"model overloaded"}})));
        assert!(matches!(in_chunk, Err(ModelApiError::Upstream { .. })));
        let garbage = decoder.decode(&Frame { event: None, data: "{not json".into() });
        assert!(matches!(garbage, Err(ModelApiError::Malformed(_))));
        let mut small = EventDecoder::new(4);
        assert!(matches!(
            small.decode(&frame(None, chunk(json!("12345"), Value::Null))),
            Err(ModelApiError::TooLarge(4))
        ));
    }
}
