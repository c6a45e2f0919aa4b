//! System settings.

#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test]
async fn system_config_is_upserted_and_listed_by_key() {
    each_backend(|store| async move {
        let admin = store.create_user(new_user("admin", Role::Admin, at(0))).await.unwrap();
        assert!(store.config_entries().await.unwrap().is_empty(), "a fresh database has no configuration");
        assert!(store.config_entry("tasks.workers").await.unwrap().is_none(), "an unset key reads as none");

        let limits = json!({ "upload": { "max_bytes": 104_857_600_u64, "types": ["dxf", "dwg"] }, "note": "中文" });
        store.set_config_entry("uploads", &limits, Some(admin.id), at(1)).await.unwrap();
        store.set_config_entry("agents.default", &json!("designer"), None, at(2)).await.unwrap();
        store.set_config_entry("tasks.workers", &json!(4), Some(admin.id), at(3)).await.unwrap();

        let keys: Vec<String> = store.config_entries().await.unwrap().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["agents.default", "tasks.workers", "uploads"], "entries are listed in key order");

        let uploads = store.config_entry("uploads").await.unwrap().unwrap();
        assert_eq!(uploads.value.0, limits, "a JSON value round-trips exactly");
        assert_eq!(uploads.updated_by, Some(admin.id));
        assert_eq!(uploads.updated_at, at(1));

        store.set_config_entry("uploads", &json!({ "upload": null }), None, at(9)).await.unwrap();
        let overwritten = store.config_entry("uploads").await.unwrap().unwrap();
        assert_eq!(overwritten.value.0, json!({ "upload": null }), "setting a key again replaces its value");
        assert_eq!(overwritten.updated_at, at(9), "the overwrite's instant replaces the old one");
        assert_eq!(overwritten.updated_by, None, "the overwrite's author replaces the old one");
        assert_eq!(store.config_entries().await.unwrap().len(), 3, "an overwrite adds no entry");
    })
    .await;
}
