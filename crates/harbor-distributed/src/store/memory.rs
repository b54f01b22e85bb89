//! `MemoryTaskStore`: the task store of one process, for tests and single-node use.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use harbor_a2a::{Task, TaskPushNotificationConfig};
use prost::Message as _;

use super::cursor::{PageCursor, sort_key};
use crate::{Error, Owner, StoredTask, TaskPage, TaskQuery, TaskStore};

/// Tasks and push configs in memory; nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryTaskStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tasks: HashMap<String, StoredTask>,
    /// Push configs by task id, then config id.
    push: HashMap<String, BTreeMap<String, TaskPushNotificationConfig>>,
}

impl MemoryTaskStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written entry: every write
        // below is a single insert or remove.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    fn owned(&self, owner: &Owner, task_id: &str) -> Result<&StoredTask, Error> {
        match self.tasks.get(task_id) {
            Some(stored) if stored.owner == *owner => Ok(stored),
            _ => Err(Error::TaskNotFound {
                task_id: task_id.to_owned(),
            }),
        }
    }
}

#[async_trait]
impl TaskStore for MemoryTaskStore {
    async fn create(&self, owner: &Owner, task: Task) -> Result<u64, Error> {
        super::check_task(&task)?;
        let mut inner = self.lock();
        if inner.tasks.contains_key(&task.id) {
            return Err(Error::AlreadyExists { task_id: task.id });
        }
        let stored = StoredTask {
            task,
            owner: owner.clone(),
            version: 1,
        };
        inner.tasks.insert(stored.task.id.clone(), stored);
        Ok(1)
    }

    async fn get(&self, owner: &Owner, task_id: &str) -> Result<StoredTask, Error> {
        self.lock().owned(owner, task_id).cloned()
    }

    async fn update(&self, owner: &Owner, task: Task, expected_version: u64) -> Result<u64, Error> {
        super::check_task(&task)?;
        let mut inner = self.lock();
        let actual = inner.owned(owner, &task.id)?.version;
        if actual != expected_version {
            return Err(Error::VersionConflict {
                task_id: task.id,
                expected: expected_version,
                actual,
            });
        }
        let version = actual + 1;
        let stored = StoredTask {
            task,
            owner: owner.clone(),
            version,
        };
        inner.tasks.insert(stored.task.id.clone(), stored);
        Ok(version)
    }

    async fn list(&self, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error> {
        let page_size = super::check_page_size(query.page_size)?;
        let after = PageCursor::parse(&query.page_token)?;
        let inner = self.lock();
        let mut matching: Vec<&StoredTask> = inner
            .tasks
            .values()
            .filter(|s| s.owner == *owner && query.matches(&s.task))
            .collect();
        matching.sort_by(|a, b| sort_key(&b.task).cmp(&sort_key(&a.task)));
        let total_size = matching.len() as u64;
        let start = after.map_or(0, |c| matching.partition_point(|s| !c.is_after(&s.task)));
        let mut page: Vec<Task> = Vec::new();
        let mut taken = 0;
        for stored in matching[start..].iter().take(page_size) {
            let size = stored.task.encoded_len();
            if !super::fits_page(query.max_bytes, page.len(), taken, size) {
                break;
            }
            taken += size;
            page.push(stored.task.clone());
        }
        let next_page_token = match page.last() {
            Some(last) if start + page.len() < matching.len() => PageCursor::of(last).encode(),
            _ => String::new(),
        };
        Ok(TaskPage {
            tasks: page,
            next_page_token,
            total_size,
        })
    }

    async fn put_push_config(
        &self,
        owner: &Owner,
        config: TaskPushNotificationConfig,
    ) -> Result<(), Error> {
        let mut inner = self.lock();
        inner.owned(owner, &config.task_id)?;
        let task_configs = inner.push.entry(config.task_id.clone()).or_default();
        task_configs.insert(config.id.clone(), config);
        Ok(())
    }

    async fn get_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<TaskPushNotificationConfig, Error> {
        let inner = self.lock();
        inner.owned(owner, task_id)?;
        inner
            .push
            .get(task_id)
            .and_then(|configs| configs.get(id))
            .cloned()
            .ok_or_else(|| Error::PushConfigNotFound {
                task_id: task_id.to_owned(),
                id: id.to_owned(),
            })
    }

    async fn list_push_configs(
        &self,
        owner: &Owner,
        task_id: &str,
    ) -> Result<Vec<TaskPushNotificationConfig>, Error> {
        let inner = self.lock();
        inner.owned(owner, task_id)?;
        Ok(inner
            .push
            .get(task_id)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn delete_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<(), Error> {
        let mut inner = self.lock();
        inner.owned(owner, task_id)?;
        if let Some(configs) = inner.push.get_mut(task_id) {
            configs.remove(id);
        }
        Ok(())
    }
}
