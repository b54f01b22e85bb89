//! Settling one delivery: batched ack while its lease surely holds, checked scripts after.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use harbor_distributed::bus::dead_letter;
use harbor_distributed::{Acknowledger, Envelope, Error};
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::core::{AckRequest, Fetched, Lease, Sub};
use crate::errors::with_retry;
use crate::{keys, scripts};
use harbor_distributed::frame;
use harbor_distributed::kit::lock;

/// The acknowledger of one delivery.
pub(crate) struct Settler {
    sub: Arc<Sub>,
    idx: usize,
    id: String,
    count: u32,
    base: u32,
    envelope: Arc<Envelope>,
    sent: Instant,
    settled: AtomicBool,
    lease: Arc<Lease>,
}

/// What a checked script answered: 1 done, 0 another delivery holds it, 2 no longer pending.
fn checked(outcome: i64, retried: bool, id: &str) -> Result<(), Error> {
    match outcome {
        1 => Ok(()),
        // The earlier try, whose reply was lost, did it.
        2 if retried => Ok(()),
        2 => Err(Error::DeliveryExpired(format!(
            "entry {id} was already settled by another delivery"
        ))),
        _ => Err(Error::DeliveryExpired(format!(
            "the lease on entry {id} ended and it was delivered again"
        ))),
    }
}

impl Settler {
    pub(crate) fn new(sub: Arc<Sub>, f: Fetched, lease: Arc<Lease>) -> Self {
        Self {
            sub,
            idx: f.idx,
            id: f.id,
            count: f.count,
            base: f.base,
            envelope: f.envelope,
            sent: f.sent,
            settled: AtomicBool::new(false),
            lease,
        }
    }

    fn attempt(&self) -> u32 {
        self.base + self.count
    }

    fn key(&self) -> &str {
        &self.sub.keys[self.idx]
    }

    fn delete(&self) -> &'static str {
        if self.idx == self.sub.retry_idx() {
            "1"
        } else {
            "0"
        }
    }

    fn begin(&self) -> Result<(), Error> {
        if self.settled.swap(true, Ordering::AcqRel) {
            return Err(Error::DeliveryExpired(
                "the delivery was already settled".into(),
            ));
        }
        if self.sub.bus.life.is_closed() {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// Whether no other consumer can have claimed the entry yet: claims need it idle for
    /// the visibility timeout, counted from no earlier than `sent`; the margin covers the
    /// time the ack takes to reach the server.
    fn lease_surely_held(&self) -> bool {
        let margin = (self.sub.visibility / 10).min(Duration::from_millis(200));
        self.sent.elapsed() + margin < self.sub.visibility
    }

    fn forget(&self) {
        let mut ledger = lock(&self.sub.ledger);
        let key = (self.idx, self.id.clone());
        if ledger.get(&key).map(|l| l.0) == Some(self.count) {
            ledger.remove(&key);
        }
    }

    async fn run_ack(&self) -> Result<(), Error> {
        self.begin()?;
        if self.lease_surely_held() {
            let (tx, rx) = oneshot::channel();
            self.sub.bus.send_ack(AckRequest {
                key: Arc::clone(&self.sub.keys[self.idx]),
                group: Arc::clone(&self.sub.group),
                id: self.id.clone(),
                delete: self.idx == self.sub.retry_idx(),
                done: Some(tx),
                lease: Some(Arc::clone(&self.lease)),
            })?;
            rx.await.map_err(|_| Error::Closed)??;
        } else {
            let conn = self.sub.bus.conn()?;
            let (result, retried) = with_retry(self.sub.bus.config.retry, || {
                let mut conn = conn.clone();
                let mut call = scripts::ACK.prepare_invoke();
                call.key(self.key())
                    .arg(&*self.sub.group)
                    .arg(&*self.sub.consumer)
                    .arg(&self.id)
                    .arg(self.count)
                    .arg(self.delete());
                async move { call.invoke_async::<i64>(&mut conn).await }
            })
            .await;
            checked(result?, retried, &self.id)?;
        }
        self.forget();
        Ok(())
    }

    async fn run_nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        self.begin()?;
        let attempt = self.attempt();
        let conn = self.sub.bus.conn()?;
        let outcome = if attempt >= self.sub.max_attempts {
            let reason = reason.unwrap_or_else(|| "nacked".to_owned());
            dead_letter(
                &self.sub,
                &conn,
                self.idx,
                &self.id,
                self.count,
                &self.envelope,
                attempt,
                &reason,
            )
            .await
        } else {
            let data = frame::encode(&self.envelope);
            let delay_ms = delay.as_millis() as u64;
            let (result, retried) = with_retry(self.sub.bus.config.retry, || {
                let mut conn = conn.clone();
                let mut call = scripts::REQUEUE.prepare_invoke();
                call.key(self.key())
                    .key(&*self.sub.keys[self.sub.retry_idx()])
                    .key(&self.sub.delay_key)
                    .arg(&*self.sub.group)
                    .arg(&*self.sub.consumer)
                    .arg(&self.id)
                    .arg(self.count)
                    .arg(self.delete())
                    .arg(delay_ms)
                    .arg(attempt)
                    .arg(&data[..]);
                async move { call.invoke_async::<i64>(&mut conn).await }
            })
            .await;
            let outcome = checked(result?, retried, &self.id);
            if outcome.is_ok() && delay_ms > 0 {
                let due = tokio::time::Instant::now() + delay;
                let mut next = lock(&self.sub.next_move);
                if next.is_none_or(|n| due < n) {
                    *next = Some(due);
                }
                drop(next);
                self.sub.janitor_wake.notify_one();
            }
            outcome
        };
        self.forget();
        outcome
    }
}

