//! The server restarts while envelopes are in flight.

use std::sync::Arc;
use std::time::Duration;

use super::publisher::publish_all;
use super::scenario::{Scenario, close};
use super::tally::Tally;
use super::{OUTAGE, ServiceControl};
use crate::bus::BusFactory;

/// Deliveries the case's subscription may hold unacknowledged.
const IN_FLIGHT: usize = 128;
/// Publishes the case keeps outstanding.
const WINDOW: usize = 64;

/// Publishes `messages` envelopes (up to 64 outstanding, retrying retryable errors with the
/// same ids) while one subscriber (up to 128 in flight) processes them through the
/// [`Deduplicator`](harbor_distributed::idempotency::Deduplicator); once a third has been
/// delivered, the server is killed and started again.
///
/// Afterwards every envelope has been delivered, at most `2 × 128 + 64` deliveries are
/// duplicates (the in-flight window: unacked deliveries, acks lost with the connection and
/// publishes retried after a lost answer), and every envelope's work ran exactly once.
///
/// # Panics
///
/// When any of that does not hold within [`RECOVERY`](super::RECOVERY).
pub async fn restart_loses_nothing<F: BusFactory + ?Sized>(
    factory: &F,
    service: &dyn ServiceControl,
    messages: usize,
) {
    assert!(messages >= 3, "the restart case needs at least 3 messages");
    let scenario = Scenario::new("restart");
    let bus = factory.open().await;
    let options = scenario.options(IN_FLIGHT, Duration::from_secs(5));
    let tally = Tally::spawn(scenario.subscribe(&bus, options).await);

    let envelopes = scenario.envelopes(0..messages);
    let publisher = tokio::spawn({
        let bus = Arc::clone(&bus);
        async move { publish_all(&bus, envelopes, WINDOW).await }
    });

    tally
        .wait_until("a third delivered before the restart", |t| {
            t.distinct() >= messages / 3
        })
        .await;
    service.stop().await;
    tokio::time::sleep(OUTAGE).await;
    service.start().await;

    if let Err(error) = publisher.await {
        std::panic::resume_unwind(error.into_panic());
    }
    tally
        .wait_until("every envelope delivered after the restart", |t| {
            t.distinct() >= messages
        })
        .await;

    let ids: Vec<String> = (0..messages).map(Scenario::event_id).collect();
    let missing: Vec<&String> = ids.iter().filter(|id| !tally.delivered(id)).collect();
    assert!(missing.is_empty(), "lost across the restart: {missing:?}");
    let duplicates = tally.deliveries() - messages as u64;
    let bound = (2 * IN_FLIGHT + WINDOW) as u64;
    assert!(
        duplicates <= bound,
        "{duplicates} duplicate deliveries across the restart; the in-flight window allows {bound}"
    );
    let wrong = tally.wrong_effects(&ids);
    assert!(wrong.is_empty(), "work ran other than once: {wrong:?}");
    close(&bus).await;
}
