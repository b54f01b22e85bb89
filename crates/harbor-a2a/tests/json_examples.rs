//! The JSON examples of the A2A digest (and the conformance kit's shapes): each parses and
//! writes back to its canonical ProtoJSON form, and its snake_case spelling reads the same.

mod json_support;

use std::collections::BTreeMap;

use harbor_a2a::pbjson_types::Empty;
use harbor_a2a::{
    A2aError, AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    ListTasksRequest, ListTasksResponse, Message, OAuthFlows, Part, SecurityRequirement,
    SecurityScheme, SendMessageRequest, SendMessageResponse, StreamResponse, Task,
    TaskPushNotificationConfig, TaskStatus,
};
use json_support::{agent_message, canonical, full_card, reads_as, task, user_message};
use serde_json::json;

#[test]
fn parts() {
    for part in [
        json!({"text": "hi"}),
        json!({"raw": "dGNr", "filename": "a.txt", "mediaType": "text/plain"}),
        json!({"url": "https://example.com/output.txt", "filename": "output.txt", "mediaType": "text/plain"}),
        json!({"data": {"k": 1}, "mediaType": "application/json"}),
        json!({"data": {"key": "value", "count": 42}}),
        json!({"data": [1, 2.5, "x", true, null, {"deep": [null]}]}),
        json!({"data": null}),
        json!({"text": "", "metadata": {"lang": "en"}}),
    ] {
        canonical::<Part>(part);
    }
    let part: Part = canonical(json!({"data": {"key": "value", "count": 42}}));
    assert_eq!(part.data_json(), Some(json!({"key": "value", "count": 42})));
}

#[test]
fn messages_tasks_and_responses() {
    canonical::<Message>(user_message());
    canonical::<Message>(agent_message());
    canonical::<Task>(task());
    canonical::<SendMessageResponse>(json!({"task": task()}));
    canonical::<SendMessageResponse>(json!({"message": agent_message()}));
    canonical::<TaskStatus>(json!({"state": "TASK_STATE_INPUT_REQUIRED"}));
}

#[test]
fn stream_responses() {
    canonical::<StreamResponse>(json!({"task": task()}));
    canonical::<StreamResponse>(json!({"message": agent_message()}));
    canonical::<StreamResponse>(json!({"statusUpdate": {
        "taskId": "t-1", "contextId": "c-1",
        "status": {"state": "TASK_STATE_WORKING", "timestamp": "2025-06-01T12:30:00Z"},
        "metadata": {"seq": 3}
    }}));
    canonical::<StreamResponse>(json!({"artifactUpdate": {
        "taskId": "t-1", "contextId": "c-1",
        "artifact": {"artifactId": "a-1", "parts": [{"text": "chunk-2"}]},
        "append": true, "lastChunk": true
    }}));
}

#[test]
fn requests() {
    canonical::<SendMessageRequest>(json!({
        "tenant": "acme", "message": user_message(),
        "configuration": {
            "acceptedOutputModes": ["text/plain"],
            "taskPushNotificationConfig": {"url": "http://localhost:9999/webhook", "token": "tok",
                "authentication": {"scheme": "Bearer", "credentials": "tck-test-token-1"}},
            "historyLength": 0, "returnImmediately": true
        },
        "metadata": {"k": "v"}
    }));
    canonical::<GetTaskRequest>(json!({"id": "t-1", "historyLength": 0}));
    canonical::<GetTaskRequest>(json!({"tenant": "acme", "id": "t-1"}));
    canonical::<ListTasksRequest>(json!({
        "tenant": "acme", "contextId": "c-1", "status": "TASK_STATE_WORKING", "pageSize": 10,
        "pageToken": "p", "historyLength": 3, "statusTimestampAfter": "2025-01-01T00:00:00Z",
        "includeArtifacts": false
    }));
    canonical::<ListTasksRequest>(json!({}));
    canonical::<CancelTaskRequest>(json!({"id": "t-1", "metadata": {"reason": "user"}}));
    canonical::<GetTaskPushNotificationConfigRequest>(json!({"taskId": "t-1", "id": "cfg-1"}));
    canonical::<DeleteTaskPushNotificationConfigRequest>(
        json!({"tenant": "a", "taskId": "t-1", "id": "cfg-1"}),
    );
    canonical::<ListTaskPushNotificationConfigsRequest>(
        json!({"taskId": "t-1", "pageSize": 10, "pageToken": "p"}),
    );
    canonical::<GetExtendedAgentCardRequest>(json!({}));
    canonical::<Empty>(json!({}));
}

