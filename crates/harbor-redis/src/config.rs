//! The driver configuration and its URL form.

use std::fmt;
use std::time::Duration;

use harbor_distributed::Error;
use harbor_distributed::kit::{OldUnit, UrlParams};

/// How a [`RedisBus`](crate::RedisBus) behaves. Plain data: build it from [`Default`] and set
/// the fields, or parse it from a URL with [`RedisBusConfig::from_url`].
///
/// `Debug` never shows the password of [`server`](Self::server).
#[derive(Clone, PartialEq, Eq)]
pub struct RedisBusConfig {
    /// The server URL handed to redis-rs (`redis://[user:password@]host[:port][/db]`), without
    /// the driver's query parameters. Default is `redis://127.0.0.1:6379`.
    pub server: String,
    /// First part of every key the driver writes, so several deployments can share a server.
    /// Default is `harbor`.
    pub prefix: String,
    /// Client-side publish dedup on `(task_id, edge, event_id)`: a Lua script stores an
    /// idempotency key (`SET PX`) next to the `XADD`, atomically. Default is true.
    pub dedup: bool,
    /// How long an idempotency key is kept. Each costs roughly 100 bytes of server memory,
    /// so the window times the publish rate bounds that memory. Default is 2 minutes.
    pub dedup_window: Duration,
    /// Largest payload accepted, in bytes. Default is 1 MiB.
    pub max_payload: usize,
    /// How long one blocking `XREADGROUP` waits for new entries. It runs on a dedicated
    /// connection per subscription; `close` may wait this long for an idle reader.
    /// Default is 250 ms.
    pub block: Duration,
    /// Longest pause between two scans of a group's pending entries for deliveries whose
    /// visibility timeout passed (and for due delayed retries). A subscription scans at a
    /// quarter of its visibility timeout when that is shorter. Default is 1 s.
    pub claim_interval: Duration,
    /// How long `close` lets subscribers finish in-flight deliveries and drain what was
    /// published before it. Default is 5 s.
    pub drain_timeout: Duration,
    /// How long a command may wait for its reply before the connection counts as broken.
    /// The blocking reads get this plus [`block`](Self::block). Default is 2 s.
    pub response_timeout: Duration,
    /// How long publish, ack and nack retry an operation that failed with a retryable error
    /// (a lost connection) before they return it. The retries are idempotent: publish
    /// through the dedup key, ack and nack through the pending-entry checks. Default is 5 s.
    pub retry: Duration,
    /// Most ids one batched `XACK` carries. Default is 512.
    pub ack_batch: usize,
    /// How often a bus trims the streams it reads, below the oldest entry any group still
    /// needs (never a pending one). Zero turns trimming off. Default is 10 s.
    pub trim_interval: Duration,
    /// Consumer name prefix. Give a process a stable one (`worker-3`) and, after a restart,
    /// its subscriptions take back their own pending entries at once instead of after the
    /// visibility timeout. Two live buses must never share one. Default is a random id per
    /// bus.
    pub consumer: Option<String>,
}

impl Default for RedisBusConfig {
    fn default() -> Self {
        Self {
            server: "redis://127.0.0.1:6379".to_owned(),
            prefix: "harbor".to_owned(),
            dedup: true,
            dedup_window: Duration::from_secs(120),
            max_payload: 1024 * 1024,
            block: Duration::from_millis(250),
            claim_interval: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(2),
            retry: Duration::from_secs(5),
            ack_batch: 512,
            trim_interval: Duration::from_secs(10),
            consumer: None,
        }
    }
}

impl fmt::Debug for RedisBusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBusConfig")
            .field("server", &redact(&self.server))
            .field("prefix", &self.prefix)
            .field("dedup", &self.dedup)
            .field("dedup_window", &self.dedup_window)
            .field("max_payload", &self.max_payload)
            .field("block", &self.block)
            .field("claim_interval", &self.claim_interval)
            .field("drain_timeout", &self.drain_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("retry", &self.retry)
            .field("ack_batch", &self.ack_batch)
            .field("trim_interval", &self.trim_interval)
            .field("consumer", &self.consumer)
            .finish()
    }
}

/// The URL with its password replaced by `***`, for logs and `Debug`.
pub(crate) fn redact(server: &str) -> String {
    match url::Url::parse(server) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "<unparsable url>".to_owned(),
    }
}

