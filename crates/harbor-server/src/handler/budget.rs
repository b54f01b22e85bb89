//! Byte budgets on what the handler answers, so that no response grows with what a task
//! has accumulated: a task is served with its oldest history left out until it fits
//! [`HandlerConfig::max_task_bytes`](super::HandlerConfig::max_task_bytes), and a ListTasks
//! page stops at [`HandlerConfig::max_list_bytes`](super::HandlerConfig::max_list_bytes)
//! (a short page with a next-page token, which the protocol allows).
//!
//! Sizes are protobuf encodings (what the store holds and gRPC sends); JSON is larger by a
//! small factor.

use harbor_a2a::Task;
use prost::Message as _;

/// Leaves out `task`'s oldest history messages until it encodes to at most `max_bytes`.
/// Status and artifacts are never cut. Returns how many messages were left out.
pub(crate) fn fit_task(task: &mut Task, max_bytes: usize) -> usize {
    let mut size = task.encoded_len();
    if size <= max_bytes {
        return 0;
    }
    let mut drop = 0;
    for message in &task.history {
        if size <= max_bytes {
            break;
        }
        // The message, its tag and its length prefix.
        let len = message.encoded_len();
        size = size.saturating_sub(len + prost::length_delimiter_len(len) + 1);
        drop += 1;
    }
    task.history.drain(..drop);
    if drop > 0 {
        tracing::debug!(task_id = %harbor_a2a::error::clip(&task.id), left_out = drop, "history trimmed to the task byte budget");
    }
    drop
}

#[cfg(test)]
mod tests {
    use harbor_a2a::{Message, Part, Role, TaskState, TaskStatus};

    use super::*;

    fn task(messages: usize, text_bytes: usize) -> Task {
        Task {
            id: "t".into(),
            status: Some(TaskStatus {
                state: TaskState::Completed as i32,
                ..TaskStatus::default()
            }),
            history: (0..messages)
                .map(|i| Message {
                    message_id: format!("m{i}"),
                    role: Role::User as i32,
                    parts: vec![Part::text("x".repeat(text_bytes))],
                    ..Message::default()
                })
                .collect(),
            ..Task::default()
        }
    }

    #[test]
    fn the_oldest_history_goes_first_until_the_task_fits() {
        let mut t = task(10, 1000);
        let whole = t.encoded_len();
        assert_eq!(fit_task(&mut t, whole), 0);
        assert_eq!(t.history.len(), 10);

        let dropped = fit_task(&mut t, 4500);
        assert_eq!(dropped, 6);
        assert!(t.encoded_len() <= 4500, "{}", t.encoded_len());
        assert_eq!(t.history[0].message_id, "m6", "the newest are kept");

        assert_eq!(fit_task(&mut t, 10), 4);
        assert!(t.history.is_empty());
    }
}
