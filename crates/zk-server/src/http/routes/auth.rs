use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use zk_core::accounts::{NewAccount, SignedIn};
use zk_core::store::Role;

use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, CurrentUser, Meta};

#[derive(Deserialize, ts_rs::TS)]
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

#[derive(Deserialize, ts_rs::TS)]
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

/// The signed-in caller, as the server knows them now.
#[derive(Serialize, ts_rs::TS)]
pub struct Me {
    id: i64,
    username: String,
    role: Role,
    session_id: String,
}

pub async fn me(CurrentUser(user): CurrentUser) -> Json<Me> {
    Json(Me { id: user.user_id, username: user.username, role: user.role, session_id: user.session_id })
}

#[derive(Deserialize, ts_rs::TS)]
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

/// Whether the server still needs its first admin.
#[derive(Serialize, ts_rs::TS)]
pub struct SetupStatus {
    required: bool,
}

pub async fn setup_status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(SetupStatus { required: state.core.accounts.setup_required().await? }))
}

#[derive(Deserialize, ts_rs::TS)]
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

#[derive(Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct DesktopSignIn {
    /// The secret the desktop shell generated for this launch and handed to its own window.
    launch_secret: String,
}

/// The desktop window signs in as the local owner with its launch secret; nothing else can.
pub async fn desktop(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<DesktopSignIn>,
) -> ApiResult<Json<SignedIn>> {
    Ok(Json(state.core.accounts.sign_in_desktop(&body.launch_secret, &meta).await?))
}
