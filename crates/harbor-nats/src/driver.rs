//! The `nats` bus driver for the registry.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{BusDriver, Error, MessageBus};

use crate::{NatsBus, NatsBusConfig};

/// Opens [`NatsBus`]es: name `nats`, alias `jetstream`, scheme `nats`.
///
/// A name opens `nats://127.0.0.1:4222` with the default configuration; a `nats://` URL sets
/// the server and, in its query, any configuration field (see the crate docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct NatsBusDriver;

#[async_trait]
impl BusDriver for NatsBusDriver {
    fn name(&self) -> &'static str {
        "nats"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["jetstream"]
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["nats"]
    }

    async fn open(&self, target: &str) -> Result<Arc<dyn MessageBus>, Error> {
        let config = if target.contains("://") {
            NatsBusConfig::from_url(target)?
        } else {
            NatsBusConfig::default()
        };
        Ok(Arc::new(NatsBus::connect(config).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_registry_finds_it_by_name_and_scheme() {
        let mut registry = harbor_distributed::Registry::new();
        registry
            .register_bus(Arc::new(NatsBusDriver))
            .expect("register");
        for target in ["nats", "jetstream", "nats://127.0.0.1:1"] {
            let driver = registry.bus_driver(target).expect(target);
            assert_eq!(driver.name(), "nats");
        }
        match registry.open_bus("nats://127.0.0.1:4222?bogus=1").await {
            Err(Error::InvalidConfig(msg)) => assert!(msg.contains("bogus"), "{msg}"),
            other => panic!("expected InvalidConfig, got {:?}", other.map(|_| ())),
        }
    }
}
