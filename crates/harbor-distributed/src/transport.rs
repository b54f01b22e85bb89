//! Calling A2A agents in other processes, and serving calls: the two sides of one contract.
//!
//! [`RemoteTransport`] is the caller's side: the 11 A2A RPCs plus `close`, each naming the
//! [`Peer`] it goes to. [`A2aHandler`] is the serving side, implemented by the A2A server
//! and hosted by every transport (the loopback driver calls it in process).

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use futures::stream::BoxStream;
use harbor_a2a::{
    A2aError, AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    ListTasksRequest, ListTasksResponse, SendMessageRequest, SendMessageResponse, StreamResponse,
    SubscribeToTaskRequest, Task, TaskPushNotificationConfig,
};

use crate::{Error, Identity};

/// The A2A protocol version this crate speaks.
pub const A2A_VERSION: &str = "1.0";

/// A remote agent: the URL of its card or endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    url: String,
}

impl Peer {
    /// A peer at `url`. The URL is compared as written, less one trailing slash.
    pub fn new(url: impl Into<String>) -> Self {
        let mut url = url.into();
        if url.len() > 1 && url.ends_with('/') {
            url.pop();
        }
        Self { url }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// What travels with every call besides its request: who calls and the service parameters.
///
/// On the serving side the identity comes from authentication, never from headers the
/// caller chose. `Debug` shows header names only, since they may carry credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct CallContext {
    /// Who the call acts for.
    pub identity: Identity,
    /// The `A2A-Version` service parameter (`None` when absent).
    pub version: Option<String>,
    /// The `A2A-Extensions` the caller declared.
    pub extensions: Vec<String>,
    /// Other request headers or metadata, lower-case keys.
    pub headers: BTreeMap<String, String>,
}

impl CallContext {
    /// A context for `identity` speaking [`A2A_VERSION`], with no extensions or headers.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            version: Some(A2A_VERSION.to_owned()),
            extensions: Vec::new(),
            headers: BTreeMap::new(),
        }
    }

    /// Declares an extension.
    #[must_use]
    pub fn with_extension(mut self, uri: impl Into<String>) -> Self {
        self.extensions.push(uri.into());
        self
    }

    /// The `Last-Event-ID` of a resumed stream (the HTTP header, or gRPC metadata of that
    /// name): the sequence of the last event the caller has, as it sent it.
    pub fn last_event_id(&self) -> Option<&str> {
        self.headers.get(LAST_EVENT_ID).map(String::as_str)
    }
}

/// The header (HTTP) or metadata key (gRPC) naming the last event a resuming stream has.
pub const LAST_EVENT_ID: &str = "last-event-id";

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("identity", &self.identity)
            .field("version", &self.version)
            .field("extensions", &self.extensions)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The events of a streaming call. It ends after a terminal state (or a direct message);
/// dropping it ends the call.
pub type EventStream = BoxStream<'static, Result<StreamResponse, Error>>;

/// The events a handler produces for a streaming call.
pub type HandlerStream = BoxStream<'static, Result<StreamEvent, A2aError>>;

/// One event of a handler's stream, with its place in the task's log when it has one.
///
/// The HTTP bindings send `sequence` as the SSE `id:`, so a client that lost the stream
/// resumes after it with `Last-Event-ID` ([`CallContext::last_event_id`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// The event.
    pub event: StreamResponse,
    /// Its sequence in the task's event log; `None` for an event that is not a log entry
    /// (a direct message answering a send) or from a handler that keeps no log.
    pub sequence: Option<u64>,
}

impl StreamEvent {
    /// `event` at `sequence` of its task's log.
    pub fn logged(event: StreamResponse, sequence: u64) -> Self {
        Self {
            event,
            sequence: Some(sequence),
        }
    }
}

impl From<StreamResponse> for StreamEvent {
    /// An event with no log position.
    fn from(event: StreamResponse) -> Self {
        Self {
            event,
            sequence: None,
        }
    }
}

/// The serving side of A2A: one method per RPC.
///
/// Implementations get a [`CallContext`] whose identity is already validated.
#[async_trait]
pub trait A2aHandler: Send + Sync + 'static {
    /// `SendMessage`.
    async fn send_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2aError>;
    /// `SendStreamingMessage`. Errors found before the first event are returned here.
    async fn send_streaming_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<HandlerStream, A2aError>;
    /// `GetTask`.
    async fn get_task(&self, ctx: &CallContext, req: GetTaskRequest) -> Result<Task, A2aError>;
    /// `ListTasks`.
    async fn list_tasks(
        &self,
        ctx: &CallContext,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2aError>;
    /// `CancelTask`.
    async fn cancel_task(
        &self,
        ctx: &CallContext,
        req: CancelTaskRequest,
    ) -> Result<Task, A2aError>;
    /// `SubscribeToTask`. Errors found before the first event are returned here.
    async fn subscribe_to_task(
        &self,
        ctx: &CallContext,
        req: SubscribeToTaskRequest,
    ) -> Result<HandlerStream, A2aError>;
    /// `CreateTaskPushNotificationConfig`.
    async fn create_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError>;
    /// `GetTaskPushNotificationConfig`.
    async fn get_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2aError>;
    /// `ListTaskPushNotificationConfigs`.
    async fn list_task_push_notification_configs(
        &self,
        ctx: &CallContext,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2aError>;
    /// `GetExtendedAgentCard`.
    async fn get_extended_agent_card(
        &self,
        ctx: &CallContext,
        req: GetExtendedAgentCardRequest,
    ) -> Result<AgentCard, A2aError>;
    /// `DeleteTaskPushNotificationConfig`.
    async fn delete_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2aError>;
    /// The public agent card.
    async fn agent_card(&self) -> Result<AgentCard, A2aError>;
}

/// The calling side of A2A: one method per RPC plus `close`; every call names its peer.
///
/// A call whose context lacks a complete identity fails with [`Error::IdentityRequired`]
/// before anything is sent. Protocol errors of the peer come back as [`Error::Protocol`].
#[async_trait]
pub trait RemoteTransport: Send + Sync + 'static {
    /// `SendMessage`: a task or a direct message.
    async fn send_message(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, Error>;
    /// `SendStreamingMessage`.
    async fn send_streaming_message(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<EventStream, Error>;
    /// `GetTask`.
    async fn get_task(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: GetTaskRequest,
    ) -> Result<Task, Error>;
    /// `ListTasks`: one page, with its `next_page_token`.
    async fn list_tasks(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, Error>;
    /// `CancelTask`: the task as it is after the cancel.
    async fn cancel_task(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: CancelTaskRequest,
    ) -> Result<Task, Error>;
    /// `SubscribeToTask`.
    async fn subscribe_to_task(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: SubscribeToTaskRequest,
    ) -> Result<EventStream, Error>;
    /// `CreateTaskPushNotificationConfig`.
    async fn create_task_push_notification_config(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, Error>;
    /// `GetTaskPushNotificationConfig`.
    async fn get_task_push_notification_config(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, Error>;
    /// `ListTaskPushNotificationConfigs`.
    async fn list_task_push_notification_configs(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, Error>;
    /// `GetExtendedAgentCard`.
    async fn get_extended_agent_card(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: GetExtendedAgentCardRequest,
    ) -> Result<AgentCard, Error>;
    /// `DeleteTaskPushNotificationConfig`.
    async fn delete_task_push_notification_config(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), Error>;
    /// Cancels every open call and stream, within a bounded time. Idempotent; later calls
    /// fail with [`Error::Closed`].
    async fn close(&self) -> Result<(), Error>;
}
