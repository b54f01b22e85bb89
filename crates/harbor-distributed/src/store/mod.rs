//! Where tasks live: the contract every task store implements, and the task event log
//! ([`TaskLog`]) the A2A server writes through.
//!
//! Tasks are visible only to their [`Owner`]: another owner's task id answers
//! [`Error::TaskNotFound`], exactly like an id that does not exist. Writes are versioned:
//! an update naming a stale version is refused with [`Error::VersionConflict`], so two
//! replicas never overwrite each other's progress.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use harbor_a2a::validate::nesting::{MAX_TASK_NESTING, task_nesting};
use harbor_a2a::{Task, TaskPushNotificationConfig, TaskState};

use crate::{Error, Owner};

pub mod commits;
mod cursor;
pub mod fanout;
mod lease;
mod log;
mod memory;
mod outbox;
mod retention;

pub use cursor::{PageCursor, sort_key};
pub use lease::{Fence, Leases};
pub use log::{LogEntry, TaskLog, check_append, project, replay, snapshot};
#[allow(deprecated)]
pub use memory::MemoryTaskStore;
pub use outbox::{PushCursor, PushFailure, PushOutbox};
pub use retention::{DEFAULT_LOG_RETENTION, Retention};

/// The largest ListTasks page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A task as stored, with its owner and write version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    /// The task, with its full history and artifacts.
    pub task: Task,
    /// Who owns it.
    pub owner: Owner,
    /// Starts at 1 and grows by one with every update. On a [`TaskLog`] it is the sequence
    /// of the task's last log entry (an append of `n` events adds `n`).
    pub version: u64,
}

/// A ListTasks query over one owner's tasks (newest status first).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskQuery {
    /// Only tasks of this context.
    pub context_id: Option<String>,
    /// Only tasks in this state.
    pub status: Option<TaskState>,
    /// Only tasks whose status timestamp is at or after this instant.
    pub status_after: Option<SystemTime>,
    /// Page size, 1..=100.
    pub page_size: u32,
    /// The cursor a previous page returned; empty for the first page.
    pub page_token: String,
    /// Stop the page once its tasks add up to this many bytes (protobuf encoding, as
    /// stored): the page is then shorter than `page_size` and has a next-page token. A page
    /// always holds at least one task, whatever its size. Default none: only `page_size`
    /// ends a page.
    pub max_bytes: Option<usize>,
}

impl TaskQuery {
    /// Whether `task` passes the filters (not the paging).
    pub fn matches(&self, task: &Task) -> bool {
        if self
            .context_id
            .as_ref()
            .is_some_and(|c| *c != task.context_id)
        {
            return false;
        }
        let status = task.status.as_ref();
        if let Some(state) = self.status
            && status.map(|s| s.state) != Some(state as i32)
        {
            return false;
        }
        if let Some(after) = self.status_after {
            let stamp = status.and_then(|s| s.timestamp.as_ref());
            let Some(stamp) = stamp else { return false };
            let after_nanos = match after.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_nanos() as i128,
                Err(e) => -(e.duration().as_nanos() as i128),
            };
            let nanos = i128::from(stamp.seconds) * 1_000_000_000 + i128::from(stamp.nanos);
            if nanos < after_nanos {
                return false;
            }
        }
        true
    }
}

/// Why a stored record of the task `id` does not decode, as [`Error::Unreadable`] for that
/// task alone; logged with the task's id. `what` names the record (a task, a log entry).
pub fn unreadable(id: &str, what: &str, error: &dyn std::fmt::Display) -> Error {
    let task_id = harbor_a2a::error::clip(id);
    tracing::error!(%task_id, what, %error, "stored record cannot be decoded");
    Error::Unreadable {
        task_id: id.to_owned(),
        reason: format!("{what}: {error}"),
    }
}

/// The task stored as `bytes` (protobuf) under `id`; bytes that do not decode (written by
/// an older version, or damaged) are [`Error::Unreadable`] for this task alone.
pub fn decode_task(id: &str, bytes: &[u8]) -> Result<Task, Error> {
    use prost::Message as _;
    Task::decode(bytes).map_err(|e| unreadable(id, "task", &e))
}

