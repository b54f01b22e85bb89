//! Create, read and versioned update.

use std::sync::Arc;

use harbor_a2a::{TaskState, TaskStatus};
use harbor_distributed::{Error, Owner, TaskStore};

use super::fixtures::{base_time, owner, push_config, query, task_at, unique};

/// A created task reads back identical, at version 1.
pub async fn create_then_get(store: Arc<dyn TaskStore>) {
    let task = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    let version = store
        .create(&owner("u1"), task.clone())
        .await
        .expect("create");
    assert_eq!(version, 1, "a new task starts at version 1");
    let stored = store.get(&owner("u1"), &task.id).await.expect("get");
    assert_eq!(stored.task, task);
    assert_eq!(stored.version, 1);
    assert_eq!(stored.owner, owner("u1"));
}

/// Creating an id twice fails with AlreadyExists and keeps the first.
pub async fn create_twice_is_refused(store: Arc<dyn TaskStore>) {
    let id = unique("t");
    let first = task_at(&id, "ctx-1", TaskState::Submitted, base_time());
    store
        .create(&owner("u1"), first.clone())
        .await
        .expect("create");
    let second = task_at(&id, "ctx-2", TaskState::Working, base_time());
    let err = store
        .create(&owner("u2"), second)
        .await
        .expect_err("second create must fail");
    assert!(
        matches!(err, Error::AlreadyExists { .. }),
        "expected AlreadyExists, got {err:?}"
    );
    assert_eq!(store.get(&owner("u1"), &id).await.expect("get").task, first);
}

/// Another owner's task answers TaskNotFound on every operation, like a missing id.
pub async fn other_owners_see_not_found(store: Arc<dyn TaskStore>) {
    let task = task_at(&unique("t"), "ctx", TaskState::Working, base_time());
    store
        .create(&owner("alice"), task.clone())
        .await
        .expect("create");
    let bob = owner("bob");
    let not_found = |r: Result<(), Error>, what: &str| match r {
        Err(Error::TaskNotFound { .. }) => {}
        other => panic!("{what} on another owner's task: expected TaskNotFound, got {other:?}"),
    };
    not_found(store.get(&bob, &task.id).await.map(drop), "get");
    not_found(
        store.update(&bob, task.clone(), 1).await.map(drop),
        "update",
    );
    let config = push_config(&task.id, "cfg");
    not_found(store.put_push_config(&bob, config).await, "put_push_config");
    not_found(
        store.get_push_config(&bob, &task.id, "cfg").await.map(drop),
        "get_push_config",
    );
    not_found(
        store.list_push_configs(&bob, &task.id).await.map(drop),
        "list_push_configs",
    );
    not_found(
        store.delete_push_config(&bob, &task.id, "cfg").await,
        "delete_push_config",
    );
    let other_tenant = Owner {
        tenant: "tenant-b".into(),
        user: "alice".into(),
    };
    not_found(
        store.get(&other_tenant, &task.id).await.map(drop),
        "get from another tenant",
    );
    let page = store.list(&bob, &query(100)).await.expect("list");
    assert!(
        page.tasks.iter().all(|t| t.id != task.id),
        "bob's list shows alice's task"
    );
}

/// Updates bump the version; a stale version is refused and changes nothing.
pub async fn update_is_versioned(store: Arc<dyn TaskStore>) {
    let mut task = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    let me = owner("u1");
    store.create(&me, task.clone()).await.expect("create");
    task.status = Some(TaskStatus {
        state: TaskState::Working as i32,
        ..TaskStatus::default()
    });
    assert_eq!(store.update(&me, task.clone(), 1).await.expect("update"), 2);
    let mut stale = task.clone();
    stale.status = Some(TaskStatus {
        state: TaskState::Failed as i32,
        ..TaskStatus::default()
    });
    match store.update(&me, stale, 1).await {
        Err(Error::VersionConflict {
            expected: 1,
            actual: 2,
            ..
        }) => {}
        other => panic!("stale update: expected VersionConflict(1, 2), got {other:?}"),
    }
    let stored = store.get(&me, &task.id).await.expect("get");
    assert_eq!(
        (stored.task, stored.version),
        (task, 2),
        "the stale write changed the task"
    );
    let missing = task_at(&unique("missing"), "ctx", TaskState::Working, base_time());
    assert!(matches!(
        store.update(&me, missing, 1).await,
        Err(Error::TaskNotFound { .. })
    ));
}

