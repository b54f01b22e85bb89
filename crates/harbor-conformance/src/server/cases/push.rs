//! Push notifications: config CRUD, and delivery to a webhook.

use harbor_a2a::{ErrorKind, StreamResponse};
use serde_json::{Value, json};

use super::support::{
    follow_up, id_of, message, new_task_in_state, request_with, send_task, task_of, unique, with,
};
use crate::server::checks::{event_state, payload_kind, state_of, str_at, wire_rules};
use crate::server::webhook::WebhookReceiver;
use crate::server::{At, Binding, CaseFailure, ServerTarget};

/// Push config CRUD on a COMPLETED task: a client-chosen id is kept, Get and List find
/// it, Create with the same id replaces it, Delete succeeds twice, and Get after Delete
/// fails. Without `capabilities.pushNotifications`, Create must fail with
/// PushNotificationNotSupported (-32003 / 400) before any task lookup.
pub async fn push_config_crud(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    if !target.declares("pushNotifications") {
        let config = json!({"url": "https://example.com/webhook"});
        return rpc
            .create_push("t", config)
            .await?
            .expect_error(ErrorKind::PushNotificationNotSupported)
            .map(drop);
    }
    let task = new_task_in_state(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED", None).await?;
    let task_id = id_of(&task);
    let config_id = unique("tck-push");
    let config = json!({
        "id": config_id,
        "url": "https://example.com/webhook",
        "token": unique("tck-token"),
        "authentication": {"scheme": "Bearer", "credentials": "tck-test-token"},
    });
    let reply = rpc.create_push(&task_id, config.clone()).await?;
    let at = reply.at.clone();
    let created = reply.ok()?;
    at.eq(
        "id of the created config (the client's)",
        &created["id"],
        &config["id"],
    )?;
    at.eq(
        "taskId of the created config",
        str_at(&created, "/taskId"),
        &task_id,
    )?;
    at.eq("url of the created config", &created["url"], &config["url"])?;
    at.eq(
        "authentication of the created config",
        &created["authentication"],
        &config["authentication"],
    )?;

    let reply = rpc.get_push(&task_id, &config_id).await?;
    let at = reply.at.clone();
    at.eq("url read back", &reply.ok()?["url"], &config["url"])?;
    let ids = listed_ids(&rpc, &task_id).await?;
    rpc.at("ListTaskPushNotificationConfigs")
        .ensure(ids.contains(&config_id), || {
            format!("the config is not listed: {ids:?}")
        })?;

    let replacement = with(config.clone(), "url", "https://example.com/replaced");
    rpc.create_push(&task_id, replacement).await?.ok()?;
    let reply = rpc.get_push(&task_id, &config_id).await?;
    let at = reply.at.clone();
    at.eq(
        "url after Create with the same id",
        str_at(&reply.ok()?, "/url"),
        "https://example.com/replaced",
    )?;
    let ids = listed_ids(&rpc, &task_id).await?;
    let copies = ids.iter().filter(|id| **id == config_id).count();
    rpc.at("ListTaskPushNotificationConfigs")
        .eq("configs with the replaced id", &copies, &1)?;

    rpc.delete_push(&task_id, &config_id).await?.ok()?;
    rpc.delete_push(&task_id, &config_id).await?.ok()?;
    let reply = rpc.get_push(&task_id, &config_id).await?;
    let at = reply.at.clone();
    let error = reply.error()?;
    at.ensure(error.http_status < 500, || {
        format!(
            "Get of a deleted config must be a client error, got HTTP {}",
            error.http_status
        )
    })
}

async fn listed_ids(
    rpc: &crate::server::rpc::Rpc<'_>,
    task_id: &str,
) -> Result<Vec<String>, CaseFailure> {
    let reply = rpc.list_push(task_id).await?;
    let at = reply.at.clone();
    let listed = reply.ok()?;
    let configs = listed
        .get("configs")
        .and_then(Value::as_array)
        .ok_or_else(|| at.fail(format!("no configs array: {listed}")))?;
    Ok(configs
        .iter()
        .map(|c| str_at(c, "/id").to_owned())
        .collect())
}

/// Delivery: an inline push config on an input-required task, then a completing
/// follow-up; the webhook receives POSTs with `Authorization: Bearer <token>` whose bodies
/// are StreamResponses of the task, up to one reporting COMPLETED. Runs only when the card
/// declares push and the target options allow loopback webhooks.
pub async fn push_delivery(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    if !target.declares("pushNotifications") {
        return Err(CaseFailure::skipped(
            "the card does not declare capabilities.pushNotifications",
        ));
    }
    if !target.options.allow_loopback_webhooks {
        return Err(CaseFailure::skipped(
            "push delivery needs a webhook receiver on this host; set TargetOptions::allow_loopback_webhooks \
             (harbor check --webhooks) when the server may call loopback URLs",
        ));
    }
    let at = At::new(binding, "push delivery");
    let mut receiver = WebhookReceiver::start(&target.options.webhook_host)
        .await
        .map_err(|e| at.fail(format!("cannot start the webhook receiver: {e}")))?;
    let token = unique("tck-test-token");
    let config = json!({
        "id": unique("tck-push"),
        "url": receiver.url(),
        "token": unique("tck-token"),
        "authentication": {"scheme": "Bearer", "credentials": token},
    });
    let configuration = json!({"taskPushNotificationConfig": config});
    let task = send_task(
        &rpc,
        request_with(message("tck-input-required"), configuration),
    )
    .await?;
    rpc.at("SendMessage")
        .eq("state", state_of(&task), "TASK_STATE_INPUT_REQUIRED")?;
    let task_id = id_of(&task);
    let reply = follow_up(&rpc, &task_id, "tck-complete-task").await?;
    let follow_at = reply.at.clone();
    follow_at.eq(
        "state after the follow-up",
        state_of(&task_of(&follow_at, reply.ok()?)?),
        "TASK_STATE_COMPLETED",
    )?;

    let deadline = tokio::time::Instant::now() + target.options.deadline;
    let mut received = 0;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(push) = receiver.next(left).await else {
            return Err(at.fail(format!(
                "{received} webhook POSTs arrived within {:?}, none reporting COMPLETED",
                target.options.deadline
            )));
        };
        received += 1;
        let want = format!("Bearer {token}");
        at.eq(
            "Authorization header of a webhook POST",
            &push.authorization.as_deref(),
            &Some(want.as_str()),
        )?;
        let body: Value = serde_json::from_slice(&push.body).map_err(|e| {
            at.fail(format!(
                "a webhook body is not JSON ({e}): {}",
                String::from_utf8_lossy(&push.body)
            ))
        })?;
        wire_rules(&body).map_err(|e| at.fail(format!("in a webhook body: {e}")))?;
        let kind = payload_kind(&body)
            .map_err(|e| at.fail(format!("a webhook body is not a StreamResponse: {e}")))?;
        harbor_a2a::from_json_value::<StreamResponse>(body.clone()).map_err(|e| {
            at.fail(format!(
                "a webhook body does not parse as a StreamResponse: {e}"
            ))
        })?;
        let about = if kind == "task" {
            str_at(&body, "/task/id")
        } else {
            str_at(&body[kind], "/taskId")
        };
        at.eq("task of a webhook event", about, &task_id)?;
        if event_state(&body) == Some("TASK_STATE_COMPLETED") {
            return Ok(());
        }
    }
}
