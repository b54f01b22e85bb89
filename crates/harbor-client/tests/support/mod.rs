//! Shared by the integration tests: agents hosted by the real HTTP server on
//! `127.0.0.1:0`, the conformance factory, and tiny scripted servers.
#![allow(dead_code, unreachable_pub)]

pub mod cards;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::serve::ListenerExt;
use harbor_a2a::AgentInterface;
use harbor_client::{A2aTransport, Binding, ClientConfig, IdentityPolicy, PeerConfig};
use harbor_conformance::transport::{
    ConformanceAgent, Fixture, HostedAgent, TransportCapabilities, TransportFactory,
};
use harbor_distributed::{A2aHandler, CallContext, Error, Identity, Peer, RemoteTransport};
use harbor_server::grpc::{self, GrpcConfig};
use harbor_server::http::{HttpConfig, router};
use harbor_test_support::forward::Forward;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A server task (and its gRPC server, if any), stopped when dropped.
pub struct Server {
    pub url: String,
    task: JoinHandle<()>,
    grpc: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(grpc) = &self.grpc {
            grpc.abort();
        }
    }
}

/// Serves `app` on a fresh loopback port (TCP_NODELAY set, as served sockets should be).
pub async fn spawn(app: impl FnOnce(&str) -> Router) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding a test server: {e}"));
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("test server address: {e}"))
    );
    let app = app(&url);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        url,
        task,
        grpc: None,
    }
}

/// The interfaces the hosted agent's card lists: the three bindings of the real server,
/// each with a tenant so that tenant routing is exercised; gRPC at `grpc` (`host:port`).
pub fn interfaces(base: &str, grpc: &str) -> Vec<AgentInterface> {
    vec![
        AgentInterface {
            url: format!("{base}/a2a/jsonrpc"),
            protocol_binding: "JSONRPC".into(),
            tenant: "rpc-tenant".into(),
            protocol_version: "1.0".into(),
        },
        AgentInterface {
            url: format!("{base}/a2a/rest"),
            protocol_binding: "HTTP+JSON".into(),
            tenant: "rest-tenant".into(),
            protocol_version: "1.0".into(),
        },
        AgentInterface {
            url: grpc.to_owned(),
            protocol_binding: "GRPC".into(),
            tenant: "grpc-tenant".into(),
            protocol_version: "1.0".into(),
        },
    ]
}

/// Hosts `agent` with the real bindings (HTTP and gRPC, on two ports), identity taken
/// from the trusted headers.
pub async fn host(agent: Arc<dyn A2aHandler>) -> Server {
    let grpc_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding a gRPC test server: {e}"));
    let grpc_addr = grpc_listener
        .local_addr()
        .unwrap_or_else(|e| panic!("gRPC test server address: {e}"));
    let handler: Arc<std::sync::OnceLock<Arc<dyn A2aHandler>>> = Arc::default();
    let slot = Arc::clone(&handler);
    let mut server = spawn(move |base| {
        let handler: Arc<dyn A2aHandler> =
            Arc::new(Forward::new(agent).listing(interfaces(base, &grpc_addr.to_string())));
        let _ = slot.set(Arc::clone(&handler));
        let config = HttpConfig {
            trust_identity_headers: true,
            // Frequent keep-alives let the server notice a client that left.
            keep_alive: Duration::from_millis(200),
            ..HttpConfig::default()
        };
        router(handler, &config)
    })
    .await;
    let handler = handler
        .get()
        .cloned()
        .unwrap_or_else(|| panic!("the handler is set by spawn"));
    let config = GrpcConfig {
        trust_identity_headers: true,
        ..GrpcConfig::default()
    };
    server.grpc = Some(tokio::spawn(async move {
        let _ = grpc::serve(grpc_listener, handler, &config, CancellationToken::new()).await;
    }));
    server
}

/// A transport that speaks only `binding` and sends the caller's identity.
pub fn transport(binding: Binding, tweak: impl FnOnce(&mut ClientConfig)) -> A2aTransport {
    let mut config = ClientConfig {
        bindings: vec![binding],
        default_peer: PeerConfig {
            identity: IdentityPolicy::Headers,
            ..PeerConfig::default()
        },
        ..ClientConfig::default()
    };
    tweak(&mut config);
    A2aTransport::builder()
        .config(config)
        .build()
        .unwrap_or_else(|e| panic!("building the transport: {e}"))
}

/// A URL on loopback that nothing listens on.
pub async fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("address: {e}"));
    drop(listener);
    format!("http://{addr}")
}

/// The conformance factory: one real server per agent, a transport forced to one binding.
pub struct A2aFactory {
    pub binding: Binding,
}

#[async_trait]
impl TransportFactory for A2aFactory {
    fn capabilities(&self) -> TransportCapabilities {
        TransportCapabilities::all()
    }

    async fn fixture(&self, agents: usize) -> Result<Fixture, Error> {
        let mut hosted = Vec::with_capacity(agents);
        let mut servers = Vec::with_capacity(agents);
        for i in 0..agents {
            let agent = ConformanceAgent::new(format!("agent-{i}"));
            let server = host(Arc::new(agent.clone())).await;
            hosted.push(HostedAgent {
                peer: Peer::new(server.url.clone()),
                agent,
            });
            servers.push(server);
        }
        let transport = transport(self.binding, |_| {});
        let probe = transport.clone();
        Ok(
            Fixture::new(Arc::new(transport) as Arc<dyn RemoteTransport>, hosted)
                .with_stream_probe(move || probe.open_streams())
                .keep_alive(servers),
        )
    }

    fn unreachable_peer(&self) -> Peer {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("binding: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"));
        drop(listener);
        Peer::new(format!("http://{addr}"))
    }
}

/// A complete identity for tests.
pub fn identity() -> Identity {
    Identity::new("tenant-a", "alice", "session-1").unwrap_or_else(|e| panic!("{e}"))
}

/// A context for tests.
pub fn ctx() -> CallContext {
    CallContext::new(identity())
}

/// Records what a scripted server saw.
#[derive(Clone)]
pub struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Default for Log<T> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Vec::new())))
    }
}

impl<T: Clone> Log<T> {
    pub fn push(&self, item: T) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(item);
    }

    pub fn all(&self) -> Vec<T> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}
