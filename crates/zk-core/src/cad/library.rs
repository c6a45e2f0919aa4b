//! The CAD library: drawings uploaded through the file store or found in the watched folder
//! (`CAD_DIR`), each with its facts, a thumbnail and its analyses, and what the viewer reads of an
//! opened drawing (scenes, picked entities, exports, the source file).
//!
//! Every read of a drawing runs off the async runtime (`spawn_blocking`) on the CAD service's
//! guarded worker thread, within `CAD_MAX_BYTES` and `CAD_TIME_BUDGET_SECS`. Opened drawings and
//! their scenes stay in the [`DrawingCache`] so that the viewer's requests do not parse again.
//! Scenes, exports and uploads are drawn within the draw budgets and at most `CAD_WORKERS` at once
//! ([`CadWorkers`]); a refusal (busy) or a time-out is logged at WARN and into the error log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::Stream;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;

use super::cache::{DrawingCache, DrawingCacheStats, OpenDrawing, model_bytes};
use super::properties::{self, CadEntityView};
use super::{CadError, CadOptions, CadWorkers, Diagnostic, Drawing, Facts, ImageFormat, RenderRequest, Rendered};
use crate::clock::SharedClock;
use crate::config::CadConfig;
use crate::error::{CoreError, CoreResult};
use crate::files::FileService;
use crate::metrics::Metrics;
use crate::request::Principal;
use crate::store::{CadDrawingRecord, CadDrawingWrite, NewCadDrawing, Role, Store, TaskState, Timestamp};

/// Diagnostics kept with a drawing (the detail view shows these).
const KEPT_DIAGNOSTICS: usize = 200;
/// Texts and dimension values kept in a drawing's stored facts; the analysis task reads them all.
const KEPT_FACT_ITEMS: usize = 2000;
/// Thumbnails fit this box, in pixels.
const THUMBNAIL_BOX: (f64, f64) = (320.0, 240.0);
/// A thumbnail stops drawing past this many vertices (the rest of a huge drawing is left out).
const THUMBNAIL_MAX_VERTICES: usize = 4_000_000;
/// A thumbnail stops drawing past this many block instances.
const THUMBNAIL_MAX_INSTANCES: u64 = 250_000;
/// The media type of the viewer's scene documents.
pub const SCENE_MEDIA_TYPE: &str = "application/vnd.zk-agent.scene";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum CadFormat {
    Dxf,
    Dwg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum CadSource {
    Upload,
    Folder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum CadStatus {
    Ready,
    Failed,
}

/// The latest analysis of a drawing, as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CadAnalysisRef {
    pub id: String,
    pub state: TaskState,
}

/// A drawing of the library.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CadDrawingView {
    pub id: String,
    pub name: String,
    pub format: CadFormat,
    /// `$ACADVER`, e.g. `AC1032`.
    pub acad_version: Option<String>,
    /// The AutoCAD release, e.g. `R2018`.
    pub release: Option<String>,
    pub size_bytes: i64,
    /// `$INSUNITS` by name (`millimeters`…), when the file says.
    pub units: Option<String>,
    /// Top-level entities over all layouts.
    pub entity_count: i64,
    /// Layout names, model space first.
    pub layouts: Vec<String>,
    pub source: CadSource,
    /// A folder drawing's path relative to the watched folder.
    pub folder_path: Option<String>,
    pub status: CadStatus,
    /// Why the reader refused the drawing.
    pub error: Option<String>,
    /// Changes with the thumbnail, so it can be cached for good.
    pub thumbnail_url: Option<String>,
    pub uploaded_by: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub latest_analysis: Option<CadAnalysisRef>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CadDrawingPage {
    pub items: Vec<CadDrawingView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CadDrawingDetail {
    pub drawing: CadDrawingView,
    /// zk-cad's facts (texts and dimension values capped at 2000 each); `null` when it failed.
    #[ts(as = "Option<zk_cad::Facts>")]
    pub facts: Option<Value>,
    /// The reader's first 200 diagnostics.
    #[ts(as = "Vec<zk_cad::Diagnostic>")]
    pub diagnostics: Vec<Value>,
    pub layouts: Vec<String>,
}

/// An encoded scene, the layout it shows, and its ETag (the drawing's content, the layout, the
/// format's version and the tessellator's revision: the same ETag always means the same bytes).
pub struct SceneDocument {
    pub layout: String,
    pub bytes: bytes::Bytes,
    pub etag: String,
}

fn scene_etag(sha256: &str, layout: &str) -> String {
    let layout = hex::encode(&Sha256::digest(layout.as_bytes())[..8]);
    let (format, revision) = (zk_cad::wire::FORMAT_VERSION, zk_cad::wire::SCENE_REVISION);
    format!("{}-{layout}-v{format}.{revision}", &sha256[..sha256.len().min(32)])
}

/// A drawing's source file, for download.
pub struct SourceFile {
    pub name: String,
    pub media_type: &'static str,
    pub size: u64,
    pub path: PathBuf,
}

/// What one guarded read of a drawing gives an import.
pub(crate) struct ImportedDrawing {
    pub drawing: Drawing,
    pub facts: Facts,
    pub diagnostics: Vec<Diagnostic>,
    pub thumbnail: Option<Vec<u8>>,
}

pub struct CadLibrary {
    store: Arc<dyn Store>,
    files: Arc<FileService>,
    clock: SharedClock,
    options: CadOptions,
    cad_dir: PathBuf,
    /// `host:/absolute/CAD_DIR`: which server's folder a folder drawing is in.
    folder_root: String,
    cache: DrawingCache,
    workers: CadWorkers,
    metrics: Arc<Metrics>,
}

/// This server's watched folder as every server sharing the database names it: the host name and
/// the folder's absolute path. Each server imports and removes only the drawings of its own folder.
fn folder_identity(dir: &Path) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned());
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    format!("{host}:{}", dir.display())
}

