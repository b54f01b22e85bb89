//! Metrics of `harbor serve`: the Prometheus recorder behind the admin listener's
//! `/metrics` (see `docs/observability.md` for the series).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use harbor_distributed::{MessageBus, MeteredBus};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Observability flags of `harbor serve`.
#[derive(Debug, Args)]
pub(crate) struct ObsArgs {
    /// Do not record metrics (they are recorded, and served as `/metrics` on the admin
    /// listener, whenever --admin is given).
    #[arg(long)]
    pub(crate) no_metrics: bool,
    #[command(flatten)]
    pub(crate) logs: LogArgs,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people (the default).
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Log flags of `harbor serve`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct LogArgs {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub(crate) log_format: LogFormat,
    /// Which logs to write, as RUST_LOG filters (e.g. `info`, `harbor_server=debug,warn`).
    /// Default: $RUST_LOG, else `warn`.
    #[arg(long, value_name = "FILTER")]
    pub(crate) log: Option<String>,
}

impl LogArgs {
    /// Installs the process's log subscriber.
    pub(crate) fn init(&self) -> anyhow::Result<()> {
        use tracing_subscriber::EnvFilter;
        let filter = match &self.log {
            Some(filter) => EnvFilter::try_new(filter)
                .with_context(|| format!("--log {filter:?} is not a valid filter"))?,
            None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        };
        let logs = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        match self.log_format {
            LogFormat::Human => logs.init(),
            LogFormat::Json => logs.json().init(),
        }
        Ok(())
    }
}

/// Latency buckets, in seconds: 100 µs to 10 s.
const SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Writes per store commit.
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// How often histograms are drained between scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// Installs the process's Prometheus recorder and describes every series; returns what
/// renders them.
pub(crate) fn install() -> anyhow::Result<harbor_server::admin::Metrics> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("harbor_store_commit_batch_size".into()),
                BATCH,
            )
        })
        .context("cannot configure the metrics buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    harbor_server::telemetry::describe();
    harbor_embedded::store::describe_metrics();
    harbor_distributed::bus::metered::describe_metrics();
    spawn_upkeep(handle.clone());
    Ok(Arc::new(move || handle.render()))
}

fn spawn_upkeep(handle: PrometheusHandle) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP);
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    });
}

/// `bus` counted under the driver `url` names (`embedded`, `memory`, or the URL's scheme).
pub(crate) fn metered(bus: Arc<dyn MessageBus>, url: &str) -> Arc<dyn MessageBus> {
    Arc::new(MeteredBus::new(bus, driver_label(url)))
}

/// The `driver` label of the bus `--bus` names.
fn driver_label(url: &str) -> &str {
    url.split_once("://").map_or(url, |(scheme, _)| scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_label_is_the_scheme_or_the_name() {
        for (url, want) in [
            ("memory", "memory"),
            ("embedded", "embedded"),
            ("nats://127.0.0.1:4222", "nats"),
            ("postgres://u@h/db", "postgres"),
            ("redis://127.0.0.1:6379/0", "redis"),
        ] {
            assert_eq!(driver_label(url), want, "{url}");
        }
    }
}
