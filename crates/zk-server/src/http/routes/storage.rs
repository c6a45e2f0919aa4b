use axum::Json;
use axum::extract::State;
use zk_core::sync::StorageStatus;

use crate::http::AppState;
use crate::http::error::ApiResult;

/// Where files are kept (local only, or an S3 bucket) and how far the bucket is behind.
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<StorageStatus>> {
    Ok(Json(state.core.storage_status().await?))
}

/// "Sync now": failed items are tried again and pending ones are due at once; 409 without a bucket.
pub async fn sync(State(state): State<AppState>) -> ApiResult<Json<StorageStatus>> {
    Ok(Json(state.core.sync_now().await?))
}
