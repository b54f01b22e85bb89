//! [`StoreOptions`]: how the PostgreSQL task store keeps finished tasks.

use std::time::Duration;

/// The default [`StoreOptions::log_retention`], as the embedded store's.
pub const DEFAULT_LOG_RETENTION: Duration = Duration::from_secs(5 * 60);

/// How a [`PostgresTaskStore`](super::PostgresTaskStore) keeps finished tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long the log of a finished task is kept (counted from when it was first stored
    /// finished), then compacted to the task itself. Default [`DEFAULT_LOG_RETENTION`];
    /// `None` keeps logs as long as their tasks.
    pub log_retention: Option<Duration>,
    /// How long a finished task is kept at all, then deleted with its log and push configs.
    /// Default `None`: until deleted by hand.
    pub terminal_task_ttl: Option<Duration>,
    /// How often retention runs: this, at most a quarter of the shorter retention, at least
    /// 1 s. Default 60 s.
    pub prune_interval: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            log_retention: Some(DEFAULT_LOG_RETENTION),
            terminal_task_ttl: None,
            prune_interval: Duration::from_secs(60),
        }
    }
}

impl StoreOptions {
    /// The interval between two retention runs, `None` when nothing is to be pruned.
    pub(super) fn prune_every(&self) -> Option<Duration> {
        let shortest = [self.terminal_task_ttl, self.log_retention]
            .into_iter()
            .flatten()
            .min()?;
        Some(
            self.prune_interval
                .min(shortest / 4)
                .max(Duration::from_secs(1)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_runs_a_quarter_of_the_shorter_retention_apart() {
        let options = |logs: Option<u64>, ttl: Option<u64>| StoreOptions {
            log_retention: logs.map(Duration::from_secs),
            terminal_task_ttl: ttl.map(Duration::from_secs),
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
