//! The `a2a` transport driver for the [`Registry`](harbor_distributed::Registry).
//!
//! Name `a2a`; URL schemes `a2a+http` and `a2a+https`. The schemes say which driver reaches
//! a peer written as `a2a+https://agent.example` (the transport accepts such peers and
//! calls them over plain `https`). Plain `http`/`https` are deliberately not claimed: they
//! name web servers in general, not A2A agents. A transport is never bound to one peer:
//! whatever URL selected the driver, every call names its own peer, and the transport's
//! settings come from the driver's [`ClientConfig`].

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{Error, RemoteTransport, TransportDriver};

use crate::{A2aTransport, ClientConfig};

/// Opens [`A2aTransport`]s with one [`ClientConfig`].
#[derive(Debug, Clone, Default)]
pub struct A2aTransportDriver {
    config: ClientConfig,
}

impl A2aTransportDriver {
    /// The driver's name.
    pub const NAME: &'static str = "a2a";
    /// The URL schemes it serves.
    pub const SCHEMES: &'static [&'static str] = &["a2a+http", "a2a+https"];

    /// A driver whose transports use `config`.
    pub fn new(config: ClientConfig) -> Self {
        Self { config }
    }
}

#[async_trait]
impl TransportDriver for A2aTransportDriver {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn schemes(&self) -> &'static [&'static str] {
        Self::SCHEMES
    }

    async fn open(&self, _target: &str) -> Result<Arc<dyn RemoteTransport>, Error> {
        let transport = A2aTransport::builder()
            .config(self.config.clone())
            .build()?;
        Ok(Arc::new(transport))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harbor_distributed::Registry;

    #[tokio::test]
    async fn the_registry_finds_it_by_name_and_scheme() {
        let mut registry = Registry::new();
        registry
            .register_transport(Arc::new(A2aTransportDriver::default()))
            .expect("registered");
        for target in ["a2a", "a2a+https://agent.example", "a2a+http://127.0.0.1:1"] {
            assert!(registry.open_transport(target).await.is_ok(), "{target}");
        }
        assert!(matches!(
            registry.open_transport("https://agent.example").await,
            Err(Error::UnknownDriver { .. })
        ));
    }
}
