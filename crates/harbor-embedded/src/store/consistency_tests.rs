//! The rows of every table agree after a mix of creates, updates, pushes and pruning.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use harbor_a2a::pbjson_types::Timestamp;
use harbor_a2a::{Task, TaskPushNotificationConfig, TaskState, TaskStatus, TimestampExt};
use harbor_distributed::{Error, Owner};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::tables::{
    ACTIVE, COUNTS, INDEX, LOG, LOG_KEPT, Meta, OWNER_TERMINAL, PUSH, STATES, TASKS, TERMINAL,
    Tables, read_row,
};
use super::{DEFAULT_LOG_RETENTION, Retention, StoreConfig, push, retention, tasks};

fn task(i: u64, state: TaskState) -> Task {
    Task {
        id: format!("t{i}"),
        context_id: format!("ctx{}", i % 3),
        status: Some(TaskStatus {
            state: state as i32,
            message: None,
            timestamp: Some(Timestamp::from_system_time(
                SystemTime::UNIX_EPOCH + Duration::from_secs(i * 7 % 11),
            )),
        }),
        ..Task::default()
    }
}

/// Runs `write` in its own durable transaction, as the writer thread would.
fn write<T>(db: &Database, write: impl FnOnce(&mut Tables<'_>) -> Result<T, Error>) -> T {
    let txn = tasks::begin_write(db).expect("begin");
    let value = write(&mut Tables::open(&txn).expect("tables")).expect("write");
    txn.commit().expect("commit");
    value
}

/// Checks every cross-table invariant; returns the number of tasks.
fn check(db: &Database) -> usize {
    let txn = db.begin_read().expect("read");
    let tasks = txn.open_table(TASKS).expect("tasks");
    let mut metas: BTreeMap<String, Meta> = BTreeMap::new();
    for entry in tasks.iter().expect("iter") {
        let (id, _) = entry.expect("row");
        let id = id.value().to_owned();
        let (meta, _) = read_row(&tasks, &id, true)
            .expect("decode")
            .expect("present");
        metas.insert(id, meta);
    }
    let index = txn.open_table(INDEX).expect("index");
    let mut index_rows = 0;
    for entry in index.iter().expect("iter") {
        let (key, value) = entry.expect("row");
        let (tenant, user, facet, nanos, id) = key.value();
        let meta = metas.get(id).expect("index row of a missing task");
        assert_eq!(
            (tenant, user, nanos),
            (&*meta.tenant, &*meta.user, meta.nanos)
        );
        assert!(
            facet == "all"
                || facet == format!("context:{}", meta.context)
                || facet == format!("state:{}", meta.state),
            "stale facet {facet} of {id}"
        );
        assert_eq!(value.value(), (meta.state, meta.stamped));
        index_rows += 1;
    }
    assert_eq!(index_rows, 3 * metas.len(), "three index rows per task");
    let terminal = txn.open_table(TERMINAL).expect("terminal");
    let owner_terminal = txn.open_table(OWNER_TERMINAL).expect("owner terminal");
    let terminal_count = metas
        .values()
        .filter(|m| m.terminal_since.is_some())
        .count();
    assert_eq!(terminal.len().expect("len"), terminal_count as u64);
    assert_eq!(owner_terminal.len().expect("len"), terminal_count as u64);
    for entry in terminal.iter().expect("iter") {
        let (key, _) = entry.expect("row");
        let (since, id) = key.value();
        assert_eq!(metas.get(id).and_then(|m| m.terminal_since), Some(since));
    }
    let counts = txn.open_table(COUNTS).expect("counts");
    let mut per_owner: BTreeMap<(String, String), u64> = BTreeMap::new();
    for meta in metas.values() {
        *per_owner
            .entry((meta.tenant.clone(), meta.user.clone()))
            .or_default() += 1;
    }
    let mut stored: BTreeMap<(String, String), u64> = BTreeMap::new();
    for entry in counts.iter().expect("iter") {
        let (key, value) = entry.expect("row");
        let (tenant, user) = key.value();
        stored.insert((tenant.to_owned(), user.to_owned()), value.value());
    }
    assert_eq!(stored, per_owner, "owner counts");
    let states = txn.open_table(STATES).expect("states");
    let mut per_state: BTreeMap<i32, u64> = BTreeMap::new();
    for meta in metas.values() {
        *per_state.entry(meta.state).or_default() += 1;
    }
    let mut stored: BTreeMap<i32, u64> = BTreeMap::new();
    for entry in states.iter().expect("iter") {
        let (state, count) = entry.expect("row");
        stored.insert(state.value(), count.value());
    }
    assert_eq!(stored, per_state, "state counts");
    let push = txn.open_table(PUSH).expect("push");
    for entry in push.iter().expect("iter") {
        let (key, _) = entry.expect("row");
        assert!(metas.contains_key(key.value().0), "orphan push config");
    }
    // Every log holds entries 1..=version (nothing here is compacted) and no more.
    let log = txn.open_table(LOG).expect("log");
    let mut sequences: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for entry in log.iter().expect("iter") {
        let (key, _) = entry.expect("row");
        let (id, sequence) = key.value();
        assert!(metas.contains_key(id), "orphan log entry of {id}");
        sequences.entry(id.to_owned()).or_default().push(sequence);
    }
    for (id, meta) in &metas {
        let want: Vec<u64> = (1..=meta.version).collect();
        assert_eq!(sequences.get(id), Some(&want), "the log of {id}");
    }
    let active = txn.open_table(ACTIVE).expect("active");
    let mut active_ids = Vec::new();
    for entry in active.iter().expect("iter") {
        let (id, owner) = entry.expect("row");
        let meta = metas
            .get(id.value())
            .expect("an active row of a missing task");
        assert_eq!(owner.value(), (&*meta.tenant, &*meta.user));
        active_ids.push(id.value().to_owned());
    }
    let want: Vec<String> = metas
        .iter()
        .filter(|(_, m)| m.is_active())
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(
        active_ids, want,
        "the active table holds exactly the active tasks"
    );
    let kept = txn.open_table(LOG_KEPT).expect("log kept");
    assert_eq!(kept.len().expect("len"), terminal_count as u64);
    for entry in kept.iter().expect("iter") {
        let (key, _) = entry.expect("row");
        let (since, id) = key.value();
        assert_eq!(metas.get(id).and_then(|m| m.terminal_since), Some(since));
    }
    metas.len()
}

#[test]
fn every_table_agrees_after_writes_and_pruning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::create(dir.path().join("store.redb")).expect("create");
    let config = StoreConfig {
        retention: Retention {
            task: Some(Duration::from_secs(60)),
            log: Some(DEFAULT_LOG_RETENTION),
        },
        max_tasks_per_owner: Some(8),
        ..StoreConfig::default()
    };
    let owners = [
        Owner {
            tenant: "a".into(),
            user: "u".into(),
        },
        Owner {
            tenant: "a".into(),
            user: "u\0".into(),
        },
    ];
    let states = [
        TaskState::Submitted,
        TaskState::Working,
        TaskState::Completed,
        TaskState::InputRequired,
        TaskState::Failed,
    ];
    for i in 0..24u64 {
        let owner = &owners[(i % 2) as usize];
        let new = task(i, states[(i % 5) as usize]);
        let new = tasks::Append::snapshot(&new);
        write(&db, |tables| tasks::create(tables, &config, owner, &new));
        let config_of = TaskPushNotificationConfig {
            id: format!("c{i}"),
            task_id: format!("t{i}"),
            ..TaskPushNotificationConfig::default()
        };
        write(&db, |tables| push::put(tables, owner, &config_of));
        if i >= 3 && i % 3 == 0 {
            // Move an earlier task to another state and context, if the cap left it.
            let j = i - 3;
            if let Ok(stored) = tasks::get(&db, owner, &format!("t{j}")) {
                let moved = Task {
                    context_id: "moved".into(),
                    ..task(j + 100, states[((j + 2) % 5) as usize])
                };
                let moved = tasks::Append::snapshot(&Task {
                    id: stored.task.id,
                    ..moved
                });
                write(&db, |tables| {
                    tasks::update(tables, &config, owner, &moved, stored.version)
                });
            }
        }
        check(&db);
    }
    let before = check(&db);
    let pruned = retention::prune(&db, &config, SystemTime::now() + Duration::from_secs(3600))
        .expect("prune");
    let after = check(&db);
    assert!(pruned > 0, "nothing was pruned");
    assert_eq!(before - after, pruned as usize);
    let txn = db.begin_read().expect("read");
    let terminal = txn.open_table(TERMINAL).expect("terminal");
    assert_eq!(
        terminal.len().expect("len"),
        0,
        "every terminal task expired"
    );
}

