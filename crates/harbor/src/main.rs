//! The `harbor` command: a small dispatcher, one module per subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod check;
mod client;
mod duration;
mod exec;
mod serve;
mod serve_auth;
mod serve_limits;
mod serve_push;

// The bus hands envelopes between threads, so most frees happen on another thread than the
// allocation: glibc's malloc spends several times longer on that than mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Harbor: the distributed edge for agent runtimes.
#[derive(Debug, Parser)]
#[command(name = "harbor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the A2A server (JSON-RPC, HTTP+JSON and gRPC) with the built-in conformance agent,
    /// or any program as the agent (--exec).
    Serve(Box<serve::ServeArgs>),
    /// Grade any A2A server with the conformance suite (JSON-RPC, HTTP+JSON and gRPC, as
    /// its card declares them).
    #[command(after_help = check::EXIT_CODES_HELP)]
    Check(check::CheckArgs),
    /// Measure drivers against raw baselines run in the same process.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Call any A2A agent: card, send, stream, get, list, cancel, subscribe, push.
    #[command(flatten)]
    Client(Box<client::ClientCommand>),
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve::run(*args).await.map(|()| ExitCode::SUCCESS),
        Command::Check(args) => Ok(check::run(args).await),
        Command::Bench(command) => bench::run(command).await.map(|()| ExitCode::SUCCESS),
        Command::Client(command) => Ok(client::run(*command).await),
    }
}
