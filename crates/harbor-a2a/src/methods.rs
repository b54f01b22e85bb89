//! The 11 RPCs of `lf.a2a.v1.A2AService` and their names on every binding.
//!
//! The JSON-RPC method name equals the gRPC method name (PascalCase); the gRPC path is
//! `/lf.a2a.v1.A2AService/<Rpc>`; the HTTP+JSON routes come from the spec's
//! `google.api.http` annotations. A test checks the table against the compiled proto so the
//! two cannot drift.

use std::fmt;
use std::str::FromStr;

use crate::{A2aError, ErrorKind};

/// The full name of the gRPC service.
pub const SERVICE_NAME: &str = "lf.a2a.v1.A2AService";

/// One RPC of the A2A service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `SendMessage`: send a message, get a task or a message back.
    SendMessage,
    /// `SendStreamingMessage`: send a message, get a stream of `StreamResponse`.
    SendStreamingMessage,
    /// `GetTask`: read a task.
    GetTask,
    /// `ListTasks`: list the caller's tasks, one page at a time.
    ListTasks,
    /// `CancelTask`: ask for a task to be canceled.
    CancelTask,
    /// `SubscribeToTask`: stream a task's updates from its current state.
    SubscribeToTask,
    /// `CreateTaskPushNotificationConfig`: register a webhook for a task.
    CreateTaskPushNotificationConfig,
    /// `GetTaskPushNotificationConfig`: read one webhook registration.
    GetTaskPushNotificationConfig,
    /// `ListTaskPushNotificationConfigs`: list a task's webhook registrations.
    ListTaskPushNotificationConfigs,
    /// `GetExtendedAgentCard`: the card for an authenticated caller.
    GetExtendedAgentCard,
    /// `DeleteTaskPushNotificationConfig`: remove a webhook registration.
    DeleteTaskPushNotificationConfig,
}

/// An HTTP verb used by the HTTP+JSON binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpVerb {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
}

impl HttpVerb {
    /// The verb as written in a request line (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for HttpVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One HTTP+JSON route: a verb and a path template relative to the interface URL.
///
/// Templates use `{name}` for a path parameter; `{id}:cancel` is a parameter followed by a
/// literal suffix in the same segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RestRoute {
    /// The HTTP verb.
    pub verb: HttpVerb,
    /// The path template, such as `/tasks/{id}:cancel`.
    pub path: &'static str,
}

impl RestRoute {
    /// The tenant-prefixed form of the path (`/{tenant}/tasks/{id}`), which every route also
    /// has; the tenant segment fills the request's `tenant` field.
    pub fn tenant_path(&self) -> String {
        format!("/{{tenant}}{}", self.path)
    }
}

const fn route(verb: HttpVerb, path: &'static str) -> RestRoute {
    RestRoute { verb, path }
}

const SEND: &[RestRoute] = &[route(HttpVerb::Post, "/message:send")];
const STREAM: &[RestRoute] = &[route(HttpVerb::Post, "/message:stream")];
const GET_TASK: &[RestRoute] = &[route(HttpVerb::Get, "/tasks/{id}")];
const LIST_TASKS: &[RestRoute] = &[route(HttpVerb::Get, "/tasks")];
const CANCEL: &[RestRoute] = &[route(HttpVerb::Post, "/tasks/{id}:cancel")];
// The proto says GET; the spec text and the conformance kit use POST. Both are served.
const SUBSCRIBE: &[RestRoute] = &[
    route(HttpVerb::Post, "/tasks/{id}:subscribe"),
    route(HttpVerb::Get, "/tasks/{id}:subscribe"),
];
const CREATE_PUSH: &[RestRoute] = &[route(
    HttpVerb::Post,
    "/tasks/{task_id}/pushNotificationConfigs",
)];
const GET_PUSH: &[RestRoute] = &[route(
    HttpVerb::Get,
    "/tasks/{task_id}/pushNotificationConfigs/{id}",
)];
const LIST_PUSH: &[RestRoute] = &[route(
    HttpVerb::Get,
    "/tasks/{task_id}/pushNotificationConfigs",
)];
const EXTENDED_CARD: &[RestRoute] = &[route(HttpVerb::Get, "/extendedAgentCard")];
const DELETE_PUSH: &[RestRoute] = &[route(
    HttpVerb::Delete,
    "/tasks/{task_id}/pushNotificationConfigs/{id}",
)];

impl Method {
    /// All 11 RPCs, in the service's order.
    pub const ALL: [Method; 11] = [
        Self::SendMessage,
        Self::SendStreamingMessage,
        Self::GetTask,
        Self::ListTasks,
        Self::CancelTask,
        Self::SubscribeToTask,
        Self::CreateTaskPushNotificationConfig,
        Self::GetTaskPushNotificationConfig,
        Self::ListTaskPushNotificationConfigs,
        Self::GetExtendedAgentCard,
        Self::DeleteTaskPushNotificationConfig,
    ];

