//! One scripted scenario (sends, a stream, list pages, cancel, subscribe, push CRUD and
//! each error the client can provoke) run over JSON-RPC, HTTP+JSON and gRPC against the
//! real server and its default handler: the same tasks, events and errors must come back
//! from all three.
//!
//! Each binding gets a fresh server, so ids and timestamps differ between runs; they are
//! replaced by placeholders in order of first appearance before the transcripts are
//! compared.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use harbor_a2a::{
    A2aError, AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTasksRequest, Message, Part,
    SendMessageConfiguration, SendMessageRequest, SubscribeToTaskRequest,
    TaskPushNotificationConfig, TaskState,
};
use harbor_client::{A2aTransport, Binding};
use harbor_distributed::{CallContext, Error, EventStream, Peer, RemoteTransport};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_test_support::cards;
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(10);

fn card() -> AgentCard {
    cards::card(
        "equivalence",
        "the same scenario on three bindings",
        cards::NOWHERE,
        cards::streaming_push(),
    )
}

fn send(message_id: &str) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message::user(message_id, [Part::text("hi")])),
        ..SendMessageRequest::default()
    }
}

/// A call's outcome as JSON: the reply, or the error's kind, message and metadata.
fn outcome<T: serde::Serialize>(result: Result<T, Error>) -> Value {
    match result {
        Ok(reply) => harbor_a2a::to_json(&reply).unwrap_or_else(|e| panic!("{e}")),
        Err(Error::Protocol(error)) => protocol(&error),
        Err(other) => json!({"transport_error": other.to_string()}),
    }
}

fn protocol(error: &A2aError) -> Value {
    json!({"error": error.reason(), "message": error.message(), "metadata": error.metadata()})
}

async fn drain(stream: Result<EventStream, Error>) -> Value {
    let stream = match stream {
        Ok(stream) => stream,
        Err(error) => return outcome::<()>(Err(error)),
    };
    let events: Vec<Value> = tokio::time::timeout(DEADLINE, stream.collect::<Vec<_>>())
        .await
        .unwrap_or_else(|_| panic!("the stream did not end in time"))
        .into_iter()
        .map(outcome)
        .collect();
    Value::Array(events)
}