impl CadLibrary {
    /// The library of the drawings folder and cache size, and the workers, `config` sets.
    pub fn new(
        store: Arc<dyn Store>,
        files: Arc<FileService>,
        clock: SharedClock,
        options: CadOptions,
        config: &CadConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        let cad_dir = config.dir.clone();
        let folder_root = folder_identity(&cad_dir);
        let cache = DrawingCache::new(config.cache_bytes);
        let workers = CadWorkers::new(config.budgets.workers, config.budgets.queue);
        Self { store, files, clock, options, cad_dir, folder_root, cache, workers, metrics }
    }

    /// A worker for heavy work on `record` (reading, drawing); a refusal is logged.
    async fn worker(&self, record: &CadDrawingRecord, what: &'static str) -> CoreResult<OwnedSemaphorePermit> {
        self.workers.acquire().await.inspect_err(|error| refused(record, what, error))
    }

    fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    pub fn options(&self) -> &CadOptions {
        &self.options
    }

    pub fn cad_dir(&self) -> &Path {
        &self.cad_dir
    }

    pub fn folder_root(&self) -> &str {
        &self.folder_root
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn cache_stats(&self) -> DrawingCacheStats {
        self.cache.stats()
    }

    /// Refuses an upload whose declared length is over `CAD_MAX_BYTES` before any byte is read.
    pub fn check_declared_size(&self, content_length: Option<u64>) -> CoreResult<()> {
        match content_length {
            Some(length) if length > self.options.max_bytes => Err(too_large(self.options.max_bytes)),
            _ => Ok(()),
        }
    }

    pub async fn list(&self, q: Option<&str>, cursor: Option<&str>, limit: i64) -> CoreResult<CadDrawingPage> {
        let limit = limit.clamp(1, 200);
        let needle = q.map(str::trim).filter(|q| !q.is_empty()).map(crate::store::search_key);
        let mut records = self.store.list_cad_drawings(needle.as_deref(), cursor, limit + 1).await?;
        let more = records.len() as i64 > limit;
        records.truncate(limit as usize);
        let next_cursor = if more { records.last().map(|r| r.id.clone()) } else { None };
        Ok(CadDrawingPage { items: records.into_iter().map(view).collect(), next_cursor })
    }

    async fn record(&self, id: &str) -> CoreResult<CadDrawingRecord> {
        self.store.cad_drawing(id).await?.ok_or_else(|| CoreError::NotFound(format!("drawing {id}")))
    }

    /// A drawing the reader could open; a failed one answers with its reason.
    async fn ready(&self, id: &str) -> CoreResult<CadDrawingRecord> {
        let record = self.record(id).await?;
        if record.status != "ready" {
            return Err(CoreError::Unprocessable {
                code: "unreadable_drawing",
                message: format!(
                    "the drawing {} could not be read ({}); fix or replace the file",
                    record.name,
                    record.error.as_deref().unwrap_or("no reason recorded")
                ),
            });
        }
        Ok(record)
    }

    pub async fn get(&self, id: &str) -> CoreResult<CadDrawingDetail> {
        let record = self.record(id).await?;
        let (facts, diagnostics) =
            self.store.cad_drawing_facts(id).await?.ok_or_else(|| CoreError::NotFound(format!("drawing {id}")))?;
        let diagnostics = match diagnostics {
            Value::Array(list) => list.into_iter().take(KEPT_DIAGNOSTICS).collect(),
            _ => Vec::new(),
        };
        let drawing = view(record);
        Ok(CadDrawingDetail { layouts: drawing.layouts.clone(), drawing, facts, diagnostics })
    }

    /// `POST /api/cad/drawings`: streamed into a temporary file (at most `CAD_MAX_BYTES`), sniffed,
    /// read under the guards, and only then stored. A drawing the reader refuses stores nothing.
    pub async fn upload<S, B, E>(&self, uploader: &Principal, name: &str, body: S) -> CoreResult<CadDrawingView>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        uploader.require(Role::Designer)?;
        let staged =
            self.files.stage_upload(uploader, name, body, self.options.max_bytes).await.map_err(|e| match e {
                CoreError::TooLarge { limit, .. } => too_large(limit),
                other => other,
            })?;
        let format = match staged.media_type {
            "image/vnd.dxf" => CadFormat::Dxf,
            "image/vnd.dwg" => CadFormat::Dwg,
            other => {
                return Err(CoreError::UnsupportedType(format!(
                    "{} is {other}, not a DXF or DWG drawing; upload the drawing itself (.dxf or .dwg)",
                    staged.name
                )));
            }
        };
        let bytes = tokio::fs::read(staged.blob.path())
            .await
            .map_err(|e| CoreError::Storage(format!("cannot read the staged upload: {e}")))?;
        let sha256 = staged.blob.sha256.clone();
        let size = staged.blob.size;
        let display_name = staged.name.clone();
        let permit = self.workers.acquire().await.inspect_err(|error| {
            tracing::warn!(error_log = true, name = %display_name, %error, "a CAD upload was refused");
        })?;
        let imported = self.import_bytes(bytes).await;
        drop(permit);
        let imported = imported.map_err(|error| {
            if matches!(error, CadError::Timeout { .. }) {
                tracing::warn!(error_log = true, name = %display_name, %error, "a CAD upload timed out");
            }
            unreadable(&display_name, &error)
        })?;
        let file = self.files.store_upload(uploader, staged).await?;
        let content = self.content(&display_name, format, &sha256, size, Ok(&imported));
        let new = NewCadDrawing {
            id: uuid::Uuid::now_v7().to_string(),
            source: "upload".into(),
            file_id: Some(file.id.clone()),
            folder_root: None,
            folder_path: None,
            uploaded_by: Some(uploader.user_id),
            content,
        };
        let record = match self.store.insert_cad_drawing(&new).await {
            Ok(record) => record,
            Err(error) => {
                if let Err(cleanup) = self.files.delete(uploader, &file.id).await {
                    tracing::warn!(file = %file.id, %cleanup, "an upload's file stays after its drawing failed to store");
                }
                return Err(error.into());
            }
        };
        self.keep_open(&record, imported.drawing);
        tracing::info!(drawing = %record.id, name = %record.name, size, "drawing uploaded");
        Ok(view(record))
    }

