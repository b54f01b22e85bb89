//! How deep values and messages nest, measured without recursion (a value built in code can
//! be deeper than any stack).
//!
//! Two measures: the *depth* of a JSON-like value (lists and objects inside each other),
//! which [`Limits::max_depth`](super::Limits::max_depth) bounds at the edge, and the
//! *nesting* of a protobuf message (messages inside messages), which prost's decoder refuses
//! past its recursion limit. A `Value` list costs two messages per level (`Value`,
//! `ListValue`) and an object three (`Value`, `Struct`, the map entry), so a value that JSON
//! parses easily can be impossible to decode once stored; [`task_nesting`] is what a store
//! checks before it writes.

use pbjson_types::value::Kind;
use pbjson_types::{Struct, Value};

use crate::{Artifact, Message, Part, Task};

/// prost's decode recursion limit: a message nested deeper than this does not decode.
pub const PROST_RECURSION_LIMIT: usize = 100;

/// The deepest a stored [`Task`] may nest (see [`task_nesting`]): prost's limit less room for
/// the messages that carry a task or its parts on the wire (`StreamResponse`,
/// `SendMessageResponse`, `TaskStatusUpdateEvent`, a log record).
pub const MAX_TASK_NESTING: usize = PROST_RECURSION_LIMIT - 4;

