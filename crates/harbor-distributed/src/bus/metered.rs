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
//! | `harbor_bus_dead_lettered_total` | counter | `driver`, `group` (nacks of a last attempt) |
//! | `harbor_bus_unsettled` | gauge | `driver`, `group` (delivered, neither acked nor nacked yet) |
//!
//! The handles are made once per bus and per subscription, so counting a delivery is an
//! atomic add. Wrap a bus only when a recorder is installed: unwrapped, nothing is counted
//! and nothing is spent.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use metrics::{Counter, Gauge, counter, gauge};

use super::{
    Acknowledger, Capabilities, Delivery, MessageBus, PublishReceipt, Settle, SubscribeOptions,
    Subscription,
};
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
/// Nacks of a delivery's last attempt: the driver dead-letters the envelope.
pub const DEAD_LETTERED_TOTAL: &str = "harbor_bus_dead_lettered_total";
/// Deliveries held by subscribers, not yet settled.
pub const UNSETTLED: &str = "harbor_bus_unsettled";

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
        "Nacks of an envelope's last attempt, which the driver dead-letters."
    );
    describe_gauge!(
        UNSETTLED,
        "Deliveries held by this process's subscribers, not yet acked or nacked."
    );
}

/// A bus whose publishes, deliveries and settlements are counted.
pub struct MeteredBus {
    inner: Arc<dyn MessageBus>,
    driver: String,
    published: Counter,
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
        }
    }
}

/// One subscription's handles.
struct GroupMeters {
    delivered: Counter,
    redelivered: Counter,
    acked: Counter,
    nacked: Counter,
    dead_lettered: Counter,
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
            dead_lettered: counter!(DEAD_LETTERED_TOTAL, &labels),
            unsettled: gauge!(UNSETTLED, &labels),
            max_attempts: options.max_attempts,
        });
        let inner = self.inner.subscribe(options).await?;
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

    async fn close(&self) -> Result<(), Error> {
        self.inner.close().await
    }
}

/// Settles through the driver's own settling half and counts the outcome.
struct MeteredAcker {
    settle: Mutex<Option<Settle>>,
    meters: Arc<GroupMeters>,
}

impl MeteredAcker {
    fn take(&self) -> Result<Settle, Error> {
        self.settle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| Error::DeliveryExpired("the delivery was already settled".into()))
    }
}

#[async_trait]
impl Acknowledger for MeteredAcker {
    async fn ack(&self) -> Result<(), Error> {
        let settle = self.take()?;
        self.meters.unsettled.decrement(1.0);
        let result = settle.ack().await;
        if result.is_ok() {
            self.meters.acked.increment(1);
        }
        result
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let settle = self.take()?;
        self.meters.unsettled.decrement(1.0);
        let last = settle.attempt() >= self.meters.max_attempts;
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
        let unsettled = self
            .settle
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        if unsettled {
            self.meters.unsettled.decrement(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;
    use crate::memory::{MemoryBus, MemoryBusConfig};
    use crate::{Identity, IdentityScope};

    const WAIT: Duration = Duration::from_secs(5);

    fn envelope(id: &str) -> Envelope {
        let who = Identity::new("t", "u", "s").expect("identity");
        Envelope::new("jobs.run", who, id, "x")
    }

    async fn next(sub: &mut Subscription) -> Delivery {
        match tokio::time::timeout(WAIT, sub.next()).await {
            Ok(Some(Ok(d))) => d,
            other => panic!("expected a delivery, got {other:?}"),
        }
    }

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    }

    #[tokio::test]
    async fn publishes_deliveries_and_settlements_are_counted_per_driver_and_group() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // The handles are taken while this thread's recorder is set; the test's runtime
        // is single-threaded, so everything after runs here too.
        let _local = metrics::set_default_local_recorder(&recorder);
        let bus = MeteredBus::new(
            Arc::new(MemoryBus::new(MemoryBusConfig::default())),
            "memory",
        );
        let options =
            SubscribeOptions::new(["jobs.*"], "workers", IdentityScope::Tenant("t".into()))
                .max_attempts(2);
        let mut sub = bus.subscribe(options).await.expect("subscribe");

        bus.publish(envelope("e1")).await.expect("publish");
        next(&mut sub)
            .await
            .nack(Duration::ZERO)
            .await
            .expect("nack 1");
        let second = next(&mut sub).await;
        assert_eq!(second.attempt(), 2);
        let held = handle.render();
        second
            .nack_with_reason(Duration::ZERO, "no")
            .await
            .expect("nack 2");
        bus.publish(envelope("e2")).await.expect("publish");
        next(&mut sub).await.ack().await.expect("ack");

        let group = r#"{driver="memory",group="workers"}"#;
        let text = handle.render();
        let at = |name: &str| sample(&text, &format!("{name}{group}"));
        assert_eq!(
            sample(&held, &format!("{UNSETTLED}{group}")),
            Some(1.0),
            "{held}"
        );
        assert_eq!(
            sample(&text, r#"harbor_bus_published_total{driver="memory"}"#),
            Some(2.0),
            "{text}"
        );
        assert_eq!(at(DELIVERED_TOTAL), Some(3.0), "{text}");
        assert_eq!(at(REDELIVERED_TOTAL), Some(1.0), "{text}");
        assert_eq!(at(NACKED_TOTAL), Some(2.0), "{text}");
        assert_eq!(at(DEAD_LETTERED_TOTAL), Some(1.0), "{text}");
        assert_eq!(at(ACKED_TOTAL), Some(1.0), "{text}");
        assert_eq!(at(UNSETTLED), Some(0.0), "{text}");
    }

    #[tokio::test]
    async fn a_delivery_dropped_unsettled_leaves_the_gauge() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _local = metrics::set_default_local_recorder(&recorder);
        let bus = MeteredBus::new(
            Arc::new(MemoryBus::new(MemoryBusConfig::default())),
            "memory",
        );
        let options = SubscribeOptions::new(["jobs.*"], "g", IdentityScope::Tenant("t".into()));
        let mut sub = bus.subscribe(options).await.expect("subscribe");
        bus.publish(envelope("e1")).await.expect("publish");
        drop(next(&mut sub).await);
        let text = handle.render();
        assert_eq!(
            sample(&text, r#"harbor_bus_unsettled{driver="memory",group="g"}"#),
            Some(0.0),
            "{text}"
        );
    }
}
