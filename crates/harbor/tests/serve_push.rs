//! Push delivery of `harbor serve` survives the server: events a webhook could not take
//! while it was down are delivered, in order, by the next server on the same data
//! directory; deliveries that give up are listed and re-driven with `harbor push
//! dead-letters | redrive` through the admin listener.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

mod support;

use support::run::run;
use support::serve::Server;

/// What the receiver got on one path: (sequence, attempt, answered).
type Hits = Arc<Mutex<Vec<(String, u64, u32, u16)>>>;

/// Answers `status` (a shared setting) to every POST on `/hook/{path}` and records it.
struct Receiver {
    hits: Hits,
    status: Arc<Mutex<u16>>,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    /// Listens on `address` (the port the server's webhooks name).
    fn start(address: SocketAddr) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let hits: Hits = Arc::default();
        let status = Arc::new(Mutex::new(200));
        let state = (Arc::clone(&hits), Arc::clone(&status));
        let app = Router::new()
            .route(
                "/hook/{path}",
                post(
                    |State((hits, status)): State<(Hits, Arc<Mutex<u16>>)>,
                     Path(path): Path<String>,
                     headers: HeaderMap| async move {
                        let header = |name: &str| -> u64 {
                            headers
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.parse().ok())
                                .expect("a number header")
                        };
                        let answered = *status.lock().expect("lock");
                        hits.lock().expect("lock").push((
                            path,
                            header("x-harbor-event-sequence"),
                            u32::try_from(header("x-harbor-delivery-attempt")).expect("u32"),
                            answered,
                        ));
                        StatusCode::from_u16(answered).expect("status")
                    },
                ),
            )
            .with_state(state);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(address))
            .expect("bind the receiver");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            hits,
            status,
            _runtime: runtime,
        }
    }

    fn answer(&self, status: u16) {
        *self.status.lock().expect("lock") = status;
    }

    fn delivered(&self, path: &str) -> Vec<u64> {
        self.hits
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _, _, answered)| p == path && *answered == 200)
            .map(|(_, sequence, _, _)| *sequence)
            .collect()
    }
}

/// A loopback address nothing listens on (yet).
fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

fn send_with_hook(server: &Server, prefix: &str, hook: &str) -> String {
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "SendMessage",
        "params": {
            "message": {
                "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4()),
                "role": "ROLE_USER",
                "parts": [{"text": "push test"}],
            },
            "configuration": {"taskPushNotificationConfig": {"id": "hook", "url": hook}},
        },
    });
    let answer = post_json(&server.jsonrpc_url, &body);
    answer["result"]["task"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {answer}"))
        .to_owned()
}

/// A JSON POST on a throwaway runtime (the tests are synchronous).
fn post_json(url: &str, body: &Value) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("A2A-Version", "1.0")
            .json(body)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON")
    })
}

fn wait_until(what: &str, done: impl FnMut() -> bool) {
    wait_or_show(what, done, String::new);
}

/// Waits for `done`; on a timeout, fails showing `output()` (the servers' logs).
fn wait_or_show(what: &str, mut done: impl FnMut() -> bool, output: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting: {what}\n{}",
            output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

const FAST_RETRIES: [&str; 7] = [
    "--no-grpc",
    "--allow-private-webhooks",
    "--push-first-retry",
    "50ms",
    "--push-max-backoff",
    "200ms",
    "--admin=127.0.0.1:0",
];

/// The admin URL `harbor serve` printed.
fn admin_url(server: &Server) -> String {
    server
        .output()
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin").map(|u| u.trim().to_owned()))
        .unwrap_or_else(|| panic!("no admin line in:\n{}", server.output()))
}

#[test]
fn a_webhook_down_across_a_restart_gets_every_event_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hook = free_address();
    let mut first = Server::start_in(dir.path(), &FAST_RETRIES);
    // tck-stream-001: the task, WORKING, an artifact, COMPLETED; nobody listens yet.
    let task = send_with_hook(
        &first,
        "tck-stream-001",
        &format!("http://{hook}/hook/down"),
    );
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reap");

    let receiver = Receiver::start(hook);
    let second = Server::start_in(dir.path(), &FAST_RETRIES);
    wait_until("the four events of the task", || {
        receiver.delivered("down").len() >= 4
    });
    assert_eq!(
        receiver.delivered("down"),
        [1, 2, 3, 4],
        "task {task}: in order, once each"
    );
    assert!(
        second
            .output()
            .contains("push delivery resumed for 1 config"),
        "{}",
        second.output()
    );
}

