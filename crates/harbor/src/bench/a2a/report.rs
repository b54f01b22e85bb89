//! Printing `harbor bench a2a`'s rows: a table for people, JSON for scripts.

use std::fmt::Write as _;
use std::time::Duration;

use super::super::latency::Percentiles;
use super::super::report::thousands;
use super::args::A2aArgs;
use super::card::Interfaces;
use super::endpoint::{Endpoint, Mode};
use super::load::{Budget, Stats};

/// The target label of baseline rows.
pub(super) const BASELINE: &str = "baseline";

/// One measured (target, binding, mode, concurrency).
#[derive(Debug, Clone)]
pub(super) struct Row {
    target: String,
    binding: &'static str,
    mode: Mode,
    concurrency: usize,
    ok: u64,
    failed: u64,
    elapsed: Duration,
    rate: f64,
    latency: Percentiles,
    first_event: Percentiles,
    events: u64,
    events_rate: f64,
    ratio: Option<f64>,
    first_error: Option<String>,
    /// The server's CPU time per answered request, when its process is known.
    cpu_per_request_us: Option<f64>,
}

impl Row {
    /// Summarises what the workers of one row measured.
    pub(super) fn new(
        target: &str,
        endpoint: &Endpoint,
        mode: Mode,
        concurrency: usize,
        stats: Stats,
        server_cpu: Option<Duration>,
    ) -> Self {
        let seconds = stats.elapsed.as_secs_f64().max(1e-9);
        let cpu_per_request_us = server_cpu
            .filter(|_| stats.ok > 0)
            .map(|cpu| cpu.as_secs_f64() * 1e6 / stats.ok as f64);
        Self {
            target: target.to_owned(),
            binding: endpoint.binding(),
            mode,
            concurrency,
            ok: stats.ok,
            failed: stats.failed,
            elapsed: stats.elapsed,
            rate: stats.ok as f64 / seconds,
            latency: Percentiles::of(stats.latencies),
            first_event: Percentiles::of(stats.first_events),
            events: stats.events,
            events_rate: stats.events as f64 / seconds,
            ratio: None,
            first_error: stats.first_error,
            cpu_per_request_us,
        }
    }

    fn is_baseline(&self) -> bool {
        self.target == BASELINE
    }
}

/// Everything one `harbor bench a2a` run measured.
#[derive(Debug)]
pub(super) struct A2aReport {
    budget: Budget,
    counted: bool,
    warmup: Duration,
    targets: Vec<Interfaces>,
    notes: Vec<String>,
    rows: Vec<Row>,
}

impl A2aReport {
    /// The report, with each A2A row's ratio to the baseline of the same mode and concurrency.
    pub(super) fn new(
        args: &A2aArgs,
        budget: Budget,
        targets: Vec<Interfaces>,
        notes: Vec<String>,
        mut rows: Vec<Row>,
    ) -> Self {
        let baselines: Vec<(Mode, usize, f64)> = rows
            .iter()
            .filter(|r| r.is_baseline())
            .map(|r| (r.mode, r.concurrency, r.rate))
            .collect();
        for row in rows.iter_mut().filter(|r| !r.is_baseline()) {
            row.ratio = baselines
                .iter()
                .find(|(mode, c, rate)| *mode == row.mode && *c == row.concurrency && *rate > 0.0)
                .map(|(_, _, rate)| row.rate / rate);
        }
        Self {
            budget,
            counted: args.requests.is_some(),
            warmup: args.warmup,
            targets,
            notes,
            rows,
        }
    }

    fn budget_text(&self) -> String {
        if self.counted {
            format!("{} requests", self.budget.requests())
        } else {
            format!("{:?}", self.budget.duration())
        }
    }

