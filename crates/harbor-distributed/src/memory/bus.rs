//! The memory bus: routing, subscribing, closing.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::MemoryBusConfig;
use super::group::{Group, Push};
use super::settle::DeadLetter;
use super::subscription::DeliveryStream;
use super::timer;
use crate::bus::dead_letter;
use crate::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, StartPosition, SubscribeOptions,
    Subscription,
};

/// Where a publish has to wait: the group list it read and the first full group in it.
type Blocked = (Arc<[Arc<Group>]>, usize);

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
    /// Copy-on-write: publishers read it on every envelope, subscribe rarely replaces it.
    groups: RwLock<Arc<[Arc<Group>]>>,
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
                groups: RwLock::new(Arc::from(Vec::new())),
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
    fn snapshot(&self) -> Arc<[Arc<Group>]> {
        Arc::clone(&self.groups.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Stores `envelope` in every group that admits it, waiting for room where a group is
    /// full. `force` is for dead letters, which are still taken while the bus drains.
    pub(super) async fn route(&self, envelope: &Arc<Envelope>, force: bool) -> Result<(), Error> {
        match self.try_route(envelope, force)? {
            None => Ok(()),
            Some((groups, from)) => Self::route_from(&groups, from, envelope, force).await,
        }
    }

    /// The fast path of [`route`](Self::route), all under the read lock: stores `envelope`
    /// until a group is full, then returns the groups and the index to go on from.
    fn try_route(&self, envelope: &Arc<Envelope>, force: bool) -> Result<Option<Blocked>, Error> {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        for (i, group) in groups.iter().enumerate() {
            if !group.admits(envelope) {
                continue;
            }
            match group.try_push(envelope, force, &mut false) {
                Push::Done => {}
                Push::Closed => return Err(Error::Closed),
                Push::Full => return Ok(Some((Arc::clone(&groups), i))),
            }
        }
        Ok(None)
    }

    /// The slow path: stores `envelope` in the admitting groups from index `from` on,
    /// waiting for room.
    async fn route_from(
        groups: &[Arc<Group>],
        from: usize,
        envelope: &Arc<Envelope>,
        force: bool,
    ) -> Result<(), Error> {
        for group in &groups[from..] {
            if group.admits(envelope) {
                group.push(envelope, force).await?;
            }
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
        self.route(&Arc::new(envelope), true).await
    }

    fn open_group(self: &Arc<Self>, options: &SubscribeOptions) -> Result<Arc<Group>, Error> {
        let edges = Group::normalize_edges(options);
        let mut groups = self.groups.write().unwrap_or_else(PoisonError::into_inner);
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
        let mut next: Vec<Arc<Group>> = groups.iter().cloned().collect();
        next.push(Arc::clone(&group));
        *groups = Arc::from(next);
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

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        let router = &self.router;
        let span = tracing::trace_span!("bus.publish", edge = %envelope.edge);
        // Synchronous up to the first full group; only waiting is instrumented as a future.
        let (envelope, sequence, blocked) = {
            let _entered = span.enter();
            if router.phase.load(Ordering::Acquire) != OPEN {
                return Err(Error::Closed);
            }
            envelope.validate()?;
            let max = router.config.max_payload;
            if envelope.payload.len() > max {
                return Err(Error::PayloadTooLarge {
                    size: envelope.payload.len(),
                    max,
                });
            }
            let envelope = Arc::new(envelope);
            let sequence = router.sequence.fetch_add(1, Ordering::Relaxed) + 1;
            let blocked = router.try_route(&envelope, false)?;
            (envelope, sequence, blocked)
        };
        if let Some((groups, from)) = blocked {
            Router::route_from(&groups, from, &envelope, false)
                .instrument(span)
                .await?;
        }
        Ok(PublishReceipt {
            sequence: Some(sequence),
            duplicate: false,
        })
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
        let sub = group.attach(&options)?;
        let batch = self.router.config.delivery_batch.min(options.max_in_flight);
        let stream = DeliveryStream::new(group, sub, batch, options.visibility_timeout);
        Ok(Subscription::new(Box::pin(stream)))
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
