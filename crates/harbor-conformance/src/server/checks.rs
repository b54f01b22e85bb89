//! Rules every JSON document from the server must follow (digest §2), and small readers
//! of the JSON the cases look at.

use serde_json::Value;

/// Checks the serialization rules on a whole response body: no snake_case keys, no v0.3
/// `kind` members, every `timestamp` an RFC 3339 UTC time ending in `Z`. The error names
/// the JSON path of the first offence.
pub fn wire_rules(value: &Value) -> Result<(), String> {
    walk(value, &mut String::from("$"))
}

fn walk(value: &Value, path: &mut String) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                if key.contains('_') {
                    return Err(format!(
                        "snake_case key at {path} (ProtoJSON output is camelCase)"
                    ));
                }
                if key == "kind" {
                    return Err(format!(
                        "v0.3 `kind` member at {path} (v1 has no kind fields)"
                    ));
                }
                if key == "timestamp" {
                    let text = member.as_str().unwrap_or_default();
                    if !is_utc_timestamp(text) {
                        return Err(format!(
                            "timestamp at {path} is {member}, want YYYY-MM-DDTHH:MM:SS[.frac]Z"
                        ));
                    }
                }
                walk(member, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether `text` matches `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`.
pub fn is_utc_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let head = digits(0..4)
        && at(4, b'-')
        && digits(5..7)
        && at(7, b'-')
        && digits(8..10)
        && at(10, b'T')
        && digits(11..13)
        && at(13, b':')
        && digits(14..16)
        && at(16, b':')
        && digits(17..19);
    if !head {
        return false;
    }
    match &b[19..] {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// Whether two JSON values are the same document, numbers compared by value (ProtoJSON
/// `Value` numbers are doubles: `42` and `42.0` are the same number).
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Every `timestamp` string in `value`.
pub fn timestamps(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_timestamps(value, &mut found);
    found
}

fn collect_timestamps(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                if key == "timestamp" {
                    found.push(member.as_str().unwrap_or_default().to_owned());
                }
                collect_timestamps(member, found);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_timestamps(item, found)),
        _ => {}
    }
}

/// The string at a JSON pointer, or `""`.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The `status.state` of a task.
pub fn state_of(task: &Value) -> &str {
    str_at(task, "/status/state")
}

/// The text parts of a message or artifact, joined.
pub fn text_of(parts_owner: &Value) -> String {
    parts_owner
        .get("parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("")
        })
        .unwrap_or_default()
}

/// The `history` of a task (empty when absent).
pub fn history_of(task: &Value) -> &[Value] {
    task.get("history")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The message ids in a task's history, in order.
pub fn history_ids(task: &Value) -> Vec<&str> {
    history_of(task)
        .iter()
        .map(|m| str_at(m, "/messageId"))
        .collect()
}

/// Whether a task state is terminal (COMPLETED, FAILED, CANCELED, REJECTED).
pub fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "TASK_STATE_COMPLETED"
            | "TASK_STATE_FAILED"
            | "TASK_STATE_CANCELED"
            | "TASK_STATE_REJECTED"
    )
}

/// The order of a state in a task's life: states within a stream never go down. Working
/// and interrupted share a rank, since a follow-up moves an interrupted task back to work.
pub fn state_rank(state: &str) -> Option<u8> {
    match state {
        "TASK_STATE_SUBMITTED" => Some(1),
        "TASK_STATE_WORKING" | "TASK_STATE_INPUT_REQUIRED" | "TASK_STATE_AUTH_REQUIRED" => Some(2),
        s if is_terminal(s) => Some(3),
        _ => None,
    }
}

/// The name of the one member of a `StreamResponse` (or `SendMessageResponse`).
pub fn payload_kind(response: &Value) -> Result<&str, String> {
    let object = response
        .as_object()
        .ok_or_else(|| format!("not a JSON object: {response}"))?;
    let known = ["task", "message", "statusUpdate", "artifactUpdate"];
    let members: Vec<&str> = object.keys().map(String::as_str).collect();
    match members.as_slice() {
        [one] if known.contains(one) => Ok(one),
        _ => Err(format!(
            "want exactly one of task, message, statusUpdate, artifactUpdate; got members {members:?}"
        )),
    }
}

/// The state an event reports: a task's state or a status update's state.
pub fn event_state(event: &Value) -> Option<&str> {
    event
        .pointer("/task/status/state")
        .or_else(|| event.pointer("/statusUpdate/status/state"))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn timestamps_must_be_utc_with_z() {
        assert!(is_utc_timestamp("2026-01-02T03:04:05Z"));
        assert!(is_utc_timestamp("2026-01-02T03:04:05.123Z"));
        assert!(!is_utc_timestamp("2026-01-02T03:04:05+00:00"));
        assert!(!is_utc_timestamp("2026-01-02T03:04:05.Z"));
        assert!(!is_utc_timestamp("2026-01-02 03:04:05Z"));
        assert!(!is_utc_timestamp(""));
    }

    #[test]
    fn wire_rules_name_the_path() {
        let bad =
            json!({"task": {"status": {"state": "x", "timestamp": "2026-01-02T03:04:05+01:00"}}});
        let err = wire_rules(&bad).expect_err("an offset timestamp");
        assert!(err.contains("$.task.status.timestamp"), "{err}");
        let snake = json!({"tasks": [{"context_id": "c"}]});
        assert!(
            wire_rules(&snake)
                .expect_err("snake")
                .contains("$.tasks[0].context_id")
        );
        assert!(wire_rules(&json!({"parts": [{"kind": "text"}]})).is_err());
        assert!(
            wire_rules(&json!({"statusUpdate": {"status": {"timestamp": "2026-01-02T03:04:05Z"}}}))
                .is_ok()
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(same_json(
            &json!({"count": 42, "k": [1]}),
            &json!({"count": 42.0, "k": [1.0]})
        ));
        assert!(!same_json(&json!({"count": 42}), &json!({"count": 43})));
        assert!(!same_json(
            &json!({"count": 42}),
            &json!({"count": 42, "extra": 1})
        ));
    }

    #[test]
    fn payload_kind_wants_exactly_one_member() {
        assert_eq!(payload_kind(&json!({"task": {}})), Ok("task"));
        assert!(payload_kind(&json!({"task": {}, "message": {}})).is_err());
        assert!(payload_kind(&json!({"final": true})).is_err());
    }
}