#[test]
fn dead_letters_are_listed_and_redriven_from_the_command_line() {
    let hook = free_address();
    let receiver = Receiver::start(hook);
    receiver.answer(410);
    let server = Server::start(&FAST_RETRIES);
    let admin = admin_url(&server);
    let task = send_with_hook(
        &server,
        "tck-complete-task",
        &format!("http://{hook}/hook/gone"),
    );
    let mut listed = String::new();
    wait_until("a dead letter", || {
        listed = run(&["push", "dead-letters", "--admin", &admin])
            .ok("dead-letters")
            .stdout;
        listed.contains(&task)
    });
    assert!(listed.contains("410"), "{listed}");
    let json = run(&["push", "dead-letters", "--admin", &admin, "--json"]).ok("--json");
    let letters: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(letters[0]["taskId"], task.as_str());
    assert_eq!(letters[0]["configId"], "hook");
    assert_eq!(letters[0]["lastStatus"], 410);
    assert!(
        letters[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("refused it for good")),
        "{letters}"
    );
    receiver.answer(200);
    run(&["push", "redrive", "--admin", &admin, &task, "hook"]).ok("redrive");
    wait_until("the re-driven delivery", || {
        receiver.delivered("gone").len() >= 2
    });
    assert_eq!(receiver.delivered("gone"), [1, 2]);
    let again = run(&["push", "redrive", "--admin", &admin, &task, "hook"]);
    assert_eq!(again.code, Some(2), "no dead letter left: {}", again.stderr);
    let empty = run(&["push", "dead-letters", "--admin", &admin]).ok("dead-letters");
    assert_eq!(empty.stdout.trim(), "no dead letters");
}

/// Two servers sharing a PostgreSQL store and bus: the one that took a push config dies
/// with its events undelivered (the webhook is down); the other claims the config once its
/// hold expires and delivers every event, in order.
#[cfg(feature = "postgres")]
#[test]
fn a_push_config_whose_server_died_is_delivered_by_another() {
    let Some(scratch) = harbor_test_support::postgres::Scratch::new() else {
        return;
    };
    let shared = &scratch.url;
    let start = |name: &str| {
        let mut args: Vec<&str> = FAST_RETRIES.to_vec();
        args.extend([
            // Fast retries add up to the default 50 attempts within seconds on a loaded
            // machine: the delivery must outlive the first server however slow it is.
            "--push-max-attempts",
            "100000",
            "--store",
            shared,
            "--bus",
            shared,
            "--replica-id",
            name,
            "--lease-ttl",
            "1s",
        ]);
        let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        Server::start_with_env(&args, &[("RUST_LOG", "warn,harbor_server=info")])
    };
    // The webhook is ours from the start (no other process can take its port), and
    // answers 503 (retried) until the first server is gone.
    let hook = free_address();
    let receiver = Receiver::start(hook);
    receiver.answer(503);
    let (mut first, second) = (start("push-a"), start("push-b"));
    let task = send_with_hook(
        &first,
        "tck-stream-001",
        &format!("http://{hook}/hook/orphan"),
    );
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reap");

    receiver.answer(200);
    wait_or_show(
        "the four events of the task, from the second server",
        || receiver.delivered("orphan").len() >= 4,
        || {
            format!(
                "--- first ---\n{}\n--- second ---\n{}",
                first.output(),
                second.output()
            )
        },
    );
    assert_eq!(
        receiver.delivered("orphan"),
        [1, 2, 3, 4],
        "task {task}: in order, once each"
    );
    assert!(
        second.output().contains("delivering it from here"),
        "{}",
        second.output()
    );
}
