//! The behaviours of the conformance agent, keyed by message-id prefix.

use std::time::Duration;

use harbor_a2a::{A2aError, Artifact, Part, TaskState, part::Content};

use super::{message_text, say};
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
    /// Anything else: COMPLETED echoing the input.
    Echo,
}

/// Prefixes, longest first where one is the prefix of another.
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
];

impl Behaviour {
    /// The behaviour for a message id.
    pub fn for_message_id(id: &str) -> Self {
        TABLE
            .iter()
            .find(|(prefix, _)| id.starts_with(prefix))
            .map_or(Self::Echo, |(_, b)| *b)
    }

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
            Self::Echo => {
                let text = message_text(&ctx.message.parts);
                events.complete(Some(&format!("Echo: {text}"))).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(
            Behaviour::for_message_id("tck-artifact-file-url-1a2b3c4d"),
            Behaviour::ArtifactFileUrl
        );
        assert_eq!(
            Behaviour::for_message_id("tck-artifact-file-1a2b3c4d"),
            Behaviour::ArtifactFile
        );
        assert_eq!(
            Behaviour::for_message_id("tck-stream-artifact-chunked-x"),
            Behaviour::StreamChunked
        );
        assert_eq!(
            Behaviour::for_message_id("tck-complete-task-1a2b-grpc"),
            Behaviour::CompleteTask
        );
        assert_eq!(
            Behaviour::for_message_id("tck-sse-streaming-001"),
            Behaviour::Echo
        );
        assert_eq!(Behaviour::for_message_id(""), Behaviour::Echo);
    }
}
