//! The `memory` bus driver for the registry.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::bus::MemoryBus;
use super::config::MemoryBusConfig;
use crate::{BusDriver, Error, MessageBus};

/// Opens [`MemoryBus`]es: name `memory`, alias `loopback`, scheme `memory`.
///
/// Every open gives a fresh bus. A `memory://` URL may set configuration fields as query
/// parameters: `memory://?group_buffer=1024&max_payload=65536&drain_timeout_ms=500&delivery_batch=16`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryBusDriver;

#[async_trait]
impl BusDriver for MemoryBusDriver {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["loopback"]
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["memory"]
    }

    async fn open(&self, target: &str) -> Result<Arc<dyn MessageBus>, Error> {
        Ok(Arc::new(MemoryBus::new(parse_target(target)?)))
    }
}

/// The configuration a target names: a driver name, or a `memory://` URL with optional
/// query parameters.
fn parse_target(target: &str) -> Result<MemoryBusConfig, Error> {
    let mut config = MemoryBusConfig::default();
    let Some(rest) = target.strip_prefix("memory://") else {
        return Ok(config);
    };
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !host.is_empty() && host != "/" {
        return Err(Error::InvalidConfig(format!(
            "memory bus URL {target:?} must not name a host or path (use memory:// or memory://?key=value)"
        )));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = |what: &str| {
            value.parse::<u64>().map_err(|_| {
                Error::InvalidConfig(format!(
                    "memory bus URL parameter {what}={value:?} is not a whole number"
                ))
            })
        };
        match key {
            "group_buffer" => config.group_buffer = number(key)? as usize,
            "max_payload" => config.max_payload = number(key)? as usize,
            "delivery_batch" => config.delivery_batch = number(key)? as usize,
            "drain_timeout_ms" => config.drain_timeout = Duration::from_millis(number(key)?),
            other => {
                return Err(Error::InvalidConfig(format!(
                    "unknown memory bus URL parameter {other:?} (known: group_buffer, max_payload, drain_timeout_ms, delivery_batch)"
                )));
            }
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_parse() {
        assert_eq!(
            parse_target("memory").ok(),
            Some(MemoryBusConfig::default())
        );
        assert_eq!(
            parse_target("memory://").ok(),
            Some(MemoryBusConfig::default())
        );
        let config = parse_target("memory://?group_buffer=8&drain_timeout_ms=250").ok();
        assert_eq!(config.as_ref().map(|c| c.group_buffer), Some(8));
        assert_eq!(
            config.map(|c| c.drain_timeout),
            Some(Duration::from_millis(250))
        );
        for bad in [
            "memory://host",
            "memory://?nope=1",
            "memory://?group_buffer=x",
        ] {
            assert!(
                matches!(parse_target(bad), Err(Error::InvalidConfig(_))),
                "{bad} accepted"
            );
        }
    }

    #[tokio::test]
    async fn the_registry_finds_it_by_name_alias_and_scheme() {
        let mut registry = crate::Registry::new();
        registry
            .register_bus(Arc::new(MemoryBusDriver))
            .expect("register");
        for target in ["memory", "loopback", "memory://"] {
            let bus = registry.open_bus(target).await.expect(target);
            assert!(bus.capabilities().dead_letter);
            bus.close().await.expect("close");
        }
    }
}
