//! The transport's own duties: identity, routing, concurrency and close.

use std::collections::HashMap;

use harbor_a2a::{ErrorKind, ListTasksRequest, TaskState};
use harbor_distributed::{Error, Identity};

use super::calls::{
    Client, expect_protocol, fixture, fresh_identity, identity, send_req, user_message,
};
use super::declared;
use super::wait::{Reader, eventually, next_event, within};
use crate::transport::TransportFactory;
use crate::transport::model::{state_of, unique_id};

mod refusal;

pub use refusal::identity_required;

/// The identity of each call reaches the agent as sent (run included), call by call.
pub async fn identity_reaches_agent(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let agent = &fx.agent(0).agent;
    let tenant = unique_id("tenant");
    let first = identity(&tenant, "alice").with_run(unique_id("run"));
    let alice = Client::new(&fx, 0, first.clone());

    let message = user_message("tck-complete-task");
    let task = alice.send_task(send_req(message.clone())).await;
    alice.get_ok(&task.id).await;
    alice.list(ListTasksRequest::default()).await;
    expect_protocol(
        alice.cancel(&task.id).await,
        ErrorKind::TaskNotCancelable,
        "CancelTask of a completed task",
    );
    let second = identity(&tenant, "alice");
    alice.acting_as(second.clone()).get_ok(&task.id).await;
    let mut expected: Vec<(&str, &Identity)> = vec![
        ("SendMessage", &first),
        ("GetTask", &first),
        ("ListTasks", &first),
        ("CancelTask", &first),
        ("GetTask", &second),
    ];
    if factory.capabilities().streaming {
        let stream = alice
            .acting_as(second.clone())
            .stream(send_req(user_message("tck-stream-002")))
            .await;
        super::wait::all_of(stream, "tck-stream-002").await;
        expected.push(("SendStreamingMessage", &second));
    }

    let calls = agent.calls();
    let seen: Vec<(&str, &Identity)> = calls.iter().map(|c| (c.method, &c.identity)).collect();
    assert_eq!(
        seen, expected,
        "each call must reach the agent once, with its caller's identity"
    );
    assert_eq!(
        calls[0].message_id.as_deref(),
        Some(message.message_id.as_str()),
        "the message reached the agent"
    );
}

/// 128 sends at once, each from its own identity: every call arrives with the identity its
/// caller sent, and every task belongs to its caller only.
pub async fn concurrent_sends(factory: &dyn TransportFactory) {
    const CALLERS: usize = 128;
    let fx = fixture(factory, 1).await;
    let agent = &fx.agent(0).agent;
    let tenant = unique_id("tenant");
    let base = Client::new(&fx, 0, fresh_identity());

    let mut calls = Vec::with_capacity(CALLERS);
    for i in 0..CALLERS {
        let client = base.acting_as(identity(&tenant, &format!("user-{i}")));
        let message = user_message("tck-complete-task");
        let id = message.message_id.clone();
        calls.push(tokio::spawn(async move {
            let task = client.send_task(send_req(message)).await;
            (client, id, task)
        }));
    }
    let mut sent = HashMap::new();
    for call in calls {
        let (client, message_id, task) = within("a concurrent send", call)
            .await
            .unwrap_or_else(|e| panic!("a concurrent send panicked: {e}"));
        assert_eq!(
            state_of(&task),
            TaskState::Completed,
            "concurrent send {message_id}"
        );
        assert_eq!(
            task.history.first().map(|m| &m.message_id),
            Some(&message_id),
            "each task holds its own message"
        );
        sent.insert(message_id, (client, task.id));
    }

    let sends: Vec<_> = agent
        .calls()
        .into_iter()
        .filter(|c| c.method == "SendMessage")
        .collect();
    assert_eq!(
        sends.len(),
        CALLERS,
        "every send reached the agent exactly once"
    );
    let received: HashMap<String, Identity> = sends
        .into_iter()
        .filter_map(|c| Some((c.message_id?, c.identity)))
        .collect();
    for (message_id, (client, _)) in &sent {
        assert_eq!(
            received.get(message_id),
            Some(&client.ctx.identity),
            "message {message_id} arrived with another identity"
        );
    }
    // Each task is its caller's: visible to them, not to the next caller.
    let clients: Vec<_> = sent.values().collect();
    for (i, (client, task_id)) in clients.iter().enumerate().take(8) {
        client.get_ok(task_id).await;
        let (other, _) = clients[(i + 1) % clients.len()];
        expect_protocol(
            other.get(task_id, None).await,
            ErrorKind::TaskNotFound,
            "another caller's task",
        );
    }
}