    /// A readable table.
    pub(super) fn table(&self) -> String {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let mut t = String::new();
        let _ = writeln!(
            t,
            "harbor bench a2a: closed loop (each worker sends its next request when the last one is answered); {} per row after {:?} warm-up",
            self.budget_text(),
            self.warmup
        );
        let _ = writeln!(
            t,
            "baseline = axum on 127.0.0.1 in this process (own runtime) answering a fixed small JSON (send) or 4 fixed SSE events (stream), same client"
        );
        let _ = writeln!(
            t,
            "ratio = req/s / baseline req/s at the same mode and concurrency; latency = request sent -> whole answer read; ttfe = time to first event"
        );
        let _ = writeln!(t, "client and server share this machine's {cores} cores");
        for target in &self.targets {
            let _ = writeln!(t, "target {}: {:?}", target.url, target.name);
        }
        let _ = writeln!(t);
        let width = self
            .rows
            .iter()
            .map(|r| r.target.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = writeln!(
            t,
            "{:<width$}  {:<9} {:<6} {:>4} {:>9} {:>5} {:>9} {:>6} {:>8} {:>8}  {:>9} {:>17} {:>11}",
            "target",
            "binding",
            "mode",
            "conc",
            "requests",
            "fail",
            "req/s",
            "ratio",
            "p50 µs",
            "p99 µs",
            "events/s",
            "ttfe p50/p99 µs",
            "cpu µs/req"
        );
        for r in &self.rows {
            let ratio = r.ratio.map_or("-".into(), |x| format!("{x:.2}"));
            let (events, ttfe) = match r.mode {
                Mode::Send => ("-".to_owned(), "-".to_owned()),
                Mode::Stream => (
                    thousands(r.events_rate),
                    format!("{:.0} / {:.0}", r.first_event.p50_us, r.first_event.p99_us),
                ),
            };
            let _ = writeln!(
                t,
                "{:<width$}  {:<9} {:<6} {:>4} {:>9} {:>5} {:>9} {:>6} {:>8.0} {:>8.0}  {:>9} {:>17} {:>11}",
                r.target,
                r.binding,
                r.mode.to_string(),
                r.concurrency,
                r.ok + r.failed,
                r.failed,
                thousands(r.rate),
                ratio,
                r.latency.p50_us,
                r.latency.p99_us,
                events,
                ttfe,
                r.cpu_per_request_us
                    .map_or("-".to_owned(), |us| format!("{us:.0}"))
            );
        }
        for note in &self.notes {
            let _ = writeln!(t, "note: {note}");
        }
        for r in self.rows.iter().filter(|r| r.failed > 0) {
            let _ = writeln!(
                t,
                "failures in {} {} {} x{}: first: {}",
                r.target,
                r.binding,
                r.mode,
                r.concurrency,
                r.first_error.as_deref().unwrap_or("?")
            );
        }
        t
    }

    /// The figures as one JSON object.
    pub(super) fn json(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut row = serde_json::json!({
                    "target": r.target,
                    "binding": r.binding,
                    "mode": r.mode.to_string(),
                    "concurrency": r.concurrency,
                    "requests": r.ok + r.failed,
                    "failures": r.failed,
                    "elapsed_s": r.elapsed.as_secs_f64(),
                    "requests_per_sec": r.rate,
                    "latency_p50_us": r.latency.p50_us,
                    "latency_p99_us": r.latency.p99_us,
                    "latency_max_us": r.latency.max_us,
                    "ratio_to_baseline": r.ratio,
                    "first_error": r.first_error,
                    "server_cpu_us_per_request": r.cpu_per_request_us,
                });
                if r.mode == Mode::Stream {
                    row["events"] = r.events.into();
                    row["events_per_sec"] = r.events_rate.into();
                    row["ttfe_p50_us"] = r.first_event.p50_us.into();
                    row["ttfe_p99_us"] = r.first_event.p99_us.into();
                }
                row
            })
            .collect();
        let targets: Vec<serde_json::Value> = self
            .targets
            .iter()
            .map(|t| serde_json::json!({"url": t.url, "name": t.name, "streaming": t.streaming}))
            .collect();
        serde_json::json!({
            "budget": {
                "requests": self.counted.then_some(self.budget.requests()),
                "duration_s": (!self.counted).then_some(self.budget.duration().as_secs_f64()),
                "warmup_s": self.warmup.as_secs_f64(),
            },
            "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "targets": targets,
            "notes": self.notes,
            "rows": rows,
        })
    }

    /// An error naming the first row where no request succeeded: those figures mean nothing.
    pub(super) fn check(&self) -> anyhow::Result<()> {
        match self.rows.iter().find(|r| r.ok == 0) {
            Some(r) => anyhow::bail!(
                "{} {} {} x{}: every request failed; first failure: {}",
                r.target,
                r.binding,
                r.mode,
                r.concurrency,
                r.first_error.as_deref().unwrap_or("none recorded")
            ),
            None => Ok(()),
        }
    }
}
