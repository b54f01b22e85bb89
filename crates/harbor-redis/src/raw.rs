//! The raw baseline for `harbor bench bus`: redis-rs alone, no Harbor code on the timed
//! path, doing the work the driver must do as a careful user of redis-rs would write it,
//! so the driver can be reported as a ratio of it.
//!
//! Each stored record carries what a stored envelope must carry: edge, tenant, user,
//! session, task id, event id and timestamp, length-prefixed, then the payload (a layout of
//! this module's own, about the size of the driver's envelope frame). Publishing is
//! deduplicated as the driver's is: one atomic dedup-and-append per record, a Lua script
//! doing `SET <dedup key> 1 NX PX <window>` and `XADD` only when the `SET` succeeded, sent
//! with `EVALSHA`.
//!
//! - [`publish`]: records go in script calls of up to [`BATCH`] records, [`PARALLEL`]
//!   calls in flight on one multiplexed connection, `window` records outstanding in all
//!   (the driver's publisher batches the same way: up to 256 per call, two calls in flight).
//! - [`consume`]: preloads the stream with the same script (untimed), then times
//!   `XREADGROUP COUNT` [`CONSUME_BATCH`] with one `XACK` of the batch per read, decoding
//!   every record, until all are consumed.
//! - [`publish_latency`]: one script call of one record at a time, each awaited.
//!
//! Every function works under a fresh random key prefix (`harbor-raw:<random>`: a stream
//! and the dedup keys) and deletes it before returning. Only the URL's server part is used.

use std::ops::Range;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use harbor_distributed::Error;
use redis::aio::ConnectionManager;
use redis::{Script, Value};

use crate::errors::backend;
use crate::reply;

/// Most records one script call stores: the driver publisher's batch.
pub const BATCH: usize = crate::publish::BATCH;
/// Script calls in flight at once, as in the driver's publisher.
pub const PARALLEL: usize = 2;
/// Entries read (and then acknowledged) per `XREADGROUP`: the bench's default in-flight
/// limit, which is what bounds the driver's reads.
pub const CONSUME_BATCH: usize = 256;

/// The fixed routing and identity of every record (the bench's envelopes share them too).
const EDGE: &str = "bench.raw.load";
const TENANT: &str = "bench";
const USER: &str = "bench-user";
const SESSION: &str = "bench-session";
const TASK: &str = "bench-task";

/// Dedup-and-append for a batch. KEYS: the stream, then one dedup key per record. ARGV:
/// the dedup window in ms, then the records. Returns each record's entry id, or false for
/// a duplicate (its dedup key was set: it is not stored again).
static DEDUP_APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local out = {}
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then
    out[i - 1] = redis.call('XADD', KEYS[1], '*', 'd', ARGV[i])
  else
    out[i - 1] = false
  end
end
return out
"#,
    )
});

async fn connect(url: &str) -> Result<ConnectionManager, Error> {
    let config = crate::RedisBusConfig::from_url(url)?;
    let client = redis::Client::open(config.server.as_str())
        .map_err(|e| Error::InvalidConfig(format!("redis URL: {e}")))?;
    let manager = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(10)));
    ConnectionManager::new_with_config(client, manager)
        .await
        .map_err(backend)
}

/// One run's keys: a stream and the dedup keys, all under a random prefix.
struct Scratch {
    prefix: String,
    stream: String,
    /// The dedup window, the driver's default.
    window_ms: u64,
}

impl Scratch {
    fn new() -> Self {
        let prefix = format!("harbor-raw:{}", uuid::Uuid::new_v4().simple());
        Self {
            stream: format!("{prefix}:s"),
            prefix,
            window_ms: crate::RedisBusConfig::default().dedup_window.as_millis() as u64,
        }
    }

    /// The idempotency key of event `event` (task, edge and event id, as the driver's).
    fn dedup_key(&self, event: &str) -> String {
        format!("{}:d:{TASK}:{EDGE}:{event}", self.prefix)
    }

    /// Stores records `events` (each with `body` as its payload) in one script call; the
    /// number stored (duplicates are not).
    async fn store(
        &self,
        conn: &mut ConnectionManager,
        events: Range<u64>,
        body: &[u8],
    ) -> Result<usize, Error> {
        let mut call = DEDUP_APPEND.prepare_invoke();
        call.key(&self.stream).arg(self.window_ms);
        for i in events {
            let event = i.to_string();
            call.key(self.dedup_key(&event))
                .arg(record(&event, SystemTime::now(), body));
        }
        let ids: Vec<Option<String>> = call.invoke_async(conn).await.map_err(backend)?;
        Ok(ids.iter().flatten().count())
    }

