//! Small builders and readers for A2A values, shared by the agent and the cases.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use harbor_a2a::part::Content;
use harbor_a2a::{Message, Part, Role, Task, TaskState};
use pbjson_types::Timestamp;

/// A fresh id: `prefix` plus 16 random hex digits (unique within the process, and random
/// enough not to collide with ids of earlier runs against a long-lived server).
pub(crate) fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{prefix}-{:016x}", hasher.finish())
}

/// The current time as a protobuf timestamp.
pub(crate) fn now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since.subsec_nanos()).unwrap_or(0),
    }
}

/// A text part.
pub(crate) fn text_part(text: impl Into<String>) -> Part {
    Part {
        content: Some(Content::Text(text.into())),
        ..Part::default()
    }
}

/// A message with one text part.
pub(crate) fn text_message(role: Role, message_id: String, text: impl Into<String>) -> Message {
    Message {
        message_id,
        role: role.into(),
        parts: vec![text_part(text)],
        ..Message::default()
    }
}

/// The text parts of `parts`, concatenated.
pub(crate) fn text_of(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match &p.content {
            Some(Content::Text(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// The state of a task's status (UNSPECIFIED when it has none).
pub(crate) fn state_of(task: &Task) -> TaskState {
    task.status
        .as_ref()
        .map_or(TaskState::Unspecified, |s| s.state())
}

/// COMPLETED, FAILED, CANCELED or REJECTED: the task will never change again.
pub(crate) fn is_terminal(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::Completed | TaskState::Failed | TaskState::Canceled | TaskState::Rejected
    )
}

/// INPUT_REQUIRED or AUTH_REQUIRED: the task waits for the client.
pub(crate) fn is_interrupted(state: TaskState) -> bool {
    matches!(state, TaskState::InputRequired | TaskState::AuthRequired)
}

/// The task with at most the `limit` newest history messages (all when `None`).
pub(crate) fn with_history(mut task: Task, limit: Option<i32>) -> Task {
    if let Some(limit) = limit {
        let keep = usize::try_from(limit).unwrap_or(0);
        let skip = task.history.len().saturating_sub(keep);
        task.history.drain(..skip);
    }
    task
}
