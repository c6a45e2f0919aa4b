//! Agents with their versions; conversations and messages.

#![allow(clippy::unwrap_used)]

use super::*;

fn agent_write(
    name: &str,
    spec: serde_json::Value,
    change: &str,
    by: Option<i64>,
    now: Timestamp,
) -> zk_store::AgentWrite {
    zk_store::AgentWrite {
        name: name.to_owned(),
        kind: "chat".into(),
        provider: "fastgpt".into(),
        enabled: true,
        spec,
        change: change.into(),
        source_file: None,
        by,
        now,
    }
}

#[tokio::test]
async fn agents_write_versions_optimistically_and_keep_their_history() {
    each_backend(|store| async move {
        let ada = store.create_user(new_user("ada", Role::Admin, at(0))).await.unwrap();
        let agent = store
            .create_agent("uid-1", &agent_write("海报", json!({"v": 1}), "created", Some(ada.id), at(1)))
            .await
            .unwrap();
        assert_eq!((agent.version, agent.created_at), (1, at(1)));
        let duplicate = store.create_agent("uid-2", &agent_write("海报", json!({}), "created", None, at(1))).await;
        assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "names are unique: {duplicate:?}");

        let v2 = store
            .update_agent(agent.id, 1, &agent_write("海报", json!({"v": 2}), "edited", Some(ada.id), at(2)))
            .await
            .unwrap();
        assert_eq!(v2.map(|a| (a.version, a.updated_at)), Some((2, at(2))));
        let stale = store
            .update_agent(agent.id, 1, &agent_write("海报", json!({"v": 3}), "edited", None, at(3)))
            .await
            .unwrap();
        assert!(stale.is_none(), "a write based on version 1 loses to the one that made version 2");

        let history = store.agent_versions(agent.id).await.unwrap();
        let summary: Vec<(i32, serde_json::Value, String, Option<String>)> = history
            .iter()
            .map(|v| (v.version, v.spec.0.clone(), v.change.clone(), v.created_by_name.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (2, json!({"v": 2}), "edited".into(), Some("ada".into())),
                (1, json!({"v": 1}), "created".into(), Some("ada".into()))
            ]
        );
        assert_eq!(store.agent_by_name(" 海报 ").await.unwrap().map(|a| a.id), Some(agent.id), "found by folded name");
        assert!(store.delete_agent(agent.id).await.unwrap());
        assert!(store.agent_versions(agent.id).await.unwrap().is_empty(), "the history goes with the agent");
    })
    .await;
}

#[tokio::test]
async fn messages_append_in_order_truncate_and_recover_from_a_dead_run() {
    each_backend(|store| async move {
        let ada = store.create_user(new_user("ada", Role::Admin, at(0))).await.unwrap();
        let agent = store.create_agent("uid-1", &agent_write("a", json!({}), "created", None, at(0))).await.unwrap();
        let conversation = store
            .create_conversation(&zk_store::NewConversation {
                id: "c1".into(),
                user_id: ada.id,
                agent_id: agent.id,
                agent_name: "a".into(),
                title: "t".into(),
                chat_id: Some("chat-1".into()),
                variables: json!({}),
                source: "app".into(),
                now: at(1),
            })
            .await
            .unwrap();
        for (n, status) in [(1, "complete"), (2, "complete"), (3, "streaming")] {
            let message = store
                .append_message(&zk_store::NewMessage {
                    id: format!("m{n}"),
                    conversation_id: conversation.id.clone(),
                    role: if n % 2 == 1 { "user".into() } else { "assistant".into() },
                    text: format!("第{n}条 TEXT"),
                    status: status.into(),
                    attachments: json!([]),
                    detail: json!({}),
                    interactive_reply: false,
                    now: at(n),
                })
                .await
                .unwrap();
            assert_eq!(message.seq, n as i32, "seq counts up from 1");
        }
        assert_eq!(store.conversation("c1").await.unwrap().unwrap().message_count, 3);
        let hits = store.search_messages(ada.id, &zk_store::search_key("第2条 text"), 10).await.unwrap();
        assert_eq!(hits.iter().map(|h| h.message_id.as_str()).collect::<Vec<_>>(), ["m2"], "folded substring search");

        // A run that died leaves a streaming row that is not written any more.
        let error = json!({"code": "interrupted"});
        assert_eq!(store.interrupt_stale_messages(at(3), &error).await.unwrap(), 0, "not stale yet");
        assert_eq!(store.interrupt_stale_messages(at(60), &error).await.unwrap(), 1);
        let m3 = store.message("m3").await.unwrap().unwrap();
        assert_eq!((m3.status.as_str(), m3.text.as_str()), ("interrupted", "第3条 TEXT"), "the partial text stays");

        assert_eq!(store.truncate_messages("c1", 2).await.unwrap(), 2);
        let left: Vec<String> = store.messages("c1").await.unwrap().into_iter().map(|m| m.id).collect();
        assert_eq!(left, ["m1"]);
        assert_eq!(store.conversation("c1").await.unwrap().unwrap().message_count, 1, "the count follows");
        assert_eq!(
            store.conversation_by_chat_id(ada.id, agent.id, "chat-1").await.unwrap().map(|c| c.id),
            Some("c1".to_owned())
        );
        assert!(store.delete_agent(agent.id).await.unwrap());
        let kept = store.conversation("c1").await.unwrap().unwrap();
        assert_eq!((kept.agent_id, kept.agent_name.as_str()), (None, "a"), "deleting an agent keeps its conversations");
    })
    .await;
}
