//! The backlog Redis cannot tell, against the Redis named by `HARBOR_REDIS_URL`: a group
//! created at a sequence inside a stream has no `lag` until it has read to the stream's
//! end, and the driver says `None` rather than guess.

use std::time::Duration;

use harbor_distributed::{Envelope, Identity, IdentityScope, StartPosition, SubscribeOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_started_inside_a_stream_has_no_backlog_until_it_read_to_the_end() {
    let url = harbor_test_support::require!(redis);
    let bus = harbor_test_support::redis::purging_bus(&url).await;
    let who = Identity::new("acme", "ada", "s").expect("identity");
    let mut sequences = Vec::new();
    for id in ["1", "2", "3", "4"] {
        let receipt = bus
            .publish(Envelope::new("orders.new", who.clone(), id, "x"))
            .await
            .expect("publish");
        sequences.push(receipt.sequence.expect("a sequence"));
    }
    // Created just before the third entry, reading one at a time: until it reads the
    // fourth, its position is neither the stream's first entry nor its last.
    let options = SubscribeOptions::new(["orders.*"], "late", IdentityScope::Tenant("acme".into()))
        .start(StartPosition::Sequence(sequences[2]))
        .max_in_flight(1);
    let mut sub = bus.subscribe(options).await.expect("subscribe");
    assert_eq!(bus.backlog("late").await.expect("backlog"), None);
    let third = next(&mut sub).await;
    assert_eq!(third.envelope().event_id, "3");
    assert_eq!(bus.backlog("late").await.expect("backlog"), None);
    third.ack().await.expect("ack");
    let fourth = next(&mut sub).await;
    assert_eq!(fourth.envelope().event_id, "4");
    assert_eq!(bus.backlog("late").await.expect("backlog"), Some(1));
    fourth.ack().await.expect("ack");
    assert_eq!(bus.backlog("late").await.expect("backlog"), Some(0));
    bus.close().await.expect("close");
}

async fn next(sub: &mut harbor_distributed::Subscription) -> harbor_distributed::Delivery {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a delivery in time")
        .expect("not ended")
        .expect("no error")
}
