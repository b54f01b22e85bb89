//! `harbor bench`: throughput and latency of drivers, with a raw baseline from the same
//! run beside every figure.

use clap::Subcommand;

mod baseline;
mod bus;
mod latency;
mod placement;
mod report;

/// What to measure.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// A bus driver: publish→deliver→ack throughput against a raw tokio mpsc, then
    /// publish-to-handler latency at half the measured rate.
    Bus(bus::BusArgs),
}

/// Runs one benchmark command.
pub(crate) async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Bus(args) => bus::run(args).await,
    }
}
