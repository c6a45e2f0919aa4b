//! A test double of the model APIs, written to FastGPT's published protocol
//! (`shared/fastgpt/PROTOCOL.md`) and to the OpenAI-compatible one, served over real HTTP on
//! 127.0.0.1. The last user message picks the scenario, so a test says what it wants in plain words:
//! `plain`, `interactive`, `error-200`, `stream-error`, `stall`, `cut`, `malformed`, `slow` (one chunk
//! every 100 ms for 6 s, to stop mid-answer), `bench <chunks> <interval_us>` (each chunk carries the
//! time it was written, `⏱<unix nanos>;`, for latency measurements).
//!
//! History APIs: app id `app-history` has two conversations with messages; any other app has none.
//!
//! Keys: `fastgpt-good` / `sk-good` work; `fastgpt-bad` is an unknown key (HTTP 500, code 514),
//! `fastgpt-broke` is out of quota (code 510), `sk-bad` is refused (401), `sk-limit` is rate limited
//! (429 with Retry-After). No key at all is FastGPT's 403 `unAuthorization`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// A request the double received: path, Authorization header and JSON body.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Received>>>);

pub struct ModelDouble {
    pub base: String,
    recorder: Recorder,
    server: tokio::task::JoinHandle<()>,
}

impl ModelDouble {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Serves on `address` (`127.0.0.1:0` for any free port).
    pub async fn start_on(address: &str) -> Self {
        let recorder = Recorder::default();
        let app = Router::new()
            .route("/api/v1/chat/completions", post(fastgpt_completions))
            .route("/api/core/chat/getHistories", post(fastgpt_histories))
            .route("/api/core/chat/getPaginationRecords", post(fastgpt_records))
            .route("/v1/chat/completions", post(openai_completions))
            .route("/v1/models", get(openai_models))
            .with_state(recorder.clone());
        let listener = tokio::net::TcpListener::bind(address).await.expect("bind the double");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, recorder, server }
    }

    pub fn received(&self) -> Vec<Received> {
        self.recorder.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for ModelDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn record(recorder: &Recorder, path: &str, headers: &HeaderMap, body: &Value) {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    recorder.0.lock().unwrap_or_else(|p| p.into_inner()).push(Received {
        path: path.to_owned(),
        authorization,
        body: body.clone(),
    });
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// FastGPT's error envelope: `{code, statusText, message, data: null}`.
fn fastgpt_error(status: StatusCode, code: i64, status_text: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "code": code, "statusText": status_text, "message": message, "data": null })))
        .into_response()
}

fn fastgpt_auth(headers: &HeaderMap) -> Result<(), Response> {
    match bearer(headers) {
        None => Err(fastgpt_error(StatusCode::FORBIDDEN, 403, "unAuthorization", "unAuthorization")),
        Some("fastgpt-bad") => {
            Err(fastgpt_error(StatusCode::INTERNAL_SERVER_ERROR, 514, "unAuthApiKey", "Api Key 不合法"))
        }
        Some("fastgpt-broke") => {
            Err(fastgpt_error(StatusCode::INTERNAL_SERVER_ERROR, 510, "insufficientQuota", "insufficientQuota"))
        }
        Some(_) => Ok(()),
    }
}

