//! Human-readable output: tasks, messages, parts and stream events as aligned text lines.
//!
//! Text parts are printed as they are; files (bytes or URLs) and data parts are summarized
//! in one bracketed line, since a terminal is no place for base64 or large JSON.

mod card;
mod push;

use harbor_a2a::part::Content;
use harbor_a2a::stream_response::Payload;
use harbor_a2a::{
    Artifact, ListTasksResponse, Message, Part, Role, StreamResponse, Task, TaskState, TaskStatus,
};

pub(crate) use card::card;
pub(crate) use push::{push_config, push_configs};

/// Width of the label column.
const LABEL: usize = 10;
/// Longest data-part JSON shown before it is cut.
const DATA_PREVIEW: usize = 200;

/// One `label  value` line; a multi-line value continues under the value column.
fn field(out: &mut Vec<String>, label: &str, value: &str) {
    let mut lines = value.lines();
    let first = lines.next().unwrap_or("");
    out.push(format!("{label:<LABEL$} {first}").trim_end().to_owned());
    for line in lines {
        out.push(format!("{:LABEL$} {line}", ""));
    }
}

/// A state's short name: `COMPLETED`, `INPUT_REQUIRED`.
pub(crate) fn state_name(state: TaskState) -> &'static str {
    let name = state.as_str_name();
    name.strip_prefix("TASK_STATE_").unwrap_or(name)
}

fn role_name(role: i32) -> &'static str {
    match Role::try_from(role) {
        Ok(Role::User) => "user",
        Ok(Role::Agent) => "agent",
        _ => "unknown role",
    }
}

/// The state of a status, with its timestamp when there is one.
fn status_line(status: &TaskStatus) -> String {
    let state = state_name(status.state());
    match status
        .timestamp
        .as_ref()
        .and_then(|t| harbor_a2a::json::format_timestamp(t).ok())
    {
        Some(at) => format!("{state}  (at {at})"),
        None => state.to_owned(),
    }
}

/// The lines of a list of parts: text as is, other parts summarized.
pub(crate) fn parts(parts: &[Part]) -> Vec<String> {
    let mut lines = Vec::new();
    for part in parts {
        match &part.content {
            Some(Content::Text(text)) => lines.extend(text.lines().map(str::to_owned)),
            Some(Content::Raw(bytes)) => {
                lines.push(file_summary(part, &format!("{} bytes", bytes.len())))
            }
            Some(Content::Url(url)) => lines.push(file_summary(part, &format!("at {url}"))),
            Some(Content::Data(_)) => {
                let json = part.data_json().map(|v| v.to_string()).unwrap_or_default();
                lines.push(format!("[data {}]", preview(&json)));
            }
            None => lines.push("[empty part]".to_owned()),
        }
    }
    lines
}

fn file_summary(part: &Part, what: &str) -> String {
    let mut facts = Vec::new();
    if !part.filename.is_empty() {
        facts.push(part.filename.clone());
    }
    if !part.media_type.is_empty() {
        facts.push(part.media_type.clone());
    }
    facts.push(what.to_owned());
    format!("[file {}]", facts.join(", "))
}

fn preview(json: &str) -> String {
    match json.char_indices().nth(DATA_PREVIEW) {
        Some((cut, _)) => format!("{}…", &json[..cut]),
        None => json.to_owned(),
    }
}

fn artifact_title(artifact: &Artifact) -> String {
    if artifact.name.is_empty() {
        artifact.artifact_id.clone()
    } else {
        format!("{} ({})", artifact.name, artifact.artifact_id)
    }
}

/// A task: id, context, state, the status message, artifacts and the history's size.
pub(crate) fn task(task: &Task) -> String {
    let mut out = Vec::new();
    field(&mut out, "task", &task.id);
    field(&mut out, "context", &task.context_id);
    match &task.status {
        Some(status) => {
            field(&mut out, "state", &status_line(status));
            if let Some(message) = &status.message {
                field(&mut out, "message", &parts(&message.parts).join("\n"));
            }
        }
        None => field(&mut out, "state", "(no status)"),
    }
    for artifact in &task.artifacts {
        let mut body = vec![artifact_title(artifact)];
        body.extend(parts(&artifact.parts));
        field(&mut out, "artifact", &body.join("\n"));
    }
    if !task.history.is_empty() {
        field(
            &mut out,
            "history",
            &format!("{} message(s)", task.history.len()),
        );
    }
    out.join("\n")
}

/// A message: id, sender, context and task, then its parts.
pub(crate) fn message(message: &Message) -> String {
    let mut out = Vec::new();
    field(
        &mut out,
        "message",
        &format!("{} from {}", message.message_id, role_name(message.role)),
    );
    if !message.context_id.is_empty() {
        field(&mut out, "context", &message.context_id);
    }
    if !message.task_id.is_empty() {
        field(&mut out, "task", &message.task_id);
    }
    field(&mut out, "text", &parts(&message.parts).join("\n"));
    out.join("\n")
}

