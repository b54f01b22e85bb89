//! The shared part of a memory bus, [`Router`]: its groups, its life cycle and the routing
//! of envelopes (publishes and dead letters) into the groups that admit them.
//!
//! Groups, publishes, timers and subscriptions use it; [`MemoryBus`](super::MemoryBus)
//! owns it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::MemoryBusConfig;
use super::group::{DeadLetter, DeadLetters, Group, Push};
use super::groups::GroupList;
use crate::Envelope;
use crate::Error;
use crate::bus::dead_letter;
use crate::kit::Lifecycle;

/// Where a publish has to wait: the admitting groups from the first full one on, and the
/// envelope still to store in them.
pub(super) type Blocked = (Vec<Arc<Group>>, Arc<Envelope>);

/// The shared part of a bus: its groups and its life cycle.
#[derive(Debug)]
pub(super) struct Router {
    pub(super) config: MemoryBusConfig,
    /// Append-only: publishers read it on every envelope without a lock.
    pub(super) groups: GroupList,
    /// Open, draining or closed, and the lock that serializes `close`.
    pub(super) life: Lifecycle,
    pub(super) sequence: AtomicU64,
    pub(super) drain: Arc<Notify>,
    pub(super) timers: Mutex<Vec<JoinHandle<()>>>,
    pub(super) cancel: CancellationToken,
}

impl Router {
    /// Every group, read under the writers' lock: after `close` changed the phase, no group
    /// can be added that this misses.
    pub(super) fn snapshot(&self) -> Vec<Arc<Group>> {
        self.groups.write().iter().cloned().collect()
    }

    /// Stores `envelope` in every group that admits it, waiting for room where a group is
    /// full. `force` is for dead letters, which are still taken while the bus drains.
    pub(super) async fn route(&self, envelope: Arc<Envelope>, force: bool) -> Result<(), Error> {
        match self.try_route(envelope, force)? {
            None => Ok(()),
            Some((groups, envelope)) => Self::route_from(&groups, &envelope, force).await,
        }
    }

    /// The fast path of [`route`](Self::route): stores `envelope` in the admitting groups
    /// until one is full, then returns that one and the admitting groups after it.
    ///
    /// Each admitting group is pushed to once the next one is found, so the last one takes
    /// the caller's reference instead of a clone (one group is the common case).
    fn try_route(&self, envelope: Arc<Envelope>, force: bool) -> Result<Option<Blocked>, Error> {
        let len = self.groups.len();
        let mut admitting = (0..len)
            .filter_map(|i| self.groups.get(i))
            .filter(|g| g.admits(&envelope));
        let Some(mut pending) = admitting.next() else {
            return Ok(None);
        };
        while let Some(next) = admitting.next() {
            match pending.try_push(Arc::clone(&envelope), force, &mut false) {
                Push::Done => pending = next,
                Push::Closed => return Err(Error::Closed),
                Push::Full(_) => {
                    let rest = [pending, next].into_iter().chain(admitting);
                    return Ok(Some((rest.cloned().collect(), envelope)));
                }
            }
        }
        match pending.try_push(envelope, force, &mut false) {
            Push::Done => Ok(None),
            Push::Closed => Err(Error::Closed),
            Push::Full(envelope) => Ok(Some((vec![Arc::clone(pending)], envelope))),
        }
    }

    /// The slow path: stores `envelope` in `groups` (which admit it), waiting for room.
    pub(super) async fn route_from(
        groups: &[Arc<Group>],
        envelope: &Arc<Envelope>,
        force: bool,
    ) -> Result<(), Error> {
        for group in groups {
            group.push(envelope, force).await?;
        }
        Ok(())
    }

    /// Publishes the dead letter of `letter` from `group`.
    pub(super) async fn dead_letter(&self, group: &str, letter: DeadLetter) -> Result<(), Error> {
        tracing::debug!(
            group,
            edge = %letter.envelope.edge,
            attempts = letter.attempts,
            reason = %letter.reason,
            "dead-lettering"
        );
        let original = Arc::unwrap_or_clone(letter.envelope);
        let envelope = dead_letter::envelope(original, group, letter.attempts, &letter.reason);
        self.route(Arc::new(envelope), true).await
    }

    /// The synchronous part of a publish: checks the envelope, numbers it and stores it in
    /// every admitting group up to the first full one, which it returns to wait on.
    pub(super) fn start_publish(
        &self,
        envelope: Arc<Envelope>,
    ) -> Result<(u64, Option<Blocked>), Error> {
        if !self.life.is_open() {
            return Err(Error::Closed);
        }
        envelope.check_publishable(self.config.max_payload)?;
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        Ok((sequence, self.try_route(envelope, false)?))
    }

    /// Waits until every group is drained, or [`MemoryBusConfig::drain_timeout`] passed.
    pub(super) async fn drain(&self) {
        let deadline = tokio::time::Instant::now() + self.config.drain_timeout;
        loop {
            let notified = self.drain.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.snapshot().iter().all(|g| g.drained()) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                tracing::warn!(
                    timeout = ?self.config.drain_timeout,
                    "memory bus closed with deliveries still unsettled"
                );
                return;
            }
        }
    }
}

impl DeadLetters for Router {
    fn route_dead_letter<'a>(
        &'a self,
        group: &'a str,
        letter: DeadLetter,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>> {
        Box::pin(self.dead_letter(group, letter))
    }
}
