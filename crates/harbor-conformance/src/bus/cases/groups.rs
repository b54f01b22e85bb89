//! Concurrency, consumer groups and the in-flight bound.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::join_all;

use crate::bus::BusFactory;
use crate::bus::support::{Collector, Ctx, assert_ids, counts, event_id, within};

async fn publish_concurrently(ctx: &Arc<Ctx>, edge: &str, publishers: usize, each: usize) {
    let tasks = (0..publishers).map(|p| {
        let (ctx, edge) = (Arc::clone(ctx), edge.to_owned());
        tokio::spawn(async move {
            for i in 0..each {
                ctx.publish(ctx.envelope(&edge, p * each + i)).await;
            }
        })
    });
    for result in join_all(tasks).await {
        if let Err(error) = result {
            panic!("a publisher failed: {error}");
        }
    }
}

/// Seed: 128 concurrent publishers, nothing lost.
pub async fn concurrent_publishers_lose_nothing(factory: &dyn BusFactory) {
    const PUBLISHERS: usize = 128;
    const EACH: usize = 20;
    let ctx = Arc::new(Ctx::open(factory).await);
    let edge = ctx.edge("many");
    let collector = Collector::spawn(
        "subscriber",
        ctx.subscribe(ctx.options(&[&edge], "g")).await,
    );
    publish_concurrently(&ctx, &edge, PUBLISHERS, EACH).await;
    collector.wait_distinct(PUBLISHERS * EACH).await;
    ctx.close().await;
    assert_ids(
        "subscriber",
        &collector.finish().await,
        (0..PUBLISHERS * EACH).map(event_id),
    );
}

/// Watermill `TestConcurrentSubscribe`: 50 publishers and 50 competing subscribers of one
/// group; together they receive everything.
pub async fn concurrent_subscribe(factory: &dyn BusFactory) {
    const N: usize = 50;
    const EACH: usize = 20;
    let ctx = Arc::new(Ctx::open(factory).await);
    let edge = ctx.edge("compete");
    let subs = join_all((0..N).map(|_| {
        let ctx = Arc::clone(&ctx);
        let options = ctx.options(&[&edge], "g");
        async move { ctx.subscribe(options).await }
    }))
    .await;
    let collectors: Vec<Collector> = subs
        .into_iter()
        .enumerate()
        .map(|(i, sub)| Collector::spawn(&format!("member {i}"), sub))
        .collect();
    publish_concurrently(&ctx, &edge, N, EACH).await;
    let all = || {
        collectors
            .iter()
            .flat_map(|c| c.distinct())
            .collect::<HashSet<_>>()
            .len()
    };
    within("the members to receive everything", async {
        while all() < N * EACH {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    ctx.close().await;
    let mut seen = Vec::new();
    for c in collectors {
        seen.extend(c.finish().await);
    }
    assert_ids("the group", &seen, (0..N * EACH).map(event_id));
}

/// Watermill `TestConsumerGroups`: two groups on one edge each receive everything.
pub async fn consumer_groups_each_get_all(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("fanout");
    let one = Collector::spawn(
        "group one",
        ctx.subscribe(ctx.options(&[&edge], "one")).await,
    );
    let two = Collector::spawn(
        "group two",
        ctx.subscribe(ctx.options(&[&edge], "two")).await,
    );
    for i in 0..50 {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    one.wait_distinct(50).await;
    two.wait_distinct(50).await;
    ctx.close().await;
    assert_ids("group one", &one.finish().await, (0..50).map(event_id));
    assert_ids("group two", &two.finish().await, (0..50).map(event_id));
}

/// Members of one group share the work: each gets some, none gets an envelope another
/// already had, and together they get everything.
pub async fn group_members_share_without_loss(factory: &dyn BusFactory) {
    const N: usize = 150;
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("share");
    let mut members = Vec::new();
    for m in 0..3 {
        let options = ctx.options(&[&edge], "workers").max_in_flight(2);
        let sub = ctx.subscribe(options).await;
        members.push(Collector::spawn_with(
            &format!("member {m}"),
            sub,
            Duration::from_millis(2),
        ));
    }
    for i in 0..N {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    within("the members to receive everything", async {
        loop {
            let all: HashSet<String> = members.iter().flat_map(|c| c.distinct()).collect();
            if all.len() >= N {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    ctx.close().await;
    let mut seen = Vec::new();
    for (m, c) in members.into_iter().enumerate() {
        let mine = c.finish().await;
        assert!(
            !mine.is_empty(),
            "member {m} got no work: the group does not share"
        );
        seen.extend(mine);
    }
    assert_ids("the group", &seen, (0..N).map(event_id));
    let redelivered: Vec<_> = seen
        .iter()
        .filter(|s| s.attempt != 1)
        .map(|s| &s.envelope.event_id)
        .collect();
    assert!(
        redelivered.is_empty(),
        "redeliveries without any failure: {redelivered:?}"
    );
    let twice: Vec<_> = counts(&seen).into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(
        twice.is_empty(),
        "envelopes delivered to more than one member: {twice:?}"
    );
}

/// Gap (f): with a slow consumer, the deliveries held unsettled never exceed
/// `max_in_flight`, and everything is still processed.
pub async fn in_flight_bound_holds(factory: &dyn BusFactory) {
    const LIMIT: usize = 4;
    const N: usize = 40;
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("bounded");
    let mut sub = ctx
        .subscribe(ctx.options(&[&edge], "g").max_in_flight(LIMIT))
        .await;
    for i in 0..N {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    let held = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..N {
        let delivery = crate::bus::support::next(&mut sub, "next delivery under the bound").await;
        let now = held.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        let held = Arc::clone(&held);
        workers.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            // Counted out before the ack: after it, the bus may hand out the next one.
            held.fetch_sub(1, Ordering::SeqCst);
            delivery.ack().await
        }));
    }
    for result in join_all(workers).await {
        match result {
            Ok(Ok(())) => {}
            other => panic!("a slow worker's ack failed: {other:?}"),
        }
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        peak <= LIMIT,
        "{peak} deliveries were held at once; max_in_flight is {LIMIT}"
    );
    ctx.close().await;
}
