//! What a loopback transport has open: in-flight calls and streams, and how `close` ends them.
//!
//! A handler's stream lives in a [`Slot`] shared by the caller's [`LoopbackStream`] and the
//! [`Tracker`], so either side can end it: the caller by dropping its stream, the transport
//! by `close`. Ending a slot drops the handler's stream at once (cancelling its work) and
//! wakes the caller, whose stream then ends.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::task::AtomicWaker;
use futures::{Stream, StreamExt};
use harbor_a2a::{A2aError, StreamResponse};
use tokio_util::sync::CancellationToken;
use tracing::Span;

use crate::kit::{InFlight, lock};
use crate::{Error, HandlerStream};

/// One handler stream, endable from both sides.
struct Slot {
    stream: Mutex<Option<HandlerStream>>,
    waker: AtomicWaker,
}

impl Slot {
    /// Drops the handler's stream (outside the lock) and wakes the caller.
    fn end(&self) {
        let ended = lock(&self.stream).take();
        drop(ended);
        self.waker.wake();
    }
}

/// The calls and streams of one transport, and its closed flag.
pub(super) struct Tracker {
    closed: CancellationToken,
    streams: Mutex<HashMap<u64, Arc<Slot>>>,
    next_stream: AtomicU64,
    /// In-flight calls; its waiters also wake when a stream closes.
    calls: InFlight,
}

impl Tracker {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            closed: CancellationToken::new(),
            streams: Mutex::new(HashMap::new()),
            next_stream: AtomicU64::new(0),
            calls: InFlight::new(),
        })
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    pub(super) fn open_streams(&self) -> usize {
        lock(&self.streams).len()
    }

    pub(super) fn open_calls(&self) -> usize {
        self.calls.count()
    }

    /// Runs one handler call; `close` makes it return [`Error::Closed`] and drops it.
    pub(super) async fn run<T>(
        &self,
        call: impl Future<Output = Result<T, A2aError>>,
    ) -> Result<T, Error> {
        let _call = self.calls.enter();
        tokio::select! {
            biased;
            () = self.closed.cancelled() => Err(Error::Closed),
            result = call => result.map_err(Error::Protocol),
        }
    }

    /// Tracks a handler's stream; the returned stream is what the caller reads.
    pub(super) fn track(
        self: &Arc<Self>,
        stream: HandlerStream,
        span: Span,
    ) -> Result<LoopbackStream, Error> {
        let slot = Arc::new(Slot {
            stream: Mutex::new(Some(stream)),
            waker: AtomicWaker::new(),
        });
        let id = self.next_stream.fetch_add(1, Ordering::Relaxed);
        {
            // Checked under the lock `close` drains, so no stream slips in after it.
            let mut streams = lock(&self.streams);
            if self.is_closed() {
                drop(streams);
                slot.end();
                return Err(Error::Closed);
            }
            streams.insert(id, Arc::clone(&slot));
        }
        Ok(LoopbackStream {
            id,
            slot,
            tracker: Arc::clone(self),
            span,
        })
    }

    /// Marks the transport closed and ends every open stream; in-flight calls end when they
    /// are next polled.
    pub(super) fn close(&self) {
        self.closed.cancel();
        let slots: Vec<_> = lock(&self.streams).drain().map(|(_, slot)| slot).collect();
        for slot in slots {
            slot.end();
        }
        self.calls.wake();
    }

    /// Waits until no call or stream is open, for at most `deadline`.
    pub(super) async fn wait_idle(&self, deadline: Duration) -> Result<(), Error> {
        self.calls
            .wait_until(deadline, || {
                self.open_calls() == 0 && self.open_streams() == 0
            })
            .await
    }

    fn forget(&self, id: u64) {
        let removed = lock(&self.streams).remove(&id);
        if removed.is_some() {
            self.calls.wake();
        }
    }
}

/// The caller's side of a handler stream.
pub(super) struct LoopbackStream {
    id: u64,
    slot: Arc<Slot>,
    tracker: Arc<Tracker>,
    span: Span,
}

impl Stream for LoopbackStream {
    type Item = Result<StreamResponse, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let _span = this.span.enter();
        this.slot.waker.register(cx.waker());
        let mut stream = lock(&this.slot.stream);
        let Some(inner) = stream.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.poll_next_unpin(cx) {
            Poll::Ready(Some(item)) => {
                Poll::Ready(Some(item.map(|e| e.event).map_err(Error::Protocol)))
            }
            Poll::Ready(None) => {
                let ended = stream.take();
                drop(stream);
                drop(ended);
                this.tracker.forget(this.id);
                tracing::debug!("stream ended");
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for LoopbackStream {
    fn drop(&mut self) {
        let _span = self.span.enter();
        self.slot.end();
        self.tracker.forget(self.id);
    }
}
