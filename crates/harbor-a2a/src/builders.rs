//! Small constructors and accessors for the messages code builds most often.
//!
//! ```
//! use harbor_a2a::{Message, Part, StreamResponse, Task, TaskState, TaskStatus};
//!
//! let reply = Message::agent("m2", [Part::text("done")]).with_context_id("c1");
//! let task = Task::new("t1", "c1", TaskStatus::now(TaskState::Completed).with_message(reply));
//! assert_eq!(task.state(), TaskState::Completed);
//! assert_eq!(StreamResponse::from(task).state(), Some(TaskState::Completed));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pbjson_types::Timestamp;

use crate::json::{json_to_value, value_to_json};
use crate::part::Content;
use crate::{
    Message, Part, Role, SendMessageResponse, StreamResponse, Task, TaskArtifactUpdateEvent,
    TaskState, TaskStatus, TaskStatusUpdateEvent, send_message_response, stream_response,
};

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::with_content(Content::Text(text.into()))
    }

    /// A part holding file bytes inline (base64 in JSON).
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        Self::with_content(Content::Raw(bytes.into()))
    }

    /// A part referring to a file by URL.
    pub fn url(url: impl Into<String>) -> Self {
        Self::with_content(Content::Url(url.into()))
    }

    /// A structured-data part holding any JSON value.
    pub fn data(value: serde_json::Value) -> Self {
        Self::with_content(Content::Data(json_to_value(value)))
    }

    fn with_content(content: Content) -> Self {
        Self {
            content: Some(content),
            ..Self::default()
        }
    }

    /// Sets the media type (`text/plain`).
    #[must_use]
    pub fn with_media_type(mut self, media_type: impl Into<String>) -> Self {
        self.media_type = media_type.into();
        self
    }

    /// Sets the file name (`output.txt`).
    #[must_use]
    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = filename.into();
        self
    }

    /// The text of a text part.
    pub fn as_text(&self) -> Option<&str> {
        match &self.content {
            Some(Content::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// The value of a data part, as `serde_json`.
    pub fn data_json(&self) -> Option<serde_json::Value> {
        match &self.content {
            Some(Content::Data(value)) => Some(value_to_json(value)),
            _ => None,
        }
    }
}

impl Message {
    /// A message from the client (`ROLE_USER`).
    pub fn user(message_id: impl Into<String>, parts: impl IntoIterator<Item = Part>) -> Self {
        Self::with_role(Role::User, message_id.into(), parts)
    }

    /// A message from the agent (`ROLE_AGENT`).
    pub fn agent(message_id: impl Into<String>, parts: impl IntoIterator<Item = Part>) -> Self {
        Self::with_role(Role::Agent, message_id.into(), parts)
    }

    fn with_role(role: Role, message_id: String, parts: impl IntoIterator<Item = Part>) -> Self {
        Self {
            message_id,
            role: role as i32,
            parts: parts.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Sets the context id.
    #[must_use]
    pub fn with_context_id(mut self, context_id: impl Into<String>) -> Self {
        self.context_id = context_id.into();
        self
    }

    /// Sets the task id.
    #[must_use]
    pub fn with_task_id(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = task_id.into();
        self
    }

    /// The text parts joined by newlines (the other parts are skipped).
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.parts.iter().filter_map(Part::as_text).collect();
        texts.join("\n")
    }
}

impl TaskStatus {
    /// A status in `state` with no timestamp.
    pub fn new(state: TaskState) -> Self {
        Self {
            state: state as i32,
            ..Self::default()
        }
    }

    /// A status in `state`, stamped with the current time.
    pub fn now(state: TaskState) -> Self {
        Self {
            timestamp: Some(Timestamp::now()),
            ..Self::new(state)
        }
    }

    /// Sets the status message.
    #[must_use]
    pub fn with_message(mut self, message: Message) -> Self {
        self.message = Some(message);
        self
    }
}

impl Task {
    /// A task with an id, a context id and a status.
    pub fn new(id: impl Into<String>, context_id: impl Into<String>, status: TaskStatus) -> Self {
        Self {
            id: id.into(),
            context_id: context_id.into(),
            status: Some(status),
            ..Self::default()
        }
    }

    /// The current state (`Unspecified` when there is no status or the number is unknown).
    pub fn state(&self) -> TaskState {
        self.status
            .as_ref()
            .map_or(TaskState::Unspecified, TaskStatus::state)
    }
}

impl StreamResponse {
    /// The task state this event carries (a task snapshot or a status update), if any.
    pub fn state(&self) -> Option<TaskState> {
        match &self.payload {
            Some(stream_response::Payload::Task(task)) => Some(task.state()),
            Some(stream_response::Payload::StatusUpdate(event)) => {
                event.status.as_ref().map(TaskStatus::state)
            }
            _ => None,
        }
    }
}

impl From<Task> for StreamResponse {
    fn from(task: Task) -> Self {
        Self {
            payload: Some(stream_response::Payload::Task(task)),
        }
    }
}

impl From<Message> for StreamResponse {
    fn from(message: Message) -> Self {
        Self {
            payload: Some(stream_response::Payload::Message(message)),
        }
    }
}

impl From<TaskStatusUpdateEvent> for StreamResponse {
    fn from(event: TaskStatusUpdateEvent) -> Self {
        Self {
            payload: Some(stream_response::Payload::StatusUpdate(event)),
        }
    }
}

impl From<TaskArtifactUpdateEvent> for StreamResponse {
    fn from(event: TaskArtifactUpdateEvent) -> Self {
        Self {
            payload: Some(stream_response::Payload::ArtifactUpdate(event)),
        }
    }
}

impl From<Task> for SendMessageResponse {
    fn from(task: Task) -> Self {
        Self {
            payload: Some(send_message_response::Payload::Task(task)),
        }
    }
}

impl From<Message> for SendMessageResponse {
    fn from(message: Message) -> Self {
        Self {
            payload: Some(send_message_response::Payload::Message(message)),
        }
    }
}

/// Conversions between `google.protobuf.Timestamp` and [`SystemTime`].
pub trait TimestampExt: Sized {
    /// The current time.
    fn now() -> Self;

    /// The timestamp of a system time (times before 1970 included).
    fn from_system_time(time: SystemTime) -> Self;

    /// The system time of this timestamp; `None` when `nanos` is out of range or the time
    /// does not fit in a `SystemTime`.
    fn to_system_time(&self) -> Option<SystemTime>;
}

impl TimestampExt for Timestamp {
    fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    fn from_system_time(time: SystemTime) -> Self {
        let (seconds, nanos) = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => (
                i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
                after.subsec_nanos(),
            ),
            Err(before) => {
                let before = before.duration();
                let seconds = -i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
                match before.subsec_nanos() {
                    0 => (seconds, 0),
                    // Timestamp nanos count forward from the (earlier) whole second.
                    n => (seconds - 1, 1_000_000_000 - n),
                }
            }
        };
        Self {
            seconds,
            nanos: i32::try_from(nanos).unwrap_or_default(),
        }
    }

    fn to_system_time(&self) -> Option<SystemTime> {
        let nanos = u32::try_from(self.nanos)
            .ok()
            .filter(|n| *n < 1_000_000_000)?;
        let base = if self.seconds >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(self.seconds.unsigned_abs()))?
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_secs(self.seconds.unsigned_abs()))?
        };
        base.checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_system_time() {
        let cases = [
            Timestamp {
                seconds: 0,
                nanos: 0,
            },
            Timestamp {
                seconds: 1_735_689_600,
                nanos: 5,
            },
            Timestamp {
                seconds: -1,
                nanos: 999_999_999,
            },
            Timestamp {
                seconds: -86_400,
                nanos: 0,
            },
        ];
        for ts in cases {
            let time = ts.to_system_time().expect("in range");
            assert_eq!(Timestamp::from_system_time(time), ts);
        }
        assert_eq!(
            Timestamp {
                seconds: 0,
                nanos: -1
            }
            .to_system_time(),
            None
        );
    }

    #[test]
    fn before_the_epoch_counts_nanos_forward() {
        let time = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(
            Timestamp::from_system_time(time),
            Timestamp {
                seconds: -2,
                nanos: 500_000_000
            }
        );
    }

    #[test]
    fn status_now_is_stamped_and_formats_with_z() {
        let status = TaskStatus::now(TaskState::Working);
        let ts = status.timestamp.expect("stamped");
        let text = crate::json::format_timestamp(&ts).expect("in range");
        assert!(text.ends_with('Z'), "{text}");
    }

    #[test]
    fn parts_and_messages() {
        let message = Message::user(
            "m1",
            [
                Part::text("a"),
                Part::data(serde_json::json!({"k": 1})),
                Part::text("b"),
            ],
        );
        assert_eq!(message.role(), Role::User);
        assert_eq!(message.text(), "a\nb");
        assert_eq!(
            message.parts[1].data_json(),
            Some(serde_json::json!({"k": 1}))
        );
        let file = Part::raw(b"tck".to_vec())
            .with_filename("output.txt")
            .with_media_type("text/plain");
        assert_eq!(file.as_text(), None);
        assert_eq!(file.filename, "output.txt");
    }
}
