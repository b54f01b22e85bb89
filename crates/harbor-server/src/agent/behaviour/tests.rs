//! The prefix table, and what each of the second kit's behaviours emits.

use std::time::Duration;

use harbor_a2a::{Message, Part, Role, Task, TaskState, TaskStatus};
use harbor_distributed::{CallContext, Identity};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::executor::{AgentEvent, EventSink, RequestContext};

fn user(id: &str, text: &str) -> Message {
    Message::user(id, [Part::text(text)])
}

fn context(message: Message, task: Option<Task>) -> RequestContext {
    RequestContext {
        message,
        task,
        task_id: "t1".into(),
        context_id: "c1".into(),
        call: CallContext::new(Identity::new("t", "u", "s").expect("identity")),
        cancel: CancellationToken::new(),
    }
}

/// Runs the behaviour `ctx` selects to its end and returns what it emitted.
async fn events_of(ctx: &RequestContext, slow: Duration) -> (Behaviour, Vec<AgentEvent>) {
    let (tx, mut rx) = mpsc::channel(64);
    let sink = EventSink::new(ctx.task_id.clone(), ctx.context_id.clone(), tx);
    let behaviour = Behaviour::for_request(ctx);
    behaviour
        .run(ctx, &sink, slow)
        .await
        .expect("the behaviour runs");
    drop(sink);
    let mut events = Vec::new();
    while let Some(event) = rx.recv().await {
        events.push(event);
    }
    (behaviour, events)
}

/// A compact picture of an event sequence: states by name, artifacts as `+text` (a chunk
/// appended) or `=text` (a new artifact), with `!` after a last chunk.
fn shape(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            AgentEvent::Status { state, .. } => state.as_str_name().to_owned(),
            AgentEvent::Artifact {
                artifact,
                append,
                last_chunk,
            } => {
                let text: Vec<&str> = artifact.parts.iter().filter_map(Part::as_text).collect();
                let mark = if *append { '+' } else { '=' };
                let end = if *last_chunk { "!" } else { "" };
                format!("{mark}{}{end}", text.join(""))
            }
            AgentEvent::Reply(_) => "REPLY".to_owned(),
        })
        .collect()
}

#[test]
fn longest_prefix_wins() {
    assert_eq!(
        Behaviour::for_message_id("tck-artifact-file-url-1a2b3c4d"),
        Behaviour::ArtifactFileUrl
    );
    assert_eq!(
        Behaviour::for_message_id("tck-artifact-file-1a2b3c4d"),
        Behaviour::ArtifactFile
    );
    assert_eq!(
        Behaviour::for_message_id("tck-stream-artifact-chunked-x"),
        Behaviour::StreamChunked
    );
    assert_eq!(
        Behaviour::for_message_id("tck-complete-task-1a2b-grpc"),
        Behaviour::CompleteTask
    );
    assert_eq!(
        Behaviour::for_message_id("tck-sse-streaming-001"),
        Behaviour::Echo
    );
    assert_eq!(Behaviour::for_message_id(""), Behaviour::Echo);
}

#[test]
fn the_second_kits_prefixes_match_on_the_id_or_the_text() {
    let table = [
        ("tck-multi-turn", Behaviour::MultiTurn),
        ("tck-long-running", Behaviour::LongRunning),
        ("tck-cancel", Behaviour::AwaitCancel),
        ("tck-stream-basic", Behaviour::StreamBasic),
        ("tck-stream-chunked", Behaviour::StreamThreeChunks),
        ("tck-task-failure", Behaviour::TaskFailure),
        ("tck-auth-required", Behaviour::AuthRequired),
    ];
    for (prefix, want) in table {
        let by_id = user(&format!("{prefix}-0001"), "hello");
        assert_eq!(Behaviour::for_message(&by_id), want, "{prefix} as the id");
        let by_text = user("m-0001", &format!("  {prefix} please"));
        assert_eq!(
            Behaviour::for_message(&by_text),
            want,
            "{prefix} as the text"
        );
        let elsewhere = user("m-0001", &format!("please {prefix}"));
        assert_eq!(
            Behaviour::for_message(&elsewhere),
            Behaviour::Echo,
            "{prefix} in the middle of the text"
        );
    }
}