    /// Deletes every key of the run.
    async fn remove(&self, conn: &mut ConnectionManager) -> Result<(), Error> {
        crate::bus::purge(conn, &self.prefix).await
    }
}

/// A stored record: edge, tenant, user, session, task id and event id as `u16` length +
/// UTF-8, the timestamp as `u64` seconds and `u32` nanoseconds (little-endian), then the
/// payload.
fn record(event: &str, at: SystemTime, payload: &[u8]) -> Vec<u8> {
    let texts = [EDGE, TENANT, USER, SESSION, TASK, event];
    let len = texts.iter().map(|t| 2 + t.len()).sum::<usize>() + 12 + payload.len();
    let mut out = Vec::with_capacity(len);
    for text in texts {
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    out.extend_from_slice(&since.as_secs().to_le_bytes());
    out.extend_from_slice(&since.subsec_nanos().to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A record's six texts, timestamp and payload, or `None` when it is cut short or a text
/// is not UTF-8: what a consumer reads back before it works on a record.
fn parse(record: &[u8]) -> Option<([&str; 6], SystemTime, &[u8])> {
    let mut rest = record;
    let mut texts = [""; 6];
    for text in &mut texts {
        let (len, tail) = rest.split_first_chunk::<2>()?;
        let len = u16::from_le_bytes(*len) as usize;
        let (bytes, tail) = tail.split_at_checked(len)?;
        *text = std::str::from_utf8(bytes).ok()?;
        rest = tail;
    }
    let (secs, rest) = rest.split_first_chunk::<8>()?;
    let (nanos, payload) = rest.split_first_chunk::<4>()?;
    let at = UNIX_EPOCH.checked_add(Duration::new(
        u64::from_le_bytes(*secs),
        u32::from_le_bytes(*nanos),
    ))?;
    Some((texts, at, payload))
}

/// `0..messages` in ranges of at most `size`.
fn ranges(messages: u64, size: usize) -> impl Iterator<Item = Range<u64>> {
    let size = size.max(1) as u64;
    (0..messages.div_ceil(size)).map(move |n| n * size..((n + 1) * size).min(messages))
}

/// Stores `messages` records of `payload` bytes, deduplicated, with up to `window`
/// outstanding: script calls of `window / 2` records (at most [`BATCH`]), [`PARALLEL`] in
/// flight; the elapsed time.
pub async fn publish(
    url: &str,
    messages: u64,
    payload: usize,
    window: usize,
) -> Result<Duration, Error> {
    let conn = connect(url).await?;
    let scratch = Arc::new(Scratch::new());
    let body: Arc<[u8]> = vec![7u8; payload].into();
    let parallel = PARALLEL.min(window.max(1));
    let size = (window.max(1) / parallel).clamp(1, BATCH);
    let start = Instant::now();
    // Each call is a task of its own, so building one batch's records overlaps another's
    // round trip on a second core, as the driver's publishers and batcher do.
    let mut calls = futures::stream::iter(ranges(messages, size))
        .map(|events| {
            let (mut conn, scratch, body) = (conn.clone(), Arc::clone(&scratch), Arc::clone(&body));
            tokio::spawn(async move { scratch.store(&mut conn, events, &body).await })
        })
        .buffer_unordered(parallel);
    let mut stored = 0;
    let mut failure = None;
    while let Some(result) = calls.next().await {
        match result {
            Ok(Ok(n)) => stored += n as u64,
            Ok(Err(error)) => {
                failure = Some(error);
                break;
            }
            Err(join) => {
                failure = Some(Error::InvalidArgument(format!("raw publish task: {join}")));
                break;
            }
        }
    }
    let elapsed = start.elapsed();
    drop(calls);
    scratch.remove(&mut conn.clone()).await?;
    if let Some(error) = failure {
        return Err(error);
    }
    check_count("publish stored", stored, messages)?;
    Ok(elapsed)
}

/// Preloads `messages` records (untimed, with the same script), then times `XREADGROUP
/// COUNT` [`CONSUME_BATCH`], reading every record, and one `XACK` of the batch per read
/// until all are consumed.
pub async fn consume(url: &str, messages: u64, payload: usize) -> Result<Duration, Error> {
    let mut conn = connect(url).await?;
    let scratch = Scratch::new();
    let result = consume_in(&mut conn, &scratch, messages, payload).await;
    scratch.remove(&mut conn).await?;
    result
}

async fn consume_in(
    conn: &mut ConnectionManager,
    scratch: &Scratch,
    messages: u64,
    payload: usize,
) -> Result<Duration, Error> {
    let body = vec![7u8; payload];
    for events in ranges(messages, BATCH) {
        scratch.store(conn, events, &body).await?;
    }
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&scratch.stream)
        .arg("raw")
        .arg("0")
        .arg("MKSTREAM")
        .query_async::<()>(conn)
        .await
        .map_err(backend)?;
    let start = Instant::now();
    let mut consumed = 0;
    while consumed < messages {
        let value: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("raw")
            .arg("c")
            .arg("COUNT")
            .arg(CONSUME_BATCH)
            .arg("STREAMS")
            .arg(&scratch.stream)
            .arg(">")
            .query_async(conn)
            .await
            .map_err(backend)?;
        let mut ids = Vec::with_capacity(CONSUME_BATCH);
        for entry in reply::read_groups(value)
            .into_iter()
            .flat_map(|(_, entries)| entries)
        {
            let data = entry.data.as_deref().unwrap_or_default();
            let parsed = parse(data).ok_or_else(|| {
                Error::InvalidArgument(format!("raw consume: entry {} is no record", entry.id))
            })?;
            std::hint::black_box(parsed);
            ids.push(entry.id);
        }
        if ids.is_empty() {
            break;
        }
        consumed += ids.len() as u64;
        redis::cmd("XACK")
            .arg(&scratch.stream)
            .arg("raw")
            .arg(&ids)
            .query_async::<i64>(conn)
            .await
            .map_err(backend)?;
    }
    let elapsed = start.elapsed();
    check_count("consume read", consumed, messages)?;
    Ok(elapsed)
}

/// `samples` single-record script calls one at a time, each awaited; each one's latency.
pub async fn publish_latency(
    url: &str,
    samples: u64,
    payload: usize,
) -> Result<Vec<Duration>, Error> {
    let mut conn = connect(url).await?;
    let scratch = Scratch::new();
    let body = vec![7u8; payload];
    let mut out = Vec::with_capacity(samples as usize);
    let mut failure = None;
    for i in 0..samples {
        let start = Instant::now();
        if let Err(error) = scratch.store(&mut conn, i..i + 1, &body).await {
            failure = Some(error);
            break;
        }
        out.push(start.elapsed());
    }
    scratch.remove(&mut conn).await?;
    match failure {
        Some(error) => Err(error),
        None => Ok(out),
    }
}

fn check_count(what: &str, got: u64, wanted: u64) -> Result<(), Error> {
    if got == wanted {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "raw {what} {got} of {wanted} records"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let at = UNIX_EPOCH + Duration::new(1_700_000_000, 42);
        let bytes = record("ev-9", at, b"payload");
        let (texts, when, payload) = parse(&bytes).expect("a record");
        assert_eq!(texts, [EDGE, TENANT, USER, SESSION, TASK, "ev-9"]);
        assert_eq!((when, payload), (at, &b"payload"[..]));
        assert!(parse(&bytes[..10]).is_none());
    }

    #[test]
    fn ranges_cover_every_message_once() {
        let all: Vec<Range<u64>> = ranges(10, 4).collect();
        assert_eq!(all, vec![0..4, 4..8, 8..10]);
        assert_eq!(ranges(0, 4).count(), 0);
        assert_eq!(ranges(3, 0).count(), 3);
    }

    /// The baselines against a real server: `HARBOR_REDIS_URL`, skipped without it.
    #[tokio::test]
    async fn baselines_store_dedup_and_consume() -> Result<(), Error> {
        let Ok(url) = std::env::var("HARBOR_REDIS_URL") else {
            eprintln!("skipped: HARBOR_REDIS_URL is not set");
            return Ok(());
        };
        publish(&url, 1000, 64, 256).await?;
        consume(&url, 600, 64).await?;
        assert_eq!(publish_latency(&url, 5, 64).await?.len(), 5);

        // A record stored twice under one event id is stored once.
        let mut conn = connect(&url).await?;
        let scratch = Scratch::new();
        assert_eq!(scratch.store(&mut conn, 0..3, b"x").await?, 3);
        assert_eq!(scratch.store(&mut conn, 2..5, b"x").await?, 2);
        let len: u64 = redis::cmd("XLEN")
            .arg(&scratch.stream)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        assert_eq!(len, 5);
        scratch.remove(&mut conn).await?;
        let left: u64 = redis::cmd("EXISTS")
            .arg(&scratch.stream)
            .arg(scratch.dedup_key("0"))
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        assert_eq!(left, 0);
        Ok(())
    }
}
