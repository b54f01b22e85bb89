//! `harbor bench bus`: per placement, the raw baseline and the bus throughput (median of
//! alternating rounds) and their ratio, then publish-to-handler latency of both at a
//! fraction (default half) of the measured bus rate.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use harbor_distributed::{
    Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions, Subscription,
};

use super::baseline::{self, EDGE};
use super::durable;
use super::latency::{Pacer, Percentiles, since_stamp, stamp};
use super::placement::{Placement, run_pair};
use super::report::{BusReport, PlacementReport};

/// Options of `harbor bench bus`.
#[derive(Debug, Args)]
pub(crate) struct BusArgs {
    /// Driver name or URL, opened through the default registry: `memory`, `embedded`
    /// (scratch directories under the system's temporary directory, or under DIR with
    /// `embedded:///DIR`), or a `nats://`, `redis://` or `postgres://` URL (without a query,
    /// the run gets its own stream, key prefix or schema and removes it afterwards).
    #[arg(long, default_value = "memory")]
    driver: String,
    /// Envelopes per throughput round (default: 1,000,000 in process, 100,000 on a durable
    /// driver).
    #[arg(long)]
    messages: Option<u64>,
    /// Payload size in bytes (at least 8: latency runs stamp the send time into it).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(8..=16 * 1024 * 1024))]
    payload: u64,
    /// Throughput rounds per placement (raw and bus alternate); medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
    rounds: u64,
    /// Envelopes in each latency run (default: 200,000 paced in process; 2,000 one at a
    /// time on a durable driver).
    #[arg(long)]
    latency_messages: Option<u64>,
    /// Publishes kept outstanding on a durable driver (its raw baseline gets the same).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    window: u64,
    /// Fraction of the measured bus rate the latency runs publish at.
    #[arg(long, default_value_t = 0.5)]
    load: f64,
    /// Deliveries the bench subscription may hold unacknowledged.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// Only this placement (default: all three).
    #[arg(long, value_enum)]
    placement: Option<Placement>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

impl BusArgs {
    fn messages(&self) -> u64 {
        self.messages.unwrap_or(1_000_000)
    }

