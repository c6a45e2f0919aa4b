//! The CAD library, the viewer's data (scenes, picked entities, exports, the source) and analyses.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio_util::io::ReaderStream;
use zk_core::cad::analysis::{AnalyseInput, CadAnalysisView};
use zk_core::cad::library::{CadDrawingDetail, CadDrawingPage, CadDrawingView, SCENE_MEDIA_TYPE};
use zk_core::cad::properties::CadEntityView;
use zk_core::cad::watch::CadFolderStatus;
use zk_core::cad::{Background, DiagnosticCode, ImageFormat, RenderRequest};

use super::files::{content_disposition, declared_length, header_value};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ApiQuery, CurrentUser};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<i64>,
    cursor: Option<String>,
    /// A substring of the name (any script; case-insensitive).
    q: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<CadDrawingPage>> {
    let page = state.core.cad.list(params.q.as_deref(), params.cursor.as_deref(), params.limit.unwrap_or(50)).await?;
    Ok(Json(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    name: String,
}

/// `POST /api/cad/drawings?name=…` with the raw bytes as the body, limited by `CAD_MAX_BYTES`: a
/// declared length over it is refused before the body is read, an undeclared one as soon as it passes.
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<CadDrawingView>)> {
    state.core.cad.check_declared_size(declared_length(&headers))?;
    let view = state.core.cad.upload(&user, &params.name, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn get(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> ApiResult<Json<CadDrawingDetail>> {
    Ok(Json(state.core.cad.get(&id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.core.cad.delete(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The request's `If-None-Match` names `etag` (quoted): the client has these bytes already.
fn unchanged(headers: &HeaderMap, etag: &str) -> bool {
    headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailParams {
    /// The version in `thumbnailUrl`: a URL with it never changes, so it may be cached for good.
    v: Option<String>,
}

pub async fn thumbnail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<ThumbnailParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (png, etag) = state.core.cad.thumbnail(&id).await?;
    let etag = format!("\"{etag}\"");
    let cache = if params.v.is_some() { "private, max-age=31536000, immutable" } else { "private, no-cache" };
    let fresh = unchanged(&headers, &etag);
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { png.into_response() };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    out.insert(header::ETAG, header_value(&etag)?);
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutParams {
    /// A layout by name (case-insensitive); model space when absent.
    layout: Option<String>,
}

/// The layout's scene in the viewer's binary format (`zk_cad::wire`; its header names the layout).
/// Its ETag changes with the drawing's content, so a browser revalidates instead of downloading again;
/// a copy the browser has is confirmed from the drawing's row when that names the layout, without
/// reading the drawing.
pub async fn scene(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<LayoutParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layout = params.layout.as_deref();
    if headers.contains_key(header::IF_NONE_MATCH)
        && let Some(etag) = state.core.cad.known_scene_etag(&id, layout).await?
    {
        let etag = format!("\"{etag}\"");
        if unchanged(&headers, &etag) {
            return scene_response(StatusCode::NOT_MODIFIED.into_response(), &etag);
        }
    }
    let scene = state.core.cad.scene(&id, layout).await?;
    let etag = format!("\"{}\"", scene.etag);
    if unchanged(&headers, &etag) {
        return scene_response(StatusCode::NOT_MODIFIED.into_response(), &etag);
    }
    let length = scene.bytes.len();
    let mut response = scene_response(Body::from(scene.bytes).into_response(), &etag)?;
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}

/// A scene response's headers: its type, ETag, and revalidation on every use.
fn scene_response(mut response: Response, etag: &str) -> ApiResult<Response> {
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCENE_MEDIA_TYPE));
    out.insert(header::ETAG, header_value(etag)?);
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

pub async fn entity(
    State(state): State<AppState>,
    ApiPath((id, owner)): ApiPath<(String, u32)>,
    ApiQuery(params): ApiQuery<LayoutParams>,
) -> ApiResult<Json<CadEntityView>> {
    Ok(Json(state.core.cad.entity(&id, params.layout.as_deref(), owner).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderParams {
    format: Option<String>,
    width: Option<u32>,
    layout: Option<String>,
    background: Option<String>,
}

/// The header of an export drawn partially: the `OverBudget` diagnostics' messages ("N of M
/// instances drawn: over the budget…"), so a client can say the picture is incomplete.
pub const SHORTFALL_HEADER: &str = "x-cad-shortfall";

/// The layout as PNG or SVG, drawn by the renderer of `zk-agent cad render`, as a download; one
/// drawn partially (over a budget) says so in [`SHORTFALL_HEADER`].
pub async fn render(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<RenderParams>,
) -> ApiResult<Response> {
    let invalid = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message);
    let format = match params.format.as_deref().unwrap_or("png") {
        "png" => ImageFormat::Png,
        "svg" => ImageFormat::Svg,
        _ => return Err(invalid("format is png or svg")),
    };
    let background = match params.background.as_deref().unwrap_or("light") {
        "light" => Background::Light,
        "dark" => Background::Dark,
        _ => return Err(invalid("background is light or dark")),
    };
    let request = RenderRequest { format, width: params.width.unwrap_or(2048), layout: params.layout, background };
    let (rendered, name) = state.core.cad.render(&id, request).await?;
    let media_type = if format == ImageFormat::Png { "image/png" } else { "image/svg+xml" };
    let mut response = rendered.data.into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    out.insert(header::CONTENT_DISPOSITION, header_value(&content_disposition("attachment", &name))?);
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if rendered.truncated {
        let messages: Vec<&str> = rendered
            .diagnostics
            .iter()
            .filter(|d| d.code == DiagnosticCode::OverBudget)
            .map(|d| d.message.as_str())
            .collect();
        let shortfall = if messages.is_empty() { "over the budget".to_owned() } else { messages.join("; ") };
        out.insert(SHORTFALL_HEADER, header_value(&shortfall)?);
    }
    Ok(response)
}

/// The original file, as uploaded or as it is in the watched folder.
pub async fn source(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> ApiResult<Response> {
    let source = state.core.cad.source(&id).await?;
    let file = tokio::fs::File::open(&source.path)
        .await
        .map_err(|_| ApiError::not_found(&format!("the source of drawing {}", source.name)))?;
    let mut response = Body::from_stream(ReaderStream::new(file)).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(source.media_type));
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(source.size));
    out.insert(header::CONTENT_DISPOSITION, header_value(&content_disposition("attachment", &source.name))?);
    Ok(response)
}

/// Queues an analysis (202); `Idempotency-Key` makes a retried request return the first analysis.
/// The body (`{agentId?}`) may be empty.
pub async fn analyse(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CadAnalysisView>)> {
    let input: AnalyseInput = if body.iter().all(u8::is_ascii_whitespace) {
        AnalyseInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", format!("the body is not {{\"agentId\"?}}: {e}"))
        })?
    };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let analysis = state.core.cad_analyses.analyse(&user, &id, input, key).await?;
    Ok((StatusCode::ACCEPTED, Json(analysis)))
}

pub async fn analyses(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<CadAnalysisView>>> {
    Ok(Json(state.core.cad_analyses.list(&id).await?))
}

pub async fn folder(State(state): State<AppState>) -> Json<CadFolderStatus> {
    Json(state.core.cad_folder_status())
}
