//! Shared by the gRPC tests: the default handler with the conformance agent, served over
//! gRPC on `127.0.0.1:0`, and a raw tonic client.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use harbor_a2a::{AgentCard, Message, Part, SendMessageRequest};
use harbor_distributed::A2aHandler;
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::grpc::{self, GrpcConfig};
use harbor_test_support::cards;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// A card with streaming and push on.
pub fn card() -> AgentCard {
    AgentCard {
        supported_interfaces: vec![cards::interface("127.0.0.1:1", "GRPC")],
        ..cards::card("grpc", "test", cards::NOWHERE, cards::streaming_push())
    }
}

/// The default handler over the conformance agent, whose slow behaviour takes `slow`.
pub fn handler(card: AgentCard, slow: Duration) -> DefaultHandler {
    let agent = ConformanceAgent {
        resubscribe_delay: slow,
    };
    DefaultHandler::builder(card, Arc::new(agent))
        .build()
        .unwrap_or_else(|e| panic!("handler: {e}"))
}

/// A gRPC server, stopped when dropped.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.task.abort();
    }
}

/// Serves `handler` over gRPC on a fresh loopback port.
pub async fn serve(handler: Arc<dyn A2aHandler>, config: GrpcConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("address: {e}"));
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let task = tokio::spawn(async move { grpc::serve(listener, handler, &config, token).await });
    Server {
        addr,
        shutdown,
        task,
    }
}

/// A plaintext client of `server`.
pub async fn client(server: &Server) -> A2aServiceClient<Channel> {
    client_result(server)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e}"))
}

/// A plaintext client of `server`, or why it could not connect.
pub async fn client_result(
    server: &Server,
) -> Result<A2aServiceClient<Channel>, tonic::transport::Error> {
    A2aServiceClient::connect(format!("http://{}", server.addr)).await
}

/// A request with the A2A service parameters as metadata.
pub fn request<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "a2a-version",
        tonic::metadata::MetadataValue::from_static("1.0"),
    );
    request
}

/// A user message with the id that picks the agent's behaviour.
pub fn send(message_id: &str) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message::user(message_id, [Part::text("hi")])),
        ..SendMessageRequest::default()
    }
}

/// Waits until `check` holds, failing after `deadline`.
pub async fn eventually<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + deadline;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