    /// The JSON-RPC method name, which is also the gRPC method name (`SendMessage`).
    pub fn json_rpc_name(self) -> &'static str {
        match self {
            Self::SendMessage => "SendMessage",
            Self::SendStreamingMessage => "SendStreamingMessage",
            Self::GetTask => "GetTask",
            Self::ListTasks => "ListTasks",
            Self::CancelTask => "CancelTask",
            Self::SubscribeToTask => "SubscribeToTask",
            Self::CreateTaskPushNotificationConfig => "CreateTaskPushNotificationConfig",
            Self::GetTaskPushNotificationConfig => "GetTaskPushNotificationConfig",
            Self::ListTaskPushNotificationConfigs => "ListTaskPushNotificationConfigs",
            Self::GetExtendedAgentCard => "GetExtendedAgentCard",
            Self::DeleteTaskPushNotificationConfig => "DeleteTaskPushNotificationConfig",
        }
    }

    /// The gRPC method name (the same as [`Self::json_rpc_name`]).
    pub fn grpc_name(self) -> &'static str {
        self.json_rpc_name()
    }

    /// The gRPC path, `/lf.a2a.v1.A2AService/<Rpc>`.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Self::SendMessage => "/lf.a2a.v1.A2AService/SendMessage",
            Self::SendStreamingMessage => "/lf.a2a.v1.A2AService/SendStreamingMessage",
            Self::GetTask => "/lf.a2a.v1.A2AService/GetTask",
            Self::ListTasks => "/lf.a2a.v1.A2AService/ListTasks",
            Self::CancelTask => "/lf.a2a.v1.A2AService/CancelTask",
            Self::SubscribeToTask => "/lf.a2a.v1.A2AService/SubscribeToTask",
            Self::CreateTaskPushNotificationConfig => {
                "/lf.a2a.v1.A2AService/CreateTaskPushNotificationConfig"
            }
            Self::GetTaskPushNotificationConfig => {
                "/lf.a2a.v1.A2AService/GetTaskPushNotificationConfig"
            }
            Self::ListTaskPushNotificationConfigs => {
                "/lf.a2a.v1.A2AService/ListTaskPushNotificationConfigs"
            }
            Self::GetExtendedAgentCard => "/lf.a2a.v1.A2AService/GetExtendedAgentCard",
            Self::DeleteTaskPushNotificationConfig => {
                "/lf.a2a.v1.A2AService/DeleteTaskPushNotificationConfig"
            }
        }
    }

    /// The HTTP+JSON routes of this RPC (without the `/{tenant}` prefix; see
    /// [`RestRoute::tenant_path`]). SubscribeToTask has two: POST first, then GET.
    pub fn rest_routes(self) -> &'static [RestRoute] {
        match self {
            Self::SendMessage => SEND,
            Self::SendStreamingMessage => STREAM,
            Self::GetTask => GET_TASK,
            Self::ListTasks => LIST_TASKS,
            Self::CancelTask => CANCEL,
            Self::SubscribeToTask => SUBSCRIBE,
            Self::CreateTaskPushNotificationConfig => CREATE_PUSH,
            Self::GetTaskPushNotificationConfig => GET_PUSH,
            Self::ListTaskPushNotificationConfigs => LIST_PUSH,
            Self::GetExtendedAgentCard => EXTENDED_CARD,
            Self::DeleteTaskPushNotificationConfig => DELETE_PUSH,
        }
    }

    /// Whether the reply is a stream of `StreamResponse` (SSE on the HTTP bindings).
    pub fn is_streaming(self) -> bool {
        matches!(self, Self::SendStreamingMessage | Self::SubscribeToTask)
    }

    /// The proto name of the request message (`lf.a2a.v1.SendMessageRequest`).
    pub fn request_type(self) -> &'static str {
        match self {
            Self::SendMessage | Self::SendStreamingMessage => "lf.a2a.v1.SendMessageRequest",
            Self::GetTask => "lf.a2a.v1.GetTaskRequest",
            Self::ListTasks => "lf.a2a.v1.ListTasksRequest",
            Self::CancelTask => "lf.a2a.v1.CancelTaskRequest",
            Self::SubscribeToTask => "lf.a2a.v1.SubscribeToTaskRequest",
            Self::CreateTaskPushNotificationConfig => "lf.a2a.v1.TaskPushNotificationConfig",
            Self::GetTaskPushNotificationConfig => "lf.a2a.v1.GetTaskPushNotificationConfigRequest",
            Self::ListTaskPushNotificationConfigs => {
                "lf.a2a.v1.ListTaskPushNotificationConfigsRequest"
            }
            Self::GetExtendedAgentCard => "lf.a2a.v1.GetExtendedAgentCardRequest",
            Self::DeleteTaskPushNotificationConfig => {
                "lf.a2a.v1.DeleteTaskPushNotificationConfigRequest"
            }
        }
    }

    /// The proto name of the response message (of each stream item for streaming RPCs).
    pub fn response_type(self) -> &'static str {
        match self {
            Self::SendMessage => "lf.a2a.v1.SendMessageResponse",
            Self::SendStreamingMessage | Self::SubscribeToTask => "lf.a2a.v1.StreamResponse",
            Self::GetTask | Self::CancelTask => "lf.a2a.v1.Task",
            Self::ListTasks => "lf.a2a.v1.ListTasksResponse",
            Self::CreateTaskPushNotificationConfig | Self::GetTaskPushNotificationConfig => {
                "lf.a2a.v1.TaskPushNotificationConfig"
            }
            Self::ListTaskPushNotificationConfigs => {
                "lf.a2a.v1.ListTaskPushNotificationConfigsResponse"
            }
            Self::GetExtendedAgentCard => "lf.a2a.v1.AgentCard",
            Self::DeleteTaskPushNotificationConfig => "google.protobuf.Empty",
        }
    }

    /// The RPC with this JSON-RPC method name. The v0.3 names (`message/send`, ...) are not
    /// v1 names and give `None`.
    pub fn from_json_rpc_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.json_rpc_name() == name)
    }

    /// The RPC with this gRPC path.
    pub fn from_grpc_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.grpc_path() == path)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json_rpc_name())
    }
}

impl FromStr for Method {
    type Err = A2aError;

    /// Parses a JSON-RPC method name; an unknown one is a `MethodNotFound` error.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_json_rpc_name(name).ok_or_else(|| {
            A2aError::new(
                ErrorKind::MethodNotFound,
                format!("method {name:?} not found"),
            )
        })
    }
}