    /// Deletes an uploaded drawing (its uploader or an admin) with its file, thumbnail and analyses.
    /// A folder drawing goes when its file leaves the folder.
    pub async fn delete(&self, actor: &Principal, id: &str) -> CoreResult<()> {
        actor.require(Role::Designer)?;
        let record = self.record(id).await?;
        let Some(file_id) = record.file_id.clone().filter(|_| record.source == "upload") else {
            return Err(CoreError::Conflict(format!(
                "the drawing {} comes from the watched folder {}; remove the file from the folder to remove it from the library",
                record.folder_path.as_deref().unwrap_or(&record.name),
                record.folder_root.as_deref().unwrap_or("of a server")
            )));
        };
        if actor.role != Role::Admin && record.uploaded_by != Some(actor.user_id) {
            return Err(CoreError::Forbidden(format!(
                "only the uploader of {} or an admin can delete it",
                record.name
            )));
        }
        self.store.delete_cad_drawing(id).await?;
        self.cache.remove(id);
        match self.files.delete(actor, &file_id).await {
            Ok(()) | Err(CoreError::NotFound(_)) => {}
            Err(error) => tracing::warn!(drawing = id, file = %file_id, %error, "the deleted drawing's file stays"),
        }
        tracing::info!(drawing = id, by = actor.user_id, "drawing deleted");
        Ok(())
    }

