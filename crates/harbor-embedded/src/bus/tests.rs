//! Restarts, retention and the backlog of the embedded bus.

use std::sync::Arc;
use std::time::Duration;

use harbor_distributed::{
    Envelope, Identity, IdentityScope, MessageBus, StartPosition, SubscribeOptions, Subscription,
};

use crate::{Embedded, EmbeddedBusConfig, EmbeddedConfig};

fn envelope(id: &str) -> Envelope {
    let identity = Identity::new("acme", "ada", "s").expect("identity");
    Envelope::new("t.e", identity, id, id.as_bytes().to_vec())
}

fn options(group: &str) -> SubscribeOptions {
    SubscribeOptions::new(["t.>"], group, IdentityScope::Admin).start(StartPosition::Earliest)
}

async fn next(sub: &mut Subscription) -> harbor_distributed::Delivery {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a delivery in time")
        .expect("not ended")
        .expect("no error")
}

fn open(dir: &std::path::Path, bus: EmbeddedBusConfig) -> Embedded {
    Embedded::open(EmbeddedConfig {
        bus,
        ..EmbeddedConfig::new(dir)
    })
    .expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsettled_deliveries_come_back_after_a_restart_with_their_attempts() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let engine = open(dir.path(), EmbeddedBusConfig::default());
        let bus = engine.bus();
        let mut sub = bus.subscribe(options("g")).await.expect("subscribe");
        for id in ["a", "b", "c", "d"] {
            bus.publish(envelope(id)).await.expect("publish");
        }
        let a = next(&mut sub).await;
        a.ack().await.expect("ack a");
        let b = next(&mut sub).await;
        b.nack(Duration::ZERO).await.expect("nack b");
        let b = next(&mut sub).await;
        assert_eq!((b.envelope().event_id.as_str(), b.attempt()), ("b", 2));
        let c = next(&mut sub).await;
        assert_eq!(c.envelope().event_id, "c");
        // b (2 deliveries) and c (1) stay unsettled; d was never delivered.
        drop((b, c, sub));
        bus.close().await.expect("close");
    }
    let engine = open(dir.path(), EmbeddedBusConfig::default());
    let bus = engine.bus();
    let mut sub = bus.subscribe(options("g")).await.expect("resubscribe");
    let mut got = Vec::new();
    for _ in 0..3 {
        let d = next(&mut sub).await;
        got.push((d.envelope().event_id.clone(), d.attempt()));
        d.ack().await.expect("ack");
    }
    got.sort();
    assert_eq!(
        got,
        [("b".into(), 3), ("c".into(), 2), ("d".into(), 1)],
        "a was acked; b and c continue their attempt counters"
    );
    let receipt = bus.publish(envelope("a")).await.expect("republish");
    assert!(receipt.duplicate, "dedup survives the restart");
    bus.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_what_every_group_settled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EmbeddedBusConfig {
        retain_for: Duration::ZERO,
        retain_max: 0,
        prune_interval: Duration::from_millis(10),
        ..EmbeddedBusConfig::default()
    };
    let engine = open(dir.path(), config);
    let bus = engine.bus();
    let mut fast = bus.subscribe(options("fast")).await.expect("fast");
    let _slow = bus.subscribe(options("slow")).await.expect("slow");
    for i in 0..5 {
        bus.publish(envelope(&format!("e{i}")))
            .await
            .expect("publish");
    }
    for _ in 0..5 {
        next(&mut fast).await.ack().await.expect("ack");
    }
    // The slow group settled nothing: a late group still replays everything.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut late = bus.subscribe(options("late")).await.expect("late");
    assert_eq!(next(&mut late).await.envelope().event_id, "e0");
    drop((late, _slow, fast));
    bus.close().await.expect("close");
    drop((bus, engine));

    // Without the slow groups, everything but the newest entry goes.
    let engine = open(dir.path(), EmbeddedBusConfig::default());
    let db = Arc::clone(&engine.bus().shared.db);
    let remaining = super::retention::prune(&db, &config_zero(), 5, 5).expect("prune");
    assert_eq!(remaining, 4, "e0..e3 deleted, the newest kept");
    let receipt = engine.bus().publish(envelope("e0")).await.expect("publish");
    assert!(!receipt.duplicate, "the dedup key went with the entry");
    assert_eq!(receipt.sequence, Some(5), "numbering continues");
}

fn config_zero() -> EmbeddedBusConfig {
    EmbeddedBusConfig {
        retain_for: Duration::ZERO,
        retain_max: 0,
        ..EmbeddedBusConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_of_a_group_far_behind_is_counted_from_the_file_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A cache of two: the group's envelopes are only in the file by the time it is asked.
    let config = EmbeddedBusConfig {
        tail_cache: 2,
        ..EmbeddedBusConfig::default()
    };
    {
        let engine = open(dir.path(), config.clone());
        let bus = engine.bus();
        let mut sub = bus.subscribe(options("g")).await.expect("subscribe");
        for id in ["a", "b", "c", "d", "e", "f"] {
            bus.publish(envelope(id)).await.expect("publish");
        }
        let identity = Identity::new("acme", "ada", "s").expect("identity");
        for id in ["x", "y"] {
            let other = Envelope::new("u.e", identity.clone(), id, "not the group's");
            bus.publish(other).await.expect("publish");
        }
        assert_eq!(bus.backlog("g").await.expect("backlog"), Some(6));
        assert_eq!(bus.backlog("nobody").await.expect("backlog"), Some(0));
        next(&mut sub).await.ack().await.expect("ack");
        assert_eq!(bus.backlog("g").await.expect("backlog"), Some(5));
        drop(sub);
        bus.close().await.expect("close");
        assert!(
            bus.backlog("g").await.is_err(),
            "a closed bus answers Closed"
        );
    }
    let engine = open(dir.path(), config);
    assert_eq!(engine.bus().backlog("g").await.expect("backlog"), Some(5));
}
