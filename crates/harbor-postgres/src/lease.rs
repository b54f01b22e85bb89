//! Claimed deliveries: their leases, how they settle, and the stream that hands them out.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use harbor_distributed::{Acknowledger, Delivery, Envelope, Error};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;
use tracing::Instrument;

use crate::core::{Inner, LeaseKey, SettleOp};
use crate::errors;
use crate::groups::Group;
use crate::acker;

/// A subscription's unsettled deliveries (claimed, queued or with the consumer).
#[derive(Debug, Default)]
pub(crate) struct Held {
    count: AtomicUsize,
    /// Told whenever a delivery is settled or given up.
    pub(crate) changed: Notify,
}

impl Held {
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// The right to settle one delivery; counts in its subscription's in-flight total.
pub(crate) struct Lease {
    pub(crate) bus: Arc<Inner>,
    pub(crate) group: Arc<Group>,
    pub(crate) key: LeaseKey,
    pub(crate) max_attempts: u32,
    /// When the engine makes it claimable again if unsettled (a local estimate).
    pub(crate) deadline: Instant,
    held: Arc<Held>,
}

impl Lease {
    pub(crate) fn new(
        bus: Arc<Inner>,
        group: Arc<Group>,
        key: LeaseKey,
        max_attempts: u32,
        deadline: Instant,
        held: Arc<Held>,
    ) -> Self {
        held.count.fetch_add(1, Ordering::SeqCst);
        Self {
            bus,
            group,
            key,
            max_attempts,
            deadline,
            held,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.held.count.fetch_sub(1, Ordering::SeqCst);
        self.held.changed.notify_one();
    }
}

/// A claimed delivery queued for its consumer. Dropped before it is handed out (the
/// subscription went away), it is given back at once.
pub(crate) struct Claimed {
    pub(crate) envelope: Option<Envelope>,
    pub(crate) lease: Option<Lease>,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            let _ = lease.bus.settler.send(SettleOp::Release(lease.key));
            lease.group.wake.notify_one();
        }
    }
}

/// Settles one delivery through the bus.
struct PgAcker {
    lease: Lease,
    settled: AtomicBool,
}

impl PgAcker {
    fn expired(&self) -> Error {
        Error::DeliveryExpired(format!(
            "the lease of envelope {} (attempt {}) ended: it was redelivered, dead-lettered or settled already",
            self.lease.key.seq, self.lease.key.attempt
        ))
    }
}

#[async_trait]
impl Acknowledger for PgAcker {
    async fn ack(&self) -> Result<(), Error> {
        let span = tracing::debug_span!("bus.ack", group = %self.lease.group.name, seq = self.lease.key.seq);
        async {
            let (reply, answer) = oneshot::channel();
            self.lease
                .bus
                .settler
                .send(SettleOp::Ack(self.lease.key, reply))
                .map_err(|_| Error::Closed)?;
            let outcome = answer.await.map_err(|_| errors::lost("ack"))?;
            if outcome.is_ok() {
                self.settled.store(true, Ordering::SeqCst);
            }
            outcome
        }
        .instrument(span)
        .await
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let lease = &self.lease;
        let span = tracing::debug_span!("bus.nack", group = %lease.group.name, seq = lease.key.seq, ?delay);
        async {
            if lease.bus.is_ended() {
                return Err(Error::Closed);
            }
            let last = lease.key.attempt as u32 >= lease.max_attempts;
            let held = acker::nack(
                &lease.bus.db,
                lease.key,
                &lease.group.name,
                last,
                delay,
                reason,
            )
            .await?;
            if !held {
                return Err(self.expired());
            }
            self.settled.store(true, Ordering::SeqCst);
            if !last {
                if delay.is_zero() {
                    lease.group.wake.notify_one();
                } else {
                    lease.group.wake_at(Instant::now() + delay);
                }
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl Drop for PgAcker {
    fn drop(&mut self) {
        if !self.settled.load(Ordering::SeqCst) {
            // Left to the visibility timeout: look again once it has passed.
            let at = self.lease.deadline + Duration::from_millis(5);
            self.lease.group.wake_at(at);
        }
    }
}

/// The stream a [`Subscription`](harbor_distributed::Subscription) wraps.
pub(crate) struct DeliveryStream {
    pub(crate) rx: mpsc::Receiver<Claimed>,
}

impl Stream for DeliveryStream {
    type Item = Result<Delivery, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let Some(mut claimed) = std::task::ready!(self.rx.poll_recv(cx)) else {
                return Poll::Ready(None);
            };
            let (Some(envelope), Some(lease)) = (claimed.envelope.take(), claimed.lease.take())
            else {
                continue;
            };
            let attempt = lease.key.attempt as u32;
            let acker = PgAcker {
                lease,
                settled: AtomicBool::new(false),
            };
            return Poll::Ready(Some(Ok(Delivery::new(envelope, attempt, Box::new(acker)))));
        }
    }
}