    /// The thumbnail PNG and its ETag.
    pub async fn thumbnail(&self, id: &str) -> CoreResult<(Vec<u8>, String)> {
        let record = self.record(id).await?;
        let etag = record.thumbnail_sha256.clone().ok_or_else(|| CoreError::NotFound(format!("thumbnail of {id}")))?;
        let png =
            self.store.cad_thumbnail(id).await?.ok_or_else(|| CoreError::NotFound(format!("thumbnail of {id}")))?;
        Ok((png, etag))
    }

    /// The original file.
    pub async fn source(&self, id: &str) -> CoreResult<SourceFile> {
        let record = self.record(id).await?;
        let path = self.local_source(&record).await?;
        let media_type = if record.format == "dwg" { "image/vnd.dwg" } else { "image/vnd.dxf" };
        let size = tokio::fs::metadata(&path)
            .await
            .map_err(|e| CoreError::NotFound(format!("the source of drawing {} ({e})", record.name)))?
            .len();
        Ok(SourceFile { name: record.name, media_type, size, path })
    }

    /// Where the source is: an upload's blob, or the file in this server's watched folder.
    fn source_path(&self, record: &CadDrawingRecord) -> CoreResult<PathBuf> {
        match (&record.folder_path, record.source.as_str()) {
            (Some(relative), "folder") if record.folder_root.as_deref() == Some(self.folder_root.as_str()) => {
                Ok(self.cad_dir.join(relative))
            }
            (Some(_), "folder") => Err(CoreError::Conflict(format!(
                "the drawing {} is in the watched folder of another server ({}), which this server cannot read; \
                 open it through that server",
                record.name,
                record.folder_root.as_deref().unwrap_or("unknown")
            ))),
            _ => self.files.blobs().blob_path(&record.sha256),
        }
    }

    /// [`CadLibrary::source_path`], an upload's content fetched from the sync bucket first when it is
    /// missing locally.
    async fn local_source(&self, record: &CadDrawingRecord) -> CoreResult<PathBuf> {
        let path = self.source_path(record)?;
        if record.source == "folder" {
            return Ok(path);
        }
        self.files.local_path(&record.sha256, record.size_bytes).await
    }

    /// The opened drawing, from the cache or read again (off the runtime, under the guards).
    async fn open(&self, record: &CadDrawingRecord) -> CoreResult<Arc<OpenDrawing>> {
        self.cache
            .get_or_load(&record.id, &record.sha256, || async {
                let path = self.local_source(record).await?;
                let options = self.options.clone();
                let started = std::time::Instant::now();
                let read = tokio::task::spawn_blocking(move || -> Result<Drawing, CadError> {
                    let bytes = super::read_file(&path, &options)?;
                    super::open_drawing(bytes, &options).map(|(drawing, _)| drawing)
                })
                .await
                .map_err(|e| CoreError::Internal(anyhow::anyhow!("the CAD worker failed: {e}")));
                self.metrics.cad_opened(matches!(read, Ok(Ok(_))), started.elapsed());
                let read = read?;
                let drawing = read.map_err(|error| cad_refused(record, "read", &error))?;
                let estimate = model_bytes(record.size_bytes.max(0) as u64, record.format == "dwg");
                Ok(OpenDrawing::new(record.sha256.clone(), drawing, estimate))
            })
            .await
    }

    fn keep_open(&self, record: &CadDrawingRecord, drawing: Drawing) {
        let estimate = model_bytes(record.size_bytes.max(0) as u64, record.format == "dwg");
        self.cache.insert(&record.id, Arc::new(OpenDrawing::new(record.sha256.clone(), drawing, estimate)));
    }

    /// The ETag [`CadLibrary::scene`] would give, when the drawing's row alone tells it: the layout
    /// found by name among the row's layouts (model space: the one named "Model"), one match only.
    /// A client's copy can then be confirmed without reading the drawing (a cold cache would read and
    /// tessellate it only to answer "not modified"). `None` when only the drawing can tell.
    pub async fn known_scene_etag(&self, id: &str, layout: Option<&str>) -> CoreResult<Option<String>> {
        let record = self.ready(id).await?;
        // A folder drawing of another server is not this server's to confirm.
        self.source_path(&record)?;
        let names: Vec<String> = serde_json::from_value(record.layouts.0.clone()).unwrap_or_default();
        let wanted = layout.unwrap_or("Model");
        let mut matches = names.iter().filter(|n| n.eq_ignore_ascii_case(wanted));
        Ok(match (matches.next(), matches.next()) {
            (Some(name), None) => Some(scene_etag(&record.sha256, name)),
            _ => None,
        })
    }

