//! "Analyse": a durable task (`cad.analyse`) that extracts a drawing's facts and, when a CAD agent
//! is configured, asks it for an analysis with those facts as context, through the model-API client
//! (one non-streamed request). The outcome is stored once per task: a retried or re-run task finds
//! it and writes nothing new.
//!
//! The facts sent are bounded ([`CONTEXT_BUDGET_CHARS`]): the summary parts (version, units, extents,
//! entity counts, layouts, the busiest layers and blocks) always go; distinct texts and dimension
//! values follow in drawing order until the budget is spent, and the note says what was left out.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::Facts;
use super::library::{CadLibrary, analysis_state};
use crate::agents::{AgentKind, AgentService, Exchange};
use crate::clock::SharedClock;
use crate::error::{CoreError, CoreResult};
use crate::metrics::{Metrics, ModelCall};
use crate::request::Principal;
use crate::store::{CadAnalysisOutcome, CadAnalysisRecord, NewCadAnalysis, Role, Store, TaskState, Timestamp};
use crate::tasks::{EnqueueRequest, TaskContext, TaskFailure, TaskHandler, TaskService};

pub const ANALYSE_TASK: &str = "cad.analyse";
/// How many characters of facts (as JSON) an analysis sends at most.
pub const CONTEXT_BUDGET_CHARS: usize = 24_000;
/// Layers and blocks sent at most (the ones with the most entities and inserts).
const MAX_LISTED: usize = 300;
/// A single text longer than this is cut.
const MAX_TEXT_CHARS: usize = 500;
const NO_AGENT_NOTE: &str = "no CAD agent is configured, so only the facts were extracted; add an enabled agent \
     of kind cad (Agents) and analyse again for an answer";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnalysePayload {
    drawing_id: String,
    agent_id: Option<i64>,
}

/// `POST /api/cad/drawings/{id}/analyses`.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalyseInput {
    /// The agent to ask; without it, the first enabled agent of kind `cad` (by name), if any.
    #[serde(default)]
    #[ts(optional, as = "Option<i64>")]
    pub agent_id: Option<AgentId>,
}

/// An agent's id as a number, or the same number as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentId(pub i64);

impl<'de> Deserialize<'de> for AgentId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Id {
            Number(i64),
            Text(String),
        }
        match Id::deserialize(deserializer)? {
            Id::Number(n) => Ok(AgentId(n)),
            Id::Text(text) => text
                .trim()
                .parse()
                .map(AgentId)
                .map_err(|_| serde::de::Error::custom("agentId is an agent's numeric id")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CadAnalysisError {
    pub code: String,
    pub message: String,
}

/// An analysis of a drawing.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CadAnalysisView {
    pub id: String,
    pub drawing_id: String,
    /// The `cad.analyse` task (Tasks view).
    pub task_id: i64,
    pub state: TaskState,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    /// The agent's version that answered.
    pub agent_version: Option<i32>,
    pub answer: Option<String>,
    /// E.g. that no CAD agent is configured, or what was left out of the facts sent.
    pub note: Option<String>,
    pub error: Option<CadAnalysisError>,
    /// The facts as sent to the agent (or as extracted, without one).
    #[ts(type = "Record<string, unknown> | null")]
    pub facts_sent: Option<Value>,
    /// `factsMs`, `modelMs`, `totalMs`.
    #[ts(type = "Record<string, number> | null")]
    pub timings: Option<Value>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl From<CadAnalysisRecord> for CadAnalysisView {
    fn from(record: CadAnalysisRecord) -> Self {
        let state = analysis_state(&record.state, record.task_state.as_deref());
        let own_error = record.error.as_ref().and_then(|e| {
            Some(CadAnalysisError {
                code: e.0.get("code")?.as_str()?.to_owned(),
                message: e.0.get("message")?.as_str()?.to_owned(),
            })
        });
        // A task that gave up (time limit, attempts used up) before an outcome was recorded.
        let error = match (own_error, state) {
            (Some(error), TaskState::Failed) => Some(error),
            (None, TaskState::Failed) => Some(CadAnalysisError {
                code: "task_failed".into(),
                message: record.task_error.clone().unwrap_or_else(|| "the analysis task failed".into()),
            }),
            (error, _) if state.is_terminal() => error,
            _ => None,
        };
        Self {
            id: record.id,
            drawing_id: record.drawing_id,
            task_id: record.task_id,
            state,
            agent_id: record.agent_id,
            agent_name: record.agent_name,
            agent_version: record.agent_version,
            answer: record.answer,
            note: record.note,
            error,
            facts_sent: record.facts_sent.map(|f| f.0),
            timings: record.timings.map(|t| t.0),
            created_at: record.created_at,
            started_at: record.started_at,
            finished_at: record.finished_at,
        }
    }
}

/// The facts as an agent gets them, and what was left out to fit the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisContext {
    pub facts: Value,
    pub trimmed: Option<String>,
}

fn cut(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_TEXT_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_TEXT_CHARS).collect();
    cut.push('…');
    cut
}

