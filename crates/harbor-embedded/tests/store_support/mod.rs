//! Builders shared by the store tests.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harbor_a2a::pbjson_types::Timestamp;
use harbor_a2a::{Task, TaskPushNotificationConfig, TaskState, TaskStatus, TimestampExt};
use harbor_distributed::{Owner, TaskPage, TaskQuery, TaskStore};
use harbor_embedded::{Embedded, EmbeddedConfig, StoreConfig};

/// An owner of tenant `t`.
pub(crate) fn owner(user: &str) -> Owner {
    Owner {
        tenant: "t".into(),
        user: user.into(),
    }
}

/// 2027-01-15 plus `secs`.
pub(crate) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

/// A task in `context` and `state` whose status timestamp is `at(secs)`.
pub(crate) fn task(id: &str, context: &str, state: TaskState, secs: u64) -> Task {
    Task {
        id: id.into(),
        context_id: context.into(),
        status: Some(TaskStatus {
            state: state as i32,
            message: None,
            timestamp: Some(Timestamp::from_system_time(at(secs))),
        }),
        ..Task::default()
    }
}

/// A push config of `task_id`.
pub(crate) fn push_config(task_id: &str, id: &str) -> TaskPushNotificationConfig {
    TaskPushNotificationConfig {
        id: id.into(),
        task_id: task_id.into(),
        url: format!("https://hooks.example/{id}"),
        ..TaskPushNotificationConfig::default()
    }
}

/// Opens the engine of `dir` with these store settings.
pub(crate) fn open(dir: &Path, store: StoreConfig) -> Embedded {
    Embedded::open(EmbeddedConfig {
        store,
        ..EmbeddedConfig::new(dir)
    })
    .expect("open the data directory")
}

/// A query of page size 100 with these filters.
pub(crate) fn query(context: Option<&str>, status: Option<TaskState>) -> TaskQuery {
    TaskQuery {
        context_id: context.map(str::to_owned),
        status,
        page_size: 100,
        ..TaskQuery::default()
    }
}

/// The ids of one page and its total.
pub(crate) async fn ids(
    store: &Arc<impl TaskStore>,
    owner: &Owner,
    q: &TaskQuery,
) -> (Vec<String>, u64) {
    let page: TaskPage = store.list(owner, q).await.expect("list");
    (
        page.tasks.into_iter().map(|t| t.id).collect(),
        page.total_size,
    )
}
