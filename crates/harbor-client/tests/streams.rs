//! Streams against scripted SSE servers: framing over the network, ends, mid-stream
//! errors, caps, and picking up a dropped stream (with and without `Last-Event-ID`).

mod support;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use harbor_a2a::stream_response::Payload;
use harbor_a2a::{
    A2aError, AgentCard, AgentInterface, ErrorKind, SendMessageRequest, StreamResponse, TaskState,
};
use harbor_client::{Binding, ClientConfig, ClientError};
use harbor_distributed::{Error, EventStream, Peer, RemoteTransport};
use support::{Log, Server, ctx, spawn};

const WORKING: &str =
    r#"{"task":{"id":"t1","contextId":"c1","status":{"state":"TASK_STATE_WORKING"}}}"#;
const WAITING: &str =
    r#"{"task":{"id":"t1","contextId":"c1","status":{"state":"TASK_STATE_INPUT_REQUIRED"}}}"#;
const DONE: &str = r#"{"statusUpdate":{"taskId":"t1","contextId":"c1","status":{"state":"TASK_STATE_COMPLETED"}}}"#;
const COMPLETED_TASK: &str =
    r#"{"id":"t1","contextId":"c1","status":{"state":"TASK_STATE_COMPLETED"}}"#;
const MESSAGE: &str =
    r#"{"message":{"messageId":"m1","role":"ROLE_AGENT","parts":[{"text":"hi"}]}}"#;

/// One scripted answer.
#[derive(Clone)]
enum Reply {
    /// An event stream of these chunks, then the end of the body or silence.
    Sse(Vec<String>, bool),
    /// A plain answer.
    Plain(StatusCode, String),
}

fn frames(events: &[&str]) -> Vec<String> {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

fn close(chunks: Vec<String>) -> Reply {
    Reply::Sse(chunks, false)
}

fn hang(chunks: Vec<String>) -> Reply {
    Reply::Sse(chunks, true)
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Self::Plain(status, body) => {
                (status, [("content-type", "application/json")], body).into_response()
            }
            Self::Sse(chunks, hang) => {
                let chunks =
                    futures::stream::iter(chunks).map(|c| Ok::<_, Infallible>(Bytes::from(c)));
                let body = if hang {
                    Body::from_stream(chunks.chain(futures::stream::pending()))
                } else {
                    Body::from_stream(chunks)
                };
                ([("content-type", "text/event-stream")], body).into_response()
            }
        }
    }
}

#[derive(Clone)]
struct Script {
    stream: Reply,
    subscribes: Arc<Mutex<VecDeque<Reply>>>,
    last_event_ids: Log<Option<String>>,
}

/// A server with a card naming `binding`; the streaming send answers `stream`, each
/// subscribe the next of `subscribes` (then 503), GetTask a completed task.
async fn scripted(
    binding: Binding,
    stream: Reply,
    subscribes: Vec<Reply>,
) -> (Server, Log<Option<String>>) {
    let script = Script {
        stream,
        subscribes: Arc::new(Mutex::new(subscribes.into())),
        last_event_ids: Log::default(),
    };
    let log = script.last_event_ids.clone();
    let server = spawn(move |base| {
        let (path, name) = match binding {
            Binding::JsonRpc => ("/rpc", "JSONRPC"),
            _ => ("/rest", "HTTP+JSON"),
        };
        let card = AgentCard {
            supported_interfaces: vec![AgentInterface {
                url: format!("{base}{path}"),
                protocol_binding: name.into(),
                protocol_version: "1.0".into(),
                ..AgentInterface::default()
            }],
            ..AgentCard::default()
        };
        let card = harbor_a2a::to_json_string(&card).unwrap_or_default();
        Router::new()
            .route(
                "/.well-known/agent-card.json",
                get(move || async move { card }),
            )
            .route(
                "/rest/message:stream",
                post(|State(s): State<Script>| async move { s.stream }),
            )
            .route(
                "/rest/tasks/{segment}",
                post(subscribe)
                    .get(|| async { Reply::Plain(StatusCode::OK, COMPLETED_TASK.to_owned()) }),
            )
            .route(
                "/rpc",
                post(|State(s): State<Script>| async move { s.stream }),
            )
            .with_state(script)
    })
    .await;
    (server, log)
}

async fn subscribe(State(s): State<Script>, headers: HeaderMap) -> Reply {
    let id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.last_event_ids.push(id);
    let next = s
        .subscribes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front();
    next.unwrap_or_else(|| Reply::Plain(StatusCode::SERVICE_UNAVAILABLE, String::new()))
}

