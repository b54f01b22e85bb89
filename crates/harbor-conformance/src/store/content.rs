//! Push configs and exact task content.

use std::sync::Arc;

use harbor_a2a::{Message, Part, Role, TaskState};
use harbor_distributed::{Error, TaskStore};

use super::fixtures::{base_time, owner, push_config, task_at, unique};

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
