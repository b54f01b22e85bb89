//! The task log: sequenced appends whose projection is the stored task.

use std::sync::Arc;

use harbor_a2a::stream_response::Payload;
use harbor_a2a::{
    Artifact, Message, Part, Role, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState,
    TaskStatus, TaskStatusUpdateEvent, part::Content,
};
use harbor_distributed::store::{project, replay};
use harbor_distributed::{Error, TaskLog};

use super::fixtures::{base_time, owner, task_at, unique};

pub(super) fn snapshot(task: &Task) -> StreamResponse {
    StreamResponse {
        payload: Some(Payload::Task(task.clone())),
    }
}

pub(super) fn status(task: &Task, state: TaskState, text: &str) -> StreamResponse {
    StreamResponse {
        payload: Some(Payload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: task.id.clone(),
            context_id: task.context_id.clone(),
            status: Some(TaskStatus {
                state: state as i32,
                message: Some(Message {
                    message_id: unique("m"),
                    role: Role::Agent as i32,
                    parts: vec![text_part(text)],
                    ..Message::default()
                }),
                timestamp: task.status.as_ref().and_then(|s| s.timestamp),
            }),
            metadata: None,
        })),
    }
}

fn chunk(task: &Task, text: &str, append: bool) -> StreamResponse {
    StreamResponse {
        payload: Some(Payload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: task.id.clone(),
            context_id: task.context_id.clone(),
            artifact: Some(Artifact {
                artifact_id: "out".into(),
                parts: vec![text_part(text)],
                ..Artifact::default()
            }),
            append,
            last_chunk: false,
            metadata: None,
        })),
    }
}

fn text_part(text: &str) -> Part {
    Part {
        content: Some(Content::Text(text.into())),
        ..Part::default()
    }
}

/// `events` applied to `task`.
fn after(task: &Task, events: &[StreamResponse]) -> Task {
    let mut task = task.clone();
    for event in events {
        project(&mut task, event);
    }
    task
}

/// A created log reads back in order, numbered from 1, and replays to the stored task;
/// later appends continue the numbering and the version is the last sequence.
pub async fn appends_are_numbered_and_replay_to_the_task(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let created = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    let first = [
        snapshot(&created),
        status(&created, TaskState::Working, "on it"),
    ];
    let task = after(&created, &first);
    let version = store.append(&me, &task, 0, &first).await.expect("create");
    assert_eq!(version, 2, "two events: the version is the last sequence");
    let second = [
        chunk(&task, "one ", false),
        chunk(&task, "two", true),
        status(&task, TaskState::Completed, "done"),
    ];
    let task = after(&task, &second);
    let version = store
        .append(&me, &task, version, &second)
        .await
        .expect("append");
    assert_eq!(version, 5);
    let stored = store.get(&me, &task.id).await.expect("get");
    assert_eq!((stored.task.clone(), stored.version), (task.clone(), 5));
    let log = store.read_log(&me, &task.id, 0, 100).await.expect("read");
    let sequences: Vec<u64> = log.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [1, 2, 3, 4, 5]);
    let events: Vec<StreamResponse> = log.into_iter().map(|e| e.event).collect();
    let want: Vec<StreamResponse> = first.iter().chain(&second).cloned().collect();
    assert_eq!(events, want, "the log holds the events as appended");
    assert_eq!(replay(&events), stored.task, "the log replays to the task");
}

/// `read_log` starts after the given sequence and returns at most `limit` entries.
pub async fn reads_start_after_a_position(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let created = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    let mut events = vec![snapshot(&created)];
    events.extend((0..9).map(|i| chunk(&created, &format!("{i}"), true)));
    let task = after(&created, &events);
    store.append(&me, &task, 0, &events).await.expect("create");
    let page = store.read_log(&me, &task.id, 3, 4).await.expect("read");
    let sequences: Vec<u64> = page.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [4, 5, 6, 7]);
    assert_eq!(page[0].event, events[3]);
    let tail = store.read_log(&me, &task.id, 8, 100).await.expect("read");
    assert_eq!(tail.iter().map(|e| e.sequence).collect::<Vec<_>>(), [9, 10]);
    let past = store.read_log(&me, &task.id, 10, 100).await.expect("read");
    assert!(past.is_empty(), "nothing after the last entry: {past:?}");
}

