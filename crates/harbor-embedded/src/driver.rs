//! The `embedded` bus driver for the registry.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::kit::{OldUnit, UrlParams};
use harbor_distributed::{BusDriver, Error, MessageBus};

use crate::engine::{Embedded, EmbeddedConfig};

/// Opens the bus of an embedded data directory: name `embedded`, scheme `embedded`.
///
/// - `embedded` opens `./harbor-data` with default settings;
/// - `embedded:///var/lib/harbor` opens an absolute directory;
/// - `embedded://./data` or `embedded://../data` a directory relative to the working
///   directory (`%XX` escapes in the path are decoded);
/// - query parameters set [`EmbeddedConfig`] and [`EmbeddedBusConfig`](crate::EmbeddedBusConfig) fields:
///   the parameters are listed in the crate's `docs.md` (durations with their unit), e.g.
///   `embedded:///srv/harbor?max_payload=65536&retain_for=10m`.
///
/// A directory is open in one process at a time: a second open fails with
/// [`Error::InvalidConfig`] until the first bus is dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddedBusDriver;

#[async_trait]
impl BusDriver for EmbeddedBusDriver {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["embedded"]
    }

    async fn open(&self, target: &str) -> Result<Arc<dyn MessageBus>, Error> {
        let config = parse_target(target)?;
        let engine = crate::blocking::blocking(move || Embedded::open(config)).await?;
        Ok(engine.bus())
    }
}

/// The configuration a target names: the driver name, or an `embedded://` URL.
pub(crate) fn parse_target(target: &str) -> Result<EmbeddedConfig, Error> {
    let mut config = EmbeddedConfig::default();
    if target == "embedded" {
        return Ok(config);
    }
    let Some(rest) = target.strip_prefix("embedded://") else {
        return Err(Error::InvalidConfig(format!(
            "embedded bus target {target:?} must be `embedded` or an `embedded://` URL"
        )));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !path.is_empty() {
        if !(path.starts_with('/') || path.starts_with("./") || path.starts_with("../")) {
            return Err(Error::InvalidConfig(format!(
                "embedded bus URL {target:?}: the path must be absolute (embedded:///dir) or start with ./ or ../ (embedded://./dir)"
            )));
        }
        config.data_dir = PathBuf::from(decode(path, target)?);
    }
    let mut params = UrlParams::parse("embedded bus URL", Some(query))?;
    read(&mut config, &mut params)?;
    params.finish()?;
    Ok(config)
}

/// Sets the fields the URL's parameters name.
fn read(config: &mut EmbeddedConfig, p: &mut UrlParams) -> Result<(), Error> {
    let bus = &mut config.bus;
    for (name, field) in [
        ("cache_size", &mut config.cache_size),
        ("max_payload", &mut bus.max_payload),
        ("max_batch", &mut bus.max_batch),
        ("tail_cache", &mut bus.tail_cache),
        ("read_ahead", &mut bus.read_ahead),
    ] {
        if let Some(n) = p.integer(name)? {
            *field = n;
        }
    }
    let ms = OldUnit::Millis;
    if let Some(d) = p.duration_or_old("retain_for", "retain_for_ms", ms)? {
        bus.retain_for = d;
    }
    if let Some(n) = p.integer("retain_max")? {
        bus.retain_max = n;
    }
    if let Some(d) = p.duration_or_old("prune_interval", "prune_interval_ms", ms)? {
        bus.prune_interval = d;
    }
    if let Some(d) = p.duration_or_old("drain_timeout", "drain_timeout_ms", ms)? {
        bus.drain_timeout = d;
    }
    Ok(())
}

/// Decodes `%XX` escapes.
fn decode(path: &str, target: &str) -> Result<String, Error> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(Error::InvalidConfig(format!(
                    "embedded bus URL {target:?}: bad %-escape in the path"
                )));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        Error::InvalidConfig(format!(
            "embedded bus URL {target:?}: the path is not UTF-8"
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn names_and_urls_parse() {
        let default = parse_target("embedded").expect("name");
        assert_eq!(default, EmbeddedConfig::default());
        let abs =
            parse_target("embedded:///srv/h%20d?max_payload=10&retain_for=5ms").expect("absolute");
        assert_eq!(abs.data_dir, PathBuf::from("/srv/h d"));
        assert_eq!(abs.bus.max_payload, 10);
        assert_eq!(abs.bus.retain_for, Duration::from_millis(5));
        let old = parse_target(
            "embedded:///srv/h%20d?max_payload=10&retain_for_ms=5&prune_interval_ms=2000&drain_timeout_ms=100",
        )
        .expect("old spellings");
        let new = parse_target(
            "embedded:///srv/h%20d?max_payload=10&retain_for=5ms&prune_interval=2s&drain_timeout=100ms",
        )
        .expect("new spellings");
        assert_eq!(old, new);
        assert_eq!(new.bus.prune_interval, Duration::from_secs(2));
        assert_eq!(new.bus.drain_timeout, Duration::from_millis(100));
        let rel = parse_target("embedded://./data").expect("relative");
        assert_eq!(rel.data_dir, PathBuf::from("./data"));
        for bad in [
            "embedded://data",
            "embedded:///x?nope=1",
            "embedded:///x?max_batch=y",
            "embedded:///x?retain_for=soon",
            "embedded:///x?drain_timeout=1s&drain_timeout_ms=1000",
            "embedded:///x%zz",
            "nats://x",
        ] {
            assert!(
                matches!(parse_target(bad), Err(Error::InvalidConfig(_))),
                "{bad} accepted"
            );
        }
        let unknown = parse_target("embedded:///x?nope=1").expect_err("unknown");
        assert!(unknown.to_string().contains("retain_max"), "{unknown}");
    }

    #[tokio::test]
    async fn the_registry_opens_a_directory_by_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut registry = harbor_distributed::Registry::new();
        registry
            .register_bus(Arc::new(EmbeddedBusDriver))
            .expect("register");
        let url = format!("embedded://{}?read_ahead=64", dir.path().display());
        let bus = registry.open_bus(&url).await.expect("open");
        let caps = bus.capabilities();
        assert!(caps.persistent && caps.replay && caps.publish_dedup && caps.dead_letter);
        bus.close().await.expect("close");
        assert!(dir.path().join(crate::FILE_NAME).exists());
    }
}
