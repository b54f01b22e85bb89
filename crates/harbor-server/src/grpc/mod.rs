//! The gRPC binding: `lf.a2a.v1.A2AService` on tonic, over the same [`A2aHandler`] as the
//! JSON bindings.
//!
//! - All 11 RPCs; `SendStreamingMessage` and `SubscribeToTask` are server-streaming.
//! - The `a2a-version` and `a2a-extensions` metadata become the call's
//!   [`CallContext`](harbor_distributed::CallContext) (the handler checks the version).
//! - Errors are a `google.rpc.Status` with the A2A `ErrorInfo` in `grpc-status-details-bin`,
//!   the code from the error table ([`GrpcConfig::version_error_code`] picks the one for
//!   VersionNotSupported).
//! - A client that cancels a stream drops it here: the handler's stream is dropped, the
//!   task runs on. A server shutdown ends open streams with an INTERNAL status saying so.
//! - Hostile input is bounded: message sizes, header list size, concurrent streams per
//!   connection, open connections, reset-stream floods, a per-call timeout and HTTP/2
//!   keep-alives that find dead peers; a request that does not decode is INVALID_ARGUMENT.
//! - Plaintext by default (local use, tests, the conformance kit); TLS (rustls) with
//!   [`GrpcConfig::tls`].
//!
//! The agent card lists the interface as `host:port` ([`interface`]).

mod config;
mod context;
mod incoming;
mod service;
mod status;
mod stream;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use harbor_a2a::AgentInterface;
use harbor_a2a::pb::a2a_service_server::A2aServiceServer;
use harbor_distributed::A2aHandler;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

pub use config::GrpcConfig;
pub use service::GrpcService;
pub use tls::GrpcTlsConfig;

/// The `protocolBinding` of the gRPC interface on an agent card.
pub const GRPC_BINDING: &str = "GRPC";

/// The tonic service of `handler`, with the message size limits of `config`. Its open
/// streams end when `shutdown` fires.
pub fn service(
    handler: Arc<dyn A2aHandler>,
    config: &GrpcConfig,
    shutdown: CancellationToken,
) -> A2aServiceServer<GrpcService> {
    A2aServiceServer::new(GrpcService::new(handler, config, shutdown))
        .max_decoding_message_size(config.max_request_bytes)
        .max_encoding_message_size(config.max_response_bytes)
}

/// Serves `handler` over gRPC on `listener` until `shutdown` fires, then lets open calls
/// finish (open streams end at once).
///
/// # Errors
///
/// A TLS setting that cannot be loaded (`InvalidInput`), or the server failing.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<dyn A2aHandler>,
    config: &GrpcConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut builder = tonic::transport::Server::builder()
        .timeout(config.request_timeout)
        .max_concurrent_streams(config.max_concurrent_streams)
        .http2_max_header_list_size(config.max_header_list_bytes)
        .http2_keepalive_interval(Some(config.keep_alive_interval))
        .http2_keepalive_timeout(Some(config.keep_alive_timeout))
        .http2_max_pending_accept_reset_streams(Some(config.max_pending_reset_streams))
        .http2_max_local_error_reset_streams(Some(config.max_pending_reset_streams))
        .tcp_nodelay(true)
        .trace_fn(|request| tracing::info_span!("a2a.grpc.request", path = %request.uri().path()));
    if let Some(tls) = &config.tls {
        let mut tls = tls.load()?;
        if let Some(ca) = &config.client_ca {
            let pem = std::fs::read(ca).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot read the client CA {}: {e}", ca.display()),
                )
            })?;
            tls = tls
                .client_ca_root(tonic::transport::Certificate::from_pem(pem))
                .client_auth_optional(true);
        }
        builder = builder
            .tls_config(tls)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    }
    // Small stream frames must not wait for Nagle's algorithm.
    let incoming = incoming::capped(
        TcpIncoming::from(listener).with_nodelay(Some(true)),
        config.max_connections,
    );
    let svc = service(handler, config, shutdown.clone());
    builder
        .add_service(svc)
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
        .map_err(std::io::Error::other)
}

/// The card interface of a gRPC server reachable at `addr` (`host:port`, no scheme, as
/// the specification writes it); a wildcard address is advertised as loopback.
pub fn interface(addr: SocketAddr) -> AgentInterface {
    let ip = addr.ip();
    let host = match ip {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    };
    AgentInterface {
        url: format!("{host}:{}", addr.port()),
        protocol_binding: GRPC_BINDING.into(),
        tenant: String::new(),
        protocol_version: "1.0".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_are_host_and_port() {
        let any: SocketAddr = "0.0.0.0:9998".parse().expect("address");
        assert_eq!(interface(any).url, "127.0.0.1:9998");
        let v6: SocketAddr = "[::1]:10000".parse().expect("address");
        assert_eq!(interface(v6).url, "[::1]:10000");
        assert_eq!(interface(v6).protocol_binding, "GRPC");
    }
}
