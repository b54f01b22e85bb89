//! Retention: deleting log entries every group has settled, once replay no longer needs
//! them.
//!
//! An entry is deleted when every group has settled it (it is below every group's stored
//! floor) and it is either older than [`EmbeddedBusConfig::retain_for`] or more than
//! [`EmbeddedBusConfig::retain_max`] entries behind the head. The newest entry is always kept: its
//! sequence tells a reopened bus where to continue numbering. The entry's dedup key goes
//! with it, so publish dedup covers what the log retains.

use redb::{Database, ReadableTable};

use harbor_distributed::Error;

use super::config::EmbeddedBusConfig;
use super::record;
use super::tables::{DEDUP, LOG};
use crate::errors::backend;

/// Most entries one pruning transaction deletes, so it never holds the writer long.
const PRUNE_BATCH: usize = 8192;

/// Deletes what retention allows below `floor` (the lowest stored group floor), with
/// `next` the sequence the next envelope will get. Returns how many entries went.
pub(super) fn prune(
    db: &Database,
    config: &EmbeddedBusConfig,
    floor: u64,
    next: u64,
) -> Result<u64, Error> {
    let limit = floor.min(next.saturating_sub(1));
    let cutoff = record::now_ms().saturating_sub(config.retain_for.as_millis() as u64);
    let keep_from = next.saturating_sub(config.retain_max);
    let txn = db.begin_write().map_err(backend)?;
    let mut deleted = 0u64;
    {
        let mut log = txn.open_table(LOG).map_err(backend)?;
        let mut dedup = txn.open_table(DEDUP).map_err(backend)?;
        let mut doomed = Vec::new();
        for item in log.range(..limit).map_err(backend)? {
            let (seq, value) = item.map_err(backend)?;
            let (seq, bytes) = (seq.value(), value.value());
            let old = record::stored_at(bytes).map_or(true, |at| at <= cutoff);
            if !(old || seq < keep_from) || doomed.len() >= PRUNE_BATCH {
                break;
            }
            let key = match record::decode(bytes) {
                Ok(envelope) => Some(record::dedup_key(&envelope)),
                Err(error) => {
                    tracing::warn!(seq, %error, "pruning a bus record that does not decode");
                    None
                }
            };
            doomed.push((seq, key));
        }
        for (seq, key) in doomed {
            log.remove(seq).map_err(backend)?;
            if let Some(key) = key {
                let same = dedup
                    .get(key.as_slice())
                    .map_err(backend)?
                    .is_some_and(|s| s.value() == seq);
                if same {
                    dedup.remove(key.as_slice()).map_err(backend)?;
                }
            }
            deleted += 1;
        }
    }
    if deleted == 0 {
        txn.abort().map_err(backend)?;
    } else {
        txn.commit().map_err(backend)?;
        tracing::debug!(deleted, "pruned the bus log");
    }
    Ok(deleted)
}
