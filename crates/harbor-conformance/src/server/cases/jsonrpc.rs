//! JSON-RPC envelope rules: unknown methods, parse errors, content types, invalid params
//! and requests, and the endpoint with a trailing slash.

use harbor_a2a::ErrorKind;
use serde_json::{Value, json};

use super::support::unique;
use crate::server::rpc::{Rpc, check_error, wire};
use crate::server::{Binding, CaseFailure, ServerTarget};

/// POSTs raw bytes to the endpoint and checks the answer is a JSON-RPC error `kind` with
/// the id `want_id`.
async fn raw_error(
    rpc: &Rpc<'_>,
    what: &str,
    content_type: &str,
    body: &str,
    want_id: Value,
    kind: ErrorKind,
) -> Result<(), CaseFailure> {
    let at = rpc.at(what);
    let raw = rpc
        .post_raw(&at, rpc.url(), Some(content_type), body.as_bytes().to_vec())
        .await?;
    match wire::json_rpc_answer(&at, &raw, &want_id)? {
        Ok(result) => Err(at.fail(format!("expected {kind:?}, got a result: {result}"))),
        Err(error) => check_error(&at, &error, kind),
    }
}

/// An unknown method is MethodNotFound (-32601), with the request's id (a number or a
/// string).
pub async fn jsonrpc_method_not_found(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::JsonRpc)?;
    rpc.json_rpc("NoSuchMethod", json!({}))
        .await?
        .expect_error(ErrorKind::MethodNotFound)?;
    let id = unique("tck-request");
    let body =
        json!({"jsonrpc": "2.0", "id": id, "method": "NoSuchMethod", "params": {}}).to_string();
    raw_error(
        &rpc,
        "NoSuchMethod (string id)",
        "application/json",
        &body,
        json!(id),
        ErrorKind::MethodNotFound,
    )
    .await
}

/// A body that is not JSON is a parse error (-32700) with `id: null`.
pub async fn jsonrpc_parse_error(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::JsonRpc)?;
    let body = r#"{"jsonrpc": "2.0", "id": 7, "method": "SendMessage", "params": {"#;
    raw_error(
        &rpc,
        "malformed JSON",
        "application/json",
        body,
        Value::Null,
        ErrorKind::JsonParse,
    )
    .await
}

/// A request that is JSON but not a JSON-RPC request (method not a string) is
/// InvalidRequest (-32600), with the request's id.
pub async fn jsonrpc_invalid_request(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::JsonRpc)?;
    let body = r#"{"jsonrpc": "2.0", "id": 11, "method": 42}"#;
    raw_error(
        &rpc,
        "invalid request",
        "application/json",
        body,
        json!(11),
        ErrorKind::InvalidRequest,
    )
    .await
}

/// A non-JSON body sent as `text/plain` is ContentTypeNotSupported (-32005): the content
/// type is checked before the body is parsed.
pub async fn jsonrpc_content_type(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::JsonRpc)?;
    let body = "{'jsonrpc': '2.0', 'id': 1, 'method': 'SendMessage', 'params': {}}";
    raw_error(
        &rpc,
        "text/plain request",
        "text/plain",
        body,
        Value::Null,
        ErrorKind::ContentTypeNotSupported,
    )
    .await
}

/// `SendMessage` with `params: {}` and `GetTask` without an id are InvalidParams (-32602).
pub async fn jsonrpc_invalid_params(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::JsonRpc)?;
    rpc.json_rpc("SendMessage", json!({}))
        .await?
        .expect_error(ErrorKind::InvalidParams)?;
    rpc.json_rpc("GetTask", json!({}))
        .await?
        .expect_error(ErrorKind::InvalidParams)
        .map(drop)
}

/// The endpoint answers at its URL and at its URL with a trailing slash, without a
/// redirect.
pub async fn jsonrpc_trailing_slash(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::JsonRpc)?;
    for url in [rpc.url().to_owned(), format!("{}/", rpc.url())] {
        let reply = rpc
            .json_rpc_to(&url, "GetTask", json!({"id": unique("tck-nonexistent")}))
            .await?;
        let at = rpc.at(&format!("GetTask at {url}"));
        check_error(&at, &reply.error()?, ErrorKind::TaskNotFound)?;
    }
    Ok(())
}