fn last_user_text(body: &Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.iter().rev().find(|m| m["role"] == "user").cloned().unwrap_or(Value::Null);
    match &last["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

fn chunk(content: Value, finish: Value) -> Value {
    json!({"id":"","object":"","created":0,"model":"","choices":[{"delta":{"role":"assistant","content":content},"index":0,"finish_reason":finish}]})
}

fn frame(event: Option<&str>, data: &str) -> String {
    match event {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// What ends a scripted stream.
enum Ending {
    Close,
    /// Stop sending and keep the connection open.
    Stall,
    /// Break the connection mid-body.
    Cut,
}

fn sse(frames: Vec<String>, ending: Ending) -> Response {
    let chunks = futures_util::stream::iter(frames.into_iter().map(Ok::<_, std::io::Error>));
    let body: futures_util::stream::BoxStream<'static, Result<String, std::io::Error>> = match ending {
        Ending::Close => chunks.boxed(),
        Ending::Stall => chunks.chain(futures_util::stream::pending()).boxed(),
        // After a pause, so the frames before it are on the wire, as in a real network failure.
        Ending::Cut => chunks
            .chain(futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::other("cut"))
            }))
            .boxed(),
    };
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream;charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache, no-transform")
        .header("x-accel-buffering", "no")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn node_responses() -> Value {
    json!([{"nodeId":"n1","moduleName":"知识库搜索","moduleType":"datasetSearchNode","runningTime":0.2,"totalPoints":0,
        "quoteList":[{"id":"q1","q":"标准层高","a":"3.2 米","sourceName":"设计规范.pdf","score":[{"type":"embedding","value":0.88}]}]},
        {"nodeId":"n2","moduleName":"AI 对话","moduleType":"chatNode","runningTime":1.1,"totalPoints":0.3,"tokens":128}])
}

async fn fastgpt_completions(State(recorder): State<Recorder>, headers: HeaderMap, body: String) -> Response {
    let body: Value = match serde_json::from_str(&body) {
        Ok(body) => body,
        Err(_) => return fastgpt_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "error", "messages is not array"),
    };
    record(&recorder, "/api/v1/chat/completions", &headers, &body);
    if let Err(response) = fastgpt_auth(&headers) {
        return response;
    }
    if body["messages"].as_array().is_none_or(|m| m.is_empty()) {
        return fastgpt_error(StatusCode::INTERNAL_SERVER_ERROR, 500, "error", "messages is empty");
    }
    let scenario = last_user_text(&body);
    let stream = body["stream"].as_bool().unwrap_or(false);
    let detail = body["detail"].as_bool().unwrap_or(false);
    if scenario.contains("error-200") {
        // A failed workflow node: HTTP 200 with an error field.
        return (StatusCode::OK, axum::Json(json!({ "error": { "message": "工作流节点运行失败", "code": 500 } })))
            .into_response();
    }
    if !stream {
        let mut answer = json!({"id": body["chatId"].as_str().unwrap_or(""), "model": "", "usage": {"prompt_tokens":1,"completion_tokens":1,"total_tokens":1},
            "choices": [{"message": {"role": "assistant", "content": "你好，设计师"}, "finish_reason": "stop", "index": 0}]});
        if detail {
            answer["responseData"] = node_responses();
            answer["newVariables"] = json!({ "style": "极简" });
            if scenario.contains("interactive") {
                answer["choices"][0]["message"]["content"] = json!([
                    {"type":"text","text":{"content":"请选择"}},
                    {"type":"interactive","interactive":{"type":"userSelect","params":{"description":"选择风格","userSelectOptions":[{"key":"a","value":"极简"}]}}}
                ]);
            }
        }
        return axum::Json(answer).into_response();
    }

    let named = |name: &'static str| detail.then_some(name);
    if scenario.split_whitespace().any(|w| w == "bench") {
        return bench_stream(&scenario, named("answer"));
    }
    if scenario.contains("slow") {
        return slow_stream(named("answer"));
    }
    let mut frames = Vec::new();
    if detail {
        frames.push(frame(Some("flowNodeStatus"), &json!({"status":"running","name":"AI 对话"}).to_string()));
        let reasoning = json!({"choices":[{"delta":{"role":"assistant","reasoning_content":"先看需求","content":""},"index":0,"finish_reason":null}]});
        frames.push(frame(Some("answer"), &reasoning.to_string()));
    }
    frames.push(frame(named("answer"), &chunk(json!("你好，"), Value::Null).to_string()));
    // The heartbeat FastGPT sends every 10 s: an answer chunk with empty content.
    frames.push(frame(named("answer"), &chunk(json!(""), Value::Null).to_string()));
    if scenario.contains("stream-error") {
        frames
            .push(frame(Some("error"), &json!({"code":500,"statusText":"error","message":"网络连接异常"}).to_string()));
        return sse(frames, Ending::Close);
    }
    if scenario.contains("stall") {
        return sse(frames, Ending::Stall);
    }
    if scenario.contains("cut") {
        return sse(frames, Ending::Cut);
    }
    if scenario.contains("malformed") {
        frames.push("data: {\"choices\": [oops\n\n".to_owned());
        return sse(frames, Ending::Close);
    }
    if detail {
        let tool = |event: &'static str, tool: Value| frame(Some(event), &json!({ "tool": tool }).to_string());
        frames.push(tool(
            "toolCall",
            json!({"id":"t1","toolName":"查询规范","toolAvatar":"","functionName":"search","params":"","response":""}),
        ));
        frames.push(tool("toolParams", json!({"id":"t1","params":"{\"q\":"})));
        frames.push(tool("toolParams", json!({"id":"t1","params":"\"层高\"}"})));
        frames.push(tool("toolResponse", json!({"id":"t1","response":"3.2 米"})));
        frames.push(frame(Some("fastAnswer"), &chunk(json!("（引用规范）"), Value::Null).to_string()));
        frames.push(frame(Some("updateVariables"), &json!({"style":"极简"}).to_string()));
        frames.push(frame(Some("somethingNewer"), &json!({"ignored": true}).to_string()));
        if scenario.contains("interactive") {
            let form = json!({"interactive":{"type":"userInput","params":{"description":"填写尺寸","inputForm":[
                {"type":"numberInput","key":"width","label":"宽","valueType":"number","required":true,"min":1,"max":5000}]}}});
            frames.push(frame(Some("interactive"), &form.to_string()));
        }
    }
    frames.push(frame(named("answer"), &chunk(json!("设计师"), Value::Null).to_string()));
    frames.push(frame(named("answer"), &chunk(Value::Null, json!("stop")).to_string()));
    frames.push(frame(named("answer"), "[DONE]"));
    if detail {
        // With detail, [DONE] is not the last frame.
        frames.push(frame(Some("flowResponses"), &node_responses().to_string()));
        frames.push(frame(Some("workflowDuration"), &json!({"durationSeconds": 1.4}).to_string()));
        frames.push(frame(Some("chatTitle"), &json!({"title":"层高问题"}).to_string()));
    }
    sse(frames, Ending::Close)
}

