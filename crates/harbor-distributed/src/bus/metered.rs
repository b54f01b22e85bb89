//! [`MeteredBus`]: any [`MessageBus`] counted through the [`metrics`] facade, per driver and
//! consumer group, so every driver reports the same series.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `harbor_bus_published_total` | counter | `driver` |
//! | `harbor_bus_delivered_total` | counter | `driver`, `group` |
//! | `harbor_bus_redelivered_total` | counter | `driver`, `group` (deliveries with attempt > 1) |
//! | `harbor_bus_acked_total` | counter | `driver`, `group` |
//! | `harbor_bus_nacked_total` | counter | `driver`, `group` |
//! | `harbor_bus_dead_lettered_total` | counter | `driver`, `group`, `cause`: `nack` (a last attempt nacked) or `timeout` (a last attempt dropped unsettled, or acked after its visibility timeout) |
//! | `harbor_bus_unsettled` | gauge | `driver`, `group` (delivered, neither acked nor nacked yet) |
//! | `harbor_bus_consumer_lag` | gauge | `driver`, `group` (the engine's [backlog](MessageBus::backlog) of the group: stored for it and not settled, in flight included; read by [`MeteredBus::record_consumer_lag`]) |
//!
//! The handles are made once per bus and per subscription, so counting a delivery is an
//! atomic add. Wrap a bus only when a recorder is installed: unwrapped, nothing is counted
//! and nothing is spent.
//!
//! The consumer lag is not counted but asked of the engine, so it is read when metrics
//! are rendered (`harbor serve` does it before each scrape), for the groups subscribed
//! through this bus only (the series stay bounded), each query under a timeout. A driver
//! that cannot tell ([`backlog`](MessageBus::backlog) answers `None`) has no lag series; a
//! query that fails or times out sets the group's series to NaN, so a stale number is never
//! shown as current.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::future::join_all;
use metrics::{Counter, Gauge, counter, gauge};

use super::{
    Acknowledger, Capabilities, Delivery, MessageBus, PublishReceipt, Settle, SubscribeOptions,
    Subscription,
};
use crate::kit;
use crate::{Envelope, Error};

/// Envelopes published.
pub const PUBLISHED_TOTAL: &str = "harbor_bus_published_total";
/// Deliveries handed to subscribers.
pub const DELIVERED_TOTAL: &str = "harbor_bus_delivered_total";
/// Deliveries after the first of the same envelope.
pub const REDELIVERED_TOTAL: &str = "harbor_bus_redelivered_total";
/// Deliveries acknowledged.
pub const ACKED_TOTAL: &str = "harbor_bus_acked_total";
/// Deliveries nacked (handed back for redelivery).
pub const NACKED_TOTAL: &str = "harbor_bus_nacked_total";
/// Last attempts this process gave up on, which the driver dead-letters: `cause` `nack`
/// (nacked) or `timeout` (dropped unsettled, or settled after the visibility timeout).
pub const DEAD_LETTERED_TOTAL: &str = "harbor_bus_dead_lettered_total";
/// Deliveries held by subscribers, not yet settled.
pub const UNSETTLED: &str = "harbor_bus_unsettled";
/// Envelopes stored for a group and not settled by it, as the engine counts them.
pub const CONSUMER_LAG: &str = "harbor_bus_consumer_lag";

/// Registers the help text of the bus metrics with the installed recorder.
pub fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge};
    describe_counter!(PUBLISHED_TOTAL, "Envelopes published, by bus driver.");
    describe_counter!(
        DELIVERED_TOTAL,
        "Deliveries handed to subscribers, by driver and consumer group."
    );
    describe_counter!(
        REDELIVERED_TOTAL,
        "Deliveries of an envelope after its first (attempt > 1)."
    );
    describe_counter!(ACKED_TOTAL, "Deliveries acknowledged.");
    describe_counter!(NACKED_TOTAL, "Deliveries nacked for redelivery.");
    describe_counter!(
        DEAD_LETTERED_TOTAL,
        "Last attempts given up here, which the driver dead-letters: cause nack (nacked) or \
         timeout (dropped unsettled, or acked after the visibility timeout)."
    );
    describe_gauge!(
        UNSETTLED,
        "Deliveries held by this process's subscribers, not yet acked or nacked."
    );
    describe_gauge!(
        CONSUMER_LAG,
        "Envelopes stored for the consumer group and not yet acked or dead-lettered by any of \
         its members (waiting, in flight or nacked), as the engine counts them at scrape \
         time; NaN when the last query failed."
    );
}

