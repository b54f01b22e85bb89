//! The validation rules: every request type, tasks and stream events, and the field paths.

mod validate_support;

use harbor_a2a::{
    CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest, GetTaskRequest, ListTaskPushNotificationConfigsRequest,
    ListTasksRequest, Message, Part, SendMessageRequest, StreamResponse, SubscribeToTaskRequest,
    Task, TaskPushNotificationConfig, Validate,
};
use serde_json::{Value, json};
use validate_support::problem;

fn msg() -> Value {
    json!({"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]})
}

fn send(message: Value) -> Value {
    json!({"message": message})
}

#[test]
fn send_message_requests() {
    assert_eq!(problem::<SendMessageRequest>(send(msg())), None);
    let cases = [
        (json!({}), "message: is required"),
        (
            send(json!({"role": "ROLE_USER", "parts": [{"text": "x"}]})),
            "message.messageId: is required and must not be empty",
        ),
        (
            send(json!({"messageId": "m", "parts": [{"text": "x"}]})),
            "message.role: is required (ROLE_UNSPECIFIED is not a role)",
        ),
        (
            send(json!({"messageId": "m", "role": "ROLE_USER"})),
            "message.parts: must have at least one element",
        ),
        (
            send(json!({"messageId": "m", "role": "ROLE_USER", "parts": []})),
            "message.parts: must have at least one element",
        ),
        (
            send(json!({"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "a"}, {}]})),
            "message.parts[1]: exactly one of text, raw, url, data must be set",
        ),
        (
            send(
                json!({"messageId": "m", "role": "ROLE_USER", "parts": [{"mediaType": "text/plain"}]}),
            ),
            "message.parts[0]: exactly one of text, raw, url, data must be set",
        ),
        (
            json!({"message": msg(), "configuration": {"historyLength": -1}}),
            "configuration.historyLength: must not be negative, got -1",
        ),
        (
            json!({"message": msg(), "configuration": {"taskPushNotificationConfig": {"token": "t"}}}),
            "configuration.taskPushNotificationConfig.url: is required and must not be empty",
        ),
        (
            json!({"message": msg(), "configuration": {"taskPushNotificationConfig": {"url": "https://u", "authentication": {}}}}),
            "configuration.taskPushNotificationConfig.authentication.scheme: is required and must not be empty",
        ),
        (
            json!({"message": msg(), "configuration": {"taskPushNotificationConfig": {"url": "file:///etc/passwd"}}}),
            "configuration.taskPushNotificationConfig.url: must be an http or https URL, not \"file\"",
        ),
        (
            json!({"message": {"messageId": "m", "role": "ROLE_AGENT", "parts": [{"text": "hi"}]}}),
            "message.role: a message sent to an agent must have role ROLE_USER",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            problem::<SendMessageRequest>(input.clone()).as_deref(),
            Some(expected),
            "{input}"
        );
    }
    // Empty text and JSON null data are set members.
    for part in [
        json!({"text": ""}),
        json!({"data": null}),
        json!({"raw": ""}),
        json!({"url": "u"}),
    ] {
        let message = json!({"messageId": "m", "role": "ROLE_USER", "parts": [part]});
        assert_eq!(problem::<SendMessageRequest>(send(message)), None);
    }
    assert_eq!(
        problem::<SendMessageRequest>(
            json!({"message": msg(), "configuration": {"historyLength": 0}})
        ),
        None
    );
}

#[test]
fn id_requests() {
    assert_eq!(problem::<GetTaskRequest>(json!({"id": "t"})), None);
    assert_eq!(
        problem::<GetTaskRequest>(json!({"id": "t", "historyLength": 0})),
        None
    );
    assert_eq!(
        problem::<GetTaskRequest>(json!({})).as_deref(),
        Some("id: is required and must not be empty")
    );
    assert_eq!(
        problem::<GetTaskRequest>(json!({"id": "t", "historyLength": -5})).as_deref(),
        Some("historyLength: must not be negative, got -5")
    );
    assert_eq!(problem::<CancelTaskRequest>(json!({"id": "t"})), None);
    assert_eq!(
        problem::<CancelTaskRequest>(json!({"metadata": {}})).as_deref(),
        Some("id: is required and must not be empty")
    );
    assert_eq!(problem::<SubscribeToTaskRequest>(json!({"id": "t"})), None);
    assert_eq!(
        problem::<SubscribeToTaskRequest>(json!({"tenant": "x"})).as_deref(),
        Some("id: is required and must not be empty")
    );
    assert_eq!(problem::<GetExtendedAgentCardRequest>(json!({})), None);
}

#[test]
fn list_tasks_ranges() {
    for ok in [
        json!({}),
        json!({"pageSize": 1}),
        json!({"pageSize": 100}),
        json!({"historyLength": 0}),
        json!({"status": "TASK_STATE_UNSPECIFIED"}),
        json!({"statusTimestampAfter": "2025-01-01T00:00:00Z"}),
    ] {
        assert_eq!(problem::<ListTasksRequest>(ok.clone()), None, "{ok}");
    }
    for (size, got) in [(0, "0"), (101, "101"), (-1, "-1")] {
        assert_eq!(
            problem::<ListTasksRequest>(json!({"pageSize": size})),
            Some(format!("pageSize: must be between 1 and 100, got {got}"))
        );
    }
    assert_eq!(
        problem::<ListTasksRequest>(json!({"historyLength": -1})).as_deref(),
        Some("historyLength: must not be negative, got -1")
    );
    let unknown = ListTasksRequest {
        status: 42,
        ..Default::default()
    };
    assert_eq!(
        unknown.validate().expect_err("unknown").message(),
        "status: unknown task state 42"
    );
}

#[test]
fn push_config_requests() {
    assert_eq!(
        problem::<TaskPushNotificationConfig>(json!({"url": "https://x"})),
        None
    );
    assert_eq!(
        problem::<TaskPushNotificationConfig>(json!({"taskId": "t"})).as_deref(),
        Some("url: is required and must not be empty")
    );
    for (input, expected) in [
        (
            json!({"id": "c"}),
            Some("taskId: is required and must not be empty"),
        ),
        (
            json!({"taskId": "t"}),
            Some("id: is required and must not be empty"),
        ),
        (json!({"taskId": "t", "id": "c"}), None),
    ] {
        assert_eq!(
            problem::<GetTaskPushNotificationConfigRequest>(input.clone()).as_deref(),
            expected
        );
        assert_eq!(
            problem::<DeleteTaskPushNotificationConfigRequest>(input).as_deref(),
            expected
        );
    }
    assert_eq!(
        problem::<ListTaskPushNotificationConfigsRequest>(json!({"taskId": "t", "pageSize": 0})),
        None
    );
    assert_eq!(
        problem::<ListTaskPushNotificationConfigsRequest>(json!({"taskId": "t", "pageSize": -1}))
            .as_deref(),
        Some("pageSize: must not be negative, got -1")
    );
    assert_eq!(
        problem::<ListTaskPushNotificationConfigsRequest>(json!({})).as_deref(),
        Some("taskId: is required and must not be empty")
    );
}

#[test]
fn tasks_and_stream_events() {
    let task = json!({"id": "t", "status": {"state": "TASK_STATE_WORKING"}});
    assert_eq!(problem::<Task>(task.clone()), None);
    let cases = [
        (
            json!({"status": {"state": 1}}),
            "task.id: is required and must not be empty",
        ),
        (json!({"id": "t"}), "task.status: is required"),
        (
            json!({"id": "t", "status": {}}),
            "task.status.state: is required (TASK_STATE_UNSPECIFIED is not a state)",
        ),
        (
            json!({"id": "t", "status": {"state": 2, "message": {"messageId": "m", "role": 2, "parts": [{}]}}}),
            "task.status.message.parts[0]: exactly one of text, raw, url, data must be set",
        ),
        (
            json!({"id": "t", "status": {"state": 2}, "artifacts": [{"parts": [{"text": "x"}]}]}),
            "task.artifacts[0].artifactId: is required and must not be empty",
        ),
        (
            json!({"id": "t", "status": {"state": 2}, "artifacts": [{"artifactId": "a"}]}),
            "task.artifacts[0].parts: must have at least one element",
        ),
        (
            json!({"id": "t", "status": {"state": 2}, "history": [msg(), {"messageId": "m"}]}),
            "task.history[1].role: is required (ROLE_UNSPECIFIED is not a role)",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            problem::<Task>(input.clone()).as_deref(),
            Some(expected),
            "{input}"
        );
    }
    let stream_cases = [
        (
            json!({}),
            Some("exactly one of task, message, statusUpdate, artifactUpdate must be set"),
        ),
        (json!({"task": task}), None),
        (json!({"message": msg()}), None),
        (
            json!({"statusUpdate": {"taskId": "t", "contextId": "c", "status": {"state": 3}}}),
            None,
        ),
        (
            json!({"statusUpdate": {"taskId": "t", "status": {"state": 3}}}),
            Some("statusUpdate.contextId: is required and must not be empty"),
        ),
        (
            json!({"statusUpdate": {"taskId": "t", "contextId": "c"}}),
            Some("statusUpdate.status: is required"),
        ),
        (
            json!({"artifactUpdate": {"contextId": "c", "artifact": {"artifactId": "a", "parts": [{"text": "x"}]}}}),
            Some("artifactUpdate.taskId: is required and must not be empty"),
        ),
        (
            json!({"artifactUpdate": {"taskId": "t", "contextId": "c"}}),
            Some("artifactUpdate.artifact: is required"),
        ),
    ];
    for (input, expected) in stream_cases {
        assert_eq!(
            problem::<StreamResponse>(input.clone()).as_deref(),
            expected,
            "{input}"
        );
    }
}

#[test]
fn nested_types_name_themselves() {
    let part = Part::default();
    assert_eq!(
        part.validate().expect_err("empty").message(),
        "part: exactly one of text, raw, url, data must be set"
    );
    let message = Message::user("m", []);
    assert_eq!(
        message.validate().expect_err("no parts").message(),
        "message.parts: must have at least one element"
    );
    let nan = Part {
        content: Some(harbor_a2a::part::Content::Data(
            harbor_a2a::pbjson_types::Value::from(vec![f64::NAN.into()]),
        )),
        ..Default::default()
    };
    assert_eq!(
        nan.validate().expect_err("NaN").message(),
        "part.data[0]: numbers must be finite, got NaN"
    );
}