#[test]
fn the_id_decides_before_the_text_and_the_tck_meanings_stay() {
    let both = user("tck-complete-task-1", "tck-cancel");
    assert_eq!(Behaviour::for_message(&both), Behaviour::CompleteTask);
    // The TCK's two-chunk prefix is not the second kit's three-chunk one.
    assert_eq!(
        Behaviour::for_message_id("tck-stream-artifact-chunked-1"),
        Behaviour::StreamChunked
    );
    assert_eq!(
        Behaviour::for_message_id("tck-stream-chunked-1"),
        Behaviour::StreamThreeChunks
    );
    // Other text parts are not searched: the text is the text parts joined.
    let data_first = Message::user(
        "m-2",
        [
            Part::data(serde_json::json!({"a": 1})),
            Part::text("tck-cancel"),
        ],
    );
    assert_eq!(Behaviour::for_message(&data_first), Behaviour::AwaitCancel);
}

#[tokio::test]
async fn multi_turn_asks_for_input_then_completes_on_any_follow_up() {
    let first = user("tck-multi-turn-1", "turn one");
    let (_, events) = events_of(&context(first.clone(), None), Duration::ZERO).await;
    assert_eq!(shape(&events), ["TASK_STATE_INPUT_REQUIRED"]);

    let mut task = Task::new("t1", "c1", TaskStatus::new(TaskState::InputRequired));
    task.history = vec![first];
    let follow_up = user("m-2", "turn two, no prefix");
    let (behaviour, events) = events_of(&context(follow_up, Some(task)), Duration::ZERO).await;
    assert_eq!(behaviour, Behaviour::MultiTurn);
    assert_eq!(shape(&events), ["TASK_STATE_COMPLETED"]);
    let AgentEvent::Status {
        message: Some(message),
        ..
    } = &events[0]
    else {
        panic!("COMPLETED carries a message: {events:?}");
    };
    assert!(message.text().contains("after 2 turns"), "{message:?}");
    assert_eq!(message.role, Role::Agent as i32);
}

#[tokio::test]
async fn long_running_works_with_an_artifact_then_completes_or_stops_on_cancel() {
    let ctx = context(user("tck-long-running-1", ""), None);
    let (_, events) = events_of(&ctx, Duration::from_millis(10)).await;
    assert_eq!(
        shape(&events),
        [
            "TASK_STATE_WORKING",
            "=Long-running task in progress!",
            "TASK_STATE_COMPLETED"
        ]
    );

    let ctx = context(user("tck-long-running-2", ""), None);
    ctx.cancel.cancel();
    // A pause far longer than the test may take: only the cancel can end it.
    let (_, events) = events_of(&ctx, Duration::from_secs(3600)).await;
    assert_eq!(
        shape(&events),
        ["TASK_STATE_WORKING", "=Long-running task in progress!"]
    );
}

#[tokio::test]
async fn cancel_stays_working_until_canceled() {
    let ctx = context(user("m-1", "tck-cancel"), None);
    let (tx, mut rx) = mpsc::channel(64);
    let sink = EventSink::new("t1".into(), "c1".into(), tx);
    let running = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            Behaviour::AwaitCancel
                .run(&ctx, &sink, Duration::ZERO)
                .await
        })
    };
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the first event in time");
    assert_eq!(
        shape(&first.into_iter().collect::<Vec<_>>()),
        ["TASK_STATE_WORKING"]
    );
    assert!(!running.is_finished(), "it must wait for the cancel");
    ctx.cancel.cancel();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("a cancel ends it")
        .expect("no panic")
        .expect("no error");
    assert!(rx.recv().await.is_none(), "nothing after the cancel");
}

#[tokio::test]
async fn the_stream_failure_and_auth_behaviours_emit_their_sequences() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "tck-stream-basic",
            &["=Stream basic output!", "TASK_STATE_COMPLETED"],
        ),
        (
            "tck-stream-chunked",
            &[
                "TASK_STATE_WORKING",
                "=chunk-1 ",
                "+chunk-2 ",
                "+chunk-3!",
                "TASK_STATE_COMPLETED",
            ],
        ),
        ("tck-task-failure", &["TASK_STATE_FAILED"]),
        ("tck-auth-required", &["TASK_STATE_AUTH_REQUIRED"]),
    ];
    for (prefix, want) in cases {
        let ctx = context(user(&format!("{prefix}-1"), ""), None);
        let (_, events) = events_of(&ctx, Duration::ZERO).await;
        assert_eq!(shape(&events), want, "{prefix}");
    }
}

#[tokio::test]
async fn the_chunks_of_tck_stream_chunked_share_one_artifact_id() {
    let ctx = context(user("tck-stream-chunked-1", ""), None);
    let (_, events) = events_of(&ctx, Duration::ZERO).await;
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Artifact { artifact, .. } => Some(artifact.artifact_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.iter().all(|id| *id == ids[0] && !id.is_empty()),
        "{ids:?}"
    );
}
