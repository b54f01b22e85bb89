//! `MemoryTaskStore`: the task store and task log of one process, for tests and
//! single-node use.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig, TaskState};
use prost::Message as _;

use super::cursor::{PageCursor, sort_key};
use super::log::{LogEntry, TaskLog, check_append, snapshot};
use super::outbox::{PushCursor, PushOutbox};
use crate::{Error, Owner, StoredTask, TaskPage, TaskQuery, TaskStore};

/// Tasks, their logs and push configs in memory; nothing survives the process, and logs
/// are never compacted.
#[derive(Debug, Default)]
pub struct MemoryTaskStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tasks: HashMap<String, Entry>,
    /// Push configs by task id, then config id.
    push: HashMap<String, BTreeMap<String, TaskPushNotificationConfig>>,
    /// Push delivery cursors by (task id, config id).
    cursors: BTreeMap<(String, String), PushCursor>,
}

/// One task: its projection and its log (entry `n` at index `n - 1`).
#[derive(Debug)]
struct Entry {
    stored: StoredTask,
    log: Vec<StreamResponse>,
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
    /// Checks that `owner`'s task `task_id` has the push config `config_id`.
    fn has_config(&self, owner: &Owner, task_id: &str, config_id: &str) -> Result<(), Error> {
        self.owned(owner, task_id)?;
        match self.push.get(task_id).and_then(|c| c.get(config_id)) {
            Some(_) => Ok(()),
            None => Err(Error::PushConfigNotFound {
                task_id: task_id.to_owned(),
                id: config_id.to_owned(),
            }),
        }
    }

    /// Cursors after `after` passing `keep`, at most `limit`.
    fn cursors_after(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
        keep: impl Fn(&PushCursor, &StoredTask) -> bool,
    ) -> Vec<PushCursor> {
        let start = match after {
            Some((t, c)) => Bound::Excluded((t.to_owned(), c.to_owned())),
            None => Bound::Unbounded,
        };
        self.cursors
            .range((start, Bound::Unbounded))
            .filter(|(_, cursor)| {
                self.tasks
                    .get(&cursor.task_id)
                    .is_some_and(|e| keep(cursor, &e.stored))
            })
            .take(limit.max(1))
            .map(|(_, cursor)| cursor.clone())
            .collect()
    }

    fn owned(&self, owner: &Owner, task_id: &str) -> Result<&Entry, Error> {
        match self.tasks.get(task_id) {
            Some(entry) if entry.stored.owner == *owner => Ok(entry),
            _ => Err(Error::TaskNotFound {
                task_id: task_id.to_owned(),
            }),
        }
    }

    /// The append of [`TaskLog::append`], once checked.
    fn append(
        &mut self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
    ) -> Result<u64, Error> {
        if expected_version == 0 {
            if self.tasks.contains_key(&task.id) {
                return Err(Error::AlreadyExists {
                    task_id: task.id.clone(),
                });
            }
            let entry = Entry {
                stored: StoredTask {
                    task: task.clone(),
                    owner: owner.clone(),
                    version: events.len() as u64,
                },
                log: events.to_vec(),
            };
            self.tasks.insert(task.id.clone(), entry);
            return Ok(events.len() as u64);
        }
        let actual = self.owned(owner, &task.id)?.stored.version;
        if actual != expected_version {
            return Err(Error::VersionConflict {
                task_id: task.id.clone(),
                expected: expected_version,
                actual,
            });
        }
        let entry = self
            .tasks
            .get_mut(&task.id)
            .ok_or_else(|| Error::TaskNotFound {
                task_id: task.id.clone(),
            })?;
        entry.log.extend_from_slice(events);
        entry.stored.version = entry.log.len() as u64;
        task.clone_into(&mut entry.stored.task);
        Ok(entry.stored.version)
    }
}

#[async_trait]
impl TaskStore for MemoryTaskStore {
    async fn create(&self, owner: &Owner, task: Task) -> Result<u64, Error> {
        self.append(owner, &task, 0, &snapshot(&task)).await
    }

