//! The push outbox: delivery cursors of push configs, beside the task log.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use harbor_a2a::{StreamResponse, TaskState};
use harbor_distributed::{Error, PushCursor, PushFailure, TaskLog};

use super::fixtures::{base_time, owner, push_config, task_at, unique};

/// Tracking stores a config with its cursor, which saves and reads back; a deleted config
/// takes its cursor along; another owner's task is not found.
pub async fn push_cursors_save_and_read_back(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let task = task_at(&unique("t"), "ctx", TaskState::Working, base_time());
    store
        .append(&me, &task, 0, &[StreamResponse::from(task.clone())])
        .await
        .expect("create");
    let theirs = store
        .track(&owner("u2"), &push_config(&task.id, "hook"), 0)
        .await;
    assert!(
        matches!(theirs, Err(Error::TaskNotFound { .. })),
        "tracking a config of another owner's task: {theirs:?}"
    );
    assert_eq!(
        store.cursor(&me, &task.id, "hook").await.expect("cursor"),
        None,
        "a config is not tracked until told"
    );
    store
        .track(&me, &push_config(&task.id, "hook"), 1)
        .await
        .expect("track");
    assert_eq!(
        store
            .get_push_config(&me, &task.id, "hook")
            .await
            .expect("stored"),
        push_config(&task.id, "hook"),
        "tracking stores the config"
    );
    let mut cursor = store
        .cursor(&me, &task.id, "hook")
        .await
        .expect("cursor")
        .expect("tracked");
    assert_eq!(cursor, PushCursor::new(me.clone(), &task.id, "hook", 1));
    cursor.attempts = 3;
    cursor.failing_since = Some(UNIX_EPOCH + Duration::from_millis(1_800_000_000_123));
    cursor.last_failure = Some(PushFailure {
        status: Some(503),
        error: "busy".into(),
    });
    store.save(&cursor).await.expect("save");
    assert_eq!(
        store.cursor(&me, &task.id, "hook").await.expect("cursor"),
        Some(cursor.clone()),
        "a saved cursor reads back exactly"
    );
    let theirs = store.cursor(&owner("u2"), &task.id, "hook").await;
    assert!(
        matches!(theirs, Err(Error::TaskNotFound { .. })),
        "{theirs:?}"
    );
    store
        .delete_push_config(&me, &task.id, "hook")
        .await
        .expect("delete");
    let gone = store.save(&cursor).await;
    assert!(
        matches!(gone, Err(Error::PushConfigNotFound { .. })),
        "saving the cursor of a deleted config: {gone:?}"
    );
    store
        .put_push_config(&me, push_config(&task.id, "hook"))
        .await
        .expect("config again");
    assert_eq!(
        store.cursor(&me, &task.id, "hook").await.expect("cursor"),
        None,
        "a deleted config's cursor went with it"
    );
}

/// Live cursors are those not dead and either behind their task's log or on a task that
/// may still grow; dead ones are listed as dead letters until re-driven.
pub async fn live_cursors_and_dead_letters(store: Arc<dyn TaskLog>) {
    let me = owner("u1");
    let prefix = unique("outbox");
    // (task state, entries in the log, delivered up to, dead)
    let cases = [
        ("behind", TaskState::Completed, 1, false),
        ("done", TaskState::Completed, 1, false),
        ("open", TaskState::InputRequired, 1, false),
        ("dead", TaskState::Working, 0, true),
    ];
    for (name, state, delivered, dead) in cases {
        let mut task = task_at(
            &format!("{prefix}-{name}"),
            "ctx",
            TaskState::Submitted,
            base_time(),
        );
        store
            .append(&me, &task, 0, &[StreamResponse::from(task.clone())])
            .await
            .expect("create");
        task.status = task_at("x", "ctx", state, base_time()).status;
        store
            .append(&me, &task, 1, &[StreamResponse::from(task.clone())])
            .await
            .expect("second entry");
        store
            .put_push_config(&me, push_config(&task.id, "hook"))
            .await
            .expect("config");
        let mut cursor = PushCursor::new(me.clone(), &task.id, "hook", delivered);
        if name == "done" {
            cursor.delivered = 2;
        }
        if dead {
            cursor.dead = Some("gone for good".into());
        }
        store.save(&cursor).await.expect("save");
    }
    let ours = |cursors: Vec<PushCursor>| -> Vec<String> {
        cursors
            .into_iter()
            .filter(|c| c.task_id.starts_with(&prefix))
            .map(|c| c.task_id[prefix.len() + 1..].to_owned())
            .collect()
    };
    let live = store.live_cursors(None, 10_000).await.expect("live");
    assert_eq!(
        ours(live),
        ["behind", "open"],
        "behind, or on a task that may grow"
    );
    let dead = store.dead_letters(None, 10_000).await.expect("dead");
    assert_eq!(ours(dead.clone()), ["dead"]);
    let first = format!("{prefix}-behind");
    let after_first = store
        .live_cursors(Some((&first, "hook")), 10_000)
        .await
        .expect("page");
    assert_eq!(
        ours(after_first),
        ["open"],
        "pages start after the given key"
    );
    let redriven = dead
        .into_iter()
        .find(|c| c.task_id.starts_with(&prefix))
        .expect("ours")
        .redriven();
    store.save(&redriven).await.expect("re-drive");
    let live = store.live_cursors(None, 10_000).await.expect("live");
    assert_eq!(
        ours(live),
        ["behind", "dead", "open"],
        "a re-driven cursor is live again"
    );
}
