//! Lenient and malformed JSON input: enum numbers, snake_case, unknown fields, offsets,
//! URL-safe base64, numeric strings and nulls all read as the canonical form; explicit
//! presence is kept, defaults are omitted, and bad input gets an error naming the field.

mod json_support;

use harbor_a2a::{
    AgentCard, Artifact, CancelTaskRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTasksRequest, ListTasksResponse, Message, Part, Task, TaskArtifactUpdateEvent, TaskStatus,
    from_json_value, to_json,
};
use json_support::{canonical, full_card, reads_as, task};
use serde_json::json;

#[test]
fn enum_numbers_are_accepted() {
    reads_as::<Message>(
        &json!({"messageId": "m", "role": 1, "parts": [{"text": "hi"}]}),
        &json!({"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "hi"}]}),
    );
    reads_as::<TaskStatus>(
        &json!({"state": 3}),
        &json!({"state": "TASK_STATE_COMPLETED"}),
    );
    reads_as::<ListTasksRequest>(
        &json!({"status": 8}),
        &json!({"status": "TASK_STATE_AUTH_REQUIRED"}),
    );
    assert!(from_json_value::<TaskStatus>(json!({"state": 42})).is_err());
    assert!(from_json_value::<TaskStatus>(json!({"state": "completed"})).is_err());
}

#[test]
fn tck_snake_case_params_are_accepted() {
    reads_as::<ListTasksRequest>(
        &json!({"context_id": "c", "page_size": 10, "page_token": "p", "history_length": 2,
            "status_timestamp_after": "2025-01-01T00:00:00Z", "include_artifacts": true}),
        &json!({"contextId": "c", "pageSize": 10, "pageToken": "p", "historyLength": 2,
            "statusTimestampAfter": "2025-01-01T00:00:00Z", "includeArtifacts": true}),
    );
    reads_as::<GetTaskPushNotificationConfigRequest>(
        &json!({"task_id": "t", "id": "c"}),
        &json!({"taskId": "t", "id": "c"}),
    );
}

#[test]
fn unknown_fields_are_ignored_and_never_written() {
    let mut input = task();
    input["kind"] = json!("task");
    input["createdAt"] = json!("2025-01-01T00:00:00Z");
    input["status"]["final"] = json!(true);
    input["history"][0]["kind"] = json!("message");
    input["history"][0]["parts"][0]["kind"] = json!("text");
    input["artifacts"][0]["future"] = json!({"nested": [1, 2]});
    reads_as::<Task>(&input, &task());

    let mut card = full_card();
    card["stateTransitionHistory"] = json!(true);
    card["capabilities"]["stateTransitionHistory"] = json!(true);
    card["url"] = json!("http://old");
    reads_as::<AgentCard>(&card, &full_card());

    reads_as::<ListTasksResponse>(
        &json!({"tasks": [], "nextPageToken": "", "pageSize": 5, "totalSize": 0, "extra": 1}),
        &json!({"tasks": [], "nextPageToken": "", "pageSize": 5, "totalSize": 0}),
    );
}

#[test]
fn lenient_scalar_forms_read_as_canonical() {
    // Offsets become UTC with `Z`.
    reads_as::<TaskStatus>(
        &json!({"state": "TASK_STATE_WORKING", "timestamp": "2025-01-01T02:00:00+02:00"}),
        &json!({"state": "TASK_STATE_WORKING", "timestamp": "2025-01-01T00:00:00Z"}),
    );
    reads_as::<TaskStatus>(
        &json!({"state": "TASK_STATE_WORKING", "timestamp": "2025-01-01T00:00:00.120+00:00"}),
        &json!({"state": "TASK_STATE_WORKING", "timestamp": "2025-01-01T00:00:00.120Z"}),
    );
    // URL-safe and unpadded base64 read; standard padded base64 written.
    reads_as::<Part>(&json!({"raw": "-_8"}), &json!({"raw": "+/8="}));
    // int32 as a numeric string.
    reads_as::<GetTaskRequest>(
        &json!({"id": "t", "historyLength": "3"}),
        &json!({"id": "t", "historyLength": 3}),
    );
    reads_as::<ListTasksRequest>(&json!({"pageSize": "20"}), &json!({"pageSize": 20}));
    // `null` means "default": the field is omitted.
    reads_as::<Part>(
        &json!({"text": "a", "filename": null, "metadata": null}),
        &json!({"text": "a"}),
    );
    reads_as::<ListTasksRequest>(
        &json!({"pageSize": null, "includeArtifacts": null, "statusTimestampAfter": null}),
        &json!({}),
    );
    // Whole numbers in metadata are written without a fraction.
    reads_as::<CancelTaskRequest>(
        &json!({"id": "t", "metadata": {"n": 1.0, "big": 1e20, "half": 0.5}}),
        &json!({"id": "t", "metadata": {"n": 1, "big": 1e20, "half": 0.5}}),
    );
}

#[test]
fn explicit_presence_is_kept() {
    let request: GetTaskRequest = canonical(json!({"id": "t", "historyLength": 0}));
    assert_eq!(request.history_length, Some(0));
    let request: GetTaskRequest = canonical(json!({"id": "t"}));
    assert_eq!(request.history_length, None);
    let request: ListTasksRequest = canonical(json!({"includeArtifacts": false, "pageSize": 0}));
    assert_eq!(
        (request.include_artifacts, request.page_size),
        (Some(false), Some(0))
    );
    let card: AgentCard = reads_as(&full_card(), &full_card());
    let capabilities = card.capabilities.expect("capabilities");
    assert_eq!(capabilities.push_notifications, Some(false));
}

#[test]
fn default_valued_fields_are_omitted() {
    let message = Message::user("m", [Part::text("x")]);
    assert_eq!(
        to_json(&message).expect("writes"),
        json!({"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "x"}]})
    );
    let event = TaskArtifactUpdateEvent {
        task_id: "t".into(),
        context_id: "c".into(),
        artifact: Some(Artifact {
            artifact_id: "a".into(),
            parts: vec![Part::text("x")],
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        to_json(&event).expect("writes"),
        json!({"taskId": "t", "contextId": "c", "artifact": {"artifactId": "a", "parts": [{"text": "x"}]}})
    );
}

#[test]
fn malformed_input_is_refused_with_a_clear_error() {
    let cases = [
        (
            json!({"parts": [{"text": "a", "raw": "dGNr"}], "messageId": "m"}),
            "only one of text, raw, url, data",
        ),
        (json!({"tasks": {}}), "ListTasksResponse.tasks"),
        (json!({"pageSize": "ten"}), "ListTasksRequest.pageSize"),
        (
            json!({"timestamp": "yesterday", "state": 1}),
            "TaskStatus.timestamp",
        ),
        (json!({"skills": "none"}), "AgentCard.skills"),
    ];
    let messages: Vec<String> = vec![
        from_json_value::<Message>(cases[0].0.clone())
            .expect_err("two members")
            .to_string(),
        from_json_value::<ListTasksResponse>(cases[1].0.clone())
            .expect_err("wrong type")
            .to_string(),
        from_json_value::<ListTasksRequest>(cases[2].0.clone())
            .expect_err("not a number")
            .to_string(),
        from_json_value::<TaskStatus>(cases[3].0.clone())
            .expect_err("bad time")
            .to_string(),
        from_json_value::<AgentCard>(cases[4].0.clone())
            .expect_err("wrong type")
            .to_string(),
    ];
    for ((_, expected), message) in cases.iter().zip(messages) {
        assert!(message.starts_with("invalid_params: "), "{message}");
        assert!(
            message.contains(expected),
            "{message} should mention {expected}"
        );
    }
}
