//! `harbor bench`: throughput and latency of drivers, with a raw baseline from the same
//! run beside every figure.

use clap::Subcommand;

mod a2a;
mod baseline;
mod bus;
mod durable;
mod latency;
mod placement;
mod push;
mod report;

/// What to measure.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// A bus driver: publish→deliver→ack throughput against a raw tokio mpsc, then
    /// publish-to-handler latency at half the measured rate.
    Bus(bus::BusArgs),
    /// An A2A server (ours or any other): blocking SendMessage (and, with --stream,
    /// SendStreamingMessage) in a closed loop per binding and concurrency, beside a raw
    /// HTTP baseline.
    A2a(a2a::A2aArgs),
    /// Push delivery of a server: deliveries per second to a webhook in this process, and
    /// the delay from event to POST at half that rate.
    Push(push::PushArgs),
}

/// Runs one benchmark command.
pub(crate) async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Bus(args) => bus::run(args).await,
        BenchCommand::A2a(args) => a2a::run(args).await,
        BenchCommand::Push(args) => push::run(args).await,
    }
}
