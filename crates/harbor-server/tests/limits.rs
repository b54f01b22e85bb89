//! Hostile requests at the edge: limits named in InvalidParams, push configs refused at
//! creation, agent-role messages refused, huge ids not echoed, notifications unanswered,
//! and answers bounded by the byte budgets.

use std::sync::Arc;

use harbor_server::agent::ConformanceAgent;
use harbor_server::http::{HttpConfig, router};
use harbor_server::{DefaultHandler, HandlerConfig};
use harbor_test_support::cards;
use serde_json::{Value, json};

struct Server {
    url: String,
    client: reqwest::Client,
}

async fn start(configure: impl FnOnce(&mut HandlerConfig)) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let card = cards::card(
        "limits",
        "test agent",
        &format!("{base}/a2a/jsonrpc"),
        cards::streaming_push(),
    );
    let handler = DefaultHandler::builder(card, Arc::new(ConformanceAgent::default()))
        .configure(configure)
        .build()
        .expect("handler");
    let app = router(Arc::new(handler), &HttpConfig::default());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        url: format!("{base}/a2a/jsonrpc"),
        client: reqwest::Client::new(),
    }
}

impl Server {
    async fn raw(&self, body: Value) -> reqwest::Response {
        self.client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .expect("call")
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        self.raw(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .await
            .json()
            .await
            .expect("JSON")
    }

    /// Sends `text` and returns the completed task.
    async fn send(&self, text: &str, task_id: Option<&str>) -> Value {
        let mut message =
            json!({"messageId": uuid(), "role": "ROLE_USER", "parts": [{"text": text}]});
        if let Some(id) = task_id {
            message["taskId"] = id.into();
        }
        let answer = self.call("SendMessage", json!({"message": message})).await;
        answer["result"]["task"].clone()
    }
}

fn uuid() -> String {
    format!("tck-complete-task-{}", uuid::Uuid::new_v4())
}

fn invalid_params(answer: &Value) -> &str {
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    answer["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_a_limit_are_refused_naming_it() {
    let server = start(|_| {}).await;
    let parts: Vec<Value> = (0..300).map(|_| json!({"text": "x"})).collect();
    let answer = server
        .call(
            "SendMessage",
            json!({"message": {"messageId": "m", "role": "ROLE_USER", "parts": parts}}),
        )
        .await;
    assert!(invalid_params(&answer).contains("max_parts"), "{answer}");

    let answer = server
        .call(
            "SendMessage",
            json!({"message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "x"}],
                "contextId": "c".repeat(1000)}}),
        )
        .await;
    assert!(invalid_params(&answer).contains("max_id_bytes"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_role_message_is_refused() {
    let server = start(|_| {}).await;
    let answer = server
        .call(
            "SendMessage",
            json!({"message": {"messageId": "m", "role": "ROLE_AGENT", "parts": [{"text": "x"}]}}),
        )
        .await;
    assert!(invalid_params(&answer).contains("ROLE_USER"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_task_id_is_not_echoed() {
    let server = start(|_| {}).await;
    let id = "z".repeat(1 << 20);
    let response = server
        .raw(json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": id}}))
        .await;
    let text = response.text().await.expect("body");
    assert!(text.len() < 2048, "an answer of {} bytes", text.len());
    assert!(text.contains("max_id_bytes"), "{text}");
    // An id within the limit that names no task is clipped too when long.
    let answer = server.call("GetTask", json!({"id": "q".repeat(250)})).await;
    assert_eq!(answer["error"]["code"], -32001, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("(250 bytes)"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_push_configs_are_refused_at_creation() {
    let server = start(|_| {}).await;
    let task = server.send("hello", None).await;
    let task_id = task["id"].as_str().expect("task id");
    let bad = [
        json!({"url": "file:///etc/passwd"}),
        json!({"url": "gopher://example.com/"}),
        json!({"url": "https:///nohost"}),
        json!({"url": format!("https://example.com/{}", "a".repeat(100_000))}),
        json!({"url": "https://example.com/\r\nX-Injected: 1"}),
        json!({"url": "https://example.com/", "token": "t\r\nX: 1"}),
        json!({"url": "https://example.com/", "authentication": {"scheme": "Bearer\n", "credentials": "c"}}),
        json!({"url": "https://example.com/", "authentication": {"scheme": "Bearer", "credentials": "c\u{7f}"}}),
    ];
    for config in &bad {
        let mut params = config.clone();
        params["taskId"] = task_id.into();
        let answer = server
            .call("CreateTaskPushNotificationConfig", params)
            .await;
        invalid_params(&answer);
        // The same config inline, on a new message.
        let answer = server
            .call(
                "SendMessage",
                json!({"message": {"messageId": uuid(), "role": "ROLE_USER", "parts": [{"text": "x"}]},
                    "configuration": {"taskPushNotificationConfig": config}}),
            )
            .await;
        invalid_params(&answer);
    }
    let listed = server
        .call(
            "ListTaskPushNotificationConfigs",
            json!({"taskId": task_id}),
        )
        .await;
    assert_eq!(listed["result"]["configs"], json!(null), "{listed}");
    let good = server
        .call(
            "CreateTaskPushNotificationConfig",
            json!({"taskId": task_id, "url": "https://example.com/hook", "token": "abc"}),
        )
        .await;
    assert_eq!(good["result"]["url"], "https://example.com/hook", "{good}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_gets_no_answer() {
    let server = start(|_| {}).await;
    let response = server
        .raw(json!({"jsonrpc": "2.0", "method": "GetTask", "params": {"id": "nope"}}))
        .await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.expect("body").is_empty());
    // A notification of a method that does not exist is not answered either…
    let response = server
        .raw(json!({"jsonrpc": "2.0", "method": "NoSuchMethod"}))
        .await;
    assert_eq!(response.status(), 204);
    // …but a request that is not a valid Request object is, with id null.
    let response = server
        .raw(json!({"jsonrpc": "1.0", "method": "GetTask"}))
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    assert_eq!(answer["id"], Value::Null);
    // A null id is an id: answered.
    let answer: Value = server
        .raw(json!({"jsonrpc": "2.0", "id": null, "method": "GetTask", "params": {"id": "nope"}}))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["error"]["code"], -32001, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_bounded_by_the_byte_budgets() {
    let server = start(|config| {
        config.max_task_bytes = 20_000;
        config.max_list_bytes = 30_000;
    })
    .await;
    // One task with a long history: five follow-ups of 8 kB each (it waits for input).
    let text = "y".repeat(8_000);
    let first = server
        .call(
            "SendMessage",
            json!({"message": {"messageId": format!("tck-input-required-{}", uuid::Uuid::new_v4()),
                "role": "ROLE_USER", "parts": [{"text": text}]}}),
        )
        .await;
    let task_id = first["result"]["task"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for _ in 0..4 {
        let answer = server
            .call(
                "SendMessage",
                json!({"message": {"messageId": format!("tck-input-required-{}", uuid::Uuid::new_v4()),
                    "role": "ROLE_USER", "taskId": task_id, "parts": [{"text": text}]}}),
            )
            .await;
        assert!(answer.get("result").is_some(), "{answer}");
    }
    let task = server.call("GetTask", json!({"id": task_id})).await;
    let history = task["result"]["history"].as_array().expect("history");
    let bytes = task["result"].to_string().len();
    assert!(
        !history.is_empty() && bytes < 25_000,
        "{} history messages, {bytes} bytes",
        history.len()
    );
    // Ten more tasks of 8 kB each: pages stop at the budget and still cover everything.
    for _ in 0..10 {
        server.send(&text, None).await;
    }
    let mut token = String::new();
    let (mut pages, mut seen) = (0, 0);
    loop {
        let page = server
            .call("ListTasks", json!({"pageSize": 100, "pageToken": token}))
            .await;
        let result = &page["result"];
        let tasks = result["tasks"].as_array().expect("tasks");
        assert!(!tasks.is_empty(), "{page}");
        assert!(
            result.to_string().len() < 60_000,
            "a page of {} bytes",
            result.to_string().len()
        );
        seen += tasks.len();
        pages += 1;
        token = result["nextPageToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if token.is_empty() {
            break;
        }
        assert!(pages < 20, "paging does not end");
    }
    assert!(pages > 1, "the budget never ended a page");
    assert_eq!(seen, 11);
}
