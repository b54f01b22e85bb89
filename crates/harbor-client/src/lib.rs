//! The A2A (Agent2Agent) v1.0 client, and Harbor's `a2a` [`RemoteTransport`] driver.
//!
//! [`A2aTransport`] calls agents in other processes and on other hosts:
//!
//! - **Card resolution** ([`card`]): a peer is an agent's base URL; its
//!   `/.well-known/agent-card.json` (under the peer's path) is fetched, cached by HTTP rules
//!   (`ETag`/`If-None-Match`, `Cache-Control: max-age`), fetched once for concurrent callers,
//!   size-capped, and its signatures parsed (not verified yet). The first interface of the
//!   card that the client speaks (a binding of [`ClientConfig::bindings`] at a `1.x`
//!   version) is called, and its `tenant` goes into every request. Endpoint URLs pass the
//!   same rules as the peer's own: HTTPS, or HTTP to loopback only (unless
//!   [`ClientConfig::allow_insecure_http`]), and a remote card cannot point at this machine.
//! - **Bindings**: JSON-RPC 2.0, HTTP+JSON and gRPC for all 11 RPCs, with `A2A-Version: 1.0`
//!   on every request (gRPC metadata `a2a-version`) and `A2A-Extensions` when the call
//!   declares extensions. Every error shape comes back typed (see [`error`](mod@error) for
//!   the table). [`ClientConfig::preferred_binding`] picks a binding whenever the card
//!   offers it; otherwise the card's order decides. A gRPC interface (`host:port`) is
//!   called with the peer's scheme: TLS when the card came over HTTPS.
//! - **Streams** ([`sse`]): a buffered SSE decoder with caps; streams end after a terminal
//!   state, and a dropped stream reattaches with `SubscribeToTask` (with `Last-Event-ID`
//!   when the server numbers its events), a bounded number of times.
//! - **Identity**: every call validates the caller's identity before anything is sent. What
//!   a peer learns of it is per-peer policy ([`IdentityPolicy`]): nothing by default.
//! - **Lifecycle**: one pooled HTTP client per transport, connect/request/idle timeouts, and
//!   a bounded [`close`](harbor_distributed::RemoteTransport::close) that ends open streams and in-flight calls.
//!
//! [`A2aTransportDriver`] registers it in a [`Registry`](harbor_distributed::Registry) as
//! `a2a`, with the URL schemes `a2a+http` and `a2a+https` (see [`driver`]).
//!
//! # Features
//!
//! - `grpc` (on by default): the gRPC binding (tonic; TLS with rustls and the platform's
//!   roots). Without it, [`Binding::Grpc`] is not chosen from cards, and forcing it fails
//!   with [`ClientError::BindingDisabled`].
//!
//! HTTPS (rustls) is always on.
//!
//! # Example
//!
//! A call without a complete identity is refused before anything touches the network:
//!
//! ```
//! use harbor_a2a::{GetTaskRequest};
//! use harbor_client::{A2aTransport, IdentityPolicy};
//! use harbor_distributed::{CallContext, Error, Identity, Peer, RemoteTransport};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let transport = A2aTransport::builder()
//!     .identity_policy(IdentityPolicy::None)
//!     .build()?;
//! let peer = Peer::new("https://agent.invalid");
//! let nobody = CallContext::new(Identity::default());
//! let request = GetTaskRequest { id: "t1".into(), ..Default::default() };
//! let refused = transport.get_task(&peer, &nobody, request).await;
//! assert!(matches!(refused, Err(Error::IdentityRequired { missing: "tenant" })));
//! transport.close().await?;
//! # Ok::<(), Error>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Calling an agent (here one on this machine, with our identity disclosed to it):
//!
//! ```no_run
//! use harbor_a2a::{Message, Part, SendMessageRequest};
//! use harbor_client::{A2aTransport, IdentityPolicy, PeerConfig};
//! use harbor_distributed::{CallContext, Identity, Peer, RemoteTransport};
//!
//! # async fn run() -> Result<(), harbor_distributed::Error> {
//! let transport = A2aTransport::builder()
//!     .peer("http://127.0.0.1:8080", PeerConfig {
//!         identity: IdentityPolicy::Headers,
//!         ..PeerConfig::default()
//!     })
//!     .build()?;
//! let ctx = CallContext::new(Identity::new("acme", "alice", "session-1")?);
//! let request = SendMessageRequest {
//!     message: Some(Message::user("m1", [Part::text("hello")])),
//!     ..Default::default()
//! };
//! let reply = transport
//!     .send_message(&Peer::new("http://127.0.0.1:8080"), &ctx, request)
//!     .await?;
//! println!("{reply:?}");
//! # Ok(())
//! # }
//! ```
//!
//! [`RemoteTransport`]: harbor_distributed::RemoteTransport

mod binding;
mod body;
mod builder;
pub mod card;
mod config;
pub mod driver;
pub mod error;
mod events;
mod http;
mod oauth;
pub mod sse;
mod tracker;
mod transport;
mod url_policy;

pub use builder::A2aTransportBuilder;
pub use card::{
    CardSignature, CardSignatureConfig, Endpoint, ResolvedCard, SignatureError, SignaturePolicy,
    TrustedKeys,
};
pub use config::{Binding, ClientConfig, IdentityPolicy, PeerConfig, ResumeConfig, TlsSettings};
pub use driver::A2aTransportDriver;
pub use error::{ClientError, error_from_response};
pub use harbor_distributed::Error;
pub use http::{A2A_VERSION, IDENTITY_HEADERS};
pub use oauth::OAuth2ClientCredentials;
pub use transport::A2aTransport;
