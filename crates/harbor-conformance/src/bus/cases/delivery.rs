//! Envelopes arrive whole, on the right edges only.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::future::join_all;
use harbor_distributed::{Envelope, IdentityScope, SubscribeOptions};

use crate::bus::BusFactory;
use crate::bus::support::{Collector, Ctx, assert_ids, event_id};

/// Seed: a subscriber gets what is published on its edge, and can ack it.
pub async fn delivers_to_subscribers(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("orders.created");
    let sub = ctx.subscribe(ctx.options(&[&edge], "g")).await;
    let collector = Collector::spawn("subscriber", sub);
    for i in 0..10 {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    collector.wait_distinct(10).await;
    ctx.close().await;
    let seen = collector.finish().await;
    assert_ids("subscriber", &seen, (0..10).map(event_id));
    for s in &seen {
        let n: usize = s.envelope.event_id["ev-".len()..]
            .parse()
            .unwrap_or(usize::MAX);
        assert_eq!(
            s.envelope.payload.as_ref(),
            n.to_string().as_bytes(),
            "payload of {}",
            s.envelope.event_id
        );
    }
}

/// Watermill `TestPublishSubscribe`: 100 envelopes with payload, headers and the other
/// fields arrive identical to what was published.
pub async fn payload_and_headers_exact(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("exact");
    let collector = Collector::spawn(
        "subscriber",
        ctx.subscribe(ctx.options(&[&edge], "g")).await,
    );
    let mut published = HashMap::new();
    for i in 0..100 {
        let mut env = ctx
            .envelope(&edge, i)
            .with_header("test", i.to_string())
            .with_header("traceparent", format!("00-{:032x}-{:016x}-01", i, i));
        env.source = "conformance.source".into();
        env.target = if i % 2 == 0 {
            "".into()
        } else {
            "agent-b".into()
        };
        env.meta.insert("kind".into(), "exact".into());
        env.payload = Bytes::from(format!("payload number {i}").into_bytes());
        env.timestamp =
            SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000 + i as u64, 123_456_789);
        published.insert(env.event_id.clone(), env.clone());
        ctx.publish(env).await;
    }
    collector.wait_distinct(100).await;
    ctx.close().await;
    let seen = collector.finish().await;
    for s in &seen {
        let Some(want) = published.get(&s.envelope.event_id) else {
            panic!("unexpected envelope {}", s.envelope.event_id);
        };
        assert_eq!(
            &*s.envelope, want,
            "envelope {} changed in transit",
            want.event_id
        );
    }
}

/// Gap (g): headers, identity (with run) and payload round-trip byte-exact, including
/// non-ASCII text, every byte value and an empty payload.
pub async fn round_trip_byte_exact(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("bytes");
    let collector = Collector::spawn(
        "subscriber",
        ctx.subscribe(ctx.options(&[&edge], "g")).await,
    );
    let mut identity = ctx.identity("a");
    identity.user = "ユーザー-ü".into();
    identity.session = "séance-✓".into();
    identity.run = Some("run-🚀-1".into());
    let every_byte: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let payloads = [
        Bytes::new(),
        Bytes::from(every_byte),
        Bytes::from("héllo wörld — 你好 — 🙂".as_bytes().to_vec()),
        Bytes::from(vec![0u8; 4096]),
    ];
    let mut published = HashMap::new();
    for (i, payload) in payloads.into_iter().enumerate() {
        let mut env = Envelope::new(edge.as_str(), identity.clone(), event_id(i), payload)
            .with_task(format!("tâche-{}", ctx.ns.id()))
            .with_header("ключ", "значение 🚀")
            .with_header("empty", "")
            .with_header("spaces and\ttabs", "  padded  ")
            .with_header("x-ascii", "plain");
        env.meta = BTreeMap::from([("méta".to_owned(), "ß∂ƒ".to_owned())]);
        env.source = "sourcé".into();
        published.insert(env.event_id.clone(), env.clone());
        ctx.publish(env).await;
    }
    collector.wait_distinct(published.len()).await;
    ctx.close().await;
    for s in collector.finish().await {
        let Some(want) = published.get(&s.envelope.event_id) else {
            panic!("unexpected envelope {}", s.envelope.event_id);
        };
        assert_eq!(
            s.envelope.payload, want.payload,
            "payload of {}",
            want.event_id
        );
        assert_eq!(
            s.envelope.identity, want.identity,
            "identity of {}",
            want.event_id
        );
        assert_eq!(
            s.envelope.headers, want.headers,
            "headers of {}",
            want.event_id
        );
        assert_eq!(&*s.envelope, want, "envelope {}", want.event_id);
    }
}

