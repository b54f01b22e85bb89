//! The `loopback` entry of the driver registry.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{Error, RemoteTransport, TransportDriver};

use super::LoopbackNetwork;

/// Opens [`LoopbackTransport`](super::LoopbackTransport)s: driver name `loopback`, URL
/// scheme `loopback`.
///
/// The default driver uses [`LoopbackNetwork::global`]; [`LoopbackDriver::new`] binds one to
/// a network of its own (tests, embedded setups).
#[derive(Debug, Clone)]
pub struct LoopbackDriver {
    network: LoopbackNetwork,
}

impl LoopbackDriver {
    /// A driver whose transports reach the handlers of `network`.
    pub fn new(network: LoopbackNetwork) -> Self {
        Self { network }
    }

    /// The network this driver opens transports on.
    pub fn network(&self) -> &LoopbackNetwork {
        &self.network
    }
}

impl Default for LoopbackDriver {
    /// A driver on the process-wide [`LoopbackNetwork::global`].
    fn default() -> Self {
        Self::new(LoopbackNetwork::global().clone())
    }
}

#[async_trait]
impl TransportDriver for LoopbackDriver {
    fn name(&self) -> &'static str {
        "loopback"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["loopback"]
    }

    /// Opens a transport on the driver's network; the target only selected the driver.
    async fn open(&self, _target: &str) -> Result<Arc<dyn RemoteTransport>, Error> {
        Ok(Arc::new(self.network.open()))
    }
}
