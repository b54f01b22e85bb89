//! One method per RPC, in the form of the caller's binding (digest §3).

use reqwest::Method as Verb;
use serde_json::{Map, Value, json};

use super::{Reply, RestBody, Rpc, encode};
use crate::server::CaseFailure;
use crate::server::sse::EventStream;

/// The members of a params object as query parameters (strings as they are, numbers and
/// bools as their JSON text).
pub(crate) fn query_of(params: &Value) -> Vec<(String, String)> {
    params
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `params` with `key` set.
fn with(params: Value, key: &str, value: &str) -> Value {
    let mut map = match params {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    map.insert(key.to_owned(), Value::String(value.to_owned()));
    Value::Object(map)
}

impl Rpc<'_> {
    fn is_json_rpc(&self) -> bool {
        self.binding() == crate::server::Binding::JsonRpc
    }

    /// `SendMessage` with a `SendMessageRequest` as JSON.
    pub async fn send_message(&self, request: Value) -> Result<Reply, CaseFailure> {
        if self.is_json_rpc() {
            self.json_rpc("SendMessage", request).await
        } else {
            self.rest(
                "SendMessage",
                Verb::POST,
                "/message:send",
                &[],
                RestBody::Json(request),
            )
            .await
        }
    }

    /// `SendStreamingMessage` with a `SendMessageRequest` as JSON.
    pub async fn stream_message(&self, request: Value) -> Result<Reply<EventStream>, CaseFailure> {
        if self.is_json_rpc() {
            self.json_rpc_stream("SendStreamingMessage", request).await
        } else {
            self.rest_stream(
                "SendStreamingMessage",
                Verb::POST,
                "/message:stream",
                RestBody::Json(request),
            )
            .await
        }
    }

    /// `GetTask` of `id`; `extra` holds more request fields (`{"historyLength": 1}`), sent
    /// in `params` or as query parameters.
    pub async fn get_task(&self, id: &str, extra: Value) -> Result<Reply, CaseFailure> {
        if self.is_json_rpc() {
            self.json_rpc("GetTask", with(extra, "id", id)).await
        } else {
            let path = format!("/tasks/{}", encode(id));
            self.rest(
                "GetTask",
                Verb::GET,
                &path,
                &query_of(&extra),
                RestBody::None,
            )
            .await
        }
    }

    /// `ListTasks` with the request's fields (`contextId`, `pageSize`, ...).
    pub async fn list_tasks(&self, params: Value) -> Result<Reply, CaseFailure> {
        if self.is_json_rpc() {
            self.json_rpc("ListTasks", params).await
        } else {
            self.rest(
                "ListTasks",
                Verb::GET,
                "/tasks",
                &query_of(&params),
                RestBody::None,
            )
            .await
        }
    }

    /// `CancelTask` of `id` (on HTTP+JSON with no body and no Content-Type).
    pub async fn cancel_task(&self, id: &str) -> Result<Reply, CaseFailure> {
        if self.is_json_rpc() {
            self.json_rpc("CancelTask", json!({"id": id})).await
        } else {
            let path = format!("/tasks/{}:cancel", encode(id));
            self.rest("CancelTask", Verb::POST, &path, &[], RestBody::None)
                .await
        }
    }

    /// `SubscribeToTask` of `id` (on HTTP+JSON a POST with an empty `application/json` body).
    pub async fn subscribe(&self, id: &str) -> Result<Reply<EventStream>, CaseFailure> {
        if self.is_json_rpc() {
            self.json_rpc_stream("SubscribeToTask", json!({"id": id}))
                .await
        } else {
            let path = format!("/tasks/{}:subscribe", encode(id));
            self.rest_stream("SubscribeToTask", Verb::POST, &path, RestBody::EmptyJson)
                .await
        }
    }

    /// `CreateTaskPushNotificationConfig` for `task_id` with `config` (without `taskId`).
    pub async fn create_push(&self, task_id: &str, config: Value) -> Result<Reply, CaseFailure> {
        let rpc = "CreateTaskPushNotificationConfig";
        if self.is_json_rpc() {
            self.json_rpc(rpc, with(config, "taskId", task_id)).await
        } else {
            let path = format!("/tasks/{}/pushNotificationConfigs", encode(task_id));
            self.rest(rpc, Verb::POST, &path, &[], RestBody::Json(config))
                .await
        }
    }

    /// `GetTaskPushNotificationConfig`.
    pub async fn get_push(&self, task_id: &str, id: &str) -> Result<Reply, CaseFailure> {
        let rpc = "GetTaskPushNotificationConfig";
        if self.is_json_rpc() {
            self.json_rpc(rpc, json!({"taskId": task_id, "id": id}))
                .await
        } else {
            let path = format!(
                "/tasks/{}/pushNotificationConfigs/{}",
                encode(task_id),
                encode(id)
            );
            self.rest(rpc, Verb::GET, &path, &[], RestBody::None).await
        }
    }

    /// `ListTaskPushNotificationConfigs`.
    pub async fn list_push(&self, task_id: &str) -> Result<Reply, CaseFailure> {
        let rpc = "ListTaskPushNotificationConfigs";
        if self.is_json_rpc() {
            self.json_rpc(rpc, json!({"taskId": task_id})).await
        } else {
            let path = format!("/tasks/{}/pushNotificationConfigs", encode(task_id));
            self.rest(rpc, Verb::GET, &path, &[], RestBody::None).await
        }
    }

    /// `DeleteTaskPushNotificationConfig`.
    pub async fn delete_push(&self, task_id: &str, id: &str) -> Result<Reply, CaseFailure> {
        let rpc = "DeleteTaskPushNotificationConfig";
        if self.is_json_rpc() {
            self.json_rpc(rpc, json!({"taskId": task_id, "id": id}))
                .await
        } else {
            let path = format!(
                "/tasks/{}/pushNotificationConfigs/{}",
                encode(task_id),
                encode(id)
            );
            self.rest(rpc, Verb::DELETE, &path, &[], RestBody::None)
                .await
        }
    }

    /// `GetExtendedAgentCard` (JSON-RPC with `params: {}`).
    pub async fn extended_card(&self) -> Result<Reply, CaseFailure> {
        if self.is_json_rpc() {
            self.json_rpc("GetExtendedAgentCard", json!({})).await
        } else {
            self.rest(
                "GetExtendedAgentCard",
                Verb::GET,
                "/extendedAgentCard",
                &[],
                RestBody::None,
            )
            .await
        }
    }
}
