//! The command line of `harbor bench a2a`: its options ([`A2aArgs`]), the bindings to
//! measure ([`BindingChoice`]) and the run-length bounds they default to. A leaf the run,
//! the card reader and the report import.

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::cpu;
use super::endpoint::Mode;
use super::load::Budget;
use crate::duration::parse_duration;

/// Requests a `--duration` run may send at most, so every run is bounded in count too.
const MAX_REQUESTS: u64 = 10_000_000;
/// How long a `--requests` run may take at most when no `--duration` is given.
const MAX_COUNTED_RUN: Duration = Duration::from_secs(300);
/// Run length when neither `--duration` nor `--requests` is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(5);

/// Which A2A bindings to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BindingChoice {
    /// JSON-RPC 2.0 over HTTP.
    Jsonrpc,
    /// HTTP+JSON (REST).
    HttpJson,
    /// gRPC (`lf.a2a.v1.A2AService`).
    Grpc,
    /// All three the card offers.
    All,
}

/// Options of `harbor bench a2a`.
#[derive(Debug, Args)]
pub(crate) struct A2aArgs {
    /// Base URL of an A2A server (its card is read from `/.well-known/agent-card.json`), or
    /// the card's own URL. Repeat to measure several servers in the same run.
    #[arg(long = "url", required = true, value_name = "BASE_URL")]
    pub(super) urls: Vec<String>,
    /// Bindings to measure.
    #[arg(long, value_enum, default_value = "all")]
    pub(super) binding: BindingChoice,
    /// Concurrency levels: workers each sending one request after another.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64",
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(super) concurrency: Vec<u64>,
    /// Length of each measured row (e.g. `5s`, `500ms`). Default 5s, or up to 300s when
    /// `--requests` is given.
    #[arg(long, value_parser = parse_duration)]
    pub(super) duration: Option<Duration>,
    /// Requests per measured row (across all workers) instead of a fixed duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_REQUESTS))]
    pub(super) requests: Option<u64>,
    /// Warm-up before each row, with the same load, not counted (also ends after
    /// `--requests` requests).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub(super) warmup: Duration,
    /// Also measure `SendStreamingMessage`, reading each SSE stream to its end.
    #[arg(long)]
    pub(super) stream: bool,
    /// Skip the raw HTTP baseline (and so the ratios).
    #[arg(long)]
    pub(super) no_baseline: bool,
    /// Longest a single request (including reading its whole body) may take.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub(super) timeout: Duration,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(super) json: bool,
    /// The process id of the server behind each --url, in the same order (a local
    /// process): its CPU time per request (user plus system, all threads) is reported. A
    /// server of several processes (replicas, a proxy) gives them all, joined by `+`: their
    /// CPU times are added.
    #[arg(long = "server-pid", value_name = "PID[+PID...]", value_parser = cpu::parse_pids)]
    pub(super) server_pids: Vec<cpu::Pids>,
}

impl A2aArgs {
    pub(super) fn budget(&self) -> Budget {
        match self.requests {
            Some(n) => Budget::new(n, self.duration.unwrap_or(MAX_COUNTED_RUN)),
            None => Budget::new(MAX_REQUESTS, self.duration.unwrap_or(DEFAULT_DURATION)),
        }
    }

    pub(super) fn modes(&self) -> Vec<Mode> {
        if self.stream {
            vec![Mode::Send, Mode::Stream]
        } else {
            vec![Mode::Send]
        }
    }
}
