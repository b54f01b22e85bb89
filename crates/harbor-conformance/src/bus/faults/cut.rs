//! Connections are cut and refused for a while; the driver reconnects by itself.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;

use super::proxy::CutProxy;
use super::publisher::{publish_all, publish_until};
use super::scenario::{Scenario, close};
use super::tally::Tally;
use super::{OUTAGE, RECOVERY};
use crate::bus::BusFactory;

/// Envelopes in each of the three phases (before, during and after the outage).
const PHASE: usize = 50;

/// With a bus whose connections go through `proxy` (the factory must connect to
/// [`CutProxy::addr`]): 50 envelopes are published and delivered; then every connection is
/// cut and new ones refused for [`OUTAGE`] while 50 more are published; then 50 more after
/// the outage, retrying retryable errors.
///
/// A publish during the outage may fail only with a retryable error; every publish that
/// returned `Ok` (in any phase) must be delivered to the subscriber opened before the cut,
/// which must carry on by itself.
///
/// # Panics
///
/// When a publish fails with a non-retryable error, or an acknowledged envelope is not
/// delivered within [`RECOVERY`].
pub async fn connection_cut_recovers<F: BusFactory + ?Sized>(factory: &F, proxy: &CutProxy) {
    let scenario = Scenario::new("cut");
    let bus = factory.open().await;
    let tally = Tally::spawn(
        scenario
            .subscribe(&bus, scenario.options(64, Duration::from_secs(2)))
            .await,
    );
    publish_all(&bus, scenario.envelopes(0..PHASE), 16).await;
    tally
        .wait_until("the first phase delivered before the cut", |t| {
            t.distinct() >= PHASE
        })
        .await;

    proxy.set_refusing(true);
    proxy.cut();
    let deadline = tokio::time::Instant::now() + RECOVERY;
    let during = scenario.envelopes(PHASE..2 * PHASE);
    let outage = tokio::spawn({
        let bus = Arc::clone(&bus);
        async move {
            // One try each (no retry): the answer must be Ok (stored) or a retryable error.
            let tries = during.into_iter().map(|envelope| {
                let bus = Arc::clone(&bus);
                async move {
                    let id = envelope.event_id.clone();
                    let result = tokio::time::timeout_at(deadline, bus.publish(envelope)).await;
                    (id, result)
                }
            });
            join_all(tries).await
        }
    });
    tokio::time::sleep(OUTAGE).await;
    proxy.set_refusing(false);

    let mut stored: Vec<String> = (0..PHASE).map(Scenario::event_id).collect();
    let outcomes = match outage.await {
        Ok(outcomes) => outcomes,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    };
    for (id, result) in outcomes {
        match result {
            Ok(Ok(_)) => stored.push(id),
            Ok(Err(error)) if error.is_retryable() => {}
            Ok(Err(error)) => panic!("publishing {id} during the outage failed for good: {error}"),
            Err(_) => {
                panic!("publishing {id} during the outage never answered within {RECOVERY:?}")
            }
        }
    }
    for envelope in scenario.envelopes(2 * PHASE..3 * PHASE) {
        let id = envelope.event_id.clone();
        if let Err(error) = publish_until(&bus, envelope, deadline).await {
            panic!("publishing {id} after the outage failed: {error}");
        }
        stored.push(id);
    }
    tally
        .wait_until("every stored envelope delivered after the outage", |t| {
            stored.iter().all(|id| t.delivered(id))
        })
        .await;
    close(&bus).await;
}
