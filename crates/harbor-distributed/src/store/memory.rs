//! `MemoryTaskStore`: the task store and task log of one process, for tests and
//! single-node use.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig, TaskState};
use prost::Message as _;

use super::cursor::{PageCursor, sort_key};
use super::log::{LogEntry, TaskLog, check_append, snapshot};
use super::outbox::{PushCursor, PushOutbox};
use super::retention::Retention;
use crate::{Error, Owner, StoredTask, TaskPage, TaskQuery, TaskStore};

/// Tasks, their logs and push configs in memory; nothing survives the process. With a
/// [`Retention`], a finished task's log is compacted and the task deleted when their
/// time is up, so a long-running store stays the size of what it retains.
///
/// Expired tasks are swept on the store's writes, so memory is given back while tasks are
/// being written; a store nobody writes keeps what it holds.
#[derive(Debug, Default)]
pub struct MemoryTaskStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    retention: Retention,
    /// Finished tasks whose log is still kept, oldest first, with when it expires.
    logs_kept: VecDeque<(Instant, String)>,
    /// Finished tasks, oldest first, with when they expire.
    tasks_kept: VecDeque<(Instant, String)>,
    tasks: HashMap<String, Entry>,
    /// Push configs by task id, then config id.
    push: HashMap<String, BTreeMap<String, TaskPushNotificationConfig>>,
    /// Push delivery cursors by (task id, config id).
    cursors: BTreeMap<(String, String), PushCursor>,
}

/// One task: its projection and its log (entry `n` at index `n - first`).
#[derive(Debug)]
struct Entry {
    stored: StoredTask,
    /// The sequence of `log[0]`: 1, or one past the version a compaction left.
    first: u64,
    log: Vec<StreamResponse>,
}

impl MemoryTaskStore {
    /// An empty store that keeps everything until it is deleted by hand.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that compacts finished tasks' logs and deletes finished tasks as
    /// `retention` says.
    pub fn with_retention(retention: Retention) -> Self {
        Self {
            inner: Mutex::new(Inner {
                retention,
                ..Inner::default()
            }),
        }
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
                first: 1,
                log: events.to_vec(),
            };
            self.tasks.insert(task.id.clone(), entry);
            self.written(task, false);
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
        let was_terminal = entry.stored.task.state().is_terminal();
        entry.log.extend_from_slice(events);
        entry.stored.version = entry.first - 1 + entry.log.len() as u64;
        task.clone_into(&mut entry.stored.task);
        let version = entry.stored.version;
        self.written(task, was_terminal);
        Ok(version)
    }

    /// After a write of `task`: a task that just finished starts its retention, and
    /// whatever expired is swept.
    fn written(&mut self, task: &Task, was_terminal: bool) {
        let now = Instant::now();
        if task.state().is_terminal() && !was_terminal {
            if let Some(at) = self.retention.log_expiry(now) {
                self.logs_kept.push_back((at, task.id.clone()));
            }
            if let Some(at) = self.retention.task_expiry(now) {
                self.tasks_kept.push_back((at, task.id.clone()));
            }
        }
        self.sweep(now);
    }

    /// Compacts the logs and deletes the tasks whose time is up at `now`.
    fn sweep(&mut self, now: Instant) {
        while let Some((_, task_id)) = pop_expired(&mut self.logs_kept, now) {
            if let Some(entry) = self.tasks.get_mut(&task_id) {
                entry.first = entry.stored.version + 1;
                entry.log = Vec::new();
            }
        }
        while let Some((_, task_id)) = pop_expired(&mut self.tasks_kept, now) {
            // Only a task still finished: nothing in the contract reopens one, but an
            // active task is never deleted behind its execution's back.
            if self
                .tasks
                .get(&task_id)
                .is_some_and(|e| e.stored.task.state().is_terminal())
            {
                self.tasks.remove(&task_id);
                self.push.remove(&task_id);
                let configs: Vec<_> = self
                    .cursors
                    .range((task_id.clone(), String::new())..)
                    .take_while(|((t, _), _)| *t == task_id)
                    .map(|(key, _)| key.clone())
                    .collect();
                for key in configs {
                    self.cursors.remove(&key);
                }
            }
        }
    }
}

/// The front of `queue` when it expired at `now`.
fn pop_expired(queue: &mut VecDeque<(Instant, String)>, now: Instant) -> Option<(Instant, String)> {
    if queue.front().is_some_and(|(at, _)| *at <= now) {
        queue.pop_front()
    } else {
        None
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
        // Entries up to `after` are passed over; compacted ones are simply not there.
        let start = usize::try_from(after.saturating_sub(entry.first - 1)).unwrap_or(usize::MAX);
        Ok(entry
            .log
            .iter()
            .zip(entry.first..)
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
