//! The TaskStore and TaskLog conformance suites against a fresh embedded store in a
//! temporary directory.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig};
use harbor_distributed::{
    Error, LogEntry, Owner, PushCursor, PushOutbox, StoredTask, TaskLog, TaskPage, TaskQuery,
    TaskStore,
};
use harbor_embedded::{Embedded, EmbeddedConfig, EmbeddedTaskStore};
use tempfile::TempDir;

/// The store of an engine in its own directory, which is deleted when the store is dropped.
struct TempStore {
    store: Arc<EmbeddedTaskStore>,
    // Fields drop in order: the engine (and its file) before the directory.
    _engine: Embedded,
    _dir: TempDir,
}

fn fresh() -> Arc<TempStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Embedded::open(EmbeddedConfig::new(dir.path())).expect("open");
    Arc::new(TempStore {
        store: engine.task_store(),
        _engine: engine,
        _dir: dir,
    })
}

harbor_conformance::task_store_suite!(|| async { fresh() as Arc<dyn TaskStore> });

mod log {
    use super::*;

    harbor_conformance::task_log_suite!(|| async { fresh() as Arc<dyn TaskLog> });
}

#[async_trait]
impl TaskStore for TempStore {
    async fn create(&self, owner: &Owner, task: Task) -> Result<u64, Error> {
        self.store.create(owner, task).await
    }

    async fn get(&self, owner: &Owner, task_id: &str) -> Result<StoredTask, Error> {
        self.store.get(owner, task_id).await
    }

    async fn update(&self, owner: &Owner, task: Task, expected_version: u64) -> Result<u64, Error> {
        self.store.update(owner, task, expected_version).await
    }

    async fn list(&self, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error> {
        self.store.list(owner, query).await
    }

    async fn put_push_config(
        &self,
        owner: &Owner,
        config: TaskPushNotificationConfig,
    ) -> Result<(), Error> {
        self.store.put_push_config(owner, config).await
    }

    async fn get_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<TaskPushNotificationConfig, Error> {
        self.store.get_push_config(owner, task_id, id).await
    }

    async fn list_push_configs(
        &self,
        owner: &Owner,
        task_id: &str,
    ) -> Result<Vec<TaskPushNotificationConfig>, Error> {
        self.store.list_push_configs(owner, task_id).await
    }

    async fn delete_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<(), Error> {
        self.store.delete_push_config(owner, task_id, id).await
    }
}

#[async_trait]
impl TaskLog for TempStore {
    async fn append(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
    ) -> Result<u64, Error> {
        self.store
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
        self.store.read_log(owner, task_id, after, limit).await
    }

    async fn active_tasks(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error> {
        self.store.active_tasks(after, limit).await
    }
}

#[async_trait]
impl PushOutbox for TempStore {
    async fn track(
        &self,
        owner: &Owner,
        config: &TaskPushNotificationConfig,
        after: u64,
    ) -> Result<(), Error> {
        self.store.track(owner, config, after).await
    }

    async fn cursor(
        &self,
        owner: &Owner,
        task_id: &str,
        config_id: &str,
    ) -> Result<Option<PushCursor>, Error> {
        self.store.cursor(owner, task_id, config_id).await
    }

    async fn save(&self, cursor: &PushCursor) -> Result<(), Error> {
        self.store.save(cursor).await
    }

    async fn live_cursors(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        self.store.live_cursors(after, limit).await
    }

    async fn dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        self.store.dead_letters(after, limit).await
    }
}
