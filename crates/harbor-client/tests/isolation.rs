//! Isolation by construction: a server with API-key authentication on all three bindings;
//! caller A (tenant `acme`, user `alice`) owns a task with a push config; caller B (same
//! tenant, another user) and caller C (another tenant, the same user name) run every RPC
//! against it over JSON-RPC, HTTP+JSON and gRPC and get TaskNotFound each time, while A
//! still sees its task unchanged. Calls without or with a wrong key are Unauthenticated.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use harbor_a2a::{
    AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, ErrorKind,
    GetTaskPushNotificationConfigRequest, GetTaskRequest, ListTaskPushNotificationConfigsRequest,
    ListTasksRequest, Message, Part, SendMessageRequest, SendMessageResponse,
    SubscribeToTaskRequest, TaskPushNotificationConfig, TaskState, send_message_response,
};
use harbor_client::{A2aTransport, Binding, PeerConfig};
use harbor_distributed::{
    A2aHandler, CallContext, Error, EventStream, Identity, LAST_EVENT_ID, Peer, RemoteTransport,
};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::auth::{ApiKeys, Auth, Authenticator, FailureLimit};
use harbor_server::grpc::{self, GrpcConfig};
use harbor_server::http::{self, HttpConfig};
use harbor_test_support::cards;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(10);
const ALICE: &str = "alice-acme-0123456789abcdef";
const BOB: &str = "bob-acme-0123456789abcdef";
const ALICE_GLOBEX: &str = "alice-globex-0123456789abcdef";

