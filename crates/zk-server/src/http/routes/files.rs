use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use tokio_util::io::ReaderStream;
use zk_core::files::FileView;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ApiQuery, CurrentUser};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// The file's original name; kept only as sanitised metadata.
    name: String,
}

/// `POST /api/files?name=…` with the raw bytes as the body. A declared length over the limit is
/// refused before the body is read; an undeclared one is cut off as soon as it passes the limit.
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<FileView>)> {
    state.core.files.check_declared_size(declared_length(&headers))?;
    let view = state.core.files.upload(&user, &params.name, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    before: Option<String>,
    limit: Option<i64>,
}

/// The files the caller may read (an admin: every file), newest first.
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<FileView>>> {
    Ok(Json(state.core.files.list(&user, params.before.as_deref(), params.limit.unwrap_or(100)).await?))
}

pub async fn metadata(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<FileView>> {
    Ok(Json(FileView::from(state.core.files.readable(&user, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadParams {
    /// Show images in the page instead of downloading them.
    #[serde(default)]
    inline: bool,
}

pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<DownloadParams>,
) -> ApiResult<Response> {
    let (record, file) = state.core.files.open(&user, &id).await?;
    let content_type = if record.media_type == "text/plain" {
        "text/plain; charset=utf-8".to_owned()
    } else {
        record.media_type.clone()
    };
    let inline = params.inline
        && record.media_type.starts_with("image/")
        && !record.media_type.contains("dxf")
        && !record.media_type.contains("dwg");
    let disposition = content_disposition(if inline { "inline" } else { "attachment" }, &record.original_name);
    let mut response = Body::from_stream(ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header_value(&content_type)?);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(record.size.max(0) as u64));
    headers.insert(header::CONTENT_DISPOSITION, header_value(&disposition)?);
    headers.insert(header::ETAG, header_value(&format!("\"{}\"", record.sha256))?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    Ok(response)
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.core.files.delete(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body's declared `Content-Length`, for refusing an upload before reading it.
pub(super) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
}

/// Everything but RFC 8187's `attr-char` is percent-encoded in `filename*`.
const NOT_ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// RFC 6266: an ASCII `filename` for old clients and the exact name in `filename*` (RFC 8187).
pub(super) fn content_disposition(kind: &str, name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}", utf8_percent_encode(name, NOT_ATTR_CHAR))
}

pub(super) fn header_value(value: &str) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(value)
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "cannot encode a header"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_keeps_the_exact_name_encoded() {
        assert_eq!(
            content_disposition("attachment", "plan.dxf"),
            "attachment; filename=\"plan.dxf\"; filename*=UTF-8''plan.dxf"
        );
        assert_eq!(
            content_disposition("attachment", "报价 \"单\".dxf"),
            "attachment; filename=\"__ ___.dxf\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%20%22%E5%8D%95%22.dxf"
        );
    }
}
