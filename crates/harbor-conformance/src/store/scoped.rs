//! [`ScopedLog`]: a task log that cleans up after itself when dropped, for suites whose
//! every case opens a fresh store (a temporary directory, a database schema).

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig, TaskState};
use harbor_distributed::{
    Error, LogEntry, Owner, PushCursor, PushOutbox, StoredTask, TaskLog, TaskPage, TaskQuery,
    TaskStore,
};

/// A clean-up step run once the log is dropped.
type Cleanup = Box<dyn FnOnce() + Send>;

/// Wraps a [`TaskLog`]; when dropped, drops it first and then runs the clean-ups in the
/// order they were added (drop an engine, remove a directory, drop a schema).
///
/// ```
/// use std::sync::Arc;
/// use harbor_conformance::store::ScopedLog;
/// use harbor_distributed::{MemoryTaskStore, TaskLog};
///
/// let log: Arc<dyn TaskLog> = Arc::new(
///     ScopedLog::new(Arc::new(MemoryTaskStore::new())).after_drop(|| println!("cleaned up")),
/// );
/// drop(log);
/// ```
pub struct ScopedLog {
    log: Option<Arc<dyn TaskLog>>,
    cleanups: Mutex<Vec<Cleanup>>,
}

impl std::fmt::Debug for ScopedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedLog").finish_non_exhaustive()
    }
}

impl ScopedLog {
    /// Wraps `log`.
    pub fn new(log: Arc<dyn TaskLog>) -> Self {
        Self {
            log: Some(log),
            cleanups: Mutex::new(Vec::new()),
        }
    }

    /// Keeps `value` alive as long as the log, and drops it after.
    #[must_use]
    pub fn keeping<T: Send + 'static>(self, value: T) -> Self {
        self.after_drop(move || drop(value))
    }

    /// Runs `cleanup` once the log is dropped.
    #[must_use]
    pub fn after_drop(self, cleanup: impl FnOnce() + Send + 'static) -> Self {
        self.cleanups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(cleanup));
        self
    }

    fn log(&self) -> &dyn TaskLog {
        self.log.as_deref().expect("the log is taken only on drop")
    }
}

impl Drop for ScopedLog {
    fn drop(&mut self) {
        drop(self.log.take());
        let cleanups = std::mem::take(
            self.cleanups
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for cleanup in cleanups {
            cleanup();
        }
    }
}

#[async_trait]
impl TaskStore for ScopedLog {
    async fn create(&self, owner: &Owner, task: Task) -> Result<u64, Error> {
        self.log().create(owner, task).await
    }

    async fn get(&self, owner: &Owner, task_id: &str) -> Result<StoredTask, Error> {
        self.log().get(owner, task_id).await
    }

    async fn update(&self, owner: &Owner, task: Task, expected_version: u64) -> Result<u64, Error> {
        self.log().update(owner, task, expected_version).await
    }

    async fn list(&self, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error> {
        self.log().list(owner, query).await
    }

    async fn put_push_config(
        &self,
        owner: &Owner,
        config: TaskPushNotificationConfig,
    ) -> Result<(), Error> {
        self.log().put_push_config(owner, config).await
    }

    async fn get_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<TaskPushNotificationConfig, Error> {
        self.log().get_push_config(owner, task_id, id).await
    }

    async fn list_push_configs(
        &self,
        owner: &Owner,
        task_id: &str,
    ) -> Result<Vec<TaskPushNotificationConfig>, Error> {
        self.log().list_push_configs(owner, task_id).await
    }

    async fn delete_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<(), Error> {
        self.log().delete_push_config(owner, task_id, id).await
    }

    async fn count_by_state(&self) -> Result<Option<Vec<(TaskState, u64)>>, Error> {
        self.log().count_by_state().await
    }
}

#[async_trait]
impl TaskLog for ScopedLog {
    async fn append(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
    ) -> Result<u64, Error> {
        self.log()
            .append(owner, task, expected_version, events)
            .await
    }

    async fn read_log(
        &self,
        owner: &Owner,
        task_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, Error> {
        self.log().read_log(owner, task_id, after, limit).await
    }

    async fn active_tasks(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error> {
        self.log().active_tasks(after, limit).await
    }
}

#[async_trait]
impl PushOutbox for ScopedLog {
    async fn track(
        &self,
        owner: &Owner,
        config: &TaskPushNotificationConfig,
        after: u64,
    ) -> Result<(), Error> {
        self.log().track(owner, config, after).await
    }

    async fn cursor(
        &self,
        owner: &Owner,
        task_id: &str,
        config_id: &str,
    ) -> Result<Option<PushCursor>, Error> {
        self.log().cursor(owner, task_id, config_id).await
    }

    async fn save(&self, cursor: &PushCursor) -> Result<(), Error> {
        self.log().save(cursor).await
    }

    async fn live_cursors(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        self.log().live_cursors(after, limit).await
    }

    async fn dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        self.log().dead_letters(after, limit).await
    }
}
