//! The closed loop: N workers, each sending one request after another until the row's
//! request count or time is used up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::request::Operation;

/// How much one row may send: whichever of the two runs out first ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Budget {
    requests: u64,
    duration: Duration,
}

impl Budget {
    /// At most `requests` requests, started within `duration`.
    pub(super) fn new(requests: u64, duration: Duration) -> Self {
        Self { requests, duration }
    }

    /// The request cap.
    pub(super) fn requests(self) -> u64 {
        self.requests
    }

    /// The time cap.
    pub(super) fn duration(self) -> Duration {
        self.duration
    }
}

/// What the workers of one row measured together.
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Requests that got a valid, completed answer.
    pub(super) ok: u64,
    /// Requests that failed (transport error, protocol error, task not completed).
    pub(super) failed: u64,
    /// From starting the first worker to the end of the last request.
    pub(super) elapsed: Duration,
    /// Latency of every successful request, in nanoseconds.
    pub(super) latencies: Vec<u64>,
    /// Time to the first event of every successful stream, in nanoseconds.
    pub(super) first_events: Vec<u64>,
    /// Events read on successful streams.
    pub(super) events: u64,
    /// The first failure's reason, to say what went wrong.
    pub(super) first_error: Option<String>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.latencies.extend(other.latencies);
        self.first_events.extend(other.first_events);
        self.events += other.events;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn fail(&mut self, reason: String) {
        self.failed += 1;
        self.first_error.get_or_insert(reason);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Runs `concurrency` workers repeating `op` until `budget` is spent.
pub(super) async fn run(
    client: &reqwest::Client,
    op: &Arc<Operation>,
    concurrency: usize,
    budget: Budget,
) -> Stats {
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + budget.duration();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (client, op, issued) = (client.clone(), Arc::clone(op), Arc::clone(&issued));
        workers.spawn(async move {
            let mut stats = Stats::default();
            // Bounded twice: by the shared request count and by the deadline.
            while Instant::now() < deadline {
                let seq = issued.fetch_add(1, Ordering::Relaxed);
                if seq >= budget.requests() {
                    break;
                }
                match op.call(&client, seq).await {
                    Ok(sample) => {
                        stats.ok += 1;
                        stats.latencies.push(nanos(sample.latency));
                        if let Some(first) = sample.first_event {
                            stats.first_events.push(nanos(first));
                        }
                        stats.events += sample.events;
                    }
                    Err(reason) => stats.fail(reason),
                }
            }
            stats
        });
    }
    let mut total = Stats::default();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(stats) => total.merge(stats),
            Err(error) => total.fail(format!("a worker stopped: {error}")),
        }
    }
    total.elapsed = start.elapsed();
    total
}
