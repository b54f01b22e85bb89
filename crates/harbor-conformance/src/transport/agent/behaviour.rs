//! What the agent does with a user message, chosen by the prefix of its `messageId`
//! (the table of `tck-sut-contract.md` §3; the longest matching prefix wins).

use std::collections::HashMap;
use std::time::Duration;

use harbor_a2a::part::Content;
use harbor_a2a::{Artifact, Part, TaskState};

use crate::transport::model::text_part;

/// How long the slow behaviour (`test-resubscribe-message-id`) works before completing.
pub(super) const SLOW_WORK: Duration = Duration::from_secs(4);

/// The agent's answer to one user message.
pub(super) enum Behaviour {
    /// A direct agent message with this text; no task is created.
    Reply(String),
    /// Work on a task, one step at a time.
    Steps(Vec<Step>),
}

/// One step of work on a task.
pub(super) enum Step {
    /// Moves the task to a state, with an optional agent status message.
    Status(TaskState, Option<String>),
    /// Adds (or, with `append`, extends) an artifact.
    Artifact {
        artifact: Artifact,
        append: bool,
        last_chunk: bool,
    },
    /// Works for a while; a cancel wakes it early.
    Pause(Duration),
}

/// Every prefix the agent knows (the contract's table).
pub(super) const PREFIXES: &[&str] = &[
    "tck-complete-task",
    "tck-input-required",
    "tck-artifact-text",
    "tck-artifact-file",
    "tck-artifact-file-url",
    "tck-artifact-data",
    "tck-message-response",
    "tck-reject-task",
    "tck-stream-001",
    "tck-stream-002",
    "tck-stream-003",
    "tck-stream-ordering-001",
    "tck-stream-artifact-text",
    "tck-stream-artifact-file",
    "tck-stream-artifact-chunked",
    "test-resubscribe-message-id",
];

/// The behaviour for a user message with id `message_id`.
pub(super) fn for_message(message_id: &str) -> Behaviour {
    let prefix = PREFIXES
        .iter()
        .filter(|p| message_id.starts_with(**p))
        .max_by_key(|p| p.len())
        .copied();
    let complete = |text: &str| Step::Status(TaskState::Completed, Some(text.to_owned()));
    let working = || Step::Status(TaskState::Working, None);
    let with_artifact = |part: Part| {
        Behaviour::Steps(vec![
            working(),
            artifact("artifact-1", part, false, false),
            Step::Status(TaskState::Completed, None),
        ])
    };
    match prefix {
        Some("tck-complete-task") => Behaviour::Steps(vec![working(), complete("Hello from TCK")]),
        Some("tck-input-required") => Behaviour::Steps(vec![
            working(),
            Step::Status(
                TaskState::InputRequired,
                Some("Please provide more input".to_owned()),
            ),
        ]),
        Some("tck-artifact-text") => with_artifact(text_part("Generated text content")),
        Some("tck-artifact-file" | "tck-stream-artifact-file") => with_artifact(file_part()),
        Some("tck-artifact-file-url") => with_artifact(Part {
            content: Some(Content::Url("https://example.com/output.txt".to_owned())),
            filename: "output.txt".to_owned(),
            media_type: "text/plain".to_owned(),
            ..Part::default()
        }),
        Some("tck-artifact-data") => with_artifact(data_part()),
        Some("tck-message-response") => Behaviour::Reply("Direct message response".to_owned()),
        // The state A2A has for it, rather than a transport error: see the module docs.
        Some("tck-reject-task") => Behaviour::Steps(vec![Step::Status(
            TaskState::Rejected,
            Some("rejected".to_owned()),
        )]),
        Some("tck-stream-001") => with_artifact(text_part("Stream hello from TCK")),
        Some("tck-stream-002") => Behaviour::Steps(vec![complete("Stream completed")]),
        Some("tck-stream-003") => with_artifact(text_part("Stream task lifecycle")),
        Some("tck-stream-ordering-001") => with_artifact(text_part("Ordered output")),
        Some("tck-stream-artifact-text") => with_artifact(text_part("Streamed text content")),
        Some("tck-stream-artifact-chunked") => Behaviour::Steps(vec![
            working(),
            artifact("artifact-chunked", text_part("chunk-1 "), false, false),
            artifact("artifact-chunked", text_part("chunk-2"), true, true),
            Step::Status(TaskState::Completed, None),
        ]),
        Some("test-resubscribe-message-id") => Behaviour::Steps(vec![
            working(),
            Step::Pause(SLOW_WORK),
            Step::Status(TaskState::Completed, None),
        ]),
        _ => Behaviour::Steps(vec![
            working(),
            complete(&format!("Unhandled messageId prefix: {message_id}")),
        ]),
    }
}

fn artifact(id: &str, part: Part, append: bool, last_chunk: bool) -> Step {
    Step::Artifact {
        artifact: Artifact {
            artifact_id: id.to_owned(),
            name: "output".to_owned(),
            parts: vec![part],
            ..Artifact::default()
        },
        append,
        last_chunk,
    }
}

fn file_part() -> Part {
    Part {
        content: Some(Content::Raw(b"tck".to_vec())),
        filename: "output.txt".to_owned(),
        media_type: "text/plain".to_owned(),
        ..Part::default()
    }
}

/// `{"key": "value", "count": 42}`.
fn data_part() -> Part {
    let fields = HashMap::from([
        ("key".to_owned(), pbjson_types::Value::from("value")),
        ("count".to_owned(), pbjson_types::Value::from(42.0)),
    ]);
    Part {
        content: Some(Content::Data(pbjson_types::Value::from(fields))),
        media_type: "application/json".to_owned(),
        ..Part::default()
    }
}
