//! The memory bus: opening groups, subscribing, closing. Routing is the [`Router`]'s.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::MemoryBusConfig;
use super::core::Router;
use super::group::Group;
use super::groups::GroupList;
use super::publish::Publish;
use super::subscription::DeliveryStream;
use super::timer;
use crate::kit::{self, Lifecycle};
use crate::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, StartPosition, SubscribeOptions,
    Subscription,
};

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

impl MemoryBus {
    /// A bus with `config`.
    pub fn new(config: MemoryBusConfig) -> Self {
        Self {
            router: Arc::new(Router {
                config: config.normalized(),
                groups: GroupList::default(),
                life: Lifecycle::new(),
                sequence: AtomicU64::new(0),
                drain: Arc::new(Notify::new()),
                timers: Mutex::new(Vec::new()),
                cancel: CancellationToken::new(),
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
        if self.router.life.close() {
            for group in self.router.snapshot().iter() {
                group.end();
            }
        }
        self.router.cancel.cancel();
    }
}

/// Opening a group starts its timer task, which lives above the router.
impl Router {
    fn open_group(self: &Arc<Self>, options: &SubscribeOptions) -> Result<Arc<Group>, Error> {
        let edges = Group::normalize_edges(options);
        let mut groups = self.groups.write();
        // Checked under the lock `close` reads the groups with, so no group escapes it.
        if !self.life.is_open() {
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
            Arc::<Self>::downgrade(self),
        ));
        groups.push(Arc::clone(&group));
        let task = tokio::spawn(timer::run(
            Arc::clone(&group),
            Arc::downgrade(self),
            self.cancel.child_token(),
        ));
        let mut timers = kit::lock(&self.timers);
        timers.retain(|t| !t.is_finished());
        timers.push(task);
        drop(groups);
        Ok(group)
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
        if !self.router.life.is_open() {
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
        let _closing = router.life.lock_close().await;
        if router.life.is_closed() {
            return Ok(());
        }
        async {
            router.life.begin_drain();
            for group in router.snapshot().iter() {
                group.start_drain();
            }
            router.drain().await;
            router.life.close();
            for group in router.snapshot().iter() {
                group.end();
            }
            router.cancel.cancel();
            let timers = std::mem::take(&mut *kit::lock(&router.timers));
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
