//! Batched acks: one task collects the acks of every subscription of a bus and sends them as
//! one pipelined `XACK` per stream and group; each `ack()` still returns only once the
//! server confirmed its `XACK`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use harbor_distributed::Error;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::core::AckRequest;
use crate::errors::with_retry;

/// Runs until every sender is gone, flushing what arrived while the previous flush ran.
pub(crate) async fn run(
    mut rx: mpsc::UnboundedReceiver<AckRequest>,
    mut conn: ConnectionManager,
    batch: usize,
    retry: Duration,
) {
    let mut pending = Vec::with_capacity(batch);
    while let Some(first) = rx.recv().await {
        pending.push(first);
        while pending.len() < batch {
            match rx.try_recv() {
                Ok(next) => pending.push(next),
                Err(_) => break,
            }
        }
        flush(&mut conn, std::mem::take(&mut pending), retry).await;
    }
}

/// Stream, group, and whether acked ids are also deleted.
type Target = (Arc<str>, Arc<str>, bool);

async fn flush(conn: &mut ConnectionManager, requests: Vec<AckRequest>, retry: Duration) {
    let mut by_stream: HashMap<Target, Vec<&str>> = HashMap::new();
    for r in &requests {
        by_stream
            .entry((Arc::clone(&r.key), Arc::clone(&r.group), r.delete))
            .or_default()
            .push(&r.id);
    }
    let mut pipe = redis::pipe();
    for ((key, group, delete), ids) in &by_stream {
        pipe.cmd("XACK").arg(&**key).arg(&**group).arg(ids).ignore();
        if *delete {
            pipe.cmd("XDEL").arg(&**key).arg(ids).ignore();
        }
    }
    let span = tracing::debug_span!("bus.ack_batch", ids = requests.len());
    let (result, _) = with_retry(retry, || {
        let (pipe, mut conn) = (pipe.clone(), conn.clone());
        async move { pipe.query_async::<()>(&mut conn).await }
    })
    .instrument(span)
    .await;
    let failure = result.err().map(|e| e.to_string());
    for r in requests {
        if failure.is_none()
            && let Some(lease) = &r.lease
        {
            lease.release();
        }
        if let Some(done) = r.done {
            let outcome = match &failure {
                None => Ok(()),
                Some(message) => Err(Error::Backend {
                    driver: "redis",
                    retryable: true,
                    source: message.clone().into(),
                }),
            };
            let _ = done.send(outcome);
        }
    }
}
