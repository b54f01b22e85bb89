//! How one agent event changes a task, and the stream event that reports it.

use std::time::SystemTime;

use harbor_a2a::{
    A2aError, ErrorKind, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState, TaskStatus,
    TaskStatusUpdateEvent, stream_response::Payload,
};

use super::log::is_terminal_state;
use crate::executor::AgentEvent;

/// A UTC timestamp for now.
pub(crate) fn now() -> pbjson_types::Timestamp {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    // Millisecond precision, as the specification recommends.
    let millis = since.subsec_millis();
    pbjson_types::Timestamp {
        seconds: since.as_secs() as i64,
        nanos: (millis * 1_000_000) as i32,
    }
}

/// Applies `event` to `task` and returns what subscribers are told.
pub(crate) fn apply(task: &mut Task, event: AgentEvent) -> Result<StreamResponse, A2aError> {
    let current = task.status.as_ref().map_or(0, |s| s.state);
    if is_terminal_state(current) {
        return Err(A2aError::new(
            ErrorKind::InvalidAgentResponse,
            format!(
                "task {} is already terminal; the agent's late event was dropped",
                task.id
            ),
        ));
    }
    let payload = match event {
        AgentEvent::Status { state, message } => {
            if state == TaskState::Unspecified {
                return Err(A2aError::new(
                    ErrorKind::InvalidAgentResponse,
                    "the agent emitted TASK_STATE_UNSPECIFIED",
                ));
            }
            let mut message = message;
            if let Some(m) = message.as_mut() {
                m.task_id.clone_from(&task.id);
                m.context_id.clone_from(&task.context_id);
            }
            // The previous status message becomes part of the conversation.
            if let Some(previous) = task.status.take().and_then(|s| s.message) {
                task.history.push(previous);
            }
            let status = TaskStatus {
                state: state as i32,
                message,
                timestamp: Some(now()),
            };
            task.status = Some(status.clone());
            Payload::StatusUpdate(TaskStatusUpdateEvent {
                task_id: task.id.clone(),
                context_id: task.context_id.clone(),
                status: Some(status),
                metadata: None,
            })
        }
        AgentEvent::Artifact {
            artifact,
            append,
            last_chunk,
        } => {
            match task
                .artifacts
                .iter_mut()
                .find(|a| a.artifact_id == artifact.artifact_id)
            {
                Some(existing) if append => existing.parts.extend(artifact.parts.iter().cloned()),
                Some(existing) => *existing = artifact.clone(),
                None => task.artifacts.push(artifact.clone()),
            }
            Payload::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: task.id.clone(),
                context_id: task.context_id.clone(),
                artifact: Some(artifact),
                append,
                last_chunk,
                metadata: None,
            })
        }
        AgentEvent::Reply(mut message) => {
            message.task_id.clone_from(&task.id);
            message.context_id.clone_from(&task.context_id);
            task.history.push(message.clone());
            Payload::Message(message)
        }
    };
    Ok(StreamResponse {
        payload: Some(payload),
    })
}

/// Applies the client's `historyLength` to a task about to be returned.
pub(crate) fn limit_history(task: &mut Task, history_length: Option<i32>) {
    if let Some(n) = history_length {
        let keep = usize::try_from(n).unwrap_or(0);
        let drop = task.history.len().saturating_sub(keep);
        task.history.drain(..drop);
    }
}
