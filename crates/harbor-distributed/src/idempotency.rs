//! Consumer-side deduplication on `(task_id, edge, event_id)`.
//!
//! The bus is at-least-once, so a consumer sees some envelopes more than once (a redelivery
//! after a timeout, a publisher's retry). A [`Deduplicator`] remembers the
//! [`DedupKey`]s whose work is done and tells a consumer to skip them.
//!
//! Memory is bounded by count: it keeps at most `capacity` keys and forgets the least
//! recently seen one first (LRU; a lookup of a known key refreshes it). A key can be
//! forgotten after `capacity` newer keys were recorded, so size it to cover the
//! redelivery window (roughly rate × (visibility timeout × max attempts)).
//!
//! The order that makes deduplication safe is *check, work, mark, ack*: a key is marked only
//! after the work succeeded, so a failure is retried. [`Deduplicator::process`] does that
//! for one delivery, and also keeps two concurrent deliveries of one key from both running.
//!
//! ```
//! use harbor_distributed::idempotency::{Deduplicator, Processed};
//! # async fn handle(dedup: &Deduplicator, delivery: harbor_distributed::Delivery)
//! #     -> Result<(), harbor_distributed::Error> {
//! let outcome = dedup
//!     .process(delivery, std::time::Duration::from_secs(1), |envelope| async move {
//!         println!("working on {}", envelope.event_id);
//!         Ok::<(), std::io::Error>(())
//!     })
//!     .await?;
//! assert!(!matches!(outcome, Processed::Failed(_)));
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::{DedupKey, Delivery, Envelope, Error};

/// Remembers which keys were processed; thread-safe, bounded by count (LRU).
#[derive(Debug)]
pub struct Deduplicator {
    capacity: usize,
    inner: Mutex<Lru>,
}

#[derive(Debug, Default)]
struct Lru {
    /// Key -> the tick it was last touched at.
    done: HashMap<DedupKey, u64>,
    /// Touches in order; an entry is stale when its tick is not the key's current one.
    order: VecDeque<(u64, DedupKey)>,
    tick: u64,
    /// Keys whose work is running now.
    running: HashSet<DedupKey>,
}

impl Lru {
    fn touch(&mut self, key: &DedupKey, capacity: usize) {
        self.tick += 1;
        let tick = self.tick;
        self.done.insert(key.clone(), tick);
        self.order.push_back((tick, key.clone()));
        while self.done.len() > capacity {
            let Some((t, k)) = self.order.pop_front() else {
                break;
            };
            if self.done.get(&k) == Some(&t) {
                self.done.remove(&k);
            }
        }
        // Refreshes leave stale entries behind; compact before they outgrow the live keys.
        if self.order.len() > 2 * capacity + 16 {
            let done = &self.done;
            self.order.retain(|(t, k)| done.get(k) == Some(t));
        }
    }

    fn seen(&mut self, key: &DedupKey, capacity: usize) -> bool {
        if self.done.contains_key(key) {
            self.touch(key, capacity);
            true
        } else {
            false
        }
    }
}

/// What [`Deduplicator::process`] did with a delivery.
#[derive(Debug)]
pub enum Processed<E> {
    /// The work ran and succeeded; the delivery was acked.
    Done,
    /// The key was already processed; the work did not run and the delivery was acked.
    Duplicate,
    /// Another delivery of the same key is being processed right now; this one was nacked
    /// with the retry delay and will come back (and then be a duplicate, or run if the
    /// other failed).
    InProgress,
    /// The work failed; the delivery was nacked with the retry delay and the error's text as
    /// the reason.
    Failed(E),
}

/// Where a key stands when a delivery of it arrives.
enum KeyState {
    Done,
    Running,
    Claimed,
}

/// Claim on a key while its work runs; releases the claim if dropped unfinished.
struct Claim<'a> {
    dedup: &'a Deduplicator,
    key: DedupKey,
    finished: bool,
}

impl Claim<'_> {
    fn finish(mut self, success: bool) {
        let mut inner = self.dedup.lock();
        inner.running.remove(&self.key);
        if success {
            inner.touch(&self.key, self.dedup.capacity);
        }
        self.finished = true;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.dedup.lock().running.remove(&self.key);
        }
    }
}

impl Deduplicator {
    /// Remembers up to `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Lru::default()),
        }
    }

    /// A shared deduplicator, for handlers running on several tasks.
    pub fn shared(capacity: usize) -> Arc<Self> {
        Arc::new(Self::new(capacity))
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        crate::kit::lock(&self.inner)
    }

    /// The most keys remembered.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.lock().done.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `key` was marked (and is still remembered). Refreshes it.
    pub fn seen(&self, key: &DedupKey) -> bool {
        self.lock().seen(key, self.capacity)
    }

    /// Records that `key`'s work is done. Call it after the work succeeded, before the ack.
    pub fn mark(&self, key: &DedupKey) {
        self.lock().touch(key, self.capacity);
    }

    /// Checks and marks in one step: true the first time `key` is offered. Only right when
    /// the work cannot fail (or a failure must not be retried); otherwise use
    /// [`seen`](Self::seen) and [`mark`](Self::mark) or [`process`](Self::process).
    pub fn first_time(&self, key: &DedupKey) -> bool {
        let mut inner = self.lock();
        if inner.seen(key, self.capacity) {
            return false;
        }
        inner.touch(key, self.capacity);
        true
    }

    /// Forgets `key`, so its next delivery runs again.
    pub fn forget(&self, key: &DedupKey) {
        self.lock().done.remove(key);
    }

    /// Runs `work` for `delivery` unless its key was already processed, then settles the
    /// delivery: ack when the work succeeded or was a duplicate, nack with `retry_delay`
    /// when it failed or another delivery of the key is running. Errors are the bus's
    /// (settling failed); the work's own error comes back in [`Processed::Failed`].
    pub async fn process<F, Fut, E>(
        &self,
        delivery: Delivery,
        retry_delay: Duration,
        work: F,
    ) -> Result<Processed<E>, Error>
    where
        F: FnOnce(Arc<Envelope>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let key = delivery.envelope().dedup_key();
        let state = {
            let mut inner = self.lock();
            if inner.seen(&key, self.capacity) {
                KeyState::Done
            } else if inner.running.insert(key.clone()) {
                KeyState::Claimed
            } else {
                KeyState::Running
            }
        };
        match state {
            KeyState::Done => {
                delivery.ack().await?;
                return Ok(Processed::Duplicate);
            }
            KeyState::Running => {
                delivery
                    .nack_with_reason(retry_delay, "another delivery of this key is running")
                    .await?;
                return Ok(Processed::InProgress);
            }
            KeyState::Claimed => {}
        }
        let claim = Claim {
            dedup: self,
            key,
            finished: false,
        };
        let (envelope, settle) = delivery.into_shared_parts();
        match work(envelope).await {
            Ok(()) => {
                claim.finish(true);
                settle.ack().await?;
                Ok(Processed::Done)
            }
            Err(error) => {
                claim.finish(false);
                settle.nack(retry_delay, Some(error.to_string())).await?;
                Ok(Processed::Failed(error))
            }
        }
    }
}

#[cfg(test)]
mod tests;