/// A bus whose publishes, deliveries and settlements are counted.
pub struct MeteredBus {
    inner: Arc<dyn MessageBus>,
    driver: String,
    published: Counter,
    /// The groups subscribed through this bus, with their lag gauge once the driver told
    /// a lag: the only groups whose lag is reported.
    lag: Mutex<BTreeMap<String, Option<Gauge>>>,
}

impl std::fmt::Debug for MeteredBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredBus")
            .field("driver", &self.driver)
            .finish_non_exhaustive()
    }
}

impl MeteredBus {
    /// Counts `inner`'s traffic under the label `driver` (`memory`, `embedded`, `nats`...).
    /// The handles are taken from the recorder installed now.
    pub fn new(inner: Arc<dyn MessageBus>, driver: impl Into<String>) -> Self {
        let driver = driver.into();
        Self {
            published: counter!(PUBLISHED_TOTAL, "driver" => driver.clone()),
            inner,
            driver,
            lag: Mutex::new(BTreeMap::new()),
        }
    }

    /// Asks the engine for the [backlog](MessageBus::backlog) of every group subscribed
    /// through this bus, all at once, each for at most `timeout`, and sets their
    /// `harbor_bus_consumer_lag` gauges: to the backlog, or to NaN when the query failed or
    /// timed out. Never fails: a slow or broken engine costs at most `timeout`.
    pub async fn record_consumer_lag(&self, timeout: Duration) {
        let groups: Vec<String> = self.lag_groups().keys().cloned().collect();
        let reads = groups.into_iter().map(|group| async move {
            let read = tokio::time::timeout(timeout, self.inner.backlog(&group)).await;
            (group, read)
        });
        for (group, read) in join_all(reads).await {
            let value = match read {
                Ok(Ok(Some(n))) => n as f64,
                Ok(Ok(None)) => {
                    // Unknown to this driver: no series, unless it once told.
                    self.set_lag(&group, f64::NAN, false);
                    continue;
                }
                Ok(Err(error)) => {
                    tracing::debug!(group, %error, driver = %self.driver, "the consumer lag query failed");
                    f64::NAN
                }
                Err(_) => {
                    tracing::debug!(group, ?timeout, driver = %self.driver, "the consumer lag query timed out");
                    f64::NAN
                }
            };
            self.set_lag(&group, value, value.is_finite());
        }
    }

    /// Sets `group`'s lag gauge to `value`; creates it only when `create`.
    fn set_lag(&self, group: &str, value: f64, create: bool) {
        let mut groups = self.lag_groups();
        let Some(slot) = groups.get_mut(group) else {
            return;
        };
        if slot.is_none() && create {
            let labels = [("driver", self.driver.clone()), ("group", group.to_owned())];
            *slot = Some(gauge!(CONSUMER_LAG, &labels));
        }
        if let Some(gauge) = slot {
            gauge.set(value);
        }
    }

