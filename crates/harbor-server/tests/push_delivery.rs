//! Push delivery against a webhook that misbehaves on purpose: refusals, 429 with
//! Retry-After, 500s, a request that hangs past the timeout, a receiver that is not there.
//! Every event still arrives, in log order per config; a duplicate is only a re-send of the
//! same sequence; a delivery that cannot succeed ends as a dead letter with its reason.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use harbor_a2a::{
    AgentCard, AuthenticationInfo, Message, Part, SendMessageConfiguration, SendMessageRequest,
    TaskPushNotificationConfig,
};
use harbor_distributed::{A2aHandler, CallContext, Identity, MemoryTaskStore, TaskLog};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::push::{ATTEMPT_HEADER, PushConfig, SEQUENCE_HEADER, TargetPolicy};
use harbor_test_support::cards;

/// What the receiver answers, in turn, on one path; the last answer repeats.
#[derive(Debug, Clone)]
enum Answer {
    Status(u16),
    RetryAfter(u16, u64),
    Hang(Duration),
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    sequence: u64,
    attempt: u32,
    state: Option<String>,
    authorization: Option<String>,
    token: Option<String>,
    answered: u16,
    at: Instant,
}

#[derive(Default)]
struct Receiver {
    scripts: Mutex<HashMap<String, VecDeque<Answer>>>,
    hits: Mutex<Vec<Hit>>,
}

impl Receiver {
    fn script(&self, path: &str, answers: &[Answer]) {
        self.scripts
            .lock()
            .expect("lock")
            .insert(path.to_owned(), answers.iter().cloned().collect());
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits
            .lock()
            .expect("lock")
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }

    /// The sequences answered 2xx on `path`, in arrival order.
    fn delivered(&self, path: &str) -> Vec<u64> {
        self.hits(path)
            .iter()
            .filter(|h| (200..300).contains(&h.answered))
            .map(|h| h.sequence)
            .collect()
    }
}

async fn hook(
    State(receiver): State<Arc<Receiver>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let answer = {
        let mut scripts = receiver.scripts.lock().expect("lock");
        let script = scripts.entry(path.clone()).or_default();
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
    }
    .unwrap_or(Answer::Status(200));
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let event: serde_json::Value = serde_json::from_str(&body).expect("a JSON StreamResponse");
    let state = event
        .pointer("/statusUpdate/status/state")
        .or_else(|| event.pointer("/task/status/state"))
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    // 0: no answer in time (the request hangs past the client's timeout).
    let answered = match answer {
        Answer::Status(code) | Answer::RetryAfter(code, _) => code,
        Answer::Hang(_) => 0,
    };
    receiver.hits.lock().expect("lock").push(Hit {
        path,
        sequence: header(SEQUENCE_HEADER)
            .and_then(|s| s.parse().ok())
            .expect("a sequence header"),
        attempt: header(ATTEMPT_HEADER)
            .and_then(|s| s.parse().ok())
            .expect("an attempt header"),
        state,
        authorization: header("authorization"),
        token: header("x-a2a-notification-token"),
        answered,
        at: Instant::now(),
    });
    match answer {
        Answer::Status(code) => StatusCode::from_u16(code).expect("status").into_response(),
        Answer::RetryAfter(code, seconds) => (
            StatusCode::from_u16(code).expect("status"),
            [("retry-after", seconds.to_string())],
        )
            .into_response(),
        Answer::Hang(how_long) => {
            tokio::time::sleep(how_long).await;
            StatusCode::OK.into_response()
        }
    }
}

async fn receiver() -> (Arc<Receiver>, String) {
    let receiver = Arc::new(Receiver::default());
    let app = Router::new()
        .route("/hook/{path}", post(hook))
        .with_state(Arc::clone(&receiver));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (receiver, url)
}

fn card() -> AgentCard {
    cards::card("push", "test", cards::NOWHERE, cards::streaming_push())
}

/// Fast retries for tests: 20 ms first, 200 ms at most, 300 ms per request.
fn fast() -> PushConfig {
    PushConfig {
        timeout: Duration::from_millis(300),
        targets: TargetPolicy::AllowPrivate,
        first_retry: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_attempts: 8,
        ..PushConfig::default()
    }
}

fn handler(store: Arc<dyn TaskLog>, push: PushConfig) -> DefaultHandler {
    DefaultHandler::builder(card(), Arc::new(ConformanceAgent::default()))
        .store(store)
        .push(push)
        .build()
        .expect("handler")
}

