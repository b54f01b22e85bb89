//! Printing a benchmark's figures: a table for people, JSON for scripts.

use std::fmt::Write as _;

use super::baseline::CAPACITY;
use super::latency::Percentiles;
use super::placement::Placement;

/// The figures of one placement.
#[derive(Debug, Clone)]
pub(super) struct PlacementReport {
    pub(super) placement: Placement,
    pub(super) raw_rate: f64,
    pub(super) envelope_rate: f64,
    pub(super) bus_rate: f64,
    pub(super) ratio: f64,
    pub(super) paced_rate: f64,
    pub(super) raw_latency: Percentiles,
    pub(super) bus_latency: Percentiles,
}

/// Everything `harbor bench bus` measured.
#[derive(Debug, Clone)]
pub(super) struct BusReport {
    pub(super) driver: String,
    pub(super) payload: usize,
    pub(super) messages: u64,
    pub(super) rounds: u64,
    pub(super) latency_messages: u64,
    pub(super) load: f64,
    pub(super) results: Vec<PlacementReport>,
}

/// `1234567.8` as `1,234,568`.
pub(super) fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl BusReport {
    /// A readable table.
    pub(super) fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "harbor bench bus: driver {}, {}-byte payloads",
            self.driver, self.payload
        );
        let _ = writeln!(
            t,
            "raw = tokio mpsc bounded({CAPACITY}) moving a fresh {}-byte Vec per message; env = the same channel",
            self.payload
        );
        let _ = writeln!(
            t,
            "moving whole envelopes built like the bus bench's; bus = publish -> deliver -> ack; ratio = bus / raw"
        );
        let _ = writeln!(
            t,
            "throughput: median of {} rounds of {} messages; latency: publish -> handler, {} messages paced at {:.0} % of the bus rate",
            self.rounds,
            thousands(self.messages as f64),
            thousands(self.latency_messages as f64),
            self.load * 100.0
        );
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "{:<14} {:>11} {:>11} {:>11} {:>6}  {:>11}  {:>15}  {:>15}",
            "placement",
            "raw msg/s",
            "env msg/s",
            "bus msg/s",
            "ratio",
            "paced msg/s",
            "raw p50/p99 µs",
            "bus p50/p99 µs"
        );
        for r in &self.results {
            let _ = writeln!(
                t,
                "{:<14} {:>11} {:>11} {:>11} {:>6.2}  {:>11}  {:>15}  {:>15}",
                r.placement.to_string(),
                thousands(r.raw_rate),
                thousands(r.envelope_rate),
                thousands(r.bus_rate),
                r.ratio,
                thousands(r.bus_latency.rate),
                format!("{:.1} / {:.1}", r.raw_latency.p50_us, r.raw_latency.p99_us),
                format!("{:.1} / {:.1}", r.bus_latency.p50_us, r.bus_latency.p99_us),
            );
        }
        t
    }

    /// The figures as one JSON object.
    pub(super) fn json(&self) -> serde_json::Value {
        let pct = |p: Percentiles| {
            serde_json::json!({
                "achieved_msgs_per_sec": p.rate,
                "p50_us": p.p50_us,
                "p99_us": p.p99_us,
                "p999_us": p.p999_us,
                "max_us": p.max_us,
            })
        };
        let results: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "placement": r.placement.to_string(),
                    "raw_msgs_per_sec": r.raw_rate,
                    "envelope_mpsc_msgs_per_sec": r.envelope_rate,
                    "bus_msgs_per_sec": r.bus_rate,
                    "ratio": r.ratio,
                    "paced_msgs_per_sec": r.paced_rate,
                    "raw_latency": pct(r.raw_latency),
                    "bus_latency": pct(r.bus_latency),
                })
            })
            .collect();
        serde_json::json!({
            "driver": self.driver,
            "payload_bytes": self.payload,
            "messages": self.messages,
            "rounds": self.rounds,
            "latency_messages": self.latency_messages,
            "load": self.load,
            "raw_channel_capacity": CAPACITY,
            "results": results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.6), "1,234,568");
    }
}
