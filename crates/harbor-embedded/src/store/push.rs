//! Push-notification configs and their delivery cursors: rows keyed `(task id, config id)`
//! beside the task they belong to. Every call first checks the task is the caller's, in the
//! same transaction (writes on the writer thread, reads on the blocking pool).

use std::ops::Bound;

use harbor_a2a::TaskPushNotificationConfig;
use harbor_distributed::{Error, Owner, PushCursor};
use prost::Message;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable};

use super::tables::{PUSH, PUSH_STATE, TASKS, Tables, corrupt, read_row};
use super::tasks::owned_meta;
use crate::errors::{backend, failure};

/// Checks in a read transaction that `task_id` is `owner`'s.
fn check_owner(txn: &ReadTransaction, owner: &Owner, task_id: &str) -> Result<(), Error> {
    let tasks = txn.open_table(TASKS).map_err(backend)?;
    match read_row(&tasks, task_id, false)? {
        Some((meta, _)) if meta.owned_by(owner) => Ok(()),
        _ => Err(Error::TaskNotFound {
            task_id: task_id.to_owned(),
        }),
    }
}

pub(super) fn put(
    tables: &mut Tables<'_>,
    owner: &Owner,
    config: &TaskPushNotificationConfig,
) -> Result<(), Error> {
    owned_meta(tables, owner, &config.task_id)?;
    let body = config.encode_to_vec();
    tables
        .push
        .insert(
            (config.task_id.as_str(), config.id.as_str()),
            body.as_slice(),
        )
        .map_err(backend)?;
    Ok(())
}

pub(super) fn get(
    db: &Database,
    owner: &Owner,
    task_id: &str,
    id: &str,
) -> Result<TaskPushNotificationConfig, Error> {
    let txn = db.begin_read().map_err(backend)?;
    check_owner(&txn, owner, task_id)?;
    let push = txn.open_table(PUSH).map_err(backend)?;
    let Some(guard) = push.get((task_id, id)).map_err(backend)? else {
        return Err(Error::PushConfigNotFound {
            task_id: task_id.to_owned(),
            id: id.to_owned(),
        });
    };
    TaskPushNotificationConfig::decode(guard.value()).map_err(corrupt)
}

pub(super) fn list(
    db: &Database,
    owner: &Owner,
    task_id: &str,
) -> Result<Vec<TaskPushNotificationConfig>, Error> {
    let txn = db.begin_read().map_err(backend)?;
    check_owner(&txn, owner, task_id)?;
    let push = txn.open_table(PUSH).map_err(backend)?;
    // Config ids are any strings, "" the smallest; `task_id + "\0"` is the next task id.
    let next = format!("{task_id}\0");
    let mut configs = Vec::new();
    for entry in push
        .range::<(&str, &str)>((task_id, "")..(next.as_str(), ""))
        .map_err(backend)?
    {
        let (_, value) = entry.map_err(backend)?;
        configs.push(TaskPushNotificationConfig::decode(value.value()).map_err(corrupt)?);
    }
    Ok(configs)
}

pub(super) fn delete(
    tables: &mut Tables<'_>,
    owner: &Owner,
    task_id: &str,
    id: &str,
) -> Result<(), Error> {
    owned_meta(tables, owner, task_id)?;
    tables.push.remove((task_id, id)).map_err(backend)?;
    tables.push_state.remove((task_id, id)).map_err(backend)?;
    Ok(())
}

fn encode(cursor: &PushCursor) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(cursor).map_err(failure)
}

fn decode(bytes: &[u8]) -> Result<PushCursor, Error> {
    serde_json::from_slice(bytes).map_err(failure)
}

/// Writes `cursor` (encoded by the caller) once its task is its owner's and the config
/// exists.
pub(super) fn save(tables: &mut Tables<'_>, cursor: &PushCursor, body: &[u8]) -> Result<(), Error> {
    let (task_id, id) = (cursor.task_id.as_str(), cursor.config_id.as_str());
    owned_meta(tables, &cursor.owner, task_id)?;
    if tables.push.get((task_id, id)).map_err(backend)?.is_none() {
        return Err(Error::PushConfigNotFound {
            task_id: task_id.to_owned(),
            id: id.to_owned(),
        });
    }
    tables
        .push_state
        .insert((task_id, id), body)
        .map_err(backend)?;
    Ok(())
}

/// The encoded cursor, for [`save`].
pub(super) fn encoded(cursor: &PushCursor) -> Result<Vec<u8>, Error> {
    encode(cursor)
}

pub(super) fn cursor(
    db: &Database,
    owner: &Owner,
    task_id: &str,
    id: &str,
) -> Result<Option<PushCursor>, Error> {
    let txn = db.begin_read().map_err(backend)?;
    check_owner(&txn, owner, task_id)?;
    let states = txn.open_table(PUSH_STATE).map_err(backend)?;
    let state = states.get((task_id, id)).map_err(backend)?;
    state.map(|s| decode(s.value())).transpose()
}

/// Cursors after `after` that `keep` (given the task's version and whether it is
/// finished), at most `limit`.
pub(super) fn cursors(
    db: &Database,
    after: Option<(&str, &str)>,
    limit: usize,
    keep: impl Fn(&PushCursor, u64, bool) -> bool,
) -> Result<Vec<PushCursor>, Error> {
    let txn = db.begin_read().map_err(backend)?;
    let states = txn.open_table(PUSH_STATE).map_err(backend)?;
    let tasks = txn.open_table(TASKS).map_err(backend)?;
    let range = match after {
        Some(key) => states.range::<(&str, &str)>((Bound::Excluded(key), Bound::Unbounded)),
        None => states.range::<(&str, &str)>(..),
    }
    .map_err(backend)?;
    let mut found = Vec::new();
    for row in range {
        let (_, state) = row.map_err(backend)?;
        let cursor = decode(state.value())?;
        let Some((meta, _)) = read_row(&tasks, &cursor.task_id, false)? else {
            continue;
        };
        let finished = meta.terminal_since.is_some();
        if keep(&cursor, meta.version, finished) {
            found.push(cursor);
            if found.len() >= limit.max(1) {
                break;
            }
        }
    }
    Ok(found)
}

/// Whether any live cursor of `task_id` is behind `version`: its log is still needed.
pub(super) fn behind(tables: &Tables<'_>, task_id: &str, version: u64) -> Result<bool, Error> {
    let next = format!("{task_id}\0");
    for row in tables
        .push_state
        .range::<(&str, &str)>((task_id, "")..(next.as_str(), ""))
        .map_err(backend)?
    {
        let (_, state) = row.map_err(backend)?;
        let cursor = decode(state.value())?;
        if cursor.dead.is_none() && cursor.delivered < version {
            return Ok(true);
        }
    }
    Ok(false)
}
