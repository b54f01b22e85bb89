//! One check per RPC, each returning why it failed. They assert what the specification
//! says; the SDK agent's behaviours are the conformance prefixes (tck-sut-contract.md §3).

use futures::StreamExt;
use harbor_a2a::stream_response::Payload as Event;
use harbor_a2a::{
    AuthenticationInfo, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, ErrorKind,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest, ListTasksRequest, Message, Role,
    TaskPushNotificationConfig, TaskState, send_message_response,
};
use harbor_distributed::{Error, RemoteTransport};

use super::agent::{
    Agent, Checked, artifact_texts, call, check_lifecycle, drain, refused, shown, unique,
};

pub(crate) async fn card(agent: &Agent) -> Checked {
    let resolved = call("card", agent.transport.agent_card(&agent.peer).await)?;
    let endpoint = resolved.endpoint();
    ensure!(endpoint.binding == agent.binding, "chose {endpoint:?}");
    let caps = resolved.card().capabilities.clone().unwrap_or_default();
    ensure!(
        caps.streaming == Some(true) && caps.push_notifications == Some(true),
        "capabilities {caps:?}"
    );
    Ok(())
}

pub(crate) async fn send_task(agent: &Agent) -> Checked {
    let task = agent.task("tck-complete-task", None).await?;
    ensure!(
        task.state() == TaskState::Completed,
        "state {:?}",
        task.state()
    );
    let status_message = task.status.as_ref().and_then(|s| s.message.as_ref());
    let text = status_message.map(Message::text).unwrap_or_default();
    ensure!(text == "Hello from TCK", "status message {text:?}");
    // A terminal task never restarts (§6.1).
    let follow_up = Agent::request("tck-complete-task", Some(&task.id), None);
    refused(
        "a message to a completed task",
        agent.send(follow_up).await,
        ErrorKind::UnsupportedOperation,
    )
}

pub(crate) async fn send_message(agent: &Agent) -> Checked {
    let req = Agent::request("tck-message-response", None, None);
    match call("SendMessage", agent.send(req).await)?.payload {
        Some(send_message_response::Payload::Message(m)) => {
            ensure!(m.text() == "Direct message response", "text {:?}", m.text());
            ensure!(m.role == Role::Agent as i32, "role {}", m.role);
            Ok(())
        }
        other => Err(format!("expected a message, got {other:?}")),
    }
}

pub(crate) async fn stream(agent: &Agent) -> Checked {
    let (peer, ctx) = (&agent.peer, &agent.ctx);
    let req = Agent::request("tck-stream-001", None, None);
    let mut stream = call(
        "open",
        agent.transport.send_streaming_message(peer, ctx, req).await,
    )?;
    let events = drain(&mut stream).await?;
    check_lifecycle(&events, TaskState::Completed)?;
    let texts = artifact_texts(&events);
    ensure!(texts == ["Stream hello from TCK"], "artifacts {texts:?}");
    // Errors found before the stream starts come back as errors, not as a stream (§6.6).
    let Some(Event::Task(task)) = events.first().and_then(|e| e.payload.clone()) else {
        return Err("no task".to_owned());
    };
    let late = Agent::request("tck-stream-001", Some(&task.id), None);
    let opened = agent
        .transport
        .send_streaming_message(peer, ctx, late)
        .await;
    refused(
        "a stream to a completed task",
        opened,
        ErrorKind::UnsupportedOperation,
    )
}

pub(crate) async fn get_task(agent: &Agent) -> Checked {
    let sent = agent.task("tck-complete-task", None).await?;
    let full = call("GetTask", agent.get(&sent.id, None).await)?;
    ensure!(
        full.id == sent.id && full.state() == TaskState::Completed,
        "{full:?}"
    );
    ensure!(!full.history.is_empty(), "no history without historyLength");
    let one = call(
        "GetTask historyLength 1",
        agent.get(&sent.id, Some(1)).await,
    )?;
    ensure!(
        one.history.len() == 1,
        "historyLength 1: {} message(s)",
        one.history.len()
    );
    let none = call(
        "GetTask historyLength 0",
        agent.get(&sent.id, Some(0)).await,
    )?;
    ensure!(
        none.history.is_empty(),
        "historyLength 0: {} message(s)",
        none.history.len()
    );
    let negative = agent.get(&sent.id, Some(-1)).await;
    refused("historyLength -1", negative, ErrorKind::InvalidParams)?;
    let missing = agent.get(&unique("no-such-task"), None).await;
    refused("an unknown task", missing, ErrorKind::TaskNotFound)
}

