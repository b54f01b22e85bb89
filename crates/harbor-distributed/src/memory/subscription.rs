//! The delivery stream of one memory-bus subscription, and how its deliveries settle.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::Stream;

use super::group::{Group, Leased};
use super::leases::LeaseKey;
use super::settle::Nacked;
use crate::{Acknowledger, Delivery, Error};

/// Deliveries of one subscription. Leases a batch from the group under one lock and hands
/// them out one by one.
///
/// A leased envelope's visibility timeout runs while it waits in the batch, so the batch
/// adapts: it doubles (up to the configured size) while the consumer works through each
/// batch within a quarter of the timeout, and drops to one envelope when it does not. A
/// slow consumer (an agent call of seconds) thus never has envelopes expire unseen.
pub(super) struct DeliveryStream {
    group: Arc<Group>,
    sub: u32,
    buffer: VecDeque<Leased>,
    batch: usize,
    max_batch: usize,
    slow_after: Duration,
    last_lease: Option<Instant>,
    /// Whether the next envelope in `buffer` is the first of its batch (handed out at once,
    /// so its lease needs no check).
    fresh: bool,
    ended: bool,
}

impl DeliveryStream {
    pub(super) fn new(group: Arc<Group>, sub: u32, max_batch: usize, timeout: Duration) -> Self {
        Self {
            buffer: VecDeque::with_capacity(max_batch),
            group,
            sub,
            batch: 1,
            max_batch,
            slow_after: timeout / 4,
            last_lease: None,
            fresh: false,
            ended: false,
        }
    }

    fn lease(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        let now = Instant::now();
        if let Some(last) = self.last_lease {
            self.batch = if now.duration_since(last) > self.slow_after {
                1
            } else {
                (self.batch * 2).min(self.max_batch)
            };
        }
        let leased = self
            .group
            .lease(self.sub, self.batch, now, &mut self.buffer, cx);
        if leased == Poll::Ready(true) {
            self.last_lease = Some(now);
            self.fresh = true;
        }
        leased
    }

    /// Whether `leased`, taken from the batch, can be handed out. When the consumer took
    /// long enough for the batch to age, this one's timeout restarts now and the rest of
    /// the batch goes back to the group for whoever is free.
    fn still_held(&mut self, leased: &Leased) -> bool {
        if std::mem::take(&mut self.fresh) {
            return true;
        }
        let now = Instant::now();
        if self
            .last_lease
            .is_none_or(|last| now.duration_since(last) <= self.slow_after)
        {
            return true;
        }
        self.batch = 1;
        self.last_lease = Some(now);
        let rest = std::mem::take(&mut self.buffer);
        if !rest.is_empty() {
            self.group.give_back(self.sub, rest);
        }
        self.group.renew(leased.key, now)
    }
}

impl Stream for DeliveryStream {
    type Item = Result<Delivery, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(leased) = this.buffer.pop_front() {
                if !this.still_held(&leased) {
                    // Its timeout passed before the consumer got to it: it was redelivered.
                    continue;
                }
                let acker = Box::new(MemoryAcker {
                    group: Arc::clone(&this.group),
                    key: leased.key,
                });
                return Poll::Ready(Some(Ok(Delivery::from_shared(
                    leased.envelope,
                    leased.attempt,
                    acker,
                ))));
            }
            match this.lease(cx) {
                Poll::Ready(true) => {}
                Poll::Ready(false) => this.ended = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Drop for DeliveryStream {
    fn drop(&mut self) {
        self.group
            .detach(self.sub, std::mem::take(&mut self.buffer));
    }
}

/// Settles one memory-bus delivery.
struct MemoryAcker {
    group: Arc<Group>,
    key: LeaseKey,
}

#[async_trait]
impl Acknowledger for MemoryAcker {
    async fn ack(&self) -> Result<(), Error> {
        tracing::trace_span!("bus.ack", group = %self.group.name)
            .in_scope(|| self.group.ack(self.key))
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let span = tracing::trace_span!("bus.nack", group = %self.group.name, ?delay);
        let nacked = span.in_scope(|| self.group.nack(self.key, delay, reason))?;
        if let Nacked::Dead(dead) = nacked {
            // The nacking consumer carries the dead letter to its edge, so backpressure on
            // the dead-letter groups reaches the consumer that produced it.
            if let Some(router) = self.group.router.upgrade() {
                router.dead_letter(&self.group.name, dead).await?;
            }
        }
        Ok(())
    }
}
