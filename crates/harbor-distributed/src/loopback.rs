//! The `loopback` transport: A2A calls to handlers in this process.
//!
//! A [`LoopbackNetwork`] is a route table from peer URLs to [`A2aHandler`]s. Handlers are
//! [`register`](LoopbackNetwork::register)ed on it by URL, and transports are
//! [`open`](LoopbackNetwork::open)ed on it; a call goes to the handler registered for the
//! URL its [`Peer`] names. Every call checks the caller's identity before any handler runs,
//! gets its own `tracing` span (`a2a.call`, with `peer` and `method`), and maps handler errors
//! to [`Error::Protocol`].
//!
//! Streams are tracked by the transport that opened them: dropping a stream drops the
//! handler's stream (which cancels its work), and [`close`](crate::RemoteTransport::close) ends
//! every open stream and in-flight call within a deadline.
//!
//! ```
//! use std::sync::Arc;
//!
//! use harbor_a2a::{Message, Part, Role, SendMessageRequest, part::Content};
//! use harbor_conformance::transport::ConformanceAgent;
//! use harbor_distributed::loopback::LoopbackNetwork;
//! use harbor_distributed::{CallContext, Identity, RemoteTransport};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let network = LoopbackNetwork::new();
//! let peer = network.register("loopback://planner", Arc::new(ConformanceAgent::new("planner")))?;
//! let transport = network.open();
//!
//! let ctx = CallContext::new(Identity::new("acme", "ada", "session-1")?);
//! let message = Message {
//!     message_id: "tck-complete-task-1".into(),
//!     role: Role::User.into(),
//!     parts: vec![Part { content: Some(Content::Text("hi".into())), ..Part::default() }],
//!     ..Message::default()
//! };
//! let request = SendMessageRequest { message: Some(message), ..SendMessageRequest::default() };
//! let reply = transport.send_message(&peer, &ctx, request).await?;
//! assert!(reply.payload.is_some());
//!
//! transport.close().await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`A2aHandler`]: crate::A2aHandler
//! [`Peer`]: crate::Peer
//! [`Error::Protocol`]: crate::Error::Protocol

mod driver;
mod network;
mod streams;
mod transport;

pub use driver::LoopbackDriver;
pub use network::LoopbackNetwork;
pub use transport::{DEFAULT_CLOSE_DEADLINE, LoopbackTransport};