/// One chunk every 100 ms for 6 s: long enough to stop it halfway.
fn slow_stream(event: Option<&'static str>) -> Response {
    let chunks = futures_util::stream::unfold(0u32, move |n| async move {
        if n > 60 {
            return None;
        }
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let frame = if n == 60 {
            frame(event, &chunk(Value::Null, json!("stop")).to_string()) + &frame(event, "[DONE]")
        } else {
            frame(event, &chunk(json!(format!("字{n} ")), Value::Null).to_string())
        };
        Some((Ok::<_, std::io::Error>(frame), n + 1))
    });
    stream_response(chunks.boxed())
}

/// `bench <chunks> <interval_us>`: chunks stamped with the wall-clock time they are written.
fn bench_stream(scenario: &str, event: Option<&'static str>) -> Response {
    let mut words = scenario.split_whitespace().skip_while(|w| *w != "bench").skip(1);
    let chunks: u32 = words.next().and_then(|w| w.parse().ok()).unwrap_or(100).min(1_000_000);
    let interval = Duration::from_micros(words.next().and_then(|w| w.parse().ok()).unwrap_or(1000));
    let stream = futures_util::stream::unfold(0u32, move |n| async move {
        if n > chunks {
            return None;
        }
        if n > 0 && !interval.is_zero() {
            tokio::time::sleep(interval).await;
        }
        let frame = if n == chunks {
            frame(event, &chunk(Value::Null, json!("stop")).to_string()) + &frame(event, "[DONE]")
        } else {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            frame(event, &chunk(json!(format!("⏱{nanos};")), Value::Null).to_string())
        };
        Some((Ok::<_, std::io::Error>(frame), n + 1))
    });
    stream_response(stream.boxed())
}

