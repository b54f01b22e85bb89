//! The route table: which in-process handler serves which peer URL.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use crate::kit;
use crate::{A2aHandler, Error, Peer};

type Routes = BTreeMap<Peer, Arc<dyn A2aHandler>>;

/// A set of in-process A2A handlers, each reachable at its own URL.
///
/// Cloning gives another handle to the same table. Handlers registered after a transport was
/// opened are reachable from it too.
#[derive(Clone, Default)]
pub struct LoopbackNetwork {
    routes: Arc<RwLock<Routes>>,
}

impl LoopbackNetwork {
    /// An empty network of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide network that [`LoopbackDriver::default`](super::LoopbackDriver)
    /// opens transports on.
    pub fn global() -> &'static LoopbackNetwork {
        static GLOBAL: OnceLock<LoopbackNetwork> = OnceLock::new();
        GLOBAL.get_or_init(LoopbackNetwork::new)
    }

    /// Makes `handler` reachable at `url`; returns the [`Peer`] that names it.
    ///
    /// Fails with [`Error::InvalidArgument`] when the URL is empty or already taken: a route
    /// is never silently replaced.
    pub fn register(
        &self,
        url: impl Into<String>,
        handler: Arc<dyn A2aHandler>,
    ) -> Result<Peer, Error> {
        let peer = Peer::new(url);
        if peer.url().is_empty() {
            return Err(Error::InvalidArgument(
                "a loopback peer needs a non-empty url".to_owned(),
            ));
        }
        let mut routes = kit::write(&self.routes);
        if routes.contains_key(&peer) {
            return Err(Error::InvalidArgument(format!(
                "loopback peer {peer} is already registered"
            )));
        }
        routes.insert(peer.clone(), handler);
        tracing::debug!(%peer, "loopback peer registered");
        Ok(peer)
    }

    /// Removes the route to `peer`; returns whether there was one. Calls already running
    /// keep their handler.
    pub fn deregister(&self, peer: &Peer) -> bool {
        let mut routes = kit::write(&self.routes);
        routes.remove(peer).is_some()
    }

    /// Every registered peer, in URL order.
    pub fn peers(&self) -> Vec<Peer> {
        let routes = kit::read(&self.routes);
        routes.keys().cloned().collect()
    }

    /// The handler serving `peer`.
    pub(super) fn handler(&self, peer: &Peer) -> Option<Arc<dyn A2aHandler>> {
        let routes = kit::read(&self.routes);
        routes.get(peer).cloned()
    }
}

impl fmt::Debug for LoopbackNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackNetwork")
            .field("peers", &self.peers())
            .finish()
    }
}
