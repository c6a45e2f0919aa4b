//! Agents: named, versioned configurations of a model endpoint (FastGPT or OpenAI-compatible).
//!
//! Every change (edit, enable, restore, import, a watched file) writes a new version and keeps the
//! old ones; the history can be compared and restored. API keys stay out of the database: see [`keys`].

pub mod diff;
pub mod file;
pub mod keys;
pub mod request;
pub mod spec;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

pub use diff::FieldChange;
pub use file::{FileFormat, FileProblem};
pub use keys::{AgentKeys, MemoryKeys};
pub use request::{AnswerStream, Exchange};
pub use spec::{AgentKind, AgentParameters, AgentSpec, ProviderKind, SpecProblem};

use crate::audit::AuditLog;
use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::request::{Principal, RequestMeta};
use crate::secret::Secret;
use crate::store::{AgentRecord, AgentVersionRecord, AgentWrite, NewAuditEntry, Store, Timestamp};
use crate::upstream::UpstreamHealth;

/// Where an agent's key comes from right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyState {
    /// In the key store (OS keychain or encrypted file).
    Stored,
    /// From the environment variable the agent names.
    Environment { var: String },
    /// The agent names an environment variable that is not set in this process.
    MissingEnvironment { var: String },
    /// No key anywhere: fine for a local model server, refused by FastGPT.
    Missing,
    /// The key store cannot be read; the reason says what to do.
    Unavailable { reason: String },
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AgentView {
    pub id: i64,
    pub version: i32,
    pub spec: AgentSpec,
    pub key: KeyState,
    /// The watched-folder file this agent comes from: editing that file updates it.
    pub source_file: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AgentVersionView {
    pub version: i32,
    pub spec: AgentSpec,
    pub change: String,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AgentDiffView {
    pub from: i32,
    pub to: i32,
    pub changes: Vec<FieldChange>,
}

/// A create or an edit from the editor or the API.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AgentInput {
    pub spec: AgentSpec,
    /// A new API key to keep in the key store; absent leaves the stored key as it is.
    #[serde(default)]
    #[ts(optional)]
    pub api_key: Option<String>,
    /// Edits name the version they started from, so a concurrent edit is refused, not overwritten.
    #[serde(default)]
    #[ts(optional)]
    pub expected_version: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct ImportReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// The outcome of "test connection" and of the per-agent health probe.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AgentHealth {
    pub id: i64,
    pub name: String,
    pub provider: ProviderKind,
    pub health: UpstreamHealth,
}

/// What a chat run needs of an agent: its configuration and a client with the key resolved.
pub struct ResolvedAgent {
    pub id: i64,
    pub spec: AgentSpec,
    pub client: zk_model_api::ModelClient,
}

pub struct AgentService {
    store: Arc<dyn Store>,
    clock: SharedClock,
    audit: AuditLog,
    keys: Arc<dyn AgentKeys>,
    /// The last per-agent probe, reused for a few seconds: the health route is public, and each call
    /// must not turn into a request to every FastGPT deployment. A std mutex: never held across an await.
    recent_probes: std::sync::Mutex<Option<(std::time::Instant, Vec<AgentHealth>)>>,
}

/// How long `/api/fastgpt/health` reuses its per-agent probes.
const PROBE_REUSE: Duration = Duration::from_secs(10);

impl AgentService {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock, audit: AuditLog, keys: Arc<dyn AgentKeys>) -> Self {
        Self { store, clock, audit, keys, recent_probes: std::sync::Mutex::new(None) }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    pub fn keys(&self) -> &Arc<dyn AgentKeys> {
        &self.keys
    }

    pub async fn list(&self) -> CoreResult<Vec<AgentView>> {
        let records = self.store.list_agents().await?;
        let mut views = Vec::with_capacity(records.len());
        for record in records {
            views.push(self.view(record).await?);
        }
        Ok(views)
    }

    pub async fn get(&self, id: i64) -> CoreResult<AgentView> {
        let record = self.record(id).await?;
        self.view(record).await
    }

    /// The agent named `name` (case-insensitive), for the CLI's `--agent`.
    pub async fn get_by_name(&self, name: &str) -> CoreResult<AgentView> {
        match self.store.agent_by_name(name).await? {
            Some(record) => self.view(record).await,
            None => Err(CoreError::NotFound(format!("agent {name:?}"))),
        }
    }

    pub async fn create(&self, actor: &Principal, input: AgentInput, meta: &RequestMeta) -> CoreResult<AgentView> {
        let spec = checked(input.spec)?;
        let uid = uuid::Uuid::new_v4().to_string();
        if let Some(key) = non_empty_key(input.api_key.as_deref()) {
            // Stored first: an agent must not exist with a key the user typed and we lost.
            self.keys.set(&keys::entry_for(&uid), &key).await?;
        }
        let write = self.write(&spec, "created", None, Some(actor.user_id))?;
        let record = match self.store.create_agent(&uid, &write).await {
            Ok(record) => record,
            Err(error) => {
                let _ = self.keys.delete(&keys::entry_for(&uid)).await;
                return Err(error.into());
            }
        };
        self.audit_change(actor, "agent.create", &record, meta).await;
        self.view(record).await
    }

    pub async fn update(
        &self,
        actor: &Principal,
        id: i64,
        input: AgentInput,
        meta: &RequestMeta,
    ) -> CoreResult<AgentView> {
        let current = self.record(id).await?;
        let expected = input.expected_version.unwrap_or(current.version);
        let spec = checked(input.spec)?;
        if let Some(key) = non_empty_key(input.api_key.as_deref()) {
            self.keys.set(&keys::entry_for(&current.uid), &key).await?;
            self.audit_change(actor, "agent.key_set", &current, meta).await;
        }
        if serde_json::to_value(&spec).ok() == Some(current.spec.0.clone()) && expected == current.version {
            // Nothing but (maybe) the key changed: no new version.
            return self.view(current).await;
        }
        let write = self.write(&spec, "edited", current.source_file.clone(), Some(actor.user_id))?;
        let record = self.store.update_agent(id, expected, &write).await?.ok_or_else(|| stale(&current.name))?;
        self.audit_change(actor, "agent.update", &record, meta).await;
        self.view(record).await
    }

    /// Stores (or replaces) the agent's key without a new version: keys are not part of the history.
    pub async fn set_key(&self, actor: &Principal, id: i64, key: &str, meta: &RequestMeta) -> CoreResult<AgentView> {
        let record = self.record(id).await?;
        let key = non_empty_key(Some(key)).ok_or_else(|| CoreError::invalid("key", "the key is empty"))?;
        self.keys.set(&keys::entry_for(&record.uid), &key).await?;
        self.audit_change(actor, "agent.key_set", &record, meta).await;
        self.view(record).await
    }

    pub async fn clear_key(&self, actor: &Principal, id: i64, meta: &RequestMeta) -> CoreResult<AgentView> {
        let record = self.record(id).await?;
        self.keys.delete(&keys::entry_for(&record.uid)).await?;
        self.audit_change(actor, "agent.key_clear", &record, meta).await;
        self.view(record).await
    }

    pub async fn duplicate(
        &self,
        actor: &Principal,
        id: i64,
        name: Option<String>,
        meta: &RequestMeta,
    ) -> CoreResult<AgentView> {
        let source = self.record(id).await?;
        let mut spec = parse_spec(&source)?;
        spec.name = match name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            Some(name) => name,
            None => self.free_copy_name(&spec.name).await?,
        };
        let spec = checked(spec)?;
        let uid = uuid::Uuid::new_v4().to_string();
        let change = format!("duplicated from {} version {}", source.name, source.version);
        let record = self.store.create_agent(&uid, &self.write(&spec, &change, None, Some(actor.user_id))?).await?;
        // The copy uses the same key, kept under its own entry so the two can diverge.
        if let Ok(Some(key)) = self.keys.get(&keys::entry_for(&source.uid)).await {
            self.keys.set(&keys::entry_for(&uid), &key).await?;
        }
        self.audit_change(actor, "agent.duplicate", &record, meta).await;
        self.view(record).await
    }

    async fn free_copy_name(&self, name: &str) -> CoreResult<String> {
        for n in 1..100 {
            let candidate = if n == 1 { format!("{name} (copy)") } else { format!("{name} (copy {n})") };
            if self.store.agent_by_name(&candidate).await?.is_none() {
                return Ok(candidate);
            }
        }
        Err(CoreError::Conflict(format!("too many copies of {name:?}; name the copy yourself")))
    }

    pub async fn delete(&self, actor: &Principal, id: i64, meta: &RequestMeta) -> CoreResult<()> {
        let record = self.record(id).await?;
        if !self.store.delete_agent(id).await? {
            return Err(CoreError::NotFound(format!("agent {id}")));
        }
        if let Err(error) = self.keys.delete(&keys::entry_for(&record.uid)).await {
            tracing::warn!(agent = %record.name, %error, "the deleted agent's key stays in the key store");
        }
        self.audit_change(actor, "agent.delete", &record, meta).await;
        Ok(())
    }

    pub async fn versions(&self, id: i64) -> CoreResult<Vec<AgentVersionView>> {
        self.record(id).await?;
        self.store.agent_versions(id).await?.into_iter().map(version_view).collect()
    }

    pub async fn version(&self, id: i64, version: i32) -> CoreResult<AgentVersionView> {
        version_view(self.version_record(id, version).await?)
    }

    pub async fn diff(&self, id: i64, from: i32, to: i32) -> CoreResult<AgentDiffView> {
        let before = self.version_record(id, from).await?;
        let after = self.version_record(id, to).await?;
        Ok(AgentDiffView { from, to, changes: diff::diff(&before.spec.0, &after.spec.0) })
    }

    /// Makes an old version current again, as a new version (history only grows).
    pub async fn restore(&self, actor: &Principal, id: i64, version: i32, meta: &RequestMeta) -> CoreResult<AgentView> {
        let current = self.record(id).await?;
        let old = self.version_record(id, version).await?;
        let spec: AgentSpec = serde_json::from_value(old.spec.0)
            .map_err(|e| CoreError::Internal(anyhow::anyhow!("version {version} of agent {id} is unreadable: {e}")))?;
        let spec = checked(spec)?;
        let write = self.write(&spec, &format!("restored version {version}"), None, Some(actor.user_id))?;
        let record = self.store.update_agent(id, current.version, &write).await?.ok_or_else(|| stale(&current.name))?;
        self.audit_change(actor, "agent.restore", &record, meta).await;
        self.view(record).await
    }

    /// Imports a file of agents: each is created, or updated when an agent of that name exists.
    /// The whole file is checked first; any problem refuses the import and changes nothing.
    /// `actor` is `None` for the command line, which acts as the operator of the machine.
    pub async fn import(
        &self,
        actor: Option<&Principal>,
        text: &str,
        format: FileFormat,
        file_name: &str,
        meta: &RequestMeta,
    ) -> CoreResult<ImportReport> {
        let specs = file::parse_agents(text, format, file_name).map_err(file_problems)?;
        let by = actor.map(|a| a.user_id);
        let report = self.apply_specs(specs, &format!("imported from {file_name}"), None, by).await?;
        self.audit
            .record(
                NewAuditEntry {
                    actor_id: by,
                    actor_name: Some(actor.map_or_else(|| "zk-agent cli".to_owned(), |a| a.username.clone())),
                    action: "agent.import".into(),
                    target: Some(file_name.to_owned()),
                    outcome: "ok".into(),
                    details: json!({ "created": report.created, "updated": report.updated }),
                    ..NewAuditEntry::default()
                },
                meta,
            )
            .await;
        Ok(report)
    }

    /// Creates or updates agents by name. Used by import and by the watched folder (`source_file`).
    pub(crate) async fn apply_specs(
        &self,
        specs: Vec<AgentSpec>,
        change: &str,
        source_file: Option<&str>,
        by: Option<i64>,
    ) -> CoreResult<ImportReport> {
        let mut report = ImportReport::default();
        for spec in specs {
            let spec = checked(spec)?;
            let write = self.write(&spec, change, source_file.map(str::to_owned), by)?;
            match self.store.agent_by_name(&spec.name).await? {
                Some(existing) if existing.spec.0 == write.spec && existing.source_file.as_deref() == source_file => {
                    report.unchanged.push(spec.name)
                }
                Some(existing) => {
                    self.store
                        .update_agent(existing.id, existing.version, &write)
                        .await?
                        .ok_or_else(|| stale(&spec.name))?;
                    report.updated.push(spec.name);
                }
                None => {
                    self.store.create_agent(&uuid::Uuid::new_v4().to_string(), &write).await?;
                    report.created.push(spec.name);
                }
            }
        }
        Ok(report)
    }

    /// Agents as a file; all of them when `ids` is empty. Keys are never exported.
    pub async fn export(&self, ids: &[i64], format: FileFormat) -> CoreResult<String> {
        let mut specs = Vec::new();
        for record in self.store.list_agents().await? {
            if ids.is_empty() || ids.contains(&record.id) {
                specs.push(parse_spec(&record)?);
            }
        }
        if specs.is_empty() {
            return Err(CoreError::NotFound("agents to export".into()));
        }
        file::export_agents(&specs, format).map_err(|e| CoreError::Internal(anyhow::anyhow!(e)))
    }

    /// A client for the agent with its key resolved, refusing a disabled agent.
    pub async fn resolve(&self, id: i64) -> CoreResult<ResolvedAgent> {
        let record = self.record(id).await?;
        let spec = parse_spec(&record)?;
        if !spec.enabled {
            return Err(CoreError::Conflict(format!(
                "the agent {:?} is disabled; enable it to chat with it",
                spec.name
            )));
        }
        let key = self.key_for(&record, &spec).await?;
        let client = request::client_for(&spec, key)
            .map_err(|e| CoreError::Internal(anyhow::anyhow!("cannot build the HTTP client: {e}")))?;
        Ok(ResolvedAgent { id: record.id, spec, client })
    }

    /// Checks the agent's endpoint and key without a model call (FastGPT `getHistories`, OpenAI `/v1/models`).
    pub async fn test_connection(&self, id: i64) -> CoreResult<AgentHealth> {
        let record = self.record(id).await?;
        let spec = parse_spec(&record)?;
        let base_url = Some(crate::secret::redact_url(&spec.base_url));
        let key = match self.key_for(&record, &spec).await {
            Ok(key) => key,
            Err(error) => {
                let health = UpstreamHealth {
                    status: "no_key",
                    base_url,
                    latency_ms: None,
                    key_valid: None,
                    error: Some(error.to_string()),
                };
                return Ok(AgentHealth { id, name: spec.name, provider: spec.provider, health });
            }
        };
        let had_key = key.is_some();
        let client = zk_model_api::ModelClient::new(
            spec.provider.client_provider(),
            &spec.base_url,
            key.map(|k| zk_model_api::ApiKey::new(k.expose().clone())),
        )
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("cannot build the HTTP client: {e}")))?
        .with_request_timeout(Duration::from_secs(5));
        let started = std::time::Instant::now();
        let probed = client.probe().await;
        let health = crate::upstream::upstream_health(probed.map(|_| ()), base_url, started.elapsed(), had_key);
        Ok(AgentHealth { id, name: spec.name, provider: spec.provider, health })
    }

    /// The probe of every enabled FastGPT agent, concurrently (for `/api/fastgpt/health`); a result
    /// younger than ten seconds is reused.
    pub async fn fastgpt_health(&self) -> CoreResult<Vec<AgentHealth>> {
        if let Some((at, probes)) = self.recent_probes.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < PROBE_REUSE
        {
            return Ok(probes.clone());
        }
        let probes = self.probe_fastgpt_agents().await?;
        *self.recent_probes.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((std::time::Instant::now(), probes.clone()));
        Ok(probes)
    }

    async fn probe_fastgpt_agents(&self) -> CoreResult<Vec<AgentHealth>> {
        let ids: Vec<i64> = self
            .store
            .list_agents()
            .await?
            .into_iter()
            .filter(|r| r.enabled && r.provider == ProviderKind::Fastgpt.as_str())
            .map(|r| r.id)
            .collect();
        let probes = ids.into_iter().map(|id| self.test_connection(id));
        futures_util::future::join_all(probes).await.into_iter().collect()
    }

    async fn key_for(&self, record: &AgentRecord, spec: &AgentSpec) -> CoreResult<Option<Secret>> {
        let stored = self.keys.get(&keys::entry_for(&record.uid)).await;
        match (stored, &spec.api_key_env) {
            (Ok(Some(key)), _) => Ok(Some(key)),
            (_, Some(var)) => match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(Some(Secret::new(value.trim().to_owned()))),
                _ => Err(CoreError::Invalid {
                    message: format!(
                        "the agent {:?} takes its key from the environment variable {var}, which is not set; \
                         set it, or store the key in the agent's settings",
                        spec.name
                    ),
                    field: Some("api_key_env"),
                }),
            },
            (Ok(None), None) => Ok(None),
            // No key store here: the agent goes without a key (a local model server needs none; a
            // server that does answers 401, which the conversation shows with this hint in the log).
            (Err(error), None) => {
                tracing::debug!(agent = %spec.name, %error, "the key store cannot be read; asking without a key");
                Ok(None)
            }
        }
    }

    async fn key_state(&self, record: &AgentRecord, spec: &AgentSpec) -> KeyState {
        match self.keys.get(&keys::entry_for(&record.uid)).await {
            Ok(Some(_)) => return KeyState::Stored,
            Ok(None) => {}
            Err(error) if spec.api_key_env.is_none() => return KeyState::Unavailable { reason: error.to_string() },
            Err(_) => {}
        }
        if let Some(var) = &spec.api_key_env {
            let present = std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
            let var = var.clone();
            return if present { KeyState::Environment { var } } else { KeyState::MissingEnvironment { var } };
        }
        match self.keys.unavailable_reason().await {
            Some(reason) => KeyState::Unavailable { reason },
            None => KeyState::Missing,
        }
    }

    async fn record(&self, id: i64) -> CoreResult<AgentRecord> {
        self.store.agent(id).await?.ok_or_else(|| CoreError::NotFound(format!("agent {id}")))
    }

    async fn version_record(&self, id: i64, version: i32) -> CoreResult<AgentVersionRecord> {
        self.store
            .agent_version(id, version)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("version {version} of agent {id}")))
    }

    async fn view(&self, record: AgentRecord) -> CoreResult<AgentView> {
        let spec = parse_spec(&record)?;
        let key = self.key_state(&record, &spec).await;
        Ok(AgentView {
            id: record.id,
            version: record.version,
            spec,
            key,
            source_file: record.source_file,
            created_at: record.created_at,
            updated_at: record.updated_at,
        })
    }

    fn write(
        &self,
        spec: &AgentSpec,
        change: &str,
        source_file: Option<String>,
        by: Option<i64>,
    ) -> CoreResult<AgentWrite> {
        Ok(AgentWrite {
            name: spec.name.clone(),
            kind: spec.kind.as_str().to_owned(),
            provider: spec.provider.as_str().to_owned(),
            enabled: spec.enabled,
            spec: serde_json::to_value(spec).map_err(anyhow::Error::from)?,
            change: change.to_owned(),
            source_file,
            by,
            now: self.now(),
        })
    }

    async fn audit_change(&self, actor: &Principal, action: &str, record: &AgentRecord, meta: &RequestMeta) {
        self.audit
            .record(
                NewAuditEntry {
                    actor_id: Some(actor.user_id),
                    actor_name: Some(actor.username.clone()),
                    action: action.into(),
                    target: Some(record.name.clone()),
                    outcome: "ok".into(),
                    details: json!({ "agent_id": record.id, "version": record.version }),
                    ..NewAuditEntry::default()
                },
                meta,
            )
            .await;
    }
}

