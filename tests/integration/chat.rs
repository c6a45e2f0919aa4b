//! Agents and chat over the real HTTP API, with the model double speaking FastGPT's and the
//! OpenAI-compatible protocol over real HTTP; every story on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zk_core::store::Role;
use zk_tests::db::{TestDatabase, each_database};
use zk_tests::model_double::ModelDouble;
use zk_tests::server::{SignedIn, TestServer};

fn fastgpt_spec(name: &str, base: &str) -> Value {
    json!({ "name": name, "provider": "fastgpt", "base_url": base, "app_id": "app-1",
            "parameters": { "read_idle_secs": 1 }, "variables": { "project": "A 栋" } })
}

async fn create_agent(server: &TestServer, admin: &SignedIn, spec: Value, key: Option<&str>) -> Value {
    let mut body = json!({ "spec": spec });
    if let Some(key) = key {
        body["api_key"] = json!(key);
    }
    let (status, agent) = server.call(Method::POST, "/api/agents", Some(&admin.access), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "agent created: {agent}");
    agent
}

async fn new_conversation(server: &TestServer, user: &SignedIn, agent_id: i64) -> String {
    let (status, conversation) = server
        .call(Method::POST, "/api/conversations", Some(&user.access), Some(json!({ "agent_id": agent_id })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conversation}");
    conversation["id"].as_str().unwrap().to_owned()
}

async fn ask(server: &TestServer, user: &SignedIn, conversation: &str, text: &str) -> Vec<(String, Value)> {
    let path = format!("/api/conversations/{conversation}/messages");
    server.events(Method::POST, &path, &user.access, Some(json!({ "text": text }))).await.unwrap()
}

/// The model double, a server, an admin, and a conversation of the admin with a FastGPT agent
/// named `agent` that uses the double with a good key.
async fn fastgpt_conversation(db: &TestDatabase, agent: &str) -> (ModelDouble, TestServer, SignedIn, String) {
    let double = ModelDouble::start().await;
    let server = TestServer::start(db).await;
    let admin = server.user("ada", Role::Admin).await;
    let agent = create_agent(&server, &admin, fastgpt_spec(agent, &double.base), Some("fastgpt-good")).await;
    let conversation = new_conversation(&server, &admin, agent["id"].as_i64().unwrap()).await;
    (double, server, admin, conversation)
}

fn finished(events: &[(String, Value)]) -> &Value {
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "finished", "the stream ends with `finished`: {events:?}");
    &data["message"]
}

