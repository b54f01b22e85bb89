//! The raw baseline for `harbor bench bus`: redis-rs alone, no Harbor code, doing what the
//! driver does (pipelined `XADD`; `XREADGROUP COUNT 100` plus one `XACK` per batch), in a
//! fresh random key it deletes afterwards.

use std::time::{Duration, Instant};

use futures::StreamExt;
use harbor_distributed::Error;
use redis::Value;
use redis::aio::ConnectionManager;

use crate::backend::backend;
use crate::reply;

async fn connect(url: &str) -> Result<ConnectionManager, Error> {
    let config = crate::Config::from_url(url)?;
    let client = redis::Client::open(config.server.as_str())
        .map_err(|e| Error::InvalidConfig(format!("redis URL: {e}")))?;
    let manager = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(10)));
    ConnectionManager::new_with_config(client, manager)
        .await
        .map_err(backend)
}

fn fresh_key() -> String {
    format!("harbor-raw:{}", uuid::Uuid::new_v4().simple())
}

async fn delete(conn: &mut ConnectionManager, key: &str) -> Result<(), Error> {
    redis::cmd("DEL")
        .arg(key)
        .query_async::<()>(conn)
        .await
        .map_err(backend)
}

/// `XADD`s `messages` bodies of `payload` bytes with up to `window` outstanding on one
/// multiplexed connection (redis-rs pipelines them); the elapsed time.
pub async fn publish(
    url: &str,
    messages: u64,
    payload: usize,
    window: usize,
) -> Result<Duration, Error> {
    let conn = connect(url).await?;
    let key = fresh_key();
    let body = vec![7u8; payload];
    let start = Instant::now();
    let mut sent = futures::stream::iter(0..messages)
        .map(|_| {
            let mut conn = conn.clone();
            let (key, body) = (&key, &body);
            async move {
                redis::cmd("XADD")
                    .arg(key)
                    .arg("*")
                    .arg("d")
                    .arg(body)
                    .query_async::<String>(&mut conn)
                    .await
            }
        })
        .buffer_unordered(window.max(1));
    while let Some(result) = sent.next().await {
        result.map_err(backend)?;
    }
    let elapsed = start.elapsed();
    drop(sent);
    delete(&mut conn.clone(), &key).await?;
    Ok(elapsed)
}

/// Preloads `messages` entries (untimed), then times `XREADGROUP COUNT 100` with one
/// `XACK` of the batch per read until all are consumed.
pub async fn consume(url: &str, messages: u64, payload: usize) -> Result<Duration, Error> {
    let mut conn = connect(url).await?;
    let key = fresh_key();
    let body = vec![7u8; payload];
    let mut left = messages;
    while left > 0 {
        let n = left.min(1000);
        let mut pipe = redis::pipe();
        for _ in 0..n {
            pipe.cmd("XADD")
                .arg(&key)
                .arg("*")
                .arg("d")
                .arg(&body)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await.map_err(backend)?;
        left -= n;
    }
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&key)
        .arg("raw")
        .arg("0")
        .query_async::<()>(&mut conn)
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
            .arg(100)
            .arg("STREAMS")
            .arg(&key)
            .arg(">")
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        let ids: Vec<String> = reply::read_groups(value)
            .into_iter()
            .flat_map(|(_, entries)| entries.into_iter().map(|e| e.id))
            .collect();
        if ids.is_empty() {
            break;
        }
        consumed += ids.len() as u64;
        redis::cmd("XACK")
            .arg(&key)
            .arg("raw")
            .arg(&ids)
            .query_async::<i64>(&mut conn)
            .await
            .map_err(backend)?;
    }
    let elapsed = start.elapsed();
    delete(&mut conn, &key).await?;
    Ok(elapsed)
}

/// `samples` `XADD`s one at a time, each awaited; each one's latency.
pub async fn publish_latency(
    url: &str,
    samples: u64,
    payload: usize,
) -> Result<Vec<Duration>, Error> {
    let mut conn = connect(url).await?;
    let key = fresh_key();
    let body = vec![7u8; payload];
    let mut out = Vec::with_capacity(samples as usize);
    for _ in 0..samples {
        let start = Instant::now();
        redis::cmd("XADD")
            .arg(&key)
            .arg("*")
            .arg("d")
            .arg(&body)
            .query_async::<String>(&mut conn)
            .await
            .map_err(backend)?;
        out.push(start.elapsed());
    }
    delete(&mut conn, &key).await?;
    Ok(out)
}
