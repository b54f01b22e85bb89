//! Raw redb baselines for `harbor bench bus --driver embedded`: what redb itself does for
//! the same work, with no Harbor code, to measure the bus against.
//!
//! Each function creates a fresh redb file with a random name inside `dir` (pass a
//! temporary directory, ideally on the disk the bus uses), works in one table of `u64`
//! keys and payload-byte values, and deletes the file before it returns. Every commit is
//! [`redb::Durability::Immediate`] (fsync'd). The work runs on tokio's blocking pool.
//!
//! - [`publish`]: `messages` inserts, `window` per commit (the bus's group commit at
//!   best: `window` publishers each waiting for their one envelope);
//! - [`consume`]: preloads `messages` records (untimed), then times reading and deleting
//!   them [`CONSUME_BATCH`] per commit (a consumer acking in batches);
//! - [`publish_latency`]: one insert per commit, each commit awaited.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use harbor_distributed::Error;
use redb::{Database, ReadableTable, TableDefinition};

use crate::blocking::blocking;
use crate::errors::backend;

/// Records read and deleted per commit by [`consume`] (the bench's default in-flight
/// limit, so the bus's acks batch the same way).
pub const CONSUME_BATCH: usize = 256;

const TABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("raw");

/// Durably inserts `messages` records of `payload` bytes, `window` per commit (at least
/// one), into a fresh file in `dir`; the elapsed time.
///
/// # Errors
///
/// [`Error::Backend`] when the file cannot be created or written.
pub async fn publish(
    dir: &Path,
    messages: u64,
    payload: usize,
    window: usize,
) -> Result<Duration, Error> {
    let dir = dir.to_owned();
    blocking(move || {
        let file = Scratch::create(&dir)?;
        let body = vec![7u8; payload];
        let start = Instant::now();
        insert(&file.db, 0..messages, &body, window.max(1) as u64)?;
        Ok(start.elapsed())
    })
    .await
}

/// Preloads `messages` records of `payload` bytes into a fresh file in `dir` (untimed),
/// then reads and deletes them all, [`CONSUME_BATCH`] per durable commit; the elapsed
/// time of the consuming.
///
/// # Errors
///
/// [`Error::Backend`] when the file cannot be created, written or read.
pub async fn consume(dir: &Path, messages: u64, payload: usize) -> Result<Duration, Error> {
    let dir = dir.to_owned();
    blocking(move || {
        let file = Scratch::create(&dir)?;
        insert(&file.db, 0..messages, &vec![7u8; payload], 10_000)?;
        let start = Instant::now();
        let mut consumed = 0u64;
        let mut bytes = 0usize;
        while consumed < messages {
            let txn = file.db.begin_write().map_err(backend)?;
            {
                let mut table = txn.open_table(TABLE).map_err(backend)?;
                let mut keys = Vec::with_capacity(CONSUME_BATCH);
                for item in table.iter().map_err(backend)?.take(CONSUME_BATCH) {
                    let (key, value) = item.map_err(backend)?;
                    bytes += value.value().len();
                    keys.push(key.value());
                }
                if keys.is_empty() {
                    break;
                }
                for key in &keys {
                    table.remove(key).map_err(backend)?;
                }
                consumed += keys.len() as u64;
            }
            txn.commit().map_err(backend)?;
        }
        std::hint::black_box(bytes);
        Ok(start.elapsed())
    })
    .await
}

/// `samples` durable commits of one record of `payload` bytes each, one after another,
/// into a fresh file in `dir`; each commit's latency.
///
/// # Errors
///
/// [`Error::Backend`] when the file cannot be created or written.
pub async fn publish_latency(
    dir: &Path,
    samples: u64,
    payload: usize,
) -> Result<Vec<Duration>, Error> {
    let dir = dir.to_owned();
    blocking(move || {
        let file = Scratch::create(&dir)?;
        let body = vec![7u8; payload];
        let mut out = Vec::with_capacity(samples as usize);
        for i in 0..samples {
            let start = Instant::now();
            insert(&file.db, i..i + 1, &body, 1)?;
            out.push(start.elapsed());
        }
        Ok(out)
    })
    .await
}

/// Inserts `keys`, `per_commit` per durable commit.
fn insert(
    db: &Database,
    keys: std::ops::Range<u64>,
    body: &[u8],
    per_commit: u64,
) -> Result<(), Error> {
    let mut key = keys.start;
    while key < keys.end {
        let end = keys.end.min(key + per_commit);
        let txn = db.begin_write().map_err(backend)?;
        {
            let mut table = txn.open_table(TABLE).map_err(backend)?;
            for k in key..end {
                table.insert(k, body).map_err(backend)?;
            }
        }
        txn.commit().map_err(backend)?;
        key = end;
    }
    Ok(())
}

/// A redb file that is deleted when dropped.
struct Scratch {
    db: Database,
    path: PathBuf,
}

impl Scratch {
    fn create(dir: &Path) -> Result<Self, Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "harbor-raw-{}-{}-{}.redb",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            crate::bus::record::now_ms()
        );
        let path = dir.join(name);
        let db = Database::create(&path).map_err(backend)?;
        Ok(Self { db, path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "cannot remove the raw bench file");
        }
    }
}
