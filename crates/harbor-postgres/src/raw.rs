//! The raw baseline for `harbor bench bus`: the same work done with `tokio-postgres` and
//! plain SQL, with none of the bus, so the driver can be reported as a ratio of it.
//!
//! Each function works in a fresh schema `harbor_raw_<random>` holding one table with the
//! columns of the driver's `messages` table (identity, routing, payload, headers and meta
//! as `jsonb`, the timestamp, `stored_at`, the publishing transaction's `txid`), the same
//! unique constraint on the dedup key `(task_id, edge, event_id)` and the same log index on
//! `(txid, seq)`, plus a queue's `vt` and `read_ct` for consuming it as one consumer group
//! (pgmq's shape), and drops the schema afterwards. Only the URL's server part is used.
//!
//! - [`publish`]: multi-row `INSERT … SELECT FROM unnest(…) RETURNING seq` of every
//!   column, on as many connections as the driver keeps publish transactions in flight
//!   (`publish_pipeline`, 2), each sending batches of `window / connections` rows (at most
//!   the driver's `publish_batch`), so `window` rows are outstanding as in the driver. Each
//!   insert is its own committed transaction, durable before it answers. The driver also
//!   sends one `NOTIFY` per batch to wake its consumers; the baseline does not.
//! - [`consume`]: preloads the table (untimed), then times two connections each claiming
//!   [`CLAIM`] rows at a time (`UPDATE … SET vt, read_ct WHERE seq IN (SELECT … FOR
//!   UPDATE SKIP LOCKED LIMIT n) RETURNING` every envelope column) and acknowledging them
//!   (`DELETE … WHERE seq = ANY`) until the table is empty, without waiting for the WAL
//!   flush (`synchronous_commit = off`), as the driver's claims and acks do.
//! - [`publish_latency`]: one single-row insert at a time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::future::try_join_all;
use harbor_distributed::Error;
use tokio_postgres::{Client, NoTls, Row};

use crate::config::PostgresBusConfig;
use crate::errors;

/// Rows per claim: the driver's default claim batch (its subscriptions claim no more).
pub const CLAIM: i64 = 256;

/// The fixed routing and identity of every row (the bench's envelopes share them too).
const EDGE: &str = "bench.raw.load";
const TENANT: &str = "bench";
const USER: &str = "bench-user";
const SESSION: &str = "bench-session";
const TASK: &str = "bench-task";

