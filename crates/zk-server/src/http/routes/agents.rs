use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zk_core::agents::watch::AgentFolderStatus;
use zk_core::agents::{AgentDiffView, AgentHealth, AgentInput, AgentVersionView, AgentView, FileFormat, ImportReport};
use zk_core::chat::import::{IMPORT_TASK, ImportHandler};
use zk_core::keystore::KeyStoreStatus;
use zk_core::secret::Secret;
use zk_core::tasks::{EnqueueRequest, TaskView};

use super::files::{content_disposition, header_value};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, Meta};

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<AgentView>>> {
    Ok(Json(state.core.agents.list().await?))
}

pub async fn get(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<AgentView>> {
    Ok(Json(state.core.agents.get(id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    Ok((StatusCode::CREATED, Json(state.core.agents.create(&actor, input, &meta).await?)))
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(state.core.agents.update(&actor, id, input, &meta).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.core.agents.delete(&actor, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateInput {
    #[serde(default)]
    name: Option<String>,
}

pub async fn duplicate(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<DuplicateInput>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    Ok((StatusCode::CREATED, Json(state.core.agents.duplicate(&actor, id, input.name, &meta).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    key: String,
}

pub async fn set_key(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<KeyInput>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(state.core.agents.set_key(&actor, id, &input.key, &meta).await?))
}

pub async fn clear_key(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(state.core.agents.clear_key(&actor, id, &meta).await?))
}

pub async fn versions(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AgentVersionView>>> {
    Ok(Json(state.core.agents.versions(id).await?))
}

pub async fn version(
    State(state): State<AppState>,
    ApiPath((id, version)): ApiPath<(i64, i32)>,
) -> ApiResult<Json<AgentVersionView>> {
    Ok(Json(state.core.agents.version(id, version).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffParams {
    from: i32,
    to: i32,
}

pub async fn diff(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<DiffParams>,
) -> ApiResult<Json<AgentDiffView>> {
    Ok(Json(state.core.agents.diff(id, params.from, params.to).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreInput {
    version: i32,
}

pub async fn restore(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RestoreInput>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(state.core.agents.restore(&actor, id, input.version, &meta).await?))
}

pub async fn test_connection(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<AgentHealth>> {
    Ok(Json(state.core.agents.test_connection(id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `toml` or `json`; by default taken from `name`'s extension.
    format: Option<FileFormat>,
    /// The file's name, for the history and for problems.
    name: Option<String>,
}

/// The body is the file itself (TOML or JSON text).
pub async fn import(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: String,
) -> ApiResult<Json<ImportReport>> {
    let name = params.name.unwrap_or_else(|| "import".into());
    let format = params.format.or_else(|| FileFormat::from_file_name(&name)).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "say format=toml or format=json, or name a .toml or .json file",
        )
    })?;
    Ok(Json(state.core.agents.import(Some(&actor), &body, format, &name, &meta).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    format: FileFormat,
    /// Comma-separated agent ids; all agents when absent.
    ids: Option<String>,
}

pub async fn export(State(state): State<AppState>, ApiQuery(params): ApiQuery<ExportParams>) -> ApiResult<Response> {
    let ids = match params.ids.as_deref().filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(list) => list.split(',').map(|id| id.trim().parse::<i64>()).collect::<Result<_, _>>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", "ids is a comma-separated list of agent ids")
        })?,
    };
    let body = state.core.agents.export(&ids, params.format).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(params.format.media_type()));
    let name = format!("agents.{}", params.format.extension());
    headers.insert(header::CONTENT_DISPOSITION, header_value(&content_disposition("attachment", &name))?);
    Ok((headers, body).into_response())
}

pub async fn folder(State(state): State<AppState>) -> ApiResult<Json<Option<AgentFolderStatus>>> {
    Ok(Json(state.core.agent_folder.get().map(|f| f.status())))
}

/// Imports the agent's FastGPT conversation history for the caller, as a background task.
pub async fn import_history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<TaskView>)> {
    state.core.agents.get(id).await?;
    let request =
        EnqueueRequest { kind: IMPORT_TASK.into(), payload: ImportHandler::payload(id), ..EnqueueRequest::default() };
    Ok((StatusCode::ACCEPTED, Json(state.core.tasks.enqueue(Some(&user), request).await?)))
}

pub async fn keystore(State(state): State<AppState>) -> Json<KeyStoreStatus> {
    Json(state.core.keystore.status().await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockInput {
    passphrase: String,
}

/// Opens the encrypted key file with its passphrase (when there is no OS keychain).
pub async fn unlock_keystore(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<UnlockInput>,
) -> ApiResult<Json<KeyStoreStatus>> {
    state.core.keystore.unlock(Secret::new(input.passphrase)).await.map_err(zk_core::CoreError::from)?;
    Ok(Json(state.core.keystore.status().await))
}
