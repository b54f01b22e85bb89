//! SendStreamingMessage: SSE framing, event order, chunked artifacts, direct replies.

use serde_json::{Value, json};

use super::support::{message, request};
use crate::server::checks::{event_state, is_terminal, payload_kind, state_rank, str_at, text_of};
use crate::server::{At, Binding, CaseFailure, ServerTarget};

/// Checks a task stream: the first event is a `task`, every update names that task and its
/// context, states never go backwards, and the last event carries a terminal state.
pub(crate) fn check_task_stream(at: &At, events: &[Value]) -> Result<(), CaseFailure> {
    let first = events
        .first()
        .ok_or_else(|| at.fail("the stream closed without any event"))?;
    at.ensure(first.get("task").is_some(), || {
        format!("the first event must be a task: {first}")
    })?;
    let task_id = str_at(first, "/task/id");
    let context_id = str_at(first, "/task/contextId");
    let mut rank = 0;
    for event in events {
        let kind = payload_kind(event).map_err(|e| at.fail(e))?;
        if kind == "statusUpdate" || kind == "artifactUpdate" {
            at.eq(
                "taskId of an update",
                str_at(&event[kind], "/taskId"),
                task_id,
            )?;
            at.eq(
                "contextId of an update",
                str_at(&event[kind], "/contextId"),
                context_id,
            )?;
        }
        if let Some(state) = event_state(event) {
            let next = state_rank(state)
                .ok_or_else(|| at.fail(format!("unknown state {state:?} in {event}")))?;
            at.ensure(next >= rank, || {
                format!("the state went backwards to {state} in {event}")
            })?;
            rank = next;
        }
    }
    let last = events.last().unwrap_or(first);
    let state = event_state(last).unwrap_or_default();
    at.ensure(is_terminal(state), || {
        format!("the last event must carry a terminal state; it is {last}")
    })
}

/// `tck-stream-001` streams as `text/event-stream`, each event on one `data:` line (on
/// JSON-RPC a response with the request's id): the task first, WORKING, the artifact
/// "Stream hello from TCK", COMPLETED last; then the server closes the stream.
pub async fn stream_lifecycle(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let reply = rpc
        .stream_message(request(message("tck-stream-001")))
        .await?;
    let at = reply.at.clone();
    let events = reply.ok()?.collect().await?;
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
    )?;
    at.eq(
        "final state",
        event_state(&events[events.len() - 1]).unwrap_or_default(),
        "TASK_STATE_COMPLETED",
    )
}

/// `tck-stream-artifact-chunked` streams two chunks of one artifact (`append`, the second
/// with `lastChunk`), and the stored task holds both parts.
pub async fn stream_chunked_artifact(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let reply = rpc
        .stream_message(request(message("tck-stream-artifact-chunked")))
        .await?;
    let at = reply.at.clone();
    let events = reply.ok()?.collect().await?;
    check_task_stream(&at, &events)?;
    let chunks: Vec<&Value> = events
        .iter()
        .filter_map(|e| e.get("artifactUpdate"))
        .collect();
    at.eq("number of artifact chunks", &chunks.len(), &2)?;
    let id = str_at(chunks[0], "/artifact/artifactId");
    at.eq(
        "artifactId of the second chunk",
        str_at(chunks[1], "/artifact/artifactId"),
        id,
    )?;
    at.eq(
        "text of the first chunk",
        text_of(&chunks[0]["artifact"]).as_str(),
        "chunk-1 ",
    )?;
    at.eq(
        "text of the second chunk",
        text_of(&chunks[1]["artifact"]).as_str(),
        "chunk-2",
    )?;
    at.ensure(chunks[1].get("lastChunk") == Some(&json!(true)), || {
        format!("the second chunk must set lastChunk: {}", chunks[1])
    })?;
    at.ensure(
        chunks[0]
            .get("lastChunk")
            .is_none_or(|v| v == &json!(false)),
        || format!("the first chunk must not set lastChunk: {}", chunks[0]),
    )?;
    at.ensure(chunks[1].get("append") == Some(&json!(true)), || {
        format!("the second chunk must set append: {}", chunks[1])
    })?;

    let task_id = str_at(&events[0], "/task/id");
    let task = rpc.get_task(task_id, json!({})).await?.ok()?;
    let at = rpc.at("GetTask");
    let artifact = task
        .get("artifacts")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|a| str_at(a, "/artifactId") == id))
        .ok_or_else(|| at.fail(format!("the stored task lacks artifact {id}: {task}")))?;
    at.eq(
        "text of the assembled artifact",
        text_of(artifact).as_str(),
        "chunk-1 chunk-2",
    )
}

/// A streamed `tck-message-response` is exactly one `message` event, then the end.
pub async fn stream_direct_message(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let reply = rpc
        .stream_message(request(message("tck-message-response")))
        .await?;
    let at = reply.at.clone();
    let events = reply.ok()?.collect().await?;
    at.eq("number of events", &events.len(), &1)?;
    at.ensure(events[0].get("message").is_some(), || {
        format!("the one event must be a message: {}", events[0])
    })?;
    at.eq(
        "message text",
        text_of(&events[0]["message"]).as_str(),
        "Direct message response",
    )
}
