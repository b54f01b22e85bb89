//! The TaskStore and TaskLog conformance suites against the server at
//! `HARBOR_POSTGRES_URL`, each case in a schema of its own that is dropped after it; and
//! the store's retention.

use std::sync::Arc;
use std::time::Duration;

use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig, TaskState, TaskStatus};
use harbor_conformance::store::ScopedLog;
use harbor_distributed::{Owner, PushOutbox, TaskLog, TaskStore};
use harbor_postgres::{PostgresTaskStore, Retention, StoreOptions};
use harbor_test_support::postgres::Scratch;
use harbor_test_support::require;

/// A store in `scratch`'s schema, with `options`.
async fn open(scratch: &Scratch, options: StoreOptions) -> Arc<PostgresTaskStore> {
    match PostgresTaskStore::connect(&scratch.url, options).await {
        Ok(store) => Arc::new(store),
        Err(error) => panic!("cannot open a postgres task store at the test server: {error}"),
    }
}

/// A store at `url` in a new schema, dropped with the store.
async fn fresh(url: String) -> Arc<ScopedLog> {
    let scratch = Scratch::on(&url);
    let store = open(&scratch, StoreOptions::default()).await;
    Arc::new(ScopedLog::new(store).after_drop(move || drop(scratch)))
}

harbor_conformance::task_store_suite!({
    let url = require!(postgres);
    move || {
        let url = url.clone();
        async move { fresh(url).await as Arc<dyn TaskStore> }
    }
});

mod log {
    use super::*;

    harbor_conformance::task_log_suite!({
        let url = require!(postgres);
        move || {
            let url = url.clone();
            async move { fresh(url).await as Arc<dyn TaskLog> }
        }
    });
}

fn owner() -> Owner {
    Owner {
        tenant: "t".into(),
        user: "u".into(),
    }
}

fn task(id: &str, state: TaskState) -> Task {
    Task {
        id: id.into(),
        context_id: "c".into(),
        status: Some(TaskStatus {
            state: state as i32,
            message: None,
            timestamp: Some(pbjson_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
        }),
        ..Task::default()
    }
}

fn snapshot(task: &Task) -> StreamResponse {
    StreamResponse::from(task.clone())
}

/// A task created WORKING and then finished: two log entries.
async fn finished(store: &PostgresTaskStore, id: &str) {
    let working = task(id, TaskState::Working);
    store
        .append(&owner(), &working, 0, &[snapshot(&working)])
        .await
        .expect("create");
    let done = task(id, TaskState::Completed);
    store
        .append(&owner(), &done, 1, &[snapshot(&done)])
        .await
        .expect("finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_compacts_logs_and_deletes_tasks() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let options = StoreOptions {
        retention: Retention {
            task: None,
            log: Some(Duration::ZERO),
        },
        // Far away: this test runs retention itself.
        prune_interval: Duration::from_secs(3_600),
    };
    let store = open(&scratch, options).await;
    finished(&store, "done").await;
    finished(&store, "delivering").await;
    let running = task("running", TaskState::Working);
    store
        .append(&owner(), &running, 0, &[snapshot(&running)])
        .await
        .expect("create");
    // A live push cursor behind the log of "delivering" keeps it.
    let config = TaskPushNotificationConfig {
        task_id: "delivering".into(),
        id: "hook".into(),
        url: "https://example.com/hook".into(),
        ..TaskPushNotificationConfig::default()
    };
    store.track(&owner(), &config, 1).await.expect("track");

    assert_eq!(store.compact_logs().await.expect("compact"), 1);
    let log = |id: &'static str| {
        let store = Arc::clone(&store);
        async move { store.read_log(&owner(), id, 0, 10).await.expect("read") }
    };
    assert!(
        log("done").await.is_empty(),
        "the finished task's log is compacted"
    );
    assert_eq!(
        log("delivering").await.len(),
        2,
        "a log being delivered is kept"
    );
    assert_eq!(
        log("running").await.len(),
        1,
        "a running task's log is kept"
    );
    let done = store.get(&owner(), "done").await.expect("get");
    assert_eq!(done.task.state(), TaskState::Completed);
    assert_eq!(done.version, 2);

    // Once delivery catches up, the log goes too.
    let mut cursor = store
        .cursor(&owner(), "delivering", "hook")
        .await
        .expect("cursor")
        .expect("tracked");
    cursor.delivered = 2;
    store.save(&cursor).await.expect("save");
    assert_eq!(store.compact_logs().await.expect("compact"), 1);
    assert!(log("delivering").await.is_empty());
    drop(store);
    drop(scratch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_finished_tasks_past_their_ttl() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let options = StoreOptions {
        retention: Retention {
            task: Some(Duration::ZERO),
            log: None,
        },
        prune_interval: Duration::from_secs(3_600),
    };
    let store = open(&scratch, options).await;
    finished(&store, "done").await;
    let running = task("running", TaskState::Working);
    store
        .append(&owner(), &running, 0, &[snapshot(&running)])
        .await
        .expect("create");
    assert_eq!(store.prune().await.expect("prune"), 1);
    assert!(matches!(
        store.get(&owner(), "done").await,
        Err(harbor_distributed::Error::TaskNotFound { .. })
    ));
    assert!(store.get(&owner(), "running").await.is_ok());
    drop(store);
    drop(scratch);
}
