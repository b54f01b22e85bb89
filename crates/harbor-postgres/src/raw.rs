//! The raw baseline for `harbor bench bus`: the same work done with `tokio-postgres` and
//! plain SQL, with none of the bus, so the driver can be reported as a ratio of it.
//!
//! Each function works in a fresh schema `harbor_raw_<random>` holding one queue table
//! (`id bigserial`, a unique text key, a `bytea` body, `vt`, `read_ct`: the shape of a
//! pgmq queue), and drops it afterwards. Only the URL's server part is used.
//!
//! - [`publish`]: multi-row `INSERT`s of up to 512 rows, with up to `window` rows
//!   outstanding over up to 4 connections; each insert is its own committed transaction.
//! - [`consume`]: preloads the queue (untimed), then times two connections each claiming
//!   100 rows at a time (`UPDATE … SET vt, read_ct WHERE id IN (SELECT … FOR UPDATE SKIP
//!   LOCKED LIMIT 100) RETURNING`) and acknowledging them (`DELETE … WHERE id = ANY`)
//!   until the queue is empty.
//! - [`publish_latency`]: one single-row insert at a time.

use std::time::{Duration, Instant};

use futures::future::try_join_all;
use harbor_distributed::Error;
use tokio_postgres::{Client, NoTls};

use crate::config::Config;
use crate::errors;

/// Rows per multi-row insert.
const BATCH: usize = 512;
/// Rows per claim.
const CLAIM: i64 = 100;

