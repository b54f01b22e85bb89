//! Nothing acknowledged is lost: `harbor serve` is SIGKILLed while 16 clients send, five
//! times over on one data directory. Every answer a client received names a task that,
//! after the restart, is in that state or a later one; every task's log replays to the
//! stored task exactly; the file always reopens.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harbor::a2a::{Task, TaskState};
use harbor::distributed::store::replay;
use harbor::distributed::{Owner, TaskLog, TaskQuery, TaskStore};
use harbor::embedded::{Embedded, EmbeddedConfig};
use serde_json::{Value, json};

mod support;

use support::serve::Server;

const CLIENTS: usize = 16;
const ROUNDS: usize = 5;
/// Answers to wait for in a round before the kill.
const ANSWERS_BEFORE_KILL: usize = 150;

/// An answer a client received: the task and its state then.
type Answered = (String, TaskState);

/// How far along a task is: a task may only move to the same rank or a later one.
fn rank(state: TaskState) -> u8 {
    match state {
        TaskState::Submitted => 0,
        TaskState::Working | TaskState::InputRequired | TaskState::AuthRequired => 1,
        _ if state.is_terminal() => 2,
        _ => 0,
    }
}

async fn send(client: &reqwest::Client, url: &str, message: Value) -> Option<Task> {
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}});
    let response = client
        .post(url)
        .header("A2A-Version", "1.0")
        .json(&body)
        .send()
        .await
        .ok()?;
    let answer: Value = response.json().await.ok()?;
    let task = answer.pointer("/result/task")?;
    harbor::a2a::from_json_value(task.clone()).ok()
}

fn message(prefix: &str, n: usize, task_id: Option<&str>) -> Value {
    let mut message = json!({
        "messageId": format!("{prefix}-{n}-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER",
        "parts": [{"text": format!("crash test {n}")}],
    });
    if let Some(id) = task_id {
        message["taskId"] = json!(id);
    }
    message
}

/// One client: new tasks of three kinds, and follow-ups that complete waiting ones, until
/// the server stops answering. Returns every answer it got.
async fn client(url: String, worker: usize, answered: Arc<AtomicUsize>) -> Vec<Answered> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut got = Vec::new();
    for n in 0.. {
        let kind = (worker + n) % 3;
        let prefix = ["echo", "tck-stream-001", "tck-input-required"][kind];
        let Some(task) = send(&client, &url, message(prefix, n, None)).await else {
            break;
        };
        answered.fetch_add(1, Ordering::Relaxed);
        got.push((task.id.clone(), task.state()));
        if task.state() == TaskState::InputRequired {
            let follow = message("tck-complete-task", n, Some(&task.id));
            let Some(done) = send(&client, &url, follow).await else {
                break;
            };
            answered.fetch_add(1, Ordering::Relaxed);
            got.push((done.id.clone(), done.state()));
        }
    }
    got
}

/// Runs the clients against `server` until `ANSWERS_BEFORE_KILL` answers came back, then
/// SIGKILLs it and returns every answer received.
fn round(mut server: Server) -> Vec<Answered> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|worker| {
            runtime.spawn(client(
                server.jsonrpc_url.clone(),
                worker,
                Arc::clone(&answered),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::Relaxed) < ANSWERS_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "the clients got only {} answers; server output:\n{}",
            answered.load(Ordering::Relaxed),
            server.output()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reap");
    runtime.block_on(async {
        let mut all = Vec::new();
        for client in clients {
            all.extend(client.await.expect("client task"));
        }
        all
    })
}

fn owner() -> Owner {
    Owner {
        tenant: "default".into(),
        user: "anonymous".into(),
    }
}

/// Every task of the data directory, read through the engine itself.
fn check_logs(dir: &std::path::Path) -> BTreeMap<String, Task> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let engine = Embedded::open(EmbeddedConfig::new(dir)).expect("the file reopens");
        let store = engine.task_store();
        let mut tasks = BTreeMap::new();
        let mut query = TaskQuery {
            page_size: 100,
            ..TaskQuery::default()
        };
        loop {
            let page = store.list(&owner(), &query).await.expect("list");
            for task in page.tasks {
                let stored = store.get(&owner(), &task.id).await.expect("get");
                let log = store
                    .read_log(&owner(), &task.id, 0, 100_000)
                    .await
                    .expect("every entry decodes");
                let sequences: Vec<u64> = log.iter().map(|e| e.sequence).collect();
                let want: Vec<u64> = (1..=stored.version).collect();
                assert_eq!(sequences, want, "the log of {} has no gap", task.id);
                assert_eq!(
                    replay(log.iter().map(|e| &e.event)),
                    stored.task,
                    "the log of {} replays to the stored task",
                    task.id
                );
                tasks.insert(task.id.clone(), stored.task);
            }
            if page.next_page_token.is_empty() {
                break;
            }
            query.page_token = page.next_page_token;
        }
        tasks
    })
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut answers: Vec<Answered> = Vec::new();
    for _ in 0..ROUNDS {
        let server = Server::start_in(dir.path(), &["--no-grpc"]);
        answers.extend(round(server));
    }
    let tasks = check_logs(dir.path());
    assert!(
        answers.len() >= ROUNDS * ANSWERS_BEFORE_KILL,
        "{} answers",
        answers.len()
    );
    for (id, state) in &answers {
        let stored = tasks
            .get(id)
            .unwrap_or_else(|| panic!("task {id} was answered {state:?} and is gone"));
        assert!(
            rank(stored.state()) >= rank(*state),
            "task {id} was answered {state:?} and is stored {:?}",
            stored.state()
        );
        if state.is_terminal() {
            assert_eq!(stored.state(), *state, "task {id} changed after it ended");
        }
    }
}
