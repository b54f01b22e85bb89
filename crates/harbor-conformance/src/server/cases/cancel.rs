//! CancelTask: interrupted, terminal and unknown tasks, and the REST body forms.

use harbor_a2a::ErrorKind;
use serde_json::json;

use super::support::{id_of, new_task_in_state, unique};
use crate::server::checks::{state_of, str_at};
use crate::server::rpc::RestBody;
use crate::server::{Binding, CaseFailure, ServerTarget};

/// Canceling an input-required task answers the same task CANCELED, and GetTask agrees
/// (on HTTP+JSON the cancel is a POST with no body and no Content-Type).
pub async fn cancel_input_required(
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
    let reply = rpc.cancel_task(&id_of(&task)).await?;
    let at = reply.at.clone();
    let canceled = reply.ok()?;
    at.eq("task id", str_at(&canceled, "/id"), str_at(&task, "/id"))?;
    at.eq("task state", state_of(&canceled), "TASK_STATE_CANCELED")?;
    let read = rpc.get_task(&id_of(&task), json!({})).await?.ok()?;
    rpc.at("GetTask").eq(
        "state after CancelTask",
        state_of(&read),
        "TASK_STATE_CANCELED",
    )
}

/// Canceling a COMPLETED task is TaskNotCancelable (-32002 / 400).
pub async fn cancel_completed(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let task = new_task_in_state(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED", None).await?;
    rpc.cancel_task(&id_of(&task))
        .await?
        .expect_error(ErrorKind::TaskNotCancelable)
        .map(drop)
}

/// Canceling an unknown task is TaskNotFound (-32001 / 404).
pub async fn cancel_unknown(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    rpc.cancel_task(&unique("tck-nonexistent"))
        .await?
        .expect_error(ErrorKind::TaskNotFound)
        .map(drop)
}

/// REST `POST /tasks/{id}:cancel` accepts an empty body sent as `application/json`, a
/// `{}` body and a body with `metadata`.
pub async fn rest_cancel_bodies(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::HttpJson)?;
    let bodies = [
        RestBody::EmptyJson,
        RestBody::Json(json!({})),
        RestBody::Json(json!({"metadata": {"reason": "conformance"}})),
    ];
    for body in bodies {
        let task = new_task_in_state(
            &rpc,
            "tck-input-required",
            "TASK_STATE_INPUT_REQUIRED",
            None,
        )
        .await?;
        let path = format!("/tasks/{}:cancel", id_of(&task));
        let reply = rpc
            .rest(
                "CancelTask",
                reqwest::Method::POST,
                &path,
                &[],
                body.clone(),
            )
            .await?;
        let at = reply.at.clone();
        let canceled = reply.ok()?;
        at.eq(
            &format!("state after a cancel with body {body:?}"),
            state_of(&canceled),
            "TASK_STATE_CANCELED",
        )?;
    }
    Ok(())
}
