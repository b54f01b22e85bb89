//! The A2A v1.0 server.
//!
//! [`DefaultHandler`] implements every RPC's semantics over an [`AgentExecutor`] (the user's
//! agent) and a [`TaskLog`](harbor_distributed::TaskLog): each event the agent emits is
//! appended to the task's durable, sequenced log (with the task, its projection, in the same
//! write) before anything else sees it; then streams, subscribers, waiting sends and push
//! delivery read it. SSE events carry their log sequence as `id:`, and SubscribeToTask
//! with `Last-Event-ID` resumes exactly after one. With a bus
//! ([`DefaultHandlerBuilder::bus`]) several servers on one store follow each other's tasks.
//! The repository's `docs/task-log.md` describes what is written where and when.
//!
//! Every binding serves the same [`A2aHandler`](harbor_distributed::A2aHandler):
//! [`http`] has JSON-RPC and HTTP+JSON (with SSE) and the agent card on axum; [`grpc`] has
//! `lf.a2a.v1.A2AService` on tonic, on its own port.
//!
//! # Features
//!
//! - `grpc` (on by default): the gRPC binding ([`grpc`]), plaintext or TLS (rustls).

pub mod admin;
pub mod agent;
pub mod auth;
mod call;
pub mod card_signing;
mod executor;
#[cfg(feature = "grpc")]
pub mod grpc;
mod handler;
pub mod http;
pub mod push;
mod runtime;
mod stopping;
pub mod telemetry;
pub mod tls;
pub mod worker;

pub use executor::{AgentEvent, AgentExecutor, EventSink, RequestContext, text_part};
pub use handler::{
    DEFAULT_LEASE_TTL, DefaultHandler, DefaultHandlerBuilder, HandlerConfig, Readiness,
};
pub use runtime::work::Work;
pub use runtime::{EventObserver, Recovered};
pub use worker::{Worker, WorkerConfig};
