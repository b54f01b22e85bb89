//! The `redis` bus driver for the registry.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{BusDriver, Error, MessageBus};

use crate::{RedisBus, RedisBusConfig};

/// Opens [`RedisBus`]es: name `redis`, scheme `redis://` (see [`RedisBusConfig::from_url`]).
///
/// The bare name connects to `redis://127.0.0.1:6379` with the default configuration.
/// `rediss://` (TLS) is not served: the driver is built without a TLS stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedisBusDriver;

#[async_trait]
impl BusDriver for RedisBusDriver {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["redis"]
    }

    async fn open(&self, target: &str) -> Result<Arc<dyn MessageBus>, Error> {
        let config = if target == "redis" {
            RedisBusConfig::default()
        } else {
            RedisBusConfig::from_url(target)?
        };
        Ok(Arc::new(RedisBus::connect(config).await?))
    }
}