struct Server {
    base: String,
    grpc: String,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn card(base: &str, grpc: &str) -> AgentCard {
    AgentCard {
        supported_interfaces: vec![
            cards::interface(format!("{base}/a2a/jsonrpc"), "JSONRPC"),
            cards::interface(format!("{base}/a2a/rest"), "HTTP+JSON"),
            cards::interface(grpc, "GRPC"),
        ],
        ..cards::card(
            "isolation",
            "three callers, one server",
            cards::NOWHERE,
            cards::streaming_push(),
        )
    }
}

async fn serve() -> Server {
    let http_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let grpc_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", http_listener.local_addr().expect("addr"));
    let grpc_addr = grpc_listener.local_addr().expect("addr").to_string();
    let handler: Arc<dyn A2aHandler> = Arc::new(
        DefaultHandler::builder(
            card(&base, &grpc_addr),
            Arc::new(ConformanceAgent::default()),
        )
        .build()
        .expect("handler"),
    );
    let keys = ApiKeys::new()
        .add_key("acme", "alice", ALICE)
        .and_then(|k| k.add_key("acme", "bob", BOB))
        .and_then(|k| k.add_key("globex", "alice", ALICE_GLOBEX))
        .expect("keys");
    let schemes: Vec<Arc<dyn Authenticator>> = vec![Arc::new(keys)];
    // Many wrong keys are tried on purpose: keep the failure limit out of the way here.
    let auth = Auth::new(
        schemes,
        FailureLimit {
            max_failures: 1000,
            ..FailureLimit::default()
        },
    );
    let shutdown = CancellationToken::new();
    let http_config = HttpConfig {
        auth: auth.clone(),
        // Identity headers must be ignored once authentication is on.
        trust_identity_headers: true,
        ..HttpConfig::default()
    };
    let app = http::router_with_shutdown(Arc::clone(&handler), &http_config, shutdown.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move { http::serve(http_listener, app, &http_config, stop).await });
    let grpc_config = GrpcConfig {
        auth,
        trust_identity_headers: true,
        ..GrpcConfig::default()
    };
    let stop = shutdown.clone();
    tokio::spawn(async move { grpc::serve(grpc_listener, handler, &grpc_config, stop).await });
    Server {
        base,
        grpc: format!("http://{grpc_addr}"),
        shutdown,
    }
}

/// A client that speaks only `binding` and sends `key` (and forged identity headers, which
/// the server must ignore).
fn client(base: &str, binding: Binding, key: Option<&str>) -> A2aTransport {
    let mut headers = BTreeMap::new();
    if let Some(key) = key {
        headers.insert("x-api-key".to_owned(), key.to_owned());
    }
    headers.insert("x-harbor-tenant".to_owned(), "acme".to_owned());
    headers.insert("x-harbor-user".to_owned(), "alice".to_owned());
    headers.insert("x-harbor-session".to_owned(), "s".to_owned());
    A2aTransport::builder()
        .bindings([binding])
        .peer(
            base,
            PeerConfig {
                headers,
                ..PeerConfig::default()
            },
        )
        .build()
        .expect("client")
}

fn ctx() -> CallContext {
    // What the client claims to be is not what the server believes.
    CallContext::new(Identity::new("acme", "alice", "s").expect("identity"))
}

fn send(message_id: &str, task_id: Option<&str>) -> SendMessageRequest {
    let mut message = Message::user(message_id, [Part::text("hi")]);
    if let Some(task_id) = task_id {
        message.task_id = task_id.to_owned();
    }
    SendMessageRequest {
        message: Some(message),
        ..SendMessageRequest::default()
    }
}

fn kind<T>(result: Result<T, Error>) -> Option<ErrorKind> {
    result.err().map(|e| e.to_a2a().kind())
}

/// The error a stream fails with: at the call, or as its first item.
async fn stream_kind(result: Result<EventStream, Error>) -> Option<ErrorKind> {
    match result {
        Err(error) => Some(error.to_a2a().kind()),
        Ok(mut stream) => match tokio::time::timeout(DEADLINE, stream.next()).await {
            Ok(Some(Err(error))) => Some(error.to_a2a().kind()),
            Ok(Some(Ok(event))) => panic!("a foreign task streamed an event: {event:?}"),
            Ok(None) => None,
            Err(_) => panic!("the stream neither failed nor ended in time"),
        },
    }
}

/// Every RPC of `intruder` against `task_id` (with push config `config_id`): each must be
/// TaskNotFound, and listing must show nothing of it.
async fn every_rpc_is_not_found(
    intruder: &A2aTransport,
    peer: &Peer,
    task_id: &str,
    config_id: &str,
    who: &str,
) {
    let nf = Some(ErrorKind::TaskNotFound);
    let c = ctx();
    let get = GetTaskRequest {
        id: task_id.into(),
        ..GetTaskRequest::default()
    };
    assert_eq!(
        kind(intruder.get_task(peer, &c, get).await),
        nf,
        "{who}: get"
    );
    let cancel = CancelTaskRequest {
        id: task_id.into(),
        ..CancelTaskRequest::default()
    };
    assert_eq!(
        kind(intruder.cancel_task(peer, &c, cancel).await),
        nf,
        "{who}: cancel"
    );
    let follow_up = send(&format!("tck-complete-task-{who}"), Some(task_id));
    assert_eq!(
        kind(intruder.send_message(peer, &c, follow_up.clone()).await),
        nf,
        "{who}: follow-up message"
    );
    assert_eq!(
        stream_kind(intruder.send_streaming_message(peer, &c, follow_up).await).await,
        nf,
        "{who}: streamed follow-up message"
    );
    let subscribe = SubscribeToTaskRequest {
        id: task_id.into(),
        ..SubscribeToTaskRequest::default()
    };
    assert_eq!(
        stream_kind(
            intruder
                .subscribe_to_task(peer, &c, subscribe.clone())
                .await
        )
        .await,
        nf,
        "{who}: subscribe"
    );
    let config = TaskPushNotificationConfig {
        task_id: task_id.into(),
        url: "https://hooks.example.com/intruder".into(),
        ..TaskPushNotificationConfig::default()
    };
    assert_eq!(
        kind(
            intruder
                .create_task_push_notification_config(peer, &c, config)
                .await
        ),
        nf,
        "{who}: create push config"
    );
    let get_config = GetTaskPushNotificationConfigRequest {
        task_id: task_id.into(),
        id: config_id.into(),
        ..GetTaskPushNotificationConfigRequest::default()
    };
    assert_eq!(
        kind(
            intruder
                .get_task_push_notification_config(peer, &c, get_config)
                .await
        ),
        nf,
        "{who}: get push config"
    );
    let list_configs = ListTaskPushNotificationConfigsRequest {
        task_id: task_id.into(),
        ..ListTaskPushNotificationConfigsRequest::default()
    };
    assert_eq!(
        kind(
            intruder
                .list_task_push_notification_configs(peer, &c, list_configs)
                .await
        ),
        nf,
        "{who}: list push configs"
    );
    let delete = DeleteTaskPushNotificationConfigRequest {
        task_id: task_id.into(),
        id: config_id.into(),
        ..DeleteTaskPushNotificationConfigRequest::default()
    };
    assert_eq!(
        kind(
            intruder
                .delete_task_push_notification_config(peer, &c, delete)
                .await
        ),
        nf,
        "{who}: delete push config"
    );
    let listed = intruder
        .list_tasks(peer, &c, ListTasksRequest::default())
        .await
        .unwrap_or_else(|e| panic!("{who}: list: {e}"));
    assert!(
        listed.tasks.iter().all(|t| t.id != task_id),
        "{who}: list shows a foreign task"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_caller_finds_nothing_on_any_binding_or_tenant() {
    let server = serve().await;
    let peer = Peer::new(&server.base);
    for binding in [Binding::JsonRpc, Binding::HttpJson, Binding::Grpc] {
        let alice = client(&server.base, binding, Some(ALICE));
        let c = ctx();
        let reply = alice
            .send_message(&peer, &c, send("tck-input-required-a", None))
            .await
            .unwrap_or_else(|e| panic!("{binding}: alice sends: {e}"));
        let task = match reply {
            SendMessageResponse {
                payload: Some(send_message_response::Payload::Task(task)),
            } => task,
            other => panic!("{binding}: expected a task, got {other:?}"),
        };
        let config = alice
            .create_task_push_notification_config(
                &peer,
                &c,
                TaskPushNotificationConfig {
                    task_id: task.id.clone(),
                    url: "https://hooks.example.com/alice".into(),
                    ..TaskPushNotificationConfig::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{binding}: alice's push config: {e}"));
        for (key, who) in [(BOB, "bob@acme"), (ALICE_GLOBEX, "alice@globex")] {
            let intruder = client(&server.base, binding, Some(key));
            let who = format!("{who} over {binding}");
            every_rpc_is_not_found(&intruder, &peer, &task.id, &config.id, &who).await;
        }
        // Alice still has her task, untouched, and its push config.
        let get = GetTaskRequest {
            id: task.id.clone(),
            ..GetTaskRequest::default()
        };
        let mine = alice
            .get_task(&peer, &c, get)
            .await
            .unwrap_or_else(|e| panic!("{binding}: alice gets her task: {e}"));
        let state = mine.status.as_ref().map(|s| s.state());
        assert_eq!(state, Some(TaskState::InputRequired), "{binding}");
        let listed = alice
            .list_tasks(&peer, &c, ListTasksRequest::default())
            .await
            .unwrap_or_else(|e| panic!("{binding}: alice lists: {e}"));
        assert!(listed.tasks.iter().any(|t| t.id == task.id), "{binding}");
        let configs = alice
            .list_task_push_notification_configs(
                &peer,
                &c,
                ListTaskPushNotificationConfigsRequest {
                    task_id: task.id.clone(),
                    ..ListTaskPushNotificationConfigsRequest::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{binding}: alice lists configs: {e}"));
        assert_eq!(
            configs.configs.len(),
            1,
            "{binding}: alice's config survives"
        );
    }
}

/// SubscribeToTask resuming after event 1 (`Last-Event-ID`), sent by hand on each binding
/// (the client sends that header only when it resumes a stream of its own).
async fn resubscribe_is_not_found(server: &Server, key: &str, task_id: &str, who: &str) {
    let http = reqwest::Client::new();
    let rest = http
        .get(format!(
            "{}/a2a/rest/tasks/{task_id}:subscribe",
            server.base
        ))
        .header("x-api-key", key)
        .header("a2a-version", "1.0")
        .header(LAST_EVENT_ID, "1")
        .send()
        .await
        .expect("an answer");
    assert_eq!(rest.status().as_u16(), 404, "{who}: REST resubscribe");
    let body: serde_json::Value = rest.json().await.expect("json");
    assert_eq!(body["error"]["status"], "NOT_FOUND", "{who}: {body}");
    let rpc: serde_json::Value = http
        .post(format!("{}/a2a/jsonrpc", server.base))
        .header("x-api-key", key)
        .header("a2a-version", "1.0")
        .header(LAST_EVENT_ID, "1")
        .json(
            &serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "SubscribeToTask",
                                  "params": {"id": task_id}}),
        )
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("json");
    assert_eq!(
        rpc["error"]["code"], -32001,
        "{who}: JSON-RPC resubscribe: {rpc}"
    );
    let mut grpc =
        harbor_a2a::pb::a2a_service_client::A2aServiceClient::connect(server.grpc.clone())
            .await
            .expect("connect");
    let mut request = tonic::Request::new(SubscribeToTaskRequest {
        id: task_id.into(),
        ..SubscribeToTaskRequest::default()
    });
    for (name, value) in [
        ("x-api-key", key),
        ("a2a-version", "1.0"),
        (LAST_EVENT_ID, "1"),
    ] {
        request
            .metadata_mut()
            .insert(name, value.parse().expect("metadata"));
    }
    let status = match grpc.subscribe_to_task(request).await {
        Err(status) => status,
        Ok(response) => {
            let mut events = response.into_inner();
            match tokio::time::timeout(DEADLINE, events.message()).await {
                Ok(Err(status)) => status,
                other => panic!("{who}: gRPC resubscribe streamed: {other:?}"),
            }
        }
    };
    assert_eq!(
        status.code(),
        tonic::Code::NotFound,
        "{who}: gRPC resubscribe"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribing_with_last_event_id_finds_nothing_of_another_caller() {
    let server = serve().await;
    let peer = Peer::new(&server.base);
    let alice = client(&server.base, Binding::JsonRpc, Some(ALICE));
    let reply = alice
        .send_message(&peer, &ctx(), send("tck-input-required-r", None))
        .await
        .expect("alice sends");
    let Some(send_message_response::Payload::Task(task)) = reply.payload else {
        panic!("expected a task");
    };
    for (key, who) in [(BOB, "bob@acme"), (ALICE_GLOBEX, "alice@globex")] {
        resubscribe_is_not_found(&server, key, &task.id, who).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_a_good_key_are_unauthenticated_on_every_binding() {
    let server = serve().await;
    let peer = Peer::new(&server.base);
    for binding in [Binding::JsonRpc, Binding::HttpJson, Binding::Grpc] {
        for key in [None, Some("not-a-key-of-this-server-000")] {
            let caller = client(&server.base, binding, key);
            let result = caller
                .list_tasks(&peer, &ctx(), ListTasksRequest::default())
                .await;
            assert_eq!(
                kind(result),
                Some(ErrorKind::Unauthenticated),
                "{binding} with key {key:?}"
            );
        }
    }
}
