//! The JSON-RPC 2.0 binding: one POST endpoint, every method; streams as SSE whose events
//! are JSON-RPC responses.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use harbor_a2a::{A2aError, ErrorKind, Method, StreamResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::context;
use super::context::Caller;
use super::core::{Body, Shared, body_error};
use super::dispatch::{Params, Reply, dispatch};
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

/// A JSON-RPC success response, written in this order: `jsonrpc`, `id`, `result`.
#[derive(Serialize)]
struct Success<'a, R: ?Sized> {
    jsonrpc: &'static str,
    id: &'a Value,
    result: &'a R,
}

impl<'a, R: Serialize + ?Sized> Success<'a, R> {
    fn new(id: &'a Value, result: &'a R) -> Self {
        Success {
            jsonrpc: "2.0",
            id,
            result,
        }
    }
}

/// A stream event's data: the JSON-RPC response around the event's ProtoJSON, written
/// straight from the message.
fn event_data(id: &Value, event: &StreamResponse) -> Result<String, A2aError> {
    serde_json::to_string(&Success::new(id, event))
        .map_err(|e| A2aError::internal(format!("cannot write StreamResponse as JSON: {e}")))
}

/// A successful answer around `result`, the response message's ProtoJSON as serde_json
/// wrote it: put in as it is, neither parsed nor checked again.
fn success_response(id: &Value, result: &str) -> Response {
    let mut body = String::with_capacity(result.len() + 64);
    body.push_str(r#"{"jsonrpc":"2.0","id":"#);
    body.push_str(&id.to_string());
    body.push_str(r#","result":"#);
    body.push_str(result);
    body.push('}');
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// The answer to a notification (a request without an `id`): JSON-RPC 2.0 §4.1 says the
/// server must not reply, so the HTTP response is 204 No Content, with no body: an empty
/// 200 would claim a JSON body that is not there.
fn no_reply() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A JSON-RPC error response.
fn error_json(id: &Value, error: &A2aError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": error.to_json_rpc_error()})
}

fn error_response(id: &Value, error: &A2aError) -> Response {
    json_response(error_json(id, error))
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
    let (id, parsed) = match read_request(&body) {
        Ok(read) => read,
        Err(error) => return refusal(&Value::Null, &error),
    };
    let notification = id.is_none();
    let id = id.unwrap_or(Value::Null);
    let (method, params) = match parsed {
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
        Ok(Reply::Unary(result)) => success_response(&id, &result),
        Ok(Reply::Stream(stream)) => {
            let wrap_id = id.clone();
            let events = stream.map(move |item| {
                let item = item?;
                Ok((event_data(&wrap_id, &item.event)?, item.sequence))
            });
            let error_id = id;
            sse_response(
                events,
                move |error| error_json(&error_id, error).to_string(),
                shared.keep_alive,
                &shared.shutdown,
            )
        }
        Err(error) => error_response(&id, &error),
    }
}

/// A request's envelope, its fields borrowed from the body: `params` stays JSON text, parsed
/// once into the request message by [`dispatch`]. A body this does not read (not an object,
/// a field given twice) goes the way of [`parse_envelope`] over a whole JSON value instead,
/// so every refusal is the same whichever way a body went.
#[derive(Deserialize)]
struct Envelope<'a> {
    jsonrpc: Option<Value>,
    /// `Some(Value::Null)` for `"id": null`, `None` when there is no id (a notification).
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    method: Option<Value>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

/// A field that is there, even as `null`.
fn present<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(field).map(Some)
}

type Parsed<'a> = Result<(Method, Params<'a>), A2aError>;

/// Reads a request body: its id (`None` for a notification), then its method and params or
/// why the envelope is not a valid request. `Err` when the body is not JSON at all.
fn read_request(body: &[u8]) -> Result<(Option<Value>, Parsed<'_>), A2aError> {
    if let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(body) {
        let parsed = check_envelope(
            envelope.jsonrpc.as_ref(),
            envelope.id.as_ref(),
            envelope.method.as_ref(),
        )
        .and_then(|method| {
            let params = match envelope.params {
                None => Params::Value(Value::Object(serde_json::Map::new())),
                Some(text) if text.get().starts_with('{') => Params::Text(text),
                Some(_) => return Err(A2aError::invalid_params("params must be an object")),
            };
            Ok((method, params))
        });
        return Ok((envelope.id, parsed));
    }
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| A2aError::new(ErrorKind::JsonParse, format!("invalid JSON: {e}")))?;
    let id = match request.as_object() {
        Some(object) => object.get("id").cloned(),
        None => Some(Value::Null),
    };
    Ok((id, parse_envelope(&request)))
}

/// Checks the JSON-RPC envelope's fields and finds the method.
fn check_envelope(
    jsonrpc: Option<&Value>,
    id: Option<&Value>,
    method: Option<&Value>,
) -> Result<Method, A2aError> {
    let invalid = |why: &str| A2aError::new(ErrorKind::InvalidRequest, why.to_owned());
    if jsonrpc.and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("jsonrpc must be \"2.0\""));
    }
    match id {
        None | Some(Value::String(_) | Value::Number(_) | Value::Null) => {}
        Some(_) => return Err(invalid("id must be a string, a number or null")),
    }
    let name = method
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("method must be a string"))?;
    Method::from_json_rpc_name(name).ok_or_else(|| {
        A2aError::new(
            ErrorKind::MethodNotFound,
            format!("method {name:?} not found"),
        )
        .with_metadata("method", name)
    })
}

