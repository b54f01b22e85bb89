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

mod context;
mod incoming;
mod service;
mod status;
mod stream;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use harbor_a2a::pb::a2a_service_server::A2aServiceServer;
use harbor_a2a::{AgentInterface, VersionErrorCode};
use harbor_distributed::{A2aHandler, Identity};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

pub use service::GrpcService;
pub use tls::GrpcTlsConfig;

/// The `protocolBinding` of the gRPC interface on an agent card.
pub const GRPC_BINDING: &str = "GRPC";

/// Settings of the gRPC binding. Data only.
#[derive(Debug, Clone)]
pub struct GrpcConfig {
    /// Largest request message, in bytes. Default 8 MiB (as the HTTP bindings' body limit).
    pub max_request_bytes: usize,
    /// Largest response message, in bytes. Default 16 MiB.
    pub max_response_bytes: usize,
    /// Longest a call may take to produce its response (for streams: to start). Default 300 s.
    pub request_timeout: Duration,
    /// Concurrent calls on one HTTP/2 connection. Default 256.
    pub max_concurrent_streams: u32,
    /// Largest header list (metadata) of a request, in bytes. Default 16 KiB.
    pub max_header_list_bytes: u32,
    /// HTTP/2 ping interval that finds vanished clients. Default 30 s.
    pub keep_alive_interval: Duration,
    /// How long a ping may go unanswered before the connection is closed. Default 20 s.
    pub keep_alive_timeout: Duration,
    /// The principal every call acts as while the server runs without authentication.
    /// Default tenant `default`, user `anonymous`, session `anonymous`.
    pub anonymous: Identity,
    /// Take the caller's identity from the `x-harbor-tenant`, `x-harbor-user`,
    /// `x-harbor-session` (and `x-harbor-run`) metadata when all three are present.
    /// Default false. **Only for tests and trusted networks.**
    pub trust_identity_headers: bool,
    /// Authentication: the caller's principal becomes the call's identity. Default none:
    /// every call is [`anonymous`](Self::anonymous).
    pub auth: crate::auth::Auth,
    /// CA certificates (a PEM file) that client certificates must chain to, for mutual TLS
    /// with [`tls`](Self::tls); clients without a certificate may still use another scheme.
    /// Default none.
    pub client_ca: Option<std::path::PathBuf>,
    /// The gRPC code of VersionNotSupported. Default [`VersionErrorCode::Spec`]
    /// (FAILED_PRECONDITION); `Compat` answers UNIMPLEMENTED as the v1.0.0 conformance kit
    /// expects.
    pub version_error_code: VersionErrorCode,
    /// TLS. Default none: plaintext, for local use and tests.
    pub tls: Option<GrpcTlsConfig>,
    /// Connections served at once; past it a new connection is closed at once (and
    /// logged). Keep it under the process's descriptor limit. Default 512.
    pub max_connections: usize,
    /// Streams a client may reset (or make the server reset) before its connection is
    /// closed (the HTTP/2 "rapid reset" flood). Default 20.
    pub max_pending_reset_streams: usize,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            max_request_bytes: 8 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(300),
            max_concurrent_streams: 256,
            max_header_list_bytes: 16 * 1024,
            keep_alive_interval: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(20),
            anonymous: crate::call::anonymous(),
            trust_identity_headers: false,
            auth: crate::auth::Auth::default(),
            client_ca: None,
            version_error_code: VersionErrorCode::Spec,
            tls: None,
            max_connections: 512,
            max_pending_reset_streams: 20,
        }
    }
}

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