pub(crate) async fn list_tasks(agent: &Agent) -> Checked {
    let context = unique("ctx");
    // A blocking send of the stream behaviour leaves a task with an artifact.
    let older = agent.task("tck-stream-001", Some(&context)).await?;
    let newer = agent.task("tck-complete-task", Some(&context)).await?;
    let page = |token: String, include_artifacts| ListTasksRequest {
        context_id: context.clone(),
        page_size: Some(1),
        page_token: token,
        include_artifacts,
        ..ListTasksRequest::default()
    };
    let (peer, ctx) = (&agent.peer, &agent.ctx);
    let list = |req| agent.transport.list_tasks(peer, ctx, req);
    let first = call("first page", list(page(String::new(), None)).await)?;
    ensure!(
        first.tasks.len() == 1 && first.total_size == 2,
        "first page {first:?}"
    );
    ensure!(
        !first.next_page_token.is_empty(),
        "no next_page_token on page 1 of 2"
    );
    ensure!(
        first.tasks[0].id == newer.id,
        "not newest first: {}",
        first.tasks[0].id
    );
    let token = first.next_page_token.clone();
    let second = call("second page", list(page(token.clone(), None)).await)?;
    ensure!(
        second.tasks.len() == 1 && second.tasks[0].id == older.id,
        "second page {second:?}"
    );
    ensure!(
        second.tasks[0].artifacts.is_empty(),
        "artifacts without includeArtifacts"
    );
    ensure!(
        second.next_page_token.is_empty(),
        "a token after the last page"
    );
    let with = call("includeArtifacts", list(page(token, Some(true))).await)?;
    ensure!(
        with.tasks.first().is_some_and(|t| !t.artifacts.is_empty()),
        "no artifacts with includeArtifacts: {with:?}"
    );
    let too_big = ListTasksRequest {
        page_size: Some(101),
        ..ListTasksRequest::default()
    };
    refused(
        "pageSize 101",
        list(too_big).await,
        ErrorKind::InvalidParams,
    )
}

pub(crate) async fn cancel_task(agent: &Agent) -> Checked {
    let waiting = agent.task("tck-input-required", None).await?;
    ensure!(
        waiting.state() == TaskState::InputRequired,
        "state {:?}",
        waiting.state()
    );
    let cancel = || CancelTaskRequest {
        id: waiting.id.clone(),
        ..CancelTaskRequest::default()
    };
    let (peer, ctx) = (&agent.peer, &agent.ctx);
    let canceled = call(
        "cancel",
        agent.transport.cancel_task(peer, ctx, cancel()).await,
    )?;
    ensure!(
        canceled.id == waiting.id,
        "another task came back: {}",
        canceled.id
    );
    ensure!(
        canceled.state() == TaskState::Canceled,
        "state {:?}",
        canceled.state()
    );
    // A canceled task is terminal: TaskNotCancelable, or (idempotent) the same snapshot.
    match agent.transport.cancel_task(peer, ctx, cancel()).await {
        Err(Error::Protocol(e)) if e.kind() == ErrorKind::TaskNotCancelable => Ok(()),
        Ok(again) if again.state() == TaskState::Canceled => Ok(()),
        Ok(again) => Err(format!("a second cancel gave state {:?}", again.state())),
        Err(other) => Err(format!("a second cancel gave {}", shown(&other))),
    }
}

pub(crate) async fn subscribe(agent: &Agent) -> Checked {
    let waiting = agent.task("tck-input-required", None).await?;
    let mut first = call("first subscription", agent.subscribe(&waiting.id).await)?;
    let mut second = call("second subscription", agent.subscribe(&waiting.id).await)?;
    let mut sequences = Vec::new();
    for stream in [&mut first, &mut second] {
        // The task as it is comes first, and proves the subscription is in place.
        match stream.next().await {
            Some(Ok(head)) if head.state() == Some(TaskState::InputRequired) => {
                sequences.push(vec![head]);
            }
            Some(Ok(head)) => return Err(format!("first event {head:?}")),
            Some(Err(e)) => return Err(format!("no first event: {}", shown(&e))),
            None => return Err("the subscription ended before its first event".to_owned()),
        }
    }
    let follow_up = Agent::request("tck-complete-task", Some(&waiting.id), None);
    call("the follow-up SendMessage", agent.send(follow_up).await)?;
    for (stream, events) in [&mut first, &mut second].into_iter().zip(&mut sequences) {
        events.extend(drain(stream).await?);
        check_lifecycle(events, TaskState::Completed)?;
    }
    ensure!(
        sequences[0] == sequences[1],
        "the two subscriptions saw different events:\n{:?}\n{:?}",
        sequences[0],
        sequences[1]
    );
    let ended = agent.subscribe(&waiting.id).await;
    refused(
        "subscribing to a completed task",
        ended,
        ErrorKind::UnsupportedOperation,
    )?;
    let unknown = agent.subscribe(&unique("no-such-task")).await;
    refused(
        "subscribing to an unknown task",
        unknown,
        ErrorKind::TaskNotFound,
    )
}

