//! The memory bus: routing, subscribing, closing.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::MemoryBusConfig;
use super::group::{Group, Push};
use super::groups::GroupList;
use super::publish::Publish;
use super::settle::DeadLetter;
use super::subscription::DeliveryStream;
use super::timer;
use crate::bus::dead_letter;
use crate::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, StartPosition, SubscribeOptions,
    Subscription,
};

/// Where a publish has to wait: the admitting groups from the first full one on, and the
/// envelope still to store in them.
pub(super) type Blocked = (Vec<Arc<Group>>, Arc<Envelope>);

const OPEN: u8 = 0;
const DRAINING: u8 = 1;
const ENDED: u8 = 2;

/// At-least-once delivery inside one process.
///
/// Consumer groups are created by their first subscription and live as long as the bus; a
/// group sees the envelopes published after it was created whose edge matches its patterns
/// and whose tenant its scope admits. See the [module docs](super) for the full behaviour.
///
/// Dropping the bus without [`close`](MessageBus::close) ends it at once: subscriptions end
/// and held envelopes are discarded.
#[derive(Debug)]
pub struct MemoryBus {
    router: Arc<Router>,
}

/// The shared part of a bus: its groups and its life cycle.
#[derive(Debug)]
pub(super) struct Router {
    config: MemoryBusConfig,
    /// Append-only: publishers read it on every envelope without a lock.
    groups: GroupList,
    phase: AtomicU8,
    sequence: AtomicU64,
    drain: Arc<Notify>,
    timers: Mutex<Vec<JoinHandle<()>>>,
    cancel: CancellationToken,
    closing: tokio::sync::Mutex<()>,
}

impl MemoryBus {
    /// A bus with `config`.
    pub fn new(config: MemoryBusConfig) -> Self {
        Self {
            router: Arc::new(Router {
                config: config.normalized(),
                groups: GroupList::default(),
                phase: AtomicU8::new(OPEN),
                sequence: AtomicU64::new(0),
                drain: Arc::new(Notify::new()),
                timers: Mutex::new(Vec::new()),
                cancel: CancellationToken::new(),
                closing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MemoryBusConfig {
        &self.router.config
    }
}

impl Default for MemoryBus {
    /// A bus with the default [`MemoryBusConfig`].
    fn default() -> Self {
        Self::new(MemoryBusConfig::default())
    }
}

impl Drop for MemoryBus {
    fn drop(&mut self) {
        if self.router.phase.swap(ENDED, Ordering::AcqRel) != ENDED {
            for group in self.router.snapshot().iter() {
                group.end();
            }
        }
        self.router.cancel.cancel();
    }
}

impl Router {
    /// Every group, read under the writers' lock: after `close` changed the phase, no group
    /// can be added that this misses.
    fn snapshot(&self) -> Vec<Arc<Group>> {
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
        if self.phase.load(Ordering::Acquire) != OPEN {
            return Err(Error::Closed);
        }
        envelope.check_publishable(self.config.max_payload)?;
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        Ok((sequence, self.try_route(envelope, false)?))
    }

    fn open_group(self: &Arc<Self>, options: &SubscribeOptions) -> Result<Arc<Group>, Error> {
        let edges = Group::normalize_edges(options);
        let mut groups = self.groups.write();
        // Checked under the lock `close` reads the groups with, so no group escapes it.
        if self.phase.load(Ordering::Acquire) != OPEN {
            return Err(Error::Closed);
        }
        if let Some(group) = groups
            .iter()
            .find(|g| g.name == options.group && g.scope == options.scope)
        {
            if group.edges != edges {
                return Err(Error::InvalidArgument(format!(
                    "consumer group {:?} already subscribes to {:?}; its members must subscribe to the same edges",
                    options.group, group.edges
                )));
            }
            return Ok(Arc::clone(group));
        }
        if options.start != StartPosition::New {
            return Err(Error::InvalidArgument(format!(
                "the memory bus keeps no history: a new group must start at StartPosition::New, not {:?}",
                options.start
            )));
        }
        let group = Arc::new(Group::new(
            options.group.clone(),
            options.scope.clone(),
            edges,
            self.config.group_buffer,
            Arc::clone(&self.drain),
            Arc::downgrade(self),
        ));
        groups.push(Arc::clone(&group));
        let task = tokio::spawn(timer::run(
            Arc::clone(&group),
            Arc::downgrade(self),
            self.cancel.child_token(),
        ));
        let mut timers = self.timers.lock().unwrap_or_else(PoisonError::into_inner);
        timers.retain(|t| !t.is_finished());
        timers.push(task);
        drop(groups);
        Ok(group)
    }

    async fn drain(&self) {
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

#[async_trait]
impl MessageBus for MemoryBus {
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .ordered_per_edge(true)
            .dead_letter(true)
            .max_payload(self.router.config.max_payload)
    }

    // Written out rather than as an `async fn`: the envelope goes into its `Arc` before the
    // future is boxed, and the future is a small hand-written one (see `Publish`), so the
    // box holds two pointers instead of a copy of the envelope. It does nothing until polled.
    fn publish<'life0, 'async_trait>(
        &'life0 self,
        envelope: Envelope,
    ) -> Pin<Box<dyn Future<Output = Result<PublishReceipt, Error>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(Publish::new(&self.router, Arc::new(envelope)))
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        let _span = tracing::debug_span!(
            "bus.subscribe",
            group = %options.group,
            edges = ?options.edges,
        )
        .entered();
        options.validate()?;
        if self.router.phase.load(Ordering::Acquire) != OPEN {
            return Err(Error::Closed);
        }
        let group = self.router.open_group(&options)?;
        let (sub, aged) = group.attach(&options)?;
        let batch = self.router.config.delivery_batch.min(options.max_in_flight);
        let stream = DeliveryStream::new(group, sub, aged, batch, options.visibility_timeout);
        Ok(Subscription::new(Box::pin(stream)))
    }

    /// Every envelope a group of that name (in any scope) holds: waiting, leased to a
    /// subscription or nacked with a delay. Exact: the memory bus stores an envelope only
    /// in the groups that admit it.
    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        let held: usize = self
            .router
            .groups
            .iter()
            .filter(|g| g.name == group)
            .map(|g| g.retained())
            .sum();
        Ok(Some(held as u64))
    }

    async fn close(&self) -> Result<(), Error> {
        let router = &self.router;
        let _closing = router.closing.lock().await;
        if router.phase.load(Ordering::Acquire) == ENDED {
            return Ok(());
        }
        async {
            router.phase.store(DRAINING, Ordering::Release);
            for group in router.snapshot().iter() {
                group.start_drain();
            }
            router.drain().await;
            router.phase.store(ENDED, Ordering::Release);
            for group in router.snapshot().iter() {
                group.end();
            }
            router.cancel.cancel();
            let timers =
                std::mem::take(&mut *router.timers.lock().unwrap_or_else(PoisonError::into_inner));
            for task in timers {
                if let Err(error) = task.await {
                    tracing::warn!(%error, "memory bus timer task failed");
                }
            }
        }
        .instrument(tracing::debug_span!("bus.close"))
        .await;
        Ok(())
    }
}
