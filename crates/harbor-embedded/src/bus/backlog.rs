//! A group's backlog, from its own state: what it has read and not settled (waiting, in
//! flight, nacked), plus what the log holds past its read position that it admits.

use std::sync::Arc;

use harbor_distributed::kit;
use harbor_distributed::{Envelope, Error, IdentityScope};
use redb::{Database, ReadableDatabase};

use super::group::{Group, admits};
use super::tables::LOG;
use super::{EmbeddedBus, record};
use crate::blocking::blocking;
use crate::errors::{backend, failure};

/// What one group owes, taken under its lock; the part still in the log is counted after.
struct Snapshot {
    /// Read and not settled.
    held: u64,
    scope: IdentityScope,
    edges: Vec<String>,
    /// The log past the read position that the cache still holds.
    cached: Vec<Arc<Envelope>>,
    /// The log past the read position that only the file holds: `from..to`.
    on_disk: (u64, u64),
}

impl EmbeddedBus {
    /// The backlog of every group named `group` (one per scope).
    pub(super) async fn group_backlog(&self, group: &str) -> Result<u64, Error> {
        let groups: Vec<Arc<Group>> = self
            .shared
            .groups()
            .values()
            .filter(|g| g.name == group)
            .cloned()
            .collect();
        let mut total = 0;
        for group in groups {
            let snapshot = self.snapshot(&group);
            total += snapshot.held;
            total += snapshot
                .cached
                .iter()
                .filter(|e| admits(&snapshot.scope, &snapshot.edges, e))
                .count() as u64;
            let (from, to) = snapshot.on_disk;
            if from < to {
                let db = Arc::clone(&self.shared.db);
                let (scope, edges) = (snapshot.scope, snapshot.edges);
                total += blocking(move || count_on_disk(&db, from, to, &scope, &edges)).await?;
            }
        }
        Ok(total)
    }

    fn snapshot(&self, group: &Group) -> Snapshot {
        let st = group.lock();
        let tail = kit::read(&self.shared.tail);
        let cached_from = st.scan.max(tail.start());
        let cached = (cached_from..tail.end())
            .filter_map(|seq| tail.get(seq).cloned())
            .collect();
        Snapshot {
            held: st.unsettled.len() as u64,
            scope: group.scope.clone(),
            edges: st.edges.clone(),
            cached,
            on_disk: (st.scan, tail.start().min(tail.end())),
        }
    }
}

/// How many log entries in `from..to` a group of `scope` and `edges` admits.
fn count_on_disk(
    db: &Database,
    from: u64,
    to: u64,
    scope: &IdentityScope,
    edges: &[String],
) -> Result<u64, Error> {
    let txn = db.begin_read().map_err(backend)?;
    let log = txn.open_table(LOG).map_err(backend)?;
    let mut n = 0;
    for item in log.range(from..to).map_err(backend)? {
        let (seq, value) = item.map_err(backend)?;
        let envelope = record::decode(value.value())
            .map_err(|e| failure(format!("log entry {}: {e}", seq.value())))?;
        if admits(scope, edges, &envelope) {
            n += 1;
        }
    }
    Ok(n)
}
