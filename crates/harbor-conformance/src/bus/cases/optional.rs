//! Cases that run only where the driver declares the capability.

use std::collections::BTreeMap;
use std::time::Duration;

use harbor_distributed::bus::dead_letter;
use harbor_distributed::{IdentityScope, StartPosition, SubscribeOptions};

use super::SHORT_VISIBILITY;
use crate::bus::BusFactory;
use crate::bus::support::{Collector, Ctx, ack_error, assert_ids, event_id, expect_end, next};

fn dead_letter_watcher(ctx: &Ctx, group: &str) -> SubscribeOptions {
    let pattern = format!("{}.{}.>", dead_letter::PREFIX, group);
    SubscribeOptions::new(
        [pattern],
        ctx.group("dlq"),
        IdentityScope::Tenant(ctx.tenant("a")),
    )
}

fn header<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    match headers.get(name) {
        Some(v) => v,
        None => panic!("the dead letter lacks the header {name:?}; headers: {headers:?}"),
    }
}

/// Gap (d), capability `dead_letter`: after `max_attempts` nacks the envelope moves to
/// `dead-letter.<group>.<edge>` with the last reason and the attempt count, and leaves its
/// group.
pub async fn dead_letter_with_reason_and_count(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    if !ctx.requires(
        ctx.caps.dead_letter,
        "dead_letter",
        "dead_letter_with_reason_and_count",
    ) {
        return ctx.close().await;
    }
    let edge = ctx.edge("poison");
    let group = ctx.group("g");
    let dlq = Collector::spawn(
        "dead-letter subscriber",
        ctx.subscribe(dead_letter_watcher(&ctx, &group)).await,
    );
    let mut sub = ctx
        .subscribe(ctx.options(&[&edge], "g").max_attempts(3))
        .await;
    let original = ctx.envelope(&edge, 1).with_header("keep", "me");
    ctx.publish(original.clone()).await;
    for attempt in 1..=3 {
        let d = next(
            &mut sub,
            &format!("delivery {attempt} of the poison envelope"),
        )
        .await;
        assert_eq!(d.attempt(), attempt);
        ack_error(
            "nack",
            d.nack_with_reason(Duration::ZERO, format!("boom {attempt}"))
                .await,
        );
    }
    dlq.wait_distinct(1).await;
    ctx.close().await;
    expect_end(
        &mut sub,
        "the group after dead-lettering (no fourth delivery)",
    )
    .await;
    let seen = dlq.finish().await;
    assert_eq!(
        seen.len(),
        1,
        "expected one dead letter, got {}",
        seen.len()
    );
    let letter = &seen[0].envelope;
    assert_eq!(
        &*letter.edge,
        dead_letter::edge(&group, &edge),
        "dead-letter edge"
    );
    assert_eq!(header(&letter.headers, dead_letter::REASON), "boom 3");
    assert_eq!(header(&letter.headers, dead_letter::ATTEMPTS), "3");
    assert_eq!(header(&letter.headers, dead_letter::ORIGINAL_EDGE), edge);
    assert_eq!(header(&letter.headers, dead_letter::GROUP), group);
    assert_eq!(header(&letter.headers, "keep"), "me");
    assert_eq!(letter.payload, original.payload);
    assert_eq!(letter.identity, original.identity);
    assert_eq!(letter.event_id, original.event_id);
}

/// Gap (d), capability `dead_letter`: deliveries that time out count as attempts too.
pub async fn dead_letter_after_timeouts(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    if !ctx.requires(
        ctx.caps.dead_letter,
        "dead_letter",
        "dead_letter_after_timeouts",
    ) {
        return ctx.close().await;
    }
    let edge = ctx.edge("stuck");
    let group = ctx.group("g");
    let dlq = Collector::spawn(
        "dead-letter subscriber",
        ctx.subscribe(dead_letter_watcher(&ctx, &group)).await,
    );
    let options = ctx
        .options(&[&edge], "g")
        .max_attempts(2)
        .visibility_timeout(SHORT_VISIBILITY);
    let mut sub = ctx.subscribe(options).await;
    ctx.publish(ctx.envelope(&edge, 1)).await;
    for attempt in 1..=2 {
        let d = next(&mut sub, &format!("delivery {attempt}, left to time out")).await;
        assert_eq!(d.attempt(), attempt);
        drop(d);
    }
    dlq.wait_distinct(1).await;
    ctx.close().await;
    expect_end(
        &mut sub,
        "the group after dead-lettering (no third delivery)",
    )
    .await;
    let seen = dlq.finish().await;
    assert_eq!(
        seen.len(),
        1,
        "expected one dead letter, got {}",
        seen.len()
    );
    let headers = &seen[0].envelope.headers;
    assert_eq!(header(headers, dead_letter::ATTEMPTS), "2");
    assert!(
        !header(headers, dead_letter::REASON).is_empty(),
        "the reason is empty"
    );
}

