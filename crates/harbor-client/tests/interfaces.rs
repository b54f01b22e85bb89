//! Interface choice (card order, our order, versions), tenants on both bindings, the
//! identity policy, and cards whose endpoints are refused.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use harbor_a2a::GetTaskRequest;
use harbor_client::{A2aTransport, Binding, ClientConfig, ClientError, IdentityPolicy, PeerConfig};
use harbor_distributed::{CallContext, Error, Peer, RemoteTransport};
use harbor_test_support::cards::bare_json as card;
use support::cards::{CARD_PATH, client_error, interface, plain};
use support::{Log, Server, ctx, spawn};

/// What the recording server saw of one call.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: serde_json::Value,
}

const TASK: &str = r#"{"id":"t1","contextId":"c1","status":{"state":"TASK_STATE_COMPLETED"}}"#;

/// A card with several interfaces, and endpoints that record what they receive.
async fn recording_server() -> (Server, Log<Seen>) {
    let seen: Log<Seen> = Log::default();
    let log = seen.clone();
    let server = spawn(move |base| {
        let body = card(
            "c",
            vec![
                interface("urn:example:soap", format!("{base}/soap"), "1.0", ""),
                interface("JSONRPC", format!("{base}/old"), "0.3", ""),
                interface("HTTP+JSON", format!("{base}/rest"), "1.0", "acme"),
                interface("JSONRPC", format!("{base}/rpc"), "1.0", "t2"),
            ],
        );
        let record = move |State(log): State<Log<Seen>>,
                           method: axum::http::Method,
                           OriginalUri(uri): OriginalUri,
                           headers: HeaderMap,
                           body: String| async move {
            let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let id = body.get("id").cloned();
            log.push(Seen {
                method: method.to_string(),
                uri: uri.to_string(),
                headers,
                body,
            });
            let task: serde_json::Value = serde_json::from_str(TASK).unwrap_or_default();
            let reply = match id {
                Some(id) => serde_json::json!({"jsonrpc": "2.0", "id": id, "result": task}),
                None => task,
            };
            ([("content-type", "application/json")], reply.to_string()).into_response()
        };
        Router::new()
            .route(CARD_PATH, get(move || async move { body }))
            .route("/rest/{*rest}", any(record))
            .route("/rpc", any(record))
            .route("/old", any(record))
            .with_state(log)
    })
    .await;
    (server, seen)
}

async fn get_task(transport: &A2aTransport, peer: &Peer, ctx: &CallContext) -> Result<(), Error> {
    let req = GetTaskRequest {
        id: "t1".into(),
        history_length: Some(2),
        ..GetTaskRequest::default()
    };
    let task = transport.get_task(peer, ctx, req).await?;
    assert_eq!(task.id, "t1");
    Ok(())
}

#[tokio::test]
async fn the_first_interface_we_speak_is_called_with_its_tenant() {
    let (server, seen) = recording_server().await;
    let peer = Peer::new(&server.url);
    let ctx = ctx()
        .with_extension("urn:x:one")
        .with_extension("urn:x:two");

    // Card order: an unknown binding and JSON-RPC 0.3 are skipped, HTTP+JSON with tenant
    // acme is first.
    get_task(&plain(|_| {}), &peer, &ctx)
        .await
        .expect("REST call");
    let rest = seen.all().pop().expect("a REST call");
    assert_eq!(
        (rest.method.as_str(), rest.uri.as_str()),
        ("GET", "/rest/acme/tasks/t1?historyLength=2")
    );
    assert_eq!(rest.headers["a2a-version"], "1.0");
    assert_eq!(rest.headers["a2a-extensions"], "urn:x:one, urn:x:two");
    assert!(
        rest.headers
            .keys()
            .all(|h| !h.as_str().starts_with("x-harbor-")),
        "no identity is sent by default: {:?}",
        rest.headers
    );

    // Only JSON-RPC allowed: the 1.0 interface, tenant in params; identity sent on request.
    let rpc_only = plain(|c| {
        c.bindings = vec![Binding::JsonRpc];
        c.default_peer.identity = IdentityPolicy::Headers;
    });
    get_task(&rpc_only, &peer, &ctx)
        .await
        .expect("JSON-RPC call");
    let rpc = seen.all().pop().expect("a JSON-RPC call");
    assert_eq!((rpc.method.as_str(), rpc.uri.as_str()), ("POST", "/rpc"));
    assert_eq!(rpc.body["method"], "GetTask");
    assert_eq!(rpc.body["params"]["tenant"], "t2");
    assert_eq!(rpc.body["params"]["id"], "t1");
    assert_eq!(rpc.headers["a2a-version"], "1.0");
    assert_eq!(rpc.headers["x-harbor-tenant"], "tenant-a");
    assert_eq!(rpc.headers["x-harbor-user"], "alice");
    assert_eq!(rpc.headers["x-harbor-session"], "session-1");

    // Our own order first, with identity for this peer only.
    let own = A2aTransport::builder()
        .config(ClientConfig {
            prefer_own_binding_order: true,
            ..ClientConfig::default()
        })
        .peer(
            &server.url,
            PeerConfig {
                identity: IdentityPolicy::Headers,
                ..PeerConfig::default()
            },
        )
        .build()
        .expect("built");
    get_task(&own, &peer, &ctx).await.expect("JSON-RPC call");
    let own_call = seen.all().pop().expect("a call");
    assert_eq!(own_call.uri, "/rpc");
    assert!(own_call.headers.contains_key("x-harbor-user"));
    assert!(
        seen.all().iter().all(|s| s.uri != "/old"),
        "the 0.3 interface is never called"
    );
}

#[tokio::test]
async fn cards_that_point_nowhere_safe_are_refused() {
    let called = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&called);
    let server = spawn(move |base| {
        let only_insecure = card(
            "c",
            vec![interface(
                "JSONRPC",
                "http://agent.example/rpc".into(),
                "1.0",
                "",
            )],
        );
        let only_unknown = card(
            "g",
            vec![interface(
                "urn:example:soap",
                format!("{base}/soap"),
                "1.0",
                "",
            )],
        );
        Router::new()
            .route(
                "/insecure/.well-known/agent-card.json",
                get(move || async move { only_insecure }),
            )
            .route(
                "/unknown/.well-known/agent-card.json",
                get(move || async move { only_unknown }),
            )
            .fallback(move || async move {
                flag.store(true, Ordering::SeqCst);
                StatusCode::NOT_FOUND
            })
    })
    .await;
    let transport = plain(|_| {});
    let insecure = get_task(
        &transport,
        &Peer::new(format!("{}/insecure", server.url)),
        &ctx(),
    )
    .await;
    let error = insecure.expect_err("an insecure endpoint is refused");
    assert!(!error.is_retryable());
    assert!(
        matches!(client_error(&error), ClientError::InsecureUrl { url, .. } if url == "http://agent.example/rpc"),
        "{error:?}"
    );
    let unknown = get_task(
        &transport,
        &Peer::new(format!("{}/unknown", server.url)),
        &ctx(),
    )
    .await;
    assert!(
        matches!(client_error(&unknown.expect_err("nothing we speak")), ClientError::NoUsableInterface { offered } if offered.len() == 1)
    );
    assert!(
        !called.load(Ordering::SeqCst),
        "nothing but cards was requested"
    );

    let peer = Peer::new("http://agent.example");
    match get_task(&transport, &peer, &ctx()).await {
        Err(Error::InvalidArgument(message)) => {
            assert!(message.contains("plain HTTP"), "{message}")
        }
        other => panic!("an insecure peer must be refused before any request: {other:?}"),
    }
}
