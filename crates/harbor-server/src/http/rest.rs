//! The HTTP+JSON binding: the routes of the specification, each also under `/{tenant}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use harbor_a2a::{A2aError, ErrorKind, Method};
use serde_json::{Map, Value};

use super::context;
use super::context::Caller;
use super::core::{Body, Shared, body_error};
use super::dispatch::{Params as CallParams, Reply, dispatch};
use super::media::{
    error_as, error_response, error_with_status, is_json_content_type, response_media,
};
use super::sse::sse_response;

type Query_ = Query<Vec<(String, String)>>;

/// The REST routes, relative to the binding's prefix: each route plain and under `/{tenant}`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    ["", "/{tenant}"]
        .into_iter()
        .fold(Router::new(), |router, prefix| {
            router
                .route(&format!("{prefix}/message:send"), post(send))
                .route(&format!("{prefix}/message:stream"), post(stream))
                .route(&format!("{prefix}/tasks"), get(list))
                .route(
                    &format!("{prefix}/tasks/{{segment}}"),
                    get(get_task).post(task_action),
                )
                .route(
                    &format!("{prefix}/tasks/{{task_id}}/pushNotificationConfigs"),
                    post(create_push).get(list_push),
                )
                .route(
                    &format!("{prefix}/tasks/{{task_id}}/pushNotificationConfigs/{{id}}"),
                    get(get_push).delete(delete_push),
                )
                .route(&format!("{prefix}/extendedAgentCard"), get(extended_card))
        })
}

/// Path parameters (the optional tenant and the others by name); none on plain routes.
type Params = Option<Path<HashMap<String, String>>>;

fn params(p: Params) -> HashMap<String, String> {
    p.map(|Path(p)| p).unwrap_or_default()
}

/// Runs `method` with `fields` (already holding path and query fields) completed by the
/// tenant, and renders the reply.
async fn run(
    shared: &Shared,
    caller: &Caller,
    method: Method,
    headers: &HeaderMap,
    query: &[(String, String)],
    path: &HashMap<String, String>,
    mut fields: Map<String, Value>,
) -> Response {
    if let Some(tenant) = path.get("tenant") {
        fields.insert("tenant".into(), Value::String(tenant.clone()));
    }
    let ctx = context::call_context(shared, headers, caller, context::query_version(query));
    let media = response_media(headers);
    match dispatch(
        shared.handler.as_ref(),
        method,
        crate::telemetry::Binding::HttpJson,
        &ctx,
        CallParams::Value(Value::Object(fields)),
        shared.max_event_bytes,
    )
    .await
    {
        Ok(Reply::Unary(body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, media)],
            Box::<str>::from(body),
        )
            .into_response(),
        Ok(Reply::Stream(stream)) => {
            use futures::StreamExt;
            let events = stream.map(|item| {
                let item = item?;
                Ok((harbor_a2a::to_json(&item.event)?, item.sequence))
            });
            sse_response(
                events,
                |error| error.to_rest_body(),
                shared.keep_alive,
                &shared.shutdown,
            )
        }
        Err(error) => error_as(&error, media),
    }
}

/// Reads a request body: empty is `{}`; otherwise JSON in a JSON content type.
fn body_fields(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, A2aError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if !is_json_content_type(headers) {
        return Err(A2aError::new(
            ErrorKind::ContentTypeNotSupported,
            "request bodies must be application/json or application/a2a+json",
        ));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(A2aError::invalid_params(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(A2aError::new(
            ErrorKind::JsonParse,
            format!("invalid JSON body: {e}"),
        )),
    }
}

/// Query parameters as ProtoJSON fields: strings stay strings (ints and enums parse from
/// them), the known bools become bools, and `A2A-Version` is not a field.
fn query_fields(query: &[(String, String)]) -> Map<String, Value> {
    let mut fields = Map::new();
    for (key, value) in query {
        if key.eq_ignore_ascii_case("a2a-version") {
            continue;
        }
        let value = match (key.as_str(), value.as_str()) {
            ("includeArtifacts" | "include_artifacts", "true" | "false") => {
                Value::Bool(value == "true")
            }
            _ => Value::String(value.clone()),
        };
        fields.insert(key.clone(), value);
    }
    fields
}

fn with(mut fields: Map<String, Value>, key: &str, value: &str) -> Map<String, Value> {
    fields.insert(key.to_owned(), Value::String(value.to_owned()));
    fields
}

async fn body_method(
    (shared, caller): (Arc<Shared>, Caller),
    method: Method,
    headers: HeaderMap,
    query: Vec<(String, String)>,
    path: HashMap<String, String>,
    body: Body,
    path_fields: &[(&str, &str)],
) -> Response {
    let media = response_media(&headers);
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, error) = body_error(&rejection);
            refused(&error);
            return error_with_status(&error, status, media);
        }
    };
    let mut fields = match body_fields(&headers, &body) {
        Ok(fields) => fields,
        // A body in another content type is refused with 415 (the table's code for the
        // error is 400, which is for unsupported part media types).
        Err(error) if error.kind() == ErrorKind::ContentTypeNotSupported => {
            refused(&error);
            return error_with_status(&error, StatusCode::UNSUPPORTED_MEDIA_TYPE, media);
        }
        Err(error) => {
            refused(&error);
            return error_as(&error, media);
        }
    };
    // Path parameters override the body, as in HTTP transcoding.
    for (key, value) in path_fields {
        fields = with(fields, key, value);
    }
    run(&shared, &caller, method, &headers, &query, &path, fields).await
}

