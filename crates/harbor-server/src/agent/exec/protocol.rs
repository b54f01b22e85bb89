//! The lines of the exec protocol: the request the program reads, the events it prints.

use harbor_a2a::{Artifact, Part, TaskState};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::executor::{AgentEvent, RequestContext};

/// The protocol version in every request line.
pub(super) const VERSION: u32 = 1;

/// The line written on stdin when the task is canceled.
pub(super) const CANCEL_LINE: &[u8] = b"{\"type\":\"cancel\"}\n";

/// The request line for `ctx`, newline included.
pub(super) fn request_line(ctx: &RequestContext) -> Result<Vec<u8>, harbor_a2a::A2aError> {
    let task = match &ctx.task {
        Some(task) => harbor_a2a::to_json(task)?,
        None => Value::Null,
    };
    let request = json!({
        "type": "request",
        "version": VERSION,
        "taskId": ctx.task_id,
        "contextId": ctx.context_id,
        "text": ctx.message.text(),
        "message": harbor_a2a::to_json(&ctx.message)?,
        "task": task,
        "caller": {
            "tenant": &*ctx.call.identity.tenant,
            "user": &*ctx.call.identity.user,
        },
    });
    let mut line = serde_json::to_vec(&request)
        .map_err(|e| harbor_a2a::A2aError::internal(format!("cannot encode the request: {e}")))?;
    line.push(b'\n');
    Ok(line)
}

/// One line the program printed, as written.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Status {
        state: String,
        #[serde(flatten)]
        content: Content,
    },
    Artifact {
        #[serde(rename = "artifactId", default)]
        artifact_id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        append: bool,
        #[serde(rename = "lastChunk", default)]
        last_chunk: bool,
        #[serde(flatten)]
        content: Content,
    },
    Message {
        #[serde(flatten)]
        content: Content,
    },
    Error {
        message: String,
    },
}

/// `text` and/or `parts`.
#[derive(Debug, Default, Deserialize)]
struct Content {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    parts: Option<Vec<Value>>,
}

impl Content {
    fn into_parts(self) -> Result<Vec<Part>, String> {
        let mut parts = Vec::new();
        if let Some(text) = self.text {
            parts.push(Part::text(text));
        }
        for (i, part) in self.parts.unwrap_or_default().into_iter().enumerate() {
            let part: Part = harbor_a2a::from_json_value(part)
                .map_err(|e| format!("parts[{i}] is not a part: {}", e.message()))?;
            parts.push(part);
        }
        Ok(parts)
    }
}

/// What one output line asks for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Event {
    /// An event for the task (or a direct reply).
    Agent(AgentEvent),
    /// The program gives up: the task fails with this reason.
    Error(String),
}

/// Reads output lines; remembers the last artifact id, for chunks that omit it.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    last_artifact: Option<String>,
}

impl Decoder {
    /// The event of one line, or why the line is not one.
    pub(super) fn decode(&mut self, line: &[u8]) -> Result<Event, String> {
        let line: Line = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        Ok(match line {
            Line::Status { state, content } => {
                let state = parse_state(&state)?;
                let parts = content.into_parts()?;
                let message = (!parts.is_empty()).then(|| harbor_a2a::Message {
                    message_id: uuid::Uuid::new_v4().to_string(),
                    role: harbor_a2a::Role::Agent as i32,
                    parts,
                    ..harbor_a2a::Message::default()
                });
                Event::Agent(AgentEvent::Status { state, message })
            }
            Line::Artifact {
                artifact_id,
                name,
                append,
                last_chunk,
                content,
            } => {
                let parts = content.into_parts()?;
                if parts.is_empty() {
                    return Err("an artifact needs text or parts".into());
                }
                let artifact_id = match (artifact_id.filter(|id| !id.is_empty()), append) {
                    (Some(id), _) => id,
                    (None, true) => self.last_artifact.clone().ok_or(
                        "an appended chunk without artifactId needs an artifact before it",
                    )?,
                    (None, false) => uuid::Uuid::new_v4().to_string(),
                };
                self.last_artifact = Some(artifact_id.clone());
                Event::Agent(AgentEvent::Artifact {
                    artifact: Artifact {
                        artifact_id,
                        name: name.unwrap_or_default(),
                        parts,
                        ..Artifact::default()
                    },
                    append,
                    last_chunk,
                })
            }
            Line::Message { content } => {
                let parts = content.into_parts()?;
                if parts.is_empty() {
                    return Err("a message needs text or parts".into());
                }
                Event::Agent(AgentEvent::Reply(harbor_a2a::Message {
                    message_id: uuid::Uuid::new_v4().to_string(),
                    role: harbor_a2a::Role::Agent as i32,
                    parts,
                    ..harbor_a2a::Message::default()
                }))
            }
            Line::Error { message } => Event::Error(message),
        })
    }
}

