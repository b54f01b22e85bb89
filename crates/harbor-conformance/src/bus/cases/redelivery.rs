//! Nack, visibility timeout, attempt counter, stale settles, consumer idempotency.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harbor_distributed::Error;
use harbor_distributed::idempotency::{Deduplicator, Processed};

use super::SHORT_VISIBILITY;
use crate::bus::BusFactory;
use crate::bus::support::{Collector, Ctx, ack_error, assert_ids, event_id, next, within};

/// Watermill `TestResendOnError`: the first two deliveries are nacked; all 100 envelopes
/// still arrive, the nacked ones again with attempt 2.
pub async fn resend_on_nack(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("resend");
    let mut sub = ctx.subscribe(ctx.options(&[&edge], "g")).await;
    for i in 0..100 {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    let mut acked = HashSet::new();
    let mut nacked = Vec::new();
    while acked.len() < 100 {
        let d = next(&mut sub, &format!("delivery after {} acks", acked.len())).await;
        let id = d.envelope().event_id.clone();
        if nacked.len() < 2 && d.attempt() == 1 {
            nacked.push(id);
            ack_error("nack", d.nack(Duration::ZERO).await);
        } else {
            if nacked.contains(&id) {
                assert_eq!(
                    d.attempt(),
                    2,
                    "redelivery of nacked {id} has the wrong attempt"
                );
            }
            ack_error("ack", d.ack().await);
            acked.insert(id);
        }
    }
    ctx.close().await;
}

/// Watermill `TestContinueAfterErrors`: three members in turn nack five deliveries each
/// and go away; a fourth member then gets all 50 envelopes.
pub async fn continue_after_errors(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("errors");
    let options = ctx.options(&[&edge], "g").max_attempts(100);
    let first = ctx.subscribe(options.clone()).await;
    for i in 0..50 {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    let mut sub = first;
    for round in 0..3 {
        for _ in 0..5 {
            let d = next(&mut sub, &format!("delivery to failing member {round}")).await;
            ack_error("nack", d.nack(Duration::ZERO).await);
        }
        drop(sub);
        sub = ctx.subscribe(options.clone()).await;
    }
    let collector = Collector::spawn("last member", sub);
    collector.wait_distinct(50).await;
    ctx.close().await;
    assert_ids(
        "last member",
        &collector.finish().await,
        (0..50).map(event_id),
    );
}

/// Gap (c): a delivery that is neither acked nor nacked (the consumer "crashed") comes
/// back after the visibility timeout, not before, with attempt 2.
pub async fn unacked_redelivers_after_visibility_timeout(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("timeout");
    let options = ctx
        .options(&[&edge], "g")
        .visibility_timeout(SHORT_VISIBILITY);
    let mut sub = ctx.subscribe(options).await;
    let published = Instant::now();
    ctx.publish(ctx.envelope(&edge, 1)).await;
    let first = next(&mut sub, "first delivery").await;
    assert_eq!(first.attempt(), 1, "a first delivery must have attempt 1");
    drop(first);
    let again = next(&mut sub, "redelivery after the visibility timeout").await;
    let elapsed = published.elapsed();
    assert_eq!(again.envelope().event_id, event_id(1));
    assert_eq!(
        again.attempt(),
        2,
        "a redelivery after a timeout must have attempt 2"
    );
    assert!(
        elapsed >= SHORT_VISIBILITY,
        "redelivered after {elapsed:?}, before the visibility timeout of {SHORT_VISIBILITY:?}"
    );
    ack_error("ack", again.ack().await);
    ctx.close().await;
}

/// A nack's delay is honoured: the envelope does not come back sooner.
pub async fn nack_delay_is_respected(factory: &dyn BusFactory) {
    const DELAY: Duration = Duration::from_millis(300);
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("delay");
    let mut sub = ctx.subscribe(ctx.options(&[&edge], "g")).await;
    ctx.publish(ctx.envelope(&edge, 1)).await;
    let first = next(&mut sub, "first delivery").await;
    let nacked = Instant::now();
    ack_error("nack", first.nack(DELAY).await);
    let again = next(&mut sub, "redelivery after the nack delay").await;
    let elapsed = nacked.elapsed();
    assert!(
        elapsed >= DELAY,
        "redelivered {elapsed:?} after a nack with a delay of {DELAY:?}"
    );
    assert_eq!(again.attempt(), 2);
    ack_error("ack", again.ack().await);
    ctx.close().await;
}

/// Gap (j): the attempt counter is visible to the handler and rises by one per delivery.
pub async fn attempt_counter_increases(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("attempts");
    let mut sub = ctx
        .subscribe(ctx.options(&[&edge], "g").max_attempts(10))
        .await;
    ctx.publish(ctx.envelope(&edge, 1)).await;
    for want in 1..=4 {
        let d = next(&mut sub, &format!("delivery {want}")).await;
        assert_eq!(
            d.attempt(),
            want,
            "delivery {want} reports attempt {}",
            d.attempt()
        );
        if want < 4 {
            ack_error("nack", d.nack(Duration::ZERO).await);
        } else {
            ack_error("ack", d.ack().await);
        }
    }
    ctx.close().await;
}

/// Settling a delivery after its visibility timeout passed and it was handed out again
/// fails with `DeliveryExpired`; the live delivery still settles.
pub async fn late_settle_is_refused(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("late");
    let options = ctx
        .options(&[&edge], "g")
        .visibility_timeout(SHORT_VISIBILITY);
    let mut sub = ctx.subscribe(options).await;
    ctx.publish(ctx.envelope(&edge, 1)).await;
    let stale = next(&mut sub, "first delivery").await;
    let live = next(&mut sub, "redelivery after the timeout").await;
    assert_eq!(live.attempt(), 2);
    match stale.ack().await {
        Err(Error::DeliveryExpired(_)) => {}
        other => panic!("ack after the lease expired: expected DeliveryExpired, got {other:?}"),
    }
    ack_error("ack of the live delivery", live.ack().await);
    ctx.close().await;
}

/// Gap (a): with the idempotency helper, an event delivered many times (published five
/// times, and failed once) has exactly one effect.
pub async fn consumer_idempotency(factory: &dyn BusFactory) {
    let ctx = Ctx::open(factory).await;
    let edge = ctx.edge("idem");
    let mut sub = ctx.subscribe(ctx.options(&[&edge], "g")).await;
    let dedup = Deduplicator::new(1024);
    for _ in 0..5 {
        ctx.publish(ctx.envelope(&edge, 1)).await;
    }
    ctx.publish(ctx.envelope(&edge, 2)).await;
    let (effects, runs) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (effects_ref, runs) = (&effects, &runs);
    let work = move |_| async move {
        // The first run fails: the failure is retried, not remembered.
        if runs.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err("transient failure");
        }
        effects_ref.fetch_add(1, Ordering::SeqCst);
        Ok(())
    };
    let mut marker_done = false;
    while !marker_done {
        let d = next(&mut sub, "a copy of the event").await;
        if d.envelope().event_id == event_id(2) {
            ack_error("ack of the marker", d.ack().await);
            marker_done = true;
            continue;
        }
        if let Err(error) = dedup.process(d, Duration::ZERO, work).await {
            panic!("settling through the helper failed: {error}");
        }
    }
    // Close while still consuming: whatever copies remain are delivered, then it ends.
    let close = ctx.bus.close();
    let rest = async {
        while let Some(item) = sub.next().await {
            let Ok(d) = item else { continue };
            match dedup.process(d, Duration::ZERO, work).await {
                Ok(Processed::Failed(e)) => panic!("the work failed again: {e}"),
                Ok(_) => {}
                Err(Error::Closed) => {}
                Err(error) => panic!("settling through the helper failed: {error}"),
            }
        }
    };
    let (closed, ()) = within("close while the consumer finishes", async {
        tokio::join!(close, rest)
    })
    .await;
    if let Err(error) = closed {
        panic!("close failed: {error}");
    }
    assert_eq!(
        effects.load(Ordering::SeqCst),
        1,
        "the event had more or fewer than one effect"
    );
}
