//! The exec agent with real programs (`/bin/sh` scripts) behind the default handler: the
//! events they print, how each way of ending maps to the task, follow-ups with history,
//! and cancel reaching the program (as a line, then as signals to its process group).
#![cfg(unix)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use harbor_a2a::{
    AgentCard, CancelTaskRequest, GetTaskRequest, Message, Part, SendMessageConfiguration,
    SendMessageRequest, Task, TaskState, send_message_response::Payload,
    stream_response::Payload as Event,
};
use harbor_distributed::{A2aHandler, CallContext, Identity};
use harbor_server::DefaultHandler;
use harbor_server::agent::exec::{ExecAgent, ExecConfig};
use harbor_test_support::cards;

const DEADLINE: Duration = Duration::from_secs(20);

fn card() -> AgentCard {
    cards::card("exec", "a program", cards::NOWHERE, cards::streaming())
}

fn handler_with(config: ExecConfig) -> DefaultHandler {
    DefaultHandler::builder(card(), Arc::new(ExecAgent::new(config)))
        .build()
        .expect("handler")
}

fn handler(script: &str) -> DefaultHandler {
    handler_with(ExecConfig::shell(script))
}

fn ctx() -> CallContext {
    CallContext::new(Identity::new("t", "u", "s").expect("identity"))
}

fn request(text: &str, task_id: Option<&str>, blocking: bool) -> SendMessageRequest {
    let mut message = Message::user(uuid::Uuid::new_v4().to_string(), [Part::text(text)]);
    if let Some(task_id) = task_id {
        message.task_id = task_id.to_owned();
    }
    SendMessageRequest {
        message: Some(message),
        configuration: Some(SendMessageConfiguration {
            return_immediately: !blocking,
            ..SendMessageConfiguration::default()
        }),
        ..SendMessageRequest::default()
    }
}

/// A blocking send that must answer with a task.
async fn send_task(handler: &DefaultHandler, text: &str, task_id: Option<&str>) -> Task {
    let call_ctx = ctx();
    let call = handler.send_message(&call_ctx, request(text, task_id, true));
    let reply = tokio::time::timeout(DEADLINE, call)
        .await
        .expect("an answer in time")
        .expect("a result");
    match reply.payload {
        Some(Payload::Task(task)) => task,
        other => panic!("expected a task, got {other:?}"),
    }
}

/// The agent's status message text.
fn status_text(task: &Task) -> String {
    task.status
        .as_ref()
        .and_then(|s| s.message.as_ref())
        .map(Message::text)
        .unwrap_or_default()
}

async fn get(handler: &DefaultHandler, id: &str) -> Task {
    let request = GetTaskRequest {
        id: id.into(),
        ..GetTaskRequest::default()
    };
    handler.get_task(&ctx(), request).await.expect("get")
}