pub(crate) async fn push_configs(agent: &Agent) -> Checked {
    let task = agent.task("tck-complete-task", None).await?;
    // Never delivered: the task ended before the config existed.
    let hook = "http://127.0.0.1:9/harbor-interop-hook";
    let config = TaskPushNotificationConfig {
        id: "p1".into(),
        task_id: task.id.clone(),
        url: hook.into(),
        token: "tok-interop".into(),
        authentication: Some(AuthenticationInfo {
            scheme: "Bearer".into(),
            credentials: "cred-interop".into(),
        }),
        ..TaskPushNotificationConfig::default()
    };
    let (peer, ctx, t) = (&agent.peer, &agent.ctx, &agent.transport);
    let created = call(
        "create",
        t.create_task_push_notification_config(peer, ctx, config.clone())
            .await,
    )?;
    ensure!(
        (
            created.id.as_str(),
            created.task_id.as_str(),
            created.url.as_str()
        ) == ("p1", task.id.as_str(), hook),
        "created {:?}",
        (&created.id, &created.task_id, &created.url)
    );
    let one = || GetTaskPushNotificationConfigRequest {
        task_id: task.id.clone(),
        id: "p1".into(),
        ..GetTaskPushNotificationConfigRequest::default()
    };
    let got = call(
        "get",
        t.get_task_push_notification_config(peer, ctx, one()).await,
    )?;
    ensure!(
        got == created,
        "get returned another config than create returned"
    );
    let all = || ListTaskPushNotificationConfigsRequest {
        task_id: task.id.clone(),
        ..ListTaskPushNotificationConfigsRequest::default()
    };
    let listed = call(
        "list",
        t.list_task_push_notification_configs(peer, ctx, all())
            .await,
    )?;
    let ids: Vec<&str> = listed.configs.iter().map(|c| c.id.as_str()).collect();
    ensure!(ids == ["p1"], "list {ids:?}");
    let delete = || DeleteTaskPushNotificationConfigRequest {
        task_id: task.id.clone(),
        id: "p1".into(),
        ..DeleteTaskPushNotificationConfigRequest::default()
    };
    call(
        "delete",
        t.delete_task_push_notification_config(peer, ctx, delete())
            .await,
    )?;
    let left = call(
        "list after delete",
        t.list_task_push_notification_configs(peer, ctx, all())
            .await,
    )?;
    ensure!(
        left.configs.is_empty(),
        "{} config(s) left after delete",
        left.configs.len()
    );
    let gone = t.get_task_push_notification_config(peer, ctx, one()).await;
    refused("get after delete", gone, ErrorKind::TaskNotFound)?;
    // Delete is idempotent (§6.7).
    call(
        "a second delete",
        t.delete_task_push_notification_config(peer, ctx, delete())
            .await,
    )?;
    let orphan = TaskPushNotificationConfig {
        task_id: unique("no-such-task"),
        ..config
    };
    let created = t
        .create_task_push_notification_config(peer, ctx, orphan)
        .await;
    refused(
        "create for an unknown task",
        created,
        ErrorKind::TaskNotFound,
    )
}

pub(crate) async fn extended_card(agent: &Agent) -> Checked {
    let req = GetExtendedAgentCardRequest::default();
    let card = call(
        "GetExtendedAgentCard",
        agent
            .transport
            .get_extended_agent_card(&agent.peer, &agent.ctx, req)
            .await,
    )?;
    ensure!(
        card.skills.iter().any(|s| s.id == "extended"),
        "not the extended card: {:?}",
        card.name
    );
    Ok(())
}
