//! The factory that runs the suite on the `loopback` transport.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::loopback::LoopbackNetwork;
use harbor_distributed::{Error, Peer, RemoteTransport};

use super::model::unique_id;
use super::{ConformanceAgent, Fixture, HostedAgent, TransportCapabilities, TransportFactory};

/// Hosts each fixture's agents on a fresh [`LoopbackNetwork`] and opens a transport on it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopbackFactory;

#[async_trait]
impl TransportFactory for LoopbackFactory {
    fn capabilities(&self) -> TransportCapabilities {
        TransportCapabilities::all()
    }

    async fn fixture(&self, agents: usize) -> Result<Fixture, Error> {
        let network = LoopbackNetwork::new();
        let mut hosted = Vec::with_capacity(agents);
        for i in 0..agents {
            let agent = ConformanceAgent::new(format!("agent-{i}"));
            let peer =
                network.register(format!("loopback://agent-{i}"), Arc::new(agent.clone()))?;
            hosted.push(HostedAgent { peer, agent });
        }
        let transport = Arc::new(network.open());
        let probe = Arc::clone(&transport);
        Ok(Fixture::new(transport as Arc<dyn RemoteTransport>, hosted)
            .with_stream_probe(move || probe.open_streams()))
    }

    fn unreachable_peer(&self) -> Peer {
        Peer::new(unique_id("loopback://nobody"))
    }
}
