//! The two JSON bindings the suite drives.

use std::fmt;

/// An A2A protocol binding served over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binding {
    /// JSON-RPC 2.0: one endpoint, `method` in the body, streams as SSE of JSON-RPC responses.
    JsonRpc,
    /// HTTP+JSON (REST): one route per RPC, AIP-193 errors, streams as SSE of bare events.
    HttpJson,
}

impl Binding {
    /// Both bindings, in the order the suite runs them.
    pub const ALL: [Binding; 2] = [Binding::JsonRpc, Binding::HttpJson];

    /// The `protocolBinding` string of this binding in an agent card.
    pub fn protocol_binding(self) -> &'static str {
        match self {
            Self::JsonRpc => "JSONRPC",
            Self::HttpJson => "HTTP+JSON",
        }
    }

    /// A short name for test names and reports (`json_rpc`, `http_json`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::JsonRpc => "json_rpc",
            Self::HttpJson => "http_json",
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::JsonRpc => "JSON-RPC",
            Self::HttpJson => "HTTP+JSON",
        })
    }
}