/// A connection whose driving task ends when the client is dropped.
async fn connect(url: &str) -> Result<Client, Error> {
    let config = Config::from_url(url)?.server_config()?;
    let (client, connection) = config.connect(NoTls).await.map_err(errors::backend)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A fresh schema with the queue table; dropped by [`Scratch::drop_schema`].
struct Scratch {
    schema: String,
    admin: Client,
}

impl Scratch {
    async fn new(url: &str) -> Result<Self, Error> {
        let admin = connect(url).await?;
        let schema = format!("harbor_raw_{}", uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!(
                "CREATE SCHEMA {schema};
                 CREATE TABLE {schema}.q (
                     id bigserial PRIMARY KEY,
                     k text NOT NULL UNIQUE,
                     body bytea NOT NULL,
                     vt timestamptz NOT NULL DEFAULT now(),
                     read_ct integer NOT NULL DEFAULT 0
                 );"
            ))
            .await
            .map_err(errors::backend)?;
        Ok(Self { schema, admin })
    }

    fn insert_sql(&self) -> String {
        format!(
            "INSERT INTO {}.q (k, body) SELECT * FROM unnest($1::text[], $2::bytea[])",
            self.schema
        )
    }

    async fn drop_schema(self) -> Result<(), Error> {
        self.admin
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .await
            .map_err(errors::backend)
    }
}

/// Inserts rows `range` of `body` in batches of `chunk` on `client`.
async fn insert_range(
    client: &Client,
    sql: &str,
    range: std::ops::Range<u64>,
    chunk: usize,
    body: &[u8],
) -> Result<(), Error> {
    let statement = client.prepare(sql).await.map_err(errors::backend)?;
    let ids: Vec<u64> = range.collect();
    for part in ids.chunks(chunk.max(1)) {
        let keys: Vec<String> = part.iter().map(|i| format!("k-{i}")).collect();
        let bodies: Vec<&[u8]> = part.iter().map(|_| body).collect();
        client
            .execute(&statement, &[&keys, &bodies])
            .await
            .map_err(errors::backend)?;
    }
    Ok(())
}

/// Durably inserts `messages` bodies of `payload` bytes with up to `window` outstanding;
/// returns the elapsed time.
pub async fn publish(
    url: &str,
    messages: u64,
    payload: usize,
    window: usize,
) -> Result<Duration, Error> {
    let scratch = Scratch::new(url).await?;
    let window = window.max(1);
    let connections = window.min(4);
    let chunk = (window / connections).clamp(1, BATCH);
    let clients = try_join_all((0..connections).map(|_| connect(url))).await?;
    let body = vec![0x5a_u8; payload];
    let sql = scratch.insert_sql();
    let per = messages.div_ceil(connections as u64);
    let started = Instant::now();
    let result = try_join_all(clients.iter().enumerate().map(|(c, client)| {
        let from = (c as u64 * per).min(messages);
        let to = (from + per).min(messages);
        insert_range(client, &sql, from..to, chunk, &body)
    }))
    .await;
    let elapsed = started.elapsed();
    scratch.drop_schema().await?;
    result.map(|_| elapsed)
}

/// Preloads `messages` bodies of `payload` bytes (untimed), then times consuming them on
/// two connections as an at-least-once consumer does: claim a batch (set its visibility
/// timeout and raise its read count, pgmq's `read`), then acknowledge it (delete it, pgmq's
/// `delete`). Like the driver's claims and acks, these commit without waiting for the WAL
/// flush (`synchronous_commit = off`).
pub async fn consume(url: &str, messages: u64, payload: usize) -> Result<Duration, Error> {
    let scratch = Scratch::new(url).await?;
    let body = vec![0x5a_u8; payload];
    insert_range(
        &scratch.admin,
        &scratch.insert_sql(),
        0..messages,
        BATCH,
        &body,
    )
    .await?;
    let clients = try_join_all((0..2).map(|_| connect(url))).await?;
    let claim = format!(
        "UPDATE {s}.q SET vt = now() + interval '60 seconds', read_ct = read_ct + 1
         WHERE id IN (
             SELECT id FROM {s}.q WHERE vt <= now() ORDER BY id
             FOR UPDATE SKIP LOCKED LIMIT $1)
         RETURNING id, body",
        s = scratch.schema
    );
    let ack = format!("DELETE FROM {}.q WHERE id = ANY($1)", scratch.schema);
    let started = Instant::now();
    let result = try_join_all(clients.iter().map(|client| async {
        client
            .batch_execute("SET synchronous_commit = off")
            .await
            .map_err(errors::backend)?;
        let claim = client.prepare(&claim).await.map_err(errors::backend)?;
        let ack = client.prepare(&ack).await.map_err(errors::backend)?;
        let mut taken = 0u64;
        loop {
            let rows = client
                .query(&claim, &[&CLAIM])
                .await
                .map_err(errors::backend)?;
            if rows.is_empty() {
                return Ok::<u64, Error>(taken);
            }
            taken += rows.len() as u64;
            let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
            client
                .execute(&ack, &[&ids])
                .await
                .map_err(errors::backend)?;
        }
    }))
    .await;
    let elapsed = started.elapsed();
    scratch.drop_schema().await?;
    let taken: u64 = result?.into_iter().sum();
    if taken != messages {
        return Err(Error::InvalidArgument(format!(
            "raw consume took {taken} of {messages} rows"
        )));
    }
    Ok(elapsed)
}

/// Inserts `samples` bodies one at a time, each awaited; returns each insert's latency.
pub async fn publish_latency(
    url: &str,
    samples: u64,
    payload: usize,
) -> Result<Vec<Duration>, Error> {
    let scratch = Scratch::new(url).await?;
    let client = connect(url).await?;
    let statement = client
        .prepare(&format!(
            "INSERT INTO {}.q (k, body) VALUES ($1, $2)",
            scratch.schema
        ))
        .await
        .map_err(errors::backend)?;
    let body = vec![0x5a_u8; payload];
    let mut out = Vec::with_capacity(samples as usize);
    let mut failure = None;
    for i in 0..samples {
        let key = format!("k-{i}");
        let started = Instant::now();
        if let Err(error) = client.execute(&statement, &[&key, &body]).await {
            failure = Some(errors::backend(error));
            break;
        }
        out.push(started.elapsed());
    }
    scratch.drop_schema().await?;
    match failure {
        Some(error) => Err(error),
        None => Ok(out),
    }
}

/// Drops `schema` and everything in it: the cleanup of a bench that ran the bus in a
/// schema of its own. Only the URL's server part is used.
///
/// # Errors
///
/// [`Error::InvalidConfig`] for a schema name that is not a plain identifier, or the
/// backend's error.
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), Error> {
    if schema.is_empty()
        || !schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(Error::InvalidConfig(format!(
            "schema {schema:?} is not a plain lowercase identifier"
        )));
    }
    let client = connect(url).await?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .map_err(errors::backend)
}
