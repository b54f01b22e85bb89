//! GetTask and historyLength.

use harbor_a2a::{ERROR_INFO_TYPE, ErrorKind};
use serde_json::{Value, json};

use super::support::{id_of, message, new_task_in_state, request_with, send_task, unique, with};
use crate::server::checks::{history_of, str_at};
use crate::server::{Binding, CaseFailure, ServerTarget};

/// `historyLength` 0 omits `history` (SendMessage and GetTask), 1 keeps exactly the newest
/// message, and no limit keeps them all.
pub async fn history_length_limits(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let task = new_task_in_state(
        &rpc,
        "tck-input-required",
        "TASK_STATE_INPUT_REQUIRED",
        None,
    )
    .await?;
    let id = id_of(&task);
    let last = with(message("tck-complete-task"), "taskId", id.as_str());
    let done = send_task(&rpc, request_with(last, json!({"historyLength": 0}))).await?;
    rpc.at("SendMessage")
        .ensure(done.get("history").is_none(), || {
            format!("configuration.historyLength 0 must omit history from the task: {done}")
        })?;

    let at = rpc.at("GetTask");
    let full = rpc.get_task(&id, json!({})).await?.ok()?;
    let history = history_of(&full);
    at.ensure(history.len() >= 2, || {
        format!("without historyLength both user messages must be in history: {full}")
    })?;
    let none = rpc.get_task(&id, json!({"historyLength": 0})).await?.ok()?;
    at.ensure(none.get("history").is_none(), || {
        format!("historyLength 0 must omit history: {none}")
    })?;
    let one = rpc.get_task(&id, json!({"historyLength": 1})).await?.ok()?;
    let kept = history_of(&one);
    at.eq("number of messages with historyLength 1", &kept.len(), &1)?;
    at.eq(
        "the message kept by historyLength 1 (the newest)",
        &kept[0],
        &history[history.len() - 1],
    )
}

/// A negative `historyLength` is InvalidParams (-32602 / 400) on GetTask and SendMessage.
pub async fn history_length_negative(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let task = new_task_in_state(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED", None).await?;
    rpc.get_task(&id_of(&task), json!({"historyLength": -1}))
        .await?
        .expect_error(ErrorKind::InvalidParams)?;
    rpc.send_message(request_with(
        message("tck-complete-task"),
        json!({"historyLength": -1}),
    ))
    .await?
    .expect_error(ErrorKind::InvalidParams)
    .map(drop)
}

/// GetTask of an unknown id is TaskNotFound: JSON-RPC -32001 with an ErrorInfo
/// (`@type`, domain `a2a-protocol.org`, reason `TASK_NOT_FOUND`) in `data`; HTTP+JSON 404
/// with an AIP-193 body (`code` 404, `status` `NOT_FOUND`, the ErrorInfo in `details`).
pub async fn get_task_not_found(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let reply = rpc.get_task(&unique("tck-nonexistent"), json!({})).await?;
    let at = reply.at.clone();
    let error = reply.expect_error(ErrorKind::TaskNotFound)?;
    let details = if binding == Binding::HttpJson {
        at.eq("error.status", str_at(&error.body, "/status"), "NOT_FOUND")?;
        &error.body["details"]
    } else {
        &error.body["data"]
    };
    let info = details
        .as_array()
        .and_then(|d| d.iter().find(|i| str_at(i, "/reason") == "TASK_NOT_FOUND"))
        .ok_or_else(|| {
            at.fail(format!(
                "no ErrorInfo with reason TASK_NOT_FOUND: {}",
                error.body
            ))
        })?;
    at.eq("ErrorInfo @type", str_at(info, "/@type"), ERROR_INFO_TYPE)?;
    at.eq(
        "ErrorInfo domain",
        str_at(info, "/domain"),
        harbor_a2a::ERROR_DOMAIN,
    )?;
    at.ensure(info.get("metadata").is_none_or(Value::is_object), || {
        format!("ErrorInfo metadata must be an object: {info}")
    })?;
    Ok(())
}
