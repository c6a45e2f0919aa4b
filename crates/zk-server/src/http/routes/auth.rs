use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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

/// The cookie that marks a browser that signed in before (OWASP's device cookies): only sign-in
/// reads it, so it is scoped to `/api/auth` and never readable by scripts.
const DEVICE_COOKIE: &str = "zk_device";
/// A device stays known for a year after its last sign-in.
const DEVICE_COOKIE_MAX_AGE_SECS: u64 = 365 * 86_400;

pub async fn login(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Response> {
    let device = cookie(&headers, DEVICE_COOKIE);
    let outcome = state.core.accounts.login(&body.username, &body.password, device.as_deref(), &meta).await?;
    // The server speaks plain HTTP; behind a TLS proxy the browser's own Origin says https.
    let secure = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).is_some_and(|o| o.starts_with("https://"));
    let set_cookie = format!(
        "{DEVICE_COOKIE}={}; Path=/api/auth; Max-Age={DEVICE_COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Strict{}",
        outcome.device_cookie,
        if secure { "; Secure" } else { "" }
    );
    let mut response = Json(outcome.signed_in).into_response();
    if let Ok(value) = HeaderValue::from_str(&set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The value of the cookie `name` in the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
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