async fn send(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
    body: Body,
) -> Response {
    let p = params(p);
    body_method((s, c), Method::SendMessage, h, q, p, body, &[]).await
}

async fn stream(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
    body: Body,
) -> Response {
    let p = params(p);
    body_method((s, c), Method::SendStreamingMessage, h, q, p, body, &[]).await
}

async fn list(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
) -> Response {
    let p = params(p);
    let fields = query_fields(&q);
    run(&s, &c, Method::ListTasks, &h, &q, &p, fields).await
}

/// `GET /tasks/{id}` or `GET /tasks/{id}:subscribe`.
async fn get_task(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
) -> Response {
    let p = params(p);
    let segment = p.get("segment").cloned().unwrap_or_default();
    match segment.rsplit_once(':') {
        Some((id, "subscribe")) => {
            run(
                &s,
                &c,
                Method::SubscribeToTask,
                &h,
                &q,
                &p,
                with(Map::new(), "id", id),
            )
            .await
        }
        Some(_) => not_found(),
        None => {
            run(
                &s,
                &c,
                Method::GetTask,
                &h,
                &q,
                &p,
                with(query_fields(&q), "id", &segment),
            )
            .await
        }
    }
}

/// `POST /tasks/{id}:cancel` or `POST /tasks/{id}:subscribe`.
async fn task_action(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
    body: Body,
) -> Response {
    let p = params(p);
    let segment = p.get("segment").cloned().unwrap_or_default();
    match segment.rsplit_once(':') {
        Some((id, "cancel")) => {
            body_method(
                (Arc::clone(&s), c.clone()),
                Method::CancelTask,
                h,
                q,
                p.clone(),
                body,
                &[("id", id)],
            )
            .await
        }
        Some((id, "subscribe")) => {
            body_method(
                (Arc::clone(&s), c.clone()),
                Method::SubscribeToTask,
                h,
                q,
                p.clone(),
                body,
                &[("id", id)],
            )
            .await
        }
        _ => not_found(),
    }
}

async fn create_push(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
    body: Body,
) -> Response {
    let p = params(p);
    let task_id = p.get("task_id").cloned().unwrap_or_default();
    body_method(
        (Arc::clone(&s), c),
        Method::CreateTaskPushNotificationConfig,
        h,
        q,
        p.clone(),
        body,
        &[("taskId", &task_id)],
    )
    .await
}

async fn list_push(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
) -> Response {
    let p = params(p);
    let task_id = p.get("task_id").cloned().unwrap_or_default();
    run(
        &s,
        &c,
        Method::ListTaskPushNotificationConfigs,
        &h,
        &q,
        &p,
        with(query_fields(&q), "taskId", &task_id),
    )
    .await
}

async fn get_push(
    s: State<Arc<Shared>>,
    c: Extension<Caller>,
    p: Params,
    q: Query_,
    h: HeaderMap,
) -> Response {
    push_by_id(Method::GetTaskPushNotificationConfig, s, c, p, q, h).await
}

async fn delete_push(
    s: State<Arc<Shared>>,
    c: Extension<Caller>,
    p: Params,
    q: Query_,
    h: HeaderMap,
) -> Response {
    push_by_id(Method::DeleteTaskPushNotificationConfig, s, c, p, q, h).await
}

/// `…/tasks/{task_id}/pushNotificationConfigs/{id}`: the two path fields are the request.
async fn push_by_id(
    method: Method,
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
) -> Response {
    let p = params(p);
    let field = |name: &str| p.get(name).map_or("", String::as_str).to_owned();
    let fields = with(
        with(Map::new(), "taskId", &field("task_id")),
        "id",
        &field("id"),
    );
    run(&s, &c, method, &h, &q, &p, fields).await
}

async fn extended_card(
    State(s): State<Arc<Shared>>,
    Extension(c): Extension<Caller>,
    p: Params,
    Query(q): Query_,
    h: HeaderMap,
) -> Response {
    let p = params(p);
    run(&s, &c, Method::GetExtendedAgentCard, &h, &q, &p, Map::new()).await
}

/// Counts a request refused before its RPC ran.
fn refused(error: &A2aError) {
    crate::telemetry::refused(crate::telemetry::Binding::HttpJson, error);
}

fn not_found() -> Response {
    let error = A2aError::new(ErrorKind::MethodNotFound, "no such route");
    refused(&error);
    error_response(&error)
}
