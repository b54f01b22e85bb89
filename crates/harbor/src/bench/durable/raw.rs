//! The raw baselines: each engine's own client doing what its driver does, no Harbor code,
//! written as a careful user of that client would (each engine crate's `raw` module says
//! exactly what it does, and [`RawEngine::describe`] says it in the report):
//!
//! - embedded: redb inserts, a window per fsync'd commit; reads and deletes 256 per commit.
//! - NATS: windowed JetStream publishes with a `Nats-Msg-Id` each; a pull consumer acking
//!   each message.
//! - Redis: one atomic dedup-and-append per record (a Lua `SET NX PX` then `XADD`, sent
//!   with `EVALSHA`), batched like the driver's publisher; `XREADGROUP` + `XACK` per batch.
//! - PostgreSQL: multi-row inserts into a table with the driver's message columns, unique
//!   dedup key and log index, on the driver's publish connection count; claim (`UPDATE …
//!   SKIP LOCKED`) and delete in batches.

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
    /// Removes what the bus left in the namespace the bench gave it (after `close`).
    fn cleanup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// The target to open and the raw engine of a durable driver target, or `None` for
/// in-process drivers.
///
/// `embedded` runs in a fresh temporary directory (under the system's temporary
/// directory; `embedded:///some/dir` puts it under that directory instead, to measure the
/// disk there, since a tmpfs `/tmp` makes every fsync free), the raw redb baseline in
/// another one beside it. A service URL with no query gets a namespace of its
/// own, removed afterwards, so runs never share one: a temporary stream on NATS (the bus
/// deletes it on close), a key prefix on Redis, a schema on PostgreSQL.
pub(super) fn for_target(target: &str) -> anyhow::Result<Option<(String, Box<dyn RawEngine>)>> {
    let scheme = target
        .split_once("://")
        .map_or(target, |(scheme, _)| scheme);
    let found: (String, Box<dyn RawEngine>) = match scheme {
        "embedded" => {
            let mut builder = tempfile::Builder::new();
            builder.prefix("harbor-bench-");
            let scratch = match target.strip_prefix("embedded://").filter(|p| !p.is_empty()) {
                Some(parent) => {
                    let parent = parent.split('?').next().unwrap_or(parent);
                    std::fs::create_dir_all(parent)?;
                    builder.tempdir_in(parent)?
                }
                None => builder.tempdir()?,
            };
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
            (url.clone(), Box::new(Nats::new(&url, url.clone())))
        }
        #[cfg(feature = "redis")]
        "redis" => {
            let bus = namespaced(target, "prefix", &format!("harbor-bench-{}", tag()));
            (bus.clone(), Box::new(Redis::new(target, bus)))
        }
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let bus = namespaced(target, "schema", &format!("harbor_bench_{}", tag()));
            (bus.clone(), Box::new(Postgres::new(target, bus)))
        }
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

/// A raw baseline reached by URL: one type per engine, all with the same calls. `$cleanup`
/// removes the bench's namespace from the bus URL (`None` when the user chose one).
macro_rules! url_engine {
    ($feature:literal, $name:ident, $module:path, $describe:literal, $cleanup:expr) => {
        #[cfg(feature = $feature)]
        struct $name {
            /// Where the raw client works (it makes its own scratch namespace there).
            raw: String,
            /// The bus's URL, with the namespace the bench made for it, if it made one.
            bus: Option<String>,
        }

        #[cfg(feature = $feature)]
        impl $name {
            fn new(target: &str, bus: String) -> Self {
                let made = bus != target;
                Self {
                    raw: target.to_owned(),
                    bus: made.then_some(bus),
                }
            }
        }

        #[cfg(feature = $feature)]
        impl RawEngine for $name {
            fn describe(&self) -> &'static str {
                $describe
            }

            fn publish(&self, messages: u64, payload: usize, window: usize) -> Timed<'_> {
                use $module as raw;
                Box::pin(
                    async move { Ok(raw::publish(&self.raw, messages, payload, window).await?) },
                )
            }

            fn consume(&self, messages: u64, payload: usize) -> Timed<'_> {
                use $module as raw;
                Box::pin(async move { Ok(raw::consume(&self.raw, messages, payload).await?) })
            }

            fn publish_latency(&self, samples: u64, payload: usize) -> Samples<'_> {
                use $module as raw;
                Box::pin(
                    async move { Ok(raw::publish_latency(&self.raw, samples, payload).await?) },
                )
            }

            fn cleanup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
                Box::pin(async move {
                    match &self.bus {
                        Some(bus) => $cleanup(bus.as_str()).await,
                        None => Ok(()),
                    }
                })
            }
        }
    };
}

#[cfg(feature = "nats")]
async fn nothing_to_clean(_bus: &str) -> anyhow::Result<()> {
    Ok(())
}

url_engine!(
    "nats",
    Nats,
    harbor_nats::raw,
    "async-nats: windowed JetStream publish with a Nats-Msg-Id each; pull consumer with explicit acks",
    nothing_to_clean
);
url_engine!(
    "redis",
    Redis,
    harbor_redis::raw,
    "redis-rs: EVALSHA of a Lua SET NX PX + XADD per record (dedup-and-append), 2 calls of window/2 in flight; XREADGROUP COUNT 256 + XACK per batch",
    |bus: &str| {
        let bus = bus.to_owned();
        async move {
            harbor_redis::RedisBus::connect_url(&bus)
                .await?
                .purge()
                .await?;
            anyhow::Ok(())
        }
    }
);
url_engine!(
    "postgres",
    Postgres,
    harbor_postgres::raw,
    "tokio-postgres: multi-row INSERT of the driver's columns (dedup unique key, (txid, seq) index), 2 connections x window/2 rows; 2 connections claim 256 (UPDATE vt .. FOR UPDATE SKIP LOCKED) then DELETE them",
    |bus: &str| {
        let bus = bus.to_owned();
        async move {
            let schema = harbor_postgres::PostgresBusConfig::from_url(&bus)?.schema;
            harbor_postgres::raw::drop_schema(&bus, &schema).await?;
            anyhow::Ok(())
        }
    }
);

/// A random tag for a bench namespace.
#[cfg(any(feature = "redis", feature = "postgres"))]
fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `target` with `key=value` added, when it has no query of its own.
#[cfg(any(feature = "redis", feature = "postgres"))]
fn namespaced(target: &str, key: &str, value: &str) -> String {
    if target.contains('?') {
        target.to_owned()
    } else {
        format!("{target}?{key}={value}")
    }
}

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
