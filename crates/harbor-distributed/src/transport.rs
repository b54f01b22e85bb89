//! Calling A2A agents in other processes, and serving calls: the two sides of one contract.
//!
//! [`RemoteTransport`] is the caller's side: the 11 A2A RPCs plus `close`, each naming the
//! [`Peer`] it goes to. [`A2aHandler`] is the serving side, implemented by the A2A server
//! and hosted by every transport (the loopback driver calls it in process).

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use futures::stream::BoxStream;
use harbor_a2a::{A2aError, AgentCard, StreamResponse};

use crate::{Error, Identity};

/// The A2A protocol version this crate speaks.
pub const A2A_VERSION: &str = "1.0";

/// A remote agent: the URL of its card or endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    url: String,
}

impl Peer {
    /// A peer at `url`. The URL is compared as written, less one trailing slash.
    pub fn new(url: impl Into<String>) -> Self {
        let mut url = url.into();
        if url.len() > 1 && url.ends_with('/') {
            url.pop();
        }
        Self { url }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// What travels with every call besides its request: who calls and the service parameters.
///
/// On the serving side the identity comes from authentication, never from headers the
/// caller chose. `Debug` shows header names only, since they may carry credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct CallContext {
    /// Who the call acts for.
    pub identity: Identity,
    /// The `A2A-Version` service parameter (`None` when absent).
    pub version: Option<String>,
    /// The `A2A-Extensions` the caller declared.
    pub extensions: Vec<String>,
    /// Other request headers or metadata, lower-case keys.
    pub headers: BTreeMap<String, String>,
}

impl CallContext {
    /// A context for `identity` speaking [`A2A_VERSION`], with no extensions or headers.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            version: Some(A2A_VERSION.to_owned()),
            extensions: Vec::new(),
            headers: BTreeMap::new(),
        }
    }

    /// Declares an extension.
    #[must_use]
    pub fn with_extension(mut self, uri: impl Into<String>) -> Self {
        self.extensions.push(uri.into());
        self
    }

    /// The `Last-Event-ID` of a resumed stream (the HTTP header, or gRPC metadata of that
    /// name): the sequence of the last event the caller has, as it sent it.
    pub fn last_event_id(&self) -> Option<&str> {
        self.headers.get(LAST_EVENT_ID).map(String::as_str)
    }
}

/// The header (HTTP) or metadata key (gRPC) naming the last event a resuming stream has.
pub const LAST_EVENT_ID: &str = "last-event-id";

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("identity", &self.identity)
            .field("version", &self.version)
            .field("extensions", &self.extensions)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The events of a streaming call. It ends after a terminal state (or a direct message);
/// dropping it ends the call.
pub type EventStream = BoxStream<'static, Result<StreamResponse, Error>>;

/// The events a handler produces for a streaming call.
pub type HandlerStream = BoxStream<'static, Result<StreamEvent, A2aError>>;

/// One event of a handler's stream, with its place in the task's log when it has one.
///
/// The HTTP bindings send `sequence` as the SSE `id:`, so a client that lost the stream
/// resumes after it with `Last-Event-ID` ([`CallContext::last_event_id`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// The event.
    pub event: StreamResponse,
    /// Its sequence in the task's event log; `None` for an event that is not a log entry
    /// (a direct message answering a send) or from a handler that keeps no log.
    pub sequence: Option<u64>,
}

impl StreamEvent {
    /// `event` at `sequence` of its task's log.
    pub fn logged(event: StreamResponse, sequence: u64) -> Self {
        Self {
            event,
            sequence: Some(sequence),
        }
    }
}

impl From<StreamResponse> for StreamEvent {
    /// An event with no log position.
    fn from(event: StreamResponse) -> Self {
        Self {
            event,
            sequence: None,
        }
    }
}

/// The reply of an RPC of each kind of the RPC list, on the serving side.
macro_rules! handler_reply {
    (unary $resp:ident) => {
        harbor_a2a::$resp
    };
    (stream $resp:ident) => {
        HandlerStream
    };
    (empty $resp:ident) => {
        ()
    };
}

/// The reply of an RPC of each kind of the RPC list, on the calling side (for impls of
/// [`RemoteTransport`] generated from the list).
macro_rules! transport_reply {
    (unary $resp:ident) => {
        harbor_a2a::$resp
    };
    (stream $resp:ident) => {
        EventStream
    };
    (empty $resp:ident) => {
        ()
    };
}

pub(crate) use transport_reply;

/// [`A2aHandler`] and [`RemoteTransport`]: one method per entry of the RPC list.
macro_rules! a2a_traits {
    ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
        [$($route:tt)*];)*) => {
        /// The serving side of A2A: one method per RPC (generated from
        /// [`harbor_a2a::for_each_rpc!`]).
        ///
        /// Implementations get a [`CallContext`] whose identity is already validated. A
        /// streaming RPC returns the errors found before its first event from the call itself.
        #[async_trait]
        pub trait A2aHandler: Send + Sync + 'static {
            $(
                $(#[$doc])*
                async fn $fn(
                    &self,
                    ctx: &CallContext,
                    req: harbor_a2a::$req,
                ) -> Result<handler_reply!($kind $resp), A2aError>;
            )*
            /// The public agent card.
            async fn agent_card(&self) -> Result<AgentCard, A2aError>;
        }

        /// The calling side of A2A: one method per RPC (generated from
        /// [`harbor_a2a::for_each_rpc!`]) plus `close`; every call names its peer.
        ///
        /// A call whose context lacks a complete identity fails with
        /// [`Error::IdentityRequired`] before anything is sent. Protocol errors of the peer
        /// come back as [`Error::Protocol`]. `SendMessage` returns a task or a direct message;
        /// list calls return one page, with its `next_page_token`.
        #[async_trait]
        pub trait RemoteTransport: Send + Sync + 'static {
            $(
                $(#[$doc])*
                async fn $fn(
                    &self,
                    peer: &Peer,
                    ctx: &CallContext,
                    req: harbor_a2a::$req,
                ) -> Result<transport_reply!($kind $resp), Error>;
            )*
            /// Cancels every open call and stream, within a bounded time. Idempotent; later
            /// calls fail with [`Error::Closed`].
            async fn close(&self) -> Result<(), Error>;
        }
    };
}

harbor_a2a::for_each_rpc!(a2a_traits);
