//! Harbor: the distributed edge for agent runtimes.
//!
//! This facade re-exports the layers ([`a2a`], [`distributed`], [`server`], [`client`],
//! [`embedded`]) and fills a driver [`Registry`] with every driver compiled in:
//!
//! ```
//! # async fn demo() -> Result<(), harbor::distributed::Error> {
//! let registry = harbor::default_registry()?;
//! let bus = registry.open_bus("memory").await?;
//! assert!(!bus.capabilities().persistent);
//! # Ok(()) }
//! ```

pub use harbor_a2a as a2a;
pub use harbor_client as client;
pub use harbor_distributed as distributed;
use harbor_distributed::{Error, Registry};
pub use harbor_embedded as embedded;
pub use harbor_server as server;
use std::sync::Arc;

/// Registers every compiled-in driver.
///
/// Buses: `memory` (alias `loopback`, scheme `memory://`), `embedded` (scheme
/// `embedded://`, the durable default), and with their cargo features (all on by default)
/// `nats` (alias `jetstream`, scheme `nats://`), `redis` (scheme `redis://`) and `postgres`
/// (alias `postgresql`, schemes `postgres://`, `postgresql://`). A driver whose feature is
/// off is still known by name, so opening it says which feature to enable.
///
/// Transports: `loopback` and `a2a` (schemes `a2a+http`, `a2a+https`).
pub fn install_default_drivers(registry: &mut Registry) -> Result<(), Error> {
    registry.register_bus(Arc::new(harbor_distributed::memory::MemoryBusDriver))?;
    registry.register_bus(Arc::new(harbor_embedded::EmbeddedBusDriver))?;
    #[cfg(feature = "nats")]
    registry.register_bus(Arc::new(harbor_nats::NatsBusDriver))?;
    #[cfg(not(feature = "nats"))]
    registry.note_bus_compiled_out("nats", "nats");
    #[cfg(feature = "redis")]
    registry.register_bus(Arc::new(harbor_redis::RedisBusDriver))?;
    #[cfg(not(feature = "redis"))]
    registry.note_bus_compiled_out("redis", "redis");
    #[cfg(feature = "postgres")]
    registry.register_bus(Arc::new(harbor_postgres::PostgresBusDriver))?;
    #[cfg(not(feature = "postgres"))]
    registry.note_bus_compiled_out("postgres", "postgres");
    registry.register_transport(Arc::new(
        harbor_distributed::loopback::LoopbackDriver::default(),
    ))?;
    registry.register_transport(Arc::new(harbor_client::A2aTransportDriver::default()))?;
    Ok(())
}

/// A registry with [`install_default_drivers`] applied.
pub fn default_registry() -> Result<Registry, Error> {
    let mut registry = Registry::new();
    install_default_drivers(&mut registry)?;
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_default_registry_knows_every_built_in_driver() {
        let registry = default_registry().expect("no collisions");
        let buses = [
            "embedded",
            #[cfg(feature = "nats")]
            "jetstream",
            "loopback",
            "memory",
            #[cfg(feature = "nats")]
            "nats",
            #[cfg(feature = "postgres")]
            "postgres",
            #[cfg(feature = "postgres")]
            "postgresql",
            #[cfg(feature = "redis")]
            "redis",
        ];
        assert_eq!(registry.bus_names(), buses);
        assert_eq!(registry.transport_names(), ["a2a", "loopback"]);
        registry
            .open_bus("memory://")
            .await
            .expect("memory by scheme");
        registry.open_transport("a2a").await.expect("a2a by name");
        match registry.open_bus("kafka").await {
            Err(Error::UnknownDriver { name, known }) => {
                assert_eq!(name, "kafka");
                assert_eq!(known, buses);
            }
            other => panic!("expected UnknownDriver, got {:?}", other.map(|_| ())),
        }
        let mut twice = default_registry().expect("registry");
        assert!(matches!(
            install_default_drivers(&mut twice),
            Err(Error::DuplicateDriver { .. })
        ));
    }
}