impl RedisBusConfig {
    /// Parses `redis://[user:password@]host[:port][/db][?param=value&...]`. The query
    /// parameters set the fields of the same name (durations with their unit: `250ms`,
    /// `5s`, `2m`); the crate's `docs.md` lists them. The old spellings with `_ms` in the
    /// name (`block_ms=250`) are still read, with a deprecation warning.
    pub fn from_url(target: &str) -> Result<Self, Error> {
        let mut url = url::Url::parse(target).map_err(|e| {
            Error::InvalidConfig(format!(
                "redis bus URL {:?} is invalid: {e}",
                redact(target)
            ))
        })?;
        match url.scheme() {
            "redis" => {}
            "rediss" => {
                return Err(Error::InvalidConfig(
                    "rediss:// (TLS) is not supported by the redis bus driver: it is built without a TLS stack".into(),
                ));
            }
            other => {
                return Err(Error::InvalidConfig(format!(
                    "the redis bus driver serves redis:// URLs, not {other}://"
                )));
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::InvalidConfig(
                "redis bus URL needs a host (redis://host:port)".into(),
            ));
        }
        let mut config = Self::default();
        let mut params = UrlParams::parse("redis bus URL", url.query())?;
        config.read(&mut params)?;
        params.finish()?;
        url.set_query(None);
        config.server = url.to_string();
        Ok(config)
    }

    /// Sets the fields the URL's parameters name, each clamped to its smallest sane value.
    fn read(&mut self, p: &mut UrlParams) -> Result<(), Error> {
        let ms = |d: Option<Duration>, least: u64| d.map(|d| d.max(Duration::from_millis(least)));
        if let Some(prefix) = p.non_empty("prefix")? {
            self.prefix = prefix;
        }
        if let Some(dedup) = p.bool("dedup")? {
            self.dedup = dedup;
        }
        let old = OldUnit::Millis;
        if let Some(d) = ms(
            p.duration_or_old("dedup_window", "dedup_window_ms", old)?,
            1,
        ) {
            self.dedup_window = d;
        }
        if let Some(n) = p.integer("max_payload")? {
            self.max_payload = n;
        }
        if let Some(d) = ms(p.duration_or_old("block", "block_ms", old)?, 1) {
            self.block = d;
        }
        if let Some(d) = ms(
            p.duration_or_old("claim_interval", "claim_interval_ms", old)?,
            10,
        ) {
            self.claim_interval = d;
        }
        if let Some(d) = p.duration_or_old("drain_timeout", "drain_timeout_ms", old)? {
            self.drain_timeout = d;
        }
        let response = p.duration_or_old("response_timeout", "response_timeout_ms", old)?;
        if let Some(d) = ms(response, 10) {
            self.response_timeout = d;
        }
        if let Some(d) = p.duration_or_old("retry", "retry_ms", old)? {
            self.retry = d;
        }
        if let Some(n) = p.integer::<usize>("ack_batch")? {
            self.ack_batch = n.max(1);
        }
        if let Some(d) = p.duration_or_old("trim_interval", "trim_interval_ms", old)? {
            self.trim_interval = d;
        }
        if let Some(consumer) = p.non_empty("consumer")? {
            self.consumer = Some(consumer);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_fields() {
        let c = RedisBusConfig::from_url(
            "redis://u:secret@h:7000/2?prefix=p&dedup=false&block=100ms&drain_timeout=2s&trim_interval=0",
        )
        .expect("valid");
        assert_eq!(c.prefix, "p");
        assert_eq!(c.drain_timeout, Duration::from_secs(2));
        assert_eq!(c.trim_interval, Duration::ZERO);
        assert!(!c.dedup);
        assert_eq!(c.block, Duration::from_millis(100));
        assert_eq!(c.server, "redis://u:secret@h:7000/2");
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(
            RedisBusConfig::from_url("redis://h").expect("valid").server,
            "redis://h"
        );
    }

    #[test]
    fn old_ms_spellings_read_as_the_new_ones() {
        let old = RedisBusConfig::from_url(
            "redis://h?dedup_window_ms=60000&block_ms=100&claim_interval_ms=500&drain_timeout_ms=2000&response_timeout_ms=1000&retry_ms=3000&trim_interval_ms=0",
        )
        .expect("old spellings");
        let new = RedisBusConfig::from_url(
            "redis://h?dedup_window=1m&block=100ms&claim_interval=500ms&drain_timeout=2s&response_timeout=1s&retry=3s&trim_interval=0",
        )
        .expect("new spellings");
        assert_eq!(old, new);
        assert_eq!(new.dedup_window, Duration::from_secs(60));
        assert_eq!(new.retry, Duration::from_secs(3));
    }

    #[test]
    fn bad_urls_name_the_problem() {
        for (bad, needle) in [
            ("redis://h?nope=1", "nope"),
            ("redis://h?block_ms=x", "block_ms"),
            ("redis://h?block=soon", "block"),
            (
                "redis://h?drain_timeout=5s&drain_timeout_ms=5000",
                "drain_timeout",
            ),
            ("redis://h?prefix=a&prefix=b", "more than once"),
            ("redis://h?prefix=", "prefix"),
            ("redis://h?dedup=maybe", "dedup"),
            ("rediss://h", "TLS"),
            ("nats://h", "nats"),
        ] {
            match RedisBusConfig::from_url(bad) {
                Err(Error::InvalidConfig(m)) => assert!(m.contains(needle), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        match RedisBusConfig::from_url("redis://u:pw@h?x=1") {
            Err(Error::InvalidConfig(m)) => assert!(!m.contains("pw@"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
