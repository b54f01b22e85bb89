//! Harbor: the distributed edge for agent runtimes.
//!
//! This facade re-exports the layers ([`a2a`], [`distributed`], [`server`], [`client`]) and
//! fills a driver [`Registry`] with every driver compiled in:
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
pub use harbor_server as server;
use std::sync::Arc;

/// Registers every compiled-in driver: the `memory` bus (alias `loopback`, scheme
/// `memory://`), the `loopback` transport and the `a2a` transport (schemes `a2a+http`,
/// `a2a+https`).
pub fn install_default_drivers(registry: &mut Registry) -> Result<(), Error> {
    registry.register_bus(Arc::new(harbor_distributed::memory::MemoryBusDriver))?;
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
        assert_eq!(registry.bus_names(), ["loopback", "memory"]);
        assert_eq!(registry.transport_names(), ["a2a", "loopback"]);
        registry
            .open_bus("memory://")
            .await
            .expect("memory by scheme");
        registry.open_transport("a2a").await.expect("a2a by name");
        match registry.open_bus("kafka").await {
            Err(Error::UnknownDriver { name, known }) => {
                assert_eq!(name, "kafka");
                assert_eq!(known, ["loopback", "memory"]);
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
