//! Shared by the gRPC tests: the default handler with the conformance agent, served over
//! gRPC on `127.0.0.1:0`, a raw tonic client, and a handler that counts its open streams.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use harbor_a2a::{
    A2aError, AgentCapabilities, AgentCard, AgentInterface, AgentSkill, CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest, GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest, GetTaskRequest, ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse, ListTasksRequest, ListTasksResponse, Message, Part,
    SendMessageRequest, SendMessageResponse, SubscribeToTaskRequest, Task,
    TaskPushNotificationConfig,
};
use harbor_distributed::{A2aHandler, CallContext, HandlerStream};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::grpc::{self, GrpcConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// A card with streaming and push on.
pub fn card() -> AgentCard {
    AgentCard {
        name: "grpc".into(),
        description: "test".into(),
        version: "1".into(),
        supported_interfaces: vec![AgentInterface {
            url: "127.0.0.1:1".into(),
            protocol_binding: "GRPC".into(),
            protocol_version: "1.0".into(),
            ..AgentInterface::default()
        }],
        capabilities: Some(AgentCapabilities {
            streaming: Some(true),
            push_notifications: Some(true),
            ..AgentCapabilities::default()
        }),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        skills: vec![AgentSkill {
            id: "s".into(),
            name: "s".into(),
            description: "s".into(),
            tags: vec!["t".into()],
            ..AgentSkill::default()
        }],
        ..AgentCard::default()
    }
}

/// The default handler over the conformance agent, whose slow behaviour takes `slow`.
pub fn handler(card: AgentCard, slow: Duration) -> DefaultHandler {
    let agent = ConformanceAgent {
        resubscribe_delay: slow,
    };
    DefaultHandler::builder(card, Arc::new(agent))
        .build()
        .unwrap_or_else(|e| panic!("handler: {e}"))
}

/// A gRPC server, stopped when dropped.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.task.abort();
    }
}

/// Serves `handler` over gRPC on a fresh loopback port.
pub async fn serve(handler: Arc<dyn A2aHandler>, config: GrpcConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("address: {e}"));
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let task = tokio::spawn(async move { grpc::serve(listener, handler, &config, token).await });
    Server {
        addr,
        shutdown,
        task,
    }
}

/// A plaintext client of `server`.
pub async fn client(server: &Server) -> A2aServiceClient<Channel> {
    client_result(server)
        .await
        .unwrap_or_else(|e| panic!("connecting: {e}"))
}

/// A plaintext client of `server`, or why it could not connect.
pub async fn client_result(
    server: &Server,
) -> Result<A2aServiceClient<Channel>, tonic::transport::Error> {
    A2aServiceClient::connect(format!("http://{}", server.addr)).await
}

/// A request with the A2A service parameters as metadata.
pub fn request<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "a2a-version",
        tonic::metadata::MetadataValue::from_static("1.0"),
    );
    request
}

/// A user message with the id that picks the agent's behaviour.
pub fn send(message_id: &str) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message::user(message_id, [Part::text("hi")])),
        ..SendMessageRequest::default()
    }
}

/// Waits until `check` holds, failing after `deadline`.
pub async fn eventually<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + deadline;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A handler that counts the streams it handed out and that are still alive.
pub struct Probe {
    pub inner: Arc<dyn A2aHandler>,
    pub open: Arc<AtomicUsize>,
}

struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Probe {
    fn track(&self, stream: HandlerStream) -> HandlerStream {
        self.open.fetch_add(1, Ordering::SeqCst);
        let guard = Guard(Arc::clone(&self.open));
        stream
            .map(move |item| {
                let _alive = &guard;
                item
            })
            .boxed()
    }
}

#[async_trait]
impl A2aHandler for Probe {
    async fn send_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2aError> {
        self.inner.send_message(ctx, req).await
    }
    async fn send_streaming_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<HandlerStream, A2aError> {
        Ok(self.track(self.inner.send_streaming_message(ctx, req).await?))
    }
    async fn get_task(&self, ctx: &CallContext, req: GetTaskRequest) -> Result<Task, A2aError> {
        self.inner.get_task(ctx, req).await
    }
    async fn list_tasks(
        &self,
        ctx: &CallContext,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2aError> {
        self.inner.list_tasks(ctx, req).await
    }
    async fn cancel_task(
        &self,
        ctx: &CallContext,
        req: CancelTaskRequest,
    ) -> Result<Task, A2aError> {
        self.inner.cancel_task(ctx, req).await
    }
    async fn subscribe_to_task(
        &self,
        ctx: &CallContext,
        req: SubscribeToTaskRequest,
    ) -> Result<HandlerStream, A2aError> {
        Ok(self.track(self.inner.subscribe_to_task(ctx, req).await?))
    }
    async fn create_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.inner
            .create_task_push_notification_config(ctx, req)
            .await
    }
    async fn get_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.inner.get_task_push_notification_config(ctx, req).await
    }
    async fn list_task_push_notification_configs(
        &self,
        ctx: &CallContext,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2aError> {
        self.inner
            .list_task_push_notification_configs(ctx, req)
            .await
    }
    async fn get_extended_agent_card(
        &self,
        ctx: &CallContext,
        req: GetExtendedAgentCardRequest,
    ) -> Result<AgentCard, A2aError> {
        self.inner.get_extended_agent_card(ctx, req).await
    }
    async fn delete_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2aError> {
        self.inner
            .delete_task_push_notification_config(ctx, req)
            .await
    }
    async fn agent_card(&self) -> Result<AgentCard, A2aError> {
        self.inner.agent_card().await
    }
}
