//! What the store cases build their tasks from: owners, unique ids, tasks at a given time,
//! queries and push configs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harbor_a2a::{Task, TaskPushNotificationConfig, TaskState, TaskStatus};
use harbor_distributed::{Owner, TaskQuery};

pub(super) fn owner(user: &str) -> Owner {
    Owner {
        tenant: "tenant-a".into(),
        user: user.into(),
    }
}

pub(super) fn unique(prefix: &str) -> String {
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

pub(super) fn task_at(id: &str, context: &str, state: TaskState, at: SystemTime) -> Task {
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

pub(super) fn base_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

pub(super) fn query(page_size: u32) -> TaskQuery {
    TaskQuery {
        page_size,
        ..TaskQuery::default()
    }
}

pub(super) fn push_config(task_id: &str, id: &str) -> TaskPushNotificationConfig {
    TaskPushNotificationConfig {
        id: id.into(),
        task_id: task_id.into(),
        url: format!("https://hooks.example/{id}"),
        token: "tok".into(),
        ..TaskPushNotificationConfig::default()
    }
}
