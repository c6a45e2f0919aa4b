//! The model-API client against the protocol double over real HTTP: every FastGPT event, the
//! OpenAI-compatible dialect, every error shape, and the stream faults (stall, cut, malformed frame).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use zk_model_api::{
    ApiKey, ChatEvent, ChatRequest, Content, ImageUrl, Interactive, Message, ModelApiError, ModelClient, Part, Provider,
};
use zk_tests::model_double::{ModelDouble, STALL_LIMIT};

fn client(double: &ModelDouble, provider: Provider, key: &str) -> ModelClient {
    ModelClient::new(provider, &double.base, Some(ApiKey::new(key))).unwrap().with_read_idle(STALL_LIMIT)
}

fn ask(text: &str, detail: bool) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::user(text)],
        detail,
        chat_id: Some("chat-1".into()),
        ..ChatRequest::default()
    }
}

/// Every event of a stream, and how it ended.
async fn collect(client: &ModelClient, request: &ChatRequest) -> (Vec<ChatEvent>, Option<ModelApiError>) {
    let stream = match client.chat_stream(request).await {
        Ok(stream) => stream,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut stream = std::pin::pin!(stream);
    let mut events = Vec::new();
    while let Some(item) =
        tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("the client ends every stream")
    {
        match item {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

fn answer_text(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Answer { text } | ChatEvent::FastAnswer { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_plain_fastgpt_stream_arrives_in_order_through_heartbeats() {
    let double = ModelDouble::start().await;
    let (events, error) = collect(&client(&double, Provider::Fastgpt, "fastgpt-good"), &ask("plain", false)).await;
    assert_eq!(error, None);
    assert_eq!(answer_text(&events), "你好，设计师", "the heartbeat in between adds nothing");
    assert_eq!(&events[events.len() - 2..], &[ChatEvent::Finished { reason: "stop".into() }, ChatEvent::Done]);
    let sent = &double.received()[0];
    assert_eq!(sent.authorization.as_deref(), Some("Bearer fastgpt-good"));
    assert_eq!(sent.body["chatId"], "chat-1");
    assert_eq!((sent.body["stream"].clone(), sent.body["detail"].clone()), (json!(true), json!(false)));
}

#[tokio::test]
async fn detail_streams_carry_every_event_and_end_after_done() {
    let double = ModelDouble::start().await;
    let (events, error) =
        collect(&client(&double, Provider::Fastgpt, "fastgpt-good"), &ask("interactive please", true)).await;
    assert_eq!(error, None, "{events:?}");
    assert!(events.contains(&ChatEvent::NodeStatus { status: "running".into(), name: "AI 对话".into() }));
    assert!(events.contains(&ChatEvent::Reasoning { text: "先看需求".into() }));
    assert_eq!(answer_text(&events), "你好，（引用规范）设计师");
    let tool =
        events.iter().rev().find_map(|e| if let ChatEvent::Tool(t) = e { Some(t.clone()) } else { None }).unwrap();
    assert_eq!(
        (tool.tool_name.as_str(), tool.params.as_str(), tool.response.as_deref()),
        ("查询规范", "{\"q\":\"层高\"}", Some("3.2 米"))
    );
    assert!(events.iter().any(|e| matches!(e, ChatEvent::Variables { values } if values["style"] == "极简")));
    assert!(events.iter().any(
        |e| matches!(e, ChatEvent::Interactive(Interactive::UserInput { fields, .. }) if fields[0].key == "width")
    ));
    let done = events.iter().position(|e| *e == ChatEvent::Done).unwrap();
    let nodes = events.iter().position(|e| matches!(e, ChatEvent::NodeResponses { .. })).unwrap();
    assert!(nodes > done, "flowResponses come after [DONE] and are still read");
    let ChatEvent::NodeResponses { nodes } = &events[nodes] else { unreachable!() };
    assert_eq!(nodes[0].quotes[0].source_name.as_deref(), Some("设计规范.pdf"));
    assert!(events.contains(&ChatEvent::WorkflowDuration { seconds: 1.4 }));
    assert!(events.contains(&ChatEvent::ChatTitle { title: "层高问题".into() }));
}

#[tokio::test]
async fn whole_answers_with_and_without_detail() {
    let double = ModelDouble::start().await;
    let fastgpt = client(&double, Provider::Fastgpt, "fastgpt-good");
    let plain = fastgpt.chat(&ask("plain", false)).await.unwrap();
    assert_eq!((plain.text.as_str(), plain.finish_reason.as_deref()), ("你好，设计师", Some("stop")));
    let detailed = fastgpt.chat(&ask("interactive", true)).await.unwrap();
    assert_eq!(detailed.text, "请选择", "content as an array of parts");
    assert!(
        matches!(detailed.interactive, Some(Interactive::UserSelect { ref options, .. }) if options[0].value == "极简")
    );
    assert_eq!(detailed.nodes.len(), 2);
    assert_eq!(detailed.variables["style"], "极简");
}

#[tokio::test]
async fn every_error_shape_is_typed() {
    let double = ModelDouble::start().await;
    let no_key = ModelClient::new(Provider::Fastgpt, &double.base, None).unwrap();
    assert!(matches!(no_key.chat(&ask("plain", false)).await, Err(ModelApiError::Auth { status: 403, .. })));
    let bad = client(&double, Provider::Fastgpt, "fastgpt-bad");
    assert!(matches!(
        bad.chat_stream(&ask("plain", true)).await.err(),
        Some(ModelApiError::Auth { code: Some(514), .. })
    ));
    let broke = client(&double, Provider::Fastgpt, "fastgpt-broke");
    assert!(matches!(broke.chat(&ask("plain", false)).await, Err(ModelApiError::Quota { code: Some(510), .. })));
    let good = client(&double, Provider::Fastgpt, "fastgpt-good");
    let in_200 = good.chat_stream(&ask("error-200", true)).await.err();
    assert!(
        matches!(in_200, Some(ModelApiError::Upstream { status: 200, ref message, .. }) if message == "工作流节点运行失败"),
        "{in_200:?}"
    );
    assert!(matches!(good.chat(&ask("error-200", false)).await, Err(ModelApiError::Upstream { status: 200, .. })));
    let (events, error) = collect(&good, &ask("stream-error", true)).await;
    assert_eq!(answer_text(&events), "你好，", "what came before the error is kept");
    assert!(
        matches!(error, Some(ModelApiError::Upstream { ref message, .. }) if message == "网络连接异常"),
        "{error:?}"
    );
    let empty = ChatRequest { messages: Vec::new(), ..ChatRequest::default() };
    assert!(
        matches!(good.chat(&empty).await, Err(ModelApiError::Upstream { ref message, .. }) if message == "messages is empty")
    );
    let nowhere = ModelClient::new(Provider::Fastgpt, "http://127.0.0.1:1", None).unwrap();
    assert!(matches!(nowhere.chat(&ask("plain", false)).await, Err(ModelApiError::Unreachable(_))));
}

#[tokio::test]
async fn stalled_cut_and_malformed_streams_keep_what_arrived_and_say_why() {
    let double = ModelDouble::start().await;
    let good = client(&double, Provider::Fastgpt, "fastgpt-good");
    for (scenario, check) in [
        ("stall", (|e: &ModelApiError| matches!(e, ModelApiError::Stalled(_))) as fn(&ModelApiError) -> bool),
        ("cut", |e| matches!(e, ModelApiError::Interrupted(_))),
        ("malformed", |e| matches!(e, ModelApiError::Malformed(_))),
    ] {
        let started = std::time::Instant::now();
        let (events, error) = collect(&good, &ask(scenario, false)).await;
        assert_eq!(answer_text(&events), "你好，", "{scenario}: the partial answer is delivered");
        let error = error.unwrap_or_else(|| panic!("{scenario} ends with an error"));
        assert!(check(&error), "{scenario}: {error:?}");
        assert!(error.is_retryable() || matches!(error, ModelApiError::Malformed(_)), "{scenario}");
        assert!(started.elapsed() < Duration::from_secs(5), "{scenario} is noticed quickly");
    }
}

#[tokio::test]
async fn the_openai_dialect_streams_answers_and_errors() {
    let double = ModelDouble::start().await;
    let local = client(&double, Provider::Openai, "sk-good");
    let mut request = ask("你好", false);
    request.model = Some("local-model".into());
    request.temperature = Some(0.2);
    request.messages.push(Message {
        role: zk_model_api::Role::User,
        content: Content::Parts(vec![
            Part::Text { text: "看这张图".into() },
            Part::ImageUrl { image_url: ImageUrl { url: "data:image/png;base64,AAAA".into() } },
            Part::FileUrl { name: "plan.dxf".into(), url: "http://files/plan.dxf".into() },
        ]),
    });
    let (events, error) = collect(&local, &request).await;
    assert_eq!(error, None);
    assert_eq!(answer_text(&events), "离线回答");
    let sent = &double.received()[0].body;
    assert_eq!(sent["model"], "local-model");
    assert!(sent.get("chatId").is_none(), "FastGPT fields are not sent to OpenAI servers");
    assert_eq!(sent["messages"][1]["content"][1]["type"], "image_url");
    assert_eq!(
        sent["messages"][1]["content"][2],
        json!({"type":"text","text":"[file plan.dxf: http://files/plan.dxf]"})
    );
    assert_eq!(local.chat(&request).await.unwrap().text, "离线模型的回答");

    let refused = client(&double, Provider::Openai, "sk-bad").chat_stream(&request).await.err();
    assert!(matches!(refused, Some(ModelApiError::Auth { status: 401, .. })));
    let limited = client(&double, Provider::Openai, "sk-limit").chat(&request).await;
    assert!(
        matches!(limited, Err(ModelApiError::Quota { status: 429, retry_after: Some(d), .. }) if d == Duration::from_secs(7))
    );
}

#[tokio::test]
async fn probes_check_reachability_and_the_key_without_a_model_call() {
    let double = ModelDouble::start().await;
    assert!(client(&double, Provider::Fastgpt, "fastgpt-good").probe().await.is_ok());
    assert!(matches!(client(&double, Provider::Fastgpt, "fastgpt-bad").probe().await, Err(ModelApiError::Auth { .. })));
    assert_eq!(double.received()[0].body["pageSize"], 1);
    assert!(client(&double, Provider::Openai, "sk-good").probe().await.is_ok());
    assert!(matches!(client(&double, Provider::Openai, "sk-bad").probe().await, Err(ModelApiError::Auth { .. })));
}