async fn messages(server: &TestServer, user: &SignedIn, conversation: &str) -> Vec<Value> {
    let (status, detail) =
        server.call(Method::GET, &format!("/api/conversations/{conversation}"), Some(&user.access), None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    detail["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_fastgpt_answer_is_relayed_event_by_event_and_stored_whole() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let dan = server.user("dan", Role::Designer).await;
        let agent = create_agent(&server, &admin, fastgpt_spec("规范助手", &double.base), Some("fastgpt-good")).await;
        assert_eq!(agent["key"]["state"], "stored", "the key is kept: {agent}");
        let conversation = new_conversation(&server, &dan, agent["id"].as_i64().unwrap()).await;

        let events = ask(&server, &dan, &conversation, "层高多少？").await;
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"started"));
        for expected in ["step", "reasoning", "answer", "tool", "quotes", "title", "finished"] {
            assert!(names.contains(&expected), "the relay passes `{expected}` on: {names:?}");
        }
        let started = &events[0].1;
        assert_eq!(started["user_message"]["text"], "层高多少？");
        let answer = finished(&events);
        assert_eq!(answer["status"], "complete");
        assert_eq!(answer["text"], "你好，（引用规范）设计师", "answer and fastAnswer text in order");
        assert_eq!(answer["detail"]["reasoning"], "先看需求");
        assert_eq!(answer["detail"]["tools"][0]["params"], "{\"q\":\"层高\"}", "tool params merged by id");
        assert_eq!(answer["detail"]["tools"][0]["response"], "3.2 米");
        assert_eq!(answer["detail"]["quotes"][0]["source_name"], "设计规范.pdf");
        assert_eq!(answer["detail"]["variables"]["style"], "极简");
        assert!(answer["first_token_ms"].as_i64().is_some() && answer["total_ms"].as_i64().is_some());

        let stored = messages(&server, &dan, &conversation).await;
        assert_eq!(stored.len(), 2, "one question, one answer");
        assert_eq!(&stored[1], answer, "the stored answer is the one streamed");
        let (_, detail) =
            server.call(Method::GET, &format!("/api/conversations/{conversation}"), Some(&dan.access), None).await;
        assert_eq!(detail["conversation"]["title"], "层高问题", "FastGPT's chatTitle names a new conversation");

        // FastGPT keeps the context: the next question goes alone, under the same chatId.
        ask(&server, &dan, &conversation, "再说一遍").await;
        let sent: Vec<Value> =
            double.received().into_iter().filter(|r| r.path == "/api/v1/chat/completions").map(|r| r.body).collect();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0]["chatId"], sent[1]["chatId"], "one FastGPT chat per conversation");
        assert!(sent[0]["chatId"].as_str().is_some_and(|c| !c.is_empty()));
        assert_eq!(sent[1]["messages"].as_array().unwrap().len(), 1, "only the new message is sent");
        assert_eq!(sent[1]["responseChatItemId"], messages(&server, &dan, &conversation).await[3]["id"]);
        assert_eq!(sent[1]["variables"]["project"], "A 栋", "the agent's variables go along");
        assert_eq!(sent[1]["variables"]["style"], "极简", "variables the workflow set are sent back");
        assert_eq!(sent[0]["detail"], true);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_broken_stream_keeps_its_partial_answer_and_a_retry_reuses_the_row() {
    each_database(|db| async move {
        let (_double, server, admin, conversation) = fastgpt_conversation(&db, "A").await;
        for (scenario, status, code) in [
            ("cut", "interrupted", "upstream_cut"),
            ("stall", "interrupted", "upstream_stalled"),
            ("malformed", "interrupted", "upstream_malformed"),
            ("stream-error", "failed", "upstream_error"),
            ("error-200", "failed", "upstream_error"),
        ] {
            let events = ask(&server, &admin, &conversation, scenario).await;
            let answer = finished(&events);
            assert_eq!(
                (answer["status"].as_str(), answer["error"]["code"].as_str()),
                (Some(status), Some(code)),
                "{scenario}: {answer}"
            );
            if scenario != "error-200" {
                assert_eq!(answer["text"], "你好，", "{scenario}: what arrived before the break is kept");
            }
            assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
        }
        let stored = messages(&server, &admin, &conversation).await;
        assert_eq!(stored.len(), 10, "five questions, five answers, no duplicates");
        assert_eq!(stored[1]["status"], "interrupted", "the stored state matches the stream");

        // Retry the first (cut) answer: same row, rewritten; everything after it goes.
        let first_answer = stored[1]["id"].as_str().unwrap();
        let path = format!("/api/conversations/{conversation}/messages/{first_answer}/regenerate");
        let events = server.events(Method::POST, &path, &admin.access, None).await.unwrap();
        let answer = finished(&events);
        assert_eq!(answer["id"], first_answer, "a retry answers in the same row");
        // The double picks the scenario from the question, which is still "cut".
        assert_eq!(answer["status"], "interrupted");
        let stored = messages(&server, &admin, &conversation).await;
        assert_eq!(stored.len(), 2, "regenerating an earlier answer drops the later messages");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn upstream_refusals_are_clear_messages_in_the_conversation() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        for (key, code, retryable) in [
            (Some("fastgpt-bad"), "upstream_auth", false),
            (Some("fastgpt-broke"), "upstream_quota", true),
            (None, "upstream_auth", false),
        ] {
            let name = format!("agent {key:?}");
            let agent = create_agent(&server, &admin, fastgpt_spec(&name, &double.base), key).await;
            let conversation = new_conversation(&server, &admin, agent["id"].as_i64().unwrap()).await;
            let answer = finished(&ask(&server, &admin, &conversation, "你好").await).clone();
            assert_eq!(answer["status"], "failed", "{key:?}: {answer}");
            assert_eq!(answer["error"]["code"], code, "{key:?}: {answer}");
            assert_eq!(answer["error"]["retryable"], retryable, "{key:?}");
        }
        // A server nobody listens on.
        let agent = create_agent(&server, &admin, fastgpt_spec("gone", "http://127.0.0.1:9"), Some("k")).await;
        let conversation = new_conversation(&server, &admin, agent["id"].as_i64().unwrap()).await;
        let answer = finished(&ask(&server, &admin, &conversation, "你好").await).clone();
        assert_eq!(answer["error"]["code"], "upstream_unreachable", "{answer}");
        assert_eq!(answer["error"]["retryable"], true);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn stop_ends_the_answer_at_once_and_keeps_what_arrived() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let dan = server.user("dan", Role::Designer).await;
        let admin = server.user("ada", Role::Admin).await;
        let agent = create_agent(&server, &admin, fastgpt_spec("slow", &double.base), Some("fastgpt-good")).await;
        let conversation = new_conversation(&server, &dan, agent["id"].as_i64().unwrap()).await;
        let started = Instant::now();
        let asking = {
            let (server, dan, conversation) = (&server, &dan, conversation.clone());
            async move { ask(server, dan, &conversation, "slow please").await }
        };
        let stopping = async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            let (status, _) = server
                .call(Method::POST, &format!("/api/conversations/{conversation}/stop"), Some(&dan.access), None)
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "a running answer can be stopped");
        };
        let (events, ()) = tokio::join!(asking, stopping);
        assert!(started.elapsed() < Duration::from_secs(4), "stopped long before the 6 s answer ends");
        let answer = finished(&events);
        assert_eq!(answer["status"], "stopped");
        assert!(answer["text"].as_str().unwrap().starts_with("字0 "), "the partial answer stays: {answer}");
        let stored = messages(&server, &dan, &conversation).await;
        assert_eq!(stored[1]["status"], "stopped");
        assert_eq!(stored[1]["text"], answer["text"]);
        let (status, _) = server
            .call(Method::POST, &format!("/api/conversations/{conversation}/stop"), Some(&dan.access), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "nothing left to stop");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn stopping_the_server_mid_answer_leaves_it_interrupted_with_its_partial_text() {
    each_database(|db| async move {
        let (_double, server, admin, conversation) = fastgpt_conversation(&db, "slow").await;
        // The question goes out on its own task: its stream ends when the server stops under it.
        let asking = tokio::spawn({
            let request = server
                .http
                .post(server.url(&format!("/api/conversations/{conversation}/messages")))
                .bearer_auth(&admin.access)
                .json(&json!({ "text": "slow please" }));
            async move {
                let mut response = request.send().await.unwrap();
                while let Ok(Some(_)) = response.chunk().await {}
            }
        });
        tokio::time::sleep(Duration::from_millis(800)).await;
        server.stop().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), asking).await;

        // Read straight from the database: the stop waited for the answer's final write.
        let store = db.open_store().await;
        let stored = store.messages(&conversation).await.unwrap();
        let answer = stored.last().unwrap();
        assert_eq!(answer.role, "assistant");
        assert_eq!(answer.status, "interrupted", "{answer:?}");
        assert!(answer.text.starts_with("字0 "), "the partial text stays: {answer:?}");
        assert!(answer.text.len() < "字0 ".len() * 60, "cut before the whole answer arrived: {answer:?}");
        let error = answer.error.as_ref().unwrap();
        assert_eq!(error.0["code"], "interrupted", "{answer:?}");
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_second_message_waits_for_the_running_answer_and_a_watcher_can_attach() {
    each_database(|db| async move {
        let (_double, server, admin, conversation) = fastgpt_conversation(&db, "slow").await;
        let asking = ask(&server, &admin, &conversation, "slow");
        let meanwhile = async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let path = format!("/api/conversations/{conversation}/messages");
            let refused = server.events(Method::POST, &path, &admin.access, Some(json!({ "text": "again" }))).await;
            assert_eq!(refused.unwrap_err().0, StatusCode::CONFLICT, "one answer at a time per conversation");
            let attached = server
                .events(Method::GET, &format!("/api/conversations/{conversation}/events"), &admin.access, None)
                .await;
            attached.unwrap()
        };
        let (events, attached) = tokio::join!(asking, meanwhile);
        assert_eq!(attached[0].0, "started");
        assert!(!attached[0].1["message"]["text"].as_str().unwrap().is_empty(), "the snapshot has what arrived so far");
        assert_eq!(finished(&attached), finished(&events), "the attached watcher sees the same end");
        let (status, _) = server
            .call(Method::GET, &format!("/api/conversations/{conversation}/events"), Some(&admin.access), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "nothing running");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn answering_an_interactive_form_continues_the_workflow() {
    each_database(|db| async move {
        let (double, server, admin, conversation) = fastgpt_conversation(&db, "form").await;
        let events = ask(&server, &admin, &conversation, "interactive").await;
        assert!(events.iter().any(|(n, _)| n == "interactive"));
        let form = &finished(&events)["detail"]["interactive"];
        assert_eq!(form["kind"], "user_input", "{form}");
        assert_eq!(form["fields"][0]["key"], "width");
        let path = format!("/api/conversations/{conversation}/messages");
        let reply = json!({ "text": "{\"width\":1200}", "interactive_reply": true });
        let events = server.events(Method::POST, &path, &admin.access, Some(reply)).await.unwrap();
        assert_eq!(events[0].1["user_message"]["interactive_reply"], true);
        assert_eq!(finished(&events)["status"], "complete");
        let sent = double.received();
        let last = &sent.iter().rev().find(|r| r.path == "/api/v1/chat/completions").unwrap().body;
        assert_eq!(last["messages"][0]["content"], "{\"width\":1200}", "the form's values go to the workflow");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn openai_agents_get_the_system_prompt_and_the_history_within_budget() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let spec = json!({ "name": "local", "provider": "openai", "base_url": double.base, "model": "qwen",
                           "system_prompt": "你是建筑助手", "parameters": { "context_budget": 256, "temperature": 0.2 } });
        let agent = create_agent(&server, &admin, spec, Some("sk-good")).await;
        let conversation = new_conversation(&server, &admin, agent["id"].as_i64().unwrap()).await;
        let long = "长".repeat(300);
        assert_eq!(finished(&ask(&server, &admin, &conversation, &long).await)["text"], "离线回答");
        assert_eq!(finished(&ask(&server, &admin, &conversation, "短问题").await)["status"], "complete");
        let sent: Vec<Value> = double.received().into_iter().filter(|r| r.path == "/v1/chat/completions").map(|r| r.body).collect();
        let last = sent.last().unwrap();
        assert_eq!(last["model"], "qwen");
        assert_eq!(last["messages"][0], json!({ "role": "system", "content": "你是建筑助手" }));
        let roles: Vec<&str> = last["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
        // The 300-character question does not fit a 256-token budget beside the rest; its answer does.
        assert_eq!(roles, ["system", "assistant", "user"], "{last}");
        assert_eq!(last["messages"][2]["content"], "短问题");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn edit_and_resend_rewrites_the_question_and_answers_again() {
    each_database(|db| async move {
        let (_double, server, admin, conversation) = fastgpt_conversation(&db, "A").await;
        ask(&server, &admin, &conversation, "第一问").await;
        ask(&server, &admin, &conversation, "第二问").await;
        let before = messages(&server, &admin, &conversation).await;
        let question = before[0]["id"].as_str().unwrap();
        let path = format!("/api/conversations/{conversation}/messages/{question}/edit");
        let events =
            server.events(Method::POST, &path, &admin.access, Some(json!({ "text": "改过的问题" }))).await.unwrap();
        assert_eq!(events[0].1["user_message"]["id"], question, "the question keeps its row");
        assert_eq!(finished(&events)["status"], "complete");
        let after = messages(&server, &admin, &conversation).await;
        assert_eq!(after.len(), 2);
        assert_eq!(after[0]["text"], "改过的问题");
        let path = format!("/api/conversations/{conversation}/messages/{question}/regenerate");
        let refused = server.events(Method::POST, &path, &admin.access, None).await.unwrap_err();
        assert_eq!(refused.0, StatusCode::BAD_REQUEST, "a question is edited, not regenerated");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn search_finds_chinese_substrings_and_export_writes_markdown_and_json() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let eve = server.user("eve", Role::Designer).await;
        let agent = create_agent(&server, &admin, fastgpt_spec("A", &double.base), Some("fastgpt-good")).await;
        let conversation = new_conversation(&server, &admin, agent["id"].as_i64().unwrap()).await;
        ask(&server, &admin, &conversation, "幕墙龙骨间距是多少").await;
        for (query, hits) in [("龙骨", 1), ("设计师", 1), ("100%_", 0), ("不存在的词", 0)] {
            let (status, found) = server
                .call(
                    Method::GET,
                    &format!("/api/conversations/search?q={}", urlencode(query)),
                    Some(&admin.access),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            let matching = found.as_array().unwrap().iter().filter(|h| h["message_id"].is_string()).count();
            assert_eq!(matching, hits, "{query}: {found}");
        }
        let (_, found) =
            server.call(Method::GET, "/api/conversations/search?q=%E9%BE%99%E9%AA%A8", Some(&eve.access), None).await;
        assert_eq!(found, json!([]), "another user's conversations are not searched");
        let (status, _) =
            server.call(Method::GET, &format!("/api/conversations/{conversation}"), Some(&eve.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "nor readable");

        let response = server
            .http
            .get(server.url(&format!("/api/conversations/{conversation}/export?format=markdown")))
            .bearer_auth(&admin.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.starts_with("attachment;") && disposition.contains(".md"), "{disposition}");
        let markdown = response.text().await.unwrap();
        assert!(markdown.contains("## You\n\n幕墙龙骨间距是多少"), "{markdown}");
        assert!(markdown.contains("你好，（引用规范）设计师"));
        assert!(markdown.contains("设计规范.pdf"), "sources are listed");
        let (status, json_export) = server
            .call(
                Method::GET,
                &format!("/api/conversations/{conversation}/export?format=json"),
                Some(&admin.access),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json_export["messages"].as_array().unwrap().len(), 2);
        assert_eq!(json_export["format"], "zk-agent.conversation.v1");
        server.stop().await;
    })
    .await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn conversations_list_pinned_first_and_page_with_a_cursor() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let agent = create_agent(&server, &admin, fastgpt_spec("A", &double.base), Some("fastgpt-good")).await;
        let agent_id = agent["id"].as_i64().unwrap();
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(new_conversation(&server, &admin, agent_id).await);
            server.clock.advance(Duration::from_secs(1));
        }
        let (status, _) = server
            .call(
                Method::PATCH,
                &format!("/api/conversations/{}", ids[0]),
                Some(&admin.access),
                Some(json!({ "pinned": true, "title": "置顶" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, page) = server.call(Method::GET, "/api/conversations?limit=2", Some(&admin.access), None).await;
        let first: Vec<&str> = page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(first, [ids[0].as_str(), ids[4].as_str()], "pinned first, then the newest");
        let mut seen: Vec<String> = first.iter().map(|s| (*s).to_owned()).collect();
        let mut next = page["next"].as_str().map(str::to_owned);
        while let Some(cursor) = next {
            let (_, page) = server
                .call(Method::GET, &format!("/api/conversations?limit=2&after={cursor}"), Some(&admin.access), None)
                .await;
            seen.extend(page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()));
            next = page["next"].as_str().map(str::to_owned);
        }
        assert_eq!(seen.len(), 5, "every conversation once: {seen:?}");
        let (status, _) = server.call(Method::GET, "/api/conversations?after=garbage", Some(&admin.access), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) =
            server.call(Method::DELETE, &format!("/api/conversations/{}", ids[1]), Some(&admin.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, page) = server.call(Method::GET, "/api/conversations?limit=50", Some(&admin.access), None).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 4);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn agents_keep_every_version_with_diff_and_restore() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let viewer = server.user("vera", Role::Viewer).await;
        let agent = create_agent(
            &server,
            &admin,
            fastgpt_spec("海报助手", "https://fastgpt.example.com"),
            Some("secret-key-1"),
        )
        .await;
        let id = agent["id"].as_i64().unwrap();
        let mut spec = agent["spec"].clone();
        spec["parameters"]["temperature"] = json!(0.5);
        let (status, v2) = server
            .call(
                Method::PUT,
                &format!("/api/agents/{id}"),
                Some(&admin.access),
                Some(json!({ "spec": spec, "expected_version": 1 })),
            )
            .await;
        assert_eq!((status, v2["version"].as_i64()), (StatusCode::OK, Some(2)), "{v2}");
        let (status, stale) = server
            .call(
                Method::PUT,
                &format!("/api/agents/{id}"),
                Some(&admin.access),
                Some(json!({ "spec": spec, "expected_version": 1 })),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "an edit of an old version is refused: {stale}");
        spec["enabled"] = json!(false);
        let (_, v3) = server
            .call(Method::PUT, &format!("/api/agents/{id}"), Some(&admin.access), Some(json!({ "spec": spec })))
            .await;
        assert_eq!(v3["version"], 3, "disabling is a change too");

        let (_, history) =
            server.call(Method::GET, &format!("/api/agents/{id}/versions"), Some(&admin.access), None).await;
        let versions: Vec<i64> = history.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
        assert_eq!(versions, [3, 2, 1]);
        assert_eq!(history[2]["created_by"], "ada");
        let (_, diff) =
            server.call(Method::GET, &format!("/api/agents/{id}/diff?from=1&to=3"), Some(&admin.access), None).await;
        let fields: Vec<&str> =
            diff["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["enabled", "parameters.temperature"], "{diff}");
        assert_eq!(diff["changes"][1]["before"], Value::Null, "version 1 left the temperature to the provider");
        let (status, restored) = server
            .call(
                Method::POST,
                &format!("/api/agents/{id}/restore"),
                Some(&admin.access),
                Some(json!({ "version": 1 })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(restored["version"], 4, "restoring adds a version");
        assert_eq!(restored["spec"], agent["spec"], "with version 1's configuration");

        // The key is write-only: never in a view, an export or the history.
        let (_, listed) = server.call(Method::GET, "/api/agents", Some(&viewer.access), None).await;
        assert!(!listed.to_string().contains("secret-key-1"));
        let export = server
            .http
            .get(server.url("/api/agents/export?format=toml"))
            .bearer_auth(&admin.access)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(export.contains("name = \"海报助手\"") && !export.contains("secret-key-1"), "{export}");
        assert!(!history.to_string().contains("secret-key-1"));
        let (status, _) = server.call(Method::POST, "/api/agents", Some(&viewer.access), Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "viewers read agents, admins manage them");

        let (status, copy) = server
            .call(Method::POST, &format!("/api/agents/{id}/duplicate"), Some(&admin.access), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(copy["spec"]["name"], "海报助手 (copy)");
        assert_eq!(copy["key"]["state"], "stored", "the copy has the key too");
        let (status, _) = server.call(Method::DELETE, &format!("/api/agents/{id}"), Some(&admin.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) =
            server.call(Method::GET, &format!("/api/agents/{id}/versions"), Some(&admin.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_invalid_agent_file_is_refused_with_file_line_and_reason_and_changes_nothing() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let good = "[[agent]]\nname = \"甲\"\nprovider = \"fastgpt\"\nbase_url = \"https://a.example\"\n\n\
                    [[agent]]\nname = \"乙\"\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:8080\"\nmodel = \"m\"\n";
        let import = |body: String, name: &'static str| {
            let server = &server;
            let token = admin.access.clone();
            async move {
                let response = server
                    .http
                    .post(server.url(&format!("/api/agents/import?name={name}")))
                    .bearer_auth(token)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap())
            }
        };
        let (status, report) = import(good.to_owned(), "team.toml").await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["created"], json!(["甲", "乙"]));
        let (_, report) = import(good.to_owned(), "team.toml").await;
        assert_eq!(report["unchanged"], json!(["甲", "乙"]), "importing again changes nothing");

        let bad = good.replace("model = \"m\"", "model = \"m\"\ntemperature = 9");
        let (status, error) = import(bad, "team.toml").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let problem = &error["details"]["problems"][0];
        assert_eq!((problem["file"].as_str(), problem["line"].as_i64()), (Some("team.toml"), Some(11)), "{error}");
        assert!(problem["message"].as_str().unwrap().contains("temperature"), "{error}");

        let updated = good.replace("https://a.example", "https://b.example").replace("model = \"m\"", "model = \"m\"\n[agent.parameters]\ntemperature = 3");
        let (status, error) = import(updated, "team.toml").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "one bad agent refuses the whole file: {error}");
        let (_, agents) = server.call(Method::GET, "/api/agents", Some(&admin.access), None).await;
        let jia = agents.as_array().unwrap().iter().find(|a| a["spec"]["name"] == "甲").unwrap();
        assert_eq!(jia["spec"]["base_url"], "https://a.example", "nothing changed");
        assert_eq!(jia["version"], 1);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_watched_folder_applies_agent_files_within_a_second() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let dir = server.core.config.agents.dir.clone();
        let wait_for = |check: Box<dyn Fn(&Value) -> bool>| {
            let (server, token) = (&server, admin.access.clone());
            async move {
                let started = Instant::now();
                loop {
                    let (_, agents) = server.call(Method::GET, "/api/agents", Some(&token), None).await;
                    if check(&agents) {
                        return started.elapsed();
                    }
                    assert!(started.elapsed() < Duration::from_secs(5), "the folder change applied: {agents}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        let file = dir.join("helper.toml");
        std::fs::write(&file, "name = \"folder agent\"\nprovider = \"fastgpt\"\nbase_url = \"https://a.example\"\n")
            .unwrap();
        let took = wait_for(Box::new(|a: &Value| a.as_array().unwrap().len() == 1)).await;
        assert!(took < Duration::from_secs(1), "a new file applies within a second: {took:?}");
        std::fs::write(&file, "name = \"folder agent\"\nprovider = \"fastgpt\"\nbase_url = \"https://b.example\"\n")
            .unwrap();
        let took = wait_for(Box::new(|a: &Value| a[0]["version"] == 2)).await;
        assert!(took < Duration::from_secs(1), "an edit applies within a second: {took:?}");
        let (_, agents) = server.call(Method::GET, "/api/agents", Some(&admin.access), None).await;
        assert_eq!(agents[0]["source_file"], "helper.toml");

        std::fs::write(&file, "name = \"folder agent\"\nprovider = \"nope\"\nbase_url = \"https://c.example\"\n")
            .unwrap();
        let started = Instant::now();
        let status = loop {
            let (_, status) = server.call(Method::GET, "/api/agents/folder", Some(&admin.access), None).await;
            if !status["problems"].as_array().unwrap().is_empty() || started.elapsed() > Duration::from_secs(5) {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let problem = &status["problems"][0];
        assert_eq!((problem["file"].as_str(), problem["line"].as_i64()), (Some("helper.toml"), Some(2)), "{status}");
        let (_, agents) = server.call(Method::GET, "/api/agents", Some(&admin.access), None).await;
        assert_eq!(
            (agents[0]["version"].as_i64(), agents[0]["spec"]["base_url"].as_str()),
            (Some(2), Some("https://b.example")),
            "an invalid file changes nothing"
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn test_connection_and_fastgpt_health_probe_each_agent() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let good = create_agent(&server, &admin, fastgpt_spec("good", &double.base), Some("fastgpt-good")).await;
        create_agent(&server, &admin, fastgpt_spec("bad", &double.base), Some("fastgpt-bad")).await;
        let (status, probe) =
            server.call(Method::POST, &format!("/api/agents/{}/test", good["id"]), Some(&admin.access), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (probe["health"]["status"].as_str(), probe["health"]["key_valid"].as_bool()),
            (Some("reachable"), Some(true)),
            "{probe}"
        );
        let (_, health) = server.call(Method::GET, "/api/fastgpt/health", None, None).await;
        let by_name: Vec<(String, String)> = health["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap().to_owned(), a["health"]["status"].as_str().unwrap().to_owned()))
            .collect();
        assert!(by_name.contains(&("good".into(), "reachable".into())), "{health}");
        assert!(by_name.contains(&("bad".into(), "unauthorized".into())), "{health}");
        assert!(health["agents"][0]["health"]["base_url"].is_null(), "the public health hides agents' URLs");
        let probes = double.received().into_iter().filter(|r| r.path == "/api/core/chat/getHistories").count();
        assert!(probes >= 3, "the probe is getHistories, no model call");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_fastgpt_apps_history_imports_once_as_a_task() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let dan = server.user("dan", Role::Designer).await;
        let mut spec = fastgpt_spec("history", &double.base);
        spec["app_id"] = json!("app-history");
        let agent = create_agent(&server, &admin, spec, Some("fastgpt-good")).await;
        let path = format!("/api/agents/{}/import-history", agent["id"]);
        for round in 0..2 {
            let (status, task) = server.call(Method::POST, &path, Some(&dan.access), None).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{task}");
            let task_path = format!("/api/tasks/{}", task["id"]);
            let started = Instant::now();
            let done = loop {
                let (_, task) = server.call(Method::GET, &task_path, Some(&dan.access), None).await;
                if task["state"] == "succeeded"
                    || task["state"] == "failed"
                    || started.elapsed() > Duration::from_secs(15)
                {
                    break task;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            assert_eq!(done["state"], "succeeded", "{done}");
            let expected = if round == 0 {
                json!({"imported": 2, "skipped": 0, "messages": 4})
            } else {
                json!({"imported": 0, "skipped": 2, "messages": 0})
            };
            assert_eq!(done["result"], expected, "round {round}");
        }
        let (_, page) = server.call(Method::GET, "/api/conversations", Some(&dan.access), None).await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{page}");
        assert_eq!(items[0]["title"], "幕墙节点讨论", "FastGPT's pinned conversation stays pinned and first");
        assert_eq!(items[0]["pinned"], true);
        assert_eq!(items[1]["title"], "海报配色", "the custom title wins");
        let (_, admin_page) = server.call(Method::GET, "/api/conversations", Some(&admin.access), None).await;
        assert_eq!(admin_page["items"], json!([]), "imported for the one who asked");
        let id = items[0]["id"].as_str().unwrap();
        let stored = messages(&server, &dan, id).await;
        let texts: Vec<&str> = stored.iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["幕墙节点怎么画？", "先确定龙骨间距。"]);
        // Chatting on continues FastGPT's context under the imported chatId.
        ask(&server, &dan, id, "继续").await;
        let last = double.received().into_iter().rev().find(|r| r.path == "/api/v1/chat/completions").unwrap();
        assert_eq!(last.body["chatId"], "hist-1");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn attached_images_text_files_and_drawings_go_to_the_model_as_it_accepts_them() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let spec = json!({ "name": "vision", "provider": "openai", "base_url": double.base, "model": "qwen-vl" });
        let agent = create_agent(&server, &admin, spec, Some("sk-good")).await;
        let conversation = new_conversation(&server, &admin, agent["id"].as_i64().unwrap()).await;
        let upload = |name: &'static str, bytes: Vec<u8>| {
            let request =
                server.http.post(server.url("/api/files")).query(&[("name", name)]).bearer_auth(&admin.access).body(bytes);
            async move { request.send().await.unwrap().json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned() }
        };
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
        let image = upload("plan.png", png.clone()).await;
        let notes = upload("notes.txt", "层高 3.2 米".as_bytes().to_vec()).await;
        let dxf = "0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nLINE\n8\n墙体\n10\n0\n20\n0\n11\n4200\n21\n0\n\
0\nTEXT\n8\n标注\n10\n100\n20\n100\n40\n250\n1\n客厅\n0\nENDSEC\n0\nEOF\n";
        let drawing = upload("plan.dxf", dxf.as_bytes().to_vec()).await;
        let path = format!("/api/conversations/{conversation}/messages");
        let body = json!({ "text": "看看这张图", "attachments": [image, notes, drawing] });
        let events = server.events(Method::POST, &path, &admin.access, Some(body)).await.unwrap();
        let question = &events[0].1["user_message"];
        assert_eq!(question["attachments"][0]["name"], "plan.png");
        assert_eq!(question["attachments"][0]["media_type"], "image/png");
        assert_eq!(finished(&events)["status"], "complete");
        let sent = double.received().into_iter().rev().find(|r| r.path == "/v1/chat/completions").unwrap().body;
        let parts = sent["messages"].as_array().unwrap().last().unwrap()["content"].as_array().unwrap().clone();
        assert_eq!(parts[0], json!({ "type": "text", "text": "看看这张图" }));
        use base64::Engine as _;
        let data_url = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
        assert_eq!(parts[1]["image_url"]["url"], data_url, "the image goes inline, as a data URL");
        assert!(parts[2]["text"].as_str().unwrap().contains("层高 3.2 米"), "a small text file goes inline: {parts:?}");
        assert_eq!(parts[3]["type"], "text", "a drawing (image/vnd.dxf) is not sent as a picture: {:?}", parts[3]);
        let facts = parts[3]["text"].as_str().unwrap();
        for expected in ["Attached drawing plan.dxf", "AC1015", "millimeters", "墙体", "客厅"] {
            assert!(facts.contains(expected), "the drawing goes as its facts ({expected}): {facts}");
        }
        let path = format!("/api/conversations/{conversation}/messages");
        let refused = server
            .events(Method::POST, &path, &admin.access, Some(json!({ "text": "x", "attachments": ["no-such-file"] })))
            .await
            .unwrap_err();
        assert_eq!(refused.0, StatusCode::NOT_FOUND, "an unknown attachment is refused before anything is stored");
        assert_eq!(messages(&server, &admin, &conversation).await.len(), 2);
        server.stop().await;
    })
    .await;
}
