//! The raw baselines: each engine's own client doing what its driver does, no Harbor code.

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;

/// The elapsed time of a timed run.
type Timed<'a> = BoxFuture<'a, anyhow::Result<Duration>>;
/// One latency per sample.
type Samples<'a> = BoxFuture<'a, anyhow::Result<Vec<Duration>>>;

/// An engine's raw client, for the durable benchmark.
pub(in super::super) trait RawEngine: Send + Sync {
    /// What the baseline does, in words, for the report.
    fn describe(&self) -> &'static str;
    /// Durably publishes `messages` bodies of `payload` bytes with up to `window`
    /// outstanding; the elapsed time.
    fn publish(&self, messages: u64, payload: usize, window: usize) -> Timed<'_>;
    /// Preloads `messages` bodies (untimed), then consumes and acknowledges them all; the
    /// elapsed time of the consuming.
    fn consume(&self, messages: u64, payload: usize) -> Timed<'_>;
    /// `samples` publishes one at a time, each awaited; each one's latency.
    fn publish_latency(&self, samples: u64, payload: usize) -> Samples<'_>;
}

/// The target to open and the raw engine of a durable driver target, or `None` for
/// in-process drivers.
///
/// `embedded` (or an `embedded://` URL) runs in a fresh temporary directory, the raw redb
/// baseline in another one beside it. A `nats://` URL with no query gets a stream of its
/// own that the bus deletes on close, so runs never share one.
pub(super) fn for_target(target: &str) -> anyhow::Result<Option<(String, Box<dyn RawEngine>)>> {
    let scheme = target
        .split_once("://")
        .map_or(target, |(scheme, _)| scheme);
    let found: (String, Box<dyn RawEngine>) = match scheme {
        "embedded" => {
            let scratch = tempfile::Builder::new().prefix("harbor-bench-").tempdir()?;
            let bus_dir = scratch.path().join("bus");
            let raw_dir = scratch.path().join("raw");
            std::fs::create_dir_all(&raw_dir)?;
            let bus_target = format!("embedded://{}", bus_dir.display());
            (
                bus_target,
                Box::new(Embedded {
                    _scratch: scratch,
                    raw_dir,
                }),
            )
        }
        #[cfg(feature = "nats")]
        "nats" | "jetstream" => {
            let url = nats_url(target);
            (url.clone(), Box::new(Nats(url)))
        }
        #[cfg(feature = "redis")]
        "redis" => (target.to_owned(), Box::new(Redis(target.to_owned()))),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => (target.to_owned(), Box::new(Postgres(target.to_owned()))),
        _ => return Ok(None),
    };
    Ok(Some(found))
}

/// The redb baseline; owns the temporary directory of the whole run.
struct Embedded {
    /// Held so the directory is removed when the run ends.
    _scratch: tempfile::TempDir,
    raw_dir: PathBuf,
}

impl RawEngine for Embedded {
    fn describe(&self) -> &'static str {
        "redb: batched fsync'd inserts; reads+deletes 256 per commit; one insert per commit"
    }

    fn publish(&self, messages: u64, payload: usize, window: usize) -> Timed<'_> {
        Box::pin(async move {
            Ok(harbor_embedded::raw::publish(&self.raw_dir, messages, payload, window).await?)
        })
    }

    fn consume(&self, messages: u64, payload: usize) -> Timed<'_> {
        Box::pin(async move {
            Ok(harbor_embedded::raw::consume(&self.raw_dir, messages, payload).await?)
        })
    }

    fn publish_latency(&self, samples: u64, payload: usize) -> Samples<'_> {
        Box::pin(async move {
            Ok(harbor_embedded::raw::publish_latency(&self.raw_dir, samples, payload).await?)
        })
    }
}

/// A raw baseline reached by URL: one type per engine, all with the same three calls.
macro_rules! url_engine {
    ($feature:literal, $name:ident, $module:path, $describe:literal) => {
        #[cfg(feature = $feature)]
        struct $name(String);

        #[cfg(feature = $feature)]
        impl RawEngine for $name {
            fn describe(&self) -> &'static str {
                $describe
            }

            fn publish(&self, messages: u64, payload: usize, window: usize) -> Timed<'_> {
                use $module as raw;
                Box::pin(async move { Ok(raw::publish(&self.0, messages, payload, window).await?) })
            }

            fn consume(&self, messages: u64, payload: usize) -> Timed<'_> {
                use $module as raw;
                Box::pin(async move { Ok(raw::consume(&self.0, messages, payload).await?) })
            }

            fn publish_latency(&self, samples: u64, payload: usize) -> Samples<'_> {
                use $module as raw;
                Box::pin(async move { Ok(raw::publish_latency(&self.0, samples, payload).await?) })
            }
        }
    };
}

url_engine!(
    "nats",
    Nats,
    harbor_nats::raw,
    "async-nats: windowed JetStream publish; pull consumer with explicit acks"
);
url_engine!(
    "redis",
    Redis,
    harbor_redis::raw,
    "redis-rs: pipelined XADD; XREADGROUP COUNT 100 + XACK per batch"
);
url_engine!(
    "postgres",
    Postgres,
    harbor_postgres::raw,
    "tokio-postgres: batched multi-row INSERT; DELETE .. FOR UPDATE SKIP LOCKED LIMIT 100"
);

/// A NATS URL for the bench: with no query, a fresh temporary stream and subject prefix.
#[cfg(feature = "nats")]
fn nats_url(target: &str) -> String {
    if target.contains('?') {
        return target.to_owned();
    }
    let tag = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}?stream=HARBOR_BENCH_{tag}&prefix=harbor-bench-{tag}&temporary=true",
        target.trim_end_matches('/')
    )
}
