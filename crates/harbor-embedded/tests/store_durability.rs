//! The embedded store keeps tasks across a reopen, keeps its indexes in step with updates,
//! and serialises concurrent versioned writes.

mod store_support;

use std::sync::Arc;

use harbor_a2a::TaskState;
use harbor_distributed::{Error, TaskQuery, TaskStore};
use harbor_embedded::StoreConfig;
use store_support::{at, ids, open, owner, push_config, query, task};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_versions_and_push_configs_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let alice = owner("alice");
    let mut updated = task("t-2", "ctx", TaskState::Working, 2);
    {
        let engine = open(dir.path(), StoreConfig::default());
        let store = engine.task_store();
        for (i, id) in ["t-1", "t-2", "t-3"].into_iter().enumerate() {
            let t = task(id, "ctx", TaskState::Submitted, i as u64);
            assert_eq!(store.create(&alice, t).await.expect("create"), 1);
        }
        store
            .update(&alice, updated.clone(), 1)
            .await
            .expect("update 1");
        updated.status = task("t-2", "ctx", TaskState::Completed, 10).status;
        assert_eq!(
            store
                .update(&alice, updated.clone(), 2)
                .await
                .expect("update 2"),
            3
        );
        store
            .put_push_config(&alice, push_config("t-2", "hook"))
            .await
            .expect("put push config");
    }
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let stored = store.get(&alice, "t-2").await.expect("get after reopen");
    assert_eq!((stored.task, stored.version), (updated.clone(), 3));
    for id in ["t-1", "t-3"] {
        assert_eq!(store.get(&alice, id).await.expect("get").version, 1);
    }
    assert_eq!(
        ids(&store, &alice, &query(None, None)).await,
        (vec!["t-2".into(), "t-3".into(), "t-1".into()], 3),
        "the index and the count were persisted too"
    );
    assert_eq!(
        store
            .get_push_config(&alice, "t-2", "hook")
            .await
            .expect("push config after reopen"),
        push_config("t-2", "hook")
    );
    assert!(matches!(
        store.update(&alice, updated.clone(), 2).await,
        Err(Error::VersionConflict { actual: 3, .. })
    ));
    assert!(matches!(
        store
            .create(&alice, task("t-1", "ctx", TaskState::Working, 0))
            .await,
        Err(Error::AlreadyExists { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_follow_updates_that_change_status_and_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let me = owner("me");
    store
        .create(&me, task("moving", "a", TaskState::Working, 1))
        .await
        .expect("create");
    store
        .create(&me, task("still", "a", TaskState::Working, 3))
        .await
        .expect("create");
    store
        .update(&me, task("moving", "b", TaskState::Completed, 5), 1)
        .await
        .expect("update");
    let cases: [(Option<&str>, Option<TaskState>, &[&str]); 7] = [
        (None, None, &["moving", "still"]),
        (Some("a"), None, &["still"]),
        (Some("b"), None, &["moving"]),
        (None, Some(TaskState::Working), &["still"]),
        (None, Some(TaskState::Completed), &["moving"]),
        (Some("b"), Some(TaskState::Completed), &["moving"]),
        (Some("a"), Some(TaskState::Completed), &[]),
    ];
    for (context, status, expected) in cases {
        let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        let total = expected.len() as u64;
        assert_eq!(
            ids(&store, &me, &query(context, status)).await,
            (expected, total),
            "context {context:?}, status {status:?}"
        );
    }
    let after_4 = TaskQuery {
        status_after: Some(at(4)),
        ..query(None, None)
    };
    assert_eq!(
        ids(&store, &me, &after_4).await,
        (vec!["moving".into()], 1),
        "status_after reads the new timestamp"
    );
    // Moving back restores the old index rows and drops the new ones.
    store
        .update(&me, task("moving", "a", TaskState::Working, 1), 2)
        .await
        .expect("update back");
    assert_eq!(ids(&store, &me, &query(Some("b"), None)).await, (vec![], 0));
    assert_eq!(
        ids(&store, &me, &query(Some("a"), Some(TaskState::Working))).await,
        (vec!["still".into(), "moving".into()], 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_writers_holding_one_version_the_second_conflicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let me = owner("me");
    store
        .create(&me, task("race", "ctx", TaskState::Submitted, 0))
        .await
        .expect("create");
    for round in 1..=20u64 {
        let write = |context: &str| {
            let (store, me) = (Arc::clone(&store), me.clone());
            let t = task("race", context, TaskState::Working, round);
            tokio::spawn(async move { store.update(&me, t, round).await })
        };
        let (a, b) = (write("a"), write("b"));
        let results = [a.await.expect("writer a"), b.await.expect("writer b")];
        let wins: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(wins, [&(round + 1)], "round {round}: {results:?}");
        let conflict = results.iter().find_map(|r| r.as_ref().err());
        assert!(
            matches!(
                conflict,
                Some(Error::VersionConflict { expected, actual, .. })
                    if *expected == round && *actual == round + 1
            ),
            "round {round}: {conflict:?}"
        );
    }
    assert_eq!(store.get(&me, "race").await.expect("get").version, 21);
    assert_eq!(ids(&store, &me, &query(None, None)).await.1, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_does_not_spoil_the_writes_committed_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let me = owner("me");
    // 64 concurrent creates over 16 ids: they share commits, and each id has one winner.
    let writers: Vec<_> = (0..64u64)
        .map(|i| {
            let (store, me) = (Arc::clone(&store), me.clone());
            let t = task(&format!("id-{}", i % 16), "ctx", TaskState::Working, i);
            tokio::spawn(async move { store.create(&me, t).await })
        })
        .collect();
    let mut created = 0;
    for writer in writers {
        match writer.await.expect("writer") {
            Ok(1) => created += 1,
            Err(Error::AlreadyExists { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 16);
    let (listed, total) = ids(&store, &me, &query(None, None)).await;
    assert_eq!((listed.len(), total), (16, 16));
}
