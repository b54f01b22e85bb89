//! A bus in its own temporary data directory, kept alive as long as the bus.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};
use harbor_embedded::{Embedded, EmbeddedBus, EmbeddedConfig};
use tempfile::TempDir;

/// An embedded bus that owns its engine and its directory (dropped in that order).
pub(crate) struct TempBus {
    pub(crate) bus: Arc<EmbeddedBus>,
    _engine: Embedded,
    _dir: TempDir,
}

impl TempBus {
    /// A bus in a fresh temporary directory.
    pub(crate) fn open() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = Embedded::open(EmbeddedConfig::new(dir.path())).expect("open the engine");
        Self {
            bus: engine.bus(),
            _engine: engine,
            _dir: dir,
        }
    }
}

#[async_trait]
impl MessageBus for TempBus {
    fn capabilities(&self) -> Capabilities {
        self.bus.capabilities()
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        self.bus.publish(envelope).await
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        self.bus.subscribe(options).await
    }

    async fn close(&self) -> Result<(), Error> {
        self.bus.close().await
    }
}
