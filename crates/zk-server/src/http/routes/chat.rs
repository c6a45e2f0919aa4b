use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use zk_core::chat::export::ExportFormat;
use zk_core::chat::{
    ConversationDetail, ConversationPage, ConversationPatch, ConversationView, EditInput, EventStream,
    NewConversationInput, SearchHit, SendInput, StreamEvent,
};

use super::files::{content_disposition, header_value};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    agent_id: Option<i64>,
    after: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<ConversationPage>> {
    let page =
        state.core.chat.list(&user, params.agent_id, params.after.as_deref(), params.limit.unwrap_or(50)).await?;
    Ok(Json(page))
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(input): ApiJson<NewConversationInput>,
) -> ApiResult<(StatusCode, Json<ConversationView>)> {
    Ok((StatusCode::CREATED, Json(state.core.chat.create(&user, input).await?)))
}

pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ConversationDetail>> {
    Ok(Json(state.core.chat.get(&user, &id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<ConversationPatch>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(state.core.chat.update(&user, &id, patch).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.core.chat.delete(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    q: String,
    limit: Option<i64>,
}

pub async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<Vec<SearchHit>>> {
    Ok(Json(state.core.chat.search(&user, &params.q, params.limit.unwrap_or(50)).await?))
}

/// Sends a message; the response is the answer's event stream (`started` … `finished`).
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<SendInput>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let events = state.core.chat.send(&user, &id, input).await?;
    Ok(sse(&state, events))
}

pub async fn regenerate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let events = state.core.chat.regenerate(&user, &id, &message_id).await?;
    Ok(sse(&state, events))
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<EditInput>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let events = state.core.chat.edit(&user, &id, &message_id, input).await?;
    Ok(sse(&state, events))
}

/// The running answer's events, a snapshot first; 204 when no answer is running.
pub async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(match state.core.chat.attach(&user, &id).await? {
        Some(events) => sse(&state, events).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

pub async fn stop(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let stopped = state.core.chat.stop(&user, &id).await?;
    Ok(if stopped { StatusCode::ACCEPTED } else { StatusCode::NO_CONTENT })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    format: ExportFormat,
}

pub async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> ApiResult<Response> {
    let exported = state.core.chat.export(&user, &id, params.format).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(exported.media_type));
    headers.insert(header::CONTENT_DISPOSITION, header_value(&content_disposition("attachment", &exported.file_name))?);
    Ok((headers, exported.body).into_response())
}

/// Relays an answer's events as Server-Sent Events, each sent as soon as it happens. A client that
/// goes away stops only its relay: the answer goes on and is stored.
fn sse(state: &AppState, events: EventStream) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    let stream = events
        .map(|event: StreamEvent| {
            let frame = Event::default().event(event.name());
            Ok(frame.json_data(&event).unwrap_or_else(|_| Event::default().event("error").data("{}")))
        })
        // Ends with the server, so graceful shutdown is not held open by a long answer.
        .take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
