//! `harbor bench bus` on a durable driver (embedded, NATS, Redis, PostgreSQL): windowed
//! publish throughput, consume+ack throughput and one-at-a-time publish latency, each next
//! to the engine's raw client doing the same in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::stream::{FuturesUnordered, StreamExt};
use harbor_distributed::{
    Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions, Subscription,
};

use super::latency::Percentiles;
use raw::RawEngine;
use report::{DurableReport, Pair};

mod raw;
mod report;

/// What one durable run measures.
#[derive(Debug, Clone)]
pub(super) struct DurableArgs {
    /// The driver target (name or URL) the registry opens.
    pub(super) target: String,
    pub(super) messages: u64,
    pub(super) payload: usize,
    pub(super) rounds: u64,
    pub(super) window: usize,
    pub(super) max_in_flight: usize,
    pub(super) latency_samples: u64,
    pub(super) json: bool,
}

/// For a durable driver's target: the target to open (the embedded engine gets a
/// temporary directory) and its raw engine. `None` for in-process drivers.
pub(super) fn raw_engine(target: &str) -> anyhow::Result<Option<(String, Box<dyn RawEngine>)>> {
    raw::for_target(target)
}

/// Runs the durable benchmark and prints its report.
pub(super) async fn run(args: DurableArgs, raw: Box<dyn RawEngine>) -> anyhow::Result<()> {
    let registry = harbor::default_registry()?;
    let bus = registry.open_bus(&args.target).await?;
    // Warm-up: connections, schemas, streams, page cache.
    let warmup = (args.messages / 10).clamp(1, 10_000);
    round(&bus, &args, warmup).await?;
    raw.publish(warmup, args.payload, args.window).await?;

    let (mut publish, mut consume) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        let raw_publish = raw
            .publish(args.messages, args.payload, args.window)
            .await?;
        let raw_consume = raw.consume(args.messages, args.payload).await?;
        let (bus_publish, bus_consume) = round(&bus, &args, args.messages).await?;
        publish.push((raw_publish, bus_publish));
        consume.push((raw_consume, bus_consume));
    }
    let raw_latency = raw
        .publish_latency(args.latency_samples, args.payload)
        .await?;
    let bus_latency = publish_latency(&bus, &args).await?;
    bus.close().await?;
    drop(bus);
    raw.cleanup().await?;

    let report = DurableReport {
        driver: args.target.clone(),
        raw: raw.describe(),
        payload: args.payload,
        messages: args.messages,
        rounds: args.rounds,
        window: args.window,
        publish: Pair::median(args.messages, publish),
        consume: Pair::median(args.messages, consume),
        raw_latency: percentiles(raw_latency),
        bus_latency: percentiles(bus_latency),
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// A fresh edge and group per round, so no round sees another's envelopes.
fn names() -> (String, String) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    (format!("bench.r{nanos:x}.load"), format!("bench{nanos:x}"))
}

fn identity() -> anyhow::Result<Identity> {
    Ok(Identity::new("bench", "bench-user", "bench-session")?)
}

fn envelope(edge: &Arc<str>, identity: &Identity, i: u64, payload: usize) -> Envelope {
    Envelope::new(
        Arc::clone(edge),
        identity.clone(),
        i.to_string(),
        Bytes::from(vec![i as u8; payload]),
    )
    .with_task("bench-task")
}

/// One round: subscribes (without reading), publishes `messages` with up to `window`
/// outstanding, then drains them acking with up to `max_in_flight` acks outstanding.
/// Returns (publish time, consume time).
async fn round(
    bus: &Arc<dyn MessageBus>,
    args: &DurableArgs,
    messages: u64,
) -> anyhow::Result<(Duration, Duration)> {
    let (edge, group) = names();
    let options = SubscribeOptions::new([edge.as_str()], group, IdentityScope::Admin)
        .max_in_flight(args.max_in_flight)
        .visibility_timeout(Duration::from_secs(60));
    let sub = bus.subscribe(options).await?;
    let (edge, identity) = (Arc::<str>::from(edge), identity()?);

    let start = Instant::now();
    let mut published = futures::stream::iter(0..messages)
        .map(|i| bus.publish(envelope(&edge, &identity, i, args.payload)))
        .buffer_unordered(args.window);
    while let Some(result) = published.next().await {
        result?;
    }
    let publish = start.elapsed();

    let start = Instant::now();
    drain(sub, messages, args.max_in_flight).await?;
    Ok((publish, start.elapsed()))
}

/// Receives `messages` deliveries and acks each, keeping up to `acks` acks outstanding as
/// a consumer with concurrent work would. Outstanding acks are driven while the next
/// delivery is awaited: an ack future left unpolled would hold its delivery's credit.
async fn drain(mut sub: Subscription, messages: u64, acks: usize) -> anyhow::Result<()> {
    let mut pending = FuturesUnordered::new();
    let mut received = 0;
    while received < messages || !pending.is_empty() {
        tokio::select! {
            Some(result) = pending.next(), if !pending.is_empty() => result?,
            delivery = sub.next(), if received < messages && pending.len() < acks => {
                match delivery {
                    Some(delivery) => pending.push(delivery?.ack()),
                    None => anyhow::bail!("the subscription ended early"),
                }
                received += 1;
            }
        }
    }
    Ok(())
}

/// One publish at a time, each awaited: the latency of a single durable publish.
async fn publish_latency(
    bus: &Arc<dyn MessageBus>,
    args: &DurableArgs,
) -> anyhow::Result<Vec<Duration>> {
    let (edge, _) = names();
    let (edge, identity) = (Arc::<str>::from(edge), identity()?);
    let mut samples = Vec::with_capacity(args.latency_samples as usize);
    for i in 0..args.latency_samples {
        let envelope = envelope(&edge, &identity, i, args.payload);
        let start = Instant::now();
        bus.publish(envelope).await?;
        samples.push(start.elapsed());
    }
    Ok(samples)
}

fn percentiles(samples: Vec<Duration>) -> Percentiles {
    Percentiles::of(samples.iter().map(|d| d.as_nanos() as u64).collect())
}
