//! The raw baseline: a bounded tokio mpsc moving the same payloads, no bus.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use harbor_distributed::{Envelope, Identity};
use tokio::sync::mpsc;

use super::latency::{Pacer, Percentiles, since_stamp, stamp};
use super::placement::{Placement, run_pair};

/// Channel capacity of the baseline, as in the project's measured anchors.
pub(super) const CAPACITY: usize = 1024;

/// The edge every bench envelope travels on, the baseline's and the bus's alike.
pub(super) const EDGE: &str = "bench.load";

/// Moves `messages` freshly allocated `payload`-byte vectors from one task to another;
/// returns the elapsed time.
pub(super) async fn throughput(
    placement: Placement,
    messages: u64,
    payload: usize,
) -> anyhow::Result<Duration> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CAPACITY);
    let consumer = async move {
        let mut n = 0u64;
        while let Some(v) = rx.recv().await {
            black_box(&v);
            n += 1;
        }
        n
    };
    let producer = async move {
        for i in 0..messages {
            if tx.send(vec![i as u8; payload]).await.is_err() {
                break;
            }
        }
    };
    let start = Instant::now();
    let ((), received) = run_pair(placement, producer, consumer).await?;
    let elapsed = start.elapsed();
    anyhow::ensure!(
        received == messages,
        "baseline lost messages: {received} of {messages}"
    );
    Ok(elapsed)
}

/// Like [`throughput`], moving whole envelopes built as the bus bench builds them: the
/// cost of the envelope itself, without the bus.
pub(super) async fn envelope_throughput(
    placement: Placement,
    messages: u64,
    payload: usize,
) -> anyhow::Result<Duration> {
    let identity = Identity::new("bench", "bench-user", "bench-session")?;
    let (tx, mut rx) = mpsc::channel::<Envelope>(CAPACITY);
    let consumer = async move {
        let mut n = 0u64;
        while let Some(envelope) = rx.recv().await {
            black_box(envelope.payload.len());
            n += 1;
        }
        n
    };
    let producer = async move {
        let edge: Arc<str> = EDGE.into();
        for i in 0..messages {
            let body = Bytes::from(vec![i as u8; payload]);
            let envelope = Envelope::new(Arc::clone(&edge), identity.clone(), i.to_string(), body);
            if tx.send(envelope).await.is_err() {
                break;
            }
        }
    };
    let start = Instant::now();
    let ((), received) = run_pair(placement, producer, consumer).await?;
    let elapsed = start.elapsed();
    anyhow::ensure!(
        received == messages,
        "envelope baseline lost messages: {received} of {messages}"
    );
    Ok(elapsed)
}

/// Sends `messages` at `rate` per second and measures send-to-receive latency.
pub(super) async fn latency(
    placement: Placement,
    messages: u64,
    payload: usize,
    rate: f64,
) -> anyhow::Result<Percentiles> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CAPACITY);
    let base = Instant::now();
    let consumer = async move {
        let mut samples = Vec::with_capacity(messages as usize);
        while let Some(v) = rx.recv().await {
            samples.push(since_stamp(&v, base));
        }
        samples
    };
    let producer = async move {
        let pacer = Pacer::new(rate);
        for i in 0..messages {
            pacer.wait(i).await;
            let mut v = vec![0u8; payload];
            stamp(&mut v, base);
            if tx.send(v).await.is_err() {
                break;
            }
        }
        pacer.achieved(messages)
    };
    let (achieved, samples) = run_pair(placement, producer, consumer).await?;
    Ok(Percentiles::of(samples).at_rate(achieved))
}
