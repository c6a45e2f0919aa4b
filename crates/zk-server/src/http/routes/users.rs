use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zk_core::accounts::{NewAccount, UserPatch, UserView};

use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, CurrentUser, Meta};

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(state.core.accounts.list_users().await?))
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiJson(account): ApiJson<NewAccount>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = state.core.accounts.create_user(Some(&actor), account, &meta).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Meta(meta): Meta,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(state.core.accounts.update_user(Some(&actor), id, patch, &meta).await?))
}
