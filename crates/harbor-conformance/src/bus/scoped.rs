//! A bus under test that owns the place it lives in (a directory, a schema, a key prefix)
//! and removes it once closed, so suite cases never see each other and leave nothing
//! behind.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::future::BoxFuture;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};

/// Wraps a bus: keeps a guard alive as long as the bus and runs a cleanup after `close`.
///
/// ```
/// # use std::sync::Arc;
/// # use harbor_conformance::bus::ScopedBus;
/// # use harbor_distributed::{MessageBus, memory::MemoryBus};
/// let bus: Arc<dyn MessageBus> = Arc::new(
///     ScopedBus::new(Arc::new(MemoryBus::default()))
///         .holding(String::from("a temporary directory, say"))
///         .after_close(async { /* drop the schema, delete the keys */ Ok(()) }),
/// );
/// # let _ = bus;
/// ```
pub struct ScopedBus {
    bus: Arc<dyn MessageBus>,
    _guard: Option<Box<dyn Any + Send + Sync>>,
    cleanup: Mutex<Option<BoxFuture<'static, Result<(), Error>>>>,
}

impl ScopedBus {
    /// `bus`, with nothing held and nothing to clean up yet.
    pub fn new(bus: Arc<dyn MessageBus>) -> Self {
        Self {
            bus,
            _guard: None,
            cleanup: Mutex::new(None),
        }
    }

    /// Keeps `guard` (a temporary directory, an engine handle) until the bus is dropped.
    pub fn holding(mut self, guard: impl Any + Send + Sync) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    /// Runs `cleanup` once, after the first successful `close`, which then returns what
    /// the cleanup returned.
    pub fn after_close(
        self,
        cleanup: impl Future<Output = Result<(), Error>> + Send + 'static,
    ) -> Self {
        *self.cleanup.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::pin(cleanup));
        self
    }
}

#[async_trait]
impl MessageBus for ScopedBus {
    fn capabilities(&self) -> Capabilities {
        self.bus.capabilities()
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        self.bus.publish(envelope).await
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        self.bus.subscribe(options).await
    }

    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        self.bus.backlog(group).await
    }

    async fn close(&self) -> Result<(), Error> {
        self.bus.close().await?;
        let cleanup = self
            .cleanup
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match cleanup {
            Some(cleanup) => cleanup.await,
            None => Ok(()),
        }
    }
}
