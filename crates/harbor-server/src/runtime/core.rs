//! The state every execution shares ([`Runtime`]), and the small types the runtime's
//! modules pass between them. The runtime's behaviour is written in the modules above this
//! one (`impl Runtime` blocks in `mod.rs`, `run.rs`, `lease.rs`, `work.rs`,
//! `front_door.rs`); this module only holds what they all name.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use harbor_a2a::{Message, Task};
use harbor_distributed::{LogEntry, Owner};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::fanout::Fanout;
use super::feed::{FeedReader, Feeds};
use super::leasing::Leasing;
use crate::executor::AgentExecutor;
use crate::push::dispatch::Dispatcher;

/// Told about every event appended to a task's log that streams show (a user's follow-up
/// message is not one), once it is durable.
pub trait EventObserver: Send + Sync + 'static {
    /// `entry` was appended to `owner`'s task `task_id`. Must not block.
    fn on_event(&self, owner: &Owner, task_id: &str, entry: &LogEntry);
}

/// How a send started.
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per send, never stored"
)]
pub(crate) enum Started {
    /// The agent answered with a message; no task.
    Reply(Message),
    /// A task runs: what a stream shows first when the reader does not start at the
    /// task's first entry (the task and its version), and a reader of every later entry.
    Task {
        head: Option<(Task, u64)>,
        reader: FeedReader,
    },
}

/// What an execution does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Execute,
    Cancel,
}

/// Everything executions share.
pub(crate) struct Runtime {
    pub(super) executor: Arc<dyn AgentExecutor>,
    pub(super) observer: Option<Arc<dyn EventObserver>>,
    /// Push delivery, when the agent offers it.
    pub(super) push: Option<Arc<Dispatcher>>,
    pub(super) feeds: Arc<Feeds>,
    /// The bus that carries log notices between processes, if any.
    pub(super) fanout: Option<Fanout>,
    /// The execution leases, when the store is shared and has them.
    pub(super) leasing: Option<Leasing>,
    /// The cancel token of each running execution, by task id.
    pub(super) runs: Mutex<HashMap<String, CancellationToken>>,
    pub(super) tracker: TaskTracker,
    /// Whether this is a front door: no agent runs here; work for workers is published
    /// on the bus instead (see [`work`](super::work)).
    pub(super) front_door: bool,
    /// Set when the server starts stopping: new executions are refused.
    pub(super) draining: AtomicBool,
    pub(super) shutdown: CancellationToken,
    pub(super) cancel_timeout: Duration,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The status message of a task a stopping server cancelled.
pub(super) const STOPPED: &str = "the server stopped before the task finished";
