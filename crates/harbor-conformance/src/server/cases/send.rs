//! SendMessage: blocking, returnImmediately, direct replies and artifact shapes.

use serde_json::{Value, json};

use super::support::{id_of, message, request, request_with, send_task, wait_for_state};
use crate::server::checks::{payload_kind, same_json, state_of, str_at, text_of};
use crate::server::{Binding, CaseFailure, ServerTarget};

/// A blocking SendMessage (`tck-complete-task`) returns the COMPLETED task with the user
/// message in its history and the agent's status message "Hello from TCK"; GetTask reads
/// the same task back.
pub async fn send_blocking_completes(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let at = rpc.at("SendMessage");
    let sent = message("tck-complete-task");
    let task = send_task(&rpc, request(sent.clone())).await?;
    at.eq("task state", state_of(&task), "TASK_STATE_COMPLETED")?;
    at.ensure(!str_at(&task, "/contextId").is_empty(), || {
        format!("the task has no contextId: {task}")
    })?;
    let status_message = task.pointer("/status/message").cloned().unwrap_or_default();
    at.eq(
        "status message role",
        str_at(&status_message, "/role"),
        "ROLE_AGENT",
    )?;
    at.eq(
        "status message text",
        text_of(&status_message).as_str(),
        "Hello from TCK",
    )?;
    at.ensure(task.pointer("/status/timestamp").is_some(), || {
        format!("the status has no timestamp: {task}")
    })?;
    let mine = str_at(&sent, "/messageId");
    let recorded = task
        .get("history")
        .and_then(Value::as_array)
        .and_then(|h| h.iter().find(|m| str_at(m, "/messageId") == mine))
        .ok_or_else(|| {
            at.fail(format!(
                "the user message {mine} is not in the task's history: {task}"
            ))
        })?;
    at.eq(
        "role of the user message in history",
        str_at(recorded, "/role"),
        "ROLE_USER",
    )?;
    at.eq(
        "text of the user message in history",
        &text_of(recorded),
        &text_of(&sent),
    )?;

    let read = rpc.get_task(&id_of(&task), json!({})).await?.ok()?;
    let at = rpc.at("GetTask");
    at.eq("task id", str_at(&read, "/id"), str_at(&task, "/id"))?;
    at.eq(
        "contextId",
        str_at(&read, "/contextId"),
        str_at(&task, "/contextId"),
    )?;
    at.eq("task state", state_of(&read), "TASK_STATE_COMPLETED")
}

/// With `returnImmediately` the answer is a task that has not necessarily finished
/// (SUBMITTED, WORKING or already COMPLETED), and GetTask later reads it COMPLETED.
pub async fn send_return_immediately(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let at = rpc.at("SendMessage");
    let task = send_task(
        &rpc,
        request_with(
            message("tck-complete-task"),
            json!({"returnImmediately": true}),
        ),
    )
    .await?;
    let state = state_of(&task);
    at.ensure(
        matches!(
            state,
            "TASK_STATE_SUBMITTED" | "TASK_STATE_WORKING" | "TASK_STATE_COMPLETED"
        ),
        || {
            format!(
                "returnImmediately answered state {state:?}; want SUBMITTED, WORKING or COMPLETED"
            )
        },
    )?;
    wait_for_state(&rpc, &id_of(&task), "TASK_STATE_COMPLETED")
        .await
        .map(drop)
}

/// `tck-message-response` answers `{"message": ...}`: an agent message with the text
/// "Direct message response", in a context, and no task.
pub async fn send_direct_message(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let reply = rpc
        .send_message(request(message("tck-message-response")))
        .await?;
    let at = reply.at.clone();
    let result = reply.ok()?;
    let kind = payload_kind(&result).map_err(|e| at.fail(e))?;
    at.eq("SendMessageResponse member", kind, "message")?;
    let answer = &result["message"];
    at.eq("role", str_at(answer, "/role"), "ROLE_AGENT")?;
    at.eq("text", text_of(answer).as_str(), "Direct message response")?;
    at.ensure(!str_at(answer, "/messageId").is_empty(), || {
        format!("the message has no messageId: {answer}")
    })?;
    at.ensure(!str_at(answer, "/contextId").is_empty(), || {
        format!("an agent message must carry its contextId: {answer}")
    })?;
    at.ensure(str_at(answer, "/taskId").is_empty(), || {
        format!("a direct reply creates no task, yet carries a taskId: {answer}")
    })
}

/// The artifact behaviours answer the v1 part shapes: text, raw bytes (base64) with
/// filename and mediaType, a URL, and structured data.
pub async fn send_artifacts(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let at = rpc.at("SendMessage");
    let part_of = |prefix: &'static str| {
        let rpc = &rpc;
        let at = &at;
        async move {
            let task = send_task(rpc, request(message(prefix))).await?;
            at.eq(
                &format!("state after {prefix}"),
                state_of(&task),
                "TASK_STATE_COMPLETED",
            )?;
            let artifact = task
                .pointer("/artifacts/0")
                .cloned()
                .ok_or_else(|| at.fail(format!("{prefix}: the task has no artifact: {task}")))?;
            at.ensure(!str_at(&artifact, "/artifactId").is_empty(), || {
                format!("{prefix}: the artifact has no artifactId")
            })?;
            let part = artifact.pointer("/parts/0").cloned().ok_or_else(|| {
                at.fail(format!("{prefix}: the artifact has no parts: {artifact}"))
            })?;
            Ok::<Value, CaseFailure>(part)
        }
    };
    let text = part_of("tck-artifact-text").await?;
    at.eq(
        "text part text",
        str_at(&text, "/text"),
        "Generated text content",
    )?;

    let file = part_of("tck-artifact-file").await?;
    let raw = str_at(&file, "/raw");
    at.ensure(!raw.is_empty() && is_base64(raw), || {
        format!("a raw part must hold padded standard base64: {file}")
    })?;
    at.eq(
        "file part filename",
        str_at(&file, "/filename"),
        "output.txt",
    )?;
    at.eq(
        "file part mediaType",
        str_at(&file, "/mediaType"),
        "text/plain",
    )?;
    at.ensure(file.get("file").is_none(), || {
        format!("the v0.3 `file` member is gone in v1: {file}")
    })?;

    let url = part_of("tck-artifact-file-url").await?;
    at.eq(
        "url part url",
        str_at(&url, "/url"),
        "https://example.com/output.txt",
    )?;
    at.eq("url part filename", str_at(&url, "/filename"), "output.txt")?;
    at.eq(
        "url part mediaType",
        str_at(&url, "/mediaType"),
        "text/plain",
    )?;

    let data = part_of("tck-artifact-data").await?;
    let want = json!({"key": "value", "count": 42});
    let got = data.get("data").unwrap_or(&Value::Null);
    at.ensure(same_json(got, &want), || {
        format!("data part data: got {got}, want {want}")
    })?;
    Ok(())
}

/// Whether `text` matches `^[A-Za-z0-9+/]*={0,2}$` with a length that is a multiple of 4.
fn is_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    text.len().is_multiple_of(4)
        && text.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
