//! What the fuzz targets share: an in-process A2A server (the real router and handler over a
//! memory store, with an agent that completes at once) driven one request at a time.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use futures::StreamExt;
use harbor_a2a::{A2aError, AgentCapabilities, AgentCard, AgentInterface, AgentSkill};
use harbor_server::http::HttpConfig;
use harbor_server::{AgentExecutor, DefaultHandler, EventSink, RequestContext};
use tower::ServiceExt;

/// Completes every task at once, echoing nothing: the fuzzer drives the protocol layers,
/// not an agent.
struct Instant;

#[async_trait::async_trait]
impl AgentExecutor for Instant {
    async fn execute(&self, _ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        events.complete(Some("ok")).await
    }
}

fn card() -> AgentCard {
    AgentCard {
        name: "fuzz".into(),
        description: "fuzz target".into(),
        version: "1".into(),
        supported_interfaces: vec![AgentInterface {
            url: "http://127.0.0.1/a2a/jsonrpc".into(),
            protocol_binding: "JSONRPC".into(),
            protocol_version: "1.0".into(),
            ..AgentInterface::default()
        }],
        capabilities: Some(AgentCapabilities {
            streaming: Some(true),
            push_notifications: Some(true),
            extended_agent_card: Some(true),
            ..AgentCapabilities::default()
        }),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        skills: vec![AgentSkill {
            id: "s".into(),
            name: "s".into(),
            description: "s".into(),
            tags: vec!["t".into()],
            ..AgentSkill::default()
        }],
        ..AgentCard::default()
    }
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let card = card();
        let handler = DefaultHandler::builder(card.clone(), Arc::new(Instant))
            .extended_card(card)
            .configure(|c| c.cancel_timeout = Duration::from_millis(10))
            .build()
            .expect("handler");
        let app = harbor_server::http::router(Arc::new(handler), &HttpConfig::default());
        Harness { runtime, app }
    })
}

/// Sends `request` to the server and reads at most the first chunk of the answer (a
/// stream's first event), checking only that an answer comes back.
pub fn serve(request: Request<Body>) {
    let harness = harness();
    harness.runtime.block_on(async {
        let response = harness
            .app
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        assert!(
            response.status().as_u16() >= 200,
            "status {}",
            response.status()
        );
        if response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
        {
            // A stream may never end: its first frame is enough.
            let mut body = response.into_body().into_data_stream();
            let _ = tokio::time::timeout(Duration::from_millis(50), body.next()).await;
        } else {
            let _ = axum::body::to_bytes(response.into_body(), 64 << 20).await;
        }
    });
}
