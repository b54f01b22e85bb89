//! Batched deduplicating publishes: the publishes of a bus are gathered into batches, each
//! stored with one call of the [`PUBLISH_MANY`](crate::scripts::PUBLISH_MANY) script, so
//! the script's fixed cost is paid once per batch rather than once per envelope. Each
//! `publish()` still returns only once the server ran the script over its envelope.

use std::time::Duration;

use bytes::Bytes;
use harbor_distributed::{Error, batch};
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::errors::with_retry;
use crate::scripts;

/// Most envelopes one script call stores (the script holds the server while it runs).
pub(crate) const BATCH: usize = 256;

/// The envelope's entry id, or `None` for a duplicate.
pub(crate) type Stored = Option<String>;

/// One envelope to store unless its dedup key is already set.
pub(crate) struct PublishRequest {
    pub(crate) stream: String,
    pub(crate) dedup_key: String,
    pub(crate) data: Bytes,
    pub(crate) done: oneshot::Sender<Result<Stored, Error>>,
}

/// Starts the publishing task on `tasks`: batches of up to [`BATCH`], two in flight (one
/// runs on the server while the next is sent). Once `stop` is cancelled it stores what is
/// queued and ends.
pub(crate) fn spawn(
    tasks: &TaskTracker,
    stop: CancellationToken,
    conn: ConnectionManager,
    dedup_window: Duration,
    retry: Duration,
) -> mpsc::UnboundedSender<PublishRequest> {
    let window = dedup_window.as_millis() as u64;
    batch::spawn(tasks, stop, BATCH, 2, move |requests| {
        let conn = conn.clone();
        async move { flush(&conn, requests, window, retry).await }
    })
}

async fn flush(
    conn: &ConnectionManager,
    requests: Vec<PublishRequest>,
    window: u64,
    retry: Duration,
) {
    let mut call = scripts::PUBLISH_MANY.prepare_invoke();
    call.arg(window);
    for r in &requests {
        call.key(&r.stream).key(&r.dedup_key).arg(&r.data[..]);
    }
    let span = tracing::debug_span!("bus.publish_batch", envelopes = requests.len());
    // A retry after a lost reply finds the stored envelopes' dedup keys and reports them
    // as duplicates: nothing is stored twice.
    let (result, _) = with_retry(retry, || {
        let mut conn = conn.clone();
        let call = &call;
        async move { call.invoke_async::<Vec<Option<String>>>(&mut conn).await }
    })
    .instrument(span)
    .await;
    match result {
        Ok(stored) if stored.len() == requests.len() => {
            for (r, id) in requests.into_iter().zip(stored) {
                let _ = r.done.send(Ok(id));
            }
        }
        Ok(stored) => {
            let message = format!(
                "the publish script answered {} results for {} envelopes",
                stored.len(),
                requests.len()
            );
            for r in requests {
                let _ = r.done.send(Err(Error::Backend {
                    driver: "redis",
                    retryable: false,
                    source: message.clone().into(),
                }));
            }
        }
        Err(error) => {
            let retryable = error.is_retryable();
            let message = error.to_string();
            for r in requests {
                let _ = r.done.send(Err(Error::Backend {
                    driver: "redis",
                    retryable,
                    source: message.clone().into(),
                }));
            }
        }
    }
}