    async fn get(&self, owner: &Owner, task_id: &str) -> Result<StoredTask, Error> {
        Ok(self.lock().owned(owner, task_id)?.stored.clone())
    }

    async fn update(&self, owner: &Owner, task: Task, expected_version: u64) -> Result<u64, Error> {
        if expected_version == 0 {
            // Version 0 never exists: an update naming it is stale, never a create.
            let actual = self.lock().owned(owner, &task.id)?.stored.version;
            return Err(Error::VersionConflict {
                task_id: task.id,
                expected: 0,
                actual,
            });
        }
        self.append(owner, &task, expected_version, &snapshot(&task))
            .await
    }

    async fn list(&self, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error> {
        let page_size = super::check_page_size(query.page_size)?;
        let after = PageCursor::parse(&query.page_token)?;
        let inner = self.lock();
        let mut matching: Vec<&StoredTask> = inner
            .tasks
            .values()
            .map(|e| &e.stored)
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

    async fn count_by_state(&self) -> Result<Option<Vec<(TaskState, u64)>>, Error> {
        let inner = self.lock();
        Ok(Some(super::state_counts(
            inner.tasks.values().map(|e| (e.stored.task.state(), 1)),
        )))
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
        inner.cursors.remove(&(task_id.to_owned(), id.to_owned()));
        Ok(())
    }
}

#[async_trait]
impl TaskLog for MemoryTaskStore {
    async fn append(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
    ) -> Result<u64, Error> {
        check_append(task, expected_version, events)?;
        self.lock().append(owner, task, expected_version, events)
    }

    async fn read_log(
        &self,
        owner: &Owner,
        task_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, Error> {
        let inner = self.lock();
        let entry = inner.owned(owner, task_id)?;
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        Ok(entry
            .log
            .iter()
            .zip(1u64..)
            .skip(start)
            .take(limit.max(1))
            .map(|(event, sequence)| LogEntry {
                sequence,
                event: event.clone(),
            })
            .collect())
    }

    async fn active_tasks(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error> {
        let inner = self.lock();
        let mut active: Vec<(Owner, String)> = inner
            .tasks
            .iter()
            .filter(|(id, e)| id.as_str() > after && e.stored.task.state().is_active())
            .map(|(id, e)| (e.stored.owner.clone(), id.clone()))
            .collect();
        active.sort_by(|a, b| a.1.cmp(&b.1));
        active.truncate(limit.max(1));
        Ok(active)
    }
}

#[async_trait]
impl PushOutbox for MemoryTaskStore {
    async fn track(
        &self,
        owner: &Owner,
        config: &TaskPushNotificationConfig,
        after: u64,
    ) -> Result<(), Error> {
        let mut inner = self.lock();
        inner.owned(owner, &config.task_id)?;
        let key = (config.task_id.clone(), config.id.clone());
        inner
            .push
            .entry(key.0.clone())
            .or_default()
            .insert(key.1.clone(), config.clone());
        let cursor = PushCursor::new(owner.clone(), &config.task_id, &config.id, after);
        inner.cursors.insert(key, cursor);
        Ok(())
    }

    async fn cursor(
        &self,
        owner: &Owner,
        task_id: &str,
        config_id: &str,
    ) -> Result<Option<PushCursor>, Error> {
        let inner = self.lock();
        inner.owned(owner, task_id)?;
        Ok(inner
            .cursors
            .get(&(task_id.to_owned(), config_id.to_owned()))
            .cloned())
    }

    async fn save(&self, cursor: &PushCursor) -> Result<(), Error> {
        let mut inner = self.lock();
        inner.has_config(&cursor.owner, &cursor.task_id, &cursor.config_id)?;
        inner.cursors.insert(
            (cursor.task_id.clone(), cursor.config_id.clone()),
            cursor.clone(),
        );
        Ok(())
    }

    async fn live_cursors(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        Ok(self.lock().cursors_after(after, limit, |cursor, stored| {
            cursor.dead.is_none()
                && (cursor.delivered < stored.version || !stored.task.state().is_terminal())
        }))
    }

    async fn dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        Ok(self
            .lock()
            .cursors_after(after, limit, |cursor, _| cursor.dead.is_some()))
    }
}
