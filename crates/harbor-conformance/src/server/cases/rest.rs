//! HTTP+JSON request-body rules.

use serde_json::{Value, json};

use super::support::{message, request, task_of};
use crate::server::checks::wire_rules;
use crate::server::rpc::RestBody;
use crate::server::{Binding, CaseFailure, ServerTarget};

/// `POST /message:send` with the body `{}` (no message) is a 4xx AIP-193 error.
pub async fn rest_empty_body_send(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::HttpJson)?;
    let reply = rpc
        .rest(
            "SendMessage",
            reqwest::Method::POST,
            "/message:send",
            &[],
            RestBody::Json(json!({})),
        )
        .await?;
    let at = reply.at.clone();
    let error = reply.error()?;
    at.ensure((400..500).contains(&error.http_status), || {
        format!(
            "a request without a message is a client error, got HTTP {}",
            error.http_status
        )
    })
}

/// A valid JSON body sent as `text/plain` to `/message:send` is refused with 415 (an
/// AIP-193 body, reason CONTENT_TYPE_NOT_SUPPORTED when it carries one) or accepted.
pub async fn rest_text_plain_body(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::HttpJson)?;
    let body = RestBody::Raw {
        content_type: "text/plain".into(),
        body: request(message("tck-complete-task"))
            .to_string()
            .into_bytes(),
    };
    let reply = rpc
        .rest(
            "SendMessage",
            reqwest::Method::POST,
            "/message:send",
            &[],
            body,
        )
        .await?;
    let at = reply.at.clone();
    match reply.result {
        Ok(result) => task_of(&at, result).map(drop),
        Err(error) => {
            at.eq(
                "HTTP status for a text/plain body",
                &error.http_status,
                &415,
            )?;
            let known = error
                .reason
                .as_deref()
                .is_none_or(|r| r == "CONTENT_TYPE_NOT_SUPPORTED");
            at.ensure(known, || {
                format!(
                    "a 415 must carry reason CONTENT_TYPE_NOT_SUPPORTED, got {:?}",
                    error.reason
                )
            })
        }
    }
}

/// A request sent as `application/json` (asking for nothing else) is answered as
/// `application/json`: the A2A conformance kit (HTTP_JSON-SVC-001) and v1.0.0 clients
/// expect it; spec v1.0.1 prefers `application/a2a+json`, for clients that send or ask for
/// it (see [`rest_a2a_json_media_type`]).
pub async fn rest_json_media_type(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::HttpJson)?;
    let at = rpc.at("SendMessage");
    let url = format!("{}/message:send", rpc.url());
    let body = request(message("tck-complete-task"))
        .to_string()
        .into_bytes();
    let raw = rpc
        .post_raw(&at, &url, Some("application/json"), body)
        .await?;
    at.ensure(raw.is_json(), || {
        format!(
            "a request sent as application/json was answered as {:?} (HTTP {}); the A2A \
             conformance kit (HTTP_JSON-SVC-001) and v1.0.0 clients need application/json",
            raw.content_type, raw.status
        )
    })?;
    let value = crate::server::rpc::wire::rest_answer(&at, &raw)?.map_err(|e| {
        at.fail(format!(
            "expected success, got HTTP {}: {}",
            e.http_status, e.body
        ))
    })?;
    task_of(&at, value).map(drop)
}

/// A body sent as `application/a2a+json` (the binding's registered media type) is accepted,
/// and the answer is JSON in `application/a2a+json` or `application/json` (spec v1.0.1
/// prefers the first; v1.0.0 peers and the conformance kit expect the second).
pub async fn rest_a2a_json_media_type(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::HttpJson)?;
    let at = rpc.at("SendMessage");
    let url = format!("{}/message:send", rpc.url());
    let body = request(message("tck-complete-task"))
        .to_string()
        .into_bytes();
    let raw = rpc
        .post_raw(&at, &url, Some("application/a2a+json"), body)
        .await?;
    at.ensure((200..300).contains(&raw.status), || {
        format!(
            "a request sent as application/a2a+json must be accepted, got HTTP {}: {}",
            raw.status,
            String::from_utf8_lossy(&raw.body)
        )
    })?;
    let media = raw
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    at.ensure(
        media == "application/a2a+json" || media == "application/json",
        || {
            format!(
                "the answer has Content-Type {:?}, want application/a2a+json or application/json",
                raw.content_type
            )
        },
    )?;
    let value: Value = serde_json::from_slice(&raw.body)
        .map_err(|e| at.fail(format!("the answer is not JSON ({e})")))?;
    wire_rules(&value).map_err(|e| at.fail(e))?;
    task_of(&at, value).map(drop)
}
