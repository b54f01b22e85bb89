//! A handler that hands every RPC to another, for tests that watch or adjust what a real
//! handler serves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use harbor_a2a::{
    A2aError, AgentCard, AgentInterface, CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest, GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest, GetTaskRequest, ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse, ListTasksRequest, ListTasksResponse,
    SendMessageRequest, SendMessageResponse, SubscribeToTaskRequest, Task,
    TaskPushNotificationConfig,
};
use harbor_distributed::{A2aHandler, CallContext, HandlerStream};

/// Forwards every RPC to `inner`; optionally counts the streams it handed out that are
/// still alive ([`Forward::counting_streams`]) and lists other interfaces on the public
/// card ([`Forward::listing`]).
pub struct Forward {
    inner: Arc<dyn A2aHandler>,
    open: Option<Arc<AtomicUsize>>,
    interfaces: Option<Vec<AgentInterface>>,
}

impl Forward {
    /// A handler that does what `inner` does.
    pub fn new(inner: Arc<dyn A2aHandler>) -> Self {
        Self {
            inner,
            open: None,
            interfaces: None,
        }
    }

    /// Keeps `open` at the number of streams handed out and not yet dropped.
    pub fn counting_streams(mut self, open: Arc<AtomicUsize>) -> Self {
        self.open = Some(open);
        self
    }

    /// The public card lists `interfaces` instead of the inner card's.
    pub fn listing(mut self, interfaces: Vec<AgentInterface>) -> Self {
        self.interfaces = Some(interfaces);
        self
    }

    fn track(&self, stream: HandlerStream) -> HandlerStream {
        let Some(open) = &self.open else {
            return stream;
        };
        open.fetch_add(1, Ordering::SeqCst);
        let guard = Guard(Arc::clone(open));
        stream
            .map(move |item| {
                let _alive = &guard;
                item
            })
            .boxed()
    }
}

/// Counts a stream down when the stream is dropped.
struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl A2aHandler for Forward {
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
        let mut card = self.inner.agent_card().await?;
        if let Some(interfaces) = &self.interfaces {
            card.supported_interfaces.clone_from(interfaces);
        }
        Ok(card)
    }
}
