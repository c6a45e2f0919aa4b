//! Administration: the audit log, the error log and system configuration (feature flags, defaults).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::audit::{self, AuditLog};
use crate::cache::Cache;
use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::request::{Principal, RequestMeta};
use crate::store::{AuditRecord, ConfigEntry, ErrorRecord, LogQuery, NewAuditEntry, Store, Timestamp};

const CONFIG_CACHE_TTL: Duration = Duration::from_secs(60);
const MAX_CONFIG_VALUE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ConfigView {
    pub key: String,
    pub value: Value,
    pub updated_at: Timestamp,
    pub updated_by: Option<i64>,
}

impl From<ConfigEntry> for ConfigView {
    fn from(entry: ConfigEntry) -> Self {
        Self { key: entry.key, value: entry.value.0, updated_at: entry.updated_at, updated_by: entry.updated_by }
    }
}

pub struct AdminService {
    store: Arc<dyn Store>,
    cache: Arc<Cache>,
    clock: SharedClock,
    audit: AuditLog,
}

impl AdminService {
    pub fn new(store: Arc<dyn Store>, cache: Arc<Cache>, clock: SharedClock, audit: AuditLog) -> Self {
        Self { store, cache, clock, audit }
    }

    /// Records an audit entry for a front door (a refused cross-site request, say).
    pub async fn record(&self, entry: NewAuditEntry, meta: &RequestMeta) {
        self.audit.record(entry, meta).await;
    }

    pub async fn config(&self) -> CoreResult<Vec<ConfigView>> {
        Ok(self.store.config_entries().await?.into_iter().map(ConfigView::from).collect())
    }

    /// One setting, through the cache (read on hot paths such as feature-flag checks).
    pub async fn config_value(&self, key: &str) -> CoreResult<Option<Value>> {
        let cache_key = format!("config:{key}");
        if let Some(hit) = self.cache.get_json::<Option<Value>>(&cache_key).await {
            return Ok(hit);
        }
        let value = self.store.config_entry(key).await?.map(|e| e.value.0);
        self.cache.set_json(&cache_key, &value, CONFIG_CACHE_TTL).await;
        Ok(value)
    }

    pub async fn set_config(
        &self,
        actor: Option<&Principal>,
        key: &str,
        value: Value,
        meta: &RequestMeta,
    ) -> CoreResult<()> {
        validate_config_key(key)?;
        let size = serde_json::to_vec(&value).map_err(anyhow::Error::from)?.len();
        if size > MAX_CONFIG_VALUE_BYTES {
            return Err(CoreError::TooLarge {
                what: format!("the value of {key}"),
                limit: MAX_CONFIG_VALUE_BYTES as u64,
            });
        }
        let previous = self.store.config_entry(key).await?.map(|e| e.value.0);
        let entry = audit::prepare(
            NewAuditEntry {
                actor_id: actor.map(|a| a.user_id),
                actor_name: Some(actor.map_or_else(|| "cli".to_owned(), |a| a.username.clone())),
                action: "config.change".into(),
                target: Some(format!("config:{key}")),
                outcome: "ok".into(),
                details: json!({ "from": previous, "to": value }),
                ..NewAuditEntry::default()
            },
            meta,
        );
        // The change and its audit entry land together: no unaudited change, no entry for a change
        // that did not happen.
        let now = Timestamp::from(self.clock.now());
        let mut unit = self.store.begin().await?;
        unit.set_config_entry(key, &value, actor.map(|a| a.user_id), now).await?;
        unit.append_audit(&entry, now).await?;
        unit.commit().await?;
        self.cache.delete(&format!("config:{key}")).await;
        Ok(())
    }

    /// Adds the default settings that are missing (`zk-agent seed`, and every start); an existing
    /// value, an admin's, is never overwritten. Returns the keys it added.
    pub async fn seed_defaults(&self, meta: &RequestMeta) -> CoreResult<Vec<&'static str>> {
        let now = Timestamp::from(self.clock.now());
        let mut unit = self.store.begin().await?;
        let mut added = Vec::new();
        for (key, value) in default_settings() {
            if unit.add_config_entry(key, &value, now).await? {
                let entry = NewAuditEntry {
                    actor_name: Some("defaults".into()),
                    action: "config.change".into(),
                    target: Some(format!("config:{key}")),
                    outcome: "ok".into(),
                    details: json!({ "from": null, "to": value }),
                    ..NewAuditEntry::default()
                };
                unit.append_audit(&audit::prepare(entry, meta), now).await?;
                added.push(key);
            }
        }
        unit.commit().await?;
        for key in &added {
            self.cache.delete(&format!("config:{key}")).await;
        }
        Ok(added)
    }

    pub async fn audit_entries(&self, query: LogQuery) -> CoreResult<Vec<AuditRecord>> {
        Ok(self.store.audit_entries(&clamp(query)).await?)
    }

    pub async fn error_entries(&self, query: LogQuery) -> CoreResult<Vec<ErrorRecord>> {
        Ok(self.store.error_entries(&clamp(query)).await?)
    }
}

/// Settings every installation starts with: feature flags and the UI's defaults.
pub fn default_settings() -> Vec<(&'static str, Value)> {
    vec![
        ("features.chat", json!(true)),
        ("features.cad", json!(true)),
        ("features.posters", json!(true)),
        ("features.sync", json!(false)),
        ("ui.default_language", json!("auto")),
        ("ui.default_theme", json!("system")),
        ("tasks.default_timeout_secs", json!(600)),
    ]
}

fn clamp(mut query: LogQuery) -> LogQuery {
    query.limit = query.limit.clamp(1, 500);
    query
}

fn validate_config_key(key: &str) -> CoreResult<()> {
    let ok = !key.is_empty()
        && key.len() <= 100
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid("key", "a setting key has 1 to 100 characters: lower-case letters, digits and . _ -"))
    }
}