#[test]
fn list_responses_keep_their_required_fields() {
    canonical::<ListTasksResponse>(
        json!({"tasks": [], "nextPageToken": "", "pageSize": 50, "totalSize": 0}),
    );
    canonical::<ListTasksResponse>(
        json!({"tasks": [task()], "nextPageToken": "n", "pageSize": 1, "totalSize": 7}),
    );
    let defaulted: ListTasksResponse = reads_as(
        &json!({}),
        &json!({"tasks": [], "nextPageToken": "", "pageSize": 0, "totalSize": 0}),
    );
    assert_eq!(defaulted, ListTasksResponse::default());
    canonical::<ListTaskPushNotificationConfigsResponse>(json!({
        "configs": [{"id": "cfg-1", "taskId": "t-1", "url": "https://example.com/hook"}],
        "nextPageToken": "n"
    }));
}

#[test]
fn push_config() {
    canonical::<TaskPushNotificationConfig>(json!({
        "tenant": "acme", "id": "cfg-1", "taskId": "t-1", "url": "http://localhost:9999/webhook",
        "token": "tok", "authentication": {"scheme": "Bearer", "credentials": "tck-test-token-1"}
    }));
}

#[test]
fn agent_cards() {
    canonical::<AgentCard>(full_card());
    // REQUIRED fields are written even at their default; `skills: []` above all.
    let minimal: AgentCard = reads_as(
        &json!({"name": "n"}),
        &json!({"name": "n", "description": "", "supportedInterfaces": [], "version": "",
            "defaultInputModes": [], "defaultOutputModes": [], "skills": []}),
    );
    assert_eq!(minimal.name, "n");
}

#[test]
fn security_examples() {
    canonical::<SecurityRequirement>(json!({"schemes": {"oauth": {"list": ["read", "write"]}}}));
    canonical::<BTreeMap<String, SecurityScheme>>(
        json!({"google": {"openIdConnectSecurityScheme": {
        "openIdConnectUrl": "https://accounts.google.com/.well-known/openid-configuration"}}}),
    );
    // REQUIRED `scopes` maps are written even when empty.
    canonical::<OAuthFlows>(
        json!({"clientCredentials": {"tokenUrl": "https://x/token", "scopes": {}}}),
    );
    canonical::<OAuthFlows>(
        json!({"deviceCode": {"deviceAuthorizationUrl": "https://x/device", "tokenUrl": "https://x/token", "scopes": {}}}),
    );
    canonical::<OAuthFlows>(
        json!({"authorizationCode": {"authorizationUrl": "https://x/a", "tokenUrl": "https://x/t", "refreshUrl": "https://x/r", "scopes": {}}}),
    );
    canonical::<OAuthFlows>(json!({"implicit": {"authorizationUrl": "https://x/a"}}));
    canonical::<OAuthFlows>(json!({"password": {"tokenUrl": "https://x/t", "scopes": {"s": "d"}}}));
}

#[test]
fn error_examples() {
    let json_rpc = json!({"code": -32001, "message": "task tck-nonexistent-1 not found", "data": [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "TASK_NOT_FOUND",
        "domain": "a2a-protocol.org", "metadata": {"taskId": "tck-nonexistent-1"}}]});
    let error = A2aError::from_json_rpc_error(&json_rpc).expect("an error");
    assert_eq!(error, A2aError::task_not_found("tck-nonexistent-1"));
    assert_eq!(error.to_json_rpc_error(), json_rpc);

    let rest = json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "task t not found",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "TASK_NOT_FOUND",
            "domain": "a2a-protocol.org", "metadata": {"taskId": "t"}}]}});
    let error = A2aError::from_rest_body(404, &rest);
    assert_eq!(error, A2aError::task_not_found("t"));
    assert_eq!(error.to_rest_body(), rest);
}
