//! The task store configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How an [`EmbeddedTaskStore`](super::EmbeddedTaskStore) keeps tasks. Plain data: build it
/// with struct update syntax from [`Default`], or deserialize it (missing fields take their
/// defaults). The default keeps every task forever.
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
    /// How often a background thread prunes when `terminal_task_ttl` is set (the thread runs
    /// only then; [`prune`](super::EmbeddedTaskStore::prune) can always be called directly).
    /// Default is 60 s; zero is treated as 1 s.
    pub prune_interval: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            terminal_task_ttl: None,
            max_tasks_per_owner: None,
            prune_interval: Duration::from_secs(60),
        }
    }
}

impl StoreConfig {
    /// The interval the pruning thread sleeps, never zero.
    pub(super) fn prune_every(&self) -> Duration {
        if self.prune_interval.is_zero() {
            Duration::from_secs(1)
        } else {
            self.prune_interval
        }
    }
}
