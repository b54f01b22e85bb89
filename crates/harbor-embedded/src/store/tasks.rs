//! Appends to task logs (creates and versioned updates are appends) and reads. Writes run
//! on the writer thread inside its transaction (the log entries, the task row, its index
//! rows and the owner's count commit together, so a crash never leaves a log ahead of its
//! projection or an index pointing elsewhere); reads run on the blocking pool. A create
//! that takes its owner over the cap deletes the owner's oldest terminal tasks in the same
//! transaction ([`enforce_cap`], which pruning uses too).

use std::time::{SystemTime, UNIX_EPOCH};

use harbor_a2a::{StreamResponse, Task, TaskState, stream_response::Payload};
use harbor_distributed::{Error, LogEntry, Owner, StoredTask};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, WriteTransaction};

use super::config::StoreConfig;
use super::tables::{ACTIVE, Encoded, LOG, Meta, STATES, TASKS, Tables, read_row};
use crate::errors::backend;

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

/// Deletes the owner's oldest terminal tasks while the owner has more than `cap`, never
/// `keep` (the task a create just stored). Stops when no terminal task is left.
pub(super) fn enforce_cap(
    tables: &mut Tables<'_>,
    tenant: &str,
    user: &str,
    cap: u64,
    keep: Option<&str>,
) -> Result<u64, Error> {
    let excess = tables.count(tenant, user)?.saturating_sub(cap);
    if excess == 0 {
        return Ok(0);
    }
    let next_user = format!("{user}\0");
    let mut victims = Vec::new();
    for entry in tables
        .owner_terminal
        .range::<(&str, &str, u64, &str)>(
            (tenant, user, 0, "")..(tenant, next_user.as_str(), 0, ""),
        )
        .map_err(backend)?
    {
        let (key, _) = entry.map_err(backend)?;
        let (_, _, _, id) = key.value();
        if Some(id) != keep {
            victims.push(id.to_owned());
        }
        if victims.len() as u64 >= excess {
            break;
        }
    }
    for id in &victims {
        tables.delete(id)?;
    }
    Ok(victims.len() as u64)
}

/// One append to a task's log, encoded: the projection after it and its events.
#[derive(Debug)]
pub(super) struct Append {
    pub(super) task: Encoded,
    events: Vec<Vec<u8>>,
}

impl Append {
    /// `events` leading to `task`.
    pub(super) fn new(task: &Task, events: &[StreamResponse]) -> Self {
        Self {
            task: Encoded::of(task),
            events: events.iter().map(prost::Message::encode_to_vec).collect(),
        }
    }

    /// The whole task as one event: what plain store writes append.
    pub(super) fn snapshot(task: &Task) -> Self {
        let snapshot = StreamResponse {
            payload: Some(Payload::Task(task.clone())),
        };
        Self::new(task, std::slice::from_ref(&snapshot))
    }

    fn len(&self) -> u64 {
        self.events.len() as u64
    }
}

// Every refusal below happens before the first write (see `writer`).

/// Appends to the log of `owner`'s task (creating it when `expected_version` is 0) and
/// stores its projection; see [`TaskLog::append`](harbor_distributed::TaskLog::append).
pub(super) fn append(
    tables: &mut Tables<'_>,
    config: &StoreConfig,
    owner: &Owner,
    append: &Append,
    expected_version: u64,
) -> Result<u64, Error> {
    let id = append.task.id.as_str();
    if expected_version == 0 {
        if tables.meta(id)?.is_some() {
            return Err(Error::AlreadyExists {
                task_id: id.to_owned(),
            });
        }
        let meta = append.task.meta(owner, append.len(), now_nanos());
        tables.put(&meta, &append.task)?;
        tables.append_log(id, 1, &append.events)?;
        tables.add_count(&meta.tenant, &meta.user, 1)?;
        tables.count_state(None, Some(meta.state))?;
        if let Some(cap) = config.max_tasks_per_owner {
            enforce_cap(tables, &meta.tenant, &meta.user, cap, Some(id))?;
        }
        return Ok(meta.version);
    }
    let old = owned_meta(tables, owner, id)?;
    if old.version != expected_version {
        return Err(Error::VersionConflict {
            task_id: id.to_owned(),
            expected: expected_version,
            actual: old.version,
        });
    }
    let mut meta = append
        .task
        .meta(owner, old.version + append.len(), now_nanos());
    if meta.terminal_since.is_some() && old.terminal_since.is_some() {
        // The TTL runs from the write that first made the task terminal.
        meta.terminal_since = old.terminal_since;
    }
    tables.unindex(id, &old)?;
    tables.put(&meta, &append.task)?;
    tables.count_state(Some(old.state), Some(meta.state))?;
    tables.append_log(id, old.version + 1, &append.events)?;
    Ok(meta.version)
}

/// Creates `task` with its snapshot as entry 1.
pub(super) fn create(
    tables: &mut Tables<'_>,
    config: &StoreConfig,
    owner: &Owner,
    task: &Append,
) -> Result<u64, Error> {
    append(tables, config, owner, task, 0)
}

/// Replaces the task, appending its snapshot as one entry.
pub(super) fn update(
    tables: &mut Tables<'_>,
    config: &StoreConfig,
    owner: &Owner,
    task: &Append,
    expected_version: u64,
) -> Result<u64, Error> {
    if expected_version == 0 {
        // Version 0 never exists: an update naming it is stale, never a create.
        let actual = owned_meta(tables, owner, &task.task.id)?.version;
        return Err(Error::VersionConflict {
            task_id: task.task.id.clone(),
            expected: 0,
            actual,
        });
    }
    append(tables, config, owner, task, expected_version)
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

/// How many tasks are in each state, over every owner.
pub(super) fn count_by_state(db: &Database) -> Result<Vec<(TaskState, u64)>, Error> {
    let txn = db.begin_read().map_err(backend)?;
    let table = txn.open_table(STATES).map_err(backend)?;
    let mut counts = Vec::new();
    for row in table.iter().map_err(backend)? {
        let (state, count) = row.map_err(backend)?;
        let state = TaskState::try_from(state.value()).unwrap_or(TaskState::Unspecified);
        counts.push((state, count.value()));
    }
    Ok(harbor_distributed::state_counts(counts))
}

pub(super) fn read_log(
    db: &Database,
    owner: &Owner,
    task_id: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<LogEntry>, Error> {
    let txn = db.begin_read().map_err(backend)?;
    let tasks = txn.open_table(TASKS).map_err(backend)?;
    match read_row(&tasks, task_id, false)? {
        Some((meta, _)) if meta.owned_by(owner) => {}
        _ => return Err(not_found(task_id)),
    }
    let log = txn.open_table(LOG).map_err(backend)?;
    super::tables::read_log(&log, task_id, after, limit.max(1))
}

/// SUBMITTED or WORKING tasks after `after` (by id), at most `limit`.
pub(super) fn active(
    db: &Database,
    after: &str,
    limit: usize,
) -> Result<Vec<(Owner, String)>, Error> {
    let txn = db.begin_read().map_err(backend)?;
    let active = txn.open_table(ACTIVE).map_err(backend)?;
    let mut tasks = Vec::new();
    let range = active
        .range::<&str>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
        .map_err(backend)?;
    for row in range.take(limit.max(1)) {
        let (id, owner) = row.map_err(backend)?;
        let (tenant, user) = owner.value();
        let owner = Owner {
            tenant: tenant.into(),
            user: user.into(),
        };
        tasks.push((owner, id.value().to_owned()));
    }
    Ok(tasks)
}