    /// A layout's scene in the viewer's wire format (model space when `layout` is `None`).
    pub async fn scene(&self, id: &str, layout: Option<&str>) -> CoreResult<SceneDocument> {
        let record = self.ready(id).await?;
        // A scene drawn before is sent without a worker; anything else reads or draws.
        let cached = self.cache.get(&record.id, &record.sha256).and_then(|open| {
            let name = super::find_layout(&open.drawing, layout).ok()?.name.clone();
            open.scene(&name).map(|bytes| (name, bytes))
        });
        if let Some((name, bytes)) = cached {
            let etag = scene_etag(&record.sha256, &name);
            return Ok(SceneDocument { layout: name, bytes, etag });
        }
        let permit = self.worker(&record, "scene").await?;
        let open = self.open(&record).await?;
        let name = super::find_layout(&open.drawing, layout).map_err(layout_error)?.name.clone();
        let etag = scene_etag(&record.sha256, &name);
        if let Some(bytes) = open.scene(&name) {
            return Ok(SceneDocument { layout: name, bytes, etag });
        }
        let drawing = open.drawing.clone();
        let budget = self.options.time_budget;
        let budgets = self.options.budgets;
        let layout_name = name.clone();
        let encoded = tokio::task::spawn_blocking(move || {
            super::guarded(budget, move |guard| {
                // Held by the worker thread: a client that hangs up does not free it early.
                let _permit = permit;
                let layout = super::find_layout(&drawing, Some(&layout_name))?;
                let (scene, _) = super::tessellate_layout(&drawing, layout, &budgets, guard)?;
                if let Some(shortfall) = &scene.shortfall {
                    tracing::info!(layout = %layout_name, "a scene was drawn partially: {}", shortfall.message());
                }
                let count = u32::try_from(drawing.layout_entities(layout).count()).unwrap_or(u32::MAX);
                Ok(zk_cad::wire::encode_scene(&drawing, layout, &scene, count))
            })
        })
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("the CAD worker failed: {e}")))?
        .map_err(|error| cad_refused(&record, "scene", &error))?;
        let bytes = bytes::Bytes::from(encoded);
        self.cache.add_scene(id, &open, &name, bytes.clone());
        Ok(SceneDocument { layout: name, bytes, etag })
    }

    /// The entity at `owner` (its index in the layout's entity order, as the scene's owners).
    pub async fn entity(&self, id: &str, layout: Option<&str>, owner: u32) -> CoreResult<CadEntityView> {
        let record = self.ready(id).await?;
        let open = self.open(&record).await?;
        let drawing = open.drawing.clone();
        let layout = layout.map(str::to_owned);
        // Walking to a late entity of a huge layout takes a while: off the runtime.
        tokio::task::spawn_blocking(move || {
            let layout = super::find_layout(&drawing, layout.as_deref()).map_err(layout_error)?;
            let entity = drawing.layout_entities(layout).nth(owner as usize).ok_or_else(|| {
                CoreError::NotFound(format!(
                    "entity {owner} of layout {} (it has {})",
                    layout.name,
                    drawing.layout_entities(layout).count()
                ))
            })?;
            Ok(properties::describe(&drawing, entity, owner))
        })
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("the CAD worker failed: {e}")))?
    }

    /// A layout as SVG or PNG (the renderer of `zk-agent cad render`), and a file name for it.
    pub async fn render(&self, id: &str, request: RenderRequest) -> CoreResult<(Rendered, String)> {
        if !(16..=zk_cad::raster::MAX_RASTER_SIDE).contains(&request.width) {
            return Err(CoreError::invalid(
                "width",
                format!("width is from 16 to {} pixels", zk_cad::raster::MAX_RASTER_SIDE),
            ));
        }
        let record = self.ready(id).await?;
        let what = if request.format == ImageFormat::Png { "PNG export" } else { "SVG export" };
        let permit = self.worker(&record, what).await?;
        let open = self.open(&record).await?;
        super::find_layout(&open.drawing, request.layout.as_deref()).map_err(layout_error)?;
        let drawing = open.drawing.clone();
        let budget = self.options.time_budget;
        let budgets = self.options.budgets;
        let format = request.format;
        let rendered = tokio::task::spawn_blocking(move || {
            super::guarded(budget, move |guard| {
                // Held by the worker thread: a client that hangs up does not free it early.
                let _permit = permit;
                super::render_layout(&drawing, Vec::new(), &request, &budgets, guard)
            })
        })
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("the CAD worker failed: {e}")))?
        .map_err(|error| cad_refused(&record, what, &error))?;
        let stem = Path::new(&record.name).file_stem().and_then(|s| s.to_str()).unwrap_or("drawing").to_owned();
        let extension = if format == ImageFormat::Png { "png" } else { "svg" };
        let name = format!("{stem}-{}.{extension}", rendered.layout);
        Ok((rendered, name))
    }

    /// Every fact of a drawing (all texts and dimension values), for the analysis task.
    pub(crate) async fn full_facts(&self, record: &CadDrawingRecord) -> CoreResult<Facts> {
        let open = self.open(record).await?;
        let drawing = open.drawing.clone();
        let budget = self.options.time_budget;
        tokio::task::spawn_blocking(move || {
            super::guarded(budget, move |_| Ok(zk_cad::facts(&drawing, super::MAX_BLOCK_DEPTH)))
        })
        .await
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("the CAD worker failed: {e}")))?
        .map_err(|error| unreadable(&record.name, &error))
    }

    /// Reads a drawing, gathers its facts and draws its thumbnail, all in one guarded read.
    pub(crate) async fn import_bytes(&self, bytes: Vec<u8>) -> Result<ImportedDrawing, CadError> {
        let options = self.options.clone();
        // A thumbnail is small: it needs no more than its own budgets.
        let budgets = super::DrawBudgets {
            max_instances: options.budgets.max_instances.min(THUMBNAIL_MAX_INSTANCES),
            max_vertices: options.budgets.max_vertices.min(THUMBNAIL_MAX_VERTICES),
            ..options.budgets
        };
        tokio::task::spawn_blocking(move || {
            super::guarded_read(bytes, &options, move |drawing, diagnostics, guard| {
                let facts = zk_cad::facts(&drawing, super::MAX_BLOCK_DEPTH);
                let thumbnail = thumbnail(&drawing, &budgets, guard)?;
                Ok(ImportedDrawing { drawing, facts, diagnostics, thumbnail })
            })
        })
        .await
        .unwrap_or_else(|e| Err(CadError::Crashed { message: format!("the CAD worker failed: {e}") }))
    }

    /// What an import writes: the facts of a drawing read, or the reason it could not be.
    pub(crate) fn content(
        &self,
        name: &str,
        format: CadFormat,
        sha256: &str,
        size: u64,
        read: Result<&ImportedDrawing, &str>,
    ) -> CadDrawingWrite {
        let mut write = CadDrawingWrite {
            name: name.to_owned(),
            format: if format == CadFormat::Dwg { "dwg" } else { "dxf" }.to_owned(),
            sha256: sha256.to_owned(),
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            acad_version: None,
            release: None,
            units: None,
            entity_count: 0,
            layouts: json!([]),
            status: "failed".into(),
            error: None,
            facts: None,
            diagnostics: json!([]),
            thumbnail: None,
            thumbnail_sha256: None,
            now: self.now(),
        };
        match read {
            Err(reason) => write.error = Some(reason.to_owned()),
            Ok(imported) => {
                let facts = &imported.facts;
                write.status = "ready".into();
                write.acad_version.clone_from(&facts.version);
                write.release = facts.release.map(str::to_owned);
                write.units = facts.units.insunits.filter(|&u| u > 0).map(|u| zk_cad::model::units_name(u).to_owned());
                write.entity_count = facts.layouts.iter().map(|l| l.entities as i64).sum();
                write.layouts = json!(layout_names(&imported.drawing));
                let mut kept = facts.clone();
                kept.texts.truncate(KEPT_FACT_ITEMS);
                kept.dimensions.truncate(KEPT_FACT_ITEMS);
                write.facts = serde_json::to_value(&kept).ok();
                let diagnostics: Vec<&Diagnostic> = imported.diagnostics.iter().take(KEPT_DIAGNOSTICS).collect();
                write.diagnostics = serde_json::to_value(diagnostics).unwrap_or_else(|_| json!([]));
                if let Some(png) = &imported.thumbnail {
                    write.thumbnail_sha256 = Some(hex::encode(Sha256::digest(png)));
                    write.thumbnail = Some(png.clone());
                }
            }
        }
        write
    }

    /// Imports (or re-imports) a file of the watched folder; returns the drawing and whether the
    /// reader refused it (then it is listed as failed with the reason).
    pub(crate) async fn import_folder_file(
        &self,
        relative: &str,
        path: &Path,
        sha256: &str,
        size: u64,
        existing: Option<&CadDrawingRecord>,
    ) -> CoreResult<CadDrawingRecord> {
        let name = relative.rsplit('/').next().unwrap_or(relative).to_owned();
        let format = if name.to_ascii_lowercase().ends_with(".dwg") { CadFormat::Dwg } else { CadFormat::Dxf };
        let (owned, options) = (path.to_owned(), self.options.clone());
        let bytes = tokio::task::spawn_blocking(move || super::read_file(&owned, &options))
            .await
            .unwrap_or_else(|e| Err(CadError::Crashed { message: format!("the CAD worker failed: {e}") }));
        let read = match bytes {
            Ok(bytes) => self.import_bytes(bytes).await,
            Err(error) => Err(error),
        };
        let reason = read.as_ref().err().map(ToString::to_string);
        let content = match &read {
            Ok(imported) => self.content(&name, format, sha256, size, Ok(imported)),
            Err(_) => self.content(&name, format, sha256, size, Err(reason.as_deref().unwrap_or_default())),
        };
        let record = match existing {
            Some(existing) => self
                .store
                .update_cad_drawing(&existing.id, &content)
                .await?
                .ok_or_else(|| CoreError::NotFound(format!("drawing {}", existing.id)))?,
            None => {
                self.store
                    .insert_cad_drawing(&NewCadDrawing {
                        id: uuid::Uuid::now_v7().to_string(),
                        source: "folder".into(),
                        file_id: None,
                        folder_root: Some(self.folder_root.clone()),
                        folder_path: Some(relative.to_owned()),
                        uploaded_by: None,
                        content,
                    })
                    .await?
            }
        };
        self.cache.remove(&record.id);
        if let Ok(imported) = read {
            self.keep_open(&record, imported.drawing);
        }
        Ok(record)
    }

    /// Removes a folder drawing whose file left the folder.
    pub(crate) async fn remove_folder_drawing(&self, id: &str) -> CoreResult<()> {
        self.store.delete_cad_drawing(id).await?;
        self.cache.remove(id);
        Ok(())
    }
}