fn ctx() -> CallContext {
    CallContext::new(Identity::new("t", "u", "s").expect("identity"))
}

fn hook_config(url: &str, path: &str) -> TaskPushNotificationConfig {
    TaskPushNotificationConfig {
        id: path.into(),
        url: format!("{url}/hook/{path}"),
        token: format!("token-{path}"),
        authentication: Some(AuthenticationInfo {
            scheme: "Bearer".into(),
            credentials: format!("secret-{path}"),
        }),
        ..TaskPushNotificationConfig::default()
    }
}

/// Sends `prefix` with the inline config `inline` and returns the task id.
async fn send(
    handler: &DefaultHandler,
    prefix: &str,
    inline: Option<TaskPushNotificationConfig>,
) -> String {
    let request = SendMessageRequest {
        message: Some(Message::user(
            format!("{prefix}-{}", uuid()),
            [Part::text("hi")],
        )),
        configuration: Some(SendMessageConfiguration {
            task_push_notification_config: inline,
            ..SendMessageConfiguration::default()
        }),
        ..SendMessageRequest::default()
    };
    match handler
        .send_message(&ctx(), request)
        .await
        .expect("send")
        .payload
    {
        Some(harbor_a2a::send_message_response::Payload::Task(task)) => task.id,
        other => panic!("a task, got {other:?}"),
    }
}

