use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use zk_core::health::Status;

use crate::http::AppState;

/// Database, cache and file store, each with status and latency; 503 when one is down.
pub async fn health(State(state): State<AppState>) -> Response {
    let health = state.core.health().await;
    let status = if health.status == Status::Down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (status, Json(health)).into_response()
}

/// The FastGPT deployment: "not_configured" until FASTGPT_API_URL is set, else whether it answers.
pub async fn fastgpt(State(state): State<AppState>) -> Json<zk_core::health::FastgptHealth> {
    Json(state.core.fastgpt_health().await)
}
