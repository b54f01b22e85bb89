//! What a bench row aims at and measures: the endpoint (binding and URL), the call it
//! repeats, and one request's sample. Every other bench module builds on these.

use std::fmt;
use std::time::Duration;

/// Which call the workers repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Blocking `SendMessage` (baseline: POST answered with a fixed JSON).
    Send,
    /// `SendStreamingMessage` read to its end (baseline: POST answered with fixed SSE).
    Stream,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Send => "send",
            Self::Stream => "stream",
        })
    }
}

/// Where requests go and in which binding's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// The raw baseline server at this base URL.
    Raw {
        /// `http://127.0.0.1:PORT`.
        base: String,
    },
    /// A JSON-RPC interface.
    JsonRpc {
        /// The interface URL from the card.
        url: String,
        /// The interface's tenant, sent in `params` when not empty.
        tenant: String,
    },
    /// An HTTP+JSON interface.
    HttpJson {
        /// The interface URL from the card, without a trailing slash.
        url: String,
        /// The interface's tenant, sent as the first path segment when not empty.
        tenant: String,
    },
    /// A gRPC interface.
    Grpc {
        /// The interface URL from the card (`host:port`).
        url: String,
        /// The interface's tenant, sent in the request's `tenant` field when not empty.
        tenant: String,
    },
}

impl Endpoint {
    /// The binding's name in reports.
    pub(super) fn binding(&self) -> &'static str {
        match self {
            Self::Raw { .. } => "raw",
            Self::JsonRpc { .. } => "jsonrpc",
            Self::HttpJson { .. } => "http-json",
            Self::Grpc { .. } => "grpc",
        }
    }
}

/// What one successful request measured.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    /// From sending the request to having read the whole response.
    pub(super) latency: Duration,
    /// From sending the request to the first SSE event (streams only).
    pub(super) first_event: Option<Duration>,
    /// SSE events read (streams only).
    pub(super) events: u64,
}
