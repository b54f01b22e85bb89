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

mod args;
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

pub(crate) use args::A2aArgs;
use card::Interfaces;
use endpoint::{Endpoint, Mode};
use load::Budget;
use report::{A2aReport, Row};

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
