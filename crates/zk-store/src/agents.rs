//! Agents and their version history: records, the [`AgentStore`] trait, and its SQL for both backends.

use async_trait::async_trait;
use serde_json::Value;

use super::Timestamp;
use crate::error::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRecord {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub name_key: String,
    pub kind: String,
    pub provider: String,
    pub enabled: bool,
    pub version: i32,
    pub spec: sqlx::types::Json<Value>,
    pub source_file: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentVersionRecord {
    pub agent_id: i64,
    pub version: i32,
    pub spec: sqlx::types::Json<Value>,
    pub change: String,
    pub created_by: Option<i64>,
    /// The author's username, joined in for history listings.
    pub created_by_name: Option<String>,
    pub created_at: Timestamp,
}

/// One write of an agent: a new agent, or the next version of one.
#[derive(Debug, Clone)]
pub struct AgentWrite {
    pub name: String,
    pub kind: String,
    pub provider: String,
    pub enabled: bool,
    pub spec: Value,
    /// What this version is, for the history: "created", "edited", "restored version 2" …
    pub change: String,
    pub source_file: Option<String>,
    pub by: Option<i64>,
    pub now: Timestamp,
}

#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Inserts the agent as version 1, with its first history entry.
    async fn create_agent(&self, uid: &str, agent: &AgentWrite) -> StoreResult<AgentRecord>;
    /// Writes the next version if the agent is still at `expected_version`; `None` when it is not
    /// (someone else saved first) or the agent is gone.
    async fn update_agent(
        &self,
        id: i64,
        expected_version: i32,
        agent: &AgentWrite,
    ) -> StoreResult<Option<AgentRecord>>;
    async fn agent(&self, id: i64) -> StoreResult<Option<AgentRecord>>;
    async fn agent_by_name(&self, name: &str) -> StoreResult<Option<AgentRecord>>;
    async fn list_agents(&self) -> StoreResult<Vec<AgentRecord>>;
    /// Deletes the agent and its history; its conversations keep their messages and the agent's name.
    async fn delete_agent(&self, id: i64) -> StoreResult<bool>;
    /// Newest first.
    async fn agent_versions(&self, id: i64) -> StoreResult<Vec<AgentVersionRecord>>;
    async fn agent_version(&self, id: i64, version: i32) -> StoreResult<Option<AgentVersionRecord>>;
}

pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Implements [`AgentStore`] for `$store` over a `sqlx::Pool<$db>` in its `pool` field.
macro_rules! impl_agent_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::AgentStore for $store {
            async fn create_agent(&self, uid: &str, agent: &AgentWrite) -> StoreResult<AgentRecord> {
                let mut tx = self.pool.begin().await?;
                let record = sqlx::query_as::<$db, AgentRecord>(
                    "INSERT INTO agents (uid, name, name_key, kind, provider, enabled, version, spec, source_file, \
                     created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $10) RETURNING *",
                )
                .bind(uid)
                .bind(&agent.name)
                .bind($crate::agents::name_key(&agent.name))
                .bind(&agent.kind)
                .bind(&agent.provider)
                .bind(agent.enabled)
                .bind(sqlx::types::Json(&agent.spec))
                .bind(&agent.source_file)
                .bind(agent.by)
                .bind(agent.now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| duplicate_name(e, &agent.name))?;
                $crate::agents::insert_version!($db, &mut *tx, record.id, 1, agent);
                tx.commit().await?;
                Ok(record)
            }

            async fn update_agent(&self, id: i64, expected_version: i32, agent: &AgentWrite) -> StoreResult<Option<AgentRecord>> {
                let mut tx = self.pool.begin().await?;
                let record = sqlx::query_as::<$db, AgentRecord>(
                    "UPDATE agents SET name = $3, name_key = $4, kind = $5, provider = $6, enabled = $7, spec = $8, \
                     source_file = $9, version = version + 1, updated_at = $10 \
                     WHERE id = $1 AND version = $2 RETURNING *",
                )
                .bind(id)
                .bind(expected_version)
                .bind(&agent.name)
                .bind($crate::agents::name_key(&agent.name))
                .bind(&agent.kind)
                .bind(&agent.provider)
                .bind(agent.enabled)
                .bind(sqlx::types::Json(&agent.spec))
                .bind(&agent.source_file)
                .bind(agent.now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| duplicate_name(e, &agent.name))?;
                let Some(record) = record else { return Ok(None) };
                $crate::agents::insert_version!($db, &mut *tx, record.id, record.version, agent);
                tx.commit().await?;
                Ok(Some(record))
            }

            async fn agent(&self, id: i64) -> StoreResult<Option<AgentRecord>> {
                Ok(sqlx::query_as::<$db, AgentRecord>("SELECT * FROM agents WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
            }

            async fn agent_by_name(&self, name: &str) -> StoreResult<Option<AgentRecord>> {
                Ok(sqlx::query_as::<$db, AgentRecord>("SELECT * FROM agents WHERE name_key = $1")
                    .bind($crate::agents::name_key(name))
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn list_agents(&self) -> StoreResult<Vec<AgentRecord>> {
                Ok(sqlx::query_as::<$db, AgentRecord>("SELECT * FROM agents ORDER BY name_key").fetch_all(&self.pool).await?)
            }

            async fn delete_agent(&self, id: i64) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM agents WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn agent_versions(&self, id: i64) -> StoreResult<Vec<AgentVersionRecord>> {
                Ok(sqlx::query_as::<$db, AgentVersionRecord>(
                    "SELECT v.*, u.username AS created_by_name FROM agent_versions v \
                     LEFT JOIN users u ON u.id = v.created_by WHERE v.agent_id = $1 ORDER BY v.version DESC",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn agent_version(&self, id: i64, version: i32) -> StoreResult<Option<AgentVersionRecord>> {
                Ok(sqlx::query_as::<$db, AgentVersionRecord>(
                    "SELECT v.*, u.username AS created_by_name FROM agent_versions v \
                     LEFT JOIN users u ON u.id = v.created_by WHERE v.agent_id = $1 AND v.version = $2",
                )
                .bind(id)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?)
            }
        }

        fn duplicate_name(error: sqlx::Error, name: &str) -> StoreError {
            match StoreError::from(error) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("an agent named {name:?} already exists")),
                other => other,
            }
        }
    };
}

/// Appends one history entry inside the caller's transaction.
macro_rules! insert_version {
    ($db:ty, $conn:expr, $id:expr, $version:expr, $agent:expr) => {
        sqlx::query::<$db>(
            "INSERT INTO agent_versions (agent_id, version, spec, change, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($id)
        .bind($version)
        .bind(sqlx::types::Json(&$agent.spec))
        .bind(&$agent.change)
        .bind($agent.by)
        .bind($agent.now)
        .execute($conn)
        .await?;
    };
}

pub(crate) use {impl_agent_store, insert_version};
