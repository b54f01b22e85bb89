//! What the integration tests share: buses in a random key prefix that delete their keys
//! when closed, and a Redis server of the test's own.

#![allow(dead_code, unreachable_pub)]

pub mod server;

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};
use harbor_redis::RedisBus;

/// A random key prefix, one per test.
pub fn random_prefix() -> String {
    format!("harbor-test-{}", uuid::Uuid::new_v4().simple())
}

/// `url` with `prefix` and any extra query parameters.
pub fn with_prefix(url: &str, prefix: &str, extra: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}prefix={prefix}{extra}")
}

/// A bus that deletes every key under its prefix after `close`.
pub struct Purging(pub RedisBus);

#[async_trait]
impl MessageBus for Purging {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        self.0.publish(envelope).await
    }
    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        self.0.subscribe(options).await
    }
    async fn close(&self) -> Result<(), Error> {
        self.0.close().await?;
        self.0.purge().await
    }
}

/// Opens a purging bus on `url` in a fresh prefix.
pub async fn open_purging(url: &str) -> Arc<dyn MessageBus> {
    let url = with_prefix(url, &random_prefix(), "");
    match RedisBus::open(&url).await {
        Ok(bus) => Arc::new(Purging(bus)),
        Err(error) => panic!("cannot open the redis bus: {error}"),
    }
}
