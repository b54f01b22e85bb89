//! ListTasks cases beyond the conformance suite, and hostile input.

mod store_support;

use harbor_a2a::{Artifact, Part, Task, TaskState, TaskStatus};
use harbor_distributed::{Error, TaskQuery, TaskStore};
use harbor_embedded::StoreConfig;
use store_support::{at, ids, open, owner, query, task};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_after_keeps_at_or_after_and_drops_tasks_without_a_timestamp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let me = owner("me");
    for (id, secs) in [("t1", 1), ("t2", 2), ("t3", 3)] {
        store
            .create(&me, task(id, "ctx", TaskState::Working, secs))
            .await
            .expect("create");
    }
    let mut unstamped = task("no-stamp", "ctx", TaskState::Working, 0);
    unstamped.status = Some(TaskStatus {
        state: TaskState::Working as i32,
        ..TaskStatus::default()
    });
    store.create(&me, unstamped).await.expect("create");
    assert_eq!(
        ids(&store, &me, &query(None, None)).await,
        (
            vec!["t3".into(), "t2".into(), "t1".into(), "no-stamp".into()],
            4
        ),
        "a task without a timestamp sorts as the epoch"
    );
    let since = |secs: Option<u64>| TaskQuery {
        status_after: Some(secs.map_or(std::time::UNIX_EPOCH, at)),
        ..query(Some("ctx"), Some(TaskState::Working))
    };
    assert_eq!(
        ids(&store, &me, &since(Some(2))).await,
        (vec!["t3".into(), "t2".into()], 2)
    );
    assert_eq!(ids(&store, &me, &since(Some(9))).await, (vec![], 0));
    assert_eq!(
        ids(&store, &me, &since(None)).await.1,
        3,
        "status_after at the epoch still drops the task without a timestamp"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_stays_valid_while_tasks_are_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let me = owner("me");
    for i in 0..6u64 {
        store
            .create(
                &me,
                task(&format!("t{i}"), "ctx", TaskState::Working, 10 + i),
            )
            .await
            .expect("create");
    }
    let first = store
        .list(
            &me,
            &TaskQuery {
                page_size: 3,
                ..TaskQuery::default()
            },
        )
        .await
        .expect("page 1");
    let seen: Vec<String> = first.tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(seen, ["t5", "t4", "t3"]);
    // One task newer than the first page, one older than the cursor.
    store
        .create(&me, task("newest", "ctx", TaskState::Working, 99))
        .await
        .expect("create newest");
    store
        .create(&me, task("oldest", "ctx", TaskState::Working, 0))
        .await
        .expect("create oldest");
    let rest = store
        .list(
            &me,
            &TaskQuery {
                page_size: 100,
                page_token: first.next_page_token,
                ..TaskQuery::default()
            },
        )
        .await
        .expect("page 2");
    let rest: Vec<String> = rest.tasks.into_iter().map(|t| t.id).collect();
    assert_eq!(
        rest,
        ["t2", "t1", "t0", "oldest"],
        "no repeat, and a task inserted behind the cursor appears"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_paging_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let me = owner("me");
    for size in [0, 101, u32::MAX] {
        let q = TaskQuery {
            page_size: size,
            ..TaskQuery::default()
        };
        let r = store.list(&me, &q).await;
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{size}: {r:?}");
    }
    let long = format!("v1.1.{}", "zz".repeat(100_000));
    for token in [
        "garbage",
        "v1.",
        "v1.1.",
        "v2.1.61",
        "v1.x.61",
        "v1.1.6",
        "v1.1.+6",
        "v1.1.ff",
        "v1.999999999999999999999999999999999999999999.61",
        long.as_str(),
    ] {
        let q = TaskQuery {
            page_token: token.into(),
            ..query(None, None)
        };
        let r = store.list(&me, &q).await;
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "token {:.40}: {r:?}",
            token
        );
    }
    // A well-formed token that points nowhere is just an empty page.
    let q = TaskQuery {
        page_token: "v1.-5.61".into(),
        ..query(None, None)
    };
    assert_eq!(ids(&store, &me, &q).await, (vec![], 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_without_id_or_status_are_refused_and_large_tasks_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path(), StoreConfig::default());
    let store = engine.task_store();
    let me = owner("me");
    let no_id = task("", "ctx", TaskState::Working, 1);
    let no_status = Task {
        status: None,
        ..task("no-status", "ctx", TaskState::Working, 1)
    };
    for bad in [no_id, no_status] {
        let r = store.create(&me, bad.clone()).await;
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        let r = store.update(&me, bad, 1).await;
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    }
    let mut big = task("big", "ctx", TaskState::Completed, 1);
    big.artifacts = vec![Artifact {
        artifact_id: "a".into(),
        parts: vec![Part {
            content: Some(harbor_a2a::part::Content::Raw(vec![7; 4 << 20])),
            ..Part::default()
        }],
        ..Artifact::default()
    }];
    store.create(&me, big.clone()).await.expect("create 4 MiB");
    assert_eq!(store.get(&me, "big").await.expect("get").task, big);
    assert_eq!(ids(&store, &me, &query(None, None)).await.1, 1);
}
