//! What a transport has open, and closing it: calls run until the transport closes, streams
//! end when it does, and `close` waits (bounded) until everything has unwound.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::stream::BoxStream;
use harbor_distributed::Error;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Counts of open calls and streams, and the close signal.
#[derive(Default)]
pub(crate) struct Tracker {
    closed: CancellationToken,
    calls: AtomicUsize,
    streams: AtomicUsize,
    idle: Notify,
}

/// One open call or stream, counted until dropped.
struct Guard {
    tracker: Arc<Tracker>,
    stream: bool,
}

impl Guard {
    fn new(tracker: &Arc<Tracker>, stream: bool) -> Self {
        tracker.counter(stream).fetch_add(1, Ordering::SeqCst);
        Self {
            tracker: Arc::clone(tracker),
            stream,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.tracker
            .counter(self.stream)
            .fetch_sub(1, Ordering::SeqCst);
        self.tracker.idle.notify_waiters();
    }
}

impl Tracker {
    fn counter(&self, stream: bool) -> &AtomicUsize {
        if stream { &self.streams } else { &self.calls }
    }

    /// Fails with [`Error::Closed`] once the transport is closed.
    pub(crate) fn check_open(&self) -> Result<(), Error> {
        if self.closed.is_cancelled() {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Runs `call`, counted as open; a close makes it return [`Error::Closed`] at once.
    pub(crate) async fn run<T>(
        self: &Arc<Self>,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let _open = Guard::new(self, false);
        tokio::select! {
            biased;
            () = self.closed.cancelled() => Err(Error::Closed),
            result = call => result,
        }
    }

    /// `events`, counted as an open stream until it ends or is dropped; a close ends it
    /// with one [`Error::Closed`].
    pub(crate) fn track<T: Send + 'static>(
        self: &Arc<Self>,
        events: BoxStream<'static, Result<T, Error>>,
    ) -> Tracked<T> {
        Tracked {
            events: Some(events),
            closed: Box::pin(self.closed.clone().cancelled_owned()),
            _open: Some(Guard::new(self, true)),
        }
    }

    /// Marks the transport closed: running calls fail and open streams end.
    pub(crate) fn close(&self) {
        self.closed.cancel();
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Open calls.
    pub(crate) fn open_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Open streams.
    pub(crate) fn open_streams(&self) -> usize {
        self.streams.load(Ordering::SeqCst)
    }

    /// Waits until nothing is open, or fails with [`Error::Timeout`] after `deadline`.
    pub(crate) async fn wait_idle(&self, deadline: Duration) -> Result<(), Error> {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.open_calls() == 0 && self.open_streams() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(deadline, wait)
            .await
            .map_err(|_| Error::Timeout(deadline))
    }
}

/// A stream counted by the [`Tracker`]; ended by a close.
pub(crate) struct Tracked<T> {
    events: Option<BoxStream<'static, Result<T, Error>>>,
    closed: Pin<Box<WaitForCancellationFutureOwned>>,
    _open: Option<Guard>,
}

impl<T> Tracked<T> {
    fn end(&mut self) {
        self.events = None;
        self._open = None;
    }
}

impl<T> Stream for Tracked<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(events) = this.events.as_mut() else {
            return Poll::Ready(None);
        };
        // The close is looked at first, so a closed stream ends even when data is waiting.
        if this.closed.as_mut().poll(cx).is_ready() {
            this.end();
            return Poll::Ready(Some(Err(Error::Closed)));
        }
        match events.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                this.end();
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn close_fails_calls_ends_streams_and_waits() {
        let tracker = Arc::new(Tracker::default());
        let pending = Arc::clone(&tracker);
        let call = tokio::spawn(async move {
            pending
                .run(futures::future::pending::<Result<(), Error>>())
                .await
        });
        let mut stream = tracker.track::<u8>(futures::stream::pending().boxed());
        while tracker.open_calls() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(tracker.open_streams(), 1);
        tracker.close();
        assert!(matches!(call.await, Ok(Err(Error::Closed))));
        assert!(matches!(stream.next().await, Some(Err(Error::Closed))));
        assert!(stream.next().await.is_none());
        tracker
            .wait_idle(Duration::from_secs(5))
            .await
            .expect("idle after close");
        assert!(matches!(tracker.check_open(), Err(Error::Closed)));
    }
}