    fn latency_messages(&self) -> u64 {
        self.latency_messages.unwrap_or(200_000)
    }
}

async fn open(args: &BusArgs) -> anyhow::Result<(Arc<dyn MessageBus>, Subscription, Identity)> {
    let registry = harbor::default_registry()?;
    let bus = registry.open_bus(&args.driver).await?;
    let options = SubscribeOptions::new([EDGE], "bench", IdentityScope::Tenant("bench".into()))
        .max_in_flight(args.max_in_flight);
    let sub = bus.subscribe(options).await?;
    let identity = Identity::new("bench", "bench-user", "bench-session")?;
    Ok((bus, sub, identity))
}

/// Receives `messages` deliveries, calling `handle` on each before acking it.
async fn consume(
    mut sub: Subscription,
    messages: u64,
    mut handle: impl FnMut(&Envelope) + Send,
) -> anyhow::Result<()> {
    for _ in 0..messages {
        match sub.next().await {
            Some(Ok(delivery)) => {
                handle(delivery.envelope());
                delivery.ack().await?;
            }
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("the subscription ended early"),
        }
    }
    Ok(())
}

/// One task publishes `messages` envelopes while another receives and acks them.
async fn throughput(
    args: &BusArgs,
    placement: Placement,
    messages: u64,
) -> anyhow::Result<Duration> {
    let (bus, sub, identity) = open(args).await?;
    let payload = args.payload as usize;
    let consumer = consume(sub, messages, |envelope| {
        black_box(envelope.payload.len());
    });
    let producer = {
        let bus = Arc::clone(&bus);
        async move {
            // Edge and identity are shared from a template, as a publisher keeps them; the
            // event id and payload are new for every envelope.
            let edge: Arc<str> = EDGE.into();
            for i in 0..messages {
                let body = Bytes::from(vec![i as u8; payload]);
                let envelope =
                    Envelope::new(Arc::clone(&edge), identity.clone(), i.to_string(), body);
                bus.publish(envelope).await?;
            }
            Ok::<(), anyhow::Error>(())
        }
    };
    let start = Instant::now();
    let (published, consumed) = run_pair(placement, producer, consumer).await?;
    let elapsed = start.elapsed();
    published?;
    consumed?;
    bus.close().await?;
    Ok(elapsed)
}

/// Publishes at `rate` per second and measures publish-to-handler latency.
async fn latency(args: &BusArgs, placement: Placement, rate: f64) -> anyhow::Result<Percentiles> {
    let (bus, sub, identity) = open(args).await?;
    let (messages, payload) = (args.latency_messages(), args.payload as usize);
    let base = Instant::now();
    let consumer = async move {
        let mut samples = Vec::with_capacity(messages as usize);
        consume(sub, messages, |envelope| {
            samples.push(since_stamp(&envelope.payload, base));
        })
        .await?;
        Ok::<Vec<u64>, anyhow::Error>(samples)
    };
    let producer = {
        let bus = Arc::clone(&bus);
        async move {
            let edge: Arc<str> = EDGE.into();
            let pacer = Pacer::new(rate);
            for i in 0..messages {
                pacer.wait(i).await;
                let mut body = vec![0u8; payload];
                stamp(&mut body, base);
                let envelope =
                    Envelope::new(Arc::clone(&edge), identity.clone(), i.to_string(), body);
                bus.publish(envelope).await?;
            }
            Ok::<f64, anyhow::Error>(pacer.achieved(messages))
        }
    };
    let (achieved, samples) = run_pair(placement, producer, consumer).await?;
    let (achieved, samples) = (achieved?, samples?);
    bus.close().await?;
    Ok(Percentiles::of(samples).at_rate(achieved))
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort_unstable();
    runs[runs.len() / 2]
}

fn rate(messages: u64, elapsed: Duration) -> f64 {
    messages as f64 / elapsed.as_secs_f64().max(1e-9)
}

async fn measure(args: &BusArgs, placement: Placement) -> anyhow::Result<PlacementReport> {
    let payload = args.payload as usize;
    let warmup = (args.messages() / 10).clamp(1, 100_000);
    baseline::throughput(placement, warmup, payload).await?;
    throughput(args, placement, warmup).await?;
    // Alternating rounds: whatever else the machine does hits both sides alike.
    let (mut raws, mut envelopes, mut buses) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        raws.push(baseline::throughput(placement, args.messages(), payload).await?);
        envelopes.push(baseline::envelope_throughput(placement, args.messages(), payload).await?);
        buses.push(throughput(args, placement, args.messages()).await?);
    }
    let raw_rate = rate(args.messages(), median(raws));
    let envelope_rate = rate(args.messages(), median(envelopes));
    let bus_rate = rate(args.messages(), median(buses));
    let paced = bus_rate * args.load;
    let raw_latency = baseline::latency(placement, args.latency_messages(), payload, paced).await?;
    let bus_latency = latency(args, placement, paced).await?;
    Ok(PlacementReport {
        placement,
        raw_rate,
        envelope_rate,
        bus_rate,
        ratio: bus_rate / raw_rate,
        paced_rate: paced,
        raw_latency,
        bus_latency,
    })
}

/// Runs the whole benchmark and prints its report.
pub(crate) async fn run(args: BusArgs) -> anyhow::Result<()> {
    if let Some((target, raw)) = durable::raw_engine(&args.driver)? {
        let durable = durable::DurableArgs {
            target,
            messages: args.messages.unwrap_or(100_000),
            payload: args.payload as usize,
            rounds: args.rounds,
            window: args.window as usize,
            max_in_flight: args.max_in_flight,
            latency_samples: args.latency_messages.unwrap_or(2_000),
            json: args.json,
        };
        anyhow::ensure!(
            durable.messages > 0 && durable.latency_samples > 0,
            "message counts must be positive"
        );
        return durable::run(durable, raw).await;
    }
    anyhow::ensure!(
        args.messages() > 0 && args.latency_messages() > 0,
        "message counts must be positive"
    );
    anyhow::ensure!(
        args.load > 0.0 && args.load <= 1.0,
        "--load must be in (0, 1]"
    );
    let placements = match args.placement {
        Some(p) => vec![p],
        None => Placement::ALL.to_vec(),
    };
    let mut results = Vec::new();
    for placement in placements {
        results.push(measure(&args, placement).await?);
    }
    let report = BusReport {
        driver: args.driver.clone(),
        payload: args.payload as usize,
        messages: args.messages(),
        rounds: args.rounds,
        latency_messages: args.latency_messages(),
        load: args.load,
        results,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
