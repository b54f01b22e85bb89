//! The gRPC cases, one `pub async fn` each, named `grpc_*`. They skip when the card
//! declares no `GRPC` interface (or not the capability they need), and otherwise check
//! what the JSON cases check: the prefix behaviours, the task life cycle, streams, errors
//! with their codes and ErrorInfo, versions, push configs and the extended card.

use harbor_a2a::{
    CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, ErrorKind,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTasksRequest, Message, Part, SendMessageRequest,
    SubscribeToTaskRequest, Task, TaskPushNotificationConfig, send_message_response,
};
use serde_json::Value;

use super::{GrpcRpc, json};
use crate::server::cases::stream::check_task_stream;
use crate::server::checks::{event_state, history_of, state_of, text_of};
use crate::server::{At, CaseFailure, ServerTarget};

/// A fresh id starting with `prefix`.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A SendMessageRequest with a fresh message id starting with `prefix`.
fn request(prefix: &str, task_id: Option<&str>) -> SendMessageRequest {
    let mut message = Message::user(
        unique(prefix),
        [Part::text(format!("conformance message for {prefix}"))],
    );
    if let Some(task_id) = task_id {
        message.task_id = task_id.to_owned();
    }
    SendMessageRequest {
        message: Some(message),
        ..SendMessageRequest::default()
    }
}

/// Sends `request` and returns the task it answers, as ProtoJSON.
async fn send_task(rpc: &GrpcRpc<'_>, request: SendMessageRequest) -> Result<Value, CaseFailure> {
    let reply = rpc
        .call("SendMessage", request, |mut c, r| async move {
            c.send_message(r).await
        })
        .await?;
    let at = reply.at.clone();
    match reply.ok()?.payload {
        Some(send_message_response::Payload::Task(task)) => {
            at.ensure(!task.id.is_empty(), || {
                format!("the task has no id: {task:?}")
            })?;
            json(&at, &task)
        }
        other => Err(at.fail(format!("expected a task, got {other:?}"))),
    }
}

/// A new task from `prefix`, which must leave it in `state`.
async fn task_in(rpc: &GrpcRpc<'_>, prefix: &str, state: &str) -> Result<Value, CaseFailure> {
    let task = send_task(rpc, request(prefix, None)).await?;
    rpc.at("SendMessage").ensure(state_of(&task) == state, || {
        format!("a {prefix} message must leave the task in {state}: {task}")
    })?;
    Ok(task)
}

fn id_of(task: &Value) -> String {
    crate::server::checks::str_at(task, "/id").to_owned()
}

async fn get(rpc: &GrpcRpc<'_>, id: &str) -> Result<Value, CaseFailure> {
    let request = GetTaskRequest {
        id: id.to_owned(),
        ..GetTaskRequest::default()
    };
    let reply = rpc
        .call(
            "GetTask",
            request,
            |mut c, r| async move { c.get_task(r).await },
        )
        .await?;
    let at = reply.at.clone();
    json::<Task>(&at, &reply.ok()?)
}

