//! The RPCs and `close`: each a unary call or a stream of the shared state, generated from
//! [`harbor_a2a::for_each_rpc!`].

use std::sync::Arc;

use async_trait::async_trait;
use harbor_a2a::{Method, SendMessageRequest, SubscribeToTaskRequest};
use harbor_distributed::{CallContext, Error, EventStream, Peer, RemoteTransport};
use tracing::Instrument;

use super::{A2aTransport, Inner, call_span};
use crate::binding::{self, Ignored, Wire};
use crate::events::{EventSource, StreamKind};

/// A call of each kind of the RPC list on the shared state.
macro_rules! client_call {
    (unary $inner:expr, $($args:expr),*) => {
        $inner.unary($($args),*).await
    };
    (stream $inner:expr, $($args:expr),*) => {
        $inner.stream($($args),*).await
    };
    (empty $inner:expr, $($args:expr),*) => {{
        let Ignored = $inner.unary($($args),*).await?;
        Ok(())
    }};
}

/// The [`RemoteTransport`] impl: every RPC a unary call or a stream of the shared state.
macro_rules! a2a_transport {
    ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
        [$($route:tt)*];)*) => {
        #[async_trait]
        impl RemoteTransport for A2aTransport {
            $(
                async fn $fn(
                    &self,
                    peer: &Peer,
                    ctx: &CallContext,
                    req: harbor_a2a::$req,
                ) -> Result<reply!($kind $resp), Error> {
                    client_call!($kind self.inner, peer, ctx, Method::$variant, &req)
                }
            )*

            /// Fails calls in flight with [`Error::Closed`], ends open streams (dropping their
            /// connections), and waits for both to unwind within
            /// [`ClientConfig::close_deadline`](crate::ClientConfig::close_deadline); past it,
            /// [`Error::Timeout`]. Idempotent.
            async fn close(&self) -> Result<(), Error> {
                let span = tracing::info_span!("a2a.close", transport = "a2a");
                async {
                    self.inner.tracker.close();
                    self.inner
                        .tracker
                        .wait_idle(self.inner.config.close_deadline)
                        .await
                }
                .instrument(span)
                .await
            }
        }
    };
}

/// The reply type of each kind of the RPC list.
macro_rules! reply {
    (unary $resp:ident) => {
        harbor_a2a::$resp
    };
    (stream $resp:ident) => {
        EventStream
    };
    (empty $resp:ident) => {
        ()
    };
}

harbor_a2a::for_each_rpc!(a2a_transport);

/// The request of a streaming RPC: which stream it opens, and the task it follows when the
/// request names one (so a dropped stream can be resumed).
pub(crate) trait StreamRequest: Wire {
    /// The kind of stream.
    const KIND: StreamKind;
    /// The task the stream follows, if known before the first event.
    fn task_id(&self) -> Option<String>;
}

impl StreamRequest for SendMessageRequest {
    const KIND: StreamKind = StreamKind::Send;

    fn task_id(&self) -> Option<String> {
        self.message
            .as_ref()
            .map(|m| m.task_id.clone())
            .filter(|id| !id.is_empty())
    }
}

impl StreamRequest for SubscribeToTaskRequest {
    const KIND: StreamKind = StreamKind::Subscribe;

    fn task_id(&self) -> Option<String> {
        Some(self.id.clone()).filter(|id| !id.is_empty())
    }
}

// Opening a stream lives here, beside its two callers, rather than in the parent module:
// the stream machinery (`crate::events`) reads the shared state, so the state's own module
// does not import it back.
impl Inner {
    async fn stream<Req: StreamRequest>(
        self: &Arc<Self>,
        peer: &Peer,
        ctx: &CallContext,
        method: Method,
        req: &Req,
    ) -> Result<EventStream, Error> {
        let span = call_span(peer, method);
        let opened = async {
            self.admit(ctx)?;
            self.tracker
                .run(async {
                    let prepared = self.prepare(peer, ctx).await?;
                    let connection =
                        binding::open_stream(&self.call(&prepared, method), req, None).await?;
                    Ok((connection, prepared.card.endpoint().binding))
                })
                .await
        }
        .instrument(span.clone())
        .await;
        let (connection, binding) = opened.inspect_err(|error| {
            tracing::debug!(%error, %peer, method = method.json_rpc_name(), "stream not opened");
        })?;
        let source = EventSource::new(
            Arc::clone(self),
            peer.clone(),
            ctx.clone(),
            Req::KIND,
            binding,
            connection,
            req.task_id(),
        );
        Ok(Box::pin(self.tracker.track(source.into_stream(span))))
    }
}
