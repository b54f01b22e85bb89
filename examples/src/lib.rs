//! What the examples share: a card for a local agent, serving a handler on a local port,
//! and the identity the demo clients call with. `minimal-agent` spells all of it out; the
//! other examples call these so that they can show their own subject.

use std::sync::Arc;

use harbor::a2a::{AgentCapabilities, AgentCard, AgentInterface};
use harbor::distributed::{CallContext, Identity};
use harbor::server::http::{HttpConfig, router};
use harbor::server::{AgentExecutor, DefaultHandler};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Whether the example was started with `--demo`: run once against itself and exit (what
/// CI does), instead of serving until Ctrl-C.
pub fn demo_requested() -> bool {
    std::env::args().skip(1).any(|arg| arg == "--demo")
}

/// A card for an agent served at `base` (`http://host:port`), on JSON-RPC and HTTP+JSON
/// at Harbor's default paths, with streaming.
pub fn card(name: &str, description: &str, base: &str) -> AgentCard {
    let interface = |path: &str, binding: &str| AgentInterface {
        url: format!("{base}{path}"),
        protocol_binding: binding.into(),
        protocol_version: "1.0".into(),
        ..AgentInterface::default()
    };
    let http = HttpConfig::default();
    AgentCard {
        name: name.into(),
        description: description.into(),
        version: "1.0.0".into(),
        supported_interfaces: vec![
            interface(&http.jsonrpc_path, "JSONRPC"),
            interface(&http.rest_prefix, "HTTP+JSON"),
        ],
        capabilities: Some(AgentCapabilities {
            streaming: Some(true),
            ..AgentCapabilities::default()
        }),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        ..AgentCard::default()
    }
}

/// A served agent; dropping it stops the server.
#[derive(Debug)]
pub struct Served {
    /// Its base URL (the card is at `{url}/.well-known/agent-card.json`).
    pub url: String,
    server: JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves `agent`, described by [`card`], on `addr` (`127.0.0.1:0` picks a free port).
pub async fn serve(
    name: &str,
    description: &str,
    agent: Arc<dyn AgentExecutor>,
    addr: &str,
) -> anyhow::Result<Served> {
    let listener = TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let handler = DefaultHandler::builder(card(name, description, &url), agent).build()?;
    let app = router(Arc::new(handler), &HttpConfig::default());
    // Small stream events must not wait for Nagle's algorithm.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("the server stopped: {e}");
        }
    });
    Ok(Served { url, server })
}

/// The identity the demo clients act as. The client checks it before every call; by
/// default none of it is sent to the agent.
pub fn caller() -> anyhow::Result<CallContext> {
    Ok(CallContext::new(Identity::new(
        "examples",
        "demo",
        "session-1",
    )?))
}

/// Prints how to reach `served` and waits for Ctrl-C.
pub async fn serve_until_ctrl_c(served: &Served, try_it: &str) -> anyhow::Result<()> {
    println!("serving on {} (Ctrl-C to stop)", served.url);
    println!("try: {try_it}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
