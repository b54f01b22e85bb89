//! The A2A v1.0 server.
//!
//! [`DefaultHandler`] implements every RPC's semantics over an [`AgentExecutor`] (the user's
//! agent) and a [`TaskStore`](harbor_distributed::TaskStore): each event the agent emits is
//! stored first, then appended to the task's live log, then fanned out to streams,
//! subscribers and push delivery.
//!
//! Every binding serves the same [`A2aHandler`](harbor_distributed::A2aHandler):
//! [`http`] has JSON-RPC and HTTP+JSON (with SSE) and the agent card on axum; [`grpc`] has
//! `lf.a2a.v1.A2AService` on tonic, on its own port.
//!
//! # Features
//!
//! - `grpc` (on by default): the gRPC binding ([`grpc`]), plaintext or TLS (rustls).

pub mod agent;
mod executor;
#[cfg(feature = "grpc")]
pub mod grpc;
mod handler;
pub mod http;
pub mod push;
mod runtime;

pub use executor::{AgentEvent, AgentExecutor, EventSink, RequestContext, text_part};
pub use handler::{DefaultHandler, DefaultHandlerBuilder, HandlerConfig};
pub use runtime::EventObserver;
