//! Where a benchmark's producer and consumer run.
//!
//! Tokio's scheduler decides by itself whether a woken consumer runs on the producer's
//! worker or on another one, and the two cases differ several-fold in throughput. So the
//! bench measures both fixed placements (and the free one) and compares like with like.

use std::fmt;
use std::future::Future;

use clap::ValueEnum;

/// Where the producer and consumer tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Placement {
    /// Both on one current-thread runtime on a thread of their own: hand-offs never cross
    /// cores.
    OneThread,
    /// Each on its own current-thread runtime and thread: every hand-off crosses cores and
    /// may wake a parked thread.
    TwoThreads,
    /// Both spawned on the process's multi-threaded runtime, placed by tokio.
    Runtime,
}

impl Placement {
    /// Every placement, in report order.
    pub(crate) const ALL: [Placement; 3] = [Self::OneThread, Self::TwoThreads, Self::Runtime];
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OneThread => "one thread",
            Self::TwoThreads => "two threads",
            Self::Runtime => "tokio runtime",
        })
    }
}

/// Runs `producer` and `consumer` to completion as two tasks placed per `placement`.
pub(super) async fn run_pair<P, C>(
    placement: Placement,
    producer: P,
    consumer: C,
) -> anyhow::Result<(P::Output, C::Output)>
where
    P: Future + Send + 'static,
    C: Future + Send + 'static,
    P::Output: Send + 'static,
    C::Output: Send + 'static,
{
    match placement {
        Placement::Runtime => both_spawned(producer, consumer).await,
        Placement::OneThread => on_thread(both_spawned(producer, consumer)).await?,
        Placement::TwoThreads => {
            let consumer = on_thread(consumer);
            let producer = on_thread(producer);
            let (p, c) = tokio::join!(producer, consumer);
            Ok((p?, c?))
        }
    }
}

async fn both_spawned<P, C>(producer: P, consumer: C) -> anyhow::Result<(P::Output, C::Output)>
where
    P: Future + Send + 'static,
    C: Future + Send + 'static,
    P::Output: Send + 'static,
    C::Output: Send + 'static,
{
    let consumer = tokio::spawn(consumer);
    let producer = tokio::spawn(producer);
    Ok((producer.await?, consumer.await?))
}

/// Runs `future` on a new thread with its own current-thread runtime.
async fn on_thread<F>(future: F) -> anyhow::Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("harbor-bench".into())
        .spawn(move || {
            let out = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|runtime| runtime.block_on(future));
            let _ = tx.send(out);
        })?;
    match rx.await {
        Ok(out) => Ok(out?),
        Err(_) => anyhow::bail!("a benchmark thread panicked"),
    }
}