    fn lag_groups(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Option<Gauge>>> {
        kit::lock(&self.lag)
    }
}

/// One subscription's handles.
struct GroupMeters {
    delivered: Counter,
    redelivered: Counter,
    acked: Counter,
    nacked: Counter,
    dead_lettered: Counter,
    timed_out: Counter,
    unsettled: Gauge,
    max_attempts: u32,
}

#[async_trait]
impl MessageBus for MeteredBus {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        let receipt = self.inner.publish(envelope).await?;
        self.published.increment(1);
        Ok(receipt)
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        let labels = [
            ("driver", self.driver.clone()),
            ("group", options.group.clone()),
        ];
        let meters = Arc::new(GroupMeters {
            delivered: counter!(DELIVERED_TOTAL, &labels),
            redelivered: counter!(REDELIVERED_TOTAL, &labels),
            acked: counter!(ACKED_TOTAL, &labels),
            nacked: counter!(NACKED_TOTAL, &labels),
            dead_lettered: counter!(DEAD_LETTERED_TOTAL, &with_cause(&labels, "nack")),
            timed_out: counter!(DEAD_LETTERED_TOTAL, &with_cause(&labels, "timeout")),
            unsettled: gauge!(UNSETTLED, &labels),
            max_attempts: options.max_attempts,
        });
        let group = options.group.clone();
        let inner = self.inner.subscribe(options).await?;
        self.lag_groups().entry(group).or_insert(None);
        let deliveries = inner.map(move |item| {
            item.map(|delivery| {
                meters.delivered.increment(1);
                if delivery.attempt() > 1 {
                    meters.redelivered.increment(1);
                }
                meters.unsettled.increment(1.0);
                let (envelope, settle) = delivery.into_shared_parts();
                let attempt = settle.attempt();
                let acker = MeteredAcker {
                    settle: Mutex::new(Some(settle)),
                    meters: Arc::clone(&meters),
                };
                Delivery::from_shared(envelope, attempt, Box::new(acker))
            })
        });
        Ok(Subscription::new(deliveries.boxed()))
    }

    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        self.inner.backlog(group).await
    }

    async fn close(&self) -> Result<(), Error> {
        self.inner.close().await
    }
}

impl GroupMeters {
    /// Whether `settle` is its envelope's last attempt: given up, it is dead-lettered.
    fn is_last(&self, settle: &Settle) -> bool {
        settle.attempt() >= self.max_attempts
    }
}

/// `labels` and a `cause`.
fn with_cause(labels: &[(&'static str, String); 2], cause: &str) -> [(&'static str, String); 3] {
    let [driver, group] = labels.clone();
    [driver, group, ("cause", cause.to_owned())]
}

/// Settles through the driver's own settling half and counts the outcome.
struct MeteredAcker {
    settle: Mutex<Option<Settle>>,
    meters: Arc<GroupMeters>,
}

impl MeteredAcker {
    fn take(&self) -> Result<Settle, Error> {
        kit::lock(&self.settle)
            .take()
            .ok_or_else(|| Error::DeliveryExpired("the delivery was already settled".into()))
    }
}

#[async_trait]
impl Acknowledger for MeteredAcker {
    async fn ack(&self) -> Result<(), Error> {
        let settle = self.take()?;
        self.meters.unsettled.decrement(1.0);
        let last = self.meters.is_last(&settle);
        let result = settle.ack().await;
        match &result {
            Ok(()) => self.meters.acked.increment(1),
            // Too late: the visibility timeout took it back, and it had no attempt left.
            Err(Error::DeliveryExpired(_)) if last => self.meters.timed_out.increment(1),
            Err(_) => {}
        }
        result
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let settle = self.take()?;
        self.meters.unsettled.decrement(1.0);
        let last = self.meters.is_last(&settle);
        let result = settle.nack(delay, reason).await;
        if result.is_ok() {
            self.meters.nacked.increment(1);
            if last {
                self.meters.dead_lettered.increment(1);
            }
        }
        result
    }
}

impl Drop for MeteredAcker {
    fn drop(&mut self) {
        // Dropped unsettled: the driver's visibility timeout takes it back.
        let settle = kit::get_mut(&mut self.settle);
        if let Some(settle) = settle {
            self.meters.unsettled.decrement(1.0);
            if self.meters.is_last(settle) {
                self.meters.timed_out.increment(1);
            }
        }
    }
}

#[cfg(test)]
mod tests;
