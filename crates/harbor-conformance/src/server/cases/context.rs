//! Context and follow-up rules: client context ids, inferred contexts, mismatches,
//! terminal and unknown tasks, and multi-turn history.

use harbor_a2a::ErrorKind;
use serde_json::json;

use super::support::{
    follow_up, id_of, message, new_task_in_state, request, send_task, task_of, unique, with,
};
use crate::server::checks::{history_ids, same_json, state_of, str_at};
use crate::server::{Binding, CaseFailure, ServerTarget};

/// A new message with a client-chosen `contextId` is accepted and the task keeps it.
pub async fn context_client_id_accepted(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let context = unique("tck-ctx");
    let task = send_task(
        &rpc,
        request(with(
            message("tck-complete-task"),
            "contextId",
            context.as_str(),
        )),
    )
    .await?;
    rpc.at("SendMessage")
        .eq("contextId", str_at(&task, "/contextId"), &context)
}

/// A follow-up naming only the `taskId` of an input-required task succeeds in the task's
/// context, and completes it.
pub async fn context_inferred_from_task(
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
    let reply = follow_up(&rpc, &id_of(&task), "tck-complete-task").await?;
    let at = reply.at.clone();
    let done = task_of(&at, reply.ok()?)?;
    at.eq(
        "task id of the follow-up",
        str_at(&done, "/id"),
        str_at(&task, "/id"),
    )?;
    at.eq(
        "contextId inferred from the task",
        str_at(&done, "/contextId"),
        str_at(&task, "/contextId"),
    )?;
    at.eq(
        "state after tck-complete-task",
        state_of(&done),
        "TASK_STATE_COMPLETED",
    )
}

/// A follow-up whose `contextId` differs from its task's is refused, and leaves the task
/// as it was.
pub async fn context_mismatch_rejected(
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
    let before = rpc.get_task(&id_of(&task), json!({})).await?.ok()?;
    let wrong = with(
        with(message("tck-complete-task"), "taskId", id_of(&task)),
        "contextId",
        unique("tck-other-ctx"),
    );
    let reply = rpc.send_message(request(wrong)).await?;
    let at = reply.at.clone();
    let error = reply.error()?;
    at.ensure(error.http_status < 500, || {
        format!(
            "a mismatched contextId is a client error, got HTTP {}",
            error.http_status
        )
    })?;
    let after = rpc.get_task(&id_of(&task), json!({})).await?.ok()?;
    let at = rpc.at("GetTask");
    at.eq(
        "state after the refused follow-up",
        state_of(&after),
        "TASK_STATE_INPUT_REQUIRED",
    )?;
    at.eq(
        "history after the refused follow-up",
        &history_ids(&after),
        &history_ids(&before),
    )
}

/// A message to a COMPLETED task fails with UnsupportedOperation (-32004 / 400).
pub async fn send_to_completed_task(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let task = new_task_in_state(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED", None).await?;
    follow_up(&rpc, &id_of(&task), "tck-complete-task")
        .await?
        .expect_error(ErrorKind::UnsupportedOperation)
        .map(drop)
}

/// A message naming an unknown `taskId` fails with TaskNotFound (-32001 / 404).
pub async fn send_unknown_task(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    follow_up(&rpc, &unique("tck-nonexistent"), "tck-complete-task")
        .await?
        .expect_error(ErrorKind::TaskNotFound)
        .map(drop)
}

/// Multi-turn: follow-ups to an input-required task keep it there (`tck-input-required`)
/// or complete it (`tck-complete-task`), and every user message lands in history in order.
pub async fn multi_turn_history(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let first = message("tck-input-required");
    let task = send_task(&rpc, request(first.clone())).await?;
    let at = rpc.at("SendMessage");
    at.eq(
        "state after the first turn",
        state_of(&task),
        "TASK_STATE_INPUT_REQUIRED",
    )?;
    let id = id_of(&task);
    let second = with(message("tck-input-required"), "taskId", id.as_str());
    let after_second = send_task(&rpc, request(second.clone())).await?;
    at.eq(
        "state after a tck-input-required follow-up",
        state_of(&after_second),
        "TASK_STATE_INPUT_REQUIRED",
    )?;
    let third = with(message("tck-complete-task"), "taskId", id.as_str());
    let done = send_task(&rpc, request(third.clone())).await?;
    at.eq(
        "state after a tck-complete-task follow-up",
        state_of(&done),
        "TASK_STATE_COMPLETED",
    )?;

    let read = rpc.get_task(&id, json!({})).await?.ok()?;
    let at = rpc.at("GetTask");
    let sent: Vec<&str> = [&first, &second, &third]
        .iter()
        .map(|m| str_at(m, "/messageId"))
        .collect();
    let history = read
        .get("history")
        .and_then(|h| h.as_array())
        .cloned()
        .unwrap_or_default();
    let users: Vec<&serde_json::Value> = history
        .iter()
        .filter(|m| str_at(m, "/role") == "ROLE_USER")
        .collect();
    let user_ids: Vec<&str> = users.iter().map(|m| str_at(m, "/messageId")).collect();
    at.eq("user messages in history, in order", &user_ids, &sent)?;
    for (recorded, original) in users.iter().zip([&first, &second, &third]) {
        let (got, want) = (&recorded["parts"], &original["parts"]);
        at.ensure(same_json(got, want), || {
            format!("a user message's parts changed in history: got {got}, want {want}")
        })?;
    }
    Ok(())
}
