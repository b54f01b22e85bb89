//! A consumer dies holding deliveries; another consumer of its group gets them.

use std::sync::Arc;
use std::time::Duration;

use harbor_distributed::{Delivery, MessageBus, Subscription};

use super::publisher::publish_all;
use super::scenario::{Scenario, close};
use super::tally::Tally;
use crate::bus::BusFactory;

/// Envelopes of the case.
const MESSAGES: usize = 20;
/// Deliveries the dying consumer takes and never settles.
const TAKEN: usize = 5;
/// Visibility timeout of both consumers: a dead consumer's deliveries come back after it.
const VISIBILITY: Duration = Duration::from_secs(1);

/// One consumer, on a bus in its own runtime, takes 5 of 20 envelopes and dies: its runtime
/// is dropped with the deliveries unsettled and the bus never closed, as when its process
/// is killed. A consumer of the same group on another bus must then receive all 20,
/// including the 5 with an attempt number of at least 2.
///
/// # Panics
///
/// When an envelope never reaches the second consumer within
/// [`RECOVERY`](super::RECOVERY), or a taken one comes back as a first attempt.
pub async fn dead_consumer_hands_over<F: BusFactory + ?Sized>(factory: &F) {
    let scenario = Scenario::new("handover");
    let taken = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let dying = scope.spawn(|| die_holding(factory, &scenario));
            match dying.join() {
                Ok(taken) => taken,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    });

    let bus = factory.open().await;
    let tally = Tally::spawn(
        scenario
            .subscribe(&bus, scenario.options(64, VISIBILITY))
            .await,
    );
    tally
        .wait_until("every envelope at the surviving consumer", |t| {
            t.distinct() >= MESSAGES
        })
        .await;
    for id in &taken {
        let attempt = tally.attempt(id);
        assert!(
            attempt >= 2,
            "{id} was held by the dead consumer but came back as attempt {attempt}"
        );
    }
    close(&bus).await;
}

/// Runs on its own thread and runtime: subscribes, publishes, takes [`TAKEN`] deliveries,
/// then drops the runtime: every task of the bus stops and its sockets close, as when the
/// process is killed. The bus, subscription and deliveries are then leaked rather than
/// dropped, so no `Drop` of theirs can settle or close anything a dead process could not.
fn die_holding<F: BusFactory + ?Sized>(factory: &F, scenario: &Scenario) -> Vec<String> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => panic!("cannot build the dying consumer's runtime: {error}"),
    };
    type Remains = (Arc<dyn MessageBus>, Subscription, Vec<Delivery>);
    let (bus, sub, held): Remains = runtime.block_on(async {
        let bus = factory.open().await;
        let mut sub = scenario
            .subscribe(&bus, scenario.options(TAKEN, VISIBILITY))
            .await;
        publish_all(&bus, scenario.envelopes(0..MESSAGES), 8).await;
        let mut held = Vec::new();
        while held.len() < TAKEN {
            match tokio::time::timeout(super::RECOVERY, sub.next()).await {
                Ok(Some(Ok(delivery))) => held.push(delivery),
                Ok(Some(Err(error))) => panic!("the dying consumer's subscription failed: {error}"),
                Ok(None) => panic!("the dying consumer's subscription ended"),
                Err(_) => panic!("the dying consumer got no delivery within the deadline"),
            }
        }
        (bus, sub, held)
    });
    let taken = held.iter().map(|d| d.envelope().event_id.clone()).collect();
    drop(runtime);
    std::mem::forget((bus, sub, held));
    taken
}