/// Layout names, model space first, then the sheets in tab order.
fn layout_names(drawing: &Drawing) -> Vec<String> {
    let mut layouts: Vec<&zk_cad::Layout> = drawing.layouts.iter().collect();
    layouts.sort_by_key(|l| (!l.is_model(), l.tab_order));
    layouts.into_iter().map(|l| l.name.clone()).collect()
}

/// Model space as a small PNG (or the first layout with something in it); `None` for an empty
/// drawing. Runs on the guard's worker thread.
fn thumbnail(
    drawing: &Drawing,
    budgets: &super::DrawBudgets,
    guard: &super::Guard,
) -> Result<Option<Vec<u8>>, CadError> {
    let mut layouts: Vec<&zk_cad::Layout> = drawing.layouts.iter().collect();
    layouts.sort_by_key(|l| (!l.is_model(), l.tab_order));
    for layout in layouts {
        let (scene, _) = super::tessellate_layout(drawing, layout, budgets, guard)?;
        let Some(bounds) = scene.bounds else { continue };
        let (w, h) = ((bounds.max.x - bounds.min.x).max(0.0), (bounds.max.y - bounds.min.y).max(0.0));
        let (box_w, box_h) = THUMBNAIL_BOX;
        // Fit the box: a tall drawing gets a narrower image, never a taller one.
        let width = if h * box_w > w * box_h && h > 0.0 { (box_h * w / h).round().max(16.0) } else { box_w };
        let options = zk_cad::raster::RasterOptions {
            width: width as u32,
            background: super::Background::Light,
            ..Default::default()
        };
        return match zk_cad::raster::scene_to_png(&scene, &options) {
            Ok(png) => Ok(Some(png)),
            Err(error) => {
                tracing::warn!(%error, "no thumbnail for a drawing");
                Ok(None)
            }
        };
    }
    Ok(None)
}

