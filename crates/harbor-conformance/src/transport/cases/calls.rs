//! Building requests and making calls, each bounded by the deadline.

use std::sync::Arc;

use harbor_a2a::{
    CancelTaskRequest, ErrorKind, GetTaskRequest, ListTasksRequest, ListTasksResponse, Message,
    Role, SendMessageConfiguration, SendMessageRequest, SendMessageResponse,
    SubscribeToTaskRequest, Task, send_message_response,
};
use harbor_distributed::{CallContext, Error, EventStream, Identity, Peer, RemoteTransport};

use super::wait::within;
use crate::transport::model::{text_message, unique_id};
use crate::transport::{Fixture, TransportFactory};

/// A new fixture with `agents` agents, or a panic that says why there is none.
pub(super) async fn fixture(factory: &dyn TransportFactory, agents: usize) -> Fixture {
    within("building the fixture", factory.fixture(agents))
        .await
        .unwrap_or_else(|e| panic!("the factory could not build a fixture: {e}"))
}

/// A complete identity of its own tenant, user and session.
pub(super) fn fresh_identity() -> Identity {
    identity(&unique_id("tenant"), &unique_id("user"))
}

/// A complete identity of `tenant` and `user`, in a new session.
pub(super) fn identity(tenant: &str, user: &str) -> Identity {
    Identity::new(tenant, user, unique_id("session"))
        .unwrap_or_else(|e| panic!("building a test identity: {e}"))
}

/// A user message whose id starts with `prefix` (which picks the agent's behaviour).
pub(super) fn user_message(prefix: &str) -> Message {
    text_message(Role::User, unique_id(prefix), "hello")
}

/// A user message for the existing task `task_id`.
pub(super) fn follow_up(prefix: &str, task_id: &str) -> Message {
    let mut message = user_message(prefix);
    message.task_id = task_id.to_owned();
    message
}

/// A request for `message`.
pub(super) fn send_req(message: Message) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(message),
        ..SendMessageRequest::default()
    }
}

/// A request for `message` with a configuration.
pub(super) fn send_req_with(
    message: Message,
    config: SendMessageConfiguration,
) -> SendMessageRequest {
    SendMessageRequest {
        configuration: Some(config),
        ..send_req(message)
    }
}

/// Panics unless `result` is the protocol error `kind`.
pub(super) fn expect_protocol<T: std::fmt::Debug>(
    result: Result<T, Error>,
    kind: ErrorKind,
    what: &str,
) {
    match result {
        Err(Error::Protocol(e)) if e.kind() == kind => {}
        Err(Error::Protocol(e)) => {
            panic!("{what}: expected {kind:?}, got the protocol error {e:?}")
        }
        other => panic!("{what}: expected the protocol error {kind:?}, got {other:?}"),
    }
}

/// One caller talking to one peer through the fixture's transport.
#[derive(Clone)]
pub(super) struct Client {
    pub(super) transport: Arc<dyn RemoteTransport>,
    pub(super) peer: Peer,
    pub(super) ctx: CallContext,
}

impl Client {
    /// The fixture's transport, to agent `agent`, as `identity`.
    pub(super) fn new(fx: &Fixture, agent: usize, identity: Identity) -> Self {
        Self {
            transport: Arc::clone(&fx.transport),
            peer: fx.agent(agent).peer.clone(),
            ctx: CallContext::new(identity),
        }
    }

    /// The same peer as another identity.
    pub(super) fn acting_as(&self, identity: Identity) -> Self {
        Self {
            ctx: CallContext::new(identity),
            ..self.clone()
        }
    }

    pub(super) async fn send(&self, req: SendMessageRequest) -> Result<SendMessageResponse, Error> {
        within(
            "SendMessage",
            self.transport.send_message(&self.peer, &self.ctx, req),
        )
        .await
    }

    /// Sends and expects a task back.
    pub(super) async fn send_task(&self, req: SendMessageRequest) -> Task {
        let id = req
            .message
            .as_ref()
            .map(|m| m.message_id.clone())
            .unwrap_or_default();
        match self.send(req).await {
            Ok(SendMessageResponse {
                payload: Some(send_message_response::Payload::Task(task)),
            }) => task,
            other => panic!("SendMessage({id}): expected a task, got {other:?}"),
        }
    }

    /// Starts a new task with a message of `prefix` and returns it once the agent answers.
    pub(super) async fn new_task(&self, prefix: &str) -> Task {
        self.send_task(send_req(user_message(prefix))).await
    }

    /// Sends a follow-up of `prefix` to `task_id`.
    pub(super) async fn continue_task(&self, task_id: &str, prefix: &str) -> Task {
        self.send_task(send_req(follow_up(prefix, task_id))).await
    }

    pub(super) async fn stream(&self, req: SendMessageRequest) -> EventStream {
        let opened = self
            .transport
            .send_streaming_message(&self.peer, &self.ctx, req);
        within("SendStreamingMessage", opened)
            .await
            .unwrap_or_else(|e| panic!("SendStreamingMessage was refused: {e}"))
    }

    pub(super) async fn get(&self, id: &str, history_length: Option<i32>) -> Result<Task, Error> {
        let req = GetTaskRequest {
            id: id.to_owned(),
            history_length,
            ..GetTaskRequest::default()
        };
        within(
            "GetTask",
            self.transport.get_task(&self.peer, &self.ctx, req),
        )
        .await
    }

    /// GetTask that must succeed.
    pub(super) async fn get_ok(&self, id: &str) -> Task {
        self.get(id, None)
            .await
            .unwrap_or_else(|e| panic!("GetTask({id}) failed: {e}"))
    }

    pub(super) async fn list(&self, req: ListTasksRequest) -> ListTasksResponse {
        let what = format!("ListTasks({req:?})");
        within(&what, self.transport.list_tasks(&self.peer, &self.ctx, req))
            .await
            .unwrap_or_else(|e| panic!("{what} failed: {e}"))
    }

    pub(super) async fn cancel(&self, id: &str) -> Result<Task, Error> {
        let req = CancelTaskRequest {
            id: id.to_owned(),
            ..CancelTaskRequest::default()
        };
        within(
            "CancelTask",
            self.transport.cancel_task(&self.peer, &self.ctx, req),
        )
        .await
    }

    pub(super) async fn subscribe(&self, id: &str) -> Result<EventStream, Error> {
        let req = SubscribeToTaskRequest {
            id: id.to_owned(),
            ..SubscribeToTaskRequest::default()
        };
        within(
            "SubscribeToTask",
            self.transport.subscribe_to_task(&self.peer, &self.ctx, req),
        )
        .await
    }

    /// SubscribeToTask that must succeed.
    pub(super) async fn subscribe_ok(&self, id: &str) -> EventStream {
        self.subscribe(id)
            .await
            .unwrap_or_else(|e| panic!("SubscribeToTask({id}) was refused: {e}"))
    }
}
