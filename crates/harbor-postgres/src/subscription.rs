//! One subscription: a task that claims batches for its consumer, within its in-flight
//! bound, woken by notifications, its group's timers and a polling fallback.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use harbor_distributed::{Delivery, Envelope, Error, SubscribeOptions, Subscription};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::acker::PgAcker;
use crate::codec;
use crate::core::{Inner, LeaseKey};
use crate::errors;
use crate::groups::Group;
use crate::lease::{Claimed, Held, Lease};

/// Starts claiming for `options` in `group`.
pub(crate) fn start(
    inner: Arc<Inner>,
    group: Arc<Group>,
    options: SubscribeOptions,
) -> Subscription {
    let (tx, rx) = mpsc::channel(options.max_in_flight.clamp(1, 1 << 20));
    let refill = (options.max_in_flight.min(inner.db.config.claim_batch) / 2).max(1);
    let claimer = Claimer {
        refill,
        held: Arc::new(Held::default()),
        vt_ms: i64::try_from(options.visibility_timeout.as_millis().max(1)).unwrap_or(i64::MAX),
        inner: Arc::clone(&inner),
        group,
        options,
        tx,
    };
    inner.subscriptions.spawn(claimer.run());
    Subscription::new(Box::pin(DeliveryStream { rx }))
}

struct Claimer {
    inner: Arc<Inner>,
    group: Arc<Group>,
    options: SubscribeOptions,
    vt_ms: i64,
    /// Room (out of `max_in_flight`) worth a claim while deliveries are held: half a
    /// claim batch.
    refill: usize,
    held: Arc<Held>,
    tx: mpsc::Sender<Claimed>,
}

/// How an idle claimer's wait ended.
enum Woke {
    Again,
    Stop,
}

impl Claimer {
    async fn run(self) {
        let mut backoff = Duration::from_millis(50);
        loop {
            if self.inner.is_ended() || self.tx.is_closed() {
                return;
            }
            if !self.has_room() {
                if let Woke::Stop = self.wait_for_room().await {
                    return;
                }
                continue;
            }
            let free = self.options.max_in_flight.saturating_sub(self.held.count());
            let want = free.min(self.inner.db.config.claim_batch);
            match self.claim(want).await {
                Ok(Claim { rows, more }) if !rows.is_empty() || more => {
                    backoff = Duration::from_millis(50);
                    if more || rows.len() == want {
                        // Probably more: let another member of the group look too.
                        self.group.wake.notify_one();
                    }
                    let deadline = Instant::now() + self.options.visibility_timeout;
                    // Every row becomes a `Claimed` first: if the subscription goes away
                    // meanwhile, dropping them gives them all back.
                    let claimed: Vec<Claimed> = rows
                        .into_iter()
                        .map(|(key, envelope)| Claimed {
                            envelope: Some(envelope),
                            lease: Some(Lease::new(
                                Arc::clone(&self.inner),
                                Arc::clone(&self.group),
                                key,
                                self.options.max_attempts,
                                deadline,
                                Arc::clone(&self.held),
                            )),
                        })
                        .collect();
                    for claimed in claimed {
                        if self.tx.send(claimed).await.is_err() {
                            break;
                        }
                    }
                }
                Ok(_) => {
                    if self.inner.is_draining() && self.held.count() == 0 {
                        return;
                    }
                    if let Woke::Stop = self.idle().await {
                        return;
                    }
                }
                Err(error) => {
                    tracing::warn!(group = %self.group.name, %error, "claim failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = self.inner.ended.cancelled() => return,
                        () = self.tx.closed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Whether a claim is worth making: some room, and while the consumer has deliveries
    /// to work on, at least `refill` of it (many small claims cost more than a few full
    /// ones).
    fn has_room(&self) -> bool {
        let held = self.held.count();
        let free = self.options.max_in_flight.saturating_sub(held);
        free > 0 && (held == 0 || free >= self.refill)
    }

    async fn wait_for_room(&self) -> Woke {
        let changed = self.held.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if self.has_room() {
            return Woke::Again;
        }
        tokio::select! {
            () = changed => Woke::Again,
            () = self.inner.ended.cancelled() => Woke::Stop,
            () = self.tx.closed() => Woke::Stop,
        }
    }

    /// Waits for a notification, a timer of the group, the poll interval, a settle while
    /// draining, or the end.
    async fn idle(&self) -> Woke {
        let now = Instant::now();
        let mut until = now + self.inner.db.config.poll_interval;
        if let Some(at) = self.group.next_timer(now) {
            until = until.min(at);
        }
        let draining = self.inner.is_draining();
        tokio::select! {
            () = self.group.wake.notified() => Woke::Again,
            () = tokio::time::sleep_until(until) => Woke::Again,
            () = self.held.changed.notified(), if draining => Woke::Again,
            () = self.inner.draining.cancelled(), if !draining => Woke::Again,
            () = self.inner.ended.cancelled() => Woke::Stop,
            () = self.tx.closed() => Woke::Stop,
        }
    }

    async fn claim(&self, want: usize) -> Result<Claim, Error> {
        let db = &self.inner.db;
        let client = db.settle_pool.get().await.map_err(errors::pool)?;
        let statement = client
            .prepare_cached(&db.sql.claim)
            .await
            .map_err(errors::backend)?;
        let limit = i32::try_from(want).unwrap_or(i32::MAX);
        let max_attempts = i32::try_from(self.options.max_attempts).unwrap_or(i32::MAX);
        let rows = client
            .query(
                &statement,
                &[
                    &self.group.id,
                    &limit,
                    &self.vt_ms,
                    &max_attempts,
                    &self.group.name,
                ],
            )
            .await
            .map_err(errors::backend)?;
        let mut claim = Claim {
            rows: Vec::with_capacity(rows.len()),
            more: false,
        };
        for row in &rows {
            let Some(seq) = row.get::<_, Option<i64>>(0) else {
                claim.more = true;
                continue;
            };
            let key = LeaseKey {
                group: self.group.id,
                seq,
                attempt: row.get(1),
            };
            let envelope = codec::decode(row, 2).map_err(errors::backend)?;
            claim.rows.push((key, envelope));
        }
        Ok(claim)
    }
}

/// What one call of the `claim` function gave.
struct Claim {
    rows: Vec<(LeaseKey, Envelope)>,
    /// It stopped reading before the end of the log: call again.
    more: bool,
}

/// The stream a [`Subscription`](harbor_distributed::Subscription) wraps.
struct DeliveryStream {
    rx: mpsc::Receiver<Claimed>,
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
            let acker = PgAcker::new(lease);
            return Poll::Ready(Some(Ok(Delivery::new(envelope, attempt, Box::new(acker)))));
        }
    }
}
