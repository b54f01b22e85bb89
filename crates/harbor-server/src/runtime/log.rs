//! The live event log of one task: the current snapshot plus every update since this
//! process started following the task, so each reader sees the same sequence.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use harbor_a2a::{StreamResponse, Task};
use tokio::sync::watch;

/// One task's live log.
#[derive(Debug)]
pub(crate) struct TaskLog {
    state: Mutex<LogState>,
    changed: watch::Sender<()>,
    /// Held by the execution feeding the log: one execution per task at a time.
    pub(crate) run_lock: Arc<tokio::sync::Mutex<()>>,
    /// Live readers of every log of the runtime (a leak shows here).
    readers: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct LogState {
    /// The task as of the last event in `events`.
    task: Task,
    /// The store version of `task`.
    version: u64,
    events: Vec<StreamResponse>,
    /// Set once the task is terminal: nothing more will be appended.
    closed: bool,
    /// Whether an execution is feeding this log.
    running: bool,
}

impl TaskLog {
    pub(crate) fn new(task: Task, version: u64, readers: Arc<AtomicUsize>) -> Arc<Self> {
        let closed = is_terminal(&task);
        let state = LogState {
            task,
            version,
            events: Vec::new(),
            closed,
            running: false,
        };
        Arc::new(Self {
            state: Mutex::new(state),
            changed: watch::channel(()).0,
            run_lock: Arc::default(),
            readers,
        })
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current task and its store version.
    pub(crate) fn current(&self) -> (Task, u64) {
        let state = self.lock();
        (state.task.clone(), state.version)
    }

    /// Records a new snapshot with the event that produced it (`None` for a snapshot-only
    /// change, such as a user message appended to history).
    pub(crate) fn append(&self, task: Task, version: u64, event: Option<StreamResponse>) {
        {
            let mut state = self.lock();
            state.closed = is_terminal(&task);
            state.task = task;
            state.version = version;
            state.events.extend(event);
        }
        self.changed.send_replace(());
    }

    /// Marks whether an execution is feeding the log.
    pub(crate) fn set_running(&self, running: bool) {
        self.lock().running = running;
        self.changed.send_replace(());
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// The current snapshot and a reader of every event after it.
    pub(crate) fn subscribe(self: &Arc<Self>) -> (Task, LogReader) {
        let state = self.lock();
        self.readers.fetch_add(1, Ordering::Relaxed);
        let reader = LogReader {
            log: Arc::clone(self),
            next: state.events.len(),
            changed: self.changed.subscribe(),
        };
        (state.task.clone(), reader)
    }
}

impl Drop for LogReader {
    fn drop(&mut self) {
        self.log.readers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a reader gets next.
#[derive(Debug, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned and matched at once, never stored"
)]
pub(crate) enum Next {
    /// An event.
    Event(StreamResponse),
    /// The task is terminal and every event was read.
    Closed,
    /// No execution is running and every event was read (the task waits for input).
    Idle,
}

/// Reads a [`TaskLog`] from a position on.
#[derive(Debug)]
pub(crate) struct LogReader {
    log: Arc<TaskLog>,
    next: usize,
    changed: watch::Receiver<()>,
}

impl LogReader {
    /// The next event, or why there is none. With `wait_while_idle` an idle log is waited
    /// on (subscribers stay through INPUT_REQUIRED); otherwise [`Next::Idle`] is returned.
    pub(crate) async fn next(&mut self, wait_while_idle: bool) -> Next {
        loop {
            self.changed.borrow_and_update();
            {
                let state = self.log.lock();
                if let Some(event) = state.events.get(self.next) {
                    self.next += 1;
                    return Next::Event(event.clone());
                }
                if state.closed {
                    return Next::Closed;
                }
                if !state.running && !wait_while_idle {
                    return Next::Idle;
                }
            }
            if self.changed.changed().await.is_err() {
                return Next::Closed;
            }
        }
    }

    /// The log read.
    pub(crate) fn log(&self) -> &Arc<TaskLog> {
        &self.log
    }
}

pub(crate) fn is_terminal(task: &Task) -> bool {
    task.status
        .as_ref()
        .is_some_and(|s| is_terminal_state(s.state))
}

pub(crate) fn is_terminal_state(state: i32) -> bool {
    use harbor_a2a::TaskState as S;
    [S::Completed, S::Failed, S::Canceled, S::Rejected]
        .iter()
        .any(|s| *s as i32 == state)
}

pub(crate) fn is_interrupted_state(state: i32) -> bool {
    use harbor_a2a::TaskState as S;
    [S::InputRequired, S::AuthRequired]
        .iter()
        .any(|s| *s as i32 == state)
}
