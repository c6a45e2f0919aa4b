//! Administration: the audit log, the error log and system configuration (feature flags, defaults).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::accounts::{Principal, RequestMeta};
use crate::cache::Cache;
use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::store::{AuditRecord, ConfigEntry, ErrorRecord, LogQuery, NewAuditEntry, Store, Timestamp};

const CONFIG_CACHE_TTL: Duration = Duration::from_secs(60);
const MAX_CONFIG_VALUE_BYTES: usize = 64 * 1024;

/// Appends audit entries. A failed append is logged as an error but does not undo the action it
/// describes: by then the action has happened.
#[derive(Clone)]
pub struct AuditLog {
    store: Arc<dyn Store>,
    clock: SharedClock,
}

impl AuditLog {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    pub async fn record(&self, mut entry: NewAuditEntry, meta: &RequestMeta) {
        entry.ip = entry.ip.or_else(|| meta.ip.clone());
        entry.request_id = entry.request_id.or_else(|| meta.request_id.clone());
        if entry.details.is_null() {
            entry.details = json!({});
        }
        if let Err(error) = self.store.append_audit(&entry, Timestamp::from(self.clock.now())).await {
            tracing::error!(action = %entry.action, %error, "cannot write the audit log");
        }
    }
}

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
        self.store.set_config_entry(key, &value, actor.map(|a| a.user_id), Timestamp::from(self.clock.now())).await?;
        self.cache.delete(&format!("config:{key}")).await;
        self.audit
            .record(
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
            )
            .await;
        Ok(())
    }

    pub async fn audit_entries(&self, query: LogQuery) -> CoreResult<Vec<AuditRecord>> {
        Ok(self.store.audit_entries(&clamp(query)).await?)
    }

    pub async fn error_entries(&self, query: LogQuery) -> CoreResult<Vec<ErrorRecord>> {
        Ok(self.store.error_entries(&clamp(query)).await?)
    }
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
