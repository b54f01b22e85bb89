//! A bus worker: publish, subscribe in a consumer group, ack, nack, and the dead letter an
//! envelope becomes when its attempts run out; duplicates skipped with the idempotency
//! helper.
//!
//! Orders are published on `orders.created`. Workers of the group `billing` ack what they
//! process and nack what they cannot (with the reason); after `max_attempts` deliveries a
//! failing order moves to `dead-letter.billing.orders.created`, where an operator's
//! subscription reads it with the reason in its headers. The bus is at-least-once, so the
//! worker skips an order it has already processed (`Deduplicator`, keyed on task, edge and
//! event id).
//!
//! Run it (it always runs to completion):
//!          cargo run -p harbor-examples --bin bus-worker                 (the memory bus)
//!          cargo run -p harbor-examples --bin bus-worker -- --bus embedded
//!                      (the embedded durable engine, in a temporary directory)
//!          cargo run -p harbor-examples --bin bus-worker -- --bus nats://127.0.0.1:4222
//!                      (any driver URL; needs the harbor crate's engine features)

use std::collections::BTreeSet;
use std::time::Duration;

use harbor::distributed::bus::dead_letter;
use harbor::distributed::idempotency::Deduplicator;
use harbor::distributed::{Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions};

const EDGE: &str = "orders.created";
const GROUP: &str = "billing";
const ATTEMPTS: u32 = 3;
/// How long any wait of the demo may take.
const DEADLINE: Duration = Duration::from_secs(20);

/// The bus the command line names (`--bus TARGET`), the memory bus by default.
async fn open_bus() -> anyhow::Result<(std::sync::Arc<dyn MessageBus>, Option<tempfile::TempDir>)> {
    let args: Vec<String> = std::env::args().collect();
    let target = args
        .windows(2)
        .find(|w| w[0] == "--bus")
        .map_or("memory", |w| w[1].as_str());
    let registry = harbor::default_registry()?;
    if target == "embedded" {
        let dir = tempfile::tempdir()?;
        let url = format!("embedded://{}", dir.path().display());
        return Ok((registry.open_bus(&url).await?, Some(dir)));
    }
    Ok((registry.open_bus(target).await?, None))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (bus, _dir) = open_bus().await?;
    println!("bus: {:?}", bus.capabilities());
    let acme = Identity::new("acme", "order-service", "session-1")?;
    let scope = IdentityScope::Tenant("acme".into());

    // Subscribe before publishing: a new group starts with what is published after it.
    let options = SubscribeOptions::new([EDGE], GROUP, scope.clone())
        .max_attempts(ATTEMPTS)
        .visibility_timeout(Duration::from_secs(5));
    let mut work = bus.subscribe(options).await?;
    let dead_edges = format!("{}.{GROUP}.>", dead_letter::PREFIX);
    let mut dead = bus
        .subscribe(SubscribeOptions::new([dead_edges], "operators", scope))
        .await?;

    // Four good orders, one the worker cannot bill, and order 2 published twice (a retrying
    // producer): its event id is the idempotency key.
    let orders = [
        "order-1", "order-2", "order-2", "order-3", "poison", "order-4",
    ];
    for id in orders {
        let envelope = Envelope::new(EDGE, acme.clone(), id, format!("{{\"order\":\"{id}\"}}"))
            .with_task(format!("checkout-{id}"));
        let receipt = bus.publish(envelope).await?;
        println!("published {id} (duplicate: {})", receipt.duplicate);
    }

    let seen = Deduplicator::new(10_000);
    let mut billed = BTreeSet::new();
    let mut nacks = 0;
    while billed.len() < 4 || nacks < ATTEMPTS {
        let delivery = tokio::time::timeout(DEADLINE, work.next())
            .await
            .map_err(|_| anyhow::anyhow!("no delivery within {DEADLINE:?}"))?
            .ok_or_else(|| anyhow::anyhow!("the subscription ended"))??;
        let envelope = delivery.envelope().clone();
        let key = envelope.dedup_key();
        if seen.seen(&key) {
            println!("skipped   {} (already billed)", envelope.event_id);
            delivery.ack().await?;
            continue;
        }
        if envelope.event_id == "poison" {
            nacks += 1;
            println!("nacked    poison (attempt {})", delivery.attempt());
            delivery
                .nack_with_reason(Duration::from_millis(50), "no price for this order")
                .await?;
            continue;
        }
        // The work, then the mark, then the ack: a crash before the ack redelivers the
        // order, and the mark makes the second delivery a no-op.
        billed.insert(envelope.event_id.clone());
        seen.mark(&key);
        delivery.ack().await?;
        println!("billed    {}", envelope.event_id);
    }

    let letter = tokio::time::timeout(DEADLINE, dead.next())
        .await
        .map_err(|_| anyhow::anyhow!("no dead letter within {DEADLINE:?}"))?
        .ok_or_else(|| anyhow::anyhow!("the dead-letter subscription ended"))??;
    let header = |name: &str| {
        letter
            .envelope()
            .headers
            .get(name)
            .cloned()
            .unwrap_or_default()
    };
    println!(
        "dead letter {} on {}: {} after {} attempts",
        letter.envelope().event_id,
        letter.envelope().edge,
        header(dead_letter::REASON),
        header(dead_letter::ATTEMPTS),
    );
    anyhow::ensure!(
        letter.envelope().event_id == "poison",
        "the wrong dead letter"
    );
    anyhow::ensure!(header(dead_letter::REASON) == "no price for this order");
    letter.ack().await?;
    anyhow::ensure!(billed.len() == 4, "billed {billed:?}");
    println!("billed {} orders once each; 1 dead letter", billed.len());
    bus.close().await?;
    Ok(())
}
