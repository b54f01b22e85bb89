//! GetTask, ListTasks and CancelTask.

use std::collections::HashSet;

use harbor_a2a::{ErrorKind, ListTasksRequest, TaskState};

use super::calls::{
    Client, expect_protocol, fixture, fresh_identity, identity, send_req, user_message,
};
use super::wait::within;
use crate::transport::TransportFactory;
use crate::transport::model::{state_of, text_of, unique_id};

/// GetTask returns the stored task, with `historyLength` capping its history to the newest
/// messages.
pub async fn get_task(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let alice = Client::new(&fx, 0, fresh_identity());

    let done = alice.new_task("tck-complete-task").await;
    let got = alice.get_ok(&done.id).await;
    assert_eq!(got.id, done.id, "GetTask returned another task");
    assert_eq!(
        got.context_id, done.context_id,
        "GetTask changed the contextId"
    );
    assert_eq!(state_of(&got), TaskState::Completed, "GetTask state");
    let status_text = got
        .status
        .as_ref()
        .and_then(|s| s.message.as_ref())
        .map(|m| text_of(&m.parts));
    assert_eq!(
        status_text.as_deref(),
        Some("Hello from TCK"),
        "GetTask status message"
    );
    assert_eq!(
        got.history, done.history,
        "GetTask history differs from the send's"
    );

    let task = alice.new_task("tck-input-required").await;
    let second = alice.continue_task(&task.id, "tck-input-required").await;
    let third = alice.continue_task(&task.id, "tck-input-required").await;
    assert_eq!(second.id, task.id, "a follow-up must stay on its task");
    assert_eq!(
        state_of(&third),
        TaskState::InputRequired,
        "follow-up state"
    );
    let full = alice.get_ok(&task.id).await;
    assert_eq!(full.history.len(), 3, "three user messages: {full:?}");
    let newest = full.history[2].message_id.clone();

    let one = alice
        .get(&task.id, Some(1))
        .await
        .unwrap_or_else(|e| panic!("GetTask(historyLength 1): {e}"));
    assert_eq!(one.history.len(), 1, "historyLength 1: {one:?}");
    assert_eq!(
        one.history[0].message_id, newest,
        "historyLength keeps the newest message"
    );
    let none = alice
        .get(&task.id, Some(0))
        .await
        .unwrap_or_else(|e| panic!("GetTask(historyLength 0): {e}"));
    assert!(
        none.history.is_empty(),
        "historyLength 0 returns no history: {none:?}"
    );
    let many = alice
        .get(&task.id, Some(10))
        .await
        .unwrap_or_else(|e| panic!("GetTask(historyLength 10): {e}"));
    assert_eq!(many.history.len(), 3, "historyLength 10 of 3 messages");
}

/// An unknown id, and another owner's task, are both TaskNotFound; the owner's other
/// sessions see the task.
pub async fn get_task_not_found(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let tenant = unique_id("tenant");
    let alice = Client::new(&fx, 0, identity(&tenant, "alice"));
    let task = alice.new_task("tck-complete-task").await;

    expect_protocol(
        alice.get(&unique_id("no-such-task"), None).await,
        ErrorKind::TaskNotFound,
        "GetTask of an unknown id",
    );
    let bob = alice.acting_as(identity(&tenant, "bob"));
    expect_protocol(
        bob.get(&task.id, None).await,
        ErrorKind::TaskNotFound,
        "GetTask of another user's task",
    );
    let other_tenant = alice.acting_as(identity(&unique_id("tenant"), "alice"));
    expect_protocol(
        other_tenant.get(&task.id, None).await,
        ErrorKind::TaskNotFound,
        "GetTask of a task of the same user name in another tenant",
    );
    let later = alice.acting_as(identity(&tenant, "alice"));
    let seen = later.get_ok(&task.id).await;
    assert_eq!(
        seen.id, task.id,
        "the owner sees the task from another session"
    );
}

