//! Opening the bus tables: where numbering continues, and each group as it was stored.
//!
//! A group's envelopes between its floor and its cursor that are not settled were
//! delivered before the bus closed (or the process died) and never settled: they are
//! delivered again, their attempt counters continuing from the stored counts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use harbor_distributed::Error;
use redb::{Database, ReadableDatabase, ReadableTable};

use super::group::{Entry, Group, admits};
use super::record;
use super::tables::{ATTEMPTS, GROUPS, GroupRow, LOG, SETTLED, Tables};
use crate::errors::{backend, failure};

/// What the file holds.
pub(super) struct Recovered {
    /// The sequence of the next envelope.
    pub(super) next: u64,
    pub(super) groups: HashMap<String, Arc<Group>>,
}

fn corrupt(what: String) -> Error {
    failure(what)
}

/// Creates the bus tables when missing and reads them back.
pub(super) fn recover(db: &Database) -> Result<Recovered, Error> {
    let txn = db.begin_write().map_err(backend)?;
    Tables::create_all(&txn)?;
    txn.commit().map_err(backend)?;

    let txn = db.begin_read().map_err(backend)?;
    let log = txn.open_table(LOG).map_err(backend)?;
    let next = log
        .last()
        .map_err(backend)?
        .map_or(0, |(k, _)| k.value() + 1);
    let settled = txn.open_table(SETTLED).map_err(backend)?;
    let attempts = txn.open_table(ATTEMPTS).map_err(backend)?;
    let mut groups = HashMap::new();
    for item in txn
        .open_table(GROUPS)
        .map_err(backend)?
        .iter()
        .map_err(backend)?
    {
        let (key, value) = item.map_err(backend)?;
        let key = key.value().to_owned();
        let row = GroupRow::decode(value.value())
            .map_err(|e| corrupt(format!("consumer group {key:?}: {e}")))?;
        let group = Group::new(key.clone(), &row);
        let range = (key.as_str(), row.floor)..(key.as_str(), row.cursor);
        let mut done = HashSet::new();
        for item in settled.range(range.clone()).map_err(backend)? {
            done.insert(item.map_err(backend)?.0.value().1);
        }
        let mut counts = HashMap::new();
        for item in attempts.range(range).map_err(backend)? {
            let (k, v) = item.map_err(backend)?;
            counts.insert(k.value().1, v.value());
        }
        {
            let mut st = group.lock();
            for item in log.range(row.floor..row.cursor).map_err(backend)? {
                let (seq, value) = item.map_err(backend)?;
                let seq = seq.value();
                if done.contains(&seq) {
                    continue;
                }
                let envelope = record::decode(value.value())
                    .map_err(|e| corrupt(format!("log entry {seq}: {e}")))?;
                if !admits(&group.scope, &st.edges, &envelope) {
                    continue;
                }
                st.unsettled.insert(seq);
                st.retry.push_back(Entry {
                    seq,
                    envelope: Arc::new(envelope),
                    attempts: counts.get(&seq).copied().unwrap_or(1),
                });
            }
        }
        group.lock().rows = done.into_iter().chain(counts.into_keys()).collect();
        groups.insert(key, Arc::new(group));
    }
    Ok(Recovered { next, groups })
}
