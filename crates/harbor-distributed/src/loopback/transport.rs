//! The calling side of the loopback transport.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harbor_a2a::A2aError;
use tracing::Instrument;

use crate::transport::transport_reply;
use crate::{A2aHandler, CallContext, Error, EventStream, HandlerStream, Peer, RemoteTransport};

use super::LoopbackNetwork;
use super::streams::Tracker;

/// How long [`close`](RemoteTransport::close) waits for in-flight calls unless told otherwise.
pub const DEFAULT_CLOSE_DEADLINE: Duration = Duration::from_secs(5);

/// A [`RemoteTransport`] whose calls go to the handlers of a [`LoopbackNetwork`].
///
/// Open one with [`LoopbackNetwork::open`]. [`open_streams`](Self::open_streams) and
/// [`open_calls`](Self::open_calls) show what is still running, so tests can prove that
/// nothing leaks.
pub struct LoopbackTransport {
    network: LoopbackNetwork,
    tracker: Arc<Tracker>,
    close_deadline: Duration,
}

impl LoopbackNetwork {
    /// A new transport whose calls go to this network's handlers.
    pub fn open(&self) -> LoopbackTransport {
        LoopbackTransport::new(self.clone())
    }
}

impl LoopbackTransport {
    fn new(network: LoopbackNetwork) -> Self {
        Self {
            network,
            tracker: Tracker::new(),
            close_deadline: DEFAULT_CLOSE_DEADLINE,
        }
    }

    /// Sets how long `close` waits for in-flight calls to unwind (default
    /// [`DEFAULT_CLOSE_DEADLINE`]); past it, `close` fails with [`Error::Timeout`].
    #[must_use]
    pub fn with_close_deadline(mut self, deadline: Duration) -> Self {
        self.close_deadline = deadline;
        self
    }

    /// The network this transport routes on.
    pub fn network(&self) -> &LoopbackNetwork {
        &self.network
    }

    /// Streams opened by this transport that have not ended or been dropped.
    pub fn open_streams(&self) -> usize {
        self.tracker.open_streams()
    }

    /// Non-streaming calls (and stream openings) still running.
    pub fn open_calls(&self) -> usize {
        self.tracker.open_calls()
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.tracker.is_closed()
    }

    /// Identity first, then the closed flag, then the route: nothing reaches a handler
    /// before all three pass.
    fn route(&self, peer: &Peer, ctx: &CallContext) -> Result<Arc<dyn A2aHandler>, Error> {
        ctx.identity.validate()?;
        if self.tracker.is_closed() {
            return Err(Error::Closed);
        }
        self.network
            .handler(peer)
            .ok_or_else(|| Error::UnknownPeer {
                url: peer.url().to_owned(),
            })
    }

    async fn unary<'a, T, F, Fut>(
        &'a self,
        peer: &'a Peer,
        ctx: &'a CallContext,
        method: &'static str,
        call: F,
    ) -> Result<T, Error>
    where
        F: FnOnce(Arc<dyn A2aHandler>) -> Fut,
        Fut: Future<Output = Result<T, A2aError>>,
    {
        let span = call_span(peer, method);
        async {
            let handler = self.route(peer, ctx)?;
            let result = self.tracker.run(call(handler)).await;
            if let Err(error) = &result {
                tracing::debug!(%error, "call failed");
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn streaming<'a, F, Fut>(
        &'a self,
        peer: &'a Peer,
        ctx: &'a CallContext,
        method: &'static str,
        call: F,
    ) -> Result<EventStream, Error>
    where
        F: FnOnce(Arc<dyn A2aHandler>) -> Fut,
        Fut: Future<Output = Result<HandlerStream, A2aError>>,
    {
        let span = call_span(peer, method);
        let opened = async {
            let handler = self.route(peer, ctx)?;
            let stream = self.tracker.run(call(handler)).await?;
            self.tracker.track(stream, tracing::Span::current())
        }
        .instrument(span)
        .await;
        if let Err(error) = &opened {
            tracing::debug!(%error, %peer, method, "stream not opened");
        }
        Ok(Box::pin(opened?))
    }
}

fn call_span(peer: &Peer, method: &'static str) -> tracing::Span {
    tracing::info_span!("a2a.call", transport = "loopback", peer = %peer, method)
}

impl fmt::Debug for LoopbackTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackTransport")
            .field("network", &self.network)
            .field("open_streams", &self.open_streams())
            .field("open_calls", &self.open_calls())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Opens a call of each kind of the RPC list on the loopback transport.
macro_rules! loopback_call {
    (stream $transport:ident, $($args:tt)*) => { $transport.streaming($($args)*).await };
    ($kind:ident $transport:ident, $($args:tt)*) => { $transport.unary($($args)*).await };
}

/// The [`RemoteTransport`] impl: each RPC calls the peer's handler method of the same name.
macro_rules! loopback_transport {
    ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
        [$($route:tt)*];)*) => {
        #[async_trait]
        impl RemoteTransport for LoopbackTransport {
            $(
                async fn $fn(
                    &self,
                    peer: &Peer,
                    ctx: &CallContext,
                    req: harbor_a2a::$req,
                ) -> Result<transport_reply!($kind $resp), Error> {
                    loopback_call!($kind self, peer, ctx, stringify!($variant), |h| async move {
                        h.$fn(ctx, req).await
                    })
                }
            )*

            /// Ends every open stream at once (dropping the handlers' streams), makes
            /// in-flight calls return [`Error::Closed`], and waits for them to unwind within
            /// the close deadline. Idempotent.
            async fn close(&self) -> Result<(), Error> {
                let span = tracing::info_span!("a2a.close", transport = "loopback");
                async {
                    self.tracker.close();
                    self.tracker.wait_idle(self.close_deadline).await
                }
                .instrument(span)
                .await
            }
        }
    };
}

harbor_a2a::for_each_rpc!(loopback_transport);
