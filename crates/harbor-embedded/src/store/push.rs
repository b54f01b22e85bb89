//! Push-notification configs: rows keyed `(task id, config id)` beside the task they belong
//! to. Every call first checks the task is the caller's, in the same transaction (writes on
//! the writer thread, reads on the blocking pool).

use harbor_a2a::TaskPushNotificationConfig;
use harbor_distributed::{Error, Owner};
use prost::Message;
use redb::{Database, ReadTransaction, ReadableDatabase};

use super::tables::{PUSH, TASKS, Tables, corrupt, read_row};
use super::tasks::owned_meta;
use crate::engine::backend;

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
    Ok(())
}
