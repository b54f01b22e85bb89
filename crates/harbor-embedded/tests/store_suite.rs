//! The TaskStore conformance suite against a fresh embedded store in a temporary directory.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_a2a::{Task, TaskPushNotificationConfig};
use harbor_distributed::{Error, Owner, StoredTask, TaskPage, TaskQuery, TaskStore};
use harbor_embedded::{Embedded, EmbeddedConfig, EmbeddedTaskStore};
use tempfile::TempDir;

/// The store of an engine in its own directory, which is deleted when the store is dropped.
struct TempStore {
    store: Arc<EmbeddedTaskStore>,
    // Fields drop in order: the engine (and its file) before the directory.
    _engine: Embedded,
    _dir: TempDir,
}

fn fresh() -> Arc<dyn TaskStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Embedded::open(EmbeddedConfig::new(dir.path())).expect("open");
    Arc::new(TempStore {
        store: engine.task_store(),
        _engine: engine,
        _dir: dir,
    })
}

harbor_conformance::task_store_suite!(|| async { fresh() });

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