/// A connection whose driving task ends when the client is dropped.
async fn connect(url: &str) -> Result<Client, Error> {
    let config = PostgresBusConfig::from_url(url)?.server_config()?;
    let (client, connection) = config.connect(NoTls).await.map_err(errors::backend)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A fresh schema with the messages table; dropped by [`Scratch::drop_schema`].
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
                 CREATE TABLE {schema}.messages (
                     seq bigserial PRIMARY KEY,
                     edge text NOT NULL,
                     tenant text NOT NULL,
                     user_id text NOT NULL,
                     session_id text NOT NULL,
                     run_id text,
                     task_id text NOT NULL,
                     event_id text NOT NULL,
                     source text NOT NULL,
                     target text NOT NULL,
                     payload bytea NOT NULL,
                     headers jsonb NOT NULL,
                     meta jsonb NOT NULL,
                     ts_secs bigint NOT NULL,
                     ts_nanos integer NOT NULL,
                     stored_at timestamptz NOT NULL DEFAULT now(),
                     txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                     vt timestamptz NOT NULL DEFAULT now(),
                     read_ct integer NOT NULL DEFAULT 0,
                     UNIQUE (task_id, edge, event_id)
                 );
                 CREATE INDEX messages_by_txid ON {schema}.messages (txid, seq);"
            ))
            .await
            .map_err(errors::backend)?;
        Ok(Self { schema, admin })
    }

    /// The multi-row insert of every column from arrays.
    fn insert_sql(&self) -> String {
        format!(
            "INSERT INTO {}.messages (edge, tenant, user_id, session_id, run_id, task_id, \
                 event_id, source, target, payload, headers, meta, ts_secs, ts_nanos)
             SELECT edge, tenant, user_id, session_id, run_id, task_id, event_id, source, \
                 target, payload, headers::jsonb, meta::jsonb, ts_secs, ts_nanos
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::bytea[], $11::text[], \
                 $12::text[], $13::int8[], $14::int4[])
                 AS t(edge, tenant, user_id, session_id, run_id, task_id, event_id, source, \
                     target, payload, headers, meta, ts_secs, ts_nanos)
             RETURNING seq",
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

/// The fourteen column arrays of rows `range`, each with payload `body`.
struct Rows<'a> {
    fixed: [Vec<&'static str>; 4],
    run: Vec<Option<&'static str>>,
    task: Vec<&'static str>,
    event: Vec<String>,
    empty: [Vec<&'static str>; 2],
    payload: Vec<&'a [u8]>,
    json: [Vec<&'static str>; 2],
    secs: Vec<i64>,
    nanos: Vec<i32>,
}

impl<'a> Rows<'a> {
    fn new(range: std::ops::Range<u64>, body: &'a [u8]) -> Self {
        let n = (range.end - range.start) as usize;
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let (secs, nanos) = (since.as_secs() as i64, since.subsec_nanos() as i32);
        Self {
            fixed: [EDGE, TENANT, USER, SESSION].map(|v| vec![v; n]),
            run: vec![None; n],
            task: vec![TASK; n],
            event: range.map(|i| i.to_string()).collect(),
            empty: [vec![""; n], vec![""; n]],
            payload: vec![body; n],
            json: [vec!["{}"; n], vec!["{}"; n]],
            secs: vec![secs; n],
            nanos: vec![nanos; n],
        }
    }

    fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 14] {
        [
            &self.fixed[0],
            &self.fixed[1],
            &self.fixed[2],
            &self.fixed[3],
            &self.run,
            &self.task,
            &self.event,
            &self.empty[0],
            &self.empty[1],
            &self.payload,
            &self.json[0],
            &self.json[1],
            &self.secs,
            &self.nanos,
        ]
    }
}

/// Inserts rows `range` of `body` in batches of `chunk` on `client`; the rows stored.
async fn insert_range(
    client: &Client,
    sql: &str,
    range: std::ops::Range<u64>,
    chunk: usize,
    body: &[u8],
) -> Result<u64, Error> {
    let statement = client.prepare(sql).await.map_err(errors::backend)?;
    let chunk = chunk.max(1) as u64;
    let mut stored = 0;
    let mut from = range.start;
    while from < range.end {
        let to = (from + chunk).min(range.end);
        let rows = Rows::new(from..to, body);
        stored += client
            .query(&statement, &rows.params())
            .await
            .map_err(errors::backend)?
            .len() as u64;
        from = to;
    }
    Ok(stored)
}

/// Durably inserts `messages` rows of `payload`-byte bodies with up to `window`
/// outstanding, on the driver's number of publishing connections; the elapsed time.
pub async fn publish(
    url: &str,
    messages: u64,
    payload: usize,
    window: usize,
) -> Result<Duration, Error> {
    let scratch = Scratch::new(url).await?;
    let defaults = PostgresBusConfig::default();
    let window = window.max(1);
    let connections = window.min(defaults.publish_pipeline.max(1));
    let chunk = (window / connections).clamp(1, defaults.publish_batch);
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
    let stored: u64 = result?.into_iter().sum();
    check_count("publish stored", stored, messages)?;
    Ok(elapsed)
}

/// Reads every envelope column of a claimed row, as a consumer must before it works on
/// it; `None` when one has the wrong type.
fn read_row(row: &Row) -> Option<usize> {
    let mut size = 0;
    for i in 1..10 {
        size += row.try_get::<_, Option<&str>>(i).ok()?.map_or(0, str::len);
    }
    size += row.try_get::<_, &[u8]>(10).ok()?.len();
    size += row.try_get::<_, &str>(11).ok()?.len();
    size += row.try_get::<_, &str>(12).ok()?.len();
    let secs: i64 = row.try_get(13).ok()?;
    let nanos: i32 = row.try_get(14).ok()?;
    Some(size + secs as usize % 2 + nanos as usize % 2)
}

/// Preloads `messages` rows of `payload`-byte bodies (untimed), then times consuming them
/// on two connections as an at-least-once consumer does: claim a batch (set its visibility
/// timeout and raise its read count, pgmq's `read`), read it, then acknowledge it (delete
/// it, pgmq's `delete`). Like the driver's claims and acks, these commit without waiting
/// for the WAL flush (`synchronous_commit = off`).
pub async fn consume(url: &str, messages: u64, payload: usize) -> Result<Duration, Error> {
    let scratch = Scratch::new(url).await?;
    let body = vec![0x5a_u8; payload];
    let preload = PostgresBusConfig::default().publish_batch;
    insert_range(
        &scratch.admin,
        &scratch.insert_sql(),
        0..messages,
        preload,
        &body,
    )
    .await?;
    let clients = try_join_all((0..2).map(|_| connect(url))).await?;
    let claim = format!(
        "UPDATE {s}.messages SET vt = now() + interval '60 seconds', read_ct = read_ct + 1
         WHERE seq IN (
             SELECT seq FROM {s}.messages WHERE vt <= now() ORDER BY seq
             FOR UPDATE SKIP LOCKED LIMIT $1)
         RETURNING seq, edge, tenant, user_id, session_id, run_id, task_id, event_id, source,
             target, payload, headers::text, meta::text, ts_secs, ts_nanos",
        s = scratch.schema
    );
    let ack = format!(
        "DELETE FROM {}.messages WHERE seq = ANY($1)",
        scratch.schema
    );
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
            let mut ids = Vec::with_capacity(rows.len());
            for row in &rows {
                let read = read_row(row).ok_or_else(|| {
                    Error::InvalidArgument("raw consume: a claimed row has a wrong column".into())
                })?;
                std::hint::black_box(read);
                ids.push(row.get::<_, i64>(0));
            }
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
    check_count("consume took", taken, messages)?;
    Ok(elapsed)
}

/// Inserts `samples` rows one at a time (a one-row batch of the same insert), each
/// awaited; returns each insert's latency.
pub async fn publish_latency(
    url: &str,
    samples: u64,
    payload: usize,
) -> Result<Vec<Duration>, Error> {
    let scratch = Scratch::new(url).await?;
    let client = connect(url).await?;
    let statement = client
        .prepare(&scratch.insert_sql())
        .await
        .map_err(errors::backend)?;
    let body = vec![0x5a_u8; payload];
    let mut out = Vec::with_capacity(samples as usize);
    let mut failure = None;
    for i in 0..samples {
        let started = Instant::now();
        let rows = Rows::new(i..i + 1, &body);
        if let Err(error) = client.query(&statement, &rows.params()).await {
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

fn check_count(what: &str, got: u64, wanted: u64) -> Result<(), Error> {
    if got == wanted {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "raw {what} {got} of {wanted} rows"
        )))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The baselines against a real server: `HARBOR_POSTGRES_URL`, skipped without it.
    #[tokio::test]
    async fn baselines_store_and_consume_every_row() -> Result<(), Error> {
        let Ok(url) = std::env::var("HARBOR_POSTGRES_URL") else {
            eprintln!("skipped: HARBOR_POSTGRES_URL is not set");
            return Ok(());
        };
        publish(&url, 1000, 64, 256).await?;
        consume(&url, 700, 64).await?;
        assert_eq!(publish_latency(&url, 5, 64).await?.len(), 5);

        // The dedup key is unique, as the driver's: a second row with it is refused.
        let scratch = Scratch::new(&url).await?;
        let sql = scratch.insert_sql();
        let stored = insert_range(&scratch.admin, &sql, 0..3, 8, b"x").await?;
        let again = insert_range(&scratch.admin, &sql, 2..3, 8, b"x").await;
        let schema = scratch.schema.clone();
        scratch.drop_schema().await?;
        assert_eq!(stored, 3);
        assert!(again.is_err(), "a duplicate dedup key was stored");
        let client = connect(&url).await?;
        let left = client
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .await
            .map_err(errors::backend)?;
        assert_eq!(left.get::<_, i64>(0), 0);
        Ok(())
    }
}
