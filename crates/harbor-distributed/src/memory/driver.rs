//! The `memory` bus driver for the registry.

use std::sync::Arc;

use async_trait::async_trait;

use super::bus::MemoryBus;
use super::config::MemoryBusConfig;
use crate::kit::{OldUnit, UrlParams};
use crate::{BusDriver, Error, MessageBus};

/// Opens [`MemoryBus`]es: name `memory`, alias `loopback`, scheme `memory`.
///
/// Every open gives a fresh bus. A `memory://` URL may set configuration fields as query
/// parameters: `memory://?group_buffer=1024&max_payload=65536&drain_timeout=500ms&delivery_batch=16`
/// (`drain_timeout_ms=500`, the old spelling, is still read, with a deprecation warning).
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
    let mut params = UrlParams::parse("memory bus URL", Some(query))?;
    if let Some(n) = params.integer("group_buffer")? {
        config.group_buffer = n;
    }
    if let Some(n) = params.integer("max_payload")? {
        config.max_payload = n;
    }
    if let Some(d) = params.duration_or_old("drain_timeout", "drain_timeout_ms", OldUnit::Millis)? {
        config.drain_timeout = d;
    }
    if let Some(n) = params.integer("delivery_batch")? {
        config.delivery_batch = n;
    }
    params.finish()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        assert_eq!(
            parse_target("memory://?drain_timeout_ms=250").ok(),
            parse_target("memory://?drain_timeout=250ms").ok()
        );
        let config = parse_target("memory://?group_buffer=8&drain_timeout=250ms").ok();
        assert_eq!(config.as_ref().map(|c| c.group_buffer), Some(8));
        assert_eq!(
            config.map(|c| c.drain_timeout),
            Some(Duration::from_millis(250))
        );
        for bad in [
            "memory://host",
            "memory://?nope=1",
            "memory://?group_buffer=x",
            "memory://?drain_timeout=soon",
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
