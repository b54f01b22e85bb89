//! A consumer for fault cases: processes deliveries through the idempotency helper and
//! counts deliveries and effects per event id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use harbor_distributed::Subscription;
use harbor_distributed::idempotency::Deduplicator;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::RECOVERY;

#[derive(Default)]
struct Counts {
    /// Deliveries per event id (including duplicates and redeliveries).
    deliveries: HashMap<String, u32>,
    /// Times the work ran per event id: must be exactly one each.
    effects: HashMap<String, u32>,
    /// The highest attempt number seen per event id.
    attempts: HashMap<String, u32>,
    /// Errors the subscription or settling reported (expected while a fault lasts).
    errors: Vec<String>,
    ended: bool,
}

pub(super) struct Tally {
    counts: Arc<Mutex<Counts>>,
    changed: Arc<Notify>,
    task: JoinHandle<()>,
}

fn lock(counts: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    counts.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tally {
    pub(super) fn spawn(mut sub: Subscription) -> Self {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let changed = Arc::new(Notify::new());
        let dedup = Deduplicator::shared(1 << 20);
        let task = tokio::spawn({
            let (counts, changed) = (Arc::clone(&counts), Arc::clone(&changed));
            async move {
                while let Some(item) = sub.next().await {
                    match item {
                        Ok(delivery) => {
                            let id = delivery.envelope().event_id.clone();
                            let attempt = delivery.attempt();
                            {
                                let mut c = lock(&counts);
                                *c.deliveries.entry(id.clone()).or_default() += 1;
                                let max = c.attempts.entry(id).or_default();
                                *max = (*max).max(attempt);
                            }
                            let effects = Arc::clone(&counts);
                            let work = |envelope: Arc<harbor_distributed::Envelope>| async move {
                                let mut c = lock(&effects);
                                *c.effects.entry(envelope.event_id.clone()).or_default() += 1;
                                Ok::<(), std::convert::Infallible>(())
                            };
                            let retry = Duration::from_millis(50);
                            if let Err(error) = dedup.process(delivery, retry, work).await {
                                lock(&counts).errors.push(format!("settle: {error}"));
                            }
                        }
                        Err(error) => lock(&counts).errors.push(format!("stream: {error}")),
                    }
                    changed.notify_waiters();
                }
                lock(&counts).ended = true;
                changed.notify_waiters();
            }
        });
        Self {
            counts,
            changed,
            task,
        }
    }

    pub(super) fn distinct(&self) -> usize {
        lock(&self.counts).deliveries.len()
    }

    pub(super) fn deliveries(&self) -> u64 {
        lock(&self.counts)
            .deliveries
            .values()
            .map(|&n| u64::from(n))
            .sum()
    }

    pub(super) fn delivered(&self, id: &str) -> bool {
        lock(&self.counts).deliveries.contains_key(id)
    }

    pub(super) fn attempt(&self, id: &str) -> u32 {
        lock(&self.counts).attempts.get(id).copied().unwrap_or(0)
    }

    /// Event ids whose work ran other than exactly once (given the expected ids).
    pub(super) fn wrong_effects<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a String>,
    ) -> Vec<String> {
        let counts = lock(&self.counts);
        ids.into_iter()
            .filter(|id| counts.effects.get(*id).copied().unwrap_or(0) != 1)
            .map(|id| format!("{id}×{}", counts.effects.get(id).copied().unwrap_or(0)))
            .collect()
    }

    /// Waits until `done` holds, or panics after [`RECOVERY`] saying what was missing.
    pub(super) async fn wait_until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + RECOVERY;
        loop {
            let notified = self.changed.notified();
            if done(self) {
                return;
            }
            let ended = lock(&self.counts).ended;
            if ended || tokio::time::timeout_at(deadline, notified).await.is_err() {
                let counts = lock(&self.counts);
                let errors: Vec<_> = counts.errors.iter().rev().take(5).collect();
                panic!(
                    "{what}: not reached within {RECOVERY:?} (subscription ended: {ended}; {} distinct ids delivered; last errors: {errors:?})",
                    counts.deliveries.len()
                );
            }
        }
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        self.task.abort();
    }
}
