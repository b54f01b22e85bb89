//! `harbor serve`: the A2A server with the built-in conformance agent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use harbor_a2a::{AgentCapabilities, AgentCard, AgentInterface, AgentProvider, AgentSkill};
use harbor_distributed::{MemoryTaskStore, TaskStore};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::http::{AGENT_CARD_PATH, HttpConfig};
use harbor_server::push::{PushConfig, PushDispatcher, TargetPolicy};
use tokio_util::sync::CancellationToken;

/// Options of `harbor serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port of the HTTP bindings (JSON-RPC and HTTP+JSON); 0 picks a free port.
    #[arg(long, default_value_t = 9999)]
    port: u16,
    /// Base URL the agent card advertises (default: http://HOST:PORT, with 127.0.0.1 for a
    /// wildcard host). Set it when clients reach the server through another name.
    #[arg(long)]
    public_url: Option<String>,
    /// The agent's name on its card.
    #[arg(long, default_value = "Harbor Conformance Agent")]
    name: String,
    /// The agent's description on its card.
    #[arg(
        long,
        default_value = "Harbor's built-in agent: it behaves as the A2A conformance kit expects and otherwise completes each task echoing its input."
    )]
    description: String,
    /// Do not declare or serve streaming (SendStreamingMessage, SubscribeToTask).
    #[arg(long)]
    no_streaming: bool,
    /// Do not declare or serve push notifications.
    #[arg(long)]
    no_push: bool,
    /// Do not declare or serve the extended agent card.
    #[arg(long)]
    no_extended_card: bool,
    /// Allow push webhooks to loopback and private addresses (conformance runs whose
    /// webhook listens on localhost). Off by default: webhooks may reach public hosts only.
    #[arg(long)]
    allow_private_webhooks: bool,
    /// Path of the JSON-RPC endpoint.
    #[arg(long, default_value = "/a2a/jsonrpc")]
    jsonrpc_path: String,
    /// Prefix of the HTTP+JSON routes.
    #[arg(long, default_value = "/a2a/rest")]
    rest_prefix: String,
    /// Seconds to let open requests finish after Ctrl-C or SIGTERM.
    #[arg(long, default_value_t = 10)]
    shutdown_grace: u64,
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let local = listener.local_addr()?;
    let base = args
        .public_url
        .clone()
        .unwrap_or_else(|| default_base_url(local));
    let base = base.trim_end_matches('/').to_owned();
    let http = HttpConfig {
        jsonrpc_path: args.jsonrpc_path.clone(),
        rest_prefix: args.rest_prefix.clone(),
        ..HttpConfig::default()
    };
    let card = card(&args, &base, &http);

    let store: Arc<dyn TaskStore> = Arc::new(MemoryTaskStore::new());
    let targets = if args.allow_private_webhooks {
        TargetPolicy::AllowPrivate
    } else {
        TargetPolicy::PublicOnly
    };
    let push = PushDispatcher::start(
        Arc::clone(&store),
        PushConfig {
            targets,
            ..PushConfig::default()
        },
    )?;
    let handler = DefaultHandler::builder(card.clone(), Arc::new(ConformanceAgent::default()))
        .store(store)
        .observer(Arc::new(push))
        .extended_card(card)
        .build()
        .map_err(|e| anyhow::anyhow!("invalid agent card: {e}"))?;

    let shutdown = CancellationToken::new();
    let app = harbor_server::http::router_with_shutdown(
        Arc::new(handler.clone()),
        &http,
        shutdown.clone(),
    );
    println!("harbor serve: listening on {local}");
    println!("  agent card  {base}{AGENT_CARD_PATH}");
    println!("  JSON-RPC    {base}{}", http.jsonrpc_path);
    println!("  HTTP+JSON   {base}{}", http.rest_prefix);
    println!("Press Ctrl-C to stop.");

    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        // Small SSE frames must not wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let signal = shutdown.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        wait_for_signal().await;
        eprintln!("harbor serve: shutting down");
        signal.cancel();
    });
    let grace = Duration::from_secs(args.shutdown_grace);
    let mut server = tokio::spawn(async move { server.await });
    tokio::select! {
        // A signal ends open streams at once, so the server may finish in the same instant:
        // check the signal first, or that would read as an unexpected stop.
        biased;
        () = shutdown.cancelled() => {}
        result = &mut server => {
            result??;
            anyhow::bail!("the server stopped without a signal");
        }
    }
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result??,
        Err(_) => eprintln!("harbor serve: requests still open after {grace:?}; stopping anyway"),
    }
    handler.shutdown(grace).await;
    Ok(())
}

/// `http://HOST:PORT`, with a wildcard host replaced by loopback so the card's URLs work.
fn default_base_url(local: SocketAddr) -> String {
    let ip = local.ip();
    let host = match ip {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    };
    format!("http://{host}:{}", local.port())
}

fn card(args: &ServeArgs, base: &str, http: &HttpConfig) -> AgentCard {
    let interface = |path: &str, binding: &str| AgentInterface {
        url: format!("{base}{}", path.trim_end_matches('/')),
        protocol_binding: binding.into(),
        tenant: String::new(),
        protocol_version: "1.0".into(),
    };
    AgentCard {
        name: args.name.clone(),
        description: args.description.clone(),
        supported_interfaces: vec![interface(&http.jsonrpc_path, "JSONRPC"), interface(&http.rest_prefix, "HTTP+JSON")],
        provider: Some(AgentProvider { url: "https://github.com/harbor".into(), organization: "Harbor".into() }),
        version: env!("CARGO_PKG_VERSION").into(),
        capabilities: Some(AgentCapabilities {
            streaming: Some(!args.no_streaming),
            push_notifications: Some(!args.no_push),
            extensions: Vec::new(),
            extended_agent_card: Some(!args.no_extended_card),
        }),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        skills: vec![AgentSkill {
            id: "conformance".into(),
            name: "Conformance behaviours".into(),
            description: "Chooses its behaviour from the message id prefix (tck-complete-task, tck-input-required, tck-stream-001, ...); anything else completes echoing the input.".into(),
            tags: vec!["conformance".into(), "echo".into()],
            examples: vec!["hello".into()],
            ..AgentSkill::default()
        }],
        ..AgentCard::default()
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
