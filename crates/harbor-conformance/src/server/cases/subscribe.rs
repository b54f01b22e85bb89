//! SubscribeToTask: concurrent subscribers, terminal and unknown tasks, REST verbs.

use harbor_a2a::ErrorKind;
use serde_json::Value;

use super::stream::check_task_stream;
use super::support::{follow_up, id_of, new_task_in_state, task_of, unique};
use crate::server::checks::{event_state, state_of, str_at};
use crate::server::rpc::{Reply, RestBody, check_error};
use crate::server::sse::{EventStream, StreamItem};
use crate::server::{Binding, CaseFailure, ServerTarget};

/// The first event of a subscription: the task, in `state`.
async fn first_task(stream: &mut EventStream, id: &str, state: &str) -> Result<Value, CaseFailure> {
    let at = stream.at().clone();
    let first = stream.expect_event().await?;
    at.ensure(first.get("task").is_some(), || {
        format!("the first event of a subscription must be the task: {first}")
    })?;
    at.eq("task id of the first event", str_at(&first, "/task/id"), id)?;
    at.eq("state of the first event", state_of(&first["task"]), state)?;
    Ok(first)
}

/// Two subscribers of an input-required task each get the task first; a follow-up that
/// keeps it input-required does not end the subscriptions; after a follow-up on another
/// connection completes it, both see identical event sequences that end in a terminal
/// state, and both streams close.
pub async fn subscribe_two_subscribers(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let task = new_task_in_state(
        &rpc,
        "tck-input-required",
        "TASK_STATE_INPUT_REQUIRED",
        None,
    )
    .await?;
    let id = id_of(&task);
    let mut one = rpc.subscribe(&id).await?.ok()?;
    let mut two = rpc.subscribe(&id).await?.ok()?;
    let at = one.at().clone();
    let first_one = first_task(&mut one, &id, "TASK_STATE_INPUT_REQUIRED").await?;
    let first_two = first_task(&mut two, &id, "TASK_STATE_INPUT_REQUIRED").await?;

    let reply = follow_up(&rpc, &id, "tck-input-required").await?;
    let follow_at = reply.at.clone();
    let waiting = task_of(&follow_at, reply.ok()?)?;
    follow_at.eq(
        "state after an input-required follow-up",
        state_of(&waiting),
        "TASK_STATE_INPUT_REQUIRED",
    )?;
    let reply = follow_up(&rpc, &id, "tck-complete-task").await?;
    let follow_at = reply.at.clone();
    let done = task_of(&follow_at, reply.ok()?)?;
    follow_at.eq(
        "state after the follow-up",
        state_of(&done),
        "TASK_STATE_COMPLETED",
    )?;

    let (rest_one, rest_two) = tokio::join!(one.collect(), two.collect());
    let events_one: Vec<Value> = std::iter::once(first_one).chain(rest_one?).collect();
    let events_two: Vec<Value> = std::iter::once(first_two).chain(rest_two?).collect();
    check_task_stream(&at, &events_one)?;
    at.ensure(events_one == events_two, || {
        format!("two subscribers must receive identical events;\nfirst:  {events_one:?}\nsecond: {events_two:?}")
    })?;
    at.eq(
        "final state",
        event_state(&events_one[events_one.len() - 1]).unwrap_or_default(),
        "TASK_STATE_COMPLETED",
    )
}

/// A refusal that must come before any stream starts.
fn refused_before_stream(
    reply: Reply<EventStream>,
) -> Result<crate::server::rpc::WireError, CaseFailure> {
    let at = reply.at.clone();
    match reply.result {
        Ok(_) => Err(at.fail("answered text/event-stream; the call must be refused with a plain JSON error before any stream starts")),
        Err(error) => Ok(error),
    }
}

/// Subscribing to a COMPLETED task is refused before any stream starts, as a plain JSON
/// error: UnsupportedOperation (-32004 / 400).
pub async fn subscribe_terminal_rejected(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let task = new_task_in_state(&rpc, "tck-complete-task", "TASK_STATE_COMPLETED", None).await?;
    let reply = rpc.subscribe(&id_of(&task)).await?;
    let at = reply.at.clone();
    let error = refused_before_stream(reply)?;
    check_error(&at, &error, ErrorKind::UnsupportedOperation)
}

/// Subscribing to an unknown task is TaskNotFound: on HTTP+JSON a 404 before any stream;
/// on JSON-RPC -32001, as a plain error or as the first stream event.
pub async fn subscribe_unknown(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(binding)?;
    let reply = rpc.subscribe(&unique("tck-nonexistent")).await?;
    let at = reply.at.clone();
    let error = match (binding, reply.result) {
        (_, Err(error)) => error,
        (Binding::HttpJson | Binding::Grpc, Ok(_)) => {
            return Err(at.fail(
                "answered text/event-stream; an unknown task must be a 404 before any stream",
            ));
        }
        (Binding::JsonRpc, Ok(mut stream)) => match stream.next_item().await? {
            Some(StreamItem::Error(error)) => error,
            other => {
                return Err(at.fail(format!(
                    "the first event must be the TaskNotFound error, got {other:?}"
                )));
            }
        },
    };
    check_error(&at, &error, ErrorKind::TaskNotFound)
}

/// REST serves `:subscribe` with GET and with POST (empty `application/json` body); both
/// streams start with the task and end with CANCELED when the task is canceled.
pub async fn rest_subscribe_verbs(target: &ServerTarget) -> Result<(), CaseFailure> {
    let rpc = target.streaming_rpc(Binding::HttpJson)?;
    let task = new_task_in_state(
        &rpc,
        "tck-input-required",
        "TASK_STATE_INPUT_REQUIRED",
        None,
    )
    .await?;
    let id = id_of(&task);
    let path = format!("/tasks/{id}:subscribe");
    let mut get = rpc
        .rest_stream(
            "SubscribeToTask (GET)",
            reqwest::Method::GET,
            &path,
            RestBody::None,
        )
        .await?
        .ok()?;
    let mut post = rpc
        .rest_stream(
            "SubscribeToTask (POST)",
            reqwest::Method::POST,
            &path,
            RestBody::EmptyJson,
        )
        .await?
        .ok()?;
    let first_get = first_task(&mut get, &id, "TASK_STATE_INPUT_REQUIRED").await?;
    let first_post = first_task(&mut post, &id, "TASK_STATE_INPUT_REQUIRED").await?;
    rpc.cancel_task(&id).await?.ok()?;
    for (mut stream, first) in [(get, first_get), (post, first_post)] {
        let at = stream.at().clone();
        let mut events = vec![first];
        while let Some(event) = stream.next_event().await? {
            events.push(event);
        }
        check_task_stream(&at, &events)?;
        at.eq(
            "final state",
            event_state(&events[events.len() - 1]).unwrap_or_default(),
            "TASK_STATE_CANCELED",
        )?;
    }
    Ok(())
}
