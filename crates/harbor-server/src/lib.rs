//! The A2A v1.0 server.
//!
//! [`DefaultHandler`] implements every RPC's semantics over an [`AgentExecutor`] (the user's
//! agent) and a [`TaskStore`](harbor_distributed::TaskStore): each event the agent emits is
//! stored first, then appended to the task's live log, then fanned out to streams,
//! subscribers and push delivery.

pub mod agent;
mod executor;
mod handler;
pub mod http;
pub mod push;
mod runtime;

pub use executor::{AgentEvent, AgentExecutor, EventSink, RequestContext, text_part};
pub use handler::{DefaultHandler, DefaultHandlerBuilder, HandlerConfig};
pub use runtime::EventObserver;
