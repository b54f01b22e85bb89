//! JSON-RPC 2.0 over HTTP: every call a POST of `{"jsonrpc", "id", "method", "params"}` to
//! the interface URL; the tenant travels in `params`.

use std::sync::atomic::Ordering;

use harbor_a2a::A2aError;
use harbor_distributed::Error;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Call, parse_result, request_fields};
use crate::body::read_capped;
use crate::error::{error_from_response, invalid_response, request_error, snippet};

/// The POST of `req` as a JSON-RPC request, and its id.
fn envelope<Req: Serialize>(call: &Call<'_>, req: &Req) -> Result<(u64, Vec<u8>), Error> {
    let params = request_fields(req, &call.endpoint.tenant)?;
    let id = call.ids.fetch_add(1, Ordering::Relaxed) + 1;
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": call.method.json_rpc_name(),
        "params": params,
    });
    Ok((id, body.to_string().into_bytes()))
}

/// The request of a call, ready to send.
pub(super) fn request<Req: Serialize>(
    call: &Call<'_>,
    req: &Req,
) -> Result<reqwest::RequestBuilder, Error> {
    let (_, body) = envelope(call, req)?;
    Ok(call
        .http
        .post(call.endpoint.url.clone())
        .headers(call.headers.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body))
}

pub(super) async fn unary<Req: Serialize, Resp: DeserializeOwned>(
    call: &Call<'_>,
    req: &Req,
) -> Result<Resp, Error> {
    let (id, body) = envelope(call, req)?;
    let url = call.endpoint.url.as_str();
    let timeout = call.config.request_timeout;
    let response = call
        .http
        .post(call.endpoint.url.clone())
        .headers(call.headers.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(body)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| request_error(url, e, timeout))?;
    let status = response.status();
    let bytes = read_capped(
        response,
        call.config.max_response_bytes,
        "response body",
        timeout,
    )
    .await?;
    let Ok(Value::Object(mut response)) = serde_json::from_slice::<Value>(&bytes) else {
        if !status.is_success() {
            return Err(error_from_response(url, status.as_u16(), &bytes));
        }
        return Err(invalid_response(format!(
            "the JSON-RPC answer is not a JSON object: {}",
            snippet(&bytes)
        )));
    };
    if let Some(error) = response.get("error") {
        let error = A2aError::from_json_rpc_error(error).unwrap_or_else(|| {
            A2aError::internal(format!("a malformed JSON-RPC error: {}", snippet(&bytes)))
        });
        return Err(Error::Protocol(error));
    }
    if !status.is_success() {
        return Err(error_from_response(url, status.as_u16(), &bytes));
    }
    if response.get("id").and_then(Value::as_u64) != Some(id) {
        return Err(invalid_response(format!(
            "the JSON-RPC answer has id {}, not {id}",
            response.get("id").unwrap_or(&Value::Null)
        )));
    }
    let result = response
        .remove("result")
        .ok_or_else(|| invalid_response("the JSON-RPC answer has neither result nor error"))?;
    parse_result(call.method, result)
}
