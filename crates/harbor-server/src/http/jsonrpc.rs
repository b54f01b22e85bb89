//! The JSON-RPC 2.0 binding: one POST endpoint, every method; streams as SSE whose events
//! are JSON-RPC responses.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use harbor_a2a::{A2aError, ErrorKind, Method};
use serde_json::{Value, json};

use super::context;
use super::context::Caller;
use super::core::{Body, Shared, body_error};
use super::dispatch::{Reply, dispatch};
use super::media::is_json_content_type;
use super::sse::sse_response;

/// A JSON-RPC response body with the right content type.
fn json_response(body: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The answer to a notification (a request without an `id`): JSON-RPC 2.0 §4.1 says the
/// server must not reply, so the HTTP response is 204 No Content, with no body: an empty
/// 200 would claim a JSON body that is not there.
fn no_reply() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn error_response(id: &Value, error: &A2aError) -> Response {
    json_response(json!({"jsonrpc": "2.0", "id": id, "error": error.to_json_rpc_error()}))
}

/// The answer to a request refused before it names a method to run, counted.
fn refusal(id: &Value, error: &A2aError) -> Response {
    crate::telemetry::refused(crate::telemetry::Binding::JsonRpc, error);
    error_response(id, error)
}

/// `POST <jsonrpc path>`.
pub(crate) async fn endpoint(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, error) = body_error(&rejection);
            let mut response = refusal(&Value::Null, &error);
            *response.status_mut() = status;
            return response;
        }
    };
    // The content type is checked before the body is parsed: a non-JSON body sent as
    // text/plain is a content-type error, not a parse error.
    if !is_json_content_type(&headers) {
        let error = A2aError::new(
            ErrorKind::ContentTypeNotSupported,
            "JSON-RPC requests must be sent as application/json",
        );
        return refusal(&Value::Null, &error);
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return refusal(
                &Value::Null,
                &A2aError::new(ErrorKind::JsonParse, format!("invalid JSON: {e}")),
            );
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let notification = request.as_object().is_some_and(|o| !o.contains_key("id"));
    let (method, params) = match parse_envelope(&request) {
        Ok(parts) => parts,
        // A request that is not a valid Request object is answered even without an id.
        Err(error) if notification && error.kind() != ErrorKind::InvalidRequest => {
            crate::telemetry::refused(crate::telemetry::Binding::JsonRpc, &error);
            return no_reply();
        }
        Err(error) => return refusal(&id, &error),
    };
    let ctx = context::call_context(&shared, &headers, &caller, context::query_version(&query));
    if notification {
        // The call runs (a stream is dropped at once; its task runs on), its outcome unsaid.
        let _ = dispatch(
            shared.handler.as_ref(),
            method,
            crate::telemetry::Binding::JsonRpc,
            &ctx,
            params,
            shared.max_event_bytes,
        )
        .await;
        return no_reply();
    }
    match dispatch(
        shared.handler.as_ref(),
        method,
        crate::telemetry::Binding::JsonRpc,
        &ctx,
        params,
        shared.max_event_bytes,
    )
    .await
    {
        Ok(Reply::Unary(result)) => {
            json_response(json!({"jsonrpc": "2.0", "id": id, "result": result}))
        }
        Ok(Reply::Stream(stream)) => {
            let wrap_id = id.clone();
            let events = stream.map(move |item| {
                let item = item?;
                let result = harbor_a2a::to_json(&item.event)?;
                let data = json!({"jsonrpc": "2.0", "id": wrap_id, "result": result});
                Ok((data, item.sequence))
            });
            let error_id = id;
            sse_response(
                events,
                move |error| json!({"jsonrpc": "2.0", "id": error_id, "error": error.to_json_rpc_error()}),
                shared.keep_alive,
                &shared.shutdown,
            )
        }
        Err(error) => error_response(&id, &error),
    }
}

/// Checks the JSON-RPC envelope and finds the method; `params` defaults to `{}`.
fn parse_envelope(request: &Value) -> Result<(Method, Value), A2aError> {
    let invalid = |why: &str| A2aError::new(ErrorKind::InvalidRequest, why.to_owned());
    let object = request
        .as_object()
        .ok_or_else(|| invalid("a JSON-RPC request must be an object"))?;
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("jsonrpc must be \"2.0\""));
    }
    match object.get("id") {
        None | Some(Value::String(_) | Value::Number(_) | Value::Null) => {}
        Some(_) => return Err(invalid("id must be a string, a number or null")),
    }
    let name = object
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("method must be a string"))?;
    let method = Method::from_json_rpc_name(name).ok_or_else(|| {
        A2aError::new(
            ErrorKind::MethodNotFound,
            format!("method {name:?} not found"),
        )
        .with_metadata("method", name)
    })?;
    let params = match object.get("params") {
        None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => return Err(A2aError::invalid_params("params must be an object")),
    };
    Ok((method, params))
}
