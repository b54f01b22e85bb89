//! A handler that hands every RPC to another, for tests that watch or adjust what a real
//! handler serves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use harbor_a2a::{A2aError, AgentCard, AgentInterface};
use harbor_distributed::{A2aHandler, CallContext, HandlerStream};

/// Forwards every RPC to `inner`; optionally counts the streams it handed out that are
/// still alive ([`Forward::counting_streams`]) and lists other interfaces on the public
/// card ([`Forward::listing`]).
pub struct Forward {
    inner: Arc<dyn A2aHandler>,
    open: Option<Arc<AtomicUsize>>,
    interfaces: Option<Vec<AgentInterface>>,
}

impl Forward {
    /// A handler that does what `inner` does.
    pub fn new(inner: Arc<dyn A2aHandler>) -> Self {
        Self {
            inner,
            open: None,
            interfaces: None,
        }
    }

    /// Keeps `open` at the number of streams handed out and not yet dropped.
    pub fn counting_streams(mut self, open: Arc<AtomicUsize>) -> Self {
        self.open = Some(open);
        self
    }

    /// The public card lists `interfaces` instead of the inner card's.
    pub fn listing(mut self, interfaces: Vec<AgentInterface>) -> Self {
        self.interfaces = Some(interfaces);
        self
    }

    fn track(&self, stream: HandlerStream) -> HandlerStream {
        let Some(open) = &self.open else {
            return stream;
        };
        open.fetch_add(1, Ordering::SeqCst);
        let guard = Guard(Arc::clone(open));
        stream
            .map(move |item| {
                let _alive = &guard;
                item
            })
            .boxed()
    }
}

/// Counts a stream down when the stream is dropped.
struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The reply type of an RPC of each kind of the list.
macro_rules! reply {
    (unary $resp:ident) => {
        harbor_a2a::$resp
    };
    (stream $resp:ident) => {
        HandlerStream
    };
    (empty $resp:ident) => {
        ()
    };
}

/// What forwarding does with a reply of each kind: streams are counted while alive.
macro_rules! forwarded {
    ($self:ident, stream $reply:expr) => {
        Ok($self.track($reply?))
    };
    ($self:ident, $kind:ident $reply:expr) => {
        $reply
    };
}

/// [`A2aHandler`] for [`Forward`]: every RPC of the list handed to `inner`.
macro_rules! forward_all {
    ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
        [$($route:tt)*];)*) => {
        #[async_trait]
        impl A2aHandler for Forward {
            $(
                async fn $fn(
                    &self,
                    ctx: &CallContext,
                    req: harbor_a2a::$req,
                ) -> Result<reply!($kind $resp), A2aError> {
                    forwarded!(self, $kind self.inner.$fn(ctx, req).await)
                }
            )*

            async fn agent_card(&self) -> Result<AgentCard, A2aError> {
                let mut card = self.inner.agent_card().await?;
                if let Some(interfaces) = &self.interfaces {
                    card.supported_interfaces.clone_from(interfaces);
                }
                Ok(card)
            }
        }
    };
}

harbor_a2a::for_each_rpc!(forward_all);
