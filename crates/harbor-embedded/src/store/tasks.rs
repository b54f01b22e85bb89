//! Create, read and versioned update of tasks. Writes run on the writer thread inside its
//! transaction (the task row, its index rows and the owner's count commit together, so a
//! crash never leaves an index pointing elsewhere); reads run on the blocking pool.

use std::time::{SystemTime, UNIX_EPOCH};

use harbor_a2a::Task;
use harbor_distributed::{Error, Owner, StoredTask};
use redb::{Database, Durability, ReadableDatabase, WriteTransaction};

use super::StoreConfig;
use super::retention::enforce_cap;
use super::tables::{Meta, TASKS, Tables, read_row};
use crate::engine::backend;

/// The store's clock in nanoseconds since the epoch (0 before it).
pub(super) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A write transaction that is durable when `commit` returns.
pub(super) fn begin_write(db: &Database) -> Result<WriteTransaction, Error> {
    let mut txn = db.begin_write().map_err(backend)?;
    txn.set_durability(Durability::Immediate).map_err(backend)?;
    Ok(txn)
}

fn not_found(task_id: &str) -> Error {
    Error::TaskNotFound {
        task_id: task_id.to_owned(),
    }
}

/// The meta of `owner`'s task `id`; another owner's task is not found, like a missing one.
pub(super) fn owned_meta(tables: &Tables<'_>, owner: &Owner, id: &str) -> Result<Meta, Error> {
    match tables.meta(id)? {
        Some(meta) if meta.owned_by(owner) => Ok(meta),
        _ => Err(not_found(id)),
    }
}

// Every refusal below happens before the first write (see `writer`).

pub(super) fn create(
    tables: &mut Tables<'_>,
    config: &StoreConfig,
    owner: &Owner,
    task: &Task,
) -> Result<u64, Error> {
    if tables.meta(&task.id)?.is_some() {
        return Err(Error::AlreadyExists {
            task_id: task.id.clone(),
        });
    }
    let meta = Meta::of(owner, task, 1, now_nanos());
    tables.put(&task.id, &meta, task)?;
    tables.add_count(&meta.tenant, &meta.user, 1)?;
    if let Some(cap) = config.max_tasks_per_owner {
        enforce_cap(tables, &meta.tenant, &meta.user, cap, Some(&task.id))?;
    }
    Ok(1)
}

pub(super) fn update(
    tables: &mut Tables<'_>,
    owner: &Owner,
    task: &Task,
    expected_version: u64,
) -> Result<u64, Error> {
    let old = owned_meta(tables, owner, &task.id)?;
    if old.version != expected_version {
        return Err(Error::VersionConflict {
            task_id: task.id.clone(),
            expected: expected_version,
            actual: old.version,
        });
    }
    let mut meta = Meta::of(owner, task, old.version + 1, now_nanos());
    if meta.terminal_since.is_some() && old.terminal_since.is_some() {
        // The TTL runs from the write that first made the task terminal.
        meta.terminal_since = old.terminal_since;
    }
    tables.unindex(&task.id, &old)?;
    tables.put(&task.id, &meta, task)?;
    Ok(meta.version)
}

pub(super) fn get(db: &Database, owner: &Owner, task_id: &str) -> Result<StoredTask, Error> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(TASKS).map_err(backend)?;
    match read_row(&table, task_id, true)? {
        Some((meta, Some(task))) if meta.owned_by(owner) => Ok(StoredTask {
            task,
            owner: owner.clone(),
            version: meta.version,
        }),
        _ => Err(not_found(task_id)),
    }
}