/// Closing the transport while a subscription, a streaming send and a blocking call are
/// open ends them all within the deadline, leaves nothing running at the agent or in the
/// transport, is idempotent, and makes later calls fail with [`Error::Closed`].
pub async fn no_leak_after_close(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let agent = &fx.agent(0).agent;
    let alice = Client::new(&fx, 0, fresh_identity());
    let streaming = factory.capabilities().streaming;

    let waiting = alice.new_task("tck-input-required").await;
    let mut readers = Vec::new();
    if streaming {
        let mut subscription = alice.subscribe_ok(&waiting.id).await;
        next_event(&mut subscription, "subscription before close").await;
        let mut slow = alice
            .stream(send_req(user_message("test-resubscribe-message-id")))
            .await;
        next_event(&mut slow, "slow stream before close").await;
        readers.push(Reader::spawn(subscription));
        readers.push(Reader::spawn(slow));
    }
    let blocked = alice.clone();
    let in_flight = tokio::spawn(async move {
        blocked
            .send(send_req(user_message("test-resubscribe-message-id")))
            .await
    });
    let running = if streaming { 2 } else { 1 };
    eventually("agent work before close", running, || agent.active_work()).await;
    for (i, reader) in readers.iter().enumerate() {
        reader
            .parked(&format!("reader {i} waiting in its stream"))
            .await;
    }

    within("close", fx.transport.close())
        .await
        .unwrap_or_else(|e| panic!("close failed: {e}"));
    // Readers waiting inside their streams are woken and see them end; an error saying the
    // transport closed is an acceptable last word.
    for (i, reader) in readers.into_iter().enumerate() {
        let what = format!("open stream {i} after close");
        for item in reader.finished(&what).await {
            if let Err(e) = item {
                assert!(
                    matches!(e, Error::Closed),
                    "{what}: expected Closed, got {e:?}"
                );
            }
        }
    }
    match within("the blocking call after close", in_flight).await {
        Ok(Err(Error::Closed)) => {}
        other => panic!("a call in flight at close must fail with Closed, got {other:?}"),
    }
    eventually("agent streams after close", 0, || agent.open_streams()).await;
    eventually("agent work after close", 0, || agent.active_work()).await;
    if fx.open_streams().is_some() {
        eventually("transport streams after close", Some(0), || {
            fx.open_streams()
        })
        .await;
    }

    let calls_before = agent.calls().len();
    within("a second close", fx.transport.close())
        .await
        .unwrap_or_else(|e| panic!("close must be idempotent: {e}"));
    let closed = |what: &str, result: Result<(), Error>| match result {
        Err(Error::Closed) => {}
        other => panic!("{what} after close: expected Closed, got {other:?}"),
    };
    closed(
        "SendMessage",
        alice
            .send(send_req(user_message("tck-complete-task")))
            .await
            .map(drop),
    );
    closed("GetTask", alice.get(&waiting.id, None).await.map(drop));
    if streaming {
        closed(
            "SubscribeToTask",
            alice.subscribe(&waiting.id).await.map(drop),
        );
    }
    assert_eq!(
        agent.calls().len(),
        calls_before,
        "no call reaches the agent after close"
    );
}

/// Every call goes to the peer it names: two agents each see only their own calls, a task
/// lives on its own peer only, and a peer nobody serves is a transport error.
pub async fn routes_to_named_peer(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 2).await;
    let (agent0, agent1) = (&fx.agent(0).agent, &fx.agent(1).agent);
    let caller = fresh_identity();
    let to0 = Client::new(&fx, 0, caller.clone());
    let to1 = Client::new(&fx, 1, caller);

    let m0 = user_message("tck-complete-task");
    let m1 = user_message("tck-complete-task");
    let t0 = to0.send_task(send_req(m0.clone())).await;
    let t1 = to1.send_task(send_req(m1.clone())).await;
    let sends = |calls: Vec<crate::transport::RecordedCall>| -> Vec<String> {
        calls.into_iter().filter_map(|c| c.message_id).collect()
    };
    assert_eq!(
        sends(agent0.calls()),
        std::slice::from_ref(&m0.message_id),
        "agent 0 got exactly its own message"
    );
    assert_eq!(
        sends(agent1.calls()),
        std::slice::from_ref(&m1.message_id),
        "agent 1 got exactly its own message"
    );
    to0.get_ok(&t0.id).await;
    expect_protocol(
        to1.get(&t0.id, None).await,
        ErrorKind::TaskNotFound,
        "agent 0's task asked of agent 1",
    );
    expect_protocol(
        to0.get(&t1.id, None).await,
        ErrorKind::TaskNotFound,
        "agent 1's task asked of agent 0",
    );
    if declared(
        factory,
        "routes_to_named_peer (streams)",
        "streaming",
        |c| c.streaming,
    ) {
        let m = user_message("tck-stream-002");
        super::wait::all_of(to1.stream(send_req(m.clone())).await, "stream to agent 1").await;
        assert!(
            sends(agent1.calls()).contains(&m.message_id),
            "the stream went to agent 1"
        );
        assert!(
            !sends(agent0.calls()).contains(&m.message_id),
            "the stream did not go to agent 0"
        );
    }

    let (before0, before1) = (agent0.calls().len(), agent1.calls().len());
    let nowhere = Client {
        peer: factory.unreachable_peer(),
        ..to0.clone()
    };
    match nowhere
        .send(send_req(user_message("tck-complete-task")))
        .await
    {
        Err(Error::UnknownPeer { .. } | Error::Backend { .. } | Error::Timeout(_)) => {}
        other => panic!("a call to a peer nobody serves must fail in the transport, got {other:?}"),
    }
    assert_eq!(
        (agent0.calls().len(), agent1.calls().len()),
        (before0, before1),
        "no agent saw the misrouted call"
    );
}
