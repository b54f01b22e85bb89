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

/// Log and trace flags of `harbor serve`.
#[derive(Debug, Clone, Args)]
pub(crate) struct LogArgs {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub(crate) log_format: LogFormat,
    /// Which logs to write, as RUST_LOG filters (e.g. `info`, `harbor_server=debug,warn`).
    /// Default: $RUST_LOG, else `warn`.
    #[arg(long, value_name = "FILTER")]
    pub(crate) log: Option<String>,
    /// Export traces over OTLP/gRPC to this collector, e.g. http://127.0.0.1:4317; W3C
    /// trace context is then read and written on every hop (HTTP, gRPC, bus, webhooks).
    /// Default: no tracing (and no cost).
    #[arg(long, value_name = "URL")]
    pub(crate) otlp_endpoint: Option<String>,
    /// A header (gRPC metadata) sent with every export, e.g. `authorization=Bearer T`;
    /// repeatable. Needs --otlp-endpoint.
    #[arg(long, value_name = "NAME=VALUE", requires = "otlp_endpoint", value_parser = header_pair)]
    pub(crate) otlp_header: Vec<(String, String)>,
    /// Share of new traces that are sampled, 0.0 to 1.0 (a request that arrives with a
    /// sampled parent is always traced).
    #[arg(long, value_name = "RATIO", default_value_t = 1.0, value_parser = ratio)]
    pub(crate) trace_sample: f64,
}

impl Default for LogArgs {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Human,
            log: None,
            otlp_endpoint: None,
            otlp_header: Vec::new(),
            trace_sample: 1.0,
        }
    }
}

fn header_pair(value: &str) -> Result<(String, String), String> {
    let (name, value) = value
        .split_once('=')
        .ok_or_else(|| "expected NAME=VALUE".to_owned())?;
    Ok((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
}

fn ratio(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err("expected a number from 0.0 to 1.0".to_owned()),
    }
}

/// The spans exported when tracing is on: Harbor's own, down to the store's (debug).
const TRACED: &str = "off,harbor=debug,harbor_server=debug,harbor_client=debug,harbor_distributed=debug,harbor_embedded=debug";

/// What must outlive the process's work: the tracer provider, flushed by [`Self::shutdown`].
pub(crate) struct Telemetry {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered.
    pub(crate) fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("harbor: the last traces were not exported: {error}");
        }
    }
}

impl LogArgs {
    /// Installs the process's log subscriber and, with --otlp-endpoint, the trace export.
    pub(crate) fn init(&self) -> anyhow::Result<Telemetry> {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        use tracing_subscriber::{EnvFilter, Layer as _};
        let filter = match &self.log {
            Some(filter) => EnvFilter::try_new(filter)
                .with_context(|| format!("--log {filter:?} is not a valid filter"))?,
            None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        };
        let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let logs = match self.log_format {
            LogFormat::Human => logs.with_filter(filter).boxed(),
            LogFormat::Json => logs.json().with_filter(filter).boxed(),
        };
        let (traces, provider) = match &self.otlp_endpoint {
            Some(endpoint) => {
                let provider = self.tracer_provider(endpoint)?;
                use opentelemetry::trace::TracerProvider as _;
                let layer = tracing_opentelemetry::layer()
                    .with_tracer(provider.tracer("harbor"))
                    .with_filter(EnvFilter::new(TRACED));
                (Some(layer), Some(provider))
            }
            None => (None, None),
        };
        tracing_subscriber::registry()
            .with(logs)
            .with(traces)
            .try_init()
            .context("cannot install the log subscriber")?;
        if provider.is_some() {
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            harbor_distributed::trace_context::enable();
        }
        Ok(Telemetry { provider })
    }

    fn tracer_provider(
        &self,
        endpoint: &str,
    ) -> anyhow::Result<opentelemetry_sdk::trace::SdkTracerProvider> {
        use opentelemetry_otlp::{WithExportConfig as _, WithTonicConfig as _};
        use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
        let mut metadata = tonic::metadata::MetadataMap::new();
        for (name, value) in &self.otlp_header {
            let key = tonic::metadata::MetadataKey::from_bytes(name.as_bytes())
                .with_context(|| format!("--otlp-header: {name:?} is not a header name"))?;
            let value = value
                .parse()
                .map_err(|_| anyhow::anyhow!("--otlp-header: the value of {name} is not valid"))?;
            metadata.insert(key, value);
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_metadata(metadata)
            .build()
            .with_context(|| format!("cannot export traces to {endpoint}"))?;
        // The batch processor on the tokio runtime: tonic's channel needs its reactor.
        let processor =
            opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
                exporter,
                opentelemetry_sdk::runtime::Tokio,
            )
            .build();
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("harbor")
            .build();
        Ok(SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                self.trace_sample,
            ))))
            .with_resource(resource)
            .build())
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
/// How long a scrape waits for the bus to tell a group's consumer lag.
const LAG_TIMEOUT: Duration = Duration::from_secs(1);

/// Installs the process's Prometheus recorder and describes every series; returns what
/// renders them (see [`exposition`]).
pub(crate) fn install() -> anyhow::Result<PrometheusHandle> {
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
    harbor_distributed::store::commits::describe_metrics();
    harbor_distributed::bus::metered::describe_metrics();
    spawn_upkeep(handle.clone());
    Ok(handle)
}

/// What `/metrics` serves: `handle`'s series, after the consumer lag of `bus`'s groups was
/// read (each query bounded by [`LAG_TIMEOUT`], all at once).
pub(crate) fn exposition(
    handle: PrometheusHandle,
    bus: Option<Arc<MeteredBus>>,
) -> harbor_server::admin::Metrics {
    Arc::new(move || {
        let (handle, bus) = (handle.clone(), bus.clone());
        Box::pin(async move {
            if let Some(bus) = bus {
                bus.record_consumer_lag(LAG_TIMEOUT).await;
            }
            handle.render()
        })
    })
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
pub(crate) fn metered(bus: Arc<dyn MessageBus>, url: &str) -> Arc<MeteredBus> {
    Arc::new(MeteredBus::new(bus, driver_label(url)))
}

/// The `driver` label of the bus `--bus` names.
fn driver_label(url: &str) -> &str {
    url.split_once("://").map_or(url, |(scheme, _)| scheme)
}

#[cfg(test)]
mod tests {
    use harbor_distributed::memory::MemoryBus;
    use harbor_distributed::{Envelope, Identity, IdentityScope, SubscribeOptions};

    use super::*;

    #[tokio::test]
    async fn a_scrape_reads_the_consumer_lag_of_the_servers_groups_first() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // The test's runtime is single-threaded: the handles and the render use this one.
        let _local = metrics::set_default_local_recorder(&recorder);
        let bus = metered(Arc::new(MemoryBus::default()), "memory");
        let _sub = bus
            .subscribe(SubscribeOptions::new(
                ["harbor.log"],
                "harbor-1",
                IdentityScope::Admin,
            ))
            .await
            .expect("subscribe");
        let who = Identity::new("t", "u", "s").expect("identity");
        for id in ["e1", "e2"] {
            bus.publish(Envelope::new("harbor.log", who.clone(), id, "x"))
                .await
                .expect("publish");
        }
        let render = exposition(handle, Some(bus));
        let text = render().await;
        assert!(
            text.lines()
                .any(|l| l == r#"harbor_bus_consumer_lag{driver="memory",group="harbor-1"} 2"#),
            "{text}"
        );
    }

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