/// [`check_envelope`] over a whole JSON value; `params` defaults to `{}`.
fn parse_envelope(request: &Value) -> Parsed<'static> {
    let object = request.as_object().ok_or_else(|| {
        A2aError::new(
            ErrorKind::InvalidRequest,
            "a JSON-RPC request must be an object",
        )
    })?;
    let method = check_envelope(
        object.get("jsonrpc"),
        object.get("id"),
        object.get("method"),
    )?;
    let params = match object.get("params") {
        None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => return Err(A2aError::invalid_params("params must be an object")),
    };
    Ok((method, Params::Value(params)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a body reads as: the id, then the method and params (as a JSON value) or the
    /// refusal's kind and message.
    type Outcome = (Option<Value>, Result<(Method, Value), (ErrorKind, String)>);

    fn outcome(read: Result<(Option<Value>, Parsed<'_>), A2aError>) -> Option<Outcome> {
        let (id, parsed) = read.ok()?;
        let parsed = parsed
            .map(|(method, params)| {
                let params = match params {
                    Params::Text(text) => serde_json::from_str(text.get()).expect("params"),
                    Params::Body(text) => serde_json::from_str(text).expect("params"),
                    Params::Value(value) => value,
                };
                (method, params)
            })
            .map_err(|e| (e.kind(), e.message().to_owned()));
        Some((id, parsed))
    }

    /// The whole-value reading every body could take before the borrowed one existed.
    fn by_value(body: &str) -> Option<Outcome> {
        let request: Value = serde_json::from_str(body).ok()?;
        let id = match request.as_object() {
            Some(object) => object.get("id").cloned(),
            None => Some(Value::Null),
        };
        outcome(Ok((id, parse_envelope(&request))))
    }

    #[test]
    fn the_borrowed_envelope_reads_every_body_as_the_whole_value_does() {
        let bodies = [
            r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"t"}}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"GetTask","params": {"id":"t"} }"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"GetTask"}"#,
            r#"{"jsonrpc":"2.0","method":"GetTask","params":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":[1]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":"x"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"GetTask"}"#,
            r#"{"id":1,"method":"GetTask"}"#,
            r#"{"jsonrpc":"2.0","id":{},"method":"GetTask"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"Nope"}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"GetTask"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","extra":{"a":[1,2]}}"#,
            r#"[1,2]"#,
            r#""text""#,
        ];
        for body in bodies {
            let borrowed = outcome(read_request(body.as_bytes()));
            assert_eq!(borrowed, by_value(body), "{body}");
            assert!(borrowed.is_some(), "{body} is JSON");
        }
        assert_eq!(
            read_request(b"{").map(|_| ()).map_err(|e| e.kind()),
            Err(ErrorKind::JsonParse)
        );
    }

    /// Stream events of each kind, with a Struct whose keys are out of order.
    fn events() -> Vec<StreamResponse> {
        use harbor_a2a::stream_response::Payload;
        use harbor_a2a::{
            Artifact, Message, Part, Task, TaskArtifactUpdateEvent, TaskState, TaskStatus,
            TaskStatusUpdateEvent,
        };
        let metadata = harbor_a2a::json::json_to_struct(
            json!({"z": 1, "a": [null, 2.5, "x"], "m": {"y": true, "b": -3}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let message = Message {
            message_id: "m1".into(),
            role: 2,
            parts: vec![Part::text("hi \"there\"\n\u{e9}")],
            metadata: Some(metadata.clone()),
            ..Message::default()
        };
        let status = TaskStatus {
            state: TaskState::Working as i32,
            message: Some(message.clone()),
            ..TaskStatus::default()
        };
        let payloads = [
            Payload::Task(Task {
                id: "t1".into(),
                context_id: "c1".into(),
                status: Some(status.clone()),
                history: vec![message.clone()],
                metadata: Some(metadata.clone()),
                ..Task::default()
            }),
            Payload::Message(message),
            Payload::StatusUpdate(TaskStatusUpdateEvent {
                task_id: "t1".into(),
                context_id: "c1".into(),
                status: Some(status),
                ..TaskStatusUpdateEvent::default()
            }),
            Payload::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: "t1".into(),
                context_id: "c1".into(),
                artifact: Some(Artifact {
                    artifact_id: "a1".into(),
                    parts: vec![Part::text("x")],
                    metadata: Some(metadata),
                    ..Artifact::default()
                }),
                append: true,
                last_chunk: true,
                ..TaskArtifactUpdateEvent::default()
            }),
        ];
        payloads
            .into_iter()
            .map(|payload| StreamResponse {
                payload: Some(payload),
            })
            .collect()
    }

    #[test]
    fn an_event_is_written_straight_from_its_message_as_the_value_way_wrote_it() {
        for id in [json!(1), json!("a \"b\""), Value::Null, json!(-2.5)] {
            for event in events() {
                let data = event_data(&id, &event).expect("writable");
                // The same JSON as the response built through a Value...
                let result = harbor_a2a::to_json(&event).expect("writable");
                let by_value = json!({"jsonrpc": "2.0", "id": id, "result": result});
                let read: Value = serde_json::from_str(&data).expect("JSON");
                assert_eq!(read, by_value);
                // ...one line, in the order of a unary answer: the message's own order.
                let event_json = harbor_a2a::to_json_string(&event).expect("writable");
                assert_eq!(
                    data,
                    format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{event_json}}}"#)
                );
                assert!(!data.contains('\n'));
                // HTTP+JSON events are the message alone.
                let read: Value = serde_json::from_str(&event_json).expect("JSON");
                assert_eq!(read, harbor_a2a::to_json(&event).expect("writable"));
            }
        }
    }

    #[test]
    fn params_stay_text_on_the_borrowed_path() {
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"t"}}"#;
        let (_, parsed) = read_request(body).expect("JSON");
        let (_, params) = parsed.expect("a valid request");
        assert!(matches!(params, Params::Text(text) if text.get() == r#"{"id":"t"}"#));
    }
}