/// Normalizes and validates; every problem is returned at once.
fn checked(spec: AgentSpec) -> CoreResult<AgentSpec> {
    let spec = spec.normalized();
    let problems = spec.problems();
    if problems.is_empty() {
        return Ok(spec);
    }
    Err(CoreError::Problems {
        message: problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "),
        problems: serde_json::to_value(&problems).unwrap_or_default(),
    })
}

fn file_problems(problems: Vec<FileProblem>) -> CoreError {
    CoreError::Problems {
        message: problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        problems: serde_json::to_value(&problems).unwrap_or_default(),
    }
}

fn parse_spec(record: &AgentRecord) -> CoreResult<AgentSpec> {
    serde_json::from_value(record.spec.0.clone())
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("the stored agent {} is unreadable: {e}", record.id)))
}

fn version_view(record: AgentVersionRecord) -> CoreResult<AgentVersionView> {
    let spec = serde_json::from_value(record.spec.0).map_err(|e| {
        CoreError::Internal(anyhow::anyhow!(
            "version {} of agent {} is unreadable: {e}",
            record.version,
            record.agent_id
        ))
    })?;
    Ok(AgentVersionView {
        version: record.version,
        spec,
        change: record.change,
        created_by: record.created_by_name,
        created_at: record.created_at,
    })
}

fn non_empty_key(key: Option<&str>) -> Option<Secret> {
    key.map(str::trim).filter(|k| !k.is_empty()).map(|k| Secret::new(k.to_owned()))
}

fn stale(name: &str) -> CoreError {
    CoreError::Conflict(format!("the agent {name:?} was changed by someone else; reload it and apply your edit again"))
}
