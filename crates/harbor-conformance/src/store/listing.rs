//! ListTasks: owner scope, order, filters and paging.

use std::sync::Arc;
use std::time::Duration;

use harbor_a2a::TaskState;
use harbor_distributed::{Error, TaskQuery, TaskStore};

use super::fixtures::{base_time, owner, query, task_at, unique};

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

/// A byte budget ends a page before its size: each page stays within the budget (or holds
/// one task), has a next-page token while tasks remain, and the pages still cover every
/// task once, in list order.
pub async fn list_pages_stop_at_the_byte_budget(store: Arc<dyn TaskStore>) {
    let me = owner(&unique("budget"));
    for i in 0..5u64 {
        let mut task = task_at(
            &unique("t"),
            "ctx",
            TaskState::Completed,
            base_time() + Duration::from_secs(i),
        );
        task.metadata = Some(pbjson_types::Struct {
            fields: [(
                "pad".to_owned(),
                pbjson_types::Value::from("x".repeat(1000 * (i as usize + 1))),
            )]
            .into(),
        });
        store.create(&me, task).await.expect("create");
    }
    let all = store.list(&me, &query(100)).await.expect("list all");
    let expected: Vec<String> = all.tasks.iter().map(|t| t.id.clone()).collect();
    let budget = 4_500;
    let (mut seen, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        pages += 1;
        assert!(pages <= 10, "paging does not terminate");
        let page = store
            .list(
                &me,
                &TaskQuery {
                    page_token: token.clone(),
                    max_bytes: Some(budget),
                    ..query(100)
                },
            )
            .await
            .expect("page");
        assert_eq!(page.total_size, 5, "totalSize counts every match");
        assert!(!page.tasks.is_empty(), "a page holds at least one task");
        let bytes: usize = page.tasks.iter().map(prost::Message::encoded_len).sum();
        assert!(
            page.tasks.len() == 1 || bytes <= budget,
            "a page of {} tasks holds {bytes} bytes, over the budget",
            page.tasks.len()
        );
        seen.extend(page.tasks.iter().map(|t| t.id.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(pages > 1, "the budget never ended a page");
    assert_eq!(
        seen, expected,
        "pages must cover every task once, in list order"
    );
}