fn stream_response(body: futures_util::stream::BoxStream<'static, Result<String, std::io::Error>>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream;charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache, no-transform")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn fastgpt_histories(
    State(recorder): State<Recorder>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    record(&recorder, "/api/core/chat/getHistories", &headers, &body);
    if let Err(response) = fastgpt_auth(&headers) {
        return response;
    }
    let list = if body["appId"] == "app-history" {
        let offset = body["offset"].as_u64().unwrap_or(0) as usize;
        let size = body["pageSize"].as_u64().unwrap_or(10) as usize;
        let all = [
            json!({"chatId":"hist-1","updateTime":"2026-11-20T10:00:00.000Z","appId":"app-history","customTitle":"","title":"幕墙节点讨论","top":true}),
            json!({"chatId":"hist-2","updateTime":"2026-11-21T10:00:00.000Z","appId":"app-history","customTitle":"海报配色","title":"poster","top":false}),
        ];
        all.into_iter().skip(offset).take(size).collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    let total = if body["appId"] == "app-history" { 2 } else { 0 };
    axum::Json(json!({"code":200,"statusText":"","message":"","data":{"list":list,"total":total}})).into_response()
}

async fn fastgpt_records(
    State(recorder): State<Recorder>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    record(&recorder, "/api/core/chat/getPaginationRecords", &headers, &body);
    if let Err(response) = fastgpt_auth(&headers) {
        return response;
    }
    let text = |t: &str| json!([{"type":"text","text":{"content":t}}]);
    let list = match body["chatId"].as_str() {
        Some("hist-1") => vec![
            json!({"_id":"r1","dataId":"d1","obj":"Human","value":text("幕墙节点怎么画？")}),
            json!({"_id":"r2","dataId":"d2","obj":"AI","value":text("先确定龙骨间距。")}),
        ],
        Some("hist-2") => vec![
            json!({"_id":"r3","dataId":"d3","obj":"Human","value":text("海报用什么颜色")}),
            json!({"_id":"r4","dataId":"d4","obj":"AI","value":text("建议用品牌蓝。")}),
        ],
        _ => Vec::new(),
    };
    let offset = body["offset"].as_u64().unwrap_or(0) as usize;
    let total = list.len();
    let page: Vec<Value> =
        list.into_iter().skip(offset).take(body["pageSize"].as_u64().unwrap_or(10) as usize).collect();
    axum::Json(json!({"code":200,"statusText":"","message":"","data":{"list":page,"total":total}})).into_response()
}

fn openai_error(status: StatusCode, message: &str, kind: &str) -> Response {
    (status, axum::Json(json!({ "error": { "message": message, "type": kind, "code": kind } }))).into_response()
}

fn openai_auth(headers: &HeaderMap) -> Result<(), Response> {
    match bearer(headers) {
        Some("sk-bad") | None => {
            Err(openai_error(StatusCode::UNAUTHORIZED, "Incorrect API key provided", "invalid_api_key"))
        }
        Some("sk-limit") => {
            let mut response = openai_error(StatusCode::TOO_MANY_REQUESTS, "Rate limit reached", "rate_limit_exceeded");
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("7"));
            Err(response)
        }
        Some(_) => Ok(()),
    }
}

async fn openai_completions(
    State(recorder): State<Recorder>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    record(&recorder, "/v1/chat/completions", &headers, &body);
    if let Err(response) = openai_auth(&headers) {
        return response;
    }
    if !body["stream"].as_bool().unwrap_or(false) {
        return axum::Json(json!({"id":"c1","object":"chat.completion","model":body["model"],
            "choices":[{"index":0,"message":{"role":"assistant","content":"离线模型的回答"},"finish_reason":"stop"}]}))
        .into_response();
    }
    let frames = vec![
        frame(None, &json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}).to_string()),
        frame(None, &json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"离线"},"finish_reason":null}]}).to_string()),
        frame(None, &json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"回答"},"finish_reason":null}]}).to_string()),
        frame(None, &json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}).to_string()),
        frame(None, "[DONE]"),
    ];
    sse(frames, Ending::Close)
}

async fn openai_models(headers: HeaderMap) -> Response {
    if let Err(response) = openai_auth(&headers) {
        return response;
    }
    axum::Json(json!({"object":"list","data":[{"id":"local-model","object":"model"}]})).into_response()
}

/// How long a test waits before calling a stream stalled.
pub const STALL_LIMIT: Duration = Duration::from_millis(300);
