//! The envelope rules of each binding, checked on every answer before a case sees it.

use serde_json::Value;

use super::reply::{WireError, error_info_reason};
use crate::server::checks::wire_rules;
use crate::server::{At, CaseFailure};

/// An HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header (empty when absent).
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// Whether the content type names JSON (`application/json`, with parameters).
    pub fn is_json(&self) -> bool {
        self.content_type
            .to_ascii_lowercase()
            .contains("application/json")
    }

    /// Whether the content type is one of HTTP+JSON's: `application/json` or
    /// `application/a2a+json` (which one a server picks is checked by its own cases).
    pub fn is_rest_json(&self) -> bool {
        self.is_json()
            || self
                .content_type
                .to_ascii_lowercase()
                .contains("application/a2a+json")
    }

    fn json(&self, at: &At) -> Result<Value, CaseFailure> {
        serde_json::from_slice(&self.body).map_err(|e| {
            at.fail(format!(
                "the body (HTTP {}) is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ))
        })
    }
}

/// Checks a JSON-RPC answer to a request with `id`: `application/json`, a JSON-RPC 2.0
/// response with the same id and exactly one of `result`/`error`, an error object with only
/// `code`, `message` and `data` (an A2A error carrying its ErrorInfo), and the
/// serialization rules.
pub(crate) fn json_rpc_answer(
    at: &At,
    raw: &RawResponse,
    id: &Value,
) -> Result<Result<Value, WireError>, CaseFailure> {
    at.ensure(raw.is_json(), || {
        format!(
            "Content-Type is {:?} (HTTP {}), want application/json",
            raw.content_type, raw.status
        )
    })?;
    let body = raw.json(at)?;
    wire_rules(&body).map_err(|e| at.fail(e))?;
    at.ensure(
        body.get("jsonrpc").and_then(Value::as_str) == Some("2.0"),
        || format!("the response has no \"jsonrpc\": \"2.0\": {body}"),
    )?;
    at.ensure(body.get("id") == Some(id), || {
        format!("the response id is {:?}, want {id}", body.get("id"))
    })?;
    match (body.get("result"), body.get("error")) {
        (Some(result), None) => {
            at.ensure(raw.status == 200, || {
                format!("a JSON-RPC result came with HTTP {}", raw.status)
            })?;
            Ok(Ok(result.clone()))
        }
        (None, Some(error)) => json_rpc_error(at, raw.status, error).map(Err),
        _ => Err(at.fail(format!(
            "a JSON-RPC response needs exactly one of result and error: {body}"
        ))),
    }
}

/// Checks a JSON-RPC `error` object.
pub(crate) fn json_rpc_error(
    at: &At,
    status: u16,
    error: &Value,
) -> Result<WireError, CaseFailure> {
    let object = error
        .as_object()
        .ok_or_else(|| at.fail(format!("error is not an object: {error}")))?;
    if let Some(extra) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "code" | "message" | "data"))
    {
        return Err(at.fail(format!(
            "the error object may hold only code, message and data; it has {extra:?}: {error}"
        )));
    }
    let code = error
        .get("code")
        .and_then(Value::as_i64)
        .ok_or_else(|| at.fail(format!("error.code is not an integer: {error}")))?;
    at.ensure(error.get("message").is_some_and(Value::is_string), || {
        format!("error.message is not a string: {error}")
    })?;
    let data = error.get("data");
    if let Some(data) = data {
        at.ensure(data.is_array(), || {
            format!("error.data must be an array of details: {error}")
        })?;
    }
    let reason = error_info_reason(data);
    if (-32099..=-32001).contains(&code) {
        at.ensure(reason.is_some(), || {
            format!("A2A error {code} carries no google.rpc.ErrorInfo of domain a2a-protocol.org in data: {error}")
        })?;
    }
    Ok(WireError {
        code,
        reason,
        http_status: status,
        body: error.clone(),
    })
}

/// Checks an HTTP+JSON answer: 2xx with a JSON body (an empty body reads as `{}`), or an
/// AIP-193 error whose `error.code` equals the HTTP status; `application/json` or
/// `application/a2a+json` either way (the `rest_*_media_type` cases check which), and the
/// serialization rules.
pub(crate) fn rest_answer(
    at: &At,
    raw: &RawResponse,
) -> Result<Result<Value, WireError>, CaseFailure> {
    if (200..300).contains(&raw.status) {
        if raw.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Ok(Value::Object(serde_json::Map::new())));
        }
        at.ensure(raw.is_rest_json(), || {
            format!(
                "a successful answer has Content-Type {:?}, want application/json or application/a2a+json",
                raw.content_type
            )
        })?;
        let body = raw.json(at)?;
        wire_rules(&body).map_err(|e| at.fail(e))?;
        return Ok(Ok(body));
    }
    at.ensure(raw.status >= 400, || {
        format!("unexpected HTTP status {}", raw.status)
    })?;
    rest_error(at, raw).map(Err)
}

/// Checks an AIP-193 error answer.
pub(crate) fn rest_error(at: &At, raw: &RawResponse) -> Result<WireError, CaseFailure> {
    at.ensure(raw.is_rest_json(), || {
        format!(
            "an error (HTTP {}) has Content-Type {:?}, want application/json or application/a2a+json: {}",
            raw.status,
            raw.content_type,
            String::from_utf8_lossy(&raw.body)
        )
    })?;
    let body = raw.json(at)?;
    wire_rules(&body).map_err(|e| at.fail(e))?;
    let error = body.get("error").filter(|e| e.is_object()).ok_or_else(|| {
        at.fail(format!(
            "HTTP {} body is not AIP-193 ({{\"error\": {{...}}}}): {body}",
            raw.status
        ))
    })?;
    at.ensure(
        error.get("code").and_then(Value::as_u64) == Some(u64::from(raw.status)),
        || {
            format!(
                "error.code must equal the HTTP status {}: {body}",
                raw.status
            )
        },
    )?;
    at.ensure(
        error
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        || format!("error.status must name the gRPC status: {body}"),
    )?;
    at.ensure(error.get("message").is_some_and(Value::is_string), || {
        format!("error.message is not a string: {body}")
    })?;
    let details = error.get("details");
    if let Some(details) = details {
        at.ensure(details.is_array(), || {
            format!("error.details must be an array: {body}")
        })?;
    }
    Ok(WireError {
        code: i64::from(raw.status),
        reason: error_info_reason(details),
        http_status: raw.status,
        body: error.clone(),
    })
}