async fn open(
    server: &Server,
    binding: Binding,
    tweak: impl FnOnce(&mut ClientConfig),
) -> EventStream {
    let transport = support::transport(binding, |c| {
        c.resume.initial_backoff = Duration::from_millis(1);
        tweak(c);
    });
    transport
        .send_streaming_message(
            &Peer::new(&server.url),
            &ctx(),
            SendMessageRequest::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("the stream did not open: {e}"))
}

/// Every item until the stream ends (which must happen within 10 s).
async fn drain(stream: EventStream) -> Vec<Result<StreamResponse, Error>> {
    tokio::time::timeout(Duration::from_secs(10), stream.collect())
        .await
        .unwrap_or_else(|_| panic!("the stream did not end"))
}

fn states(items: &[Result<StreamResponse, Error>]) -> Vec<Option<TaskState>> {
    items
        .iter()
        .map(|i| i.as_ref().ok().and_then(StreamResponse::state))
        .collect()
}

use TaskState::{Completed, InputRequired, Working};

#[tokio::test]
async fn a_dropped_stream_resumes_from_its_last_event_id() {
    let first = close(vec![format!("id: 1\ndata: {WORKING}\n\n")]);
    let rest = hang(vec![format!("id: 2\ndata: {DONE}\n\n")]);
    let (server, ids) = scripted(Binding::HttpJson, first, vec![rest]).await;
    let items = drain(open(&server, Binding::HttpJson, |_| {}).await).await;
    assert_eq!(
        states(&items),
        [Some(Working), Some(Completed)],
        "{items:?}"
    );
    assert_eq!(
        ids.all(),
        [Some("1".to_owned())],
        "resumed with Last-Event-ID"
    );
}

#[tokio::test]
async fn without_event_ids_the_stream_resubscribes() {
    let first = close(frames(&[WORKING]));
    let rest = hang(frames(&[WORKING, DONE]));
    let (server, ids) = scripted(Binding::HttpJson, first, vec![rest]).await;
    let items = drain(open(&server, Binding::HttpJson, |_| {}).await).await;
    assert_eq!(
        states(&items),
        [Some(Working), Some(Working), Some(Completed)]
    );
    assert_eq!(ids.all(), [None]);
}

#[tokio::test]
async fn a_silent_connection_is_taken_for_dead_and_resumed() {
    let first = hang(frames(&[WORKING]));
    let (server, ids) = scripted(Binding::HttpJson, first, vec![hang(frames(&[DONE]))]).await;
    let stream = open(&server, Binding::HttpJson, |c| {
        c.stream_idle_timeout = Duration::from_millis(300);
    })
    .await;
    let items = drain(stream).await;
    assert_eq!(states(&items), [Some(Working), Some(Completed)]);
    assert_eq!(ids.len(), 1, "one reconnect after the silence");
}

#[tokio::test]
async fn reconnects_are_bounded() {
    let (server, ids) = scripted(Binding::HttpJson, close(frames(&[WORKING])), vec![]).await;
    let items = drain(open(&server, Binding::HttpJson, |c| c.resume.max_attempts = 2).await).await;
    assert_eq!(items.len(), 2, "{items:?}");
    match &items[1] {
        Err(error @ Error::Backend { source, .. }) => {
            assert!(error.is_retryable());
            let typed = source.downcast_ref::<ClientError>();
            assert!(
                matches!(
                    typed,
                    Some(ClientError::StreamInterrupted {
                        attempts: 2,
                        last: Some(_)
                    })
                ),
                "{source}"
            );
        }
        other => panic!("expected the stream to fail after its reconnects, got {other:?}"),
    }
    assert_eq!(ids.len(), 2, "exactly max_attempts reconnects");
}

#[tokio::test]
async fn a_server_that_only_repeats_the_snapshot_is_not_polled_forever() {
    let snapshot_then_close = || close(frames(&[WORKING]));
    let subscribes = (0..5).map(|_| snapshot_then_close()).collect();
    let (server, ids) = scripted(Binding::HttpJson, snapshot_then_close(), subscribes).await;
    let items = drain(open(&server, Binding::HttpJson, |c| c.resume.max_attempts = 2).await).await;
    assert_eq!(
        states(&items),
        [Some(Working), Some(Working), Some(Working), None]
    );
    assert!(items.last().is_some_and(Result::is_err), "{items:?}");
    assert_eq!(ids.len(), 2);
}

