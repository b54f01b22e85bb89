//! Pacing publishers to a target rate, stamping payloads, and summarising latencies.

use std::time::{Duration, Instant};

/// Releases message `i` of a paced run at `start + i / rate`.
pub(super) struct Pacer {
    start: Instant,
    interval_ns: f64,
}

impl Pacer {
    /// A pacer for `rate` messages per second, starting now.
    pub(super) fn new(rate: f64) -> Self {
        Self {
            start: Instant::now(),
            interval_ns: 1e9 / rate.max(1.0),
        }
    }

    /// The rate actually reached after `messages` were sent.
    pub(super) fn achieved(&self, messages: u64) -> f64 {
        messages as f64 / self.start.elapsed().as_secs_f64().max(1e-9)
    }

    /// Waits until message `i` is due. Yields while waiting, so a consumer woken onto this
    /// worker runs instead of waiting behind a spinning publisher.
    pub(super) async fn wait(&self, i: u64) {
        let due = self.start + Duration::from_nanos((i as f64 * self.interval_ns) as u64);
        loop {
            let now = Instant::now();
            if now >= due {
                return;
            }
            if due - now > Duration::from_millis(2) {
                tokio::time::sleep(due - now - Duration::from_millis(1)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Writes the time since `base` into the first 8 bytes of `payload`.
pub(super) fn stamp(payload: &mut [u8], base: Instant) {
    let nanos = base.elapsed().as_nanos() as u64;
    payload[..8].copy_from_slice(&nanos.to_le_bytes());
}

/// Nanoseconds between the stamp in `payload` and now.
pub(super) fn since_stamp(payload: &[u8], base: Instant) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&payload[..8]);
    let sent = u64::from_le_bytes(raw);
    (base.elapsed().as_nanos() as u64).saturating_sub(sent)
}

/// Percentiles of a latency sample, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Percentiles {
    pub(super) p50_us: f64,
    pub(super) p99_us: f64,
    pub(super) p999_us: f64,
    pub(super) max_us: f64,
    /// The publishing rate the sample was taken at.
    pub(super) rate: f64,
}

impl Percentiles {
    /// Summarises `samples` (nanoseconds); all zeros when empty.
    pub(super) fn of(mut samples: Vec<u64>) -> Self {
        if samples.is_empty() {
            return Self {
                p50_us: 0.0,
                p99_us: 0.0,
                p999_us: 0.0,
                max_us: 0.0,
                rate: 0.0,
            };
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i] as f64 / 1000.0
        };
        Self {
            p50_us: at(0.50),
            p99_us: at(0.99),
            p999_us: at(0.999),
            max_us: at(1.0),
            rate: 0.0,
        }
    }

    /// The same percentiles, noting the rate they were taken at.
    pub(super) fn at_rate(self, rate: f64) -> Self {
        Self { rate, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_nearest_rank() {
        let p = Percentiles::of((1..=1000).map(|i| i * 1000).collect());
        assert_eq!(p.p50_us, 500.0);
        assert_eq!(p.p99_us, 990.0);
        assert_eq!(p.p999_us, 999.0);
        assert_eq!(p.max_us, 1000.0);
        assert_eq!(Percentiles::of(vec![]).max_us, 0.0);
    }

    #[test]
    fn stamps_round_trip() {
        let base = Instant::now();
        let mut payload = [0u8; 16];
        stamp(&mut payload, base);
        assert!(since_stamp(&payload, base) < 1_000_000_000);
    }
}
