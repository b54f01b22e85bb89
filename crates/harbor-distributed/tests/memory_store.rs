//! The in-memory task store runs the whole TaskStore and TaskLog conformance suites.

use std::sync::Arc;

use harbor_distributed::{MemoryTaskStore, TaskLog, TaskStore};

harbor_conformance::task_store_suite!(|| async {
    Arc::new(MemoryTaskStore::new()) as Arc<dyn TaskStore>
});

mod log {
    use super::*;

    harbor_conformance::task_log_suite!(|| async {
        Arc::new(MemoryTaskStore::new()) as Arc<dyn TaskLog>
    });
}

/// A store with retention passes both suites too: nothing it holds expires within them.
mod retained {
    use std::time::Duration;

    use harbor_distributed::Retention;

    use super::*;

    fn store() -> MemoryTaskStore {
        MemoryTaskStore::with_retention(Retention {
            log: Some(Duration::from_secs(3600)),
            task: Some(Duration::from_secs(3600)),
        })
    }

    harbor_conformance::task_store_suite!(|| async { Arc::new(store()) as Arc<dyn TaskStore> });

    mod log {
        use super::*;

        harbor_conformance::task_log_suite!(|| async { Arc::new(store()) as Arc<dyn TaskLog> });
    }
}

/// What retention does when the time is up: a zero retention expires on the very write
/// that finishes a task.
mod expiry {
    use std::time::Duration;

    use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig, TaskState, TaskStatus};
    use harbor_distributed::{Error, Identity, Owner, Retention};

    use super::*;

    fn owner() -> Owner {
        Identity::new("t", "u", "s").expect("identity").owner()
    }

    fn task(id: &str, state: TaskState) -> Task {
        Task::new(id, "c", TaskStatus::now(state))
    }

    /// Creates `id` WORKING (one entry), then moves it to `end` (a second entry).
    async fn run(store: &MemoryTaskStore, id: &str, end: TaskState) {
        let working = task(id, TaskState::Working);
        store
            .append(
                &owner(),
                &working,
                0,
                &[StreamResponse::from(working.clone())],
            )
            .await
            .expect("created");
        let done = task(id, end);
        store
            .append(&owner(), &done, 1, &[StreamResponse::from(done.clone())])
            .await
            .expect("finished");
    }

    #[tokio::test]
    async fn a_finished_tasks_log_is_compacted_and_the_task_kept() {
        let store = MemoryTaskStore::with_retention(Retention {
            log: Some(Duration::ZERO),
            task: None,
        });
        run(&store, "a", TaskState::Completed).await;
        // The log of `a` was compacted when it finished; `a` itself stays.
        run(&store, "b", TaskState::Working).await;
        let stored = store.get(&owner(), "a").await.expect("kept");
        assert_eq!(
            (stored.version, stored.task.state()),
            (2, TaskState::Completed)
        );
        assert!(
            store
                .read_log(&owner(), "a", 0, 10)
                .await
                .expect("read")
                .is_empty()
        );
        // An active task's log is untouched.
        let b = store.read_log(&owner(), "b", 0, 10).await.expect("read");
        assert_eq!(b.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2]);
    }

    #[tokio::test]
    async fn a_finished_task_goes_with_its_push_configs_an_active_one_stays() {
        let store = MemoryTaskStore::with_retention(Retention {
            log: None,
            task: Some(Duration::ZERO),
        });
        run(&store, "a", TaskState::Working).await;
        let config = TaskPushNotificationConfig {
            task_id: "a".into(),
            id: "p".into(),
            url: "https://example.com/hook".into(),
            ..TaskPushNotificationConfig::default()
        };
        store
            .put_push_config(&owner(), config)
            .await
            .expect("config");
        let done = task("a", TaskState::Canceled);
        store
            .append(&owner(), &done, 2, &[StreamResponse::from(done.clone())])
            .await
            .expect("finished");
        run(&store, "b", TaskState::Working).await;
        assert!(matches!(
            store.get(&owner(), "a").await,
            Err(Error::TaskNotFound { .. })
        ));
        assert!(store.get(&owner(), "b").await.is_ok(), "active tasks stay");
        let counts = store
            .count_by_state()
            .await
            .expect("counted")
            .expect("kept");
        assert_eq!(counts, [(TaskState::Working, 1)]);
    }

    #[tokio::test]
    async fn a_retention_past_the_clocks_end_keeps_everything() {
        let forever = Some(Duration::MAX);
        let store = MemoryTaskStore::with_retention(Retention {
            log: forever,
            task: forever,
        });
        run(&store, "a", TaskState::Completed).await;
        run(&store, "b", TaskState::Completed).await;
        let log = store.read_log(&owner(), "a", 0, 10).await.expect("read");
        assert_eq!(log.len(), 2);
    }

    #[tokio::test]
    async fn without_retention_everything_is_kept() {
        let store = MemoryTaskStore::new();
        run(&store, "a", TaskState::Completed).await;
        run(&store, "b", TaskState::Completed).await;
        let log = store.read_log(&owner(), "a", 0, 10).await.expect("read");
        assert_eq!(log.len(), 2);
    }
}
