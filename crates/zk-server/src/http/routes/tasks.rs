use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use zk_core::store::TaskState;
use zk_core::tasks::{EnqueueRequest, TaskService, TaskView};

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    state: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<TaskView>>> {
    let filter = match params.state.as_deref() {
        None => None,
        Some(name) => Some(TaskState::parse(name).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                "state is one of queued, running, succeeded, failed, cancelled",
            )
        })?),
    };
    Ok(Json(state.core.tasks.list(&user, filter, params.before, params.limit.unwrap_or(100)).await?))
}

/// `Idempotency-Key` (header) or `idempotency_key` (body) makes a retried enqueue return the first task.
pub async fn enqueue(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(mut request): ApiJson<EnqueueRequest>,
) -> ApiResult<(StatusCode, Json<TaskView>)> {
    if request.idempotency_key.is_none() {
        request.idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    }
    Ok((StatusCode::CREATED, Json(state.core.tasks.enqueue(Some(&user), request).await?)))
}

pub async fn kinds(State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.core.tasks.kinds())
}

pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(state.core.tasks.get(&user, id).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(state.core.tasks.cancel(&user, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Only this task's changes.
    id: Option<i64>,
}

/// Server-Sent Events: `ready` once subscribed, then a `task` event (the whole task as JSON) for
/// each change the caller may see, and `resync` when events were lost (re-read the list then).
pub async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<EventParams>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = BroadcastStream::new(state.core.tasks.subscribe()).filter_map(move |change| {
        let event = match change {
            Ok(task) if TaskService::may_see(&user, &task) && params.id.is_none_or(|id| id == task.id) => {
                Event::default().event("task").json_data(&task).ok()
            }
            Ok(_) => None,
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                Some(Event::default().event("resync").data(missed.to_string()))
            }
        };
        std::future::ready(event.map(Ok))
    });
    let ready = futures_util::stream::once(std::future::ready(Ok(Event::default().event("ready").data("{}"))));
    // Ends with the server, so graceful shutdown is not held open by watchers.
    let stream = ready.chain(changes).take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