/// ListTasks: owner-only, newest first, filtered by contextId and status, artifacts only on
/// request, and paging that walks every match once.
pub async fn list_tasks_filter(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let tenant = unique_id("tenant");
    let alice = Client::new(&fx, 0, identity(&tenant, "alice"));
    let bob = alice.acting_as(identity(&tenant, "bob"));
    let (ctx_a, ctx_b) = (unique_id("ctx"), unique_id("ctx"));

    let start = |client: &Client, prefix: &str, context: &str| {
        let mut message = user_message(prefix);
        message.context_id = context.to_owned();
        let client = client.clone();
        async move { client.send_task(send_req(message)).await.id }
    };
    // Created one after another, so the newest-first order is known.
    let mut in_a = Vec::new();
    for prefix in [
        "tck-artifact-text",
        "tck-input-required",
        "tck-artifact-text",
        "tck-input-required",
        "tck-artifact-text",
    ] {
        in_a.push(start(&alice, prefix, &ctx_a).await);
    }
    let in_b = start(&alice, "tck-complete-task", &ctx_b).await;
    let bobs: HashSet<_> = [
        start(&bob, "tck-complete-task", &ctx_a).await,
        start(&bob, "tck-complete-task", &ctx_a).await,
    ]
    .into();
    let newest_first: Vec<_> = in_a.iter().rev().cloned().collect();

    let by_context = |context: &str| ListTasksRequest {
        context_id: context.to_owned(),
        ..ListTasksRequest::default()
    };
    let page = alice.list(by_context(&ctx_a)).await;
    let ids: Vec<_> = page.tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        ids, newest_first,
        "alice's tasks in context A, newest first (bob's excluded)"
    );
    assert_eq!(page.total_size, 5, "totalSize counts every match");
    assert_eq!(page.page_size, 50, "the default page size is reported");
    assert_eq!(
        page.next_page_token, "",
        "a single page has an empty nextPageToken"
    );
    assert!(
        page.tasks.iter().all(|t| t.artifacts.is_empty()),
        "artifacts are omitted unless asked for"
    );
    let with_artifacts = alice
        .list(ListTasksRequest {
            include_artifacts: Some(true),
            ..by_context(&ctx_a)
        })
        .await;
    let counts: Vec<_> = with_artifacts
        .tasks
        .iter()
        .map(|t| t.artifacts.len())
        .collect();
    assert_eq!(
        counts,
        [1, 0, 1, 0, 1],
        "includeArtifacts returns each task's artifacts"
    );

    let waiting = alice
        .list(ListTasksRequest {
            status: TaskState::InputRequired.into(),
            ..by_context(&ctx_a)
        })
        .await;
    let ids: Vec<_> = waiting.tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        ids,
        [in_a[3].clone(), in_a[1].clone()],
        "status filter INPUT_REQUIRED"
    );
    assert_eq!(waiting.total_size, 2, "totalSize of the status filter");

    let only_b = alice.list(by_context(&ctx_b)).await;
    let ids: Vec<_> = only_b.tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, [in_b], "context filter B");
    let bob_sees: HashSet<_> = bob
        .list(by_context(&ctx_a))
        .await
        .tasks
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(
        bob_sees, bobs,
        "bob sees only his own tasks in the shared context"
    );
    let empty = alice.list(by_context(&unique_id("ctx"))).await;
    assert!(
        empty.tasks.is_empty() && empty.total_size == 0 && empty.next_page_token.is_empty(),
        "unused context: {empty:?}"
    );

    for size in [0, 101] {
        let req = ListTasksRequest {
            page_size: Some(size),
            ..by_context(&ctx_a)
        };
        let call = alice.transport.list_tasks(&alice.peer, &alice.ctx, req);
        let refused = within("ListTasks with a bad page size", call).await;
        expect_protocol(
            refused,
            ErrorKind::InvalidParams,
            &format!("ListTasks(pageSize {size})"),
        );
    }

    let mut walked = Vec::new();
    let mut token = String::new();
    for round in 0.. {
        assert!(round < 10, "paging does not end: {walked:?}");
        let req = ListTasksRequest {
            page_size: Some(2),
            page_token: token.clone(),
            ..by_context(&ctx_a)
        };
        let page = alice.list(req).await;
        assert_eq!(page.page_size, 2, "the page size used is reported");
        assert_eq!(page.total_size, 5, "totalSize is the same on every page");
        assert!(
            page.tasks.len() <= 2,
            "a page holds at most pageSize tasks: {page:?}"
        );
        walked.extend(page.tasks.iter().map(|t| t.id.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        assert!(
            !page.tasks.is_empty(),
            "a page with a next token must hold tasks"
        );
        token = page.next_page_token;
    }
    assert_eq!(
        walked, newest_first,
        "paging walks every task once, in order"
    );
}

/// CancelTask: an interrupted task becomes CANCELED (and stays so; a second cancel returns
/// it again), a completed task is TaskNotCancelable, unknown and foreign ids TaskNotFound.
pub async fn cancel_task(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let tenant = unique_id("tenant");
    let alice = Client::new(&fx, 0, identity(&tenant, "alice"));
    let bob = alice.acting_as(identity(&tenant, "bob"));

    let waiting = alice.new_task("tck-input-required").await;
    expect_protocol(
        bob.cancel(&waiting.id).await,
        ErrorKind::TaskNotFound,
        "CancelTask of another user's task",
    );
    let canceled = alice
        .cancel(&waiting.id)
        .await
        .unwrap_or_else(|e| panic!("CancelTask of an input-required task: {e}"));
    assert_eq!(canceled.id, waiting.id, "CancelTask returned another task");
    assert_eq!(
        state_of(&canceled),
        TaskState::Canceled,
        "CancelTask returns the canceled task"
    );
    assert_eq!(
        state_of(&alice.get_ok(&waiting.id).await),
        TaskState::Canceled,
        "GetTask after the cancel"
    );
    let again = alice
        .cancel(&waiting.id)
        .await
        .unwrap_or_else(|e| panic!("canceling a canceled task again: {e}"));
    assert_eq!(
        state_of(&again),
        TaskState::Canceled,
        "a second cancel returns the canceled task"
    );
    let late = alice
        .send(send_req(super::calls::follow_up(
            "tck-complete-task",
            &waiting.id,
        )))
        .await;
    expect_protocol(
        late,
        ErrorKind::UnsupportedOperation,
        "a message to a canceled task",
    );

    let done = alice.new_task("tck-complete-task").await;
    expect_protocol(
        alice.cancel(&done.id).await,
        ErrorKind::TaskNotCancelable,
        "CancelTask of a completed task",
    );
    assert_eq!(
        state_of(&alice.get_ok(&done.id).await),
        TaskState::Completed,
        "a refused cancel changes nothing"
    );
    expect_protocol(
        alice.cancel(&unique_id("no-such-task")).await,
        ErrorKind::TaskNotFound,
        "CancelTask of an unknown id",
    );
}