#[test]
fn a_file_from_before_the_derived_tables_gets_them_filled_when_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = std::sync::Arc::new(Database::create(dir.path().join("store.redb")).expect("create"));
    let config = StoreConfig::default();
    drop(super::EmbeddedTaskStore::new(std::sync::Arc::clone(&db), config.clone()).expect("open"));
    let owner = Owner {
        tenant: "a".into(),
        user: "u".into(),
    };
    for (i, state) in [(1, TaskState::Working), (2, TaskState::Completed)] {
        let new = tasks::Append::snapshot(&task(i, state));
        write(&db, |tables| tasks::create(tables, &config, &owner, &new));
    }
    // As an older version left it: no active table, no state counts.
    let txn = tasks::begin_write(&db).expect("begin");
    assert!(txn.delete_table(ACTIVE).expect("delete"));
    assert!(txn.delete_table(STATES).expect("delete"));
    txn.commit().expect("commit");
    drop(super::EmbeddedTaskStore::new(std::sync::Arc::clone(&db), config).expect("reopen"));
    let active = tasks::active(&db, "", 10).expect("active");
    assert_eq!(active, [(owner, "t1".to_owned())]);
    assert_eq!(
        tasks::count_by_state(&db).expect("count"),
        [(TaskState::Working, 1), (TaskState::Completed, 1)]
    );
    check(&db);
}
