//! Groups concurrent operations into batches: a tool for drivers whose engine does a batch
//! for little more than the cost of one operation (a multi-row insert, a pipeline, one
//! script call).
//!
//! A lone operation goes out at once (no lingering); operations that arrive while batches
//! are in flight queue up and leave together as the next batch. Up to `parallel` batches
//! run at once.

use std::future::Future;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Starts a batching task on `tasks`; it runs `exec` on each batch of at most `max_batch`
/// operations, up to `parallel` batches at once. Once `stop` is cancelled it takes no new
/// operations (sends fail), finishes the queued ones and ends.
pub fn spawn<T, F, Fut>(
    tasks: &TaskTracker,
    stop: CancellationToken,
    max_batch: usize,
    parallel: usize,
    exec: F,
) -> mpsc::UnboundedSender<T>
where
    T: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<T>();
    tasks.spawn(async move {
        let mut running = FuturesUnordered::new();
        let mut stopping = false;
        loop {
            tokio::select! {
                biased;
                Some(()) = running.next(), if !running.is_empty() => {}
                op = rx.recv(), if running.len() < parallel => match op {
                    Some(op) => {
                        let mut batch = Vec::with_capacity(max_batch.min(64));
                        batch.push(op);
                        while batch.len() < max_batch {
                            match rx.try_recv() {
                                Ok(op) => batch.push(op),
                                Err(_) => break,
                            }
                        }
                        running.push(exec(batch));
                    }
                    None => break,
                },
                () = stop.cancelled(), if !stopping => {
                    // Queued operations still run; new sends fail.
                    stopping = true;
                    rx.close();
                }
            }
        }
        while running.next().await.is_some() {}
    });
    tx
}