/// A stale append is refused whole: neither its events nor its task are kept.
pub async fn stale_appends_leave_nothing(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let created = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    let task = created.clone();
    store
        .append(&me, &task, 0, &[snapshot(&task)])
        .await
        .expect("create");
    let again = store.append(&me, &task, 0, &[snapshot(&task)]).await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "creating twice: {again:?}"
    );
    let working = [status(&task, TaskState::Working, "a")];
    let moved = after(&task, &working);
    store
        .append(&me, &moved, 1, &working)
        .await
        .expect("append");
    let stale_events = [status(&task, TaskState::Failed, "stale")];
    let stale = after(&task, &stale_events);
    let refused = store.append(&me, &stale, 1, &stale_events).await;
    assert!(
        matches!(
            refused,
            Err(Error::VersionConflict {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "a stale append: {refused:?}"
    );
    let stored = store.get(&me, &task.id).await.expect("get");
    assert_eq!((stored.task, stored.version), (moved, 2));
    let log = store.read_log(&me, &task.id, 0, 100).await.expect("read");
    assert_eq!(log.len(), 2, "the refused event was not logged: {log:?}");
}

/// Appends with no event, or a creation that does not start with the task's snapshot, are
/// refused before anything is written.
pub async fn malformed_appends_are_refused(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let task = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    let empty = store.append(&me, &task, 0, &[]).await;
    assert!(matches!(empty, Err(Error::InvalidArgument(_))), "{empty:?}");
    let headless = [status(&task, TaskState::Working, "a")];
    let headless = store.append(&me, &task, 0, &headless).await;
    assert!(
        matches!(headless, Err(Error::InvalidArgument(_))),
        "{headless:?}"
    );
    let missing = store.get(&me, &task.id).await;
    assert!(
        matches!(missing, Err(Error::TaskNotFound { .. })),
        "a refused creation stored the task: {missing:?}"
    );
}

/// Another owner's log is not found, for reads and appends alike.
pub async fn logs_are_owner_scoped(store: Arc<dyn TaskLog>) {
    let task = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    store
        .append(&owner("alice"), &task, 0, &[snapshot(&task)])
        .await
        .expect("create");
    let bob = owner("bob");
    let read = store.read_log(&bob, &task.id, 0, 10).await;
    assert!(
        matches!(read, Err(Error::TaskNotFound { .. })),
        "read: {read:?}"
    );
    let events = [status(&task, TaskState::Working, "mine now")];
    let write = store.append(&bob, &after(&task, &events), 1, &events).await;
    assert!(
        matches!(write, Err(Error::TaskNotFound { .. })),
        "append: {write:?}"
    );
    let missing = store.read_log(&bob, &unique("none"), 0, 10).await;
    assert!(matches!(missing, Err(Error::TaskNotFound { .. })));
}

/// Plain store writes are log entries too: a create and an update each append the task's
/// snapshot, so the log still replays to the stored task.
pub async fn store_writes_are_logged(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let mut task = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    let version = store.create(&me, task.clone()).await.expect("create");
    task.status = Some(TaskStatus {
        state: TaskState::Working as i32,
        ..TaskStatus::default()
    });
    let version = store
        .update(&me, task.clone(), version)
        .await
        .expect("update");
    assert_eq!(version, 2);
    let log = store.read_log(&me, &task.id, 0, 10).await.expect("read");
    assert_eq!(log.len(), 2);
    let events: Vec<StreamResponse> = log.into_iter().map(|e| e.event).collect();
    assert_eq!(replay(&events), task);
}

/// Of 16 concurrent appends after the same version exactly one is logged.
pub async fn concurrent_appends_one_wins(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let task = task_at(&unique("t"), "ctx", TaskState::Submitted, base_time());
    store
        .append(&me, &task, 0, &[snapshot(&task)])
        .await
        .expect("create");
    let writers = (0..16).map(|i| {
        let (store, me, task) = (Arc::clone(&store), me.clone(), task.clone());
        tokio::spawn(async move {
            let events = [status(&task, TaskState::Working, &format!("writer-{i}"))];
            let next = after(&task, &events);
            store.append(&me, &next, 1, &events).await.map(|_| next)
        })
    });
    let mut wins = Vec::new();
    for (i, writer) in writers.enumerate() {
        match writer.await.expect("writer task") {
            Ok(task) => wins.push(task),
            Err(Error::VersionConflict { .. }) => {}
            Err(other) => panic!("writer {i}: unexpected error {other:?}"),
        }
    }
    assert_eq!(wins.len(), 1, "exactly one append wins");
    let stored = store.get(&me, &task.id).await.expect("get");
    assert_eq!((stored.task, stored.version), (wins.remove(0), 2));
    let log = store.read_log(&me, &task.id, 0, 100).await.expect("read");
    assert_eq!(log.len(), 2);
}

/// `active_tasks` lists the SUBMITTED and WORKING tasks of every owner, in id order, by
/// pages, and forgets a task once it moves on.
pub async fn active_tasks_are_listed_across_owners(store: Arc<dyn TaskLog>) {
    let prefix = unique("active");
    let mut want = Vec::new();
    for (i, state) in [
        TaskState::Submitted,
        TaskState::Working,
        TaskState::InputRequired,
        TaskState::Completed,
        TaskState::Working,
    ]
    .into_iter()
    .enumerate()
    {
        let who = owner(&format!("user-{}", i % 2));
        let task = task_at(&format!("{prefix}-{i}"), "ctx", state, base_time());
        store
            .append(&who, &task, 0, &[snapshot(&task)])
            .await
            .expect("create");
        if state.is_active() {
            want.push((who, task.id));
        }
    }
    // Other cases share the store: look only at this case's tasks.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = store.active_tasks(&cursor, 2).await.expect("active");
        assert!(page.len() <= 2, "a page holds at most the limit: {page:?}");
        let Some((_, last)) = page.last() else { break };
        cursor.clone_from(last);
        seen.extend(page.into_iter().filter(|(_, id)| id.starts_with(&prefix)));
    }
    assert_eq!(
        seen, want,
        "the active tasks, in id order, with their owners"
    );
    let (who, id) = want.remove(0);
    let task = store.get(&who, &id).await.expect("get").task;
    let done = [status(&task, TaskState::Completed, "done")];
    store
        .append(&who, &after(&task, &done), 1, &done)
        .await
        .expect("complete");
    let left: Vec<(harbor_distributed::Owner, String)> = store
        .active_tasks("", 10_000)
        .await
        .expect("active")
        .into_iter()
        .filter(|(_, id)| id.starts_with(&prefix))
        .collect();
    assert_eq!(left, want, "a finished task is no longer active");
}
