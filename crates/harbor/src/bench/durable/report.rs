//! The durable benchmark's figures: a table for people, JSON for scripts.

use std::fmt::Write as _;
use std::time::Duration;

use super::super::latency::Percentiles;
use super::super::report::thousands;

/// Raw and driver rates of one operation (medians over rounds).
#[derive(Debug, Clone, Copy)]
pub(super) struct Pair {
    pub(super) raw_rate: f64,
    pub(super) bus_rate: f64,
}

impl Pair {
    /// Medians of (raw, driver) round times, as rates of `messages` per second.
    pub(super) fn median(messages: u64, rounds: Vec<(Duration, Duration)>) -> Self {
        let rate = |mut times: Vec<Duration>| {
            times.sort_unstable();
            let median = times.get(times.len() / 2).copied().unwrap_or_default();
            messages as f64 / median.as_secs_f64().max(1e-9)
        };
        Self {
            raw_rate: rate(rounds.iter().map(|r| r.0).collect()),
            bus_rate: rate(rounds.iter().map(|r| r.1).collect()),
        }
    }

    fn ratio(&self) -> f64 {
        self.bus_rate / self.raw_rate.max(1e-9)
    }
}

/// Everything a durable run measured.
#[derive(Debug, Clone)]
pub(super) struct DurableReport {
    pub(super) driver: String,
    /// What the raw baseline does, in words.
    pub(super) raw: &'static str,
    pub(super) payload: usize,
    pub(super) messages: u64,
    pub(super) rounds: u64,
    pub(super) window: usize,
    pub(super) publish: Pair,
    pub(super) consume: Pair,
    pub(super) raw_latency: Percentiles,
    pub(super) bus_latency: Percentiles,
}

impl DurableReport {
    /// A readable table.
    pub(super) fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "harbor bench bus --driver {}: {} B payloads, {} envelopes per round, median of {} rounds, publish window {}",
            self.driver,
            self.payload,
            thousands(self.messages as f64),
            self.rounds,
            self.window
        );
        let _ = writeln!(t, "raw baseline: {}", self.raw);
        let _ = writeln!(
            t,
            "{:<22} {:>12} {:>12} {:>7}",
            "operation", "raw/s", "driver/s", "ratio"
        );
        for (name, pair) in [("publish", self.publish), ("consume+ack", self.consume)] {
            let _ = writeln!(
                t,
                "{:<22} {:>12} {:>12} {:>7.2}",
                name,
                thousands(pair.raw_rate),
                thousands(pair.bus_rate),
                pair.ratio()
            );
        }
        let (raw, bus) = (self.raw_latency, self.bus_latency);
        let _ = writeln!(
            t,
            "single publish latency  raw p50 {:.0} µs p99 {:.0} µs | driver p50 {:.0} µs p99 {:.0} µs | p50 ratio {:.2}",
            raw.p50_us,
            raw.p99_us,
            bus.p50_us,
            bus.p99_us,
            bus.p50_us / raw.p50_us.max(1e-9)
        );
        t
    }

    /// The same figures as one JSON object.
    pub(super) fn json(&self) -> serde_json::Value {
        let pair = |p: Pair| serde_json::json!({"raw_per_s": p.raw_rate, "driver_per_s": p.bus_rate, "ratio": p.ratio()});
        let lat = |p: Percentiles| serde_json::json!({"p50_us": p.p50_us, "p99_us": p.p99_us, "max_us": p.max_us});
        serde_json::json!({
            "driver": self.driver,
            "raw": self.raw,
            "payload_bytes": self.payload,
            "messages": self.messages,
            "rounds": self.rounds,
            "window": self.window,
            "publish": pair(self.publish),
            "consume_ack": pair(self.consume),
            "publish_latency": {"raw": lat(self.raw_latency), "driver": lat(self.bus_latency)},
        })
    }
}
