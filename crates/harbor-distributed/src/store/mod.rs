//! Where tasks live: the contract every task store implements.
//!
//! Tasks are visible only to their [`Owner`]: another owner's task id answers
//! [`Error::TaskNotFound`], exactly like an id that does not exist. Writes are versioned:
//! an update naming a stale version is refused with [`Error::VersionConflict`], so two
//! replicas never overwrite each other's progress.

use std::time::SystemTime;

use async_trait::async_trait;
use harbor_a2a::{Task, TaskPushNotificationConfig, TaskState};

use crate::{Error, Owner};

/// A task as stored, with its owner and write version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    /// The task, with its full history and artifacts.
    pub task: Task,
    /// Who owns it.
    pub owner: Owner,
    /// Starts at 1 and grows by one with every update.
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
}