fn uuid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// Waits until `done()` holds, failing after 20 s with `what`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The dead letters once there are `n` of them, failing after 20 s.
async fn dead_letters(handler: &DefaultHandler, n: usize) -> Vec<harbor_distributed::PushCursor> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let dead = handler
            .push_dead_letters(None, 100)
            .await
            .expect("dead letters");
        if dead.len() >= n {
            return dead;
        }
        assert!(
            Instant::now() < deadline,
            "only {} dead letters: {dead:?}",
            dead.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every request on `path`: a sequence is only ever sent again after a failed attempt at
/// it, and attempts count up per sequence.
fn check_resends(receiver: &Receiver, path: &str) {
    let hits = receiver.hits(path);
    let mut last: HashMap<u64, (u32, u16)> = HashMap::new();
    for hit in &hits {
        if let Some((attempt, answered)) = last.get(&hit.sequence) {
            assert!(
                !(200..300).contains(answered),
                "{path}: sequence {} sent again after it was delivered: {hits:?}",
                hit.sequence
            );
            assert_eq!(
                hit.attempt,
                attempt + 1,
                "{path}: attempts count up: {hits:?}"
            );
        } else {
            assert_eq!(
                hit.attempt, 1,
                "{path}: a first send is attempt 1: {hits:?}"
            );
        }
        last.insert(hit.sequence, (hit.attempt, hit.answered));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_in_order_through_refusals_429s_500s_and_a_hang() {
    let (receiver, url) = receiver().await;
    receiver.script(
        "flaky",
        &[
            Answer::Status(500),
            Answer::Status(502),
            Answer::RetryAfter(429, 1),
            Answer::Hang(Duration::from_secs(2)),
            Answer::Status(503),
            Answer::Status(200),
        ],
    );
    let store = Arc::new(MemoryTaskStore::new());
    let handler = handler(store.clone(), fast());
    // A task with five events (task, WORKING, two chunks, COMPLETED) delivered to an inline
    // config, and a second task waiting for input that gets a config through the RPC.
    send(
        &handler,
        "tck-stream-artifact-chunked",
        Some(hook_config(&url, "flaky")),
    )
    .await;
    let waiting = send(&handler, "tck-input-required", None).await;
    let mut steady = hook_config(&url, "steady");
    steady.task_id.clone_from(&waiting);
    handler
        .create_task_push_notification_config(&ctx(), steady)
        .await
        .expect("create config");
    // Completing the waiting task: only events after the config's creation are its.
    let mut follow = Message::user(format!("tck-complete-task-{}", uuid()), [Part::text("go")]);
    follow.task_id.clone_from(&waiting);
    handler
        .send_message(
            &ctx(),
            SendMessageRequest {
                message: Some(follow),
                ..SendMessageRequest::default()
            },
        )
        .await
        .expect("follow-up");

    until("five events delivered to the flaky hook", || {
        receiver.delivered("flaky").len() == 5
    })
    .await;
    until("the steady hook's events", || {
        !receiver.delivered("steady").is_empty()
    })
    .await;
    assert_eq!(
        receiver.delivered("flaky"),
        [1, 2, 3, 4, 5],
        "in log order, each once"
    );
    check_resends(&receiver, "flaky");
    let flaky = receiver.hits("flaky");
    assert_eq!(
        flaky.iter().filter(|h| h.sequence == 1).count(),
        6,
        "entry 1 took five failures (500, 502, 429, a hang, 503), then went through"
    );
    let after_429 = flaky.iter().position(|h| h.answered == 429).expect("a 429");
    assert!(
        flaky[after_429 + 1].at.duration_since(flaky[after_429].at) >= Duration::from_millis(900),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(
        flaky.last().and_then(|h| h.state.clone()).as_deref(),
        Some("TASK_STATE_COMPLETED")
    );
    for hit in &flaky {
        assert_eq!(hit.authorization.as_deref(), Some("Bearer secret-flaky"));
        assert_eq!(hit.token.as_deref(), Some("token-flaky"));
    }
    let steady = receiver.hits("steady");
    assert!(
        steady.iter().all(|h| h.sequence > 2),
        "a config created on a waiting task gets what follows its creation: {steady:?}"
    );
    assert_eq!(
        steady.last().and_then(|h| h.state.clone()).as_deref(),
        Some("TASK_STATE_COMPLETED")
    );
    assert_eq!(handler.push_counters().map(|c| c.dead_total()), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_that_cannot_succeed_become_dead_letters_and_can_be_redriven() {
    let (receiver, url) = receiver().await;
    receiver.script("gone", &[Answer::Status(404)]);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        format!("http://{address}")
    };
    let store = Arc::new(MemoryTaskStore::new());
    let handler = handler(
        store.clone(),
        PushConfig {
            max_attempts: 3,
            ..fast()
        },
    );
    let refused = send(
        &handler,
        "tck-complete-task",
        Some(hook_config(&url, "gone")),
    )
    .await;
    let unreachable = send(
        &handler,
        "tck-complete-task",
        Some(hook_config(&closed, "nobody")),
    )
    .await;
    let dead = dead_letters(&handler, 2).await;
    let gone = dead
        .iter()
        .find(|d| d.task_id == refused)
        .expect("the 404 one");
    assert_eq!(gone.attempts, 1, "a 404 is not retried");
    assert_eq!(gone.last_failure.as_ref().and_then(|f| f.status), Some(404));
    assert!(
        gone.dead.as_deref().is_some_and(|r| r.contains("HTTP 404")),
        "{gone:?}"
    );
    let nobody = dead
        .iter()
        .find(|d| d.task_id == unreachable)
        .expect("the closed one");
    assert_eq!(nobody.attempts, 3, "retried up to max_attempts");
    assert_eq!(nobody.last_failure.as_ref().and_then(|f| f.status), None);
    assert!(
        nobody
            .dead
            .as_deref()
            .is_some_and(|r| r.contains("retries ran out")),
        "{nobody:?}"
    );
    assert!(
        !format!("{dead:?}").contains("secret-"),
        "no credentials in dead letters"
    );
    // The receiver mends its ways; re-driving delivers from the entry that failed.
    receiver.script("gone", &[Answer::Status(200)]);
    assert!(
        handler
            .redrive_push(&refused, "gone")
            .await
            .expect("redrive")
    );
    until("the re-driven delivery", || {
        receiver.delivered("gone").len() == 2
    })
    .await;
    assert_eq!(receiver.delivered("gone"), [1, 2]);
    assert!(
        !handler
            .redrive_push(&refused, "gone")
            .await
            .expect("redrive again")
    );
    let left = handler
        .push_dead_letters(None, 100)
        .await
        .expect("dead letters");
    assert_eq!(left.len(), 1, "only the unreachable one is left: {left:?}");
    assert_eq!(
        handler.push_counters().map(|c| c.dead_total()),
        Some(2),
        "two deliveries gave up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_targets_are_refused_unless_allowed() {
    let (receiver, url) = receiver().await;
    let handler = handler(
        Arc::new(MemoryTaskStore::new()),
        PushConfig {
            targets: TargetPolicy::PublicOnly,
            ..fast()
        },
    );
    let task = send(
        &handler,
        "tck-complete-task",
        Some(hook_config(&url, "private")),
    )
    .await;
    let dead = dead_letters(&handler, 1).await;
    assert_eq!(dead[0].task_id, task);
    assert!(
        dead[0]
            .dead
            .as_deref()
            .is_some_and(|r| r.contains("not public")),
        "{dead:?}"
    );
    assert!(
        receiver.hits("private").is_empty(),
        "nothing reached the receiver"
    );
}
