//! Publishing through a fault: retrying what the driver says may be retried.

use std::sync::Arc;

use futures::StreamExt;
use harbor_distributed::{Envelope, Error, MessageBus};

use super::RECOVERY;

/// Publishes every envelope with up to `window` in flight, retrying retryable errors (with
/// the same ids, so dedup can drop copies) until [`RECOVERY`] has passed.
///
/// # Panics
///
/// On a non-retryable error, or when an envelope cannot be published within the deadline.
pub(super) async fn publish_all(
    bus: &Arc<dyn MessageBus>,
    envelopes: Vec<Envelope>,
    window: usize,
) {
    let deadline = tokio::time::Instant::now() + RECOVERY;
    futures::stream::iter(envelopes)
        .for_each_concurrent(window, |envelope| async move {
            if let Err(error) = publish_until(bus, envelope.clone(), deadline).await {
                panic!(
                    "publishing {} through the fault failed: {error}",
                    envelope.event_id
                );
            }
        })
        .await;
}

/// One publish, retried while the error is retryable and the deadline is ahead.
pub(super) async fn publish_until(
    bus: &Arc<dyn MessageBus>,
    envelope: Envelope,
    deadline: tokio::time::Instant,
) -> Result<(), Error> {
    loop {
        let attempt = tokio::time::timeout_at(deadline, bus.publish(envelope.clone())).await;
        match attempt {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(error)) if error.is_retryable() && tokio::time::Instant::now() < deadline => {
                // Back off a little: the server is down, hammering it helps nobody.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Ok(Err(error)) => return Err(error),
            Err(_) => return Err(Error::Timeout(RECOVERY)),
        }
    }
}