/// One stream event as it arrives.
pub(crate) fn event(event: &StreamResponse) -> String {
    let mut out = Vec::new();
    match &event.payload {
        Some(Payload::Task(task)) => {
            let state = task
                .status
                .as_ref()
                .map_or("(no status)".to_owned(), status_line);
            field(
                &mut out,
                "[task]",
                &format!("{} context {}", task.id, task.context_id),
            );
            field(&mut out, "[status]", &state);
        }
        Some(Payload::Message(m)) => {
            let text = parts(&m.parts).join("\n");
            field(
                &mut out,
                "[message]",
                &format!("{} from {}\n{text}", m.message_id, role_name(m.role)),
            );
        }
        Some(Payload::StatusUpdate(update)) => {
            let mut body = vec![
                update
                    .status
                    .as_ref()
                    .map_or("(no status)".to_owned(), status_line),
            ];
            if let Some(message) = update.status.as_ref().and_then(|s| s.message.as_ref()) {
                body.extend(parts(&message.parts));
            }
            field(&mut out, "[status]", &body.join("\n"));
        }
        Some(Payload::ArtifactUpdate(update)) => {
            let mut title = update
                .artifact
                .as_ref()
                .map_or("(no artifact)".to_owned(), artifact_title);
            if update.append {
                title.push_str(" (appended)");
            }
            if update.last_chunk {
                title.push_str(" (last chunk)");
            }
            let mut body = vec![title];
            if let Some(artifact) = &update.artifact {
                body.extend(parts(&artifact.parts));
            }
            field(&mut out, "[artifact]", &body.join("\n"));
        }
        None => field(&mut out, "[event]", "(empty)"),
    }
    out.join("\n")
}

/// One page of tasks: a line per task, then the next page's token.
pub(crate) fn task_list(page: &ListTasksResponse) -> String {
    let mut out = Vec::new();
    for task in &page.tasks {
        let state = task
            .status
            .as_ref()
            .map_or("(no status)".to_owned(), status_line);
        out.push(format!(
            "{}  {}  context {}",
            task.id, state, task.context_id
        ));
    }
    out.push(format!(
        "{} task(s) on this page, {} in all",
        page.tasks.len(),
        page.total_size
    ));
    if !page.next_page_token.is_empty() {
        out.push(format!("next page: --page-token {}", page.next_page_token));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use harbor_a2a::{TaskArtifactUpdateEvent, TaskStatusUpdateEvent};

    use super::*;

    #[test]
    fn a_task_shows_state_message_and_artifacts() {
        let reply = Message::agent("m2", [Part::text("Hello from TCK")]);
        let mut t = Task::new(
            "t1",
            "c1",
            TaskStatus::new(TaskState::Completed).with_message(reply),
        );
        t.artifacts.push(Artifact {
            artifact_id: "a1".into(),
            name: "result".into(),
            parts: vec![
                Part::text("line one\nline two"),
                Part::raw(b"tck".to_vec())
                    .with_filename("output.txt")
                    .with_media_type("text/plain"),
                Part::data(serde_json::json!({"key": "value"})),
            ],
            ..Artifact::default()
        });
        let shown = task(&t);
        for expected in [
            "task       t1",
            "state      COMPLETED",
            "message    Hello from TCK",
            "artifact   result (a1)",
            "           line two",
            "[file output.txt, text/plain, 3 bytes]",
            r#"[data {"key":"value"}]"#,
        ] {
            assert!(
                shown.contains(expected),
                "{expected:?} missing from:\n{shown}"
            );
        }
    }

    #[test]
    fn events_name_their_kind() {
        let status = StreamResponse::from(TaskStatusUpdateEvent {
            task_id: "t1".into(),
            context_id: "c1".into(),
            status: Some(TaskStatus::new(TaskState::Working)),
            ..TaskStatusUpdateEvent::default()
        });
        assert_eq!(event(&status), "[status]   WORKING");
        let artifact = StreamResponse::from(TaskArtifactUpdateEvent {
            task_id: "t1".into(),
            context_id: "c1".into(),
            artifact: Some(Artifact {
                artifact_id: "a1".into(),
                parts: vec![Part::text("chunk")],
                ..Artifact::default()
            }),
            last_chunk: true,
            ..TaskArtifactUpdateEvent::default()
        });
        assert_eq!(
            event(&artifact),
            "[artifact] a1 (last chunk)\n           chunk"
        );
    }

    #[test]
    fn long_data_is_cut() {
        let long = "x".repeat(DATA_PREVIEW * 2);
        assert_eq!(preview(&long).chars().count(), DATA_PREVIEW + 1);
    }
}