/// Builds the bounded context of a drawing's facts (see the module's documentation).
pub fn context(name: &str, facts: &Facts, budget: usize) -> AnalysisContext {
    let mut layers: Vec<&zk_cad::facts::LayerFacts> = facts.layers.iter().collect();
    layers.sort_by(|a, b| b.entities.cmp(&a.entities).then_with(|| a.name.cmp(&b.name)));
    let mut blocks: Vec<&zk_cad::facts::BlockFacts> = facts.blocks.iter().collect();
    blocks.sort_by(|a, b| b.inserts.cmp(&a.inserts).then_with(|| a.name.cmp(&b.name)));
    let mut left_out = Vec::new();
    if layers.len() > MAX_LISTED {
        left_out.push(format!("{} of {} layers", layers.len() - MAX_LISTED, layers.len()));
    }
    if blocks.len() > MAX_LISTED {
        left_out.push(format!("{} of {} blocks", blocks.len() - MAX_LISTED, blocks.len()));
    }
    let mut base = json!({
        "drawing": name,
        "version": facts.version,
        "release": facts.release,
        "codepage": facts.codepage,
        "units": facts.units.name,
        "extents": facts.extents,
        "entityCounts": facts.entity_counts,
        "unsupportedEntities": facts.unsupported_entities,
        "layouts": facts.layouts.iter().map(|l| json!({ "name": l.name, "entities": l.entities, "viewports": l.viewports })).collect::<Vec<_>>(),
        "layers": layers.iter().take(MAX_LISTED).map(|l| json!({ "name": l.name, "entities": l.entities, "on": l.on, "frozen": l.frozen })).collect::<Vec<_>>(),
        "blocks": blocks.iter().take(MAX_LISTED).map(|b| json!({ "name": b.name, "entities": b.entities, "inserts": b.inserts })).collect::<Vec<_>>(),
    });

    // Distinct texts in drawing order, each with how often it occurs.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut counts: HashMap<(String, String), u64> = HashMap::new();
    for text in &facts.texts {
        let key = (cut(&text.text), text.layer.clone());
        let count = counts.entry(key.clone()).or_insert(0);
        if *count == 0 {
            order.push(key);
        }
        *count += 1;
    }
    let mut used = base.to_string().len() + 40;
    let mut texts = Vec::new();
    for key in &order {
        let item = json!({ "text": key.0, "layer": key.1, "count": counts[key] });
        let cost = item.to_string().len() + 1;
        if used + cost > budget {
            break;
        }
        used += cost;
        texts.push(item);
    }
    if texts.len() < order.len() {
        left_out.push(format!("{} of {} distinct texts", order.len() - texts.len(), order.len()));
    }
    let mut dimensions = Vec::new();
    for d in &facts.dimensions {
        let item = json!({ "kind": d.kind, "measurement": d.measurement, "text": cut(&d.text), "layer": d.layer });
        let cost = item.to_string().len() + 1;
        if used + cost > budget {
            break;
        }
        used += cost;
        dimensions.push(item);
    }
    if dimensions.len() < facts.dimensions.len() {
        left_out.push(format!(
            "{} of {} dimension values",
            facts.dimensions.len() - dimensions.len(),
            facts.dimensions.len()
        ));
    }
    base["texts"] = Value::Array(texts);
    base["dimensions"] = Value::Array(dimensions);
    let trimmed = (!left_out.is_empty())
        .then(|| format!("to stay within {budget} characters of facts, left out {}", left_out.join(", ")));
    AnalysisContext { facts: base, trimmed }
}