/// The container depth of a value: 0 for a scalar, 1 for `[]` or `{}`, one more for each
/// list or object inside.
pub fn value_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, above)) = stack.pop() {
        match &value.kind {
            Some(Kind::ListValue(list)) => {
                deepest = deepest.max(above + 1);
                stack.extend(list.values.iter().map(|v| (v, above + 1)));
            }
            Some(Kind::StructValue(object)) => {
                deepest = deepest.max(above + 1);
                stack.extend(object.fields.values().map(|v| (v, above + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// The container depth of an object (at least 1: the object itself).
pub fn struct_depth(object: &Struct) -> usize {
    1 + object.fields.values().map(value_depth).max().unwrap_or(0)
}

/// The deepest message level inside a `Value` that sits at `level`.
fn value_nesting(value: &Value, level: usize) -> usize {
    let mut deepest = level;
    let mut stack: Vec<(&Value, usize)> = vec![(value, level)];
    while let Some((value, at)) = stack.pop() {
        deepest = deepest.max(at);
        match &value.kind {
            // Value → ListValue → Value.
            Some(Kind::ListValue(list)) => {
                deepest = deepest.max(at + 1);
                stack.extend(list.values.iter().map(|v| (v, at + 2)));
            }
            // Value → Struct → map entry → Value.
            Some(Kind::StructValue(object)) => {
                deepest = deepest.max(at + 1);
                if !object.fields.is_empty() {
                    deepest = deepest.max(at + 2);
                }
                stack.extend(object.fields.values().map(|v| (v, at + 3)));
            }
            _ => {}
        }
    }
    deepest
}

/// The deepest message level inside a `Struct` that sits at `level`.
fn struct_nesting(object: &Struct, level: usize) -> usize {
    if object.fields.is_empty() {
        return level;
    }
    // Struct → map entry → Value.
    object
        .fields
        .values()
        .map(|v| value_nesting(v, level + 2))
        .fold(level + 1, usize::max)
}

fn metadata_nesting(metadata: Option<&Struct>, level: usize) -> usize {
    metadata.map_or(level, |m| struct_nesting(m, level))
}

fn part_nesting(part: &Part, level: usize) -> usize {
    let data = match &part.content {
        Some(crate::part::Content::Data(value)) => value_nesting(value, level + 1),
        _ => level,
    };
    data.max(metadata_nesting(part.metadata.as_ref(), level + 1))
}

fn parts_nesting(parts: &[Part], level: usize) -> usize {
    parts
        .iter()
        .map(|p| part_nesting(p, level))
        .fold(level, usize::max)
}

/// The deepest message level inside a `Message` that sits at `level`.
pub fn message_nesting(message: &Message, level: usize) -> usize {
    parts_nesting(&message.parts, level + 1)
        .max(metadata_nesting(message.metadata.as_ref(), level + 1))
}

fn artifact_nesting(artifact: &Artifact, level: usize) -> usize {
    parts_nesting(&artifact.parts, level + 1)
        .max(metadata_nesting(artifact.metadata.as_ref(), level + 1))
}

/// How deep `task` nests as a protobuf message: 0 for a task of scalars, one more for each
/// message inside a message. prost decodes it back only up to [`PROST_RECURSION_LIMIT`];
/// stores keep at most [`MAX_TASK_NESTING`].
pub fn task_nesting(task: &Task) -> usize {
    let status = task.status.as_ref().map_or(0, |s| {
        // Task → TaskStatus (1) → Message (2); the timestamp is a leaf at 2.
        let message = s.message.as_ref().map_or(2, |m| message_nesting(m, 2));
        message.max(usize::from(s.timestamp.is_some()) * 2).max(1)
    });
    let history = task
        .history
        .iter()
        .map(|m| message_nesting(m, 1))
        .max()
        .unwrap_or(0);
    let artifacts = task
        .artifacts
        .iter()
        .map(|a| artifact_nesting(a, 1))
        .max()
        .unwrap_or(0);
    let metadata = task.metadata.as_ref().map_or(0, |m| struct_nesting(m, 1));
    status.max(history).max(artifacts).max(metadata)
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::json::json_to_value;
    use crate::{Role, TaskState, TaskStatus};

    fn nested_lists(depth: usize) -> serde_json::Value {
        (0..depth).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]))
    }

    fn nested_objects(depth: usize) -> serde_json::Value {
        (0..depth).fold(
            serde_json::json!(1),
            |inner, _| serde_json::json!({"k": inner}),
        )
    }

    fn task_with(data: serde_json::Value, in_status: bool) -> Task {
        let message = Message {
            message_id: "m".into(),
            role: Role::Agent as i32,
            parts: vec![Part::data(data)],
            ..Message::default()
        };
        let mut task = Task {
            id: "t".into(),
            status: Some(TaskStatus {
                state: TaskState::Completed as i32,
                ..TaskStatus::default()
            }),
            ..Task::default()
        };
        if in_status {
            if let Some(status) = task.status.as_mut() {
                status.message = Some(message);
            }
        } else {
            task.history.push(message);
        }
        task
    }

    #[test]
    fn depth_counts_containers() {
        assert_eq!(value_depth(&json_to_value(serde_json::json!(3))), 0);
        assert_eq!(value_depth(&json_to_value(serde_json::json!([]))), 1);
        assert_eq!(
            value_depth(&json_to_value(serde_json::json!({"a": [1, {"b": []}]}))),
            4
        );
        assert_eq!(value_depth(&json_to_value(nested_lists(500))), 500);
    }

    /// The measure agrees with prost: a task decodes exactly when it nests at most as deep
    /// as prost's limit, for lists and objects, in the history and in the status.
    #[test]
    fn nesting_predicts_what_prost_decodes() {
        for depth in 25..60 {
            for data in [nested_lists(depth), nested_objects(depth)] {
                for in_status in [false, true] {
                    let task = task_with(data.clone(), in_status);
                    let nesting = task_nesting(&task);
                    let decodes = Task::decode(task.encode_to_vec().as_slice()).is_ok();
                    assert_eq!(
                        decodes,
                        nesting <= PROST_RECURSION_LIMIT,
                        "depth {depth}, status {in_status}: nesting {nesting}"
                    );
                }
            }
        }
    }

    #[test]
    fn metadata_objects_count_too() {
        let mut task = task_with(serde_json::json!(1), false);
        let deep = crate::json::json_to_struct(
            serde_json::from_value(nested_objects(40)).expect("an object"),
        );
        task.metadata = Some(deep);
        let nesting = task_nesting(&task);
        let decodes = Task::decode(task.encode_to_vec().as_slice()).is_ok();
        assert!(nesting > PROST_RECURSION_LIMIT, "{nesting}");
        assert!(!decodes);
    }
}
