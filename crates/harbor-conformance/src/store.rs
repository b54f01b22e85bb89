//! The TaskStore conformance suite.
//!
//! Every [`TaskStore`] runs these cases against a fresh store:
//!
//! ```ignore
//! harbor_conformance::task_store_suite!(|| async {
//!     std::sync::Arc::new(harbor_distributed::MemoryTaskStore::new())
//!         as std::sync::Arc<dyn harbor_distributed::TaskStore>
//! });
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harbor_a2a::{Message, Part, Role, Task, TaskPushNotificationConfig, TaskState, TaskStatus};
use harbor_distributed::{Error, Owner, TaskQuery, TaskStore};

/// Expands to one `#[tokio::test]` per case; `$factory` is an expression of a closure
/// returning a future of `Arc<dyn TaskStore>` (a fresh, empty store each call).
#[macro_export]
macro_rules! task_store_suite {
    ($factory:expr) => {
        $crate::task_store_suite!(@cases $factory;
            create_then_get, create_twice_is_refused, other_owners_see_not_found,
            update_is_versioned, concurrent_updates_one_wins, list_is_owner_only_newest_first,
            list_filters, list_pages_walk_everything, list_refuses_bad_paging,
            push_config_crud, task_content_round_trips_exactly);
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = ($factory)().await;
                $crate::store::$case(store).await;
            }
        )*
    };
}

fn owner(user: &str) -> Owner {
    Owner {
        tenant: "tenant-a".into(),
        user: user.into(),
    }
}

fn unique(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{t:x}-{n}")
}

