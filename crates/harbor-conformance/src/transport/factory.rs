//! What a driver gives the suite: a transport and the peers that host conformance agents.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{Error, Peer, RemoteTransport};

use super::ConformanceAgent;

/// What the transport under test supports. Optional cases run only where declared, and
/// a declared capability whose cases fail is a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TransportCapabilities {
    /// `SendStreamingMessage` and `SubscribeToTask`. Default is `false`.
    pub streaming: bool,
    /// The four push-notification config calls. Default is `false`.
    pub push_notifications: bool,
    /// `GetExtendedAgentCard`. Default is `false`.
    pub extended_card: bool,
}

impl TransportCapabilities {
    /// Every optional capability.
    pub fn all() -> Self {
        Self {
            streaming: true,
            push_notifications: true,
            extended_card: true,
        }
    }
}

/// One conformance agent and the peer that reaches it.
#[derive(Debug, Clone)]
pub struct HostedAgent {
    /// Where the transport finds the agent.
    pub peer: Peer,
    /// The agent itself, for checking what it received and what it still runs.
    pub agent: ConformanceAgent,
}

type StreamProbe = Arc<dyn Fn() -> usize + Send + Sync>;

/// What one case runs against: a fresh transport and fresh agents, shared with no other case.
pub struct Fixture {
    /// The transport under test.
    pub transport: Arc<dyn RemoteTransport>,
    /// The hosted agents, as many as the case asked for.
    pub agents: Vec<HostedAgent>,
    open_streams: Option<StreamProbe>,
    _keep_alive: Vec<Box<dyn Any + Send + Sync>>,
}

impl Fixture {
    /// A fixture of `transport` and `agents`.
    pub fn new(transport: Arc<dyn RemoteTransport>, agents: Vec<HostedAgent>) -> Self {
        Self {
            transport,
            agents,
            open_streams: None,
            _keep_alive: Vec::new(),
        }
    }

    /// Lets the leak cases also check the transport's own count of open streams.
    #[must_use]
    pub fn with_stream_probe(mut self, probe: impl Fn() -> usize + Send + Sync + 'static) -> Self {
        self.open_streams = Some(Arc::new(probe));
        self
    }

    /// Keeps `resource` (a server, a runtime handle) alive as long as the fixture.
    #[must_use]
    pub fn keep_alive(mut self, resource: impl Any + Send + Sync) -> Self {
        self._keep_alive.push(Box::new(resource));
        self
    }

    /// The transport's count of open streams, when it offers one.
    pub fn open_streams(&self) -> Option<usize> {
        self.open_streams.as_ref().map(|probe| probe())
    }

    /// The `i`th hosted agent; panics when the factory hosted fewer than asked for.
    pub fn agent(&self, i: usize) -> &HostedAgent {
        self.agents.get(i).unwrap_or_else(|| {
            panic!(
                "the factory hosted {} agent(s); the case needs at least {}",
                self.agents.len(),
                i + 1
            )
        })
    }
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("agents", &self.agents)
            .field("open_streams", &self.open_streams())
            .finish_non_exhaustive()
    }
}

/// Makes fixtures for the suite; one implementation per transport driver.
///
/// Keep it independent of the driver's internals: the suite only calls the transport
/// through [`RemoteTransport`], and only reads agents through [`ConformanceAgent`].
#[async_trait]
pub trait TransportFactory: Send + Sync {
    /// What the transport supports.
    fn capabilities(&self) -> TransportCapabilities;

    /// A new transport and `agents` peers, each hosting a new [`ConformanceAgent`].
    async fn fixture(&self, agents: usize) -> Result<Fixture, Error>;

    /// A peer that nothing serves, for the routing case.
    fn unreachable_peer(&self) -> Peer;
}
