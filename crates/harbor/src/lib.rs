//! Harbor: the distributed edge for agent runtimes.
//!
//! This facade re-exports the layers ([`a2a`], [`distributed`]) and fills a driver
//! [`Registry`] with every driver compiled in.

pub use harbor_a2a as a2a;
pub use harbor_distributed as distributed;
use harbor_distributed::{Error, Registry};

/// Registers every compiled-in bus and transport driver.
pub fn install_default_drivers(registry: &mut Registry) -> Result<(), Error> {
    registry.register_bus(std::sync::Arc::new(
        harbor_distributed::memory::MemoryBusDriver,
    ))?;
    registry.register_transport(std::sync::Arc::new(
        harbor_distributed::loopback::LoopbackDriver::default(),
    ))?;
    registry.note_bus_compiled_out("nats", "nats");
    registry.note_bus_compiled_out("redis", "redis");
    registry.note_bus_compiled_out("postgres", "postgres");
    registry.note_transport_compiled_out("a2a", "client");
    Ok(())
}

/// A registry with [`install_default_drivers`] applied.
pub fn default_registry() -> Result<Registry, Error> {
    let mut registry = Registry::new();
    install_default_drivers(&mut registry)?;
    Ok(registry)
}
