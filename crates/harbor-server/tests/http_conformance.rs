//! The A2A server conformance suite against this crate's server, in-process.
//!
//! Each test starts a fresh server on `127.0.0.1:0` (the default handler over the
//! conformance agent, a memory task store, push delivery that may call loopback
//! webhooks; the JSON bindings and gRPC on a port of its own) and runs one case of
//! `harbor_conformance::server` against it.

use std::sync::Arc;

use harbor_a2a::{AgentCapabilities, AgentCard, AgentInterface, AgentSkill};
use harbor_conformance::server::{ServerTarget, TargetOptions};
use harbor_distributed::MemoryTaskStore;
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::http::{HttpConfig, router};
use harbor_server::push::{PushConfig, TargetPolicy};

fn card(port: u16, grpc_port: u16) -> AgentCard {
    let interface = |binding: &str, path: &str| AgentInterface {
        url: format!("http://127.0.0.1:{port}{path}"),
        protocol_binding: binding.into(),
        protocol_version: "1.0".into(),
        ..AgentInterface::default()
    };
    AgentCard {
        name: "harbor conformance agent".into(),
        description: "The built-in agent, behaving per the conformance kit's prefix table.".into(),
        version: "1.0.0".into(),
        supported_interfaces: vec![
            interface("JSONRPC", "/a2a/jsonrpc"),
            interface("HTTP+JSON", "/a2a/rest"),
            AgentInterface {
                url: format!("127.0.0.1:{grpc_port}"),
                protocol_binding: "GRPC".into(),
                protocol_version: "1.0".into(),
                ..AgentInterface::default()
            },
        ],
        capabilities: Some(AgentCapabilities {
            streaming: Some(true),
            push_notifications: Some(true),
            extended_agent_card: Some(true),
            ..AgentCapabilities::default()
        }),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        skills: vec![AgentSkill {
            id: "conformance".into(),
            name: "Conformance".into(),
            description: "Answers the conformance kit's scenarios.".into(),
            tags: vec!["tck".into()],
            ..AgentSkill::default()
        }],
        ..AgentCard::default()
    }
}

/// Starts a server on a free port and connects a target to it.
async fn target() -> ServerTarget {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0 for gRPC");
    let grpc_port = grpc.local_addr().expect("local address").port();
    let card = card(port, grpc_port);
    let store = Arc::new(MemoryTaskStore::new());
    let push_config = PushConfig {
        targets: TargetPolicy::AllowPrivate,
        ..PushConfig::default()
    };
    let handler = DefaultHandler::builder(card.clone(), Arc::new(ConformanceAgent::default()))
        .extended_card(card)
        .store(store)
        .push(push_config)
        .build()
        .expect("a valid card");
    let handler = Arc::new(handler);
    let grpc_handler: Arc<dyn harbor_distributed::A2aHandler> = handler.clone();
    tokio::spawn(async move {
        let config = harbor_server::grpc::GrpcConfig::default();
        let shutdown = tokio_util::sync::CancellationToken::new();
        harbor_server::grpc::serve(grpc, grpc_handler, &config, shutdown)
            .await
            .expect("serve gRPC");
    });
    let app = router(handler, &HttpConfig::default());
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        // Without TCP_NODELAY small SSE events wait for delayed ACKs.
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let options = TargetOptions {
        allow_loopback_webhooks: true,
        ..TargetOptions::default()
    };
    ServerTarget::connect_with(format!("http://127.0.0.1:{port}"), options)
        .await
        .expect("fetch the agent card")
}

harbor_conformance::server_suite!(target);

/// The whole suite through the runner, as a CLI would run it: every case passes or is
/// skipped with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_all_reports_every_case() {
    let target = target().await;
    let report = harbor_conformance::server::run_all(&target).await;
    println!("{report}");
    assert_eq!(report.cases.len(), harbor_conformance::server::CASES.len());
    assert!(
        report.is_success(),
        "{} cases failed (report above)",
        report.failed()
    );
    assert_eq!(
        report.skipped(),
        0,
        "with push and loopback webhooks allowed nothing skips (report above)"
    );
}

/// Harbor's own choice on HTTP+JSON: `application/a2a+json` exactly when the request sends
/// it or asks for it, `application/json` otherwise; errors follow the same rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answers_the_media_type_the_request_uses() {
    let target = target().await;
    let rest = target
        .http_json_url
        .clone()
        .expect("an HTTP+JSON interface");
    let client = target.client();
    let send = serde_json::json!({"message": {
        "messageId": "tck-complete-task-media",
        "role": "ROLE_USER",
        "parts": [{"text": "hi"}],
    }})
    .to_string();
    let post = |content_type: &'static str, accept: Option<&'static str>| {
        let mut request = client
            .post(format!("{rest}/message:send"))
            .header("A2A-Version", "1.0")
            .header("Content-Type", content_type)
            .body(send.clone());
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        request.send()
    };
    let media = |response: &reqwest::Response| {
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let cases = [
        ("application/json", None, "application/json"),
        ("application/a2a+json", None, "application/a2a+json"),
        (
            "application/json",
            Some("application/a2a+json"),
            "application/a2a+json",
        ),
        ("application/json", Some("*/*"), "application/json"),
    ];
    for (content_type, accept, want) in cases {
        let response = post(content_type, accept).await.expect("send");
        assert_eq!(response.status(), 200, "{content_type} / {accept:?}");
        assert_eq!(media(&response), want, "{content_type} / {accept:?}");
    }
    let missing = |accept: &'static str| {
        client
            .get(format!("{rest}/tasks/no-such-task"))
            .header("A2A-Version", "1.0")
            .header("Accept", accept)
            .send()
    };
    let error = missing("application/a2a+json").await.expect("get");
    assert_eq!(error.status(), 404);
    assert_eq!(media(&error), "application/a2a+json");
    let error = missing("application/json").await.expect("get");
    assert_eq!(error.status(), 404);
    assert_eq!(media(&error), "application/json");
}