fn too_large(limit: u64) -> CoreError {
    CoreError::TooLarge { what: "the drawing (CAD_MAX_BYTES sets the limit)".into(), limit }
}

/// A drawing the reader refused, as the API's 422 with the reader's reason.
fn unreadable(name: &str, error: &CadError) -> CoreError {
    match error {
        CadError::NoSuchLayout { name, available } => {
            CoreError::NoSuchLayout { name: name.clone(), available: available.clone() }
        }
        CadError::TooLarge { limit, .. } => too_large(*limit),
        CadError::DwgTooLargeToRead { limit, .. } => CoreError::TooLarge {
            what: "a DWG (an eighth of CAD_MAX_BYTES: reading one takes about 50 times its size in memory)".into(),
            limit: *limit,
        },
        CadError::Io { .. } => CoreError::Storage(format!("cannot read the drawing {name}: {error}")),
        CadError::Dwg { .. } | CadError::DwgConversion { .. } => {
            CoreError::Unprocessable { code: "unsupported_dwg", message: format!("{name}: {error}") }
        }
        CadError::Unreadable(_) => CoreError::Unprocessable {
            code: "unreadable_drawing",
            message: format!(
                "{name} cannot be opened: {error}; save it again as DXF from the CAD program that made it"
            ),
        },
        _ => CoreError::Unprocessable { code: "unreadable_drawing", message: format!("{name}: {error}") },
    }
}

