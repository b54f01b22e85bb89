//! The settings of the gRPC binding ([`GrpcConfig`]) and their defaults. Data only; a leaf
//! the listener and the service both read.

use std::time::Duration;

use harbor_a2a::VersionErrorCode;
use harbor_distributed::Identity;

use super::tls::GrpcTlsConfig;

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