fn task_id(reply: &Value) -> String {
    reply["task"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {reply}"))
        .to_owned()
}

/// The scenario on one binding: a transcript of named steps.
/// Returns once the wall clock has moved past the millisecond it was in when called.
async fn next_millisecond() {
    let millis = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    };
    let start = millis();
    let until = tokio::time::Instant::now() + DEADLINE;
    while millis() <= start {
        assert!(tokio::time::Instant::now() < until, "the clock stood still");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn scenario(binding: Binding) -> Vec<(&'static str, Value)> {
    let agent = ConformanceAgent {
        resubscribe_delay: Duration::from_millis(1500),
    };
    let handler = DefaultHandler::builder(card(), Arc::new(agent))
        .build()
        .unwrap_or_else(|e| panic!("handler: {e}"));
    let server = support::host(Arc::new(handler)).await;
    let t: A2aTransport = support::transport(binding, |_| {});
    let chosen = t
        .agent_card(&Peer::new(&server.url))
        .await
        .unwrap_or_else(|e| panic!("card: {e}"));
    assert_eq!(chosen.endpoint().binding, binding);
    let (p, c): (&Peer, &CallContext) = (&Peer::new(&server.url), &support::ctx());
    let mut log = Vec::new();

    // Status timestamps have millisecond precision and ListTasks orders by them (ties by
    // random id): each listed task's last status must fall in a millisecond of its own.
    let done = outcome(t.send_message(p, c, send("tck-complete-task-1")).await);
    let done_id = task_id(&done);
    log.push(("send completes", done));
    next_millisecond().await;
    let direct = t.send_message(p, c, send("tck-message-response-1")).await;
    log.push(("send answers a message", outcome(direct)));
    let waiting = outcome(t.send_message(p, c, send("tck-input-required-1")).await);
    let waiting_id = task_id(&waiting);
    log.push(("send waits for input", waiting));
    next_millisecond().await;
    let stream = t.send_streaming_message(p, c, send("tck-stream-001")).await;
    log.push(("stream", drain(stream).await));

    let first = ListTasksRequest {
        page_size: Some(2),
        ..ListTasksRequest::default()
    };
    let page = outcome(t.list_tasks(p, c, first.clone()).await);
    let token = page["nextPageToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty(), "a second page: {page}");
    log.push(("list page 1", page));
    let next = ListTasksRequest {
        page_token: token,
        ..first
    };
    log.push(("list page 2", outcome(t.list_tasks(p, c, next).await)));

    let cancel = |id: &str| CancelTaskRequest {
        id: id.to_owned(),
        ..CancelTaskRequest::default()
    };
    log.push((
        "cancel",
        outcome(t.cancel_task(p, c, cancel(&waiting_id)).await),
    ));

    // Subscribe to a running task once it is WORKING, so every binding sees the same start.
    let mut slow = send("test-resubscribe-message-id-1");
    slow.configuration = Some(SendMessageConfiguration {
        return_immediately: true,
        ..SendMessageConfiguration::default()
    });
    let slow_id = task_id(&outcome(t.send_message(p, c, slow).await));
    let get = |id: &str| GetTaskRequest {
        id: id.to_owned(),
        ..GetTaskRequest::default()
    };
    let until = tokio::time::Instant::now() + DEADLINE;
    while t
        .get_task(p, c, get(&slow_id))
        .await
        .map(|t| t.state())
        .ok()
        != Some(TaskState::Working)
    {
        assert!(tokio::time::Instant::now() < until, "the task never worked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let subscribe = |id: &str| SubscribeToTaskRequest {
        id: id.to_owned(),
        ..SubscribeToTaskRequest::default()
    };
    let events = t.subscribe_to_task(p, c, subscribe(&slow_id)).await;
    log.push(("subscribe", drain(events).await));
    log.push((
        "get after subscribe",
        outcome(t.get_task(p, c, get(&slow_id)).await),
    ));

    let hook = TaskPushNotificationConfig {
        task_id: done_id.clone(),
        id: "hook-1".into(),
        url: "https://example.com/hook".into(),
        token: "tok".into(),
        ..TaskPushNotificationConfig::default()
    };
    let created = t.create_task_push_notification_config(p, c, hook).await;
    log.push(("push create", outcome(created)));
    let which = GetTaskPushNotificationConfigRequest {
        task_id: done_id.clone(),
        id: "hook-1".into(),
        ..GetTaskPushNotificationConfigRequest::default()
    };
    let read = t
        .get_task_push_notification_config(p, c, which.clone())
        .await;
    log.push(("push get", outcome(read)));
    let all = ListTaskPushNotificationConfigsRequest {
        task_id: done_id.clone(),
        ..ListTaskPushNotificationConfigsRequest::default()
    };
    let listed = t.list_task_push_notification_configs(p, c, all).await;
    log.push(("push list", outcome(listed)));
    let delete = DeleteTaskPushNotificationConfigRequest {
        task_id: done_id.clone(),
        id: "hook-1".into(),
        ..DeleteTaskPushNotificationConfigRequest::default()
    };
    let deleted = t.delete_task_push_notification_config(p, c, delete).await;
    log.push(("push delete", outcome(deleted)));
    let gone = t.get_task_push_notification_config(p, c, which).await;
    log.push(("error: push get after delete", outcome(gone)));

    let missing = "tck-nonexistent-1";
    log.push((
        "error: get missing",
        outcome(t.get_task(p, c, get(missing)).await),
    ));
    log.push((
        "error: cancel missing",
        outcome(t.cancel_task(p, c, cancel(missing)).await),
    ));
    log.push((
        "error: cancel terminal",
        outcome(t.cancel_task(p, c, cancel(&done_id)).await),
    ));
    let late = t.subscribe_to_task(p, c, subscribe(&done_id)).await;
    log.push(("error: subscribe terminal", drain(late).await));
    let gone = t.subscribe_to_task(p, c, subscribe(missing)).await;
    log.push(("error: subscribe missing", drain(gone).await));
    let mut follow_up = send("m-late");
    if let Some(message) = follow_up.message.as_mut() {
        message.task_id.clone_from(&done_id);
    }
    let refused = t.send_message(p, c, follow_up).await;
    log.push(("error: send to terminal", outcome(refused)));
    let empty = t.send_message(p, c, SendMessageRequest::default()).await;
    log.push(("error: send without message", outcome(empty)));
    let card = GetExtendedAgentCardRequest::default();
    let card = t.get_extended_agent_card(p, c, card).await;
    log.push(("error: extended card", outcome(card)));
    let no_task = TaskPushNotificationConfig {
        task_id: missing.into(),
        url: "https://example.com/hook".into(),
        ..TaskPushNotificationConfig::default()
    };
    let no_task = t.create_task_push_notification_config(p, c, no_task).await;
    log.push(("error: push create missing task", outcome(no_task)));
    t.close().await.unwrap_or_else(|e| panic!("close: {e}"));
    log
}

/// Replaces ids (by first appearance, inside other strings too), timestamps, page tokens
/// and tenants with placeholders.
fn normalize(log: Vec<(&'static str, Value)>) -> Vec<(&'static str, Value)> {
    const ID_KEYS: [&str; 5] = ["id", "taskId", "contextId", "messageId", "artifactId"];
    fn collect(value: &Value, ids: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match v.as_str() {
                        Some(s)
                            if ID_KEYS.contains(&key.as_str()) && !ids.iter().any(|i| i == s) =>
                        {
                            ids.push(s.to_owned());
                        }
                        _ => collect(v, ids),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, ids)),
            _ => {}
        }
    }
    fn rewrite(value: &mut Value, key: &str, ids: &HashMap<String, String>) {
        match value {
            Value::Object(map) => map.iter_mut().for_each(|(k, v)| rewrite(v, k, ids)),
            Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, key, ids)),
            Value::String(s) => {
                if key == "timestamp" {
                    *s = "<timestamp>".into();
                } else if key == "tenant" && !s.is_empty() {
                    *s = "<tenant>".into();
                } else if key == "nextPageToken" && !s.is_empty() {
                    *s = "<token>".into();
                } else {
                    // Longest ids first, so that no id is replaced inside another.
                    let mut known: Vec<_> = ids.iter().collect();
                    known.sort_by_key(|(raw, _)| std::cmp::Reverse(raw.len()));
                    for (raw, placeholder) in known {
                        if s.contains(raw.as_str()) {
                            *s = s.replace(raw.as_str(), placeholder);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut order = Vec::new();
    log.iter().for_each(|(_, v)| collect(v, &mut order));
    let ids: HashMap<String, String> = order
        .into_iter()
        .enumerate()
        .map(|(n, raw)| (raw, format!("<id-{n}>")))
        .collect();
    log.into_iter()
        .map(|(step, mut value)| {
            rewrite(&mut value, "", &ids);
            (step, value)
        })
        .collect()
}

#[tokio::test]
async fn the_three_bindings_return_the_same_tasks_events_and_errors() {
    let jsonrpc = normalize(scenario(Binding::JsonRpc).await);
    let rest = normalize(scenario(Binding::HttpJson).await);
    let grpc = normalize(scenario(Binding::Grpc).await);
    for (name, other) in [("HTTP+JSON", &rest), ("gRPC", &grpc)] {
        assert_eq!(jsonrpc.len(), other.len());
        for ((step, a), (_, b)) in jsonrpc.iter().zip(other.iter()) {
            assert_eq!(
                a,
                b,
                "step {step:?}: JSON-RPC and {name} differ\nJSON-RPC: {}\n{name}: {}",
                serde_json::to_string_pretty(a).unwrap_or_default(),
                serde_json::to_string_pretty(b).unwrap_or_default()
            );
        }
    }
    // The scenario did reach every error it names.
    for (step, value) in &grpc {
        if step.starts_with("error:") {
            let is_error = value.get("error").is_some()
                || value
                    .as_array()
                    .is_some_and(|events| events.last().is_some_and(|e| e.get("error").is_some()));
            assert!(is_error, "step {step:?} did not fail: {value}");
        }
    }
}
