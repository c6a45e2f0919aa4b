use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zk_core::admin::ConfigView;
use zk_core::store::{AuditRecord, ErrorRecord, LogQuery, Timestamp};

use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, Meta};

pub async fn config(State(state): State<AppState>) -> ApiResult<Json<Vec<ConfigView>>> {
    Ok(Json(state.core.admin.config().await?))
}

#[derive(Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct SetConfig {
    value: Value,
}

pub async fn set_config(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<SetConfig>,
) -> ApiResult<StatusCode> {
    state.core.admin.set_config(Some(&actor), &key, body.value, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// The audit action or the error level to keep.
    kind: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

impl From<LogParams> for LogQuery {
    fn from(params: LogParams) -> Self {
        Self { kind: params.kind, before_id: params.before, limit: params.limit.unwrap_or(100) }
    }
}

#[derive(Serialize, ts_rs::TS)]
pub struct AuditView {
    id: i64,
    at: Timestamp,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    action: String,
    target: Option<String>,
    outcome: String,
    ip: Option<String>,
    request_id: Option<String>,
    details: Value,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        Self {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            target: r.target,
            outcome: r.outcome,
            ip: r.ip,
            request_id: r.request_id,
            details: r.details.0,
        }
    }
}

pub async fn audit(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> ApiResult<Json<Vec<AuditView>>> {
    Ok(Json(state.core.admin.audit_entries(params.into()).await?.into_iter().map(AuditView::from).collect()))
}

#[derive(Serialize, ts_rs::TS)]
pub struct ErrorView {
    id: i64,
    at: Timestamp,
    level: String,
    source: String,
    message: String,
    request_id: Option<String>,
    user_id: Option<i64>,
    context: Value,
}

impl From<ErrorRecord> for ErrorView {
    fn from(r: ErrorRecord) -> Self {
        Self {
            id: r.id,
            at: r.at,
            level: r.level,
            source: r.source,
            message: r.message,
            request_id: r.request_id,
            user_id: r.user_id,
            context: r.context.0,
        }
    }
}

pub async fn errors(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> ApiResult<Json<Vec<ErrorView>>> {
    Ok(Json(state.core.admin.error_entries(params.into()).await?.into_iter().map(ErrorView::from).collect()))
}