#[tokio::test]
async fn a_task_that_ended_while_away_ends_the_stream_with_its_snapshot() {
    let refusal = A2aError::unsupported("task t1 is completed")
        .to_rest_body()
        .to_string();
    let subscribes = vec![Reply::Plain(StatusCode::BAD_REQUEST, refusal)];
    let (server, _) = scripted(Binding::HttpJson, close(frames(&[WORKING])), subscribes).await;
    let items = drain(open(&server, Binding::HttpJson, |_| {}).await).await;
    assert_eq!(states(&items), [Some(Working), Some(Completed)]);
    assert!(matches!(
        &items[1],
        Ok(StreamResponse {
            payload: Some(Payload::Task(_))
        })
    ));
}

#[tokio::test]
async fn a_send_stream_may_close_when_the_task_waits_for_input() {
    let (server, ids) = scripted(Binding::HttpJson, close(frames(&[WAITING])), vec![]).await;
    let items = drain(open(&server, Binding::HttpJson, |_| {}).await).await;
    assert_eq!(states(&items), [Some(InputRequired)]);
    assert_eq!(ids.len(), 0, "no reconnect");
}

#[tokio::test]
async fn streams_end_after_the_terminal_event_or_the_only_message() {
    for events in [&[WORKING, DONE][..], &[MESSAGE]] {
        let (server, _) = scripted(Binding::HttpJson, hang(frames(events)), vec![]).await;
        let items = drain(open(&server, Binding::HttpJson, |_| {}).await).await;
        assert_eq!(items.len(), events.len(), "{items:?}");
        assert!(items.iter().all(Result::is_ok));
    }
}

#[tokio::test]
async fn framing_survives_the_network() {
    let chunks = vec![
        ": keep-alive\r\n".to_owned(),
        "event: message\r\ndata: {\"task\":\r\ndata: {\"id\":\"t1\",\"contextId\":\"c1\","
            .to_owned(),
        "\"status\":{\"state\":\"TASK_STATE_COMP".to_owned(),
        "LETED\"}}}\r".to_owned(),
        "\n\r\n".to_owned(),
    ];
    let (server, _) = scripted(Binding::HttpJson, hang(chunks), vec![]).await;
    let items = drain(open(&server, Binding::HttpJson, |_| {}).await).await;
    assert_eq!(states(&items), [Some(Completed)]);
}

fn rpc_frames(events: &[&str]) -> Vec<String> {
    events
        .iter()
        .map(|e| format!("data: {{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{e}}}\n\n"))
        .collect()
}

#[tokio::test]
async fn json_rpc_streams_unwrap_their_envelopes() {
    let (server, _) = scripted(Binding::JsonRpc, hang(rpc_frames(&[WORKING, DONE])), vec![]).await;
    let items = drain(open(&server, Binding::JsonRpc, |_| {}).await).await;
    assert_eq!(states(&items), [Some(Working), Some(Completed)]);
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_the_peers_error() {
    let rest_error = A2aError::task_not_found("t1").to_rest_body();
    let rpc_error = serde_json::json!({"jsonrpc": "2.0", "id": 1,
        "error": A2aError::task_not_found("t1").to_json_rpc_error()});
    for (binding, mut chunks, error) in [
        (Binding::HttpJson, frames(&[WORKING]), rest_error),
        (Binding::JsonRpc, rpc_frames(&[WORKING]), rpc_error),
    ] {
        chunks.push(format!("event: error\ndata: {error}\n\n"));
        let (server, _) = scripted(binding, hang(chunks), vec![]).await;
        let items = drain(open(&server, binding, |_| {}).await).await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(
            matches!(&items[1], Err(Error::Protocol(e)) if e.kind() == ErrorKind::TaskNotFound),
            "{items:?}"
        );
    }
}

#[tokio::test]
async fn an_oversized_event_fails_the_stream() {
    let huge = format!("data: {}\n\n", "x".repeat(4096));
    let (server, _) = scripted(Binding::HttpJson, hang(vec![huge]), vec![]).await;
    let items = drain(open(&server, Binding::HttpJson, |c| c.max_event_bytes = 1024).await).await;
    match items.as_slice() {
        [Err(Error::Backend { source, .. })] => {
            assert!(
                matches!(
                    source.downcast_ref::<ClientError>(),
                    Some(ClientError::Sse(_))
                ),
                "{source}"
            );
        }
        other => panic!("expected one cap error, got {other:?}"),
    }
}
