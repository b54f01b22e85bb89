//! The delivery stream of one memory-bus subscription; its deliveries settle through
//! [`MemoryAcker`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;

use super::acker::MemoryAcker;
use super::group::{Group, Leased};
use crate::{Delivery, Error};

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
    /// Raised by the group's timer once the current batch has waited `slow_after`.
    aged: Arc<AtomicBool>,
    /// Whether the next envelope in `buffer` is the first of its batch (handed out at once,
    /// so its lease needs no check).
    fresh: bool,
    ended: bool,
}

impl DeliveryStream {
    pub(super) fn new(
        group: Arc<Group>,
        sub: u32,
        aged: Arc<AtomicBool>,
        max_batch: usize,
        timeout: Duration,
    ) -> Self {
        Self {
            buffer: VecDeque::with_capacity(max_batch),
            group,
            sub,
            batch: 1,
            max_batch,
            slow_after: timeout / 4,
            last_lease: None,
            aged,
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
    ///
    /// The group's timer raises `aged` when the batch has waited `slow_after`, well before
    /// it expires any of its leases (the same timer does both, in deadline order), so this
    /// reads a flag rather than the clock for every delivery.
    fn still_held(&mut self, leased: &Leased) -> bool {
        if std::mem::take(&mut self.fresh) || !self.aged.load(Ordering::Relaxed) {
            return true;
        }
        let now = Instant::now();
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
            if !this.buffer.is_empty() {
                // A delivery spends the task's cooperative budget, as a channel receive does.
                let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
                let Some(leased) = this.buffer.pop_front() else {
                    continue;
                };
                if !this.still_held(&leased) {
                    // Its timeout passed before the consumer got to it: it was redelivered.
                    continue;
                }
                coop.made_progress();
                let acker = MemoryAcker {
                    group: Arc::clone(&this.group),
                    key: leased.key,
                };
                return Poll::Ready(Some(Ok(Delivery::from_memory(
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
