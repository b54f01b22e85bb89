//! The bindings the suite drives: the two JSON bindings over HTTP, and gRPC.

use std::fmt;

/// An A2A protocol binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binding {
    /// JSON-RPC 2.0: one endpoint, `method` in the body, streams as SSE of JSON-RPC responses.
    JsonRpc,
    /// HTTP+JSON (REST): one route per RPC, AIP-193 errors, streams as SSE of bare events.
    HttpJson,
    /// gRPC (`lf.a2a.v1.A2AService`), checked by the `grpc_*` cases
    /// ([`grpc`](crate::server::grpc)); the HTTP caller [`Rpc`](crate::server::rpc::Rpc)
    /// does not speak it.
    Grpc,
}

impl Binding {
    /// Every binding, in the order the suite runs them.
    pub const ALL: [Binding; 3] = [Binding::JsonRpc, Binding::HttpJson, Binding::Grpc];

    /// The `protocolBinding` string of this binding in an agent card.
    pub fn protocol_binding(self) -> &'static str {
        match self {
            Self::JsonRpc => "JSONRPC",
            Self::HttpJson => "HTTP+JSON",
            Self::Grpc => "GRPC",
        }
    }

    /// A short name for test names and reports (`json_rpc`, `http_json`, `grpc`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::JsonRpc => "json_rpc",
            Self::HttpJson => "http_json",
            Self::Grpc => "grpc",
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::JsonRpc => "JSON-RPC",
            Self::HttpJson => "HTTP+JSON",
            Self::Grpc => "gRPC",
        })
    }
}
