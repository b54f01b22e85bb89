//! Harbor's distributed contracts and in-process drivers.
//!
//! - [`Identity`] and [`Envelope`]: identity is mandatory at every edge.
//! - [`MessageBus`]: at-least-once publish/subscribe with ack, nack, redelivery after a
//!   visibility timeout, attempt counters and dead letters.
//! - [`RemoteTransport`] and [`A2aHandler`]: the two sides of an A2A call.
//! - [`TaskStore`]: versioned, owner-scoped task storage; [`TaskLog`]: each task as a
//!   durable, sequenced event log whose projection is the stored task; [`Retention`]: how
//!   long every store keeps finished tasks and their logs.
//! - [`Registry`]: drivers by name and URL scheme.
//! - In-process drivers: the [`memory`] bus and the [`loopback`] transport; and the
//!   [`idempotency`] helper consumers use to dedupe on `(task_id, edge, event_id)`.
//! - The [`kit`] every bus driver shares: its life cycle, poison-tolerant locks and the
//!   in-flight count `close` waits on.

pub mod batch;
pub mod bus;
pub mod edge;
mod envelope;
mod error;
pub mod frame;
pub mod idempotency;
mod identity;
pub mod kit;
pub mod loopback;
pub mod memory;
pub mod registry;
pub mod store;
pub mod trace_context;
pub mod transport;

pub use bus::{
    Acknowledger, Capabilities, Delivery, IdentityScope, MessageBus, MeteredBus, PublishReceipt,
    Settle, StartPosition, SubscribeOptions, Subscription,
};
pub use envelope::{DedupKey, Envelope};
pub use error::Error;
pub use identity::{Identity, Owner};
pub use registry::{BusDriver, Registry, TransportDriver};
pub use store::{
    Fence, Leases, LogEntry, MemoryTaskStore, PushCursor, PushFailure, PushOutbox, Retention,
    StoredTask, TaskLog, TaskPage, TaskQuery, TaskStore, state_counts,
};
pub use transport::{
    A2aHandler, CallContext, EventStream, HandlerStream, LAST_EVENT_ID, Peer, RemoteTransport,
    StreamEvent,
};
