//! Closing: refused intake, drained work, no leftover tasks.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use harbor_distributed::Error;
use tokio::runtime::Handle;

use crate::bus::BusFactory;
use crate::bus::support::{Collector, Ctx, assert_ids, event_id, expect_end, next, within};

/// Seed: after `close`, publish and subscribe fail with `Closed`; `close` is idempotent.
pub async fn publish_after_close_fails(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("closed");
    ctx.close().await;
    match ctx.bus.publish(ctx.envelope(&edge, 1)).await {
        Err(Error::Closed) => {}
        other => panic!("publish after close: expected Closed, got {other:?}"),
    }
    match ctx.bus.subscribe(ctx.options(&[&edge], "g")).await {
        Err(Error::Closed) => {}
        other => panic!(
            "subscribe after close: expected Closed, got {:?}",
            other.map(|_| ())
        ),
    }
    ctx.close().await;
}

/// Seed: after `close` returns, the bus leaves no tokio task alive in the runtime.
pub async fn close_leaks_no_tasks(factory: &dyn BusFactory) {
    let metrics = Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let ctx = Ctx::open(factory).await;
    let (a, b) = (ctx.edge("leak.a"), ctx.edge("leak.b"));
    let mut subs = Vec::new();
    for (i, edge) in [&a, &b].into_iter().enumerate() {
        let options = ctx
            .options(&[edge], &format!("g{i}"))
            .visibility_timeout(Duration::from_millis(300));
        subs.push(ctx.subscribe(options).await);
    }
    for i in 0..20 {
        ctx.publish(ctx.envelope(if i % 2 == 0 { &a } else { &b }, i))
            .await;
    }
    // Leave one delivery unsettled and one nacked with a long delay: timers are armed.
    let held = next(&mut subs[0], "first delivery on a").await;
    let nacked = next(&mut subs[1], "first delivery on b").await;
    if let Err(error) = nacked.nack(Duration::from_secs(60)).await {
        panic!("nack failed: {error}");
    }
    drop(held);
    let close = ctx.bus.close();
    let drained = join_all(subs.iter_mut().map(|sub| async move {
        while let Some(item) = sub.next().await {
            if let Ok(d) = item {
                let _ = d.ack().await;
            }
        }
    }));
    let (closed, _) = within("close while subscribers drain", async {
        tokio::join!(close, drained)
    })
    .await;
    if let Err(error) = closed {
        panic!("close failed: {error}");
    }
    drop(subs);
    let wait = async {
        loop {
            if metrics.num_alive_tasks() <= before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .is_err()
    {
        panic!(
            "{} tokio tasks still alive 5 s after close (there were {before} before the bus was opened)",
            metrics.num_alive_tasks()
        );
    }
}

/// Watermill `TestPublisherClose`: 1,000 envelopes from 20 concurrent publishers, then
/// `close`: every envelope whose publish returned reaches the live subscriber before its
/// subscription ends.
pub async fn publisher_close_delivers_all(factory: &dyn BusFactory) {
    const PUBLISHERS: usize = 20;
    const EACH: usize = 50;
    let ctx = Arc::new(Ctx::open(factory).await);
    let edge = ctx.edge("flush");
    let collector = Collector::spawn(
        "subscriber",
        ctx.subscribe(ctx.options(&[&edge], "g")).await,
    );
    let publishers = (0..PUBLISHERS).map(|p| {
        let (ctx, edge) = (Arc::clone(&ctx), edge.clone());
        tokio::spawn(async move {
            for i in 0..EACH {
                ctx.publish(ctx.envelope(&edge, p * EACH + i)).await;
            }
        })
    });
    for result in join_all(publishers).await {
        if let Err(error) = result {
            panic!("a publisher failed: {error}");
        }
    }
    ctx.close().await;
    let seen = collector.finish().await;
    assert_ids("subscriber", &seen, (0..PUBLISHERS * EACH).map(event_id));
}

/// Gap (e): `close` waits for a delivery in flight; its ack still succeeds; then the
/// subscription ends. Publishing while the bus drains is refused.
pub async fn close_drains_in_flight(factory: &dyn BusFactory) {
    let ctx = Arc::new(Ctx::open(factory).await);
    let edge = ctx.edge("drain");
    let mut sub = ctx.subscribe(ctx.options(&[&edge], "g")).await;
    ctx.publish(ctx.envelope(&edge, 1)).await;
    let held = next(&mut sub, "the delivery to hold").await;
    let close = tokio::spawn({
        let ctx = Arc::clone(&ctx);
        async move { ctx.bus.close().await }
    });
    // The consumer's work takes a while; close must not finish meanwhile.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !close.is_finished(),
        "close returned while a delivery was still in flight"
    );
    match ctx.bus.publish(ctx.envelope(&edge, 2)).await {
        Err(Error::Closed) => {}
        other => panic!("publish while closing: expected Closed, got {other:?}"),
    }
    if let Err(error) = held.ack().await {
        panic!("ack of the in-flight delivery during close failed: {error}");
    }
    match within("close after the last ack", close).await {
        Ok(Ok(())) => {}
        other => panic!("close failed: {other:?}"),
    }
    expect_end(&mut sub, "subscription after close").await;
}
