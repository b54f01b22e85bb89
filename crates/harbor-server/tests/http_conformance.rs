//! The HTTP-level A2A conformance suite against this crate's server, in-process.
//!
//! Each test starts a fresh server on `127.0.0.1:0` (the default handler over the
//! conformance agent, a memory task store, push delivery that may call loopback
//! webhooks) and runs one case of `harbor_conformance::server` against it.

use std::sync::Arc;

use harbor_a2a::{AgentCapabilities, AgentCard, AgentInterface, AgentSkill};
use harbor_conformance::server::{ServerTarget, TargetOptions};
use harbor_distributed::MemoryTaskStore;
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::http::{HttpConfig, router};
use harbor_server::push::{PushConfig, PushDispatcher, TargetPolicy};

fn card(port: u16) -> AgentCard {
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
    let card = card(port);
    let store = Arc::new(MemoryTaskStore::new());
    let push_config = PushConfig {
        targets: TargetPolicy::AllowPrivate,
        ..PushConfig::default()
    };
    let push = PushDispatcher::start(store.clone(), push_config).expect("start push delivery");
    let handler = DefaultHandler::builder(card.clone(), Arc::new(ConformanceAgent::default()))
        .extended_card(card)
        .store(store)
        .observer(Arc::new(push))
        .build()
        .expect("a valid card");
    let app = router(Arc::new(handler), &HttpConfig::default());
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