/// `working`, `input-required`, `TASK_STATE_WORKING`, … as a state.
fn parse_state(name: &str) -> Result<TaskState, String> {
    let normal = name.trim().to_ascii_lowercase().replace('-', "_");
    let short = normal.strip_prefix("task_state_").unwrap_or(&normal);
    Ok(match short {
        "submitted" => TaskState::Submitted,
        "working" => TaskState::Working,
        "input_required" => TaskState::InputRequired,
        "auth_required" => TaskState::AuthRequired,
        "completed" => TaskState::Completed,
        "failed" => TaskState::Failed,
        "canceled" | "cancelled" => TaskState::Canceled,
        "rejected" => TaskState::Rejected,
        _ => return Err(format!("unknown state {name:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(lines: &[&str]) -> Vec<Result<Event, String>> {
        let mut decoder = Decoder::default();
        lines.iter().map(|l| decoder.decode(l.as_bytes())).collect()
    }

    fn one(line: &str) -> AgentEvent {
        match decode(&[line]).remove(0) {
            Ok(Event::Agent(event)) => event,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn states_take_short_and_protocol_names() {
        for (name, want) in [
            ("working", TaskState::Working),
            ("input-required", TaskState::InputRequired),
            ("input_required", TaskState::InputRequired),
            ("AUTH-REQUIRED", TaskState::AuthRequired),
            ("TASK_STATE_COMPLETED", TaskState::Completed),
            ("cancelled", TaskState::Canceled),
            ("rejected", TaskState::Rejected),
            ("failed", TaskState::Failed),
        ] {
            assert_eq!(parse_state(name), Ok(want), "{name}");
        }
        assert!(
            parse_state("done")
                .expect_err("not a state")
                .contains("\"done\"")
        );
    }

    #[test]
    fn a_status_carries_its_text_as_an_agent_message() {
        let AgentEvent::Status { state, message } =
            one(r#"{"type":"status","state":"input-required","text":"name?","extra":1}"#)
        else {
            panic!("a status");
        };
        assert_eq!(state, TaskState::InputRequired);
        let message = message.expect("a message");
        assert_eq!(message.text(), "name?");
        assert_eq!(message.role, harbor_a2a::Role::Agent as i32);
        assert!(!message.message_id.is_empty());
        let AgentEvent::Status { message, .. } = one(r#"{"type":"status","state":"working"}"#)
        else {
            panic!("a status");
        };
        assert_eq!(message, None);
    }

    #[test]
    fn chunks_without_an_id_append_to_the_previous_artifact() {
        let events = decode(&[
            r#"{"type":"artifact","artifactId":"a","name":"out","text":"1"}"#,
            r#"{"type":"artifact","append":true,"text":"2"}"#,
            r#"{"type":"artifact","append":true,"lastChunk":true,"parts":[{"text":"3"},{"url":"https://x.example/f"}]}"#,
        ]);
        let shapes: Vec<(String, String, bool, bool, usize)> = events
            .into_iter()
            .map(|e| match e {
                Ok(Event::Agent(AgentEvent::Artifact {
                    artifact,
                    append,
                    last_chunk,
                })) => (
                    artifact.artifact_id,
                    artifact.name,
                    append,
                    last_chunk,
                    artifact.parts.len(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            shapes,
            [
                ("a".into(), "out".into(), false, false, 1),
                ("a".into(), String::new(), true, false, 1),
                ("a".into(), String::new(), true, true, 2),
            ]
        );
        let orphan = decode(&[r#"{"type":"artifact","append":true,"text":"x"}"#]);
        assert!(
            orphan[0]
                .as_ref()
                .expect_err("an orphan chunk")
                .contains("needs an artifact")
        );
    }

    #[test]
    fn messages_and_errors() {
        let AgentEvent::Reply(reply) = one(r#"{"type":"message","text":"hi"}"#) else {
            panic!("a reply");
        };
        assert_eq!(reply.text(), "hi");
        assert_eq!(
            decode(&[r#"{"type":"error","message":"no model"}"#]).remove(0),
            Ok(Event::Error("no model".into()))
        );
    }

    #[test]
    fn bad_lines_say_why() {
        let cases = [
            ("hello", "expected"),
            (r#"{"type":"shout","text":"x"}"#, "unknown variant"),
            (r#"{"state":"working"}"#, "missing field `type`"),
            (r#"{"type":"status","state":"done"}"#, "unknown state"),
            (r#"{"type":"status"}"#, "missing field `state`"),
            (r#"{"type":"artifact"}"#, "needs text or parts"),
            (r#"{"type":"message","parts":[]}"#, "needs text or parts"),
            (
                r#"{"type":"message","parts":[{"text":"a","url":"b"}]}"#,
                "parts[0] is not a part",
            ),
            (r#"{"type":"error"}"#, "missing field `message`"),
        ];
        for (line, want) in cases {
            let got = decode(&[line]).remove(0);
            let why = got.expect_err(line);
            assert!(why.contains(want), "{line}: {why}");
        }
    }

    #[test]
    fn the_request_line_holds_the_message_the_task_and_the_caller() {
        use harbor_distributed::{CallContext, Identity};
        let message = harbor_a2a::Message::user("m-2", [Part::text("Ada")])
            .with_task_id("t1")
            .with_context_id("c1");
        let mut task = harbor_a2a::Task::new(
            "t1",
            "c1",
            harbor_a2a::TaskStatus::new(TaskState::InputRequired),
        );
        task.history = vec![harbor_a2a::Message::user("m-1", [Part::text("hi")])];
        let ctx = RequestContext {
            message,
            task: Some(task),
            task_id: "t1".into(),
            context_id: "c1".into(),
            call: CallContext::new(Identity::new("acme", "alice", "s").expect("identity")),
            cancel: tokio_util::sync::CancellationToken::new(),
        };
        let line = request_line(&ctx).expect("a line");
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        let value: Value = serde_json::from_slice(&line).expect("JSON");
        assert_eq!(value["type"], "request");
        assert_eq!(value["version"], VERSION);
        assert_eq!(value["taskId"], "t1");
        assert_eq!(value["contextId"], "c1");
        assert_eq!(value["text"], "Ada");
        assert_eq!(value["message"]["messageId"], "m-2");
        assert_eq!(
            value["task"]["status"]["state"],
            "TASK_STATE_INPUT_REQUIRED"
        );
        assert_eq!(value["task"]["history"][0]["parts"][0]["text"], "hi");
        assert_eq!(value["caller"], json!({"tenant": "acme", "user": "alice"}));
    }
}