/// Watermill `TestTopic`: a subscription sees only its own edges; patterns match per the
/// edge rules.
pub async fn edge_isolation(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let (a, b, deep) = (ctx.edge("iso.a"), ctx.edge("iso.b"), ctx.edge("iso.a.deep"));
    let star = format!("{}.iso.*", ctx.ns.prefix());
    let all = format!("{}.>", ctx.ns.prefix());
    let on_a = Collector::spawn("sub on a", ctx.subscribe(ctx.options(&[&a], "ga")).await);
    let on_b = Collector::spawn("sub on b", ctx.subscribe(ctx.options(&[&b], "gb")).await);
    let on_star = Collector::spawn(
        "sub on iso.*",
        ctx.subscribe(ctx.options(&[&star], "gs")).await,
    );
    let on_all = Collector::spawn(
        "sub on >",
        ctx.subscribe(ctx.options(&[&all], "gall")).await,
    );
    ctx.publish(ctx.envelope(&a, 1)).await;
    ctx.publish(ctx.envelope(&b, 2)).await;
    ctx.publish(ctx.envelope(&deep, 3)).await;
    on_all.wait_distinct(3).await;
    on_a.wait_distinct(1).await;
    on_b.wait_distinct(1).await;
    on_star.wait_distinct(2).await;
    ctx.close().await;
    assert_ids("sub on a", &on_a.finish().await, [event_id(1)]);
    assert_ids("sub on b", &on_b.finish().await, [event_id(2)]);
    assert_ids(
        "sub on iso.*",
        &on_star.finish().await,
        [event_id(1), event_id(2)],
    );
    assert_ids("sub on >", &on_all.finish().await, (1..=3).map(event_id));
}

/// Watermill `TestConcurrentSubscribeMultipleTopics`: 20 edges subscribed and published
/// concurrently; each subscription gets exactly its edge's 50 envelopes.
pub async fn multiple_edges_concurrently(factory: &dyn BusFactory) {
    const EDGES: usize = 20;
    const EACH: usize = 50;
    let ctx = Arc::new(Ctx::open(factory).await);
    let edges: Vec<String> = (0..EDGES)
        .map(|e| ctx.edge(&format!("multi.e{e}")))
        .collect();
    let subs = join_all(edges.iter().enumerate().map(|(e, edge)| {
        let ctx = Arc::clone(&ctx);
        let options = SubscribeOptions::new(
            [edge.clone()],
            ctx.group(&format!("g{e}")),
            IdentityScope::Tenant(ctx.tenant("a")),
        );
        async move { ctx.subscribe(options).await }
    }))
    .await;
    let collectors: Vec<Collector> = subs
        .into_iter()
        .enumerate()
        .map(|(e, sub)| Collector::spawn(&format!("sub on edge {e}"), sub))
        .collect();
    let publishers = edges.iter().enumerate().map(|(e, edge)| {
        let ctx = Arc::clone(&ctx);
        let edge = edge.clone();
        tokio::spawn(async move {
            for i in 0..EACH {
                ctx.publish(ctx.envelope(&edge, e * 1000 + i)).await;
            }
        })
    });
    for result in join_all(publishers).await {
        if let Err(error) = result {
            panic!("a publisher failed: {error}");
        }
    }
    for c in &collectors {
        c.wait_distinct(EACH).await;
    }
    ctx.close().await;
    for (e, c) in collectors.into_iter().enumerate() {
        let seen = c.finish().await;
        assert_ids(
            &format!("sub on edge {e}"),
            &seen,
            (0..EACH).map(|i| event_id(e * 1000 + i)),
        );
        assert!(
            seen.iter().all(|s| *s.envelope.edge == *edges[e]),
            "edge {e} saw a foreign edge"
        );
    }
}
