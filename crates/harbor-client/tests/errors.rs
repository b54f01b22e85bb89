//! Every error shape a peer (or the network) can produce, and what the transport makes of
//! it; timeouts against servers that never answer; response size caps.

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use harbor_a2a::{
    A2aError, AgentCard, AgentInterface, ErrorKind, GetTaskRequest, SendMessageRequest,
};
use harbor_client::{A2aTransport, ClientConfig, ClientError};
use harbor_distributed::{Error, Peer, RemoteTransport};
use serde_json::json;
use support::{Server, ctx, dead_url, spawn};
use tokio::net::TcpListener;

const CARD_PATH: &str = "/.well-known/agent-card.json";

/// A card naming both bindings on this server; the JSON-RPC endpoint and the REST GetTask
/// route answer with `reply`.
async fn answering(
    reply: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
) -> Server {
    spawn(move |base| {
        let card = AgentCard {
            name: "errors".into(),
            supported_interfaces: vec![
                AgentInterface {
                    url: format!("{base}/rpc"),
                    protocol_binding: "JSONRPC".into(),
                    protocol_version: "1.0".into(),
                    ..AgentInterface::default()
                },
                AgentInterface {
                    url: format!("{base}/rest"),
                    protocol_binding: "HTTP+JSON".into(),
                    protocol_version: "1.0".into(),
                    ..AgentInterface::default()
                },
            ],
            ..AgentCard::default()
        };
        let card = harbor_a2a::to_json_string(&card).unwrap_or_default();
        let (r1, r2, r3) = (reply.clone(), reply.clone(), reply);
        Router::new()
            .route(CARD_PATH, get(move || async move { card }))
            .route("/rpc", post(move || async move { r1() }))
            .route("/rest/tasks/{id}", get(move || async move { r2() }))
            .route("/rest/message:stream", post(move || async move { r3() }))
    })
    .await
}

fn transport(
    binding: harbor_client::Binding,
    tweak: impl FnOnce(&mut ClientConfig),
) -> A2aTransport {
    support::transport(binding, tweak)
}

async fn get_task(transport: &A2aTransport, server: &Server) -> Result<harbor_a2a::Task, Error> {
    let req = GetTaskRequest {
        id: "t1".into(),
        ..GetTaskRequest::default()
    };
    transport
        .get_task(&Peer::new(&server.url), &ctx(), req)
        .await
}

fn protocol_kind(result: Result<impl std::fmt::Debug, Error>) -> ErrorKind {
    match result {
        Err(Error::Protocol(e)) => e.kind(),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

fn client_error(result: Result<impl std::fmt::Debug, Error>) -> (bool, String) {
    match result {
        Err(e @ Error::Backend { .. }) => {
            let retryable = e.is_retryable();
            let Error::Backend { source, .. } = e else {
                unreachable!()
            };
            assert!(
                source.downcast_ref::<ClientError>().is_some(),
                "typed source: {source}"
            );
            (retryable, source.to_string())
        }
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

fn json_reply(status: StatusCode, body: serde_json::Value) -> axum::response::Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

use harbor_client::Binding::{HttpJson, JsonRpc};

#[tokio::test]
async fn json_rpc_errors_with_error_info_are_protocol_errors() {
    let server = answering(|| {
        let error = A2aError::task_not_found("t1").to_json_rpc_error();
        json_reply(
            StatusCode::OK,
            json!({"jsonrpc": "2.0", "id": 1, "error": error}),
        )
    })
    .await;
    let result = get_task(&transport(JsonRpc, |_| {}), &server).await;
    match result {
        Err(Error::Protocol(e)) => {
            assert_eq!(e.kind(), ErrorKind::TaskNotFound);
            assert_eq!(e.metadata().get("taskId").map(String::as_str), Some("t1"));
        }
        other => panic!("{other:?}"),
    }
    // Without ErrorInfo the code decides; a JSON-RPC error on a non-200 status is still one.
    let server = answering(|| {
        json_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32004, "message": "no"}}),
        )
    })
    .await;
    let kind = protocol_kind(get_task(&transport(JsonRpc, |_| {}), &server).await);
    assert_eq!(kind, ErrorKind::UnsupportedOperation);
}

#[tokio::test]
async fn aip_193_bodies_are_protocol_errors() {
    let server = answering(|| {
        let error = A2aError::new(ErrorKind::TaskNotCancelable, "finished");
        json_reply(StatusCode::BAD_REQUEST, error.to_rest_body())
    })
    .await;
    let kind = protocol_kind(get_task(&transport(HttpJson, |_| {}), &server).await);
    assert_eq!(kind, ErrorKind::TaskNotCancelable);
}

