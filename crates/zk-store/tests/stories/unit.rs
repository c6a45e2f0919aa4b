//! Units of work: writes that commit together or not at all.

#![allow(clippy::unwrap_used)]

use super::*;

fn file_row(id: &str, now: Timestamp) -> FileRecord {
    FileRecord {
        id: id.to_owned(),
        sha256: "ab".repeat(32),
        size: 3,
        media_type: "text/plain".into(),
        original_name: format!("{id}.txt"),
        uploaded_by: None,
        created_at: now,
    }
}

fn audit(action: &str) -> NewAuditEntry {
    NewAuditEntry { action: action.into(), outcome: "ok".into(), details: json!({}), ..NewAuditEntry::default() }
}

async fn audit_actions(store: &Arc<dyn Store>) -> Vec<String> {
    let entries = store.audit_entries(&LogQuery { limit: 100, ..LogQuery::default() }).await.unwrap();
    entries.into_iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn a_committed_unit_makes_every_write_visible_at_once() {
    each_backend(|store| async move {
        let admin = store.create_user(new_user("ada", Role::Viewer, at(0))).await.unwrap();
        let mut unit = store.begin().await.unwrap();
        unit.insert_file(&file_row("f1", at(1))).await.unwrap();
        unit.set_config_entry("features.posters", &json!(true), Some(admin.id), at(1)).await.unwrap();
        assert!(unit.set_user_role(admin.id, Role::Admin, at(1)).await.unwrap());
        assert!(!unit.set_user_role(admin.id + 1000, Role::Admin, at(1)).await.unwrap(), "no such user");
        let audit_id = unit.append_audit(&audit("config.change"), at(1)).await.unwrap();
        assert!(audit_id > 0);

        // Not visible to other connections before the commit.
        assert!(store.file("f1").await.unwrap().is_none(), "an uncommitted file row is invisible");
        assert!(store.config_entry("features.posters").await.unwrap().is_none());
        assert!(audit_actions(&store).await.is_empty());

        unit.commit().await.unwrap();
        assert_eq!(store.file("f1").await.unwrap().unwrap().original_name, "f1.txt");
        assert_eq!(store.config_entry("features.posters").await.unwrap().unwrap().value.0, json!(true));
        assert_eq!(store.user(admin.id).await.unwrap().unwrap().role(), Role::Admin);
        assert_eq!(audit_actions(&store).await, vec!["config.change"]);
    })
    .await;
}

#[tokio::test]
async fn a_unit_dropped_without_commit_leaves_nothing_behind() {
    each_backend(|store| async move {
        let user = store.create_user(new_user("bo", Role::Viewer, at(0))).await.unwrap();
        {
            let mut unit = store.begin().await.unwrap();
            unit.insert_file(&file_row("f1", at(1))).await.unwrap();
            unit.set_user_role(user.id, Role::Admin, at(1)).await.unwrap();
            unit.append_audit(&audit("user.role"), at(1)).await.unwrap();
            // Dropped here: the caller returned early with an error, say.
        }
        assert!(store.file("f1").await.unwrap().is_none());
        assert_eq!(store.user(user.id).await.unwrap().unwrap().role(), Role::Viewer);
        assert!(audit_actions(&store).await.is_empty());
        // The connection went back to the pool usable: the same writes commit now.
        let mut unit = store.begin().await.unwrap();
        unit.insert_file(&file_row("f1", at(2))).await.unwrap();
        unit.commit().await.unwrap();
        assert!(store.file("f1").await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn a_failed_write_inside_a_unit_commits_none_of_it() {
    each_backend(|store| async move {
        store.insert_file(&file_row("taken", at(0))).await.unwrap();
        let mut unit = store.begin().await.unwrap();
        unit.append_audit(&audit("file.upload"), at(1)).await.unwrap();
        let err = unit.insert_file(&file_row("taken", at(1))).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "a duplicate id conflicts, got {err:?}");
        drop(unit);
        assert!(audit_actions(&store).await.is_empty(), "the audit entry went with the failed unit");
    })
    .await;
}

#[tokio::test]
async fn adding_a_setting_never_overwrites_one_that_exists() {
    each_backend(|store| async move {
        let admin = store.create_user(new_user("cy", Role::Admin, at(0))).await.unwrap();
        store.set_config_entry("ui.default_theme", &json!("dark"), Some(admin.id), at(0)).await.unwrap();
        let mut unit = store.begin().await.unwrap();
        assert!(!unit.add_config_entry("ui.default_theme", &json!("system"), at(1)).await.unwrap());
        assert!(unit.add_config_entry("features.chat", &json!(true), at(1)).await.unwrap());
        unit.commit().await.unwrap();
        let theme = store.config_entry("ui.default_theme").await.unwrap().unwrap();
        assert_eq!((theme.value.0, theme.updated_at, theme.updated_by), (json!("dark"), at(0), Some(admin.id)));
        let chat = store.config_entry("features.chat").await.unwrap().unwrap();
        assert_eq!((chat.value.0, chat.updated_at, chat.updated_by), (json!(true), at(1), None));
    })
    .await;
}
