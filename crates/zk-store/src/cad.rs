//! The CAD library: drawings, their thumbnails and analyses: records, the [`CadStore`] trait, and its
//! SQL for both backends.

use async_trait::async_trait;
use serde_json::Value;

use super::Timestamp;
use crate::error::StoreResult;

/// A drawing of the library as lists show it: everything but its facts and diagnostics, plus its
/// latest analysis (joined in).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CadDrawingRecord {
    pub id: String,
    pub name: String,
    pub format: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub acad_version: Option<String>,
    pub release: Option<String>,
    pub units: Option<String>,
    pub entity_count: i64,
    pub layouts: sqlx::types::Json<Value>,
    pub status: String,
    pub error: Option<String>,
    pub thumbnail_sha256: Option<String>,
    pub source: String,
    pub file_id: Option<String>,
    /// The host and folder of the server that watches a folder drawing.
    pub folder_root: Option<String>,
    pub folder_path: Option<String>,
    pub uploaded_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub latest_analysis_id: Option<String>,
    pub latest_analysis_state: Option<String>,
    /// The state of the latest analysis's task, which decides while the analysis has no outcome.
    pub latest_task_state: Option<String>,
}

/// What a read of a drawing produced: everything an import writes (a new row or a changed file).
#[derive(Debug, Clone)]
pub struct CadDrawingWrite {
    pub name: String,
    pub format: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub acad_version: Option<String>,
    pub release: Option<String>,
    pub units: Option<String>,
    pub entity_count: i64,
    pub layouts: Value,
    pub status: String,
    pub error: Option<String>,
    pub facts: Option<Value>,
    pub diagnostics: Value,
    /// The PNG; replaced (or removed, when `None`) on every write.
    pub thumbnail: Option<Vec<u8>>,
    pub thumbnail_sha256: Option<String>,
    pub now: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewCadDrawing {
    pub id: String,
    pub source: String,
    pub file_id: Option<String>,
    pub folder_root: Option<String>,
    pub folder_path: Option<String>,
    pub uploaded_by: Option<i64>,
    pub content: CadDrawingWrite,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CadAnalysisRecord {
    pub id: String,
    pub drawing_id: String,
    pub task_id: i64,
    pub state: String,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub agent_version: Option<i32>,
    pub answer: Option<String>,
    pub note: Option<String>,
    pub error: Option<sqlx::types::Json<Value>>,
    pub facts_sent: Option<sqlx::types::Json<Value>>,
    pub timings: Option<sqlx::types::Json<Value>>,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// The task's state and error, joined in: they decide while the analysis has no outcome.
    pub task_state: Option<String>,
    pub task_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCadAnalysis {
    pub id: String,
    pub drawing_id: String,
    pub task_id: i64,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub created_by: Option<i64>,
    pub now: Timestamp,
}

/// How an analysis ended, as its handler records it once.
#[derive(Debug, Clone)]
pub struct CadAnalysisOutcome {
    /// `succeeded` or `failed`.
    pub state: String,
    pub agent_name: Option<String>,
    pub agent_version: Option<i32>,
    pub answer: Option<String>,
    pub note: Option<String>,
    pub error: Option<Value>,
    pub facts_sent: Option<Value>,
    pub timings: Value,
    pub now: Timestamp,
}

#[async_trait]
pub trait CadStore: Send + Sync {
    /// Inserts a drawing with its thumbnail.
    async fn insert_cad_drawing(&self, drawing: &NewCadDrawing) -> StoreResult<CadDrawingRecord>;
    /// Replaces what a read produced (a folder file that changed); `None` when the drawing is gone.
    async fn update_cad_drawing(&self, id: &str, content: &CadDrawingWrite) -> StoreResult<Option<CadDrawingRecord>>;
    async fn cad_drawing(&self, id: &str) -> StoreResult<Option<CadDrawingRecord>>;
    async fn cad_drawing_by_folder_path(&self, root: &str, folder_path: &str) -> StoreResult<Option<CadDrawingRecord>>;
    /// Newest first (ids are time-ordered), after `before` when given; `needle` (already folded)
    /// filters by substring of the name.
    async fn list_cad_drawings(
        &self,
        needle: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<CadDrawingRecord>>;
    /// Every drawing that comes from the watched folder `root`.
    async fn folder_cad_drawings(&self, root: &str) -> StoreResult<Vec<CadDrawingRecord>>;
    /// The stored facts and diagnostics of a drawing: `None` when the drawing is gone.
    async fn cad_drawing_facts(&self, id: &str) -> StoreResult<Option<(Option<Value>, Value)>>;
    async fn cad_thumbnail(&self, id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Deletes a drawing with its thumbnail and analyses.
    async fn delete_cad_drawing(&self, id: &str) -> StoreResult<bool>;

    /// Inserts the analysis of a task, or returns the one the task already has.
    async fn insert_cad_analysis(&self, analysis: &NewCadAnalysis) -> StoreResult<CadAnalysisRecord>;
    async fn cad_analysis_by_task(&self, task_id: i64) -> StoreResult<Option<CadAnalysisRecord>>;
    /// A drawing's analyses, newest first.
    async fn cad_analyses(&self, drawing_id: &str) -> StoreResult<Vec<CadAnalysisRecord>>;
    /// Marks an analysis running; false when it already has an outcome.
    async fn start_cad_analysis(&self, id: &str, now: Timestamp) -> StoreResult<bool>;
    /// Records an attempt's failure that will be retried; the analysis stays running.
    async fn note_cad_analysis_error(&self, id: &str, error: &Value) -> StoreResult<()>;
    /// Records the outcome, once: false (and nothing changes) when one is already recorded.
    async fn finish_cad_analysis(&self, id: &str, outcome: &CadAnalysisOutcome) -> StoreResult<bool>;
}

/// The columns lists read, with the latest analysis and its task's state joined in.
macro_rules! drawing_select {
    () => {
        "SELECT d.id, d.name, d.format, d.sha256, d.size_bytes, d.acad_version, d.release, d.units, d.entity_count, \
         d.layouts, d.status, d.error, d.thumbnail_sha256, d.source, d.file_id, d.folder_root, d.folder_path, d.uploaded_by, \
         d.created_at, d.updated_at, a.id AS latest_analysis_id, a.state AS latest_analysis_state, \
         t.state AS latest_task_state \
         FROM cad_drawings d \
         LEFT JOIN cad_analyses a ON a.id = (SELECT x.id FROM cad_analyses x WHERE x.drawing_id = d.id \
           ORDER BY x.created_at DESC, x.id DESC LIMIT 1) \
         LEFT JOIN tasks t ON t.id = a.task_id "
    };
}

macro_rules! analysis_select {
    () => {
        "SELECT a.*, t.state AS task_state, t.error AS task_error FROM cad_analyses a LEFT JOIN tasks t ON t.id = a.task_id "
    };
}

/// Implements [`CadStore`] for `$store` over a `sqlx::Pool<$db>` in its `pool` field.
macro_rules! impl_cad_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::CadStore for $store {
            async fn insert_cad_drawing(&self, drawing: &NewCadDrawing) -> StoreResult<CadDrawingRecord> {
                let c = &drawing.content;
                let mut tx = self.pool.begin().await?;
                sqlx::query::<$db>(
                    "INSERT INTO cad_drawings (id, name, name_key, format, sha256, size_bytes, acad_version, release, units, \
                     entity_count, layouts, status, error, facts, diagnostics, thumbnail_sha256, source, file_id, folder_path, \
                     uploaded_by, created_at, updated_at, folder_root) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22)",
                )
                .bind(&drawing.id)
                .bind(&c.name)
                .bind($crate::search_key(&c.name))
                .bind(&c.format)
                .bind(&c.sha256)
                .bind(c.size_bytes)
                .bind(&c.acad_version)
                .bind(&c.release)
                .bind(&c.units)
                .bind(c.entity_count)
                .bind(sqlx::types::Json(&c.layouts))
                .bind(&c.status)
                .bind(&c.error)
                .bind(c.facts.as_ref().map(sqlx::types::Json))
                .bind(sqlx::types::Json(&c.diagnostics))
                .bind(&c.thumbnail_sha256)
                .bind(&drawing.source)
                .bind(&drawing.file_id)
                .bind(&drawing.folder_path)
                .bind(drawing.uploaded_by)
                .bind(c.now)
                .bind(&drawing.folder_root)
                .execute(&mut *tx)
                .await?;
                if let Some(png) = &c.thumbnail {
                    sqlx::query::<$db>("INSERT INTO cad_thumbnails (drawing_id, png) VALUES ($1, $2)")
                        .bind(&drawing.id)
                        .bind(png)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                self.cad_drawing(&drawing.id).await?.ok_or_else(|| StoreError::NotFound(format!("drawing {}", drawing.id)))
            }

            async fn update_cad_drawing(&self, id: &str, c: &CadDrawingWrite) -> StoreResult<Option<CadDrawingRecord>> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query::<$db>(
                    "UPDATE cad_drawings SET name = $2, name_key = $3, format = $4, sha256 = $5, size_bytes = $6, \
                     acad_version = $7, release = $8, units = $9, entity_count = $10, layouts = $11, status = $12, \
                     error = $13, facts = $14, diagnostics = $15, thumbnail_sha256 = $16, updated_at = $17 WHERE id = $1",
                )
                .bind(id)
                .bind(&c.name)
                .bind($crate::search_key(&c.name))
                .bind(&c.format)
                .bind(&c.sha256)
                .bind(c.size_bytes)
                .bind(&c.acad_version)
                .bind(&c.release)
                .bind(&c.units)
                .bind(c.entity_count)
                .bind(sqlx::types::Json(&c.layouts))
                .bind(&c.status)
                .bind(&c.error)
                .bind(c.facts.as_ref().map(sqlx::types::Json))
                .bind(sqlx::types::Json(&c.diagnostics))
                .bind(&c.thumbnail_sha256)
                .bind(c.now)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                sqlx::query::<$db>("DELETE FROM cad_thumbnails WHERE drawing_id = $1").bind(id).execute(&mut *tx).await?;
                if let Some(png) = &c.thumbnail {
                    sqlx::query::<$db>("INSERT INTO cad_thumbnails (drawing_id, png) VALUES ($1, $2)")
                        .bind(id)
                        .bind(png)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                self.cad_drawing(id).await
            }

            async fn cad_drawing(&self, id: &str) -> StoreResult<Option<CadDrawingRecord>> {
                Ok(sqlx::query_as::<$db, CadDrawingRecord>(concat!($crate::cad::drawing_select!(), "WHERE d.id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn cad_drawing_by_folder_path(&self, root: &str, folder_path: &str) -> StoreResult<Option<CadDrawingRecord>> {
                Ok(sqlx::query_as::<$db, CadDrawingRecord>(concat!(
                    $crate::cad::drawing_select!(),
                    "WHERE d.folder_root = $1 AND d.folder_path = $2"
                ))
                    .bind(root)
                    .bind(folder_path)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn list_cad_drawings(&self, needle: Option<&str>, before: Option<&str>, limit: i64) -> StoreResult<Vec<CadDrawingRecord>> {
                let pattern = needle.map($crate::conversations::contains_pattern);
                Ok(sqlx::query_as::<$db, CadDrawingRecord>(concat!(
                    $crate::cad::drawing_select!(),
                    "WHERE ($1 IS NULL OR d.name_key LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR d.id < $2) ORDER BY d.id DESC LIMIT $3"
                ))
                .bind(pattern)
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn folder_cad_drawings(&self, root: &str) -> StoreResult<Vec<CadDrawingRecord>> {
                Ok(sqlx::query_as::<$db, CadDrawingRecord>(concat!(
                    $crate::cad::drawing_select!(),
                    "WHERE d.folder_root = $1 AND d.folder_path IS NOT NULL ORDER BY d.folder_path"
                ))
                .bind(root)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn cad_drawing_facts(&self, id: &str) -> StoreResult<Option<(Option<serde_json::Value>, serde_json::Value)>> {
                let row = sqlx::query_as::<$db, (Option<sqlx::types::Json<serde_json::Value>>, sqlx::types::Json<serde_json::Value>)>(
                    "SELECT facts, diagnostics FROM cad_drawings WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(facts, diagnostics)| (facts.map(|f| f.0), diagnostics.0)))
            }

            async fn cad_thumbnail(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar::<$db, Vec<u8>>("SELECT png FROM cad_thumbnails WHERE drawing_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn delete_cad_drawing(&self, id: &str) -> StoreResult<bool> {
                let done = sqlx::query::<$db>("DELETE FROM cad_drawings WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_cad_analysis(&self, a: &NewCadAnalysis) -> StoreResult<CadAnalysisRecord> {
                sqlx::query::<$db>(
                    "INSERT INTO cad_analyses (id, drawing_id, task_id, state, agent_id, agent_name, created_by, created_at) \
                     VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7) ON CONFLICT (task_id) DO NOTHING",
                )
                .bind(&a.id)
                .bind(&a.drawing_id)
                .bind(a.task_id)
                .bind(a.agent_id)
                .bind(&a.agent_name)
                .bind(a.created_by)
                .bind(a.now)
                .execute(&self.pool)
                .await?;
                self.cad_analysis_by_task(a.task_id).await?.ok_or_else(|| StoreError::NotFound(format!("analysis of task {}", a.task_id)))
            }

            async fn cad_analysis_by_task(&self, task_id: i64) -> StoreResult<Option<CadAnalysisRecord>> {
                Ok(sqlx::query_as::<$db, CadAnalysisRecord>(concat!($crate::cad::analysis_select!(), "WHERE a.task_id = $1"))
                    .bind(task_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn cad_analyses(&self, drawing_id: &str) -> StoreResult<Vec<CadAnalysisRecord>> {
                Ok(sqlx::query_as::<$db, CadAnalysisRecord>(concat!(
                    $crate::cad::analysis_select!(),
                    "WHERE a.drawing_id = $1 ORDER BY a.created_at DESC, a.id DESC"
                ))
                .bind(drawing_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn start_cad_analysis(&self, id: &str, now: Timestamp) -> StoreResult<bool> {
                let done = sqlx::query::<$db>(
                    "UPDATE cad_analyses SET state = 'running', started_at = COALESCE(started_at, $2) \
                     WHERE id = $1 AND state IN ('queued', 'running')",
                )
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn note_cad_analysis_error(&self, id: &str, error: &serde_json::Value) -> StoreResult<()> {
                sqlx::query::<$db>("UPDATE cad_analyses SET error = $2 WHERE id = $1 AND state IN ('queued', 'running')")
                    .bind(id)
                    .bind(sqlx::types::Json(error))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn finish_cad_analysis(&self, id: &str, o: &CadAnalysisOutcome) -> StoreResult<bool> {
                let done = sqlx::query::<$db>(
                    "UPDATE cad_analyses SET state = $2, agent_name = COALESCE($3, agent_name), agent_version = $4, answer = $5, \
                     note = $6, error = $7, facts_sent = $8, timings = $9, finished_at = $10, started_at = COALESCE(started_at, $10) \
                     WHERE id = $1 AND state IN ('queued', 'running')",
                )
                .bind(id)
                .bind(&o.state)
                .bind(&o.agent_name)
                .bind(o.agent_version)
                .bind(&o.answer)
                .bind(&o.note)
                .bind(o.error.as_ref().map(sqlx::types::Json))
                .bind(o.facts_sent.as_ref().map(sqlx::types::Json))
                .bind(sqlx::types::Json(&o.timings))
                .bind(o.now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use {analysis_select, drawing_select, impl_cad_store};
