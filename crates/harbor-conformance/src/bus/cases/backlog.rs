//! The consumer lag a driver reports through [`MessageBus::backlog`], where it reports one.
//!
//! [`MessageBus::backlog`]: harbor_distributed::MessageBus::backlog

use std::time::Duration;

use harbor_distributed::{Delivery, IdentityScope};

use super::WAIT;
use crate::bus::BusFactory;
use crate::bus::support::{Ctx, ack_error, next, within};

/// How often a wait for the backlog asks again: engines update some counts (an ack sent
/// without confirmation) a moment after the call that caused them returned.
const POLL: Duration = Duration::from_millis(20);

/// A nack delay no case outlives: the envelope stays nacked, waiting, for the whole case.
const LONG_DELAY: Duration = Duration::from_secs(300);

/// The backlog of `group`, failing the case on an error.
async fn backlog(ctx: &Ctx, group: &str) -> Option<u64> {
    let what = format!("the backlog of {group:?}");
    match within(&what, ctx.bus.backlog(group)).await {
        Ok(n) => n,
        Err(error) => panic!("{what} failed: {error}"),
    }
}

/// Waits until the backlog of `group` is `want`, failing after [`WAIT`] with the last
/// value seen.
async fn wait_backlog(ctx: &Ctx, group: &str, want: u64, when: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = backlog(ctx, group).await;
        if got == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{when}: the backlog of {group:?} should be {want}, it stayed {got:?} for {WAIT:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Optional (runs where `backlog` answers `Some`): the backlog counts every envelope
/// stored for the group and not settled by it, in flight and nacked ones included, summed
/// over the scopes the group name exists in; acks and dead letters take envelopes out;
/// envelopes of other edges and tenants never count once a subscriber has read past them;
/// a group nobody subscribed has none.
pub async fn backlog_counts_unsettled(factory: &dyn BusFactory) {
    const N: usize = 10;
    let ctx = Ctx::open(factory).await;
    let group = ctx.group("g");
    let Some(unknown) = backlog(&ctx, &ctx.group("never")).await else {
        println!(
            "skipped backlog_counts_unsettled: the driver cannot tell a group's backlog (backlog answers None)"
        );
        return ctx.close().await;
    };
    assert_eq!(unknown, 0, "the backlog of a group nobody subscribed");
    let edge = ctx.edge("lag");
    // Room for everything: a driver that filters coarsely reads past the envelopes that
    // are not the group's without waiting for acks.
    let options = ctx
        .options(&[&edge], "g")
        .max_in_flight(4 * N)
        .max_attempts(2);
    let mut sub = ctx.subscribe(options.clone()).await;
    // The same group name in tenant b: another group of the engine, summed in.
    let mut other_scope = options;
    other_scope.scope = IdentityScope::Tenant(ctx.tenant("b"));
    let mut sub_b = ctx.subscribe(other_scope).await;
    wait_backlog(&ctx, &group, 0, "subscribed, nothing published").await;

    ctx.publish(ctx.envelope(&ctx.edge("elsewhere"), N)).await;
    for i in 0..N {
        ctx.publish(ctx.envelope(&edge, i)).await;
    }
    for (i, tenant) in [(N + 1, "b"), (N + 2, "c")] {
        let mut envelope = ctx.envelope(&edge, i);
        envelope.identity = ctx.identity(tenant);
        ctx.publish(envelope).await;
    }
    // Tenant a's N and tenant b's one.
    let n = N as u64 + 1;
    wait_backlog(&ctx, &group, n, "published, nothing delivered or settled").await;

    let held_b = next(&mut sub_b, "tenant b's delivery").await;
    let mut held: Vec<Delivery> = Vec::new();
    for i in 0..4 {
        held.push(next(&mut sub, &format!("delivery {i}")).await);
    }
    wait_backlog(&ctx, &group, n, "5 in flight (they still count)").await;
    let delayed = held.pop().expect("four held");
    for d in held {
        ack_error("ack", d.ack().await);
    }
    wait_backlog(&ctx, &group, n - 3, "3 acked").await;
    ack_error("nack", delayed.nack(LONG_DELAY).await);
    wait_backlog(
        &ctx,
        &group,
        n - 3,
        "1 nacked with a long delay (it still counts)",
    )
    .await;

    // The rest: one is nacked on both its attempts (dead-lettered where the driver
    // declares dead letters, else acked on its second), the others acked.
    let poison = next(&mut sub, "the envelope to nack twice").await;
    let poison_id = poison.envelope().event_id.clone();
    ack_error("nack", poison.nack(Duration::ZERO).await);
    let mut acked = 0;
    let mut poison_done = false;
    while acked < N - 5 || !poison_done {
        let d = next(&mut sub, "the remaining deliveries").await;
        if d.envelope().event_id != poison_id {
            ack_error("ack", d.ack().await);
            acked += 1;
        } else if ctx.caps.dead_letter {
            assert_eq!(d.attempt(), 2, "the nacked envelope's second delivery");
            ack_error(
                "nack of the last attempt",
                d.nack_with_reason(Duration::ZERO, "poison").await,
            );
            poison_done = true;
        } else {
            ack_error("ack", d.ack().await);
            poison_done = true;
        }
    }
    wait_backlog(
        &ctx,
        &group,
        2,
        "all settled but tenant b's and the one nacked with a long delay",
    )
    .await;
    ack_error("ack", held_b.ack().await);
    wait_backlog(&ctx, &group, 1, "tenant b's acked too").await;
    ctx.close().await;
}
