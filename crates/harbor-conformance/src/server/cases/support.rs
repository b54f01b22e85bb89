//! What the cases share: fresh ids, request builders and waits with deadlines.

use std::time::Duration;

use serde_json::{Value, json};

use crate::server::checks::{payload_kind, state_of};
use crate::server::rpc::{Reply, Rpc};
use crate::server::{At, CaseFailure};

/// A fresh id starting with `prefix` (the agent picks its behaviour by prefix; the
/// suffix keeps cases apart on a shared server).
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A user message with a fresh id starting with `prefix`.
pub(crate) fn message(prefix: &str) -> Value {
    json!({
        "messageId": unique(prefix),
        "role": "ROLE_USER",
        "parts": [{"text": format!("conformance message for {prefix}")}],
    })
}

/// `message` with `key` set to `value`.
pub(crate) fn with(mut message: Value, key: &str, value: impl Into<Value>) -> Value {
    if let Some(map) = message.as_object_mut() {
        map.insert(key.to_owned(), value.into());
    }
    message
}

/// A SendMessageRequest for `message`.
pub(crate) fn request(message: Value) -> Value {
    json!({"message": message})
}

/// A SendMessageRequest for `message` with a configuration.
pub(crate) fn request_with(message: Value, configuration: Value) -> Value {
    json!({"message": message, "configuration": configuration})
}

/// The task of a SendMessage result, which must be `{"task": ...}`.
pub(crate) fn task_of(at: &At, result: Value) -> Result<Value, CaseFailure> {
    let kind =
        payload_kind(&result).map_err(|e| at.fail(format!("not a SendMessageResponse: {e}")))?;
    at.ensure(kind == "task", || {
        format!("expected {{\"task\": ...}}, got {result}")
    })?;
    let task = result.get("task").cloned().unwrap_or_default();
    at.ensure(
        !crate::server::checks::str_at(&task, "/id").is_empty(),
        || format!("the task has no id: {task}"),
    )?;
    Ok(task)
}

/// Sends `request` and returns the task it answers.
pub(crate) async fn send_task(rpc: &Rpc<'_>, request: Value) -> Result<Value, CaseFailure> {
    let reply = rpc.send_message(request).await?;
    let at = reply.at.clone();
    task_of(&at, reply.ok()?)
}

/// A new task from a message with `prefix`, optionally in `context_id`.
pub(crate) async fn new_task(
    rpc: &Rpc<'_>,
    prefix: &str,
    context_id: Option<&str>,
) -> Result<Value, CaseFailure> {
    let mut m = message(prefix);
    if let Some(context_id) = context_id {
        m = with(m, "contextId", context_id);
    }
    send_task(rpc, request(m)).await
}

/// A new task that must be in `state`.
pub(crate) async fn new_task_in_state(
    rpc: &Rpc<'_>,
    prefix: &str,
    state: &str,
    context_id: Option<&str>,
) -> Result<Value, CaseFailure> {
    let task = new_task(rpc, prefix, context_id).await?;
    let at = rpc.at("SendMessage");
    at.ensure(state_of(&task) == state, || {
        format!("a {prefix} message must leave the task in {state}: {task}")
    })?;
    Ok(task)
}

/// Sends a follow-up with `prefix` to `task_id` (no contextId).
pub(crate) async fn follow_up(
    rpc: &Rpc<'_>,
    task_id: &str,
    prefix: &str,
) -> Result<Reply, CaseFailure> {
    rpc.send_message(request(with(message(prefix), "taskId", task_id)))
        .await
}

/// The id of a task.
pub(crate) fn id_of(task: &Value) -> String {
    crate::server::checks::str_at(task, "/id").to_owned()
}

/// Polls GetTask until the task is in `state`, failing after the target's deadline.
pub(crate) async fn wait_for_state(
    rpc: &Rpc<'_>,
    task_id: &str,
    state: &str,
) -> Result<Value, CaseFailure> {
    let deadline = tokio::time::Instant::now() + rpc.target().options.deadline;
    loop {
        let task = rpc.get_task(task_id, json!({})).await?.ok()?;
        if state_of(&task) == state {
            return Ok(task);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(rpc.at("GetTask").fail(format!(
                "task {task_id} did not reach {state} within {:?}; last seen {}",
                rpc.target().options.deadline,
                state_of(&task)
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