/// Checks what every store requires of a task it keeps: an id, a status, and a nesting that
/// decodes back ([`MAX_TASK_NESTING`]): a store never holds what it could not read again.
///
/// # Errors
///
/// [`Error::InvalidArgument`] naming what is missing or too deep.
pub fn check_task(task: &Task) -> Result<(), Error> {
    if task.id.is_empty() {
        return Err(Error::InvalidArgument("task id is empty".into()));
    }
    let id = harbor_a2a::error::clip(&task.id);
    if task.status.is_none() {
        return Err(Error::InvalidArgument(format!("task {id} has no status")));
    }
    let nesting = task_nesting(task);
    if nesting > MAX_TASK_NESTING {
        return Err(Error::InvalidArgument(format!(
            "task {id} nests {nesting} messages deep, more than the {MAX_TASK_NESTING} a store can decode back"
        )));
    }
    Ok(())
}

/// Whether a task of `size` bytes still fits a page that holds `taken` bytes in `count`
/// tasks under `max_bytes` (the first task always fits).
pub fn fits_page(max_bytes: Option<usize>, count: usize, taken: usize, size: usize) -> bool {
    match max_bytes {
        Some(max) if count > 0 => taken.saturating_add(size) <= max,
        _ => true,
    }
}

/// Checks a page size (1..=[`MAX_PAGE_SIZE`]) and returns it as a length.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a size outside the range.
pub fn check_page_size(page_size: u32) -> Result<usize, Error> {
    if page_size == 0 || page_size > MAX_PAGE_SIZE {
        return Err(Error::InvalidArgument(format!(
            "page size {page_size} is outside 1..={MAX_PAGE_SIZE}"
        )));
    }
    Ok(page_size as usize)
}

/// One page of tasks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskPage {
    /// The tasks of this page.
    pub tasks: Vec<Task>,
    /// The cursor of the next page; empty on the last page.
    pub next_page_token: String,
    /// How many tasks match the query in all.
    pub total_size: u64,
}

/// A durable home for tasks and their push-notification configs.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Stores a new task for `owner`; returns its version (1). Fails with
    /// [`Error::AlreadyExists`] if the id is taken.
    async fn create(&self, owner: &Owner, task: Task) -> Result<u64, Error>;

    /// The task `task_id` of `owner`.
    async fn get(&self, owner: &Owner, task_id: &str) -> Result<StoredTask, Error>;

    /// Replaces the task if its stored version is still `expected_version`; returns the new
    /// version.
    async fn update(&self, owner: &Owner, task: Task, expected_version: u64) -> Result<u64, Error>;

    /// One page of `owner`'s tasks.
    async fn list(&self, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error>;

    /// Creates or replaces a push config of one of `owner`'s tasks (by `task_id` and `id`).
    async fn put_push_config(
        &self,
        owner: &Owner,
        config: TaskPushNotificationConfig,
    ) -> Result<(), Error>;

    /// One push config.
    async fn get_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<TaskPushNotificationConfig, Error>;

    /// Every push config of a task.
    async fn list_push_configs(
        &self,
        owner: &Owner,
        task_id: &str,
    ) -> Result<Vec<TaskPushNotificationConfig>, Error>;

    /// Deletes a push config; deleting one that does not exist succeeds.
    async fn delete_push_config(&self, owner: &Owner, task_id: &str, id: &str)
    -> Result<(), Error>;

    /// How many tasks the store holds in each state, over every owner, in
    /// [`TaskState::ALL`] order and without the states it holds none in; `None` when the
    /// store does not keep count (the default). An operator's gauge, not an owner's view:
    /// never hand it to a caller.
    async fn count_by_state(&self) -> Result<Option<Vec<(TaskState, u64)>>, Error> {
        Ok(None)
    }
}

/// `counts` (any order, zeros and repeats allowed) as [`TaskStore::count_by_state`]
/// answers: summed per state, in [`TaskState::ALL`] order, zeros left out.
pub fn state_counts(counts: impl IntoIterator<Item = (TaskState, u64)>) -> Vec<(TaskState, u64)> {
    let mut sums = [0u64; TaskState::ALL.len()];
    for (state, count) in counts {
        if let Some(i) = TaskState::ALL.iter().position(|s| *s == state) {
            sums[i] = sums[i].saturating_add(count);
        }
    }
    TaskState::ALL
        .into_iter()
        .zip(sums)
        .filter(|(_, n)| *n > 0)
        .collect()
}
