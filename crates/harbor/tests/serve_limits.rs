//! Whatever `harbor serve` accepts it serves back. Data nested 50 to 120 levels deep (past
//! what the store could decode, within the JSON parser's limit) used to be stored and then
//! fail GetTask and every ListTasks page around it, on all three bindings, across
//! restarts. Now every binding refuses it up front as InvalidParams naming the limit, the
//! deepest accepted value reads back intact, and listing works on every binding before and
//! after a restart.

use std::time::Duration;

use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use harbor_a2a::{
    ListTasksRequest, Message, Part, Role, SendMessageRequest, TaskState, send_message_response,
};
use serde_json::{Value, json};

mod support;

use support::serve::{Server, wait_with_deadline};

/// The deepest data the default limits accept, and depths past it: just past, just below
/// and at prost's limit, and far past it.
const ACCEPTED: usize = 24;
const REFUSED: [usize; 5] = [25, 49, 50, 60, 120];

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("leaf"), |inner, _| json!([inner]))
}

fn message(depth: usize) -> Value {
    json!({
        "messageId": format!("deep-{depth}-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER",
        "parts": [{"data": nested(depth)}],
    })
}

async fn jsonrpc(client: &reqwest::Client, server: &Server, method: &str, params: Value) -> Value {
    client
        .post(&server.jsonrpc_url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .expect("JSON-RPC call")
        .json()
        .await
        .expect("a JSON-RPC answer")
}

async fn rest(client: &reqwest::Client, server: &Server, body: Option<Value>) -> (u16, Value) {
    let request = match body {
        Some(body) => client
            .post(format!("{}/a2a/rest/message:send", server.base_url))
            .json(&body),
        None => client.get(format!("{}/a2a/rest/tasks?pageSize=100", server.base_url)),
    };
    let response = request.send().await.expect("REST call");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

async fn grpc(server: &Server) -> A2aServiceClient<tonic::transport::Channel> {
    let url = format!("http://{}", server.grpc_url.as_deref().expect("gRPC"));
    A2aServiceClient::connect(url).await.expect("gRPC connect")
}

fn grpc_send(depth: usize) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message {
            message_id: format!("deep-{depth}-{}", uuid::Uuid::new_v4()),
            role: Role::User as i32,
            parts: vec![Part::data(nested(depth))],
            ..Message::default()
        }),
        ..SendMessageRequest::default()
    }
}

/// Sends the accepted depth and every refused one on all three bindings; returns the ids
/// of the three tasks created.
async fn send_everywhere(server: &Server) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut created = Vec::new();

    let answer = jsonrpc(
        &client,
        server,
        "SendMessage",
        json!({"message": message(ACCEPTED)}),
    )
    .await;
    assert_eq!(
        answer["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED",
        "JSON-RPC, depth {ACCEPTED}: {answer}"
    );
    created.push(
        answer["result"]["task"]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    );
    for depth in REFUSED {
        let answer = jsonrpc(
            &client,
            server,
            "SendMessage",
            json!({"message": message(depth)}),
        )
        .await;
        assert_eq!(
            answer["error"]["code"], -32602,
            "JSON-RPC, depth {depth}: {answer}"
        );
        let text = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            text.contains("max_depth"),
            "JSON-RPC, depth {depth}: {text}"
        );
    }

    let (status, answer) = rest(&client, server, Some(json!({"message": message(ACCEPTED)}))).await;
    assert_eq!(status, 200, "REST, depth {ACCEPTED}: {answer}");
    created.push(answer["task"]["id"].as_str().expect("id").to_owned());
    for depth in REFUSED {
        let (status, answer) =
            rest(&client, server, Some(json!({"message": message(depth)}))).await;
        assert_eq!(status, 400, "REST, depth {depth}: {answer}");
        assert_eq!(answer["error"]["status"], "INVALID_ARGUMENT", "{answer}");
        let text = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(text.contains("max_depth"), "REST, depth {depth}: {text}");
    }

    let mut grpc = grpc(server).await;
    let reply = grpc
        .send_message(grpc_send(ACCEPTED))
        .await
        .expect("gRPC accepts the deepest allowed data")
        .into_inner();
    let Some(send_message_response::Payload::Task(task)) = reply.payload else {
        panic!("gRPC answered no task: {reply:?}");
    };
    assert_eq!(
        task.status.as_ref().map(|s| s.state),
        Some(TaskState::Completed as i32)
    );
    created.push(task.id);
    for depth in REFUSED {
        let status = grpc
            .send_message(grpc_send(depth))
            .await
            .expect_err("too deep for gRPC");
        // Past what prost decodes the request never reaches the handler, and says so.
        assert_eq!(
            status.code(),
            tonic::Code::InvalidArgument,
            "gRPC, depth {depth}: {status:?}"
        );
    }
    created
}

/// Lists on every binding: each answers, with every created task.
async fn list_everywhere(server: &Server, created: &[String]) {
    let client = reqwest::Client::new();
    let answer = jsonrpc(&client, server, "ListTasks", json!({"pageSize": 100})).await;
    let ids: Vec<&str> = answer["result"]["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("JSON-RPC ListTasks failed: {answer}"))
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    for id in created {
        assert!(ids.contains(&id.as_str()), "JSON-RPC list lacks {id}");
    }

    let (status, answer) = rest(&client, server, None).await;
    assert_eq!(status, 200, "REST ListTasks: {answer}");
    let ids: Vec<&str> = answer["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    for id in created {
        assert!(ids.contains(&id.as_str()), "REST list lacks {id}");
    }

    let page = grpc(server)
        .await
        .list_tasks(ListTasksRequest {
            page_size: Some(100),
            ..ListTasksRequest::default()
        })
        .await
        .expect("gRPC ListTasks")
        .into_inner();
    for id in created {
        assert!(
            page.tasks.iter().any(|t| &t.id == id),
            "gRPC list lacks {id}"
        );
    }

    // And each accepted task reads back with its data intact.
    for id in created {
        let answer = jsonrpc(&client, server, "GetTask", json!({"id": id})).await;
        let data = answer["result"]["history"][0]["parts"][0]["data"].clone();
        assert_eq!(data, nested(ACCEPTED), "GetTask {id}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_data_is_refused_on_every_binding_and_listing_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = Server::start_in(dir.path(), &[]);
    let created = send_everywhere(&first).await;
    list_everywhere(&first, &created).await;

    let pid = first.child.id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(signalled.is_ok_and(|s| s.success()), "kill -TERM failed");
    let status = wait_with_deadline(&mut first.child, Duration::from_secs(20));
    assert!(status.is_some(), "serve did not stop: {}", first.output());

    let second = Server::start_in(dir.path(), &[]);
    list_everywhere(&second, &created).await;
}
