//! Retention: the terminal-task TTL, trimming owners over the cap, log compaction, and the
//! thread that does them. The cap itself (`tasks::enforce_cap`) lives with the writes,
//! since a create applies it too.

use std::ops::Bound;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harbor_distributed::Error;
use redb::{Database, ReadableTable};

use super::config::StoreConfig;
use super::tables::Tables;
use super::tasks::{begin_write, enforce_cap};
use crate::errors::{backend, failure};

/// Most tasks one pruning transaction deletes, so a large backlog never holds the single
/// writer for long: writers queue behind it.
const PRUNE_BATCH: usize = 512;

/// Deletes terminal tasks stored terminal before `now - retention.task`, and trims owners over the
/// cap; returns how many tasks were deleted. Works in batches of [`PRUNE_BATCH`].
pub(super) fn prune(db: &Database, config: &StoreConfig, now: SystemTime) -> Result<u64, Error> {
    let mut deleted = 0;
    if let Some(cutoff) = nanos(config.retention.task_cutoff(now)) {
        loop {
            let txn = begin_write(db)?;
            let batch = {
                let mut tables = Tables::open(&txn)?;
                let mut expired = Vec::with_capacity(PRUNE_BATCH);
                for entry in tables
                    .terminal
                    .range::<(u64, &str)>(..(cutoff, ""))
                    .map_err(backend)?
                    .take(PRUNE_BATCH)
                {
                    let (key, _) = entry.map_err(backend)?;
                    expired.push(key.value().1.to_owned());
                }
                for id in &expired {
                    tables.delete(id)?;
                }
                expired.len()
            };
            txn.commit().map_err(backend)?;
            deleted += batch as u64;
            if batch < PRUNE_BATCH {
                break;
            }
        }
    }
    if let Some(cap) = config.max_tasks_per_owner {
        let txn = begin_write(db)?;
        {
            let mut tables = Tables::open(&txn)?;
            let mut over = Vec::new();
            for entry in tables.counts.iter().map_err(backend)? {
                let (key, count) = entry.map_err(backend)?;
                if count.value() > cap {
                    let (tenant, user) = key.value();
                    over.push((tenant.to_owned(), user.to_owned()));
                }
            }
            for (tenant, user) in &over {
                deleted += enforce_cap(&mut tables, tenant, user, cap, None)?;
            }
        }
        txn.commit().map_err(backend)?;
    }
    Ok(deleted)
}

/// Compacts the logs of tasks stored terminal before `now - retention.log` to their
/// projections (the task rows stay); returns how many logs were compacted. Works in
/// batches of [`PRUNE_BATCH`] tasks.
pub(super) fn compact_logs(
    db: &Database,
    config: &StoreConfig,
    now: SystemTime,
) -> Result<u64, Error> {
    let Some(cutoff) = nanos(config.retention.log_cutoff(now)) else {
        return Ok(0);
    };
    let mut compacted = 0;
    // Where the last batch stopped: skipped rows stay, so the next batch starts after them.
    let mut resume: Option<(u64, String)> = None;
    loop {
        let txn = begin_write(db)?;
        let (batch, last) = {
            let mut tables = Tables::open(&txn)?;
            let mut due = Vec::with_capacity(PRUNE_BATCH);
            let from = match &resume {
                Some((since, id)) => Bound::Excluded((*since, id.as_str())),
                None => Bound::Unbounded,
            };
            for entry in tables
                .log_kept
                .range::<(u64, &str)>((from, Bound::Excluded((cutoff, ""))))
                .map_err(backend)?
                .take(PRUNE_BATCH)
            {
                let (key, _) = entry.map_err(backend)?;
                let (since, id) = key.value();
                due.push((since, id.to_owned()));
            }
            for (since, id) in &due {
                // A push config still delivering from the log keeps it, whatever its age.
                let version = tables.meta(id)?.map_or(0, |m| m.version);
                if super::push::behind(&tables, id, version)? {
                    continue;
                }
                tables.drop_log(id)?;
                tables
                    .log_kept
                    .remove((*since, id.as_str()))
                    .map_err(backend)?;
                compacted += 1;
            }
            (due.len(), due.pop())
        };
        txn.commit().map_err(backend)?;
        resume = last;
        if batch < PRUNE_BATCH {
            return Ok(compacted);
        }
    }
}

/// A cutoff as the tables key the time a task was stored terminal: nanoseconds since the
/// Unix epoch. `None` (nothing is due) for no cutoff or one before the epoch.
fn nanos(cutoff: Option<SystemTime>) -> Option<u64> {
    let since_epoch = cutoff?.duration_since(UNIX_EPOCH).ok()?;
    Some(u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX))
}

/// The background pruning thread; stopping it (on drop) waits for a prune in progress, so
/// the database is released when the store is.
#[derive(Debug)]
pub(super) struct Pruner {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Pruner {
    /// Starts pruning every `every` (see [`StoreConfig::prune_every`]). A thread, not a
    /// tokio task: the store may be opened outside a runtime, and pruning is blocking disk
    /// work anyway.
    pub(super) fn start(
        db: &Arc<Database>,
        config: StoreConfig,
        every: Duration,
    ) -> Result<Self, Error> {
        let db: Weak<Database> = Arc::downgrade(db);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("harbor-store-prune".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let Some(db) = db.upgrade() else { return };
                    let now = SystemTime::now();
                    match prune(&db, &config, now) {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(deleted = n, "pruned tasks"),
                        Err(error) => tracing::warn!(%error, "pruning tasks failed"),
                    }
                    match compact_logs(&db, &config, now) {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(compacted = n, "compacted task logs"),
                        Err(error) => tracing::warn!(%error, "compacting task logs failed"),
                    }
                }
            })
            .map_err(failure)?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Pruner {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread with `Disconnected`.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
