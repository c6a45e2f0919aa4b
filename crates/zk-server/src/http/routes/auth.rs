use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use zk_core::accounts::{NewAccount, SignedIn};
use zk_core::store::Role;

use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, CurrentUser, Meta};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Json<SignedIn>> {
    Ok(Json(state.core.accounts.login(&body.username, &body.password, &meta).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    refresh_token: String,
}

pub async fn refresh(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<Refresh>,
) -> ApiResult<Json<SignedIn>> {
    Ok(Json(state.core.accounts.refresh(&body.refresh_token, &meta).await?))
}

pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Meta(meta): Meta,
) -> ApiResult<StatusCode> {
    state.core.accounts.logout(&user, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(CurrentUser(user): CurrentUser) -> Json<Value> {
    Json(json!({ "id": user.user_id, "username": user.username, "role": user.role, "session_id": user.session_id }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[serde(default)]
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<Json<SignedIn>> {
    Ok(Json(state.core.accounts.change_password(&user, &body.current_password, &body.new_password, &meta).await?))
}

pub async fn setup_status(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "required": state.core.accounts.setup_required().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    token: String,
    username: String,
    #[serde(default)]
    display_name: Option<String>,
    password: String,
}

pub async fn complete_setup(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<Setup>,
) -> ApiResult<Json<SignedIn>> {
    let account = NewAccount {
        username: body.username,
        display_name: body.display_name,
        password: body.password,
        role: Role::Admin,
    };
    Ok(Json(state.core.accounts.complete_setup(&body.token, account, &meta).await?))
}
