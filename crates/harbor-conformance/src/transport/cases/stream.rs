//! SendStreamingMessage: event order, stream ends, and closing a stream early.

use harbor_a2a::TaskState;
use harbor_a2a::stream_response::Payload;

use super::calls::{Client, fixture, fresh_identity, send_req, user_message};
use super::declared;
use super::events::{End, artifact_texts, check_lifecycle};
use super::wait::{all_of, eventually, next_event};
use crate::transport::TransportFactory;
use crate::transport::model::{state_of, text_of};

/// A streaming send yields the task first, then updates whose states never go backwards,
/// and ends right after the terminal event; chunked artifacts append; a direct reply streams
/// exactly one message.
pub async fn stream_ordered_terminal(factory: &dyn TransportFactory) {
    if !declared(factory, "stream_ordered_terminal", "streaming", |c| {
        c.streaming
    }) {
        return;
    }
    let fx = fixture(factory, 1).await;
    let alice = Client::new(&fx, 0, fresh_identity());

    let message = user_message("tck-stream-001");
    let events = all_of(
        alice.stream(send_req(message.clone())).await,
        "tck-stream-001",
    )
    .await;
    let states = check_lifecycle(&events, "tck-stream-001", End::Terminal);
    assert!(
        states.contains(&TaskState::Working),
        "the task never reported WORKING: {states:?}"
    );
    assert_eq!(
        states.last(),
        Some(&TaskState::Completed),
        "tck-stream-001 ends COMPLETED"
    );
    let Some(Payload::Task(first)) = &events[0].payload else {
        unreachable!("check_lifecycle checked the first event");
    };
    assert!(
        first
            .history
            .iter()
            .any(|m| m.message_id == message.message_id),
        "the first event's task must hold the user message: {first:?}"
    );
    let texts = artifact_texts(&events);
    assert_eq!(
        texts.values().cloned().collect::<Vec<_>>(),
        ["Stream hello from TCK"],
        "tck-stream-001 artifacts"
    );
    let stored = alice.get_ok(&first.id).await;
    assert_eq!(
        state_of(&stored),
        TaskState::Completed,
        "GetTask after the stream"
    );
    assert_eq!(
        stored.artifacts.len(),
        1,
        "GetTask sees the streamed artifact: {stored:?}"
    );

    let chunked = user_message("tck-stream-artifact-chunked");
    let events = all_of(alice.stream(send_req(chunked)).await, "chunked").await;
    check_lifecycle(&events, "chunked", End::Terminal);
    let chunks: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::ArtifactUpdate(u)) => Some((u.append, u.last_chunk)),
            _ => None,
        })
        .collect();
    assert_eq!(
        chunks,
        [(false, false), (true, true)],
        "chunk flags (append, lastChunk)"
    );
    let texts = artifact_texts(&events);
    assert_eq!(
        texts.values().cloned().collect::<Vec<_>>(),
        ["chunk-1 chunk-2"],
        "appended chunks"
    );

    let events = all_of(
        alice
            .stream(send_req(user_message("tck-message-response")))
            .await,
        "streamed direct reply",
    )
    .await;
    match events.as_slice() {
        [event] => match &event.payload {
            Some(Payload::Message(m)) => {
                assert_eq!(
                    text_of(&m.parts),
                    "Direct message response",
                    "streamed reply text"
                );
            }
            other => panic!("a streamed direct reply must be a message, got {other:?}"),
        },
        _ => panic!("a streamed direct reply is exactly one event, got {events:?}"),
    }

    let events = all_of(
        alice
            .stream(send_req(user_message("tck-input-required")))
            .await,
        "tck-input-required stream",
    )
    .await;
    let states = check_lifecycle(
        &events,
        "tck-input-required stream",
        End::TerminalOrInterrupted,
    );
    assert_eq!(
        states.last(),
        Some(&TaskState::InputRequired),
        "a send stream ends when the task asks for input"
    );
}

/// Dropping a streaming send mid-way drops it everywhere: the agent's stream and work stop,
/// the transport holds nothing open, and the transport stays usable.
pub async fn stream_close(factory: &dyn TransportFactory) {
    if !declared(factory, "stream_close", "streaming", |c| c.streaming) {
        return;
    }
    let fx = fixture(factory, 1).await;
    let agent = &fx.agent(0).agent;
    let alice = Client::new(&fx, 0, fresh_identity());

    let mut stream = alice
        .stream(send_req(user_message("test-resubscribe-message-id")))
        .await;
    let first = next_event(&mut stream, "slow stream, first event").await;
    assert!(
        matches!(first.payload, Some(Payload::Task(_))),
        "the first event must be the task: {first:?}"
    );
    let working = next_event(&mut stream, "slow stream, second event").await;
    assert!(
        matches!(&working.payload, Some(Payload::StatusUpdate(u))
            if u.status.as_ref().is_some_and(|s| s.state() == TaskState::Working)),
        "the slow task reports WORKING next: {working:?}"
    );
    assert_eq!(
        agent.open_streams(),
        1,
        "the agent's stream is open while it is read"
    );
    assert_eq!(
        agent.active_work(),
        1,
        "the agent works while the stream is open"
    );

    drop(stream);
    eventually("agent streams after the drop", 0, || agent.open_streams()).await;
    eventually("agent work after the drop", 0, || agent.active_work()).await;
    if fx.open_streams().is_some() {
        eventually("transport streams after the drop", Some(0), || {
            fx.open_streams()
        })
        .await;
    }

    let events = all_of(
        alice.stream(send_req(user_message("tck-stream-002"))).await,
        "a stream after the drop",
    )
    .await;
    check_lifecycle(&events, "a stream after the drop", End::Terminal);
}
