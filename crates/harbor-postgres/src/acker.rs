//! Settling deliveries: the [`Acknowledger`] of one delivery, and the statements behind
//! it (concurrent acks leave together as one statement; nacks go one by one).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use harbor_distributed::{Acknowledger, Error};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::Instrument;

use crate::core::{Db, LeaseKey, SettleOp};
use crate::errors;
use crate::lease::Lease;
use crate::publish::share;

fn arrays(keys: &[LeaseKey]) -> (Vec<i32>, Vec<i64>, Vec<i32>) {
    (
        keys.iter().map(|k| k.group).collect(),
        keys.iter().map(|k| k.seq).collect(),
        keys.iter().map(|k| k.attempt).collect(),
    )
}

/// Runs one batch of settles: one `DELETE` for the acks, one `UPDATE` for the releases.
pub(crate) async fn run_batch(db: Arc<Db>, batch: Vec<SettleOp>) {
    let mut acks = Vec::new();
    let mut replies = Vec::new();
    let mut releases = Vec::new();
    for op in batch {
        match op {
            SettleOp::Ack(key, reply) => {
                acks.push(key);
                replies.push(reply);
            }
            SettleOp::Release(key) => releases.push(key),
        }
    }
    let result = settle(&db, &acks, &releases).await;
    match result {
        Ok(deleted) => {
            for (key, reply) in acks.iter().zip(replies) {
                let outcome = if deleted.contains(&(key.group, key.seq)) {
                    Ok(())
                } else {
                    Err(Error::DeliveryExpired(format!(
                        "the lease of envelope {} (attempt {}) ended: it was redelivered, dead-lettered or settled already",
                        key.seq, key.attempt
                    )))
                };
                let _ = reply.send(outcome);
            }
        }
        Err(error) => {
            tracing::debug!(%error, "settle batch failed");
            for reply in replies {
                let _ = reply.send(Err(share(&error)));
            }
        }
    }
}

async fn settle(
    db: &Db,
    acks: &[LeaseKey],
    releases: &[LeaseKey],
) -> Result<HashSet<(i32, i64)>, Error> {
    let client = db.settle_pool.get().await.map_err(errors::pool)?;
    let mut deleted = HashSet::new();
    if !acks.is_empty() {
        let statement = client
            .prepare_cached(&db.sql.ack)
            .await
            .map_err(errors::backend)?;
        let (g, s, n) = arrays(acks);
        for row in client
            .query(&statement, &[&g, &s, &n])
            .await
            .map_err(errors::backend)?
        {
            deleted.insert((row.get(0), row.get(1)));
        }
    }
    if !releases.is_empty() {
        let statement = client
            .prepare_cached(&db.sql.release)
            .await
            .map_err(errors::backend)?;
        let (g, s, n) = arrays(releases);
        if let Err(error) = client.execute(&statement, &[&g, &s, &n]).await {
            // They come back after their visibility timeout instead.
            tracing::debug!(%error, "releasing unhanded deliveries failed");
        }
    }
    Ok(deleted)
}

/// Nacks one delivery: claimable again after `delay`, or dead-lettered when this was its
/// last attempt. `Ok(false)` when the lease had already ended.
pub(crate) async fn nack(
    db: &Db,
    key: LeaseKey,
    group_name: &str,
    last_attempt: bool,
    delay: Duration,
    reason: Option<String>,
) -> Result<bool, Error> {
    let client = db.settle_pool.get().await.map_err(errors::pool)?;
    if last_attempt {
        let reason = reason.unwrap_or_else(|| format!("nacked on attempt {}", key.attempt));
        let statement = client
            .prepare_cached(&db.sql.nack_dead)
            .await
            .map_err(errors::backend)?;
        let row = client
            .query_one(
                &statement,
                &[&key.group, &key.seq, &key.attempt, &reason, &group_name],
            )
            .await
            .map_err(errors::backend)?;
        let n: i64 = row.get(0);
        return Ok(n > 0);
    }
    let statement = client
        .prepare_cached(&db.sql.nack)
        .await
        .map_err(errors::backend)?;
    let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    let n = client
        .execute(
            &statement,
            &[&key.group, &key.seq, &key.attempt, &ms, &reason],
        )
        .await
        .map_err(errors::backend)?;
    Ok(n > 0)
}

/// Settles one delivery through the bus.
pub(crate) struct PgAcker {
    lease: Lease,
    settled: AtomicBool,
}

impl PgAcker {
    pub(crate) fn new(lease: Lease) -> Self {
        Self {
            lease,
            settled: AtomicBool::new(false),
        }
    }

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
            let held = nack(
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