/// Gap (b), capability `publish_dedup`: the same `(task_id, edge, event_id)` published
/// twice is stored once, and the second receipt says so.
pub async fn publish_dedup(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    if !ctx.requires(ctx.caps.publish_dedup, "publish_dedup", "publish_dedup") {
        return ctx.close().await;
    }
    let edge = ctx.edge("dedup");
    let collector = Collector::spawn(
        "subscriber",
        ctx.subscribe(ctx.options(&[&edge], "g")).await,
    );
    let first = ctx.publish(ctx.envelope(&edge, 1)).await;
    let second = ctx.publish(ctx.envelope(&edge, 1)).await;
    assert!(
        !first.duplicate,
        "the first publish was reported as a duplicate"
    );
    assert!(
        second.duplicate,
        "the second publish of the same key was not recognised"
    );
    ctx.publish(ctx.envelope(&edge, 2)).await;
    collector.wait_distinct(2).await;
    ctx.close().await;
    let seen = collector.finish().await;
    let copies = seen
        .iter()
        .filter(|s| s.envelope.event_id == event_id(1))
        .count();
    assert_eq!(
        copies, 1,
        "a deduplicated envelope was delivered {copies} times"
    );
}

/// Gap (i), capability `ordered_per_edge`: one subscriber gets each edge's envelopes in
/// publish order (16 edges, interleaved).
pub async fn per_edge_order_single_subscriber(factory: &dyn BusFactory) {
    const EDGES: usize = 16;
    const N: usize = 800;
    let ctx = Ctx::open(factory).await;
    if !ctx.requires(
        ctx.caps.ordered_per_edge,
        "ordered_per_edge",
        "per_edge_order_single_subscriber",
    ) {
        return ctx.close().await;
    }
    let pattern = format!("{}.order.*", ctx.ns.prefix());
    let collector = Collector::spawn(
        "subscriber",
        ctx.subscribe(ctx.options(&[&pattern], "g")).await,
    );
    for i in 0..N {
        ctx.publish(ctx.envelope(&ctx.edge(&format!("order.t{}", i % EDGES)), i))
            .await;
    }
    collector.wait_distinct(N).await;
    ctx.close().await;
    let seen = collector.finish().await;
    let mut last: BTreeMap<&str, &str> = BTreeMap::new();
    for s in &seen {
        let (edge, id) = (&*s.envelope.edge, s.envelope.event_id.as_str());
        if let Some(prev) = last.insert(edge, id) {
            assert!(
                prev < id,
                "on {edge}, {id} arrived after {prev}: order per edge broken"
            );
        }
    }
}

/// Capability `replay`: a new group starting at `Earliest` gets what was published before
/// it existed; one starting at `New` does not.
pub async fn replay_from_earliest(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    if !ctx.requires(ctx.caps.replay, "replay", "replay_from_earliest") {
        return ctx.close().await;
    }
    let edge = ctx.edge("history");
    for i in 0..10 {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    let old = ctx.options(&[&edge], "late").start(StartPosition::Earliest);
    let old = Collector::spawn("group from Earliest", ctx.subscribe(old).await);
    let new = ctx.options(&[&edge], "fresh").start(StartPosition::New);
    let new = Collector::spawn("group from New", ctx.subscribe(new).await);
    ctx.publish(ctx.envelope(&edge, 10)).await;
    old.wait_distinct(11).await;
    new.wait_distinct(1).await;
    ctx.close().await;
    assert_ids(
        "group from Earliest",
        &old.finish().await,
        (0..11).map(event_id),
    );
    assert_ids("group from New", &new.finish().await, [event_id(10)]);
}