/// Polls the task until `done` holds for it.
async fn wait_until(handler: &DefaultHandler, id: &str, done: impl Fn(&Task) -> bool) -> Task {
    let end = Instant::now() + DEADLINE;
    loop {
        let task = get(handler, id).await;
        if done(&task) {
            return task;
        }
        assert!(Instant::now() < end, "the task never got there: {task:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn printed_events_become_the_task() {
    let handler = handler(
        r#"read -r request
printf '%s\n' '{"type":"status","state":"working","text":"on it"}'
printf '%s\n' '{"type":"artifact","artifactId":"a","name":"out","text":"Hello, "}'
printf '%s\n' "{\"type\":\"artifact\",\"append\":true,\"lastChunk\":true,\"text\":\"$HARBOR_TEXT\"}"
printf '%s\n' '{"type":"status","state":"completed","text":"done"}'"#,
    );
    let task = send_task(&handler, "world", None).await;
    assert_eq!(task.state(), TaskState::Completed, "{task:?}");
    assert_eq!(status_text(&task), "done");
    assert_eq!(task.artifacts.len(), 1, "{task:?}");
    let text: Vec<&str> = task.artifacts[0]
        .parts
        .iter()
        .filter_map(Part::as_text)
        .collect();
    assert_eq!(text.concat(), "Hello, world");
    assert_eq!(task.artifacts[0].name, "out");
    assert!(
        task.history.iter().any(|m| m.text() == "on it"),
        "the WORKING message moved to the history: {:?}",
        task.history
    );
}

#[tokio::test]
async fn a_stream_sees_each_event_as_it_is_printed() {
    let handler = handler(
        r#"printf '%s\n' '{"type":"status","state":"working"}'
for i in 1 2 3; do
  printf '{"type":"artifact","artifactId":"c","append":%s,"lastChunk":%s,"text":"%s"}\n' \
    "$([ $i = 1 ] && echo false || echo true)" "$([ $i = 3 ] && echo true || echo false)" "$i"
done"#,
    );
    let stream = handler
        .send_streaming_message(&ctx(), request("go", None, true))
        .await
        .expect("a stream");
    let events: Vec<_> = tokio::time::timeout(DEADLINE, stream.collect::<Vec<_>>())
        .await
        .expect("the stream ends");
    let shape: Vec<String> = events
        .into_iter()
        .map(|e| match e.expect("an event").event.payload {
            Some(Event::Task(_)) => "task".to_owned(),
            Some(Event::StatusUpdate(u)) => u
                .status
                .map(|s| s.state().as_str_name().to_owned())
                .unwrap_or_default(),
            Some(Event::ArtifactUpdate(u)) => format!(
                "{}{}{}",
                if u.append { "+" } else { "=" },
                u.artifact
                    .map(|a| a.parts.iter().filter_map(Part::as_text).collect::<String>())
                    .unwrap_or_default(),
                if u.last_chunk { "!" } else { "" }
            ),
            other => format!("{other:?}"),
        })
        .collect();
    // Exit 0 after artifacts only: the task is completed for the program.
    assert_eq!(
        shape,
        [
            "task",
            "TASK_STATE_WORKING",
            "=1",
            "+2",
            "+3!",
            "TASK_STATE_COMPLETED"
        ]
    );
}

#[tokio::test]
async fn a_first_message_event_is_a_direct_reply() {
    let handler = handler(r#"printf '%s\n' '{"type":"message","text":"just a reply"}'"#);
    let reply = tokio::time::timeout(
        DEADLINE,
        handler.send_message(&ctx(), request("hi", None, true)),
    )
    .await
    .expect("in time")
    .expect("a result");
    match reply.payload {
        Some(Payload::Message(message)) => assert_eq!(message.text(), "just a reply"),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn each_way_of_failing_fails_the_task_with_the_reason() {
    let long = "x".repeat(200);
    let cases: Vec<(String, &str)> = vec![
        (
            "echo 'boom: no model' >&2; exit 3".into(),
            "the program exited with status 3: boom: no model",
        ),
        (
            r#"printf '%s\n' '{"type":"status","state":"working"}'; kill -9 $$"#.into(),
            "the program exited with signal 9",
        ),
        ("echo hello".into(), "line 1 is not an event: expected"),
        (
            r#"printf '%s\n' '{"type":"status","state":"working"}' '{"type":"status","state":"done"}'"#
                .into(),
            "line 2 is not an event: unknown state \"done\"",
        ),
        (
            r#"printf '%s\n' '{"type":"error","message":"the model is down"}'; sleep 30"#.into(),
            "the model is down",
        ),
        ("true".into(), "the program exited without printing an event"),
        (
            format!(r#"printf '{{"type":"message","text":"%s"}}\n' {long}"#),
            "line 1 is longer than 128 bytes",
        ),
        (
            r#"printf '%s\n' '{"type":"status","state":"working"}'; sleep 30"#.into(),
            "the program did not finish within 1s",
        ),
    ];
    for (script, want) in cases {
        let mut config = ExecConfig::shell(&script);
        config.max_line_bytes = 128;
        config.timeout = Duration::from_secs(1);
        config.cancel_grace = Duration::from_millis(200);
        let handler = handler_with(config);
        let started = Instant::now();
        let task = send_task(&handler, "hi", None).await;
        assert_eq!(task.state(), TaskState::Failed, "{script}: {task:?}");
        let why = status_text(&task);
        assert!(
            why.contains(want),
            "{script}: the reason is {why:?}, want {want:?}"
        );
        // A stopped program (sleep 30) must not hold the task: SIGTERM ends it.
        assert!(started.elapsed() < Duration::from_secs(10), "{script}");
    }
}

#[tokio::test]
async fn an_unstartable_program_fails_the_task() {
    let handler = handler_with(ExecConfig::new(
        "/nonexistent/harbor-agent",
        Vec::<String>::new(),
    ));
    let task = send_task(&handler, "hi", None).await;
    assert_eq!(task.state(), TaskState::Failed);
    assert!(
        status_text(&task).starts_with("cannot start `/nonexistent/harbor-agent`"),
        "{}",
        status_text(&task)
    );
}

#[tokio::test]
async fn a_follow_up_reaches_the_program_with_the_task_history() {
    // First turn: ask. Second turn: answer with the first turn's text, read from the
    // task's history in the request line (the first "text" part after "history").
    let handler = handler(
        r#"read -r request
case "$request" in
  *'"task":null'*)
    printf '%s\n' '{"type":"status","state":"input-required","text":"What is your name?"}' ;;
  *)
    first=$(printf '%s' "$request" | sed 's/.*"history":\[{[^]]*"text":"\([^"]*\)".*/\1/')
    printf '{"type":"status","state":"completed","text":"Hello %s, you first said %s"}\n' "$HARBOR_TEXT" "$first" ;;
esac"#,
    );
    let task = send_task(&handler, "hi there", None).await;
    assert_eq!(task.state(), TaskState::InputRequired, "{task:?}");
    assert_eq!(status_text(&task), "What is your name?");
    let task = send_task(&handler, "Ada", Some(&task.id)).await;
    assert_eq!(task.state(), TaskState::Completed, "{task:?}");
    assert_eq!(status_text(&task), "Hello Ada, you first said hi there");
}

#[tokio::test]
async fn cancel_reaches_the_program_as_a_line() {
    let handler = handler(
        r#"read -r request
printf '%s\n' '{"type":"status","state":"working"}'
read -r cancel
printf '{"type":"status","state":"canceled","text":"stopped on %s"}\n' "$(printf '%s' "$cancel" | tr -d '"')""#,
    );
    let reply = handler
        .send_message(&ctx(), request("work", None, false))
        .await
        .expect("a task");
    let Some(Payload::Task(task)) = reply.payload else {
        panic!("a task");
    };
    wait_until(&handler, &task.id, |t| t.state() == TaskState::Working).await;
    let canceled = handler
        .cancel_task(
            &ctx(),
            CancelTaskRequest {
                id: task.id.clone(),
                ..CancelTaskRequest::default()
            },
        )
        .await
        .expect("cancel");
    let task = if canceled.state() == TaskState::Canceled {
        canceled
    } else {
        wait_until(&handler, &task.id, |t| t.state() == TaskState::Canceled).await
    };
    assert_eq!(status_text(&task), "stopped on {type:cancel}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn cancel_stops_a_deaf_program_and_everything_it_started() {
    let dir = tempfile_dir();
    let pid_file = dir.join("child.pid");
    let mut config = ExecConfig::shell(format!(
        r#"printf '%s\n' '{{"type":"status","state":"working"}}'
sleep 60 &
echo $! > '{}'
wait"#,
        pid_file.display()
    ));
    config.cancel_grace = Duration::from_millis(200);
    let handler = handler_with(config);
    let reply = handler
        .send_message(&ctx(), request("work", None, false))
        .await
        .expect("a task");
    let Some(Payload::Task(task)) = reply.payload else {
        panic!("a task");
    };
    wait_until(&handler, &task.id, |t| t.state() == TaskState::Working).await;
    let pid = wait_for_file(&pid_file);
    assert!(alive(&pid), "the program's child runs before the cancel");
    let started = Instant::now();
    handler
        .cancel_task(
            &ctx(),
            CancelTaskRequest {
                id: task.id.clone(),
                ..CancelTaskRequest::default()
            },
        )
        .await
        .expect("cancel");
    let task = wait_until(&handler, &task.id, |t| t.state() == TaskState::Canceled).await;
    assert_eq!(task.state(), TaskState::Canceled);
    let end = Instant::now() + DEADLINE;
    while alive(&pid) {
        assert!(
            Instant::now() < end,
            "the program's child {pid} outlived the cancel"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("harbor-exec-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// The pid the script wrote, once it is there.
fn wait_for_file(path: &std::path::Path) -> String {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.trim().is_empty()
        {
            return text.trim().to_owned();
        }
        assert!(Instant::now() < end, "{} was never written", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process runs (a zombie counts as gone).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}
