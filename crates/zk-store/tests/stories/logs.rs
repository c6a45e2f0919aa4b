//! The audit log and the error log.

#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test]
async fn audit_log_is_appended_filtered_and_paged_newest_first() {
    each_backend(|store| async move {
        let actions = ["user.login", "user.logout", "user.login", "config.set", "user.login"];
        let mut appended = Vec::new();
        for (i, action) in actions.iter().enumerate() {
            let entry = NewAuditEntry {
                actor_id: Some(7),
                actor_name: Some("frank".into()),
                action: (*action).to_owned(),
                target: Some(format!("target-{i}")),
                outcome: if i == 2 { "denied".into() } else { "ok".into() },
                ip: Some("192.0.2.10".into()),
                request_id: Some(format!("req-{i}")),
                details: json!({ "step": i }),
            };
            appended.push(store.append_audit(&entry, at(i as i64)).await.unwrap());
        }
        assert!(appended.windows(2).all(|w| w[0] < w[1]), "audit ids grow with each append");

        let all = store.audit_entries(&LogQuery { limit: 100, ..LogQuery::default() }).await.unwrap();
        let newest_first: Vec<i64> = appended.iter().rev().copied().collect();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), newest_first, "entries come newest first");
        let third = all.iter().find(|e| e.id == appended[2]).unwrap();
        assert_eq!(third.at, at(2));
        assert_eq!((third.actor_id, third.actor_name.as_deref()), (Some(7), Some("frank")));
        assert_eq!((third.action.as_str(), third.outcome.as_str()), ("user.login", "denied"));
        assert_eq!(third.target.as_deref(), Some("target-2"));
        assert_eq!(third.ip.as_deref(), Some("192.0.2.10"));
        assert_eq!(third.request_id.as_deref(), Some("req-2"));
        assert_eq!(third.details.0, json!({ "step": 2 }));

        let logins = LogQuery { kind: Some("user.login".into()), limit: 100, ..LogQuery::default() };
        let found: Vec<i64> = store.audit_entries(&logins).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[4], appended[2], appended[0]], "the kind filter matches the action");

        let page1 = store.audit_entries(&LogQuery { limit: 2, ..LogQuery::default() }).await.unwrap();
        assert_eq!(page1.iter().map(|e| e.id).collect::<Vec<_>>(), vec![appended[4], appended[3]]);
        let page2 = store
            .audit_entries(&LogQuery { before_id: Some(page1[1].id), limit: 2, ..LogQuery::default() })
            .await
            .unwrap();
        assert_eq!(
            page2.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![appended[2], appended[1]],
            "before_id pages on"
        );
        let page3 = store
            .audit_entries(&LogQuery { before_id: Some(page2[1].id), limit: 2, ..LogQuery::default() })
            .await
            .unwrap();
        assert_eq!(page3.iter().map(|e| e.id).collect::<Vec<_>>(), vec![appended[0]], "the last page is short");

        let filtered_page = LogQuery { kind: Some("user.login".into()), before_id: Some(appended[4]), limit: 1 };
        let found: Vec<i64> = store.audit_entries(&filtered_page).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[2]], "kind, before_id and limit combine");

        let minimal = NewAuditEntry { action: "system.start".into(), outcome: "ok".into(), ..NewAuditEntry::default() };
        let id = store.append_audit(&minimal, at(99)).await.unwrap();
        let read = store.audit_entries(&LogQuery { limit: 1, ..LogQuery::default() }).await.unwrap();
        assert_eq!(read[0].id, id);
        assert_eq!((read[0].actor_id, read[0].actor_name.as_deref(), read[0].ip.as_deref()), (None, None, None));
        assert_eq!(read[0].details.0, serde_json::Value::Null, "a system event may have no actor and no details");
    })
    .await;
}

#[tokio::test]
async fn error_log_is_appended_filtered_and_paged_newest_first() {
    each_backend(|store| async move {
        let levels = ["ERROR", "WARN", "ERROR", "WARN"];
        let mut appended = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            let entry = NewErrorEntry {
                at: at(i as i64),
                level: (*level).to_owned(),
                source: "zk_core::tasks".into(),
                message: format!("problem {i}"),
                request_id: (i % 2 == 0).then(|| format!("req-{i}")),
                user_id: Some(i as i64),
                context: json!({ "attempt": i }),
            };
            appended.push(store.append_error(&entry).await.unwrap());
        }
        assert!(appended.windows(2).all(|w| w[0] < w[1]), "error ids grow with each append");

        let all = store.error_entries(&LogQuery { limit: 100, ..LogQuery::default() }).await.unwrap();
        let newest_first: Vec<i64> = appended.iter().rev().copied().collect();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), newest_first, "entries come newest first");
        let first = all.last().unwrap();
        assert_eq!(first.at, at(0), "the entry's own instant is stored");
        assert_eq!((first.level.as_str(), first.source.as_str()), ("ERROR", "zk_core::tasks"));
        assert_eq!(first.message, "problem 0");
        assert_eq!((first.request_id.as_deref(), first.user_id), (Some("req-0"), Some(0)));
        assert_eq!(first.context.0, json!({ "attempt": 0 }));
        assert_eq!(all[0].request_id, None, "a missing request id stays missing");

        let errors = LogQuery { kind: Some("ERROR".into()), limit: 100, ..LogQuery::default() };
        let found: Vec<i64> = store.error_entries(&errors).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[2], appended[0]], "the kind filter matches the level");

        let page = LogQuery { before_id: Some(appended[2]), limit: 1, ..LogQuery::default() };
        let found: Vec<i64> = store.error_entries(&page).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(found, vec![appended[1]], "before_id pages backwards");
    })
    .await;
}
