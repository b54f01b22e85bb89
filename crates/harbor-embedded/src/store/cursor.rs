//! Task timestamps as the ListTasks order keys them. The order itself, the page cursor and
//! the argument checks are `harbor_distributed::store`'s, shared with every store.

use std::time::{SystemTime, UNIX_EPOCH};

use harbor_a2a::Task;

/// A task's status timestamp in nanoseconds since the epoch, the first part of its
/// [`sort_key`](harbor_distributed::store::sort_key); `None` when the status has none.
pub(super) fn status_nanos(task: &Task) -> Option<i128> {
    task.status
        .as_ref()
        .and_then(|s| s.timestamp.as_ref())
        .map(|t| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos))
}

/// Nanoseconds since the epoch, negative before it.
pub(super) fn nanos_of(at: SystemTime) -> i128 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}
