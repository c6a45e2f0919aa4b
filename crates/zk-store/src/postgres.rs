//! PostgreSQL: the team deployment. Several server instances share one database; tasks are claimed
//! with `FOR UPDATE SKIP LOCKED` so no two instances run the same task.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use serde_json::Value;

use super::sql::impl_store;
use super::*;
use crate::error::StoreError;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    const BACKEND: &'static str = "postgres";
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

    /// Connects lazily: the server starts even while the database is down, and every request during an
    /// outage fails within `acquire_timeout` instead of hanging (sqlx's default is 30 s).
    pub async fn connect(
        options: PgConnectOptions,
        pool_max: u32,
        pool_min: u32,
        acquire_timeout: Duration,
    ) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(pool_max)
            .min_connections(pool_min)
            .acquire_timeout(acquire_timeout)
            // A connection broken by a database restart is detected before use, not by the request.
            .test_before_acquire(true)
            .idle_timeout(Duration::from_secs(600))
            .connect_lazy_with(options.application_name("zk-agent"));
        let store = Self { pool };
        store.ping().await.map_err(|e| match e {
            StoreError::Unavailable(m) => StoreError::Unavailable(m),
            other => StoreError::Unavailable(other.to_string()),
        })?;
        Ok(store)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl_store!(
    PostgresStore,
    sqlx::Postgres,
    "UPDATE tasks SET state = 'running', attempts = attempts + 1, lease_token = $2, lease_until = $4, \
       progress = CASE WHEN state = 'running' THEN progress ELSE 0 END, \
       started_at = COALESCE(started_at, $3), updated_at = $3 \
     WHERE id = (SELECT id FROM tasks WHERE kind IN (SELECT jsonb_array_elements_text($1::jsonb)) \
       AND ((state = 'queued' AND run_after <= $3) OR (state = 'running' AND lease_until < $3)) \
       ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING *",
    // Instances claim side by side: a row another instance is claiming is skipped, never waited for.
    "UPDATE object_sync SET state = 'uploading', claimed_by = $1, lease_until = $3, attempts = attempts + 1, \
       updated_at = $2 \
     WHERE sha256 = (SELECT sha256 FROM object_sync \
       WHERE (state = 'pending' AND next_attempt_at <= $2) OR (state = 'uploading' AND lease_until < $2) \
       ORDER BY next_attempt_at, sha256 LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING *"
);
