//! `harbor bench a2a`: a closed-loop load tool for any A2A v1.0 server.
//!
//! For every target URL it reads the agent card, takes the JSON-RPC, HTTP+JSON and gRPC
//! interface URLs from `supportedInterfaces`, and at each concurrency runs N workers that
//! send blocking `SendMessage` calls one after another (and, with `--stream`,
//! `SendStreamingMessage` calls read to the end of their SSE or gRPC stream). The JSON rows
//! use a pool of HTTP/1.1 connections (one per worker); a gRPC row uses one HTTP/2
//! connection that its workers' calls share, as gRPC clients do. Every response is validated: an error, a task that did not
//! complete or a malformed stream counts as a failure, never as a success. A raw HTTP
//! baseline (an in-process axum server answering a fixed JSON) is measured with the same
//! client at the same concurrency levels, and every A2A row shows its ratio to it.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

mod baseline;
mod card;
mod cpu;
mod endpoint;
mod grpc;
mod load;
mod report;
mod request;
mod sse;
mod validate;

use card::Interfaces;

use crate::duration::parse_duration;
use endpoint::{Endpoint, Mode};
use load::Budget;
use report::{A2aReport, Row};

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
    urls: Vec<String>,
    /// Bindings to measure.
    #[arg(long, value_enum, default_value = "all")]
    binding: BindingChoice,
    /// Concurrency levels: workers each sending one request after another.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64",
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    concurrency: Vec<u64>,
    /// Length of each measured row (e.g. `5s`, `500ms`). Default 5s, or up to 300s when
    /// `--requests` is given.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Requests per measured row (across all workers) instead of a fixed duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_REQUESTS))]
    requests: Option<u64>,
    /// Warm-up before each row, with the same load, not counted (also ends after
    /// `--requests` requests).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Also measure `SendStreamingMessage`, reading each SSE stream to its end.
    #[arg(long)]
    stream: bool,
    /// Skip the raw HTTP baseline (and so the ratios).
    #[arg(long)]
    no_baseline: bool,
    /// Longest a single request (including reading its whole body) may take.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The process id of the server behind each --url, in the same order (a local
    /// process): its CPU time per request (user plus system, all threads) is reported. A
    /// server of several processes (replicas, a proxy) gives them all, joined by `+`: their
    /// CPU times are added.
    #[arg(long = "server-pid", value_name = "PID[+PID...]", value_parser = cpu::parse_pids)]
    server_pids: Vec<cpu::Pids>,
}

impl A2aArgs {
    fn budget(&self) -> Budget {
        match self.requests {
            Some(n) => Budget::new(n, self.duration.unwrap_or(MAX_COUNTED_RUN)),
            None => Budget::new(MAX_REQUESTS, self.duration.unwrap_or(DEFAULT_DURATION)),
        }
    }

    fn modes(&self) -> Vec<Mode> {
        if self.stream {
            vec![Mode::Send, Mode::Stream]
        } else {
            vec![Mode::Send]
        }
    }
}

/// One measured row before it is measured: who, over what, how.
struct Plan {
    target: String,
    endpoint: Endpoint,
    mode: Mode,
    /// The server's processes, when known.
    pids: Option<cpu::Pids>,
}

/// Runs `harbor bench a2a`.
pub(crate) async fn run(args: A2aArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.server_pids.len() <= args.urls.len(),
        "{} --server-pid given for {} --url: give at most one per URL, in the same order",
        args.server_pids.len(),
        args.urls.len()
    );
    let setup = request::client(1, args.timeout)?;
    let mut targets = Vec::new();
    let mut notes = Vec::new();
    for url in &args.urls {
        let interfaces = card::resolve(&setup, url, args.binding).await?;
        if args.stream && !interfaces.streaming {
            notes.push(format!(
                "{url}: the card does not declare streaming; its stream rows will likely fail"
            ));
        }
        notes.extend(interfaces.notes.iter().cloned());
        targets.push(interfaces);
    }
    let baseline = if args.no_baseline {
        None
    } else {
        Some(baseline::Server::start().await?)
    };
    let plans = plans(&args, &targets, baseline.as_ref());
    let budget = args.budget();
    let warmup = Budget::new(budget.requests(), args.warmup);
    let mut rows = Vec::new();
    for &concurrency in &args.concurrency {
        for plan in &plans {
            let concurrency = usize::try_from(concurrency)?;
            eprintln!(
                "harbor bench a2a: {} {} {} x{concurrency}",
                plan.target,
                plan.endpoint.binding(),
                plan.mode
            );
            let client = request::client(concurrency, args.timeout)?;
            let op = request::Operation::new(plan.endpoint.clone(), plan.mode);
            let op = Arc::new(op.connect(args.timeout)?);
            if !args.warmup.is_zero() {
                load::run(&client, &op, concurrency, warmup).await;
            }
            let cpu_before = plan.pids.as_ref().map(cpu::Pids::used).transpose()?;
            let stats = load::run(&client, &op, concurrency, budget).await;
            let cpu = match (&plan.pids, cpu_before) {
                (Some(pids), Some(before)) => Some(pids.used()?.saturating_sub(before)),
                _ => None,
            };
            rows.push(Row::new(
                &plan.target,
                &plan.endpoint,
                plan.mode,
                concurrency,
                stats,
                cpu,
            ));
        }
    }
    if let Some(server) = baseline {
        server.stop().await;
    }
    let report = A2aReport::new(&args, budget, targets, notes, rows);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.json())?);
    } else {
        print!("{}", report.table());
    }
    report.check()
}

/// The rows of one concurrency level, baseline first so each A2A row has one to compare to.
fn plans(args: &A2aArgs, targets: &[Interfaces], baseline: Option<&baseline::Server>) -> Vec<Plan> {
    let mut plans = Vec::new();
    if let Some(server) = baseline {
        for mode in args.modes() {
            plans.push(Plan {
                target: report::BASELINE.into(),
                endpoint: server.endpoint(),
                mode,
                pids: None,
            });
        }
    }
    for (i, target) in targets.iter().enumerate() {
        for endpoint in &target.endpoints {
            for mode in args.modes() {
                plans.push(Plan {
                    target: target.url.clone(),
                    endpoint: endpoint.clone(),
                    mode,
                    pids: args.server_pids.get(i).cloned(),
                });
            }
        }
    }
    plans
}
