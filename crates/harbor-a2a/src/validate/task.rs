//! Rules for tasks, messages, parts, artifacts and the stream events.

use pbjson_types::Value;
use pbjson_types::value::Kind;

use super::{Check, Path};
use crate::json::check_timestamp;
use crate::part::Content;
use crate::{
    A2aError, Artifact, Message, Part, Role, SendMessageResponse, StreamResponse, Task,
    TaskArtifactUpdateEvent, TaskState, TaskStatus, TaskStatusUpdateEvent, send_message_response,
    stream_response,
};

impl Check for Message {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("messageId", &self.message_id)?;
        match Role::try_from(self.role) {
            Ok(Role::Unspecified) => {
                return Err(at
                    .field("role")
                    .error("is required (ROLE_UNSPECIFIED is not a role)"));
            }
            Err(_) => {
                return Err(at
                    .field("role")
                    .error(format!("unknown role {}", self.role)));
            }
            Ok(_) => {}
        }
        at.require_items("parts", &self.parts)?;
        at.each("parts", &self.parts)
    }
}

impl Check for Part {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        match &self.content {
            None => Err(at.error("exactly one of text, raw, url, data must be set")),
            Some(Content::Data(value)) => check_finite(&at.field("data"), value),
            // Any other member, even `text: ""`, is a set member.
            Some(_) => Ok(()),
        }
    }
}

/// JSON has no NaN or infinity, so a data part holding one could not be sent.
fn check_finite(at: &Path<'_>, value: &Value) -> Result<(), A2aError> {
    match &value.kind {
        Some(Kind::NumberValue(n)) if !n.is_finite() => {
            Err(at.error(format!("numbers must be finite, got {n}")))
        }
        Some(Kind::ListValue(list)) => list
            .values
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_finite(&at.index(i), v)),
        Some(Kind::StructValue(s)) => s
            .fields
            .iter()
            .try_for_each(|(k, v)| check_finite(&at.key(k), v)),
        _ => Ok(()),
    }
}

impl Check for Artifact {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("artifactId", &self.artifact_id)?;
        at.require_items("parts", &self.parts)?;
        at.each("parts", &self.parts)
    }
}

impl Check for TaskStatus {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        match TaskState::try_from(self.state) {
            Ok(TaskState::Unspecified) => {
                return Err(at
                    .field("state")
                    .error("is required (TASK_STATE_UNSPECIFIED is not a state)"));
            }
            Err(_) => {
                return Err(at
                    .field("state")
                    .error(format!("unknown task state {}", self.state)));
            }
            Ok(_) => {}
        }
        at.optional("message", &self.message)?;
        if let Some(ts) = &self.timestamp {
            check_timestamp(ts).map_err(|e| at.field("timestamp").error(e.message()))?;
        }
        Ok(())
    }
}

impl Check for Task {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("id", &self.id)?;
        at.require("status", &self.status)?
            .check(&at.field("status"))?;
        at.each("artifacts", &self.artifacts)?;
        at.each("history", &self.history)
    }
}

impl Check for TaskStatusUpdateEvent {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("taskId", &self.task_id)?;
        at.require_str("contextId", &self.context_id)?;
        at.require("status", &self.status)?
            .check(&at.field("status"))
    }
}

impl Check for TaskArtifactUpdateEvent {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("taskId", &self.task_id)?;
        at.require_str("contextId", &self.context_id)?;
        at.require("artifact", &self.artifact)?
            .check(&at.field("artifact"))
    }
}

impl Check for StreamResponse {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        use stream_response::Payload;
        match &self.payload {
            None => Err(
                at.error("exactly one of task, message, statusUpdate, artifactUpdate must be set")
            ),
            Some(Payload::Task(task)) => task.check(&at.field("task")),
            Some(Payload::Message(message)) => message.check(&at.field("message")),
            Some(Payload::StatusUpdate(event)) => event.check(&at.field("statusUpdate")),
            Some(Payload::ArtifactUpdate(event)) => event.check(&at.field("artifactUpdate")),
        }
    }
}

impl Check for SendMessageResponse {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        use send_message_response::Payload;
        match &self.payload {
            None => Err(at.error("exactly one of task, message must be set")),
            Some(Payload::Task(task)) => task.check(&at.field("task")),
            Some(Payload::Message(message)) => message.check(&at.field("message")),
        }
    }
}
