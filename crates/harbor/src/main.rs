//! The `harbor` command: a small dispatcher, one module per subcommand.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod bench;
mod check;
mod client;
mod config;
mod config_cmd;
mod duration;
mod exec;
mod serve;
mod serve_auth;
mod serve_limits;
mod serve_obs;
mod serve_push;
mod worker;

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
    /// Run an agent worker: take the work front doors (`harbor serve --workers`) publish
    /// on the bus and run the built-in conformance agent (or --exec) on it, under
    /// execution leases in the shared PostgreSQL store. See docs/workers.md.
    Worker(Box<worker::WorkerArgs>),
    /// Grade any A2A server with the conformance suite (JSON-RPC, HTTP+JSON and gRPC, as
    /// its card declares them).
    #[command(after_help = check::EXIT_CODES_HELP)]
    Check(check::CheckArgs),
    /// Measure drivers against raw baselines run in the same process.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Check a configuration file of `harbor serve` and print the effective settings.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Call any A2A agent: card, send, stream, get, list, cancel, subscribe, push.
    #[command(flatten)]
    Client(Box<client::ClientCommand>),
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("harbor: {error:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let logs = match &cli.command {
        Command::Serve(args) => args.logs(),
        _ => serve_obs::LogArgs::default(),
    };
    let telemetry = logs.init()?;
    let result = match cli.command {
        Command::Serve(args) => serve::run(*args).await.map(|()| ExitCode::SUCCESS),
        Command::Worker(args) => worker::run(*args).await.map(|()| ExitCode::SUCCESS),
        Command::Check(args) => Ok(check::run(args).await),
        Command::Bench(command) => bench::run(command).await.map(|()| ExitCode::SUCCESS),
        Command::Config(command) => Ok(config_cmd::run(command)),
        Command::Client(command) => Ok(client::run(*command).await),
    };
    // The flush waits on the exporter's task, which runs on this runtime.
    tokio::task::block_in_place(|| telemetry.shutdown());
    result
}

/// The command line; for `harbor serve`, over the settings of its configuration file and
/// `HARBOR_*` variables (see [`config`]). Clap's own errors exit here, as usual.
fn parse() -> anyhow::Result<Cli> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut command =
        Cli::command().mut_subcommand("serve", |serve| serve.args_override_self(true));
    if args.get(1).is_some_and(|a| a == "serve") {
        let serve = command
            .find_subcommand_mut("serve")
            .map(|s| s.clone())
            .unwrap_or_else(|| clap::Command::new("serve"));
        let file = config::config_path(&args[2..]);
        let layers = config::Layers::read(&serve, file.as_deref(), std::env::vars())?;
        let tail = args.split_off(2);
        args.extend(layers.args(&serve));
        args.extend(tail);
    }
    let matches = command.get_matches_from(args);
    Ok(Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
}
