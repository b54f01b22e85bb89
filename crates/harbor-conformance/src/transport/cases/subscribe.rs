//! SubscribeToTask: updates from other calls, identical subscribers, and closing early.

use harbor_a2a::stream_response::Payload;
use harbor_a2a::{ErrorKind, TaskState};

use super::calls::{Client, expect_protocol, fixture, fresh_identity, identity};
use super::declared;
use super::events::{End, artifact_texts, check_lifecycle, state_in};
use super::wait::{eventually, next_event, rest_of};
use crate::transport::TransportFactory;
use crate::transport::model::{state_of, unique_id};

/// Two subscribers of an input-required task each get the task first, stay open while it
/// asks for input again, see the artifact and status updates another call causes, end after
/// the terminal event, and see identical sequences. Subscribing to a finished, unknown or
/// foreign task is refused before any stream opens.
pub async fn subscribe_updates(factory: &dyn TransportFactory) {
    if !declared(factory, "subscribe_updates", "streaming", |c| c.streaming) {
        return;
    }
    let fx = fixture(factory, 1).await;
    let tenant = unique_id("tenant");
    let alice = Client::new(&fx, 0, identity(&tenant, "alice"));
    let task = alice.new_task("tck-input-required").await;
    assert_eq!(
        state_of(&task),
        TaskState::InputRequired,
        "tck-input-required state"
    );

    let mut first = alice.subscribe_ok(&task.id).await;
    let mut second = alice
        .acting_as(identity(&tenant, "alice"))
        .subscribe_ok(&task.id)
        .await;
    let head1 = next_event(&mut first, "first subscriber, first event").await;
    let head2 = next_event(&mut second, "second subscriber, first event").await;
    for head in [&head1, &head2] {
        match &head.payload {
            Some(Payload::Task(t)) => {
                assert_eq!(t.id, task.id, "the first event is the subscribed task");
                assert_eq!(
                    state_of(t),
                    TaskState::InputRequired,
                    "the first event shows the current state"
                );
            }
            other => panic!("the first event of a subscription must be the task, got {other:?}"),
        }
    }

    // From other calls: ask for input again (the subscriptions must stay open), then finish.
    let again = alice.continue_task(&task.id, "tck-input-required").await;
    assert_eq!(
        state_of(&again),
        TaskState::InputRequired,
        "the follow-up asks for input again"
    );
    let done = alice.continue_task(&task.id, "tck-artifact-text").await;
    assert_eq!(
        state_of(&done),
        TaskState::Completed,
        "the last follow-up completes the task"
    );

    let mut events1 = vec![head1];
    events1.extend(rest_of(&mut first, "first subscriber").await);
    let mut events2 = vec![head2];
    events2.extend(rest_of(&mut second, "second subscriber").await);
    let states = check_lifecycle(&events1, "first subscriber", End::Terminal);
    assert_eq!(
        states,
        [
            TaskState::InputRequired,
            TaskState::Working,
            TaskState::InputRequired,
            TaskState::Working,
            TaskState::Completed
        ],
        "the subscription sees every state change, through INPUT_REQUIRED to the end"
    );
    let texts = artifact_texts(&events1);
    assert_eq!(
        texts.values().cloned().collect::<Vec<_>>(),
        ["Generated text content"],
        "artifact updates"
    );
    assert_eq!(
        events1, events2,
        "two subscribers must see identical events"
    );

    expect_protocol(
        alice.subscribe(&task.id).await.map(drop),
        ErrorKind::UnsupportedOperation,
        "SubscribeToTask of a completed task",
    );
    expect_protocol(
        alice.subscribe(&unique_id("no-such-task")).await.map(drop),
        ErrorKind::TaskNotFound,
        "SubscribeToTask of an unknown id",
    );
    let waiting = alice.new_task("tck-input-required").await;
    let bob = alice.acting_as(identity(&tenant, "bob"));
    expect_protocol(
        bob.subscribe(&waiting.id).await.map(drop),
        ErrorKind::TaskNotFound,
        "SubscribeToTask of another user's task",
    );
}

/// Dropping one subscription ends it everywhere and leaves the task and the other
/// subscribers untouched.
pub async fn subscribe_close(factory: &dyn TransportFactory) {
    if !declared(factory, "subscribe_close", "streaming", |c| c.streaming) {
        return;
    }
    let fx = fixture(factory, 1).await;
    let agent = &fx.agent(0).agent;
    let alice = Client::new(&fx, 0, fresh_identity());
    let task = alice.new_task("tck-input-required").await;

    let mut dropped = alice.subscribe_ok(&task.id).await;
    let mut kept = alice.subscribe_ok(&task.id).await;
    next_event(&mut dropped, "subscription to drop, first event").await;
    next_event(&mut kept, "subscription to keep, first event").await;
    eventually("agent streams with two subscribers", 2, || {
        agent.open_streams()
    })
    .await;

    drop(dropped);
    eventually("agent streams after one subscriber left", 1, || {
        agent.open_streams()
    })
    .await;
    if fx.open_streams().is_some() {
        eventually(
            "transport streams after one subscriber left",
            Some(1),
            || fx.open_streams(),
        )
        .await;
    }
    let still = alice.get_ok(&task.id).await;
    assert_eq!(
        state_of(&still),
        TaskState::InputRequired,
        "a subscriber leaving does not touch the task"
    );

    alice.continue_task(&task.id, "tck-complete-task").await;
    let rest = rest_of(&mut kept, "the kept subscription").await;
    let last = rest.last().and_then(state_in);
    assert_eq!(
        last,
        Some(TaskState::Completed),
        "the kept subscription sees the end: {rest:?}"
    );
    drop(kept);
    eventually("agent streams at the end", 0, || agent.open_streams()).await;
    eventually("agent work at the end", 0, || agent.active_work()).await;
    if fx.open_streams().is_some() {
        eventually("transport streams at the end", Some(0), || {
            fx.open_streams()
        })
        .await;
    }
}
