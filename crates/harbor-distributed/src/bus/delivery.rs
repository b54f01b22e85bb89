//! Deliveries and their settling: what a subscription hands out, and how it is acked or
//! nacked.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use futures::stream::BoxStream;

use crate::{Envelope, Error};

/// Settles one delivery with its driver. Drivers implement this; users call the methods of
/// [`Delivery`].
#[async_trait]
pub trait Acknowledger: Send + Sync {
    /// The work is done: forget the envelope for this group.
    async fn ack(&self) -> Result<(), Error>;
    /// The work failed: deliver again after `delay` (or dead-letter it, counting attempts).
    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error>;
}

/// How a delivery is settled: through its driver's [`Acknowledger`], or directly for the
/// in-process memory bus, whose settling never waits: that spares the hot path an
/// allocation for the acknowledger of every delivery and another for every ack's future.
enum Acker {
    Driver(Box<dyn Acknowledger>),
    Memory(crate::memory::MemoryAcker),
}

impl Acker {
    async fn ack(&self) -> Result<(), Error> {
        match self {
            Self::Driver(acker) => acker.ack().await,
            Self::Memory(acker) => acker.ack(),
        }
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        match self {
            Self::Driver(acker) => acker.nack(delay, reason).await,
            Self::Memory(acker) => acker.nack(delay, reason).await,
        }
    }
}

/// One envelope handed to one subscriber.
///
/// Dropping a delivery without settling it leaves it to the visibility timeout.
pub struct Delivery {
    // Shared so a driver can hand one stored envelope to several groups and keep it for
    // redelivery without copying it per delivery.
    envelope: Arc<Envelope>,
    attempt: u32,
    acker: Acker,
}

impl Delivery {
    /// A delivery of `envelope`, its `attempt`-th (1 for the first), settled through `acker`.
    pub fn new(envelope: Envelope, attempt: u32, acker: Box<dyn Acknowledger>) -> Self {
        Self::from_shared(Arc::new(envelope), attempt, acker)
    }

    /// Like [`new`](Self::new) for an envelope the driver already shares (fan-out to several
    /// groups, a copy kept for redelivery): no copy is made.
    pub fn from_shared(
        envelope: Arc<Envelope>,
        attempt: u32,
        acker: Box<dyn Acknowledger>,
    ) -> Self {
        Self {
            envelope,
            attempt,
            acker: Acker::Driver(acker),
        }
    }

    /// A memory-bus delivery, settled without going through [`Acknowledger`].
    pub(crate) fn from_memory(
        envelope: Arc<Envelope>,
        attempt: u32,
        acker: crate::memory::MemoryAcker,
    ) -> Self {
        Self {
            envelope,
            attempt,
            acker: Acker::Memory(acker),
        }
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The envelope as the driver shares it; cloning the `Arc` is cheap.
    pub fn shared_envelope(&self) -> &Arc<Envelope> {
        &self.envelope
    }

    /// Takes the envelope out, keeping the means to settle it. The envelope is copied when
    /// the driver still holds it (for redelivery); [`into_shared_parts`](Self::into_shared_parts)
    /// avoids that copy.
    pub fn into_parts(self) -> (Envelope, Settle) {
        let (envelope, settle) = self.into_shared_parts();
        (Arc::unwrap_or_clone(envelope), settle)
    }

    /// Takes the shared envelope out, keeping the means to settle it.
    pub fn into_shared_parts(self) -> (Arc<Envelope>, Settle) {
        (
            self.envelope,
            Settle {
                attempt: self.attempt,
                acker: self.acker,
            },
        )
    }

    /// Which delivery of this envelope this is: 1 the first time, 2 the first redelivery...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Acknowledges the delivery.
    pub async fn ack(self) -> Result<(), Error> {
        self.acker.ack().await
    }

    /// Asks for redelivery after `delay`.
    pub async fn nack(self, delay: Duration) -> Result<(), Error> {
        self.acker.nack(delay, None).await
    }

    /// Asks for redelivery after `delay`, recording why (the reason travels to the dead-letter
    /// edge if this was the last attempt).
    pub async fn nack_with_reason(
        self,
        delay: Duration,
        reason: impl Into<String>,
    ) -> Result<(), Error> {
        self.acker.nack(delay, Some(reason.into())).await
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("envelope", &self.envelope)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// The settling half of a [`Delivery`] whose envelope was taken out.
pub struct Settle {
    attempt: u32,
    acker: Acker,
}

impl Settle {
    /// See [`Delivery::attempt`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// See [`Delivery::ack`].
    pub async fn ack(self) -> Result<(), Error> {
        self.acker.ack().await
    }
    /// See [`Delivery::nack_with_reason`].
    pub async fn nack(self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        self.acker.nack(delay, reason).await
    }
}

impl fmt::Debug for Settle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settle")
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// A stream of deliveries. It ends when the subscription or the bus is closed; dropping it
/// leaves its unsettled deliveries to the visibility timeout.
pub struct Subscription {
    inner: BoxStream<'static, Result<Delivery, Error>>,
}

impl Subscription {
    /// Wraps a driver's stream.
    pub fn new(inner: BoxStream<'static, Result<Delivery, Error>>) -> Self {
        Self { inner }
    }

    /// The next delivery; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Result<Delivery, Error>> {
        futures::StreamExt::next(&mut self.inner).await
    }
}

impl Stream for Subscription {
    type Item = Result<Delivery, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}