/// `tck-complete-task` over gRPC: a COMPLETED task whose status message is the agent's
/// "Hello from TCK", with the user message in its history; GetTask reads it back.
pub async fn grpc_send_blocking_completes(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let task = task_in(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED").await?;
    let at = rpc.at("SendMessage");
    let status_message = task.pointer("/status/message").cloned().unwrap_or_default();
    at.eq(
        "status message text",
        text_of(&status_message).as_str(),
        "Hello from TCK",
    )?;
    at.eq(
        "status message role",
        status_message["role"].as_str().unwrap_or_default(),
        "ROLE_AGENT",
    )?;
    at.ensure(
        history_of(&task).iter().any(|m| m["role"] == "ROLE_USER"),
        || format!("the user message is not in the history: {task}"),
    )?;
    let read = get(&rpc, &id_of(&task)).await?;
    rpc.at("GetTask")
        .eq("state read back", state_of(&read), "TASK_STATE_COMPLETED")
}

/// `tck-message-response` over gRPC answers a Message (no task): role agent, the text
/// "Direct message response".
pub async fn grpc_send_direct_message(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let reply = rpc
        .call(
            "SendMessage",
            request("tck-message-response", None),
            |mut c, r| async move { c.send_message(r).await },
        )
        .await?;
    let at = reply.at.clone();
    match reply.ok()?.payload {
        Some(send_message_response::Payload::Message(message)) => {
            at.eq(
                "the reply's text",
                message.text().as_str(),
                "Direct message response",
            )?;
            at.eq(
                "the reply's role",
                &message.role,
                &(harbor_a2a::Role::Agent as i32),
            )
        }
        other => Err(at.fail(format!("expected a message, got {other:?}"))),
    }
}

/// An interrupted task takes a follow-up naming only its id: `tck-input-required` waits
/// in INPUT_REQUIRED, a `tck-complete-task` follow-up completes it, and the history holds
/// both user messages in order.
pub async fn grpc_multi_turn(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let first = task_in(&rpc, "tck-input-required", "TASK_STATE_INPUT_REQUIRED").await?;
    let task_id = id_of(&first);
    let follow_up = request("tck-complete-task", Some(&task_id));
    let follow_up_id = follow_up
        .message
        .as_ref()
        .map(|m| m.message_id.clone())
        .unwrap_or_default();
    let done = send_task(&rpc, follow_up).await?;
    let at = rpc.at("SendMessage");
    at.eq(
        "the follow-up's task",
        id_of(&done).as_str(),
        task_id.as_str(),
    )?;
    at.eq(
        "state after the follow-up",
        state_of(&done),
        "TASK_STATE_COMPLETED",
    )?;
    at.eq(
        "context of the follow-up",
        &done["contextId"],
        &first["contextId"],
    )?;
    let users: Vec<&str> = history_of(&done)
        .iter()
        .filter(|m| m["role"] == "ROLE_USER")
        .filter_map(|m| m["messageId"].as_str())
        .collect();
    at.ensure(users.len() == 2 && users[1] == follow_up_id, || {
        format!("the history must hold both user messages in order, it holds {users:?}")
    })
}

/// GetTask of an unknown id is TaskNotFound: NOT_FOUND with the ErrorInfo.
pub async fn grpc_get_task_not_found(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let request = GetTaskRequest {
        id: unique("tck-nonexistent"),
        ..GetTaskRequest::default()
    };
    rpc.call(
        "GetTask",
        request,
        |mut c, r| async move { c.get_task(r).await },
    )
    .await?
    .expect_error(ErrorKind::TaskNotFound)
    .map(drop)
}

/// ListTasks of a context with no tasks is an empty page with no next page token.
pub async fn grpc_list_tasks_empty_context(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let request = ListTasksRequest {
        context_id: unique("tck-unused-ctx"),
        page_size: Some(2),
        ..ListTasksRequest::default()
    };
    let reply = rpc
        .call("ListTasks", request, |mut c, r| async move {
            c.list_tasks(r).await
        })
        .await?;
    let at = reply.at.clone();
    let page = reply.ok()?;
    at.ensure(page.tasks.is_empty(), || {
        format!("tasks of an unused context: {:?}", page.tasks)
    })?;
    at.eq("nextPageToken", page.next_page_token.as_str(), "")
}

async fn cancel(rpc: &GrpcRpc<'_>, id: &str) -> Result<super::GrpcReply<Task>, CaseFailure> {
    let request = CancelTaskRequest {
        id: id.to_owned(),
        ..CancelTaskRequest::default()
    };
    rpc.call("CancelTask", request, |mut c, r| async move {
        c.cancel_task(r).await
    })
    .await
}

/// CancelTask of an INPUT_REQUIRED task answers it CANCELED.
pub async fn grpc_cancel_input_required(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let task = task_in(&rpc, "tck-input-required", "TASK_STATE_INPUT_REQUIRED").await?;
    let reply = cancel(&rpc, &id_of(&task)).await?;
    let at = reply.at.clone();
    let canceled = json(&at, &reply.ok()?)?;
    at.eq(
        "the canceled task",
        id_of(&canceled).as_str(),
        id_of(&task).as_str(),
    )?;
    at.eq(
        "state after CancelTask",
        state_of(&canceled),
        "TASK_STATE_CANCELED",
    )
}

/// CancelTask of a COMPLETED task is TaskNotCancelable (FAILED_PRECONDITION), and of an
/// unknown id TaskNotFound (NOT_FOUND).
pub async fn grpc_cancel_refused(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let task = task_in(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED").await?;
    cancel(&rpc, &id_of(&task))
        .await?
        .expect_error(ErrorKind::TaskNotCancelable)?;
    cancel(&rpc, &unique("tck-nonexistent"))
        .await?
        .expect_error(ErrorKind::TaskNotFound)
        .map(drop)
}

/// SendStreamingMessage of `tck-stream-001`: the task first, WORKING, the artifact
/// "Stream hello from TCK", COMPLETED last (states never go back), then the stream ends.
pub async fn grpc_stream_lifecycle(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::streaming(target)?;
    let reply = rpc
        .stream(
            "SendStreamingMessage",
            request("tck-stream-001", None),
            |mut c, r| async move { c.send_streaming_message(r).await },
        )
        .await?;
    let at = reply.at.clone();
    let events = reply
        .ok()?
        .iter()
        .map(|e| json(&at, e))
        .collect::<Result<Vec<Value>, _>>()?;
    check_task_stream(&at, &events)?;
    at.ensure(
        events
            .iter()
            .any(|e| event_state(e) == Some("TASK_STATE_WORKING")),
        || format!("tck-stream-001 must report WORKING: {events:?}"),
    )?;
    let artifact = events
        .iter()
        .find_map(|e| e.pointer("/artifactUpdate/artifact"))
        .ok_or_else(|| {
            at.fail(format!(
                "tck-stream-001 must stream an artifact: {events:?}"
            ))
        })?;
    at.eq(
        "artifact text",
        text_of(artifact).as_str(),
        "Stream hello from TCK",
    )
}

/// SubscribeToTask of a COMPLETED task is refused (on the call or the first read); of an
/// unknown id it is TaskNotFound.
pub async fn grpc_subscribe_refused(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::streaming(target)?;
    let task = task_in(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED").await?;
    let subscribe = |id: String| {
        let request = SubscribeToTaskRequest {
            id,
            ..SubscribeToTaskRequest::default()
        };
        rpc.stream("SubscribeToTask", request, |mut c, r| async move {
            c.subscribe_to_task(r).await
        })
    };
    let reply = subscribe(id_of(&task)).await?;
    let at = reply.at.clone();
    match reply.result {
        Ok(events) => {
            return Err(at.fail(format!(
                "a subscription to a terminal task must be refused, it streamed {} event(s)",
                events.len()
            )));
        }
        Err(error) => at.ensure(error.code != tonic::Code::Ok, || "an OK error".into())?,
    }
    subscribe(unique("tck-nonexistent"))
        .await?
        .expect_error(ErrorKind::TaskNotFound)
        .map(drop)
}

/// `a2a-version: 99.0` is VersionNotSupported (FAILED_PRECONDITION per v1.0.1, or
/// UNIMPLEMENTED per v1.0.0, with the ErrorInfo); no `a2a-version` at all is served.
pub async fn grpc_version_not_supported(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let request = GetTaskRequest {
        id: unique("tck-nonexistent"),
        ..GetTaskRequest::default()
    };
    rpc.clone()
        .with_version(Some("99.0"))
        .call("GetTask", request.clone(), |mut c, r| async move {
            c.get_task(r).await
        })
        .await?
        .expect_error(ErrorKind::VersionNotSupported)?;
    let reply = rpc
        .with_version(None)
        .call(
            "GetTask",
            request,
            |mut c, r| async move { c.get_task(r).await },
        )
        .await?;
    let at = reply.at.clone();
    let error = reply
        .result
        .err()
        .ok_or_else(|| at.fail("GetTask of an unknown id succeeded"))?;
    at.ensure(error.code == tonic::Code::NotFound, || {
        format!(
            "without a2a-version the call must still be served (TaskNotFound), got {:?}: {}",
            error.code, error.message
        )
    })
}

/// Push config CRUD on a COMPLETED task (when declared): Create keeps the client's id, Get
/// and List find it, Delete succeeds twice, Get after Delete fails. Undeclared: Create is
/// PushNotificationNotSupported (UNIMPLEMENTED).
pub async fn grpc_push_config_crud(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let create = |task_id: &str, id: &str| {
        let config = TaskPushNotificationConfig {
            task_id: task_id.to_owned(),
            id: id.to_owned(),
            url: "https://example.com/webhook".into(),
            token: unique("tck-token"),
            ..TaskPushNotificationConfig::default()
        };
        rpc.call(
            "CreateTaskPushNotificationConfig",
            config,
            |mut c, r| async move { c.create_task_push_notification_config(r).await },
        )
    };
    if !target.declares("pushNotifications") {
        return create("t", "c")
            .await?
            .expect_error(ErrorKind::PushNotificationNotSupported)
            .map(drop);
    }
    let task = task_in(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED").await?;
    let task_id = id_of(&task);
    let config_id = unique("tck-push");
    let reply = create(&task_id, &config_id).await?;
    let at = reply.at.clone();
    let created = reply.ok()?;
    at.eq(
        "id of the created config (the client's)",
        created.id.as_str(),
        config_id.as_str(),
    )?;
    at.eq(
        "taskId of the created config",
        created.task_id.as_str(),
        task_id.as_str(),
    )?;
    let get = || {
        let request = GetTaskPushNotificationConfigRequest {
            task_id: task_id.clone(),
            id: config_id.clone(),
            ..GetTaskPushNotificationConfigRequest::default()
        };
        rpc.call(
            "GetTaskPushNotificationConfig",
            request,
            |mut c, r| async move { c.get_task_push_notification_config(r).await },
        )
    };
    let reply = get().await?;
    let at = reply.at.clone();
    at.eq(
        "url read back",
        reply.ok()?.url.as_str(),
        "https://example.com/webhook",
    )?;
    let list = ListTaskPushNotificationConfigsRequest {
        task_id: task_id.clone(),
        ..ListTaskPushNotificationConfigsRequest::default()
    };
    let reply = rpc
        .call(
            "ListTaskPushNotificationConfigs",
            list,
            |mut c, r| async move { c.list_task_push_notification_configs(r).await },
        )
        .await?;
    let at = reply.at.clone();
    let listed = reply.ok()?;
    at.ensure(listed.configs.iter().any(|c| c.id == config_id), || {
        format!("the config is not listed: {:?}", listed.configs)
    })?;
    for _ in 0..2 {
        let delete = DeleteTaskPushNotificationConfigRequest {
            task_id: task_id.clone(),
            id: config_id.clone(),
            ..DeleteTaskPushNotificationConfigRequest::default()
        };
        rpc.call(
            "DeleteTaskPushNotificationConfig",
            delete,
            |mut c, r| async move { c.delete_task_push_notification_config(r).await },
        )
        .await?
        .ok()?;
    }
    let reply = get().await?;
    let at = reply.at.clone();
    match reply.result {
        Ok(config) => Err(at.fail(format!("Get of a deleted config succeeded: {config:?}"))),
        Err(error) => at.ensure(
            !matches!(
                error.code,
                tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::Ok
            ),
            || {
                format!(
                    "Get of a deleted config must be a client error, got {:?}",
                    error.code
                )
            },
        ),
    }
}

/// GetExtendedAgentCard (when declared) answers a card with a name and interfaces;
/// undeclared, it is refused.
pub async fn grpc_extended_card(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = GrpcRpc::new(target)?;
    let reply = rpc
        .call(
            "GetExtendedAgentCard",
            GetExtendedAgentCardRequest::default(),
            |mut c, r| async move { c.get_extended_agent_card(r).await },
        )
        .await?;
    let at: At = reply.at.clone();
    if !target.declares("extendedAgentCard") {
        return match reply.result {
            Ok(_) => Err(at.fail("the card declares no extended card, yet one was served")),
            Err(_) => Ok(()),
        };
    }
    let card = reply.ok()?;
    at.ensure(!card.name.is_empty(), || {
        "the extended card has no name".into()
    })?;
    at.ensure(!card.supported_interfaces.is_empty(), || {
        "the extended card lists no supportedInterfaces".into()
    })
}