/// A guarded read or drawing for a request that failed: a time-out is logged at WARN and into the
/// error log (the client gets a 422 with the reason), then mapped as [`unreadable`].
fn cad_refused(record: &CadDrawingRecord, what: &'static str, error: &CadError) -> CoreError {
    let mapped = unreadable(&record.name, error);
    if matches!(error, CadError::Timeout { .. }) {
        refused(record, what, &mapped);
    }
    mapped
}

/// Logs a refused or timed-out request for a drawing: WARN, copied into the error log.
fn refused(record: &CadDrawingRecord, what: &'static str, error: &CoreError) {
    tracing::warn!(error_log = true, drawing = %record.id, name = %record.name, what, %error, "a CAD request was refused");
}

fn layout_error(error: CadError) -> CoreError {
    match error {
        CadError::NoSuchLayout { name, available } => CoreError::NoSuchLayout { name, available },
        other => CoreError::Internal(anyhow::anyhow!("{other}")),
    }
}

/// The state of an analysis: its own once it has an outcome, else its task's (a task that failed or
/// was cancelled before the handler recorded anything ends the analysis too).
pub(crate) fn analysis_state(own: &str, task: Option<&str>) -> TaskState {
    let own = TaskState::parse(own).unwrap_or(TaskState::Failed);
    match task.and_then(TaskState::parse) {
        Some(task @ (TaskState::Failed | TaskState::Cancelled)) if !own.is_terminal() => task,
        // A task that succeeded always recorded its outcome first; queued or running follow the task.
        Some(task @ (TaskState::Queued | TaskState::Running)) if !own.is_terminal() => task,
        _ => own,
    }
}

fn view(record: CadDrawingRecord) -> CadDrawingView {
    let layouts: Vec<String> = serde_json::from_value(record.layouts.0.clone()).unwrap_or_default();
    let latest_analysis = match (&record.latest_analysis_id, &record.latest_analysis_state) {
        (Some(id), Some(state)) => {
            Some(CadAnalysisRef { id: id.clone(), state: analysis_state(state, record.latest_task_state.as_deref()) })
        }
        _ => None,
    };
    let thumbnail_url = record
        .thumbnail_sha256
        .as_ref()
        .map(|sha| format!("/api/cad/drawings/{}/thumbnail?v={}", record.id, &sha[..sha.len().min(16)]));
    CadDrawingView {
        format: if record.format == "dwg" { CadFormat::Dwg } else { CadFormat::Dxf },
        source: if record.source == "folder" { CadSource::Folder } else { CadSource::Upload },
        status: if record.status == "ready" { CadStatus::Ready } else { CadStatus::Failed },
        id: record.id,
        name: record.name,
        acad_version: record.acad_version,
        release: record.release,
        size_bytes: record.size_bytes,
        units: record.units,
        entity_count: record.entity_count,
        layouts,
        folder_path: record.folder_path,
        error: record.error,
        thumbnail_url,
        uploaded_by: record.uploaded_by,
        created_at: record.created_at,
        updated_at: record.updated_at,
        latest_analysis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_analysis_without_an_outcome_follows_its_task() {
        assert_eq!(analysis_state("queued", Some("running")), TaskState::Running);
        assert_eq!(analysis_state("running", Some("failed")), TaskState::Failed, "the task gave up");
        assert_eq!(analysis_state("running", Some("cancelled")), TaskState::Cancelled);
        assert_eq!(analysis_state("succeeded", Some("failed")), TaskState::Succeeded, "an outcome stays");
        assert_eq!(analysis_state("failed", Some("succeeded")), TaskState::Failed);
        assert_eq!(analysis_state("queued", None), TaskState::Queued, "the task row is gone");
    }
}
