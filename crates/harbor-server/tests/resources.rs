//! Slow, vanished and oversized clients hold nothing: streams are released when the client
//! goes, executions outlive their streams, bodies are bounded in size and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::http::{HttpConfig, router};
use harbor_test_support::cards;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    base: String,
    handler: DefaultHandler,
}

async fn start(config: HttpConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let card = cards::card(
        "resources",
        "test agent",
        &format!("{base}/a2a/jsonrpc"),
        cards::streaming(),
    );
    let agent = ConformanceAgent {
        resubscribe_delay: Duration::from_millis(500),
    };
    let handler = DefaultHandler::builder(card, Arc::new(agent))
        .build()
        .expect("handler");
    let app = router(Arc::new(handler.clone()), &config);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server { base, handler }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn rpc(method: &str, params: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

fn message(id: &str, task_id: Option<&str>) -> serde_json::Value {
    let mut m =
        serde_json::json!({"messageId": id, "role": "ROLE_USER", "parts": [{"text": "hi"}]});
    if let Some(t) = task_id {
        m["taskId"] = t.into();
    }
    m
}

/// Opens an SSE call and returns the response after its first event arrived.
async fn first_event(
    client: &reqwest::Client,
    url: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    let mut response = client
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("stream call");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = response.chunk().await.expect("read").expect("an event");
    assert!(
        first.starts_with(b"data: "),
        "unexpected first bytes {first:?}"
    );
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_subscriber_releases_its_stream() {
    let server = start(HttpConfig::default()).await;
    let url = format!("{}/a2a/jsonrpc", server.base);
    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(&url)
        .json(&rpc(
            "SendMessage",
            serde_json::json!({"message": message("tck-input-required-1", None)}),
        ))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let task_id = created["result"]["task"]["id"]
        .as_str()
        .expect("task id")
        .to_owned();
    assert_eq!(
        server.handler.open_streams(),
        0,
        "no stream before subscribing"
    );
    let subscription = first_event(
        &client,
        &url,
        rpc("SubscribeToTask", serde_json::json!({"id": task_id})),
    )
    .await;
    assert_eq!(
        server.handler.open_streams(),
        1,
        "the subscription holds one reader"
    );
    drop(subscription);
    eventually("the server releases the subscription", || {
        server.handler.open_streams() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_outlives_its_dropped_stream() {
    let server = start(HttpConfig::default()).await;
    let url = format!("{}/a2a/jsonrpc", server.base);
    let client = reqwest::Client::new();
    let stream = first_event(
        &client,
        &url,
        rpc(
            "SendStreamingMessage",
            serde_json::json!({"message": message("test-resubscribe-message-id-1", None)}),
        ),
    )
    .await;
    assert_eq!(
        server.handler.running_executions(),
        1,
        "the slow execution runs"
    );
    drop(stream);
    eventually("the dropped stream is released", || {
        server.handler.open_streams() == 0
    })
    .await;
    assert_eq!(
        server.handler.running_executions(),
        1,
        "dropping a stream must not stop the task"
    );
    eventually("the execution finishes on its own", || {
        server.handler.running_executions() == 0
    })
    .await;
    let listed: serde_json::Value = client
        .post(&url)
        .json(&rpc(
            "ListTasks",
            serde_json::json!({"status": "TASK_STATE_COMPLETED"}),
        ))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(
        listed["result"]["totalSize"], 1,
        "the task completed without its stream: {listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() {
    let server = start(HttpConfig {
        max_body_bytes: 1024,
        ..HttpConfig::default()
    })
    .await;
    let big = "x".repeat(4096);
    let response = reqwest::Client::new()
        .post(format!("{}/a2a/jsonrpc", server.base))
        .header("content-type", "application/json")
        .body(format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"SendMessage\",\"params\":{{\"pad\":\"{big}\"}}}}"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.expect("a JSON-RPC error body");
    assert_eq!(body["error"]["code"], -32600, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_times_out() {
    let server = start(HttpConfig {
        body_timeout: Duration::from_millis(200),
        ..HttpConfig::default()
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = "POST /a2a/jsonrpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"jsonrpc\":";
    socket.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer))
        .await
        .expect("the server must answer a stalled body in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(
        answer.starts_with("HTTP/1.1 408")
            && answer.contains("application/json")
            && answer.contains("timeout"),
        "expected a JSON 408 naming the timeout, got {answer:?}"
    );
    // Nothing stays open for the abandoned request.
    assert_eq!(server.handler.open_streams(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rest_route_also_answers_under_a_tenant() {
    let server = start(HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let rest = format!("{}/a2a/rest/acme", server.base);
    let sent: serde_json::Value = client
        .post(format!("{rest}/message:send"))
        .json(&serde_json::json!({"message": message("tck-complete-task-1", None)}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let task_id = sent["task"]["id"]
        .as_str()
        .expect("a task under the tenant route");
    let got = client
        .get(format!("{rest}/tasks/{task_id}"))
        .send()
        .await
        .expect("get");
    assert_eq!(got.status(), 200);
    let listed: serde_json::Value = client
        .get(format!("{rest}/tasks"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["totalSize"], 1, "{listed}");
    let canceled = client
        .post(format!("{rest}/tasks/{task_id}:cancel"))
        .send()
        .await
        .expect("cancel");
    assert_eq!(canceled.status(), 400, "a completed task is not cancelable");
}
