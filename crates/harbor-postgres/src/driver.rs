//! [`PostgresBusDriver`]: opens [`PostgresBus`]es for the driver registry.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{BusDriver, Error, MessageBus};

use crate::PostgresBus;

/// The `postgres` bus driver (alias `postgresql`; URL schemes `postgres://` and
/// `postgresql://`). The bare name opens the default local server,
/// `postgres://postgres@127.0.0.1:5432/postgres`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PostgresBusDriver;

#[async_trait]
impl BusDriver for PostgresBusDriver {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["postgresql"]
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["postgres", "postgresql"]
    }

    async fn open(&self, target: &str) -> Result<Arc<dyn MessageBus>, Error> {
        let bus = if target.contains("://") {
            PostgresBus::connect_url(target).await?
        } else {
            PostgresBus::connect(crate::PostgresBusConfig::default()).await?
        };
        Ok(Arc::new(bus))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harbor_distributed::Registry;

    #[test]
    fn the_registry_finds_it_by_name_alias_and_scheme() {
        let mut registry = Registry::new();
        registry
            .register_bus(Arc::new(PostgresBusDriver))
            .expect("register");
        for target in [
            "postgres",
            "postgresql",
            "postgres://h/db",
            "postgresql://h/db",
        ] {
            let driver = registry.bus_driver(target).expect(target);
            assert_eq!(driver.name(), "postgres");
        }
    }
}
