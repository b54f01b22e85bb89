//! `harbor check URL`: grades any A2A server with the conformance suite.
//!
//! The server's card is fetched from `URL/.well-known/agent-card.json`; every case of
//! `harbor_conformance::server` then runs against the interfaces it declares: the
//! HTTP-level cases on JSON-RPC and HTTP+JSON, the `grpc_*` cases on gRPC. A case for a
//! binding or capability the card does not declare is skipped with the reason. While it
//! runs, a progress bar is drawn on stderr (on a terminal only); then a table by area and
//! binding says PASS, FAIL or SKIP for each case, with a one-line reason per failure.
//! `--json` prints the report as one JSON document instead, and `--junit FILE` also writes
//! it as JUnit XML for CI.
//!
//! The cases drive the agent with the conformance kit's message-id prefixes
//! (`tck-complete-task`, `tck-input-required`, …): a server whose agent does not follow
//! them fails the cases that need them, and says which in the reasons.

mod junit;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use futures::StreamExt;
use harbor_conformance::server::{
    Binding, CASES, CaseEntry, CaseReport, Report, ServerTarget, TargetOptions, run_case,
};
use indicatif::{ProgressBar, ProgressStyle};

/// What `harbor check` exits with when a case failed.
const EXIT_FAILED: u8 = 1;
/// What it exits with when the report cannot be written.
const EXIT_LOCAL: u8 = 2;
/// What it exits with when the server or its card cannot be used.
const EXIT_TARGET: u8 = 4;

/// The exit codes, for `--help`.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  every case passed or was skipped
  1  at least one case failed
  2  usage, or the JUnit report could not be written
  4  the server could not be reached, or its agent card is unusable";

/// Options of `harbor check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The server's base URL; its card is at URL/.well-known/agent-card.json.
    #[arg(value_name = "URL")]
    url: String,
    /// Print the report as one JSON document on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Check push delivery too: start a webhook receiver on this host and let the server
    /// call it (the server must allow loopback webhooks, e.g. harbor serve
    /// --allow-private-webhooks). Otherwise that case is skipped.
    #[arg(long)]
    webhooks: bool,
    /// The host the webhook receiver binds and the server is told to call.
    #[arg(
        long,
        value_name = "HOST",
        default_value = "127.0.0.1",
        requires = "webhooks"
    )]
    webhook_host: String,
    /// Run only the cases whose name contains NAME (repeatable).
    #[arg(long = "case", value_name = "NAME")]
    cases: Vec<String>,
    /// Check only these bindings (repeat or separate with commas); the card's own cases
    /// always run. Default: every binding the card declares.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "BINDING")]
    binding: Vec<BindingArg>,
    /// Seconds any single wait of a case may take (a case gets four times that in all).
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    deadline: u64,
    /// Cases run at once (each uses its own ids, so they can share the server).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
}

/// `--binding` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BindingArg {
    /// JSON-RPC 2.0 over HTTP.
    Jsonrpc,
    /// HTTP+JSON (REST).
    HttpJson,
    /// gRPC.
    Grpc,
}

impl From<BindingArg> for Binding {
    fn from(binding: BindingArg) -> Self {
        match binding {
            BindingArg::Jsonrpc => Binding::JsonRpc,
            BindingArg::HttpJson => Binding::HttpJson,
            BindingArg::Grpc => Binding::Grpc,
        }
    }
}

impl CheckArgs {
    /// Whether the options select `entry`.
    fn selects(&self, entry: &CaseEntry) -> bool {
        let named = self.cases.is_empty() || self.cases.iter().any(|c| entry.name.contains(c));
        let bound = match entry.binding {
            None => true,
            Some(binding) => {
                self.binding.is_empty() || self.binding.iter().any(|b| Binding::from(*b) == binding)
            }
        };
        named && bound
    }
}

/// Runs `harbor check`; the exit code says how it went.
pub(crate) async fn run(args: CheckArgs) -> ExitCode {
    let options = TargetOptions {
        allow_loopback_webhooks: args.webhooks,
        webhook_host: args.webhook_host.clone(),
        deadline: Duration::from_secs(args.deadline.max(1)),
        ..TargetOptions::default()
    };
    let target = match ServerTarget::connect_with(args.url.as_str(), options).await {
        Ok(target) => target,
        Err(e) => {
            eprintln!("harbor check: {e}");
            return ExitCode::from(EXIT_TARGET);
        }
    };
    let entries: Vec<&CaseEntry> = CASES.iter().filter(|e| args.selects(e)).collect();
    if entries.is_empty() {
        eprintln!("harbor check: no case matches --case {:?}", args.cases);
        return ExitCode::from(EXIT_LOCAL);
    }
    let started = Instant::now();
    let report = run_cases(&target, &entries, usize::from(args.jobs)).await;
    let elapsed = started.elapsed();

    if let Some(path) = &args.junit {
        let xml = junit::render(&target.base_url, &report, elapsed);
        if let Err(e) = std::fs::write(path, xml) {
            eprintln!("harbor check: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_LOCAL);
        }
    }
    let out = if args.json {
        render::json(&target.base_url, &report, elapsed).to_string()
    } else {
        render::table(&target, &report, elapsed)
    };
    println!("{out}");
    if report.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// Runs `entries`, `jobs` at a time, with a progress bar; the report keeps suite order.
async fn run_cases(target: &ServerTarget, entries: &[&CaseEntry], jobs: usize) -> Report {
    let bar = ProgressBar::new(entries.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} checking [{bar:30}] {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    if bar.is_hidden() {
        eprintln!(
            "harbor check: {} cases against {} ({} at a time)",
            entries.len(),
            target.base_url,
            jobs
        );
    }
    let mut done: Vec<(usize, CaseReport)> = futures::stream::iter(entries.iter().enumerate())
        .map(|(i, entry)| async move { (i, run_case(target, entry).await) })
        .buffer_unordered(jobs)
        .inspect(|(_, case)| {
            bar.inc(1);
            bar.set_message(format!(
                "{} {}",
                render::label(&case.outcome),
                render::case_name(case)
            ));
        })
        .collect()
        .await;
    bar.finish_and_clear();
    done.sort_by_key(|(i, _)| *i);
    Report {
        cases: done.into_iter().map(|(_, case)| case).collect(),
    }
}