fn timestamp(at: SystemTime) -> pbjson_types::Timestamp {
    let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    pbjson_types::Timestamp {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

fn task_at(id: &str, context: &str, state: TaskState, at: SystemTime) -> Task {
    Task {
        id: id.into(),
        context_id: context.into(),
        status: Some(TaskStatus {
            state: state as i32,
            message: None,
            timestamp: Some(timestamp(at)),
        }),
        ..Task::default()
    }
}

fn base_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn query(page_size: u32) -> TaskQuery {
    TaskQuery {
        page_size,
        ..TaskQuery::default()
    }
}

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

/// ListTasks shows only the owner's tasks, newest status first, and counts them.
pub async fn list_is_owner_only_newest_first(store: Arc<dyn TaskStore>) {
    let me = owner(&unique("me"));
    let mut ids = Vec::new();
    for i in 0..5u64 {
        let task = task_at(
            &unique("t"),
            "ctx",
            TaskState::Working,
            base_time() + Duration::from_secs(i),
        );
        ids.push(task.id.clone());
        store.create(&me, task).await.expect("create");
    }
    let other = task_at(
        &unique("t"),
        "ctx",
        TaskState::Working,
        base_time() + Duration::from_secs(99),
    );
    store
        .create(&owner(&unique("other")), other)
        .await
        .expect("create other");
    let page = store.list(&me, &query(50)).await.expect("list");
    let got: Vec<String> = page.tasks.iter().map(|t| t.id.clone()).collect();
    ids.reverse();
    assert_eq!(got, ids, "tasks must be the owner's, newest status first");
    assert_eq!(page.total_size, 5);
    assert_eq!(page.next_page_token, "", "a single page has no next token");
}

/// contextId, status and statusTimestampAfter filters.
pub async fn list_filters(store: Arc<dyn TaskStore>) {
    let me = owner(&unique("me"));
    let specs = [
        ("a", TaskState::Working, 1),
        ("a", TaskState::Completed, 2),
        ("b", TaskState::Working, 3),
        ("b", TaskState::InputRequired, 4),
    ];
    let mut ids = Vec::new();
    for (ctx, state, secs) in specs {
        let task = task_at(
            &unique("t"),
            ctx,
            state,
            base_time() + Duration::from_secs(secs),
        );
        ids.push(task.id.clone());
        store.create(&me, task).await.expect("create");
    }
    let list = |q: TaskQuery| {
        let store = Arc::clone(&store);
        let me = me.clone();
        async move {
            let page = store.list(&me, &q).await.expect("list");
            (
                page.tasks.into_iter().map(|t| t.id).collect::<Vec<_>>(),
                page.total_size,
            )
        }
    };
    let by_context = list(TaskQuery {
        context_id: Some("a".into()),
        ..query(50)
    })
    .await;
    assert_eq!(
        by_context,
        (vec![ids[1].clone(), ids[0].clone()], 2),
        "contextId filter"
    );
    let by_status = list(TaskQuery {
        status: Some(TaskState::Working),
        ..query(50)
    })
    .await;
    assert_eq!(
        by_status,
        (vec![ids[2].clone(), ids[0].clone()], 2),
        "status filter"
    );
    let after = base_time() + Duration::from_secs(3);
    let by_time = list(TaskQuery {
        status_after: Some(after),
        ..query(50)
    })
    .await;
    assert_eq!(
        by_time,
        (vec![ids[3].clone(), ids[2].clone()], 2),
        "statusTimestampAfter keeps >="
    );
    let none = list(TaskQuery {
        context_id: Some("unused".into()),
        ..query(50)
    })
    .await;
    assert_eq!(none, (vec![], 0), "an unused context lists nothing");
}

/// Paging through 10 tasks 3 at a time sees each exactly once, in order.
pub async fn list_pages_walk_everything(store: Arc<dyn TaskStore>) {
    let me = owner(&unique("me"));
    let mut expected = Vec::new();
    for i in 0..10u64 {
        // Two tasks share each timestamp, so the id must break ties.
        let task = task_at(
            &unique("t"),
            "ctx",
            TaskState::Working,
            base_time() + Duration::from_secs(i / 2),
        );
        expected.push(task.id.clone());
        store.create(&me, task).await.expect("create");
    }
    let all = store.list(&me, &query(100)).await.expect("list all");
    let expected: Vec<String> = all.tasks.iter().map(|t| t.id.clone()).collect();
    let mut seen = Vec::new();
    let mut token = String::new();
    for page_no in 0.. {
        assert!(page_no < 10, "paging does not terminate");
        let page = store
            .list(
                &me,
                &TaskQuery {
                    page_token: token.clone(),
                    ..query(3)
                },
            )
            .await
            .expect("page");
        assert_eq!(
            page.total_size, 10,
            "totalSize counts every match on every page"
        );
        assert!(page.tasks.len() <= 3, "page larger than its size");
        seen.extend(page.tasks.iter().map(|t| t.id.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen, expected,
        "pages must cover every task once, in list order"
    );
}

/// Page sizes outside 1..=100 and garbage tokens are refused.
pub async fn list_refuses_bad_paging(store: Arc<dyn TaskStore>) {
    let me = owner("u1");
    for size in [0, 101] {
        let r = store.list(&me, &query(size)).await;
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "page size {size}: got {r:?}"
        );
    }
    let r = store
        .list(
            &me,
            &TaskQuery {
                page_token: "not-a-token".into(),
                ..query(10)
            },
        )
        .await;
    assert!(
        matches!(r, Err(Error::InvalidArgument(_))),
        "garbage token: got {r:?}"
    );
}

fn push_config(task_id: &str, id: &str) -> TaskPushNotificationConfig {
    TaskPushNotificationConfig {
        id: id.into(),
        task_id: task_id.into(),
        url: format!("https://hooks.example/{id}"),
        token: "tok".into(),
        ..TaskPushNotificationConfig::default()
    }
}

/// Push configs: create, read, upsert by id, list, idempotent delete, typed not-found.
pub async fn push_config_crud(store: Arc<dyn TaskStore>) {
    let me = owner("u1");
    let task = task_at(&unique("t"), "ctx", TaskState::Completed, base_time());
    store.create(&me, task.clone()).await.expect("create");
    store
        .put_push_config(&me, push_config(&task.id, "c1"))
        .await
        .expect("put c1");
    store
        .put_push_config(&me, push_config(&task.id, "c2"))
        .await
        .expect("put c2");
    let mut replaced = push_config(&task.id, "c1");
    replaced.url = "https://hooks.example/replaced".into();
    store
        .put_push_config(&me, replaced.clone())
        .await
        .expect("upsert c1");
    assert_eq!(
        store
            .get_push_config(&me, &task.id, "c1")
            .await
            .expect("get"),
        replaced
    );
    let mut ids: Vec<String> = store
        .list_push_configs(&me, &task.id)
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["c1", "c2"]);
    store
        .delete_push_config(&me, &task.id, "c1")
        .await
        .expect("delete");
    store
        .delete_push_config(&me, &task.id, "c1")
        .await
        .expect("deleting again succeeds");
    let missing = store.get_push_config(&me, &task.id, "c1").await;
    assert!(
        matches!(missing, Err(Error::PushConfigNotFound { .. })),
        "deleted config: got {missing:?}"
    );
    let unknown_task = store
        .put_push_config(&me, push_config("no-such-task", "c"))
        .await;
    assert!(
        matches!(unknown_task, Err(Error::TaskNotFound { .. })),
        "unknown task: got {unknown_task:?}"
    );
}

/// History, artifacts, metadata and non-ASCII text come back exactly.
pub async fn task_content_round_trips_exactly(store: Arc<dyn TaskStore>) {
    let me = owner("u1");
    let mut task = task_at(
        &unique("t"),
        "contexte-é",
        TaskState::InputRequired,
        base_time(),
    );
    let text = |s: &str| Part {
        content: Some(harbor_a2a::part::Content::Text(s.into())),
        ..Part::default()
    };
    let raw = Part {
        content: Some(harbor_a2a::part::Content::Raw(vec![0, 255, 1, 128])),
        media_type: "application/octet-stream".into(),
        ..Part::default()
    };
    task.history = vec![Message {
        message_id: "m-1".into(),
        role: Role::User as i32,
        parts: vec![text("héllo 🌊"), raw.clone()],
        ..Message::default()
    }];
    task.artifacts = vec![harbor_a2a::Artifact {
        artifact_id: "a-1".into(),
        parts: vec![text(""), raw],
        ..Default::default()
    }];
    store.create(&me, task.clone()).await.expect("create");
    assert_eq!(store.get(&me, &task.id).await.expect("get").task, task);
}
