//! Retention: the terminal-task TTL, the per-owner cap, and the pruning thread.

mod store_support;

use std::time::{Duration, Instant, SystemTime};

use harbor_a2a::TaskState;
use harbor_distributed::{Error, TaskLog, TaskStore};
use harbor_embedded::store::DEFAULT_LOG_RETENTION;
use harbor_embedded::{Retention, StoreConfig};
use store_support::{ids, open, owner, push_config, query, task};

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_expired_terminal_tasks_with_their_rows_and_push_configs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig {
        retention: Retention {
            task: Some(HOUR),
            log: Some(DEFAULT_LOG_RETENTION),
        },
        ..StoreConfig::default()
    };
    let engine = open(dir.path(), config);
    let store = engine.task_store();
    let me = owner("me");
    for (id, state) in [
        ("done", TaskState::Completed),
        ("failed", TaskState::Failed),
        ("running", TaskState::Working),
        ("asking", TaskState::InputRequired),
    ] {
        store
            .create(&me, task(id, "ctx", state, 1))
            .await
            .expect("create");
    }
    store
        .put_push_config(&me, push_config("failed", "hook"))
        .await
        .expect("push config");
    let now = SystemTime::now();
    assert_eq!(
        store.prune(now).await.expect("prune now"),
        0,
        "nothing expired yet"
    );
    assert_eq!(
        store.prune(now + 2 * HOUR).await.expect("prune later"),
        2,
        "the two terminal tasks expire"
    );
    for gone in ["done", "failed"] {
        assert!(matches!(
            store.get(&me, gone).await,
            Err(Error::TaskNotFound { .. })
        ));
    }
    assert_eq!(
        ids(&store, &me, &query(None, None)).await,
        (vec!["running".into(), "asking".into()], 2),
        "index rows and the count went with the tasks"
    );
    for state in [TaskState::Completed, TaskState::Failed] {
        assert_eq!(
            ids(&store, &me, &query(Some("ctx"), Some(state))).await.1,
            0
        );
        assert_eq!(ids(&store, &me, &query(None, Some(state))).await.1, 0);
    }
    // The id is free again, and the old push config did not come back with it.
    store
        .create(&me, task("failed", "ctx", TaskState::Working, 1))
        .await
        .expect("re-create a pruned id");
    assert!(
        store
            .list_push_configs(&me, "failed")
            .await
            .expect("list push configs")
            .is_empty()
    );
    assert_eq!(
        store.prune(now + 100 * HOUR).await.expect("prune again"),
        0,
        "running tasks never expire"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_cap_evicts_the_oldest_terminal_tasks_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig {
        max_tasks_per_owner: Some(2),
        ..StoreConfig::default()
    };
    let engine = open(dir.path(), config);
    let store = engine.task_store();
    let (me, other) = (owner("me"), owner("other"));
    let create = |id: &'static str, state| {
        let (store, me) = (store.clone(), me.clone());
        async move {
            store
                .create(&me, task(id, "ctx", state, 1))
                .await
                .expect("create")
        }
    };
    store
        .create(&other, task("theirs", "ctx", TaskState::Completed, 1))
        .await
        .expect("create theirs");
    create("c1", TaskState::Completed).await;
    create("c2", TaskState::Completed).await;
    create("w1", TaskState::Working).await;
    let all = |expected: &[&str]| {
        let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        expected.sort();
        expected
    };
    let listed = || {
        let (store, me) = (store.clone(), me.clone());
        async move {
            let (mut got, total) = ids(&store, &me, &query(None, None)).await;
            got.sort();
            (got, total)
        }
    };
    assert_eq!(listed().await, (all(&["c2", "w1"]), 2), "c1 was oldest");
    create("w2", TaskState::Working).await;
    assert_eq!(listed().await, (all(&["w1", "w2"]), 2));
    create("w3", TaskState::Completed).await;
    assert_eq!(
        listed().await,
        (all(&["w1", "w2", "w3"]), 3),
        "running tasks and the new task are never evicted"
    );
    store
        .update(&me, task("w1", "ctx", TaskState::Canceled, 2), 1)
        .await
        .expect("cancel w1");
    assert_eq!(store.prune(SystemTime::now()).await.expect("prune"), 1);
    assert_eq!(
        listed().await,
        (all(&["w1", "w2"]), 2),
        "prune trims the owner back to the cap; w3 was terminal before w1"
    );
    assert!(
        store.get(&other, "theirs").await.is_ok(),
        "another owner's tasks do not count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pruning_thread_expires_tasks_and_stops_with_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig {
        retention: Retention {
            task: Some(Duration::from_millis(1)),
            log: Some(DEFAULT_LOG_RETENTION),
        },
        prune_interval: Duration::from_millis(20),
        ..StoreConfig::default()
    };
    let me = owner("me");
    {
        let engine = open(dir.path(), config.clone());
        let store = engine.task_store();
        store
            .create(&me, task("done", "ctx", TaskState::Completed, 1))
            .await
            .expect("create");
        store
            .create(&me, task("running", "ctx", TaskState::Working, 1))
            .await
            .expect("create");
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.get(&me, "done").await.is_ok() {
            assert!(Instant::now() < deadline, "the pruning thread never ran");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(store.get(&me, "running").await.is_ok());
    }
    // Dropping the engine stopped the thread and released the file.
    let engine = open(dir.path(), StoreConfig::default());
    assert_eq!(
        ids(&engine.task_store(), &me, &query(None, None)).await,
        (vec!["running".into()], 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_logs_are_compacted_to_their_tasks_after_the_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig {
        retention: Retention {
            task: None,
            log: Some(HOUR),
        },
        ..StoreConfig::default()
    };
    let engine = open(dir.path(), config);
    let store = engine.task_store();
    let me = owner("me");
    for (id, state) in [
        ("done", TaskState::Completed),
        ("running", TaskState::Working),
    ] {
        let created = task(id, "ctx", state, 1);
        let version = store.create(&me, created.clone()).await.expect("create");
        store
            .update(&me, created, version)
            .await
            .expect("a second entry");
    }
    let entries = |id: &'static str| {
        let store = engine.task_store();
        let me = me.clone();
        async move { store.read_log(&me, id, 0, 100).await.expect("read").len() }
    };
    let now = SystemTime::now();
    assert_eq!(store.compact_logs(now).await.expect("compact now"), 0);
    assert_eq!((entries("done").await, entries("running").await), (2, 2));
    assert_eq!(
        store
            .compact_logs(now + 2 * HOUR)
            .await
            .expect("compact later"),
        1,
        "only the finished task's log is due"
    );
    assert_eq!(
        (entries("done").await, entries("running").await),
        (0, 2),
        "the finished log went, the running one stays"
    );
    let done = store.get(&me, "done").await.expect("the task itself stays");
    assert_eq!(done.version, 2);
    assert_eq!(
        store.compact_logs(now + 3 * HOUR).await.expect("again"),
        0,
        "a compacted log is not compacted twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_a_push_config_still_delivers_from_is_not_compacted() {
    use harbor_distributed::PushOutbox;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StoreConfig {
        retention: Retention {
            task: None,
            log: Some(HOUR),
        },
        ..StoreConfig::default()
    };
    let engine = open(dir.path(), config);
    let store = engine.task_store();
    let me = owner("me");
    store
        .create(&me, task("done", "ctx", TaskState::Completed, 1))
        .await
        .expect("create");
    store
        .track(&me, &push_config("done", "hook"), 0)
        .await
        .expect("track");
    let later = SystemTime::now() + 2 * HOUR;
    assert_eq!(
        store.compact_logs(later).await.expect("compact"),
        0,
        "the hook has not had entry 1 yet"
    );
    assert_eq!(
        store.read_log(&me, "done", 0, 10).await.expect("log").len(),
        1
    );
    let mut cursor = store
        .cursor(&me, "done", "hook")
        .await
        .expect("cursor")
        .expect("tracked");
    cursor.delivered = 1;
    store.save(&cursor).await.expect("delivered");
    assert_eq!(store.compact_logs(later).await.expect("compact"), 1);
    assert!(
        store
            .read_log(&me, "done", 0, 10)
            .await
            .expect("log")
            .is_empty()
    );
}