/// The question an agent is asked about a drawing.
fn prompt(name: &str, context: &AnalysisContext) -> String {
    let facts = serde_json::to_string_pretty(&context.facts).unwrap_or_default();
    let trimmed = context.trimmed.as_ref().map(|t| format!(" (trimmed: {t})")).unwrap_or_default();
    format!(
        "Analyse the CAD drawing \"{name}\". ZK-Agent extracted these facts from it{trimmed}:\n\n```json\n{facts}\n```\n\n\
         Describe what the drawing shows, its units and scale, how it is organised (layouts, layers, blocks), the \
         notable texts and dimensions, and anything that looks inconsistent, missing or worth checking."
    )
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

pub struct CadAnalysisService {
    library: Arc<CadLibrary>,
    agents: Arc<AgentService>,
    tasks: Arc<TaskService>,
    store: Arc<dyn Store>,
    clock: SharedClock,
    metrics: Arc<Metrics>,
}

impl CadAnalysisService {
    pub fn new(
        library: Arc<CadLibrary>,
        agents: Arc<AgentService>,
        tasks: Arc<TaskService>,
        store: Arc<dyn Store>,
        clock: SharedClock,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self { library, agents, tasks, store, clock, metrics }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    /// Queues an analysis of a drawing; `idempotency_key` makes a retried request return the first.
    pub async fn analyse(
        &self,
        actor: &Principal,
        drawing_id: &str,
        input: AnalyseInput,
        idempotency_key: Option<String>,
    ) -> CoreResult<CadAnalysisView> {
        actor.require(Role::Designer)?;
        let drawing = self
            .store
            .cad_drawing(drawing_id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("drawing {drawing_id}")))?;
        if drawing.status != "ready" {
            return Err(CoreError::Unprocessable {
                code: "unreadable_drawing",
                message: format!(
                    "the drawing {} could not be read ({}), so it cannot be analysed; fix or replace the file",
                    drawing.name,
                    drawing.error.as_deref().unwrap_or("no reason recorded")
                ),
            });
        }
        let agent = match input.agent_id.map(|id| id.0) {
            Some(id) => {
                let agent = self.agents.get(id).await?;
                if !agent.spec.enabled {
                    return Err(CoreError::Conflict(format!(
                        "the agent {:?} is disabled; enable it or choose another agent",
                        agent.spec.name
                    )));
                }
                Some(agent)
            }
            None => self.agents.list().await?.into_iter().find(|a| a.spec.kind == AgentKind::Cad && a.spec.enabled),
        };
        let payload = AnalysePayload { drawing_id: drawing.id.clone(), agent_id: agent.as_ref().map(|a| a.id) };
        let request = EnqueueRequest {
            kind: ANALYSE_TASK.into(),
            payload: serde_json::to_value(&payload).map_err(anyhow::Error::from)?,
            idempotency_key,
            ..EnqueueRequest::default()
        };
        let task = self.tasks.enqueue(Some(actor), request).await?;
        let analysis = self
            .store
            .insert_cad_analysis(&NewCadAnalysis {
                id: uuid::Uuid::now_v7().to_string(),
                drawing_id: drawing.id,
                task_id: task.id,
                agent_id: agent.as_ref().map(|a| a.id),
                agent_name: agent.map(|a| a.spec.name),
                created_by: Some(actor.user_id),
                now: self.now(),
            })
            .await?;
        Ok(CadAnalysisView::from(analysis))
    }

    /// A drawing's analyses, newest first.
    pub async fn list(&self, drawing_id: &str) -> CoreResult<Vec<CadAnalysisView>> {
        if self.store.cad_drawing(drawing_id).await?.is_none() {
            return Err(CoreError::NotFound(format!("drawing {drawing_id}")));
        }
        Ok(self.store.cad_analyses(drawing_id).await?.into_iter().map(CadAnalysisView::from).collect())
    }

    async fn run(&self, ctx: &TaskContext) -> Result<Value, TaskFailure> {
        let payload: AnalysePayload = serde_json::from_value(ctx.payload.clone())
            .map_err(|e| TaskFailure::Permanent(format!("the analysis payload is invalid: {e}")))?;
        let started = Instant::now();
        let retry = |e: CoreError| TaskFailure::Retryable(e.to_string());
        let analysis = match self.store.cad_analysis_by_task(ctx.task_id).await.map_err(|e| retry(e.into()))? {
            Some(analysis) => analysis,
            // The request that queued the task has not written its analysis yet (or failed to).
            None => self
                .store
                .insert_cad_analysis(&NewCadAnalysis {
                    id: uuid::Uuid::now_v7().to_string(),
                    drawing_id: payload.drawing_id.clone(),
                    task_id: ctx.task_id,
                    agent_id: payload.agent_id,
                    agent_name: None,
                    created_by: ctx.created_by,
                    now: self.now(),
                })
                .await
                .map_err(|e| retry(e.into()))?,
        };
        if TaskState::parse(&analysis.state).is_some_and(TaskState::is_terminal) {
            // A retried task: its outcome is stored already.
            return Ok(json!({ "analysisId": analysis.id, "state": analysis.state }));
        }
        self.store.start_cad_analysis(&analysis.id, self.now()).await.map_err(|e| retry(e.into()))?;
        ctx.progress(10, Some("reading the drawing")).await;
        let Some(record) = self.store.cad_drawing(&payload.drawing_id).await.map_err(|e| retry(e.into()))? else {
            return self
                .fail(&analysis, "drawing_missing", "the drawing was deleted before its analysis ran", None, started)
                .await;
        };
        let facts = match self.library.full_facts(&record).await {
            Ok(facts) => facts,
            Err(CoreError::Storage(message) | CoreError::DatabaseUnavailable(message)) => {
                return Err(TaskFailure::Retryable(message));
            }
            Err(error) => return self.fail(&analysis, "unreadable_drawing", &error.to_string(), None, started).await,
        };
        let facts_ms = millis(started.elapsed());
        let context = context(&record.name, &facts, CONTEXT_BUDGET_CHARS);
        ctx.progress(40, Some("facts extracted")).await;

        let Some(agent_id) = payload.agent_id else {
            let note = match &context.trimmed {
                Some(trimmed) => format!("{NO_AGENT_NOTE} ({trimmed})"),
                None => NO_AGENT_NOTE.to_owned(),
            };
            let outcome = CadAnalysisOutcome {
                state: "succeeded".into(),
                agent_name: None,
                agent_version: None,
                answer: None,
                note: Some(note),
                error: None,
                facts_sent: Some(context.facts),
                timings: json!({ "factsMs": facts_ms, "totalMs": millis(started.elapsed()) }),
                now: self.now(),
            };
            self.store.finish_cad_analysis(&analysis.id, &outcome).await.map_err(|e| retry(e.into()))?;
            return Ok(json!({ "analysisId": analysis.id, "state": "succeeded" }));
        };
        let agent = match self.agents.get(agent_id).await {
            Ok(agent) => agent,
            Err(CoreError::NotFound(_)) => {
                let message = "the agent chosen for this analysis was deleted; analyse again with another agent";
                return self.fail(&analysis, "agent_missing", message, Some(context.facts), started).await;
            }
            Err(error) => return Err(retry(error)),
        };
        let resolved = match self.agents.resolve(agent_id).await {
            Ok(resolved) => resolved,
            Err(error @ (CoreError::DatabaseUnavailable(_) | CoreError::Storage(_))) => return Err(retry(error)),
            Err(error) => {
                let message = format!("the agent {:?} cannot be used: {error}", agent.spec.name);
                return self.fail(&analysis, "agent_unavailable", &message, Some(context.facts), started).await;
            }
        };
        ctx.progress(60, Some(&format!("asking {}", agent.spec.name))).await;
        let request = request_for(&resolved.spec, &record.name, &context);
        let model_started = Instant::now();
        let answered = resolved.client.chat(&request).await;
        let call = match &answered {
            Ok(_) => ModelCall::Ok,
            Err(error) => ModelCall::Failed(error),
        };
        self.metrics.model_call(resolved.spec.provider.as_str(), call, model_started.elapsed());
        let timings = json!({
            "factsMs": facts_ms,
            "modelMs": millis(model_started.elapsed()),
            "totalMs": millis(started.elapsed()),
        });
        let (outcome, failure) = match answered {
            Ok(answer) => {
                tracing::info!(analysis = %analysis.id, agent = %agent.spec.name, "drawing analysed");
                (("succeeded", Some(answer.text), context.trimmed.clone(), None), None)
            }
            Err(error) => {
                let failure = crate::agents::request::describe_failure(&error);
                let (code, message) = (failure.code, format!("{}: {}", agent.spec.name, failure.message));
                let described = json!({ "code": code, "message": message });
                if error.is_retryable() {
                    // Kept on the analysis: if this was the last attempt, the task fails with it.
                    self.store.note_cad_analysis_error(&analysis.id, &described).await.map_err(|e| retry(e.into()))?;
                    return Err(TaskFailure::Retryable(message));
                }
                (("failed", None, None, Some(described)), Some(TaskFailure::Permanent(message)))
            }
        };
        let (state, answer, note, error) = outcome;
        let outcome = CadAnalysisOutcome {
            state: state.into(),
            agent_name: Some(agent.spec.name.clone()),
            agent_version: Some(agent.version),
            answer,
            note,
            error,
            facts_sent: Some(context.facts),
            timings,
            now: self.now(),
        };
        self.store.finish_cad_analysis(&analysis.id, &outcome).await.map_err(|e| retry(e.into()))?;
        match failure {
            None => Ok(json!({ "analysisId": analysis.id, "state": state })),
            Some(failure) => Err(failure),
        }
    }

    /// Records a failure that retrying cannot mend, and fails the task with its message.
    async fn fail(
        &self,
        analysis: &CadAnalysisRecord,
        code: &str,
        message: &str,
        facts_sent: Option<Value>,
        started: Instant,
    ) -> Result<Value, TaskFailure> {
        let outcome = CadAnalysisOutcome {
            state: "failed".into(),
            agent_name: None,
            agent_version: None,
            answer: None,
            note: None,
            error: Some(json!({ "code": code, "message": message })),
            facts_sent,
            timings: json!({ "totalMs": millis(started.elapsed()) }),
            now: self.now(),
        };
        self.store
            .finish_cad_analysis(&analysis.id, &outcome)
            .await
            .map_err(|e| TaskFailure::Retryable(e.to_string()))?;
        Err(TaskFailure::Permanent(message.to_owned()))
    }
}

/// One non-streamed request: the question with the facts, plain (no FastGPT detail events) and
/// without a chatId (each analysis stands alone).
fn request_for(spec: &crate::agents::AgentSpec, name: &str, context: &AnalysisContext) -> zk_model_api::ChatRequest {
    spec.model_request(Exchange { detail: Some(false), ..Exchange::question(prompt(name, context)) })
}

/// Runs analyses as durable tasks: progress in the Tasks view, survives a restart.
pub struct AnalysisHandler {
    service: OnceLock<Arc<CadAnalysisService>>,
}

impl AnalysisHandler {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { service: OnceLock::new() })
    }

    /// The analysis service is built after the task service; it is handed over once both exist.
    pub fn attach(&self, service: Arc<CadAnalysisService>) {
        let _ = self.service.set(service);
    }
}