#[tokio::test]
async fn bare_http_failures_keep_their_status() {
    for (binding, status, body, retryable) in [
        (HttpJson, StatusCode::BAD_GATEWAY, "Bad Gateway", true),
        (
            JsonRpc,
            StatusCode::BAD_GATEWAY,
            "<html>upstream down</html>",
            true,
        ),
        (JsonRpc, StatusCode::SERVICE_UNAVAILABLE, "", true),
        (
            HttpJson,
            StatusCode::FORBIDDEN,
            "{\"detail\": \"no\"}",
            false,
        ),
        (HttpJson, StatusCode::MOVED_PERMANENTLY, "elsewhere", false),
    ] {
        let server =
            answering(move || (status, [("content-type", "text/plain")], body).into_response())
                .await;
        let (is_retryable, message) =
            client_error(get_task(&transport(binding, |_| {}), &server).await);
        assert_eq!(is_retryable, retryable, "{status}");
        assert!(message.contains(&status.as_u16().to_string()), "{message}");
    }
}

#[tokio::test]
async fn answers_that_are_not_a2a_are_invalid_agent_responses() {
    for (binding, reply) in [
        (JsonRpc, "not json"),
        (JsonRpc, r#"{"jsonrpc":"2.0","id":999,"result":{}}"#),
        (JsonRpc, r#"{"jsonrpc":"2.0","id":1}"#),
        (JsonRpc, r#"{"jsonrpc":"2.0","id":1,"result":{"id":5}}"#),
        (HttpJson, "<html></html>"),
        (HttpJson, r#"{"status": "not an object"}"#),
    ] {
        let server = answering(move || json_reply_raw(reply)).await;
        let kind = protocol_kind(get_task(&transport(binding, |_| {}), &server).await);
        assert_eq!(kind, ErrorKind::InvalidAgentResponse, "{binding}: {reply}");
    }
}

fn json_reply_raw(body: &'static str) -> axum::response::Response {
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

#[tokio::test]
async fn oversized_responses_are_refused() {
    let server =
        answering(|| json_reply_raw(Box::leak("x".repeat(64 * 1024).into_boxed_str()))).await;
    for binding in [JsonRpc, HttpJson] {
        let (retryable, message) = client_error(
            get_task(
                &transport(binding, |c| c.max_response_bytes = 4096),
                &server,
            )
            .await,
        );
        assert!(!retryable);
        assert!(message.contains("4096"), "{message}");
    }
}

#[tokio::test]
async fn a_peer_that_refuses_connections_is_a_retryable_backend_error() {
    let transport = transport(JsonRpc, |_| {});
    let req = GetTaskRequest {
        id: "t1".into(),
        ..GetTaskRequest::default()
    };
    let result = transport
        .get_task(&Peer::new(dead_url().await), &ctx(), req)
        .await;
    let (retryable, message) = client_error(result);
    assert!(retryable, "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let timeout = Duration::from_millis(300);
    let transport = transport(JsonRpc, |c| c.card_timeout = timeout);
    let req = GetTaskRequest::default();
    match transport.get_task(&Peer::new(url), &ctx(), req).await {
        Err(Error::Timeout(t)) => assert_eq!(t, timeout),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn calls_and_stream_openings_that_hang_time_out() {
    let server = spawn(|base| {
        let card = AgentCard {
            supported_interfaces: vec![AgentInterface {
                url: format!("{base}/rpc"),
                protocol_binding: "JSONRPC".into(),
                protocol_version: "1.0".into(),
                ..AgentInterface::default()
            }],
            ..AgentCard::default()
        };
        let card = harbor_a2a::to_json_string(&card).unwrap_or_default();
        Router::new()
            .route(CARD_PATH, get(move || async move { card }))
            .route("/rpc", post(std::future::pending::<String>))
    })
    .await;
    let timeout = Duration::from_millis(300);
    let transport = transport(JsonRpc, |c| c.request_timeout = timeout);
    assert!(matches!(get_task(&transport, &server).await, Err(Error::Timeout(t)) if t == timeout));
    let stream = transport
        .send_streaming_message(
            &Peer::new(&server.url),
            &ctx(),
            SendMessageRequest::default(),
        )
        .await;
    assert!(matches!(stream.map(|_| ()), Err(Error::Timeout(t)) if t == timeout));
    assert_eq!(transport.open_calls(), 0, "nothing is left running");
}

#[tokio::test]
async fn errors_before_a_stream_starts_come_back_from_the_call() {
    let server = answering(|| {
        let error = A2aError::unsupported("streaming is off");
        json_reply(StatusCode::BAD_REQUEST, error.to_rest_body())
    })
    .await;
    let opened = transport(HttpJson, |_| {})
        .send_streaming_message(
            &Peer::new(&server.url),
            &ctx(),
            SendMessageRequest::default(),
        )
        .await;
    assert_eq!(
        protocol_kind(opened.map(|_| ())),
        ErrorKind::UnsupportedOperation
    );

    let server = answering(|| {
        json_reply(
            StatusCode::OK,
            json!({"jsonrpc": "2.0", "id": 1, "result": {}}),
        )
    })
    .await;
    let opened = transport(JsonRpc, |_| {})
        .send_streaming_message(
            &Peer::new(&server.url),
            &ctx(),
            SendMessageRequest::default(),
        )
        .await;
    let kind = protocol_kind(opened.map(drop));
    assert_eq!(
        kind,
        ErrorKind::InvalidAgentResponse,
        "a JSON answer to a streaming call"
    );
}
