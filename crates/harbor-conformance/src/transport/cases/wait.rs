//! Waiting with deadlines: every wait either sees its condition or fails the case.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use harbor_a2a::StreamResponse;
use harbor_distributed::{Error, EventStream};
use tokio::time::Instant;

use super::DEADLINE;

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(5);

/// `future`'s output, or a panic naming `what` after [`DEADLINE`].
///
/// The deadline is checked first: a future that only finishes because the timer's wake-up
/// polled it again (a lost wake-up) fails instead of passing late.
pub(super) async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::select! {
        biased;
        () = tokio::time::sleep(DEADLINE) => panic!("{what}: no answer within {DEADLINE:?}"),
        output = future => output,
    }
}

/// Waits until `observe()` equals `expected`; panics with the last value seen after
/// [`DEADLINE`].
pub(super) async fn eventually<T: PartialEq + Debug>(
    what: &str,
    expected: T,
    mut observe: impl FnMut() -> T,
) {
    let start = Instant::now();
    loop {
        let seen = observe();
        if seen == expected {
            return;
        }
        if start.elapsed() >= DEADLINE {
            panic!("{what}: expected {expected:?}, still {seen:?} after {DEADLINE:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The next event of `stream`; panics if it ends, fails or stays silent.
pub(super) async fn next_event(stream: &mut EventStream, what: &str) -> StreamResponse {
    match within(what, stream.next()).await {
        Some(Ok(event)) => event,
        Some(Err(e)) => panic!("{what}: the stream failed: {e}"),
        None => panic!("{what}: the stream ended early"),
    }
}

/// Every remaining event of `stream`, until it ends; panics if it fails or is still open
/// after [`DEADLINE`].
pub(super) async fn rest_of(stream: &mut EventStream, what: &str) -> Vec<StreamResponse> {
    let collect = async {
        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => events.push(event),
                Err(e) => panic!("{what}: the stream failed after {events:?}: {e}"),
            }
        }
        events
    };
    let message = format!("{what}: the stream did not end");
    within(&message, collect).await
}

/// Every event of `stream` until it ends.
pub(super) async fn all_of(mut stream: EventStream, what: &str) -> Vec<StreamResponse> {
    rest_of(&mut stream, what).await
}

/// A stream read to its end by a task of its own.
pub(super) struct Reader {
    parked: Arc<AtomicBool>,
    done: tokio::task::JoinHandle<Vec<Result<StreamResponse, Error>>>,
}

impl Reader {
    /// Starts reading `stream` in the background.
    pub(super) fn spawn(mut stream: EventStream) -> Self {
        let parked = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&parked);
        let done = tokio::spawn(async move {
            let mut items = Vec::new();
            loop {
                let item = std::future::poll_fn(|cx| {
                    let poll = stream.poll_next_unpin(cx);
                    flag.store(poll.is_pending(), Ordering::SeqCst);
                    poll
                })
                .await;
                match item {
                    Some(item) => items.push(item),
                    None => return items,
                }
            }
        });
        Self { parked, done }
    }

    /// Waits until the reader waits inside the stream, its wake-up registered with it.
    pub(super) async fn parked(&self, what: &str) {
        eventually(what, true, || self.parked.load(Ordering::SeqCst)).await;
    }

    /// Everything the reader got, once the stream has ended.
    pub(super) async fn finished(self, what: &str) -> Vec<Result<StreamResponse, Error>> {
        let message = format!("{what}: the stream did not end");
        within(&message, self.done)
            .await
            .unwrap_or_else(|e| panic!("{what}: the reader panicked: {e}"))
    }
}