#[async_trait]
impl TaskHandler for AnalysisHandler {
    fn kind(&self) -> &'static str {
        ANALYSE_TASK
    }

    fn validate(&self, payload: &Value) -> CoreResult<()> {
        serde_json::from_value::<AnalysePayload>(payload.clone())
            .map(|_| ())
            .map_err(|e| CoreError::invalid("payload", format!("an analysis names its drawing_id: {e}")))
    }

    async fn run(&self, ctx: TaskContext) -> Result<Value, TaskFailure> {
        let service = self.service.get().ok_or_else(|| TaskFailure::Retryable("the CAD library is starting".into()))?;
        service.run(&ctx).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn facts_with_texts(n: usize) -> Facts {
        let mut dxf = String::from("0\nSECTION\n2\nENTITIES\n");
        for i in 0..n {
            dxf.push_str(&format!("0\nTEXT\n8\nNotes\n10\n0\n20\n{i}\n40\n2.5\n1\n房间 {i}\n"));
        }
        // A repeated label counts once, with its count.
        for _ in 0..3 {
            dxf.push_str("0\nTEXT\n8\nNotes\n10\n0\n20\n0\n40\n2.5\n1\nDOOR\n");
        }
        dxf.push_str("0\nENDSEC\n0\nEOF\n");
        let (drawing, _) = zk_cad::read(dxf.as_bytes(), &zk_cad::ReadOptions::default()).unwrap();
        zk_cad::facts(&drawing, 32)
    }

    #[test]
    fn small_facts_go_whole_with_repeated_texts_counted() {
        let context = context("plan.dxf", &facts_with_texts(3), CONTEXT_BUDGET_CHARS);
        assert_eq!(context.trimmed, None);
        let texts = context.facts["texts"].as_array().unwrap();
        assert_eq!(texts.len(), 4, "three rooms and one DOOR: {texts:?}");
        assert_eq!(texts[3], json!({ "text": "DOOR", "layer": "Notes", "count": 3 }));
        assert_eq!(context.facts["entityCounts"]["TEXT"], 6);
        assert_eq!(context.facts["drawing"], "plan.dxf");
    }

    #[test]
    fn large_facts_are_trimmed_to_the_budget_and_say_so() {
        let context = context("big.dxf", &facts_with_texts(2000), 4000);
        assert!(context.facts.to_string().len() <= 4000, "{}", context.facts.to_string().len());
        let trimmed = context.trimmed.unwrap();
        assert!(trimmed.contains("distinct texts") && trimmed.contains("of 2001"), "{trimmed}");
        assert!(!context.facts["texts"].as_array().unwrap().is_empty(), "as many texts as fit are kept");
    }

    #[test]
    fn agent_ids_may_come_as_numbers_or_strings() {
        let input: AnalyseInput = serde_json::from_value(json!({ "agentId": 7 })).unwrap();
        assert_eq!(input.agent_id, Some(AgentId(7)));
        let input: AnalyseInput = serde_json::from_value(json!({ "agentId": "7" })).unwrap();
        assert_eq!(input.agent_id, Some(AgentId(7)));
        let input: AnalyseInput = serde_json::from_value(json!({})).unwrap();
        assert_eq!(input.agent_id, None);
        assert!(serde_json::from_value::<AnalyseInput>(json!({ "agentId": "seven" })).is_err());
    }
}
