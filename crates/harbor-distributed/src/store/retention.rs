//! [`Retention`]: how long a task store keeps what a finished task leaves behind. Every
//! store (memory, embedded, PostgreSQL) takes this one type; how and how often each sweeps
//! is its own setting.

use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// The log retention the durable stores default to (and `harbor serve --log-retention`):
/// long enough for a client to come back from a dropped connection, short enough that the
/// logs of a busy server stay a small part of its disk (at 1,000 tasks/s of ~1 kB of
/// events, about 300 MB).
pub const DEFAULT_LOG_RETENTION: Duration = Duration::from_secs(5 * 60);

/// The shortest time between two sweeps of a store that sweeps on a timer.
const MIN_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// How long a task store keeps what a finished task leaves behind.
///
/// Both times count from the write that first stored the task in a terminal state
/// (completed, failed, canceled, rejected), on the store's clock, not the task's status
/// timestamp, so a client can make its tasks neither immortal nor instantly expired. A
/// time too long for the clock to name is forever. When a store sweeps is its own
/// business (on writes, or every so often), so what is due may outlive its time by up to
/// one sweep.
///
/// The default (both `None`) keeps everything until deleted by hand; the durable stores
/// default to keeping logs for [`DEFAULT_LOG_RETENTION`]. Plain data: build it with struct
/// syntax; deserialized, a missing field is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Retention {
    /// A task finished longer than this ago is deleted, with its log and push configs.
    /// Default is `None`: finished tasks are kept until deleted by hand.
    pub task: Option<Duration>,
    /// The log of a task finished longer than this ago is compacted to its projection:
    /// the entries are deleted and the task itself stays readable, but a stream can no
    /// longer resume inside the log (`Last-Event-ID`). A log a live push delivery still
    /// reads is kept, whatever its age, by the stores that deliver pushes from it.
    /// Default is `None`: a log is kept as long as its task.
    pub log: Option<Duration>,
}

impl Retention {
    /// Keeps everything until deleted by hand: the same as [`Retention::default`].
    pub const FOREVER: Self = Self {
        task: None,
        log: None,
    };

    /// Whether anything expires at all, i.e. whether a store has anything to sweep.
    pub const fn is_set(&self) -> bool {
        self.task.is_some() || self.log.is_some()
    }

    /// The shorter of the two times that are set; `None` when neither is.
    pub fn shortest(&self) -> Option<Duration> {
        match (self.task, self.log) {
            (Some(task), Some(log)) => Some(task.min(log)),
            (task, log) => task.or(log),
        }
    }

    /// How long a store that sweeps on a timer sleeps between sweeps: `interval`, at most
    /// a quarter of the [`shortest`](Self::shortest) time, never under 1 s; `None` when
    /// nothing is set (nothing to sweep). The quarter keeps what outlives its time a small
    /// part of what is kept: under a steady load a store holds about 1.25 retentions.
    pub fn sweep_interval(&self, interval: Duration) -> Option<Duration> {
        let shortest = self.shortest()?;
        Some(interval.min(shortest / 4).max(MIN_SWEEP_INTERVAL))
    }

    /// When a task that finished at `finished` is due for deletion; `None` when never.
    pub fn task_expiry(&self, finished: Instant) -> Option<Instant> {
        self.task.and_then(|keep| finished.checked_add(keep))
    }

    /// When the log of a task that finished at `finished` is due for compaction; `None`
    /// when never.
    pub fn log_expiry(&self, finished: Instant) -> Option<Instant> {
        self.log.and_then(|keep| finished.checked_add(keep))
    }

    /// At `now`, tasks that finished before the answer are due for deletion; `None` when
    /// none are (unset, or a time reaching back past what the clock can name).
    pub fn task_cutoff(&self, now: SystemTime) -> Option<SystemTime> {
        self.task.and_then(|keep| now.checked_sub(keep))
    }

    /// At `now`, the logs of tasks that finished before the answer are due for
    /// compaction; `None` when none are.
    pub fn log_cutoff(&self, now: SystemTime) -> Option<SystemTime> {
        self.log.and_then(|keep| now.checked_sub(keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(task: Option<u64>, log: Option<u64>) -> Retention {
        Retention {
            task: task.map(Duration::from_secs),
            log: log.map(Duration::from_secs),
        }
    }

    #[test]
    fn the_shortest_of_what_is_set() {
        assert_eq!(secs(None, None).shortest(), None);
        assert!(!Retention::FOREVER.is_set());
        assert_eq!(Retention::default(), Retention::FOREVER);
        assert_eq!(
            secs(Some(20), None).shortest(),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            secs(None, Some(10)).shortest(),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            secs(Some(20), Some(10)).shortest(),
            Some(Duration::from_secs(10))
        );
        assert!(secs(None, Some(0)).is_set());
    }

    #[test]
    fn sweeps_keep_up_with_a_short_retention() {
        let every =
            |task, log, interval| secs(task, log).sweep_interval(Duration::from_secs(interval));
        // The default log retention (5 min) leaves a 60 s interval alone.
        let default_logs = Retention {
            log: Some(DEFAULT_LOG_RETENTION),
            task: None,
        };
        assert_eq!(
            default_logs.sweep_interval(Duration::from_secs(60)),
            Some(Duration::from_secs(60))
        );
        // A quarter of the shorter time.
        assert_eq!(
            every(Some(20), Some(10), 60),
            Some(Duration::from_millis(2_500))
        );
        assert_eq!(every(Some(40), None, 60), Some(Duration::from_secs(10)));
        // Never under a second, whatever asks for it.
        assert_eq!(every(Some(1), None, 60), Some(Duration::from_secs(1)));
        assert_eq!(every(None, Some(2), 0), Some(Duration::from_secs(1)));
        // A shorter interval than the retention needs is kept.
        assert_eq!(every(Some(3_600), None, 5), Some(Duration::from_secs(5)));
        // Nothing set, nothing to sweep.
        assert_eq!(every(None, None, 60), None);
    }

    #[test]
    fn a_time_too_long_for_the_clock_is_forever() {
        let now = Instant::now();
        let forever = Retention {
            task: Some(Duration::MAX),
            log: Some(Duration::MAX),
        };
        assert_eq!(forever.task_expiry(now), None);
        assert_eq!(forever.log_expiry(now), None);
        assert_eq!(forever.task_cutoff(SystemTime::now()), None);
        assert_eq!(forever.log_cutoff(SystemTime::now()), None);
        let short = secs(Some(1), Some(2));
        assert_eq!(short.task_expiry(now), Some(now + Duration::from_secs(1)));
        assert_eq!(short.log_expiry(now), Some(now + Duration::from_secs(2)));
        assert_eq!(Retention::FOREVER.task_expiry(now), None);
        let wall = SystemTime::now();
        assert_eq!(short.log_cutoff(wall), Some(wall - Duration::from_secs(2)));
        assert_eq!(Retention::FOREVER.task_cutoff(wall), None);
    }
}
