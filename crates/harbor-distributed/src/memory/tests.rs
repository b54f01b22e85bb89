//! Memory-bus behaviour the shared conformance suite cannot configure: buffer sizes, drain
//! timeouts, internal accounting.

use std::time::{Duration, Instant};

use super::{MemoryBus, MemoryBusConfig};
use crate::{
    Envelope, Error, Identity, IdentityScope, MessageBus, StartPosition, SubscribeOptions,
    Subscription,
};

const WAIT: Duration = Duration::from_secs(5);

fn identity() -> Identity {
    Identity::new("t", "u", "s").expect("identity")
}

fn envelope(edge: &str, id: usize) -> Envelope {
    Envelope::new(edge, identity(), format!("e{id}"), vec![id as u8])
}

fn options(edge: &str, group: &str) -> SubscribeOptions {
    SubscribeOptions::new([edge], group, IdentityScope::Tenant("t".into()))
}

async fn next(sub: &mut Subscription) -> crate::Delivery {
    match tokio::time::timeout(WAIT, sub.next()).await {
        Ok(Some(Ok(d))) => d,
        other => panic!("expected a delivery, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_group_makes_publish_wait_until_an_ack() {
    let bus = MemoryBus::new(MemoryBusConfig {
        group_buffer: 2,
        ..MemoryBusConfig::default()
    });
    let mut sub = bus.subscribe(options("a.b", "g")).await.expect("subscribe");
    bus.publish(envelope("a.b", 1)).await.expect("publish 1");
    bus.publish(envelope("a.b", 2)).await.expect("publish 2");
    let third = bus.publish(envelope("a.b", 3));
    tokio::pin!(third);
    assert!(
        futures::poll!(third.as_mut()).is_pending(),
        "publish into a full group returned"
    );
    // Delivering does not make room; only settling does.
    let first = next(&mut sub).await;
    assert!(
        futures::poll!(third.as_mut()).is_pending(),
        "a delivery made room before it was settled"
    );
    first.ack().await.expect("ack");
    let receipt = tokio::time::timeout(WAIT, third)
        .await
        .expect("publish still waiting after an ack")
        .expect("publish 3");
    assert_eq!(receipt.sequence, Some(3));
    for want in [2u8, 3] {
        let d = next(&mut sub).await;
        assert_eq!(d.envelope().payload.as_ref(), &[want]);
        d.ack().await.expect("ack");
    }
    bus.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_publishers_fail_with_closed_when_the_bus_closes() {
    let bus = MemoryBus::new(MemoryBusConfig {
        group_buffer: 1,
        drain_timeout: Duration::from_millis(100),
        ..MemoryBusConfig::default()
    });
    let _sub = bus.subscribe(options("a.b", "g")).await.expect("subscribe");
    bus.publish(envelope("a.b", 1)).await.expect("publish 1");
    let blocked = bus.publish(envelope("a.b", 2));
    tokio::pin!(blocked);
    assert!(
        futures::poll!(blocked.as_mut()).is_pending(),
        "the group was not full"
    );
    let (closed, result) = tokio::time::timeout(WAIT, async { tokio::join!(bus.close(), blocked) })
        .await
        .expect("close or the blocked publish hung");
    closed.expect("close");
    assert!(matches!(result, Err(Error::Closed)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settling_after_the_lease_expired_is_refused() {
    let bus = MemoryBus::default();
    let opts = options("a.b", "g").visibility_timeout(Duration::from_millis(50));
    let mut sub = bus.subscribe(opts).await.expect("subscribe");
    bus.publish(envelope("a.b", 1)).await.expect("publish");
    let first = next(&mut sub).await;
    let second = next(&mut sub).await;
    assert_eq!(second.attempt(), 2);
    let late = first.ack().await;
    assert!(matches!(late, Err(Error::DeliveryExpired(_))), "{late:?}");
    second.ack().await.expect("ack of the live lease");
    bus.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_subscription_returns_its_unsent_batch_at_once() {
    let bus = MemoryBus::default();
    let mut first = bus.subscribe(options("a.b", "g")).await.expect("subscribe");
    for i in 0..10 {
        bus.publish(envelope("a.b", i)).await.expect("publish");
    }
    // The first subscription leases the whole batch but hands out only one delivery.
    let d = next(&mut first).await;
    d.ack().await.expect("ack");
    drop(first);
    let mut second = bus.subscribe(options("a.b", "g")).await.expect("subscribe");
    let started = Instant::now();
    for want in 1..10u8 {
        let d = next(&mut second).await;
        assert_eq!(d.envelope().payload.as_ref(), &[want]);
        assert_eq!(d.attempt(), 1, "an unsent delivery counted as an attempt");
        d.ack().await.expect("ack");
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "waited for a timeout"
    );
    bus.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_gives_up_after_the_drain_timeout() {
    let bus = MemoryBus::new(MemoryBusConfig {
        drain_timeout: Duration::from_millis(100),
        ..MemoryBusConfig::default()
    });
    let mut sub = bus.subscribe(options("a.b", "g")).await.expect("subscribe");
    bus.publish(envelope("a.b", 1)).await.expect("publish");
    let held = next(&mut sub).await;
    let started = Instant::now();
    tokio::time::timeout(WAIT, bus.close())
        .await
        .expect("close hung")
        .expect("close");
    assert!(started.elapsed() >= Duration::from_millis(90));
    assert!(matches!(held.ack().await, Err(Error::Closed)));
    assert!(sub.next().await.is_none(), "subscription outlived the bus");
}

#[tokio::test]
async fn groups_are_per_scope_and_keep_their_edges() {
    let bus = MemoryBus::default();
    let _a = bus.subscribe(options("a.b", "g")).await.expect("subscribe");
    let other_edges = bus.subscribe(options("a.c", "g")).await;
    assert!(matches!(other_edges, Err(Error::InvalidArgument(_))));
    let other_scope = SubscribeOptions::new(["a.c"], "g", IdentityScope::Tenant("u".into()));
    bus.subscribe(other_scope)
        .await
        .expect("same name, other tenant");
    let replay = options("x.y", "h").start(StartPosition::Earliest);
    assert!(matches!(
        bus.subscribe(replay).await,
        Err(Error::InvalidArgument(_))
    ));
    bus.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_bus_ends_subscriptions() {
    let bus = MemoryBus::default();
    let mut sub = bus.subscribe(options("a.b", "g")).await.expect("subscribe");
    drop(bus);
    let end = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("still open");
    assert!(end.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_never_has_leases_expire_in_its_batch() {
    let bus = MemoryBus::default();
    let opts = options("a.b", "g").visibility_timeout(Duration::from_millis(200));
    let mut sub = bus.subscribe(opts).await.expect("subscribe");
    // Fast first, so the batch grows; then slow, so leases would expire in a large batch.
    for i in 0..40 {
        bus.publish(envelope("a.b", i)).await.expect("publish");
    }
    for _ in 0..20 {
        next(&mut sub).await.ack().await.expect("fast ack");
    }
    for i in 0..10 {
        bus.publish(envelope("a.b", 100 + i))
            .await
            .expect("publish");
    }
    for n in 0..15 {
        let d = next(&mut sub).await;
        assert_eq!(
            d.attempt(),
            1,
            "delivery {n} of the slow phase was a redelivery"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        d.ack().await.expect("a slow ack must still hold its lease");
    }
    // The rest stays unread: without a subscriber, close need not wait for it.
    drop(sub);
    bus.close().await.expect("close");
}
