//! No task left behind: tasks running when `harbor serve` is killed are resolved when it
//! starts again, and on SIGTERM running tasks get the grace period, then end FAILED, and
//! every open stream ends with a final status or an error event, never silently.

use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use harbor::a2a::{Task, TaskState};
use serde_json::{Value, json};

mod support;

use support::jsonrpc::{answer, call};
use support::serve::{Server, wait_with_deadline};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn message(prefix: &str, task_id: Option<&str>) -> Value {
    let mut message = json!({
        "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER",
        "parts": [{"text": "stop test"}],
    });
    if let Some(id) = task_id {
        message["taskId"] = json!(id);
    }
    message
}

/// Starts a slow task and returns it (WORKING) at once.
async fn start_slow_task(server: &Server) -> Task {
    let params = json!({
        "message": message("test-resubscribe-message-id", None),
        "configuration": {"returnImmediately": true},
    });
    let answer = answer(server, "SendMessage", params).await;
    harbor::a2a::from_json_value(answer["result"]["task"].clone()).expect("a task")
}

async fn get(server: &Server, id: &str) -> Task {
    let answer = answer(server, "GetTask", json!({"id": id})).await;
    harbor::a2a::from_json_value(answer["result"].clone())
        .unwrap_or_else(|e| panic!("{e}: {answer}"))
}

fn status_text(task: &Task) -> String {
    task.status
        .as_ref()
        .and_then(|s| s.message.as_ref())
        .map(|m| {
            m.parts
                .iter()
                .filter_map(|p| match &p.content {
                    Some(harbor::a2a::part::Content::Text(t)) => Some(t.as_str()),
                    _ => None,
                })
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// An open SSE response and the events read from it so far: `(event type, data)`.
struct Sse {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl Sse {
    async fn open(server: &Server, method: &str, params: Value) -> Self {
        let response = reqwest::Client::new()
            .post(&server.jsonrpc_url)
            .header("A2A-Version", "1.0")
            .header("Accept", "text/event-stream")
            .json(&call(method, params))
            .send()
            .await
            .expect("stream request");
        assert_eq!(response.status(), 200);
        Self {
            body: response.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// Every event until the server closes the stream: `(event type, data)`.
    async fn rest(mut self) -> Vec<(String, Value)> {
        let mut events = Vec::new();
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut kind = String::new();
                let mut data = None;
                for line in block.lines() {
                    if let Some(k) = line.strip_prefix("event:") {
                        kind = k.trim().to_owned();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data = Some(serde_json::from_str(d.trim()).expect("JSON data"));
                    }
                }
                if let Some(data) = data {
                    events.push((kind, data));
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.body.next())
                .await
                .expect("the stream ends in time");
            match chunk {
                Some(Ok(bytes)) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Some(Err(e)) => panic!("the stream broke instead of ending: {e}"),
                None => return events,
            }
        }
    }
}

fn terminate(server: &mut Server) {
    let pid = server.child.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(signalled.is_ok_and(|s| s.success()), "kill -TERM failed");
}

fn state_of(event: &Value) -> Option<&str> {
    event["result"]["statusUpdate"]["status"]["state"]
        .as_str()
        .or_else(|| event["result"]["task"]["status"]["state"].as_str())
}

#[test]
fn tasks_running_at_a_sigkill_are_failed_when_the_server_starts_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = Server::start_in(dir.path(), &["--no-grpc"]);
    let rt = runtime();
    let tasks: Vec<Task> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..3 {
            tasks.push(start_slow_task(&first).await);
        }
        tasks
    });
    for task in &tasks {
        assert_eq!(task.state(), TaskState::Working, "{task:?}");
    }
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reap");

    let second = Server::start_in(dir.path(), &["--no-grpc"]);
    for task in &tasks {
        let after = rt.block_on(get(&second, &task.id));
        assert_eq!(after.state(), TaskState::Failed, "{after:?}");
        assert!(
            status_text(&after).contains("execution of this task was lost"),
            "{after:?}"
        );
    }
    assert!(
        second
            .output()
            .contains("3 task(s) left running by a stopped server were failed"),
        "{}",
        second.output()
    );
}

#[test]
fn sigterm_fails_what_outlives_the_grace_period_and_ends_every_stream_with_a_last_word() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &["--no-grpc", "--shutdown-grace", "1"]);
    let rt = runtime();
    let (running, waiting) = rt.block_on(async {
        // A task that outlives the grace period, followed by a stream...
        let running = Sse::open(
            &server,
            "SendStreamingMessage",
            json!({"message": message("test-resubscribe-message-id", None)}),
        )
        .await;
        // ...and a subscription to a task waiting for input, which no execution ends.
        let params = json!({"message": message("tck-input-required", None)});
        let answer = answer(&server, "SendMessage", params).await;
        let id = answer["result"]["task"]["id"]
            .as_str()
            .expect("a task")
            .to_owned();
        let waiting = Sse::open(&server, "SubscribeToTask", json!({"id": id})).await;
        (running, waiting)
    });
    terminate(&mut server);
    let (running, waiting) = rt.block_on(async { tokio::join!(running.rest(), waiting.rest()) });
    let status = wait_with_deadline(&mut server.child, Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "serve did not exit cleanly ({status:?}):\n{}",
        server.output()
    );
    let (kind, last) = running.last().expect("events of the running task");
    assert_eq!(
        (kind.as_str(), state_of(last)),
        ("", Some("TASK_STATE_FAILED")),
        "the running task's stream ends with its FAILED status: {running:?}"
    );
    assert!(
        last.to_string()
            .contains("server stopped before the task finished"),
        "{last}"
    );
    let (kind, last) = waiting.last().expect("events of the subscription");
    assert_eq!(
        kind, "error",
        "the idle subscription ends with an error event: {waiting:?}"
    );
    assert!(last.to_string().contains("shutting down"), "{last}");
}

#[test]
fn sigterm_lets_a_task_finish_within_the_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_in(dir.path(), &["--no-grpc", "--shutdown-grace", "20"]);
    let rt = runtime();
    let stream = rt.block_on(Sse::open(
        &server,
        "SendStreamingMessage",
        json!({"message": message("test-resubscribe-message-id", None)}),
    ));
    terminate(&mut server);
    // The built-in agent finishes `test-resubscribe-message-id` after 4 s, within the grace.
    let events = rt.block_on(stream.rest());
    let (_, last) = events.last().expect("events");
    assert_eq!(state_of(last), Some("TASK_STATE_COMPLETED"), "{events:?}");
    let status = wait_with_deadline(&mut server.child, Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{}", server.output());
}
