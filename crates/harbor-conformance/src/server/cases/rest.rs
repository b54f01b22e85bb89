//! HTTP+JSON request-body rules.

use serde_json::json;

use super::support::{message, request, task_of};
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
