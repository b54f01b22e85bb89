//! [`StoreOptions`]: how the PostgreSQL task store keeps finished tasks.

use std::time::Duration;

pub use harbor_distributed::store::DEFAULT_LOG_RETENTION;
use harbor_distributed::store::Retention;

/// How a [`PostgresTaskStore`](super::PostgresTaskStore) keeps finished tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a finished task and its log are kept, counted from when it was first
    /// stored finished on the database's clock (see [`Retention`]): then the log is
    /// compacted to the task itself (not while a live push cursor still reads it), and the
    /// task is deleted with its log and push configs. Default is
    /// `Retention { task: None, log: Some(DEFAULT_LOG_RETENTION) }`: tasks are kept until
    /// deleted by hand, logs 5 minutes.
    pub retention: Retention,
    /// How often retention runs: this, at most a quarter of the shorter retention, at least
    /// 1 s ([`Retention::sweep_interval`]); never when `retention` sets neither time.
    /// Default 60 s.
    pub prune_interval: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            retention: Retention {
                task: None,
                log: Some(DEFAULT_LOG_RETENTION),
            },
            prune_interval: Duration::from_secs(60),
        }
    }
}

impl StoreOptions {
    /// The interval between two retention runs, `None` when nothing is to be pruned.
    pub(super) fn prune_every(&self) -> Option<Duration> {
        self.retention.sweep_interval(self.prune_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_runs_a_quarter_of_the_shorter_retention_apart() {
        let options = |logs: Option<u64>, ttl: Option<u64>| StoreOptions {
            retention: Retention {
                task: ttl.map(Duration::from_secs),
                log: logs.map(Duration::from_secs),
            },
            ..StoreOptions::default()
        };
        assert_eq!(
            StoreOptions::default().prune_every(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            options(Some(10), Some(20)).prune_every(),
            Some(Duration::from_millis(2_500))
        );
        assert_eq!(
            options(None, Some(2)).prune_every(),
            Some(Duration::from_secs(1))
        );
        assert_eq!(options(None, None).prune_every(), None);
    }
}
