//! Numbered SSE events and resuming with `Last-Event-ID`.
//!
//! The specification lets a server number its SSE events but does not require it. A server
//! that numbers them with the task log's sequence (as Harbor does) must keep the numbers
//! strictly increasing, and must answer a `SubscribeToTask` carrying `Last-Event-ID: n`
//! with exactly the events after `n`. A server that sends no `id:` skips these cases.

use serde_json::Value;

use super::stream::check_task_stream;
use super::support::{follow_up, message, request};
use crate::server::checks::{event_state, str_at};
use crate::server::{At, Binding, CaseFailure, ServerTarget};

/// The events' ids as sequence numbers; a skip when the server numbers nothing, a failure
/// when it numbers some events and not others.
fn sequences(at: &At, events: &[(Value, Option<String>)]) -> Result<Vec<u64>, CaseFailure> {
    if events.iter().all(|(_, id)| id.is_none()) {
        return Err(CaseFailure::skipped(
            "the server does not number its SSE events (no id: lines)",
        ));
    }
    let mut numbers = Vec::with_capacity(events.len());
    for (event, id) in events {
        let id = id.as_deref().ok_or_else(|| {
            at.fail(format!(
                "an event without an id: among numbered ones: {event}"
            ))
        })?;
        let Ok(number) = id.parse::<u64>() else {
            return Err(CaseFailure::skipped(format!(
                "the server's event ids are not sequence numbers ({id:?})"
            )));
        };
        numbers.push(number);
    }
    Ok(numbers)
}

/// A streamed task's events (`tck-stream-artifact-chunked`: the task, WORKING, two chunks,
/// COMPLETED) each carry an `id:`, and the ids increase strictly.
pub async fn stream_event_ids_increase(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let reply = rpc
        .stream_message(request(message("tck-stream-artifact-chunked")))
        .await?;
    let at = reply.at.clone();
    let events = reply.ok()?.collect_with_ids().await?;
    let numbers = sequences(&at, &events)?;
    at.ensure(numbers.windows(2).all(|w| w[0] < w[1]), || {
        format!("event ids must increase strictly; they were {numbers:?}")
    })
}

/// After a streamed task ended, `SubscribeToTask` with `Last-Event-ID` set to its second
/// event's id answers with exactly the events after it (the same JSON, the same ids), then
/// closes.
pub async fn subscribe_resumes_after_last_event_id(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let reply = rpc
        .stream_message(request(message("tck-stream-artifact-chunked")))
        .await?;
    let at = reply.at.clone();
    let events = reply.ok()?.collect_with_ids().await?;
    sequences(&at, &events)?;
    let plain: Vec<Value> = events.iter().map(|(e, _)| e.clone()).collect();
    check_task_stream(&at, &plain)?;
    let task_id = str_at(&plain[0], "/task/id").to_owned();
    let last_seen = events[1].1.clone().unwrap_or_default();
    let resumed = rpc
        .clone()
        .with_last_event_id(&last_seen)
        .subscribe(&task_id)
        .await?;
    let resumed_at = resumed.at.clone();
    let replayed = resumed.ok()?.collect_with_ids().await?;
    resumed_at.ensure(replayed == events[2..], || {
        format!(
            "resuming after id {last_seen} must replay exactly the later events;\nwant: {:?}\ngot:  {replayed:?}",
            &events[2..]
        )
    })
}

/// `SubscribeToTask` with `Last-Event-ID` set to the last event of an input-required
/// task's stream replays nothing, then follows the task live: a follow-up on another
/// connection completes it, and the resumed stream carries that (with larger ids) and
/// closes.
pub async fn subscribe_resume_follows_live(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let reply = rpc
        .stream_message(request(message("tck-input-required")))
        .await?;
    let at = reply.at.clone();
    let events = reply.ok()?.collect_with_ids().await?;
    let numbers = sequences(&at, &events)?;
    let last = events
        .last()
        .ok_or_else(|| at.fail("the stream closed without any event"))?;
    at.eq(
        "state at the end of the send stream",
        event_state(&last.0).unwrap_or_default(),
        "TASK_STATE_INPUT_REQUIRED",
    )?;
    let task_id = str_at(&events[0].0, "/task/id").to_owned();
    let last_seen = numbers.last().copied().unwrap_or_default();
    let resumed = rpc
        .clone()
        .with_last_event_id(&last_seen.to_string())
        .subscribe(&task_id)
        .await?;
    let resumed_at = resumed.at.clone();
    let stream = resumed.ok()?;
    let reply = follow_up(&rpc, &task_id, "tck-complete-task").await?;
    reply.ok()?;
    let later = stream.collect_with_ids().await?;
    let later_numbers = sequences(&resumed_at, &later)?;
    resumed_at.ensure(later_numbers.iter().all(|n| *n > last_seen), || {
        format!("a stream resumed after id {last_seen} sent ids {later_numbers:?}")
    })?;
    let end = later
        .last()
        .ok_or_else(|| resumed_at.fail("the resumed stream closed without any event"))?;
    resumed_at.eq(
        "final state of the resumed stream",
        event_state(&end.0).unwrap_or_default(),
        "TASK_STATE_COMPLETED",
    )
}
