//! How one agent event becomes a log event, and how it changes the task.

use std::time::SystemTime;

use harbor_a2a::{
    A2aError, ErrorKind, Role, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState,
    TaskStatus, TaskStatusUpdateEvent, stream_response::Payload,
};
use harbor_distributed::store::project;

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

/// The log event an agent event makes of `task`, applied to it ([`project`]): what is
/// appended and what subscribers are told.
pub(crate) fn apply(task: &mut Task, event: AgentEvent) -> Result<StreamResponse, A2aError> {
    if task.state().is_terminal() {
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
            crate::telemetry::task_entered(state);
            let mut message = message;
            if let Some(m) = message.as_mut() {
                m.task_id.clone_from(&task.id);
                m.context_id.clone_from(&task.context_id);
            }
            Payload::StatusUpdate(TaskStatusUpdateEvent {
                task_id: task.id.clone(),
                context_id: task.context_id.clone(),
                status: Some(TaskStatus {
                    state: state as i32,
                    message,
                    timestamp: Some(now()),
                }),
                metadata: None,
            })
        }
        AgentEvent::Artifact {
            artifact,
            append,
            last_chunk,
        } => Payload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: task.id.clone(),
            context_id: task.context_id.clone(),
            artifact: Some(artifact),
            append,
            last_chunk,
            metadata: None,
        }),
        AgentEvent::Reply(mut message) => {
            message.task_id.clone_from(&task.id);
            message.context_id.clone_from(&task.context_id);
            Payload::Message(message)
        }
    };
    let event = StreamResponse {
        payload: Some(payload),
    };
    project(task, &event);
    Ok(event)
}

/// Whether a log entry is shown to streams: everything but a user's follow-up message,
/// which is in the log (the task's history holds it) but was never an agent event.
pub(crate) fn is_shown(event: &StreamResponse) -> bool {
    !matches!(&event.payload, Some(Payload::Message(m)) if m.role == Role::User as i32)
}

/// Applies the client's `historyLength` to a task about to be returned.
pub(crate) fn limit_history(task: &mut Task, history_length: Option<i32>) {
    if let Some(n) = history_length {
        let keep = usize::try_from(n).unwrap_or(0);
        let drop = task.history.len().saturating_sub(keep);
        task.history.drain(..drop);
    }
}
