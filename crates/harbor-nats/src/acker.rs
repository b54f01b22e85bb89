//! Settling one delivery: `+ACK`, `-NAK` with a delay, or a dead letter and `+TERM`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::Subject;
use async_trait::async_trait;
use bytes::Bytes;
use harbor_distributed::{Acknowledger, Envelope, Error};
use tracing::Instrument;

use crate::core::Core;
use crate::credit::Credit;
use crate::errors;

/// Settles one delivery. Its credit returns to the subscription when it is dropped
/// (settled or not: an unsettled one is left to the visibility timeout).
pub(crate) struct NatsAcker {
    pub(crate) core: Arc<Core>,
    pub(crate) credit: Arc<Credit>,
    /// The `$JS.ACK...` subject of this delivery.
    pub(crate) reply: Subject,
    /// When the server hands the envelope out again; settling later is refused.
    pub(crate) expires: Instant,
    /// The envelope's stream sequence.
    pub(crate) sequence: u64,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) group: Arc<str>,
    pub(crate) envelope: Arc<Envelope>,
}

impl NatsAcker {
    fn check(&self) -> Result<(), Error> {
        if self.core.life.is_closed() {
            return Err(Error::Closed);
        }
        if Instant::now() >= self.expires || !self.credit.is_latest(self.sequence, self.attempt) {
            return Err(Error::DeliveryExpired(format!(
                "group {}: the visibility timeout passed, so the envelope was handed out again",
                self.group
            )));
        }
        Ok(())
    }

    async fn send(&self, body: Bytes) -> Result<(), Error> {
        self.core
            .client
            .publish(self.reply.clone(), body)
            .await
            .map_err(|e| errors::backend(true, e))
    }
}

impl NatsAcker {
    /// Sends `body` and waits for the server to confirm it applied it. A nack is confirmed
    /// (unlike an ack) so that a draining subscription's next pull sees the envelope back:
    /// the server applies settles and pulls on separate queues.
    async fn confirmed(&self, body: Bytes) -> Result<(), Error> {
        let request = async_nats::client::Request::new()
            .payload(body)
            .timeout(Some(self.core.config.publish_timeout));
        self.core
            .client
            .send_request(self.reply.clone(), request)
            .await
            .map(|_| ())
            .map_err(errors::request)
    }
}

#[async_trait]
impl Acknowledger for NatsAcker {
    async fn ack(&self) -> Result<(), Error> {
        let span = tracing::trace_span!("bus.ack", group = %self.group);
        async {
            self.check()?;
            self.send(Bytes::from_static(b"+ACK")).await?;
            self.credit.acked(self.sequence);
            Ok(())
        }
        .instrument(span)
        .await
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let span = tracing::debug_span!("bus.nack", group = %self.group, ?delay);
        async {
            self.check()?;
            if self.attempt < self.max_attempts {
                return self.confirmed(nak(delay)).await;
            }
            // The last attempt failed: the envelope moves to the dead-letter edge, and only
            // once that is stored does the group let go of it.
            let reason = reason.as_deref().unwrap_or("nacked");
            self.core
                .dead_letter(&self.envelope, &self.group, self.attempt, reason)
                .await?;
            self.send(Bytes::from_static(b"+TERM")).await
        }
        .instrument(span)
        .await
    }
}

/// The `-NAK` body for `delay` (JetStream takes the delay in nanoseconds).
pub(crate) fn nak(delay: Duration) -> Bytes {
    if delay.is_zero() {
        Bytes::from_static(b"-NAK")
    } else {
        Bytes::from(format!("-NAK {{\"delay\":{}}}", delay.as_nanos()))
    }
}

impl Drop for NatsAcker {
    fn drop(&mut self) {
        self.credit.release(self.sequence, self.attempt);
    }
}