/// Publishes the dead letter of an entry this consumer holds with delivery count `count`
/// and acks the entry, in one script.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn dead_letter(
    sub: &Sub,
    conn: &redis::aio::ConnectionManager,
    idx: usize,
    id: &str,
    count: u32,
    envelope: &Envelope,
    attempts: u32,
    reason: &str,
) -> Result<(), Error> {
    let group_name = group_label(sub);
    let letter = dead_letter::envelope(envelope.clone(), group_name, attempts, reason);
    tracing::debug!(edge = %envelope.edge, attempts, reason, "dead-lettering");
    let prefix = &sub.bus.config.prefix;
    let stream = keys::stream_of_edge(prefix, &letter.edge);
    let task = letter.task_id.as_deref().unwrap_or_default();
    let dedup = keys::dedup_key(prefix, task, &letter.edge, &letter.event_id);
    let data = frame::encode(&letter);
    let window = sub.bus.config.dedup_window.as_millis() as u64;
    let delete = if idx == sub.retry_idx() { "1" } else { "0" };
    let (result, retried) = with_retry(sub.bus.config.retry, || {
        let mut conn = conn.clone();
        let mut call = scripts::DEAD_LETTER.prepare_invoke();
        call.key(&*sub.keys[idx])
            .key(&stream)
            .key(&dedup)
            .arg(&*sub.group)
            .arg(&*sub.consumer)
            .arg(id)
            .arg(count)
            .arg(delete)
            .arg(window)
            .arg(&data[..]);
        async move { call.invoke_async::<i64>(&mut conn).await }
    })
    .await;
    checked(result?, retried, id)
}

/// The group's own name (without the scope part of the Redis group name).
fn group_label(sub: &Sub) -> &str {
    let (len, rest) = sub.group.split_once(':').unwrap_or(("0", &sub.group));
    let len: usize = len.parse().unwrap_or(0);
    rest.get(..len).unwrap_or(rest)
}

impl Drop for Settler {
    fn drop(&mut self) {
        self.lease.release();
    }
}

#[async_trait]
impl Acknowledger for Settler {
    async fn ack(&self) -> Result<(), Error> {
        let span = tracing::debug_span!("bus.ack", id = %self.id);
        self.run_ack().instrument(span).await
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let span = tracing::debug_span!("bus.nack", id = %self.id, ?delay);
        self.run_nack(delay, reason).instrument(span).await
    }
}
