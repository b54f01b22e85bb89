//! The task store configuration.

use std::time::Duration;

pub use harbor_distributed::store::DEFAULT_LOG_RETENTION;
use harbor_distributed::store::Retention;
use serde::{Deserialize, Serialize};

/// How an [`EmbeddedTaskStore`](super::EmbeddedTaskStore) keeps tasks. Plain data: build it
/// with struct update syntax from [`Default`], or deserialize it (missing fields take their
/// defaults). The default keeps every task forever, and the event log of a finished task
/// for [`DEFAULT_LOG_RETENTION`].
///
/// Serialized, the retention times keep their flat names: `terminal_task_ttl` is
/// `retention.task`, `log_retention` is `retention.log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoreConfigFields", into = "StoreConfigFields")]
pub struct StoreConfig {
    /// How long a finished task and its log are kept, counted from the write that first
    /// stored it terminal (see [`Retention`]); then pruning deletes the task with its push
    /// configs, and compaction drops the log of a task whose log time is up but whose task
    /// time is not (a log a push config still delivers from stays). Default is
    /// `Retention { task: None, log: Some(DEFAULT_LOG_RETENTION) }`: tasks are kept
    /// forever, logs 5 minutes.
    pub retention: Retention,
    /// The most tasks one owner keeps. When a create goes over it, the owner's oldest terminal
    /// tasks (by the time they were stored terminal) are deleted in the same transaction.
    /// Tasks that are still running are never deleted, so an owner with that many running
    /// tasks goes over the limit until some finish. Default is `None`: no limit.
    pub max_tasks_per_owner: Option<u64>,
    /// How often a background thread prunes and compacts when `retention` sets either time
    /// (the thread runs only then; [`prune`](super::EmbeddedTaskStore::prune) and
    /// [`compact_logs`](super::EmbeddedTaskStore::compact_logs) can always be called
    /// directly). Default is 60 s; zero is treated as 1 s. A retention shorter than four
    /// intervals shortens it to a quarter of that retention (at least 1 s), so what is kept
    /// past its time stays a small part of what is kept: disk use under a steady load is
    /// bounded by about 1.25 retentions of tasks, not by the interval
    /// ([`Retention::sweep_interval`]).
    pub prune_interval: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            retention: Retention {
                task: None,
                log: Some(DEFAULT_LOG_RETENTION),
            },
            max_tasks_per_owner: None,
            prune_interval: Duration::from_secs(60),
        }
    }
}

impl StoreConfig {
    /// The interval the pruning thread sleeps, `None` when there is nothing to prune (the
    /// thread does not run).
    pub(super) fn prune_every(&self) -> Option<Duration> {
        self.retention.sweep_interval(self.prune_interval)
    }
}

/// The serialized form of [`StoreConfig`], flat as it always was.
#[derive(Serialize, Deserialize)]
#[serde(default)]
struct StoreConfigFields {
    terminal_task_ttl: Option<Duration>,
    max_tasks_per_owner: Option<u64>,
    log_retention: Option<Duration>,
    prune_interval: Duration,
}

impl Default for StoreConfigFields {
    fn default() -> Self {
        StoreConfig::default().into()
    }
}

impl From<StoreConfigFields> for StoreConfig {
    fn from(fields: StoreConfigFields) -> Self {
        Self {
            retention: Retention {
                task: fields.terminal_task_ttl,
                log: fields.log_retention,
            },
            max_tasks_per_owner: fields.max_tasks_per_owner,
            prune_interval: fields.prune_interval,
        }
    }
}

impl From<StoreConfig> for StoreConfigFields {
    fn from(config: StoreConfig) -> Self {
        Self {
            terminal_task_ttl: config.retention.task,
            max_tasks_per_owner: config.max_tasks_per_owner,
            log_retention: config.retention.log,
            prune_interval: config.prune_interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(ttl: Option<u64>, logs: Option<u64>, interval: u64) -> Option<Duration> {
        StoreConfig {
            retention: Retention {
                task: ttl.map(Duration::from_secs),
                log: logs.map(Duration::from_secs),
            },
            prune_interval: Duration::from_secs(interval),
            ..StoreConfig::default()
        }
        .prune_every()
    }

    #[test]
    fn pruning_runs_at_the_interval_retention_asks_for() {
        // The default retention (5 min) leaves the default interval alone; the rule
        // itself is `Retention::sweep_interval`'s, tested beside it.
        assert_eq!(
            StoreConfig::default().prune_every(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            every(Some(20), Some(10), 60),
            Some(Duration::from_millis(2_500))
        );
        // Nothing to prune: no thread.
        assert_eq!(every(None, None, 0), None);
    }

    #[test]
    fn serialized_retention_keeps_its_flat_names() {
        let config = StoreConfig {
            retention: Retention {
                task: Some(Duration::from_secs(3_600)),
                log: None,
            },
            ..StoreConfig::default()
        };
        let json = serde_json::to_value(&config).expect("serializes");
        assert_eq!(
            json["terminal_task_ttl"],
            serde_json::json!({"secs": 3_600, "nanos": 0})
        );
        assert!(json["log_retention"].is_null());
        assert!(json.get("retention").is_none());
        let back: StoreConfig = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, config);
        // Missing fields take the defaults, the log retention among them.
        let partial: StoreConfig =
            serde_json::from_str(r#"{"terminal_task_ttl":{"secs":60,"nanos":0}}"#)
                .expect("deserializes");
        assert_eq!(partial.retention.task, Some(Duration::from_secs(60)));
        assert_eq!(partial.retention.log, Some(DEFAULT_LOG_RETENTION));
        assert_eq!(partial.prune_interval, Duration::from_secs(60));
    }
}
