//! Which configs are being delivered: one [`Worker`] per tracked config of a task that may
//! still produce events, poked after every durable append of its task.
//!
//! The index is in memory and complete for this process: it is filled from the store's
//! live cursors when the server starts ([`Dispatcher::resume`]) and kept by
//! [`track`](Dispatcher::track) and [`forget`](Dispatcher::forget), so an append to a task
//! without push configs costs one map lookup and no store read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use harbor_a2a::TaskPushNotificationConfig;
use harbor_distributed::{Error, LogEntry, Owner, PushCursor, TaskLog};

use super::PushConfig;
use super::core::{Core, Counters};
use super::worker::{Ended, Worker};

/// Cursors read per page when resuming.
const RESUME_PAGE: usize = 512;

/// Push delivery of one server: the shared [`Core`] and the index of workers.
pub(crate) struct Dispatcher {
    core: Core,
    /// The workers of each task's tracked configs, by task id.
    tasks: Mutex<HashMap<String, HashMap<String, Arc<Worker>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Dispatcher {
    pub(crate) fn new(
        store: Arc<dyn TaskLog>,
        config: PushConfig,
    ) -> Result<Arc<Self>, reqwest::Error> {
        Ok(Arc::new(Self {
            core: Core::new(store, config)?,
            tasks: Mutex::default(),
        }))
    }

    pub(crate) fn counters(&self) -> &Counters {
        self.core.counters()
    }

    /// Stores `config` and starts delivering its task's log entries after `after` to it
    /// (durably first); with `poke`, a worker looks at the log at once, else at the next
    /// append.
    pub(crate) async fn track(
        self: &Arc<Self>,
        owner: &Owner,
        config: &TaskPushNotificationConfig,
        after: u64,
        poke: bool,
    ) -> Result<(), Error> {
        self.core.store().track(owner, config, after).await?;
        let cursor = PushCursor::new(owner.clone(), &config.task_id, &config.id, after);
        let worker = self.replace(Worker::new(
            owner.clone(),
            &config.task_id,
            &config.id,
            Some((cursor, config.clone())),
        ));
        if poke {
            self.poke(&worker);
        }
        Ok(())
    }

    /// The config was deleted: its worker, if any, stops.
    pub(crate) fn untrack(&self, task_id: &str, config_id: &str) {
        let removed = lock(&self.tasks)
            .get_mut(task_id)
            .and_then(|configs| configs.remove(config_id));
        if let Some(worker) = removed {
            worker.retire();
        }
    }

    /// Whether a push config of task `task_id` is delivered from here.
    pub(crate) fn delivers(&self, task_id: &str) -> bool {
        lock(&self.tasks).contains_key(task_id)
    }

    /// Durable `entries` of task `task_id`: its configs' workers take them.
    pub(crate) fn appended(self: &Arc<Self>, task_id: &str, entries: &[LogEntry]) {
        let workers: Vec<Arc<Worker>> = match lock(&self.tasks).get(task_id) {
            Some(configs) => configs.values().cloned().collect(),
            None => return,
        };
        for worker in workers {
            worker.offer(entries);
            self.poke(&worker);
        }
    }

    /// Picks up every live cursor in the store (at start: what an earlier process left).
    /// Returns how many configs were resumed.
    pub(crate) async fn resume(self: &Arc<Self>) -> Result<u64, Error> {
        let mut resumed = 0;
        let mut after: Option<(String, String)> = None;
        loop {
            let key = after.as_ref().map(|(t, c)| (t.as_str(), c.as_str()));
            let page = self.core.store().live_cursors(key, RESUME_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(resumed);
            };
            after = Some((last.task_id.clone(), last.config_id.clone()));
            for cursor in &page {
                self.adopt(cursor);
                resumed += 1;
            }
        }
    }

    /// Delivers the config of `cursor` from here on, from where the store has it (one an
    /// earlier process, or another one, left).
    pub(crate) fn adopt(self: &Arc<Self>, cursor: &PushCursor) {
        let worker = self.replace(Worker::new(
            cursor.owner.clone(),
            &cursor.task_id,
            &cursor.config_id,
            None,
        ));
        self.poke(&worker);
    }

    /// Every dead letter, any owner's, at most `limit` after `after`.
    pub(crate) async fn dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        self.core.store().dead_letters(after, limit).await
    }

    /// Delivers a dead letter again, from the entry it gave up on; false when there is no
    /// such dead letter.
    pub(crate) async fn redrive(
        self: &Arc<Self>,
        task_id: &str,
        config_id: &str,
    ) -> Result<bool, Error> {
        // Dead letters are few: find this one's owner by walking them.
        let mut after: Option<(String, String)> = None;
        loop {
            let key = after.as_ref().map(|(t, c)| (t.as_str(), c.as_str()));
            let page = self.core.store().dead_letters(key, RESUME_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(false);
            };
            after = Some((last.task_id.clone(), last.config_id.clone()));
            if let Some(dead) = page
                .into_iter()
                .find(|c| c.task_id == task_id && c.config_id == config_id)
            {
                let (owner, task_id) = (dead.owner.clone(), dead.task_id.clone());
                self.core.store().save(&dead.redriven()).await?;
                let worker = self.replace(Worker::new(owner, &task_id, config_id, None));
                self.poke(&worker);
                return Ok(true);
            }
        }
    }

    /// Stops every delivery (retries waiting out a backoff end at once).
    pub(crate) fn stop(&self) {
        self.core.stop();
    }

    /// Indexes `worker` for its config, retiring the one it replaces.
    fn replace(&self, worker: Worker) -> Arc<Worker> {
        let worker = Arc::new(worker);
        let old = lock(&self.tasks)
            .entry(worker.task_id.clone())
            .or_default()
            .insert(worker.config_id.clone(), Arc::clone(&worker));
        if let Some(old) = old {
            old.retire();
        }
        worker
    }

    /// Makes sure a run of `worker` will look again: starts one, or tells the running one.
    /// A run that finds its config over takes the worker out of the index.
    fn poke(self: &Arc<Self>, worker: &Arc<Worker>) {
        if worker.claim_run() {
            let (worker, dispatcher) = (Arc::clone(worker), Arc::clone(self));
            tokio::spawn(async move {
                if worker.run(&dispatcher.core).await == Ended::Over {
                    dispatcher.forget(&worker);
                }
            });
        }
    }

    /// A worker is done for good: it leaves the index (unless replaced meanwhile).
    fn forget(&self, worker: &Arc<Worker>) {
        let mut tasks = lock(&self.tasks);
        if let Some(configs) = tasks.get_mut(&worker.task_id) {
            if configs
                .get(&worker.config_id)
                .is_some_and(|w| Arc::ptr_eq(w, worker))
            {
                configs.remove(&worker.config_id);
            }
            if configs.is_empty() {
                tasks.remove(&worker.task_id);
            }
        }
    }
}
