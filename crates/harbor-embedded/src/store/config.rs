//! The task store configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How an [`EmbeddedTaskStore`](super::EmbeddedTaskStore) keeps tasks. Plain data: build it
/// with struct update syntax from [`Default`], or deserialize it (missing fields take their
/// defaults). The default keeps every task forever, and the event log of a finished task
/// for [`DEFAULT_LOG_RETENTION`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreConfig {
    /// How long a task in a terminal state (completed, failed, canceled, rejected) is kept,
    /// counted from the write that first stored it terminal; then pruning deletes it with its
    /// push configs. The clock is the store's, not the task's status timestamp, so a client
    /// cannot make its tasks immortal or instantly expired. Default is `None`: keep forever.
    pub terminal_task_ttl: Option<Duration>,
    /// The most tasks one owner keeps. When a create goes over it, the owner's oldest terminal
    /// tasks (by the time they were stored terminal) are deleted in the same transaction.
    /// Tasks that are still running are never deleted, so an owner with that many running
    /// tasks goes over the limit until some finish. Default is `None`: no limit.
    pub max_tasks_per_owner: Option<u64>,
    /// How long the event log of a finished task is kept, counted like
    /// `terminal_task_ttl`; then it is compacted to the task itself (its projection): the
    /// task stays readable, but a stream can no longer resume inside it. Default is
    /// [`DEFAULT_LOG_RETENTION`] (5 minutes); `None` keeps logs as long as their tasks.
    pub log_retention: Option<Duration>,
    /// How often a background thread prunes and compacts when `terminal_task_ttl` or
    /// `log_retention` is set (the thread runs only then;
    /// [`prune`](super::EmbeddedTaskStore::prune) and
    /// [`compact_logs`](super::EmbeddedTaskStore::compact_logs) can always be called
    /// directly). Default is 60 s; zero is treated as 1 s. A retention shorter than four
    /// intervals shortens it to a quarter of that retention (at least 1 s), so what is kept
    /// past its time stays a small part of what is kept: disk use under a steady load is
    /// bounded by about 1.25 retentions of tasks, not by the interval.
    pub prune_interval: Duration,
}

/// The default [`StoreConfig::log_retention`]: long enough for a client to come back from a
/// dropped connection, short enough that the logs of a busy server stay a small part of
/// its disk (at 1,000 tasks/s of ~1 kB of events, about 300 MB).
pub const DEFAULT_LOG_RETENTION: Duration = Duration::from_secs(5 * 60);

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            terminal_task_ttl: None,
            max_tasks_per_owner: None,
            log_retention: Some(DEFAULT_LOG_RETENTION),
            prune_interval: Duration::from_secs(60),
        }
    }
}

impl StoreConfig {
    /// Whether anything needs the pruning thread.
    pub(super) fn prunes(&self) -> bool {
        self.terminal_task_ttl.is_some() || self.log_retention.is_some()
    }

    /// The interval the pruning thread sleeps: `prune_interval`, at most a quarter of the
    /// shortest retention, never under 1 s.
    pub(super) fn prune_every(&self) -> Duration {
        let shortest = [self.terminal_task_ttl, self.log_retention]
            .into_iter()
            .flatten()
            .min();
        let every = match shortest {
            Some(retention) => self.prune_interval.min(retention / 4),
            None => self.prune_interval,
        };
        every.max(Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(ttl: Option<u64>, logs: Option<u64>, interval: u64) -> Duration {
        StoreConfig {
            terminal_task_ttl: ttl.map(Duration::from_secs),
            log_retention: logs.map(Duration::from_secs),
            prune_interval: Duration::from_secs(interval),
            ..StoreConfig::default()
        }
        .prune_every()
    }

    #[test]
    fn pruning_keeps_up_with_a_short_retention() {
        // The default retention (5 min) leaves the default interval alone.
        assert_eq!(
            StoreConfig::default().prune_every(),
            Duration::from_secs(60)
        );
        // A 20 s task TTL with 10 s logs: a quarter of the shorter one.
        assert_eq!(every(Some(20), Some(10), 60), Duration::from_millis(2_500));
        assert_eq!(every(Some(40), None, 60), Duration::from_secs(10));
        // Never under a second, whatever asks for it.
        assert_eq!(every(Some(1), None, 60), Duration::from_secs(1));
        assert_eq!(every(None, None, 0), Duration::from_secs(1));
        // A shorter interval than the retention needs is kept.
        assert_eq!(every(Some(3_600), None, 5), Duration::from_secs(5));
    }
}