/// Of 16 concurrent writers holding the same version exactly one wins.
pub async fn concurrent_updates_one_wins(store: Arc<dyn TaskStore>) {
    let task = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    store
        .create(&owner("u1"), task.clone())
        .await
        .expect("create");
    let writers = (0..16).map(|i| {
        let store = Arc::clone(&store);
        let mut task = task.clone();
        task.context_id = format!("writer-{i}");
        tokio::spawn(async move { store.update(&owner("u1"), task, 1).await })
    });
    let mut wins = Vec::new();
    for (i, writer) in writers.enumerate() {
        match writer.await.expect("writer task") {
            Ok(version) => wins.push((i, version)),
            Err(Error::VersionConflict { .. }) => {}
            Err(other) => panic!("writer {i}: unexpected error {other:?}"),
        }
    }
    assert_eq!(wins.len(), 1, "expected exactly one winner, got {wins:?}");
    let stored = store.get(&owner("u1"), &task.id).await.expect("get");
    assert_eq!(stored.version, 2);
    assert_eq!(
        stored.task.context_id,
        format!("writer-{}", wins[0].0),
        "the winner's write is stored"
    );
}

/// A task that would not decode back (nested past prost's recursion limit) is refused, and
/// nothing is stored: a store never holds what it cannot read again.
pub async fn undecodable_tasks_are_refused(store: Arc<dyn TaskStore>) {
    let me = owner("u1");
    let data = (0..60).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]));
    let mut task = task_at(&unique("deep"), "ctx", TaskState::Completed, base_time());
    task.history.push(harbor_a2a::Message {
        message_id: "m".into(),
        role: harbor_a2a::Role::User as i32,
        parts: vec![harbor_a2a::Part::data(data)],
        ..harbor_a2a::Message::default()
    });
    let refused = store.create(&me, task.clone()).await;
    assert!(
        matches!(refused, Err(Error::InvalidArgument(_))),
        "got {refused:?}"
    );
    let missing = store.get(&me, &task.id).await;
    assert!(
        matches!(missing, Err(Error::TaskNotFound { .. })),
        "got {missing:?}"
    );
}

/// The store counts its tasks by state over every owner, and an update moves a task from
/// one count to the other.
pub async fn tasks_are_counted_by_state(store: Arc<dyn TaskStore>) {
    let counts = || async {
        store
            .count_by_state()
            .await
            .expect("count_by_state")
            .expect("the store keeps count of its tasks by state")
    };
    assert_eq!(counts().await, [], "a new store holds no task");
    let working = task_at(&unique("t"), "ctx", TaskState::Working, base_time());
    for (who, task) in [
        (
            "u1",
            task_at(&unique("t"), "ctx", TaskState::Submitted, base_time()),
        ),
        (
            "u2",
            task_at(&unique("t"), "ctx", TaskState::Working, base_time()),
        ),
        ("u1", working.clone()),
    ] {
        store.create(&owner(who), task).await.expect("create");
    }
    assert_eq!(
        counts().await,
        [(TaskState::Submitted, 1), (TaskState::Working, 2)],
        "counted across owners"
    );
    let mut done = working.clone();
    done.status = Some(TaskStatus {
        state: TaskState::Completed as i32,
        ..TaskStatus::default()
    });
    store.update(&owner("u1"), done, 1).await.expect("update");
    let mut again = working;
    again.context_id = "ctx-2".into();
    // A refused (stale) update moves nothing.
    let stale = store.update(&owner("u1"), again, 1).await;
    assert!(
        matches!(stale, Err(Error::VersionConflict { .. })),
        "{stale:?}"
    );
    assert_eq!(
        counts().await,
        [
            (TaskState::Submitted, 1),
            (TaskState::Working, 1),
            (TaskState::Completed, 1)
        ],
        "the update moved one task from WORKING to COMPLETED"
    );
}
