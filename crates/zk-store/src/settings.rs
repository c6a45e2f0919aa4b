//! System settings: feature flags and defaults an admin changes at run time, as JSON values by key.

use async_trait::async_trait;
use serde_json::Value;

use crate::Timestamp;
use crate::error::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConfigEntry {
    pub key: String,
    pub value: sqlx::types::Json<Value>,
    pub updated_at: Timestamp,
    pub updated_by: Option<i64>,
}

/// System settings, by key.
///
/// Methods that take a `now` never read the clock themselves: the caller's clock decides.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn config_entries(&self) -> StoreResult<Vec<ConfigEntry>>;
    async fn config_entry(&self, key: &str) -> StoreResult<Option<ConfigEntry>>;
    async fn set_config_entry(&self, key: &str, value: &Value, by: Option<i64>, now: Timestamp) -> StoreResult<()>;
}

/// Implements [`SettingsStore`] for `$store`, whose `pool` field is a `sqlx::Pool<$db>`.
macro_rules! impl_settings_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::SettingsStore for $store {
            async fn config_entries(&self) -> StoreResult<Vec<ConfigEntry>> {
                Ok(sqlx::query_as::<$db, ConfigEntry>("SELECT * FROM system_config ORDER BY key")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn config_entry(&self, key: &str) -> StoreResult<Option<ConfigEntry>> {
                Ok(sqlx::query_as::<$db, ConfigEntry>("SELECT * FROM system_config WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn set_config_entry(
                &self,
                key: &str,
                value: &serde_json::Value,
                by: Option<i64>,
                now: Timestamp,
            ) -> StoreResult<()> {
                $crate::settings::set_config_entry!($db, &self.pool, key, value, by, now)
            }
        }
    };
}

/// Sets one setting (insert or replace) on `$executor`: the pool, or a unit of work's transaction.
macro_rules! set_config_entry {
    ($db:ty, $executor:expr, $key:expr, $value:expr, $by:expr, $now:expr) => {{
        let value: &serde_json::Value = $value;
        sqlx::query::<$db>(
            "INSERT INTO system_config (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind($key)
        .bind(sqlx::types::Json(value))
        .bind($now)
        .bind($by)
        .execute($executor)
        .await
        .map(|_| ())
        .map_err($crate::StoreError::from)
    }};
}

/// Adds a setting unless it exists, on `$executor`; whether it was added. An existing value (an
/// admin's) is never overwritten, also when two instances seed at once.
macro_rules! add_config_entry {
    ($db:ty, $executor:expr, $key:expr, $value:expr, $now:expr) => {{
        let value: &serde_json::Value = $value;
        sqlx::query::<$db>(
            "INSERT INTO system_config (key, value, updated_at, updated_by) VALUES ($1, $2, $3, NULL) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind($key)
        .bind(sqlx::types::Json(value))
        .bind($now)
        .execute($executor)
        .await
        .map(|done| done.rows_affected() == 1)
        .map_err($crate::StoreError::from)
    }};
}

pub(crate) use {add_config_entry, impl_settings_store, set_config_entry};
