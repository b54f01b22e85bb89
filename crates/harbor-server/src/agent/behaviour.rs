//! The behaviours of the conformance agent, keyed by prefix.
//!
//! Two kits drive the agent in-band. The A2A TCK (`tck-sut-contract.md` §3) puts the
//! prefix in the user message's `messageId`; another conformance suite puts one of its
//! prefixes (`tck-multi-turn`, `tck-long-running`, `tck-cancel`, `tck-stream-basic`,
//! `tck-stream-chunked`, `tck-task-failure`, `tck-auth-required`) either there or at the
//! start of the message text. So one table serves both: the `messageId` is looked up
//! first, then the text, and the longest matching prefix wins. None of the second kit's
//! prefixes had a meaning before, so the TCK's behaviours are unchanged;
//! `tck-stream-chunked` (three chunks) is distinct from the TCK's
//! `tck-stream-artifact-chunked` (two chunks), which keeps its meaning.

use std::time::Duration;

use harbor_a2a::{A2aError, Artifact, Message, Part, TaskState, part::Content};

use super::text::{message_text, say};
use crate::executor::{EventSink, RequestContext, text_part};

/// What the agent does with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// COMPLETED with "Hello from TCK".
    CompleteTask,
    /// Stay in INPUT_REQUIRED.
    InputRequired,
    /// A text artifact, then COMPLETED.
    ArtifactText,
    /// A raw-bytes file artifact, then COMPLETED.
    ArtifactFile,
    /// A file-by-URL artifact, then COMPLETED.
    ArtifactFileUrl,
    /// A data artifact, then COMPLETED.
    ArtifactData,
    /// A direct message, no task.
    MessageResponse,
    /// REJECTED, with the reason.
    Reject,
    /// WORKING, a text artifact, COMPLETED.
    Stream(&'static str),
    /// Straight to COMPLETED.
    StreamComplete,
    /// WORKING, a file artifact, COMPLETED.
    StreamFile,
    /// WORKING, two chunks of one artifact, COMPLETED.
    StreamChunked,
    /// WORKING, a pause, COMPLETED.
    SlowComplete,
    /// A first turn ends INPUT_REQUIRED; a follow-up to the task ends it COMPLETED.
    MultiTurn,
    /// WORKING, an artifact, a pause (cancelable), COMPLETED.
    LongRunning,
    /// WORKING until the task is canceled (FAILED after [`CANCEL_WAIT`] without a cancel).
    AwaitCancel,
    /// An artifact, then COMPLETED (a stream sees the task, the artifact, the status).
    StreamBasic,
    /// WORKING, three chunks of one artifact, COMPLETED.
    StreamThreeChunks,
    /// FAILED, with the reason.
    TaskFailure,
    /// AUTH_REQUIRED, with what is needed.
    AuthRequired,
    /// Anything else: COMPLETED echoing the input.
    Echo,
}

/// How long `tck-cancel` waits for its cancel before it gives up and fails the task, so that
/// a forgotten task does not hold an execution forever.
pub const CANCEL_WAIT: Duration = Duration::from_secs(600);

/// Every prefix and its behaviour; the longest matching prefix wins.
const TABLE: &[(&str, Behaviour)] = &[
    ("tck-complete-task", Behaviour::CompleteTask),
    ("tck-input-required", Behaviour::InputRequired),
    ("tck-artifact-text", Behaviour::ArtifactText),
    ("tck-artifact-file-url", Behaviour::ArtifactFileUrl),
    ("tck-artifact-file", Behaviour::ArtifactFile),
    ("tck-artifact-data", Behaviour::ArtifactData),
    ("tck-message-response", Behaviour::MessageResponse),
    ("tck-reject-task", Behaviour::Reject),
    ("tck-stream-artifact-chunked", Behaviour::StreamChunked),
    (
        "tck-stream-artifact-text",
        Behaviour::Stream("Streamed text content"),
    ),
    ("tck-stream-artifact-file", Behaviour::StreamFile),
    (
        "tck-stream-ordering-001",
        Behaviour::Stream("Ordered output"),
    ),
    ("tck-stream-001", Behaviour::Stream("Stream hello from TCK")),
    ("tck-stream-002", Behaviour::StreamComplete),
    ("tck-stream-003", Behaviour::Stream("Stream task lifecycle")),
    ("test-resubscribe-message-id", Behaviour::SlowComplete),
    ("tck-multi-turn", Behaviour::MultiTurn),
    ("tck-long-running", Behaviour::LongRunning),
    ("tck-cancel", Behaviour::AwaitCancel),
    ("tck-stream-basic", Behaviour::StreamBasic),
    ("tck-stream-chunked", Behaviour::StreamThreeChunks),
    ("tck-task-failure", Behaviour::TaskFailure),
    ("tck-auth-required", Behaviour::AuthRequired),
];

