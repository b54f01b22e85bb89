//! The conformance agent: an in-memory [`A2aHandler`] with the A2A semantics the transport
//! suite needs.
//!
//! What it does with a message is chosen by the prefix of the message id, as in
//! `tck-sut-contract.md` §3 (`tck-complete-task`, `tck-input-required`, `tck-artifact-*`,
//! `tck-message-response`, `tck-stream-*`, `test-resubscribe-message-id`, and a default that
//! completes the task). One difference: `tck-reject-task` ends the task in REJECTED, the
//! state A2A has for it, instead of failing the call.
//!
//! Beyond the behaviours it implements what a transport carries: tasks kept per owner
//! (tenant and user of the caller's identity; another owner's task is TaskNotFound),
//! blocking and `returnImmediately` sends, `historyLength`, ListTasks (filters, newest first,
//! paging), CancelTask, SubscribeToTask (first event the task, open through INPUT_REQUIRED,
//! ends after a terminal state), push-config CRUD and an extended card.
//!
//! It is a test fixture, and it shows what it is doing: [`ConformanceAgent::calls`] records
//! every call with the identity it arrived with, [`ConformanceAgent::open_streams`] and
//! [`ConformanceAgent::active_work`] count what is still running. Streams end after a
//! terminal event; dropping the stream of a send stops that send's work (the task is then
//! CANCELED, so nothing is left running).
//!
//! [`A2aHandler`]: harbor_distributed::A2aHandler

mod behaviour;
mod card;
mod handler;
mod list;
mod push;
mod state;
mod work;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use harbor_a2a::AgentCard;
use harbor_distributed::{CallContext, Identity};

pub use card::EXTENDED_SKILL;

use state::Tasks;

/// One call as the agent received it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedCall {
    /// The A2A method (`SendMessage`, `GetTask`, ...).
    pub method: &'static str,
    /// The identity the call arrived with.
    pub identity: Identity,
    /// The `messageId` of a sent message.
    pub message_id: Option<String>,
    /// The task the call named, if any.
    pub task_id: Option<String>,
}

/// An in-memory A2A agent for conformance tests. Clones share one agent.
#[derive(Clone)]
pub struct ConformanceAgent {
    shared: Arc<Shared>,
}

struct Shared {
    name: String,
    tasks: Mutex<Tasks>,
    calls: Mutex<Vec<RecordedCall>>,
    open_streams: Arc<AtomicUsize>,
    active_work: Arc<AtomicUsize>,
}

impl ConformanceAgent {
    /// A new agent with no tasks; `name` is the name on its card.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                name: name.into(),
                tasks: Mutex::new(Tasks::default()),
                calls: Mutex::new(Vec::new()),
                open_streams: Arc::new(AtomicUsize::new(0)),
                active_work: Arc::new(AtomicUsize::new(0)),
            }),
        }
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The public card.
    pub fn card(&self) -> AgentCard {
        card::public(&self.shared.name)
    }

    /// Every call received so far, in arrival order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.shared.calls).clone()
    }

    /// Streams the agent has handed out that are still alive (not ended, not dropped).
    pub fn open_streams(&self) -> usize {
        self.shared.open_streams.load(Ordering::SeqCst)
    }

    /// Task work still running (a blocking send, a send stream, a `returnImmediately` task).
    pub fn active_work(&self) -> usize {
        self.shared.active_work.load(Ordering::SeqCst)
    }

    fn record(
        &self,
        method: &'static str,
        ctx: &CallContext,
        message_id: Option<&str>,
        task_id: Option<&str>,
    ) {
        let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        lock(&self.shared.calls).push(RecordedCall {
            method,
            identity: ctx.identity.clone(),
            message_id: non_empty(message_id),
            task_id: non_empty(task_id),
        });
    }

    fn tasks(&self) -> MutexGuard<'_, Tasks> {
        lock(&self.shared.tasks)
    }
}

impl fmt::Debug for ConformanceAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConformanceAgent")
            .field("name", &self.shared.name)
            .field("open_streams", &self.open_streams())
            .field("active_work", &self.active_work())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts one running thing for as long as it lives.
struct Gauge(Arc<AtomicUsize>);

impl Gauge {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(counter))
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
