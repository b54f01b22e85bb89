//! `harbor serve --exec CMD` with the real example programs (`examples/exec/agent.py` under
//! python3, `examples/exec/agent.sh` under sh), driven through Harbor's client forced onto
//! each binding in turn: streaming, a follow-up that needs the task's history, cancel
//! reaching the program, a crash failing the task with its stderr line, and the shell
//! agent's answer.
#![cfg(unix)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use harbor_a2a::stream_response::Payload as Event;
use harbor_a2a::{
    CancelTaskRequest, GetTaskRequest, Message, Part, SendMessageConfiguration, SendMessageRequest,
    StreamResponse, Task, TaskState, send_message_response,
};
use harbor_client::{A2aTransport, Binding};
use harbor_distributed::{CallContext, Identity, Peer, RemoteTransport};
use support::serve::Server;

const DEADLINE: Duration = Duration::from_secs(30);

fn example(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/exec")
        .join(name);
    path.display().to_string()
}

/// A server whose agent is `interpreter example`.
fn serve(interpreter: &str, example_name: &str) -> Server {
    let command = format!("{interpreter} '{}'", example(example_name));
    Server::start(&["--exec", &command])
}

/// Harbor's client forced onto one binding.
struct Client {
    transport: A2aTransport,
    peer: Peer,
    ctx: CallContext,
}

impl Client {
    fn new(server: &Server, binding: Binding) -> Self {
        Self {
            transport: A2aTransport::builder()
                .bindings([binding])
                .build()
                .expect("a transport"),
            peer: Peer::new(server.base_url.as_str()),
            ctx: CallContext::new(Identity::new("exec", "tests", "s").expect("an identity")),
        }
    }