impl Behaviour {
    /// The behaviour for a message id.
    pub fn for_message_id(id: &str) -> Self {
        lookup(id).unwrap_or(Self::Echo)
    }

    /// The behaviour for a user message: by its `messageId`, else by the start of its text
    /// (leading whitespace ignored), else [`Behaviour::Echo`].
    pub fn for_message(message: &Message) -> Self {
        lookup(&message.message_id)
            .or_else(|| lookup(message_text(&message.parts).trim_start()))
            .unwrap_or(Self::Echo)
    }

    /// The behaviour for an execution: [`for_message`](Self::for_message), except that a
    /// message matching nothing, sent to a task that a `tck-multi-turn` message started,
    /// continues the conversation (and so completes it).
    pub fn for_request(ctx: &RequestContext) -> Self {
        let started_multi_turn = || {
            ctx.task
                .as_ref()
                .and_then(|task| task.history.first())
                .is_some_and(|first| Self::for_message(first) == Self::MultiTurn)
        };
        match Self::for_message(&ctx.message) {
            Self::Echo if started_multi_turn() => Self::MultiTurn,
            behaviour => behaviour,
        }
    }

    /// Runs the behaviour for one message. `slow` is how long the slow behaviours
    /// (`test-resubscribe-message-id`, `tck-long-running`) stay WORKING.
    pub(super) async fn run(
        self,
        ctx: &RequestContext,
        events: &EventSink,
        slow: Duration,
    ) -> Result<(), A2aError> {
        let artifact = |parts: Vec<Part>| Artifact {
            artifact_id: uuid::Uuid::new_v4().to_string(),
            parts,
            ..Artifact::default()
        };
        let file = || Part {
            content: Some(Content::Raw(b"tck".to_vec())),
            filename: "output.txt".into(),
            media_type: "text/plain".into(),
            ..Part::default()
        };
        match self {
            Self::CompleteTask => events.complete(Some("Hello from TCK")).await,
            Self::InputRequired => {
                let message = say(events, "Please provide more input.");
                events.status(TaskState::InputRequired, Some(message)).await
            }
            Self::ArtifactText => {
                events
                    .artifact(
                        artifact(vec![text_part("Generated text content")]),
                        false,
                        true,
                    )
                    .await?;
                events.complete(None).await
            }
            Self::ArtifactFile => {
                events.artifact(artifact(vec![file()]), false, true).await?;
                events.complete(None).await
            }
            Self::ArtifactFileUrl => {
                let part = Part {
                    content: Some(Content::Url("https://example.com/output.txt".into())),
                    filename: "output.txt".into(),
                    media_type: "text/plain".into(),
                    ..Part::default()
                };
                events.artifact(artifact(vec![part]), false, true).await?;
                events.complete(None).await
            }
            Self::ArtifactData => {
                let value: pbjson_types::Value =
                    serde_json::from_value(serde_json::json!({"key": "value", "count": 42}))
                        .map_err(|e| A2aError::internal(e.to_string()))?;
                let part = Part {
                    content: Some(Content::Data(value)),
                    media_type: "application/json".into(),
                    ..Part::default()
                };
                events.artifact(artifact(vec![part]), false, true).await?;
                events.complete(None).await
            }
            Self::MessageResponse => {
                events
                    .reply(vec![text_part("Direct message response")])
                    .await
            }
            Self::Reject => {
                events
                    .status(TaskState::Rejected, Some(say(events, "rejected")))
                    .await
            }
            Self::Stream(text) => {
                events.working().await?;
                events
                    .artifact(artifact(vec![text_part(text)]), false, true)
                    .await?;
                events.complete(None).await
            }
            Self::StreamComplete => events.complete(None).await,
            Self::StreamFile => {
                events.working().await?;
                events.artifact(artifact(vec![file()]), false, true).await?;
                events.complete(None).await
            }
            Self::StreamChunked => {
                events.working().await?;
                let mut chunked = artifact(vec![text_part("chunk-1 ")]);
                events.artifact(chunked.clone(), true, false).await?;
                chunked.parts = vec![text_part("chunk-2")];
                events.artifact(chunked, true, true).await?;
                events.complete(None).await
            }
            Self::SlowComplete => {
                events.working().await?;
                tokio::select! {
                    () = tokio::time::sleep(slow) => {}
                    () = ctx.cancel.cancelled() => return Ok(()),
                }
                events.complete(None).await
            }
            Self::MultiTurn if ctx.task.is_none() => {
                let message = say(events, "Turn 1 received; send the next turn.");
                events.status(TaskState::InputRequired, Some(message)).await
            }
            Self::MultiTurn => {
                let turns = ctx.task.as_ref().map_or(0, user_turns) + 1;
                let text = format!("Multi-turn conversation completed after {turns} turns.");
                events.complete(Some(&text)).await
            }
            Self::LongRunning => {
                events.working().await?;
                let progress = artifact(vec![text_part("Long-running task in progress")]);
                events.artifact(progress, false, true).await?;
                tokio::select! {
                    () = tokio::time::sleep(slow) => {}
                    () = ctx.cancel.cancelled() => return Ok(()),
                }
                events.complete(Some("Long-running task done")).await
            }
            Self::AwaitCancel => {
                let waiting = say(events, "Working until canceled.");
                events.status(TaskState::Working, Some(waiting)).await?;
                tokio::select! {
                    () = tokio::time::sleep(CANCEL_WAIT) => {}
                    () = ctx.cancel.cancelled() => return Ok(()),
                }
                let text = format!("not canceled within {} s", CANCEL_WAIT.as_secs());
                events
                    .status(TaskState::Failed, Some(say(events, &text)))
                    .await
            }
            Self::StreamBasic => {
                events
                    .artifact(
                        artifact(vec![text_part("Stream basic output")]),
                        false,
                        true,
                    )
                    .await?;
                events.complete(None).await
            }
            Self::StreamThreeChunks => {
                events.working().await?;
                let mut chunked = artifact(vec![text_part("chunk-1 ")]);
                events.artifact(chunked.clone(), false, false).await?;
                chunked.parts = vec![text_part("chunk-2 ")];
                events.artifact(chunked.clone(), true, false).await?;
                chunked.parts = vec![text_part("chunk-3")];
                events.artifact(chunked, true, true).await?;
                events.complete(None).await
            }
            Self::TaskFailure => {
                let message = say(events, "The task failed, as tck-task-failure asks.");
                events.status(TaskState::Failed, Some(message)).await
            }
            Self::AuthRequired => {
                let message = say(events, "Authentication required to continue.");
                events.status(TaskState::AuthRequired, Some(message)).await
            }
            Self::Echo => {
                let text = message_text(&ctx.message.parts);
                events.complete(Some(&format!("Echo: {text}"))).await
            }
        }
    }
}

/// The longest prefix of the table that `key` starts with.
fn lookup(key: &str) -> Option<Behaviour> {
    TABLE
        .iter()
        .filter(|(prefix, _)| key.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, b)| *b)
}

/// The user messages in a task's history.
fn user_turns(task: &harbor_a2a::Task) -> usize {
    let user = harbor_a2a::Role::User as i32;
    task.history.iter().filter(|m| m.role == user).count()
}

#[cfg(test)]
mod tests;
