//! Request field names: ProtoJSON parsers accept the proto's snake_case names as well as
//! camelCase, in JSON-RPC params and in HTTP+JSON query parameters.

use serde_json::{Value, json};

use super::list::page_of;
use super::support::{
    id_of, message, new_task, new_task_in_state, request_with, send_task, unique,
};
use crate::server::rpc::Rpc;
use crate::server::{Binding, CaseFailure, ServerTarget};

/// Two artifact tasks in a fresh context, and one elsewhere; returns the context and the
/// id of one of its tasks.
async fn two_tasks(rpc: &Rpc<'_>) -> Result<(String, String), CaseFailure> {
    let context = unique("tck-names-ctx");
    let task = new_task_in_state(
        rpc,
        "tck-artifact-text",
        "TASK_STATE_COMPLETED",
        Some(&context),
    )
    .await?;
    new_task_in_state(
        rpc,
        "tck-artifact-text",
        "TASK_STATE_COMPLETED",
        Some(&context),
    )
    .await?;
    new_task(rpc, "tck-complete-task", None).await?;
    Ok((context, id_of(&task)))
}

/// A ListTasks page filtered to the context, one task per page, with artifacts.
async fn check_list(rpc: &Rpc<'_>, params: Value) -> Result<(), CaseFailure> {
    let reply = rpc.list_tasks(params.clone()).await?;
    let at = reply.at.clone();
    let page = reply.ok()?;
    let tasks = page_of(&at, &page)?;
    at.eq(
        &format!("totalSize with {params}"),
        &page["totalSize"],
        &json!(2),
    )?;
    at.eq(
        &format!("pageSize with {params}"),
        &page["pageSize"],
        &json!(1),
    )?;
    at.eq(
        &format!("tasks on the page with {params}"),
        &tasks.len(),
        &1,
    )?;
    at.ensure(tasks[0].get("artifacts").is_some(), || {
        format!("with {params} the artifacts must be included: {}", tasks[0])
    })
}

/// JSON-RPC params in snake_case are read like camelCase: `history_length` (GetTask and
/// SendMessage configuration), `context_id`, `page_size`, `include_artifacts` (ListTasks)
/// and `task_id` (push configs, when declared).
pub async fn snake_case_params(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::JsonRpc)?;
    let (context, id) = two_tasks(&rpc).await?;
    let task = rpc
        .json_rpc("GetTask", json!({"id": id, "history_length": 0}))
        .await?
        .ok()?;
    rpc.at("GetTask")
        .ensure(task.get("history").is_none(), || {
            format!("history_length 0 must omit history: {task}")
        })?;
    let sent = send_task(
        &rpc,
        request_with(message("tck-complete-task"), json!({"history_length": 0})),
    )
    .await?;
    rpc.at("SendMessage")
        .ensure(sent.get("history").is_none(), || {
            format!("configuration.history_length 0 must omit history: {sent}")
        })?;
    check_list(
        &rpc,
        json!({"context_id": context, "page_size": 1, "include_artifacts": true}),
    )
    .await?;
    if target.declares("pushNotifications") {
        let config_id = unique("tck-push");
        let config = json!({"id": config_id, "url": "https://example.com/webhook"});
        rpc.create_push(&id, config).await?.ok()?;
        let reply = rpc
            .json_rpc(
                "GetTaskPushNotificationConfig",
                json!({"task_id": id, "id": config_id}),
            )
            .await?;
        let at = reply.at.clone();
        let read = reply.ok()?;
        at.eq(
            "config id read with task_id",
            &read["id"],
            &json!(config_id),
        )?;
        rpc.json_rpc("ListTaskPushNotificationConfigs", json!({"task_id": id}))
            .await?
            .ok()?;
        rpc.json_rpc(
            "DeleteTaskPushNotificationConfig",
            json!({"task_id": id, "id": config_id}),
        )
        .await?
        .ok()?;
    }
    Ok(())
}

/// HTTP+JSON query parameters work in camelCase and in snake_case, on ListTasks
/// (`contextId`, `pageSize`, `includeArtifacts`) and GetTask (`historyLength`).
pub async fn rest_query_name_styles(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.rpc(Binding::HttpJson)?;
    let (context, id) = two_tasks(&rpc).await?;
    check_list(
        &rpc,
        json!({"contextId": context, "pageSize": 1, "includeArtifacts": true}),
    )
    .await?;
    check_list(
        &rpc,
        json!({"context_id": context, "page_size": 1, "include_artifacts": true}),
    )
    .await?;
    for key in ["historyLength", "history_length"] {
        let task = rpc.get_task(&id, json!({key: 0})).await?.ok()?;
        rpc.at("GetTask")
            .ensure(task.get("history").is_none(), || {
                format!("?{key}=0 must omit history: {task}")
            })?;
    }
    Ok(())
}
