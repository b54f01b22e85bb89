//! The metered bus's series, read back from a Prometheus rendering.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;

use super::*;
use crate::kit;
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

/// A memory bus counted as driver `memory` (by the recorder set when it is called).
fn metered_memory_bus() -> MeteredBus {
    MeteredBus::new(
        Arc::new(MemoryBus::new(MemoryBusConfig::default())),
        "memory",
    )
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
    let bus = metered_memory_bus();
    let options = SubscribeOptions::new(["jobs.*"], "workers", IdentityScope::Tenant("t".into()))
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
    let dead = |cause: &str| {
        let series =
            format!(r#"{DEAD_LETTERED_TOTAL}{{driver="memory",group="workers",cause="{cause}"}}"#);
        sample(&text, &series)
    };
    assert_eq!(dead("nack"), Some(1.0), "{text}");
    assert_eq!(dead("timeout"), Some(0.0), "{text}");
    assert_eq!(at(ACKED_TOTAL), Some(1.0), "{text}");
    assert_eq!(at(UNSETTLED), Some(0.0), "{text}");
}

#[tokio::test]
async fn a_delivery_dropped_unsettled_leaves_the_gauge() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let bus = metered_memory_bus();
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

#[tokio::test]
async fn last_attempts_given_up_by_timeout_count_as_dead_letters() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let bus = metered_memory_bus();
    let options = SubscribeOptions::new(["jobs.*"], "g", IdentityScope::Tenant("t".into()))
        .max_attempts(2)
        .visibility_timeout(Duration::from_secs(1));
    let mut sub = bus.subscribe(options).await.expect("subscribe");
    bus.publish(envelope("dropped")).await.expect("publish");
    // Attempt 1 dropped: it comes back, nothing is dead yet.
    drop(next(&mut sub).await);
    let last = next(&mut sub).await;
    assert_eq!(last.attempt(), 2);
    let timeout = r#"harbor_bus_dead_lettered_total{driver="memory",group="g",cause="timeout"}"#;
    assert_eq!(sample(&handle.render(), timeout), Some(0.0));
    drop(last);
    assert_eq!(sample(&handle.render(), timeout), Some(1.0));

    bus.publish(envelope("late")).await.expect("publish");
    drop(next(&mut sub).await);
    let late = next(&mut sub).await;
    // Held past its visibility timeout: the bus dead-letters it, and the group owes nothing.
    let deadline = tokio::time::Instant::now() + WAIT;
    while bus.backlog("g").await.expect("backlog") != Some(0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let acked = late.ack().await;
    assert!(matches!(acked, Err(Error::DeliveryExpired(_))), "{acked:?}");
    let text = handle.render();
    assert_eq!(sample(&text, timeout), Some(2.0), "{text}");
    let group = r#"{driver="memory",group="g"}"#;
    assert_eq!(
        sample(&text, &format!("{ACKED_TOTAL}{group}")),
        Some(0.0),
        "{text}"
    );
}

#[tokio::test]
async fn consumer_lag_is_the_drivers_backlog_of_the_groups_subscribed_here() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let inner: Arc<dyn MessageBus> = Arc::new(MemoryBus::new(MemoryBusConfig::default()));
    let bus = MeteredBus::new(Arc::clone(&inner), "memory");
    let scope = IdentityScope::Tenant("t".into());
    let mut sub = bus
        .subscribe(SubscribeOptions::new(["jobs.*"], "workers", scope.clone()))
        .await
        .expect("subscribe");
    // A group of the same bus not subscribed through the wrapper: not reported.
    let _other = inner
        .subscribe(SubscribeOptions::new(["jobs.*"], "other", scope))
        .await
        .expect("subscribe");
    for id in ["e1", "e2", "e3"] {
        bus.publish(envelope(id)).await.expect("publish");
    }
    let lag = r#"harbor_bus_consumer_lag{driver="memory",group="workers"}"#;
    bus.record_consumer_lag(WAIT).await;
    let text = handle.render();
    assert_eq!(sample(&text, lag), Some(3.0), "{text}");
    assert!(!text.contains(r#"group="other""#), "{text}");

    // In flight still counts; an ack does not.
    let held = next(&mut sub).await;
    bus.record_consumer_lag(WAIT).await;
    assert_eq!(sample(&handle.render(), lag), Some(3.0));
    held.ack().await.expect("ack");
    bus.record_consumer_lag(WAIT).await;
    let text = handle.render();
    assert_eq!(sample(&text, lag), Some(2.0), "{text}");
    assert_eq!(bus.backlog("workers").await.expect("backlog"), Some(2));
}

/// A bus whose `backlog` answers as told: a number, an error, nothing ever, or "cannot
/// tell".
struct Scripted {
    inner: MemoryBus,
    answer: Mutex<Answer>,
}

#[derive(Clone, Copy)]
enum Answer {
    Lag(u64),
    Fail,
    Hang,
    Unknown,
}

#[async_trait]
impl MessageBus for Scripted {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        self.inner.publish(envelope).await
    }
    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        self.inner.subscribe(options).await
    }
    async fn backlog(&self, _group: &str) -> Result<Option<u64>, Error> {
        let answer = *kit::lock(&self.answer);
        match answer {
            Answer::Lag(n) => Ok(Some(n)),
            Answer::Fail => Err(Error::Backend {
                driver: "scripted",
                retryable: true,
                source: "the engine is down".into(),
            }),
            Answer::Hang => futures::future::pending().await,
            Answer::Unknown => Ok(None),
        }
    }
    async fn close(&self) -> Result<(), Error> {
        self.inner.close().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_lag_that_cannot_be_read_is_nan_never_stale_and_never_blocks() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let scripted = Arc::new(Scripted {
        inner: MemoryBus::new(MemoryBusConfig::default()),
        answer: Mutex::new(Answer::Unknown),
    });
    let bus = MeteredBus::new(Arc::clone(&scripted) as Arc<dyn MessageBus>, "scripted");
    let _sub = bus
        .subscribe(SubscribeOptions::new(
            ["jobs.*"],
            "g",
            IdentityScope::Tenant("t".into()),
        ))
        .await
        .expect("subscribe");
    let set = |answer| *kit::lock(&scripted.answer) = answer;
    let lag = r#"harbor_bus_consumer_lag{driver="scripted",group="g"}"#;
    let timeout = Duration::from_secs(1);

    bus.record_consumer_lag(timeout).await;
    let text = handle.render();
    assert!(
        !text.contains(CONSUMER_LAG),
        "a driver that cannot tell: {text}"
    );

    set(Answer::Lag(7));
    bus.record_consumer_lag(timeout).await;
    assert_eq!(sample(&handle.render(), lag), Some(7.0));

    for answer in [Answer::Fail, Answer::Hang, Answer::Unknown] {
        set(Answer::Lag(7));
        bus.record_consumer_lag(timeout).await;
        set(answer);
        let started = tokio::time::Instant::now();
        bus.record_consumer_lag(timeout).await;
        assert!(
            started.elapsed() <= timeout,
            "waited {:?}",
            started.elapsed()
        );
        let text = handle.render();
        let value = sample(&text, lag);
        assert!(value.is_some_and(f64::is_nan), "{text}");
    }
}
