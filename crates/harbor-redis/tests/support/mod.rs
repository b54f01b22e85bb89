//! What the integration tests share: buses in a random key prefix that delete their keys
//! when closed, and a Redis server of the test's own.

#![allow(dead_code, unreachable_pub)]

pub mod server;

use std::sync::Arc;

use harbor_conformance::bus::ScopedBus;
use harbor_distributed::MessageBus;
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

/// Opens a bus on `url` in a fresh prefix; it deletes every key under it after `close`.
pub async fn open_purging(url: &str) -> Arc<dyn MessageBus> {
    let url = with_prefix(url, &random_prefix(), "");
    let bus = match RedisBus::connect_url(&url).await {
        Ok(bus) => Arc::new(bus),
        Err(error) => panic!("cannot open the redis bus: {error}"),
    };
    let purged = Arc::clone(&bus);
    Arc::new(ScopedBus::new(bus).after_close(async move { purged.purge().await }))
}