    fn request(text: &str, task_id: Option<&str>, blocking: bool) -> SendMessageRequest {
        let mut message = Message::user(uuid::Uuid::new_v4().to_string(), [Part::text(text)]);
        if let Some(task_id) = task_id {
            message = message.with_task_id(task_id);
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

    async fn send(&self, text: &str, task_id: Option<&str>, blocking: bool) -> Task {
        let call = self.transport.send_message(
            &self.peer,
            &self.ctx,
            Self::request(text, task_id, blocking),
        );
        let reply = tokio::time::timeout(DEADLINE, call)
            .await
            .expect("an answer in time")
            .expect("SendMessage");
        match reply.payload {
            Some(send_message_response::Payload::Task(task)) => task,
            other => panic!("expected a task, got {other:?}"),
        }
    }

    async fn stream(&self, text: &str) -> Vec<StreamResponse> {
        let mut stream = self
            .transport
            .send_streaming_message(&self.peer, &self.ctx, Self::request(text, None, true))
            .await
            .expect("SendStreamingMessage");
        let mut events = Vec::new();
        let read = async {
            while let Some(event) = stream.next().await {
                events.push(event.expect("an event"));
            }
        };
        tokio::time::timeout(DEADLINE, read)
            .await
            .expect("the stream ends");
        events
    }

    async fn get(&self, id: &str) -> Task {
        let request = GetTaskRequest {
            id: id.to_owned(),
            ..GetTaskRequest::default()
        };
        self.transport
            .get_task(&self.peer, &self.ctx, request)
            .await
            .expect("GetTask")
    }

    async fn wait_for(&self, id: &str, state: TaskState) -> Task {
        let end = Instant::now() + DEADLINE;
        loop {
            let task = self.get(id).await;
            if task.state() == state {
                return task;
            }
            assert!(Instant::now() < end, "never {state:?}: {task:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn status_text(task: &Task) -> String {
    task.status
        .as_ref()
        .and_then(|s| s.message.as_ref())
        .map(Message::text)
        .unwrap_or_default()
}

/// Events in short: `task`, state names, artifact chunks as `=text` / `+text` (`!` last).
fn shape(events: &[StreamResponse]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.payload {
            Some(Event::Task(_)) => "task".to_owned(),
            Some(Event::StatusUpdate(u)) => u
                .status
                .as_ref()
                .map(|s| s.state().as_str_name().to_owned())
                .unwrap_or_default(),
            Some(Event::ArtifactUpdate(u)) => {
                let text: String = u
                    .artifact
                    .iter()
                    .flat_map(|a| a.parts.iter().filter_map(Part::as_text))
                    .collect();
                let mark = if u.append { "+" } else { "=" };
                let last = if u.last_chunk { "!" } else { "" };
                format!("{mark}{}{last}", text.trim_end())
            }
            other => format!("{other:?}"),
        })
        .collect()
}

async fn python_agent_over(binding: Binding) {
    let server = serve("python3", "agent.py");
    let client = Client::new(&server, binding);

    let task = client.send("hello", None, true).await;
    assert_eq!(task.state(), TaskState::Completed, "{binding}: {task:?}");
    let echoed: Vec<&str> = task
        .artifacts
        .iter()
        .flat_map(|a| a.parts.iter().filter_map(Part::as_text))
        .collect();
    assert_eq!(echoed, ["echo: hello"], "{binding}");

    let events = client.stream("count 3").await;
    assert_eq!(
        shape(&events),
        [
            "task",
            "TASK_STATE_WORKING",
            "=1",
            "+2",
            "+3!",
            "TASK_STATE_COMPLETED"
        ],
        "{binding}"
    );

    let asked = client.send("ask", None, true).await;
    assert_eq!(
        asked.state(),
        TaskState::InputRequired,
        "{binding}: {asked:?}"
    );
    assert_eq!(status_text(&asked), "What is your name?");
    let answered = client.send("Ada", Some(&asked.id), true).await;
    assert_eq!(
        answered.state(),
        TaskState::Completed,
        "{binding}: {answered:?}"
    );
    assert_eq!(
        status_text(&answered),
        "Hello, Ada! (turn 2 of this task)",
        "{binding}"
    );

    let counting = client.send("count 200", None, false).await;
    client.wait_for(&counting.id, TaskState::Working).await;
    let cancel = CancelTaskRequest {
        id: counting.id.clone(),
        ..CancelTaskRequest::default()
    };
    client
        .transport
        .cancel_task(&client.peer, &client.ctx, cancel)
        .await
        .expect("CancelTask");
    let canceled = client.wait_for(&counting.id, TaskState::Canceled).await;
    assert!(
        status_text(&canceled).starts_with("stopped at "),
        "{binding}: the program saw the cancel line: {canceled:?}"
    );

    let crashed = client.send("crash", None, true).await;
    assert_eq!(crashed.state(), TaskState::Failed, "{binding}");
    assert_eq!(
        status_text(&crashed),
        "the program exited with status 1: agent.py: crashing on purpose"
    );
    let end = Instant::now() + DEADLINE;
    while !server.output().contains("agent.py: crashing on purpose") {
        assert!(
            Instant::now() < end,
            "the program's stderr never reached the server log:\n{}",
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.transport.close().await.expect("close");
}

async fn shell_agent_over(binding: Binding) {
    let server = serve("sh", "agent.sh");
    let client = Client::new(&server, binding);
    let task = client.send("hello from \"shell\"", None, true).await;
    assert_eq!(task.state(), TaskState::Completed, "{binding}: {task:?}");
    let shouted: Vec<&str> = task
        .artifacts
        .iter()
        .flat_map(|a| a.parts.iter().filter_map(Part::as_text))
        .collect();
    assert_eq!(shouted, ["HELLO FROM \"SHELL\""], "{binding}");
    client.transport.close().await.expect("close");
}

#[tokio::test]
async fn python_agent_over_jsonrpc() {
    python_agent_over(Binding::JsonRpc).await;
}

#[tokio::test]
async fn python_agent_over_http_json() {
    python_agent_over(Binding::HttpJson).await;
}

#[tokio::test]
async fn python_agent_over_grpc() {
    python_agent_over(Binding::Grpc).await;
}

#[tokio::test]
async fn shell_agent_over_jsonrpc() {
    shell_agent_over(Binding::JsonRpc).await;
}

#[tokio::test]
async fn shell_agent_over_http_json() {
    shell_agent_over(Binding::HttpJson).await;
}

#[tokio::test]
async fn shell_agent_over_grpc() {
    shell_agent_over(Binding::Grpc).await;
}

/// The card says what the server runs.
#[test]
fn the_card_names_the_program() {
    let server = serve("sh", "agent.sh");
    let card = support::run::run(&["card", &server.base_url, "--json"]).ok("card --json");
    let card: serde_json::Value = serde_json::from_str(&card.stdout).expect("a JSON card");
    assert_eq!(card["name"], "Harbor exec agent");
    assert!(
        card["description"]
            .as_str()
            .is_some_and(|d| d.contains("agent.sh")),
        "{card}"
    );
}
