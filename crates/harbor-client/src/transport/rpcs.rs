//! The 11 RPCs and `close`: each a unary call or a stream of the shared state.

use async_trait::async_trait;
use harbor_a2a::{
    AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    ListTasksRequest, ListTasksResponse, Method, SendMessageRequest, SendMessageResponse,
    SubscribeToTaskRequest, Task, TaskPushNotificationConfig,
};
use harbor_distributed::{CallContext, Error, EventStream, Peer, RemoteTransport};
use tracing::Instrument;

use super::A2aTransport;
use crate::binding::Ignored;
use crate::events::StreamKind;

#[async_trait]
impl RemoteTransport for A2aTransport {
    async fn send_message(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, Error> {
        self.inner.unary(peer, ctx, Method::SendMessage, &req).await
    }

    async fn send_streaming_message(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<EventStream, Error> {
        let task_id = req
            .message
            .as_ref()
            .map(|m| m.task_id.clone())
            .filter(|id| !id.is_empty());
        let method = (Method::SendStreamingMessage, StreamKind::Send);
        self.inner.stream(peer, ctx, method, &req, task_id).await
    }

    async fn get_task(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: GetTaskRequest,
    ) -> Result<Task, Error> {
        self.inner.unary(peer, ctx, Method::GetTask, &req).await
    }

    async fn list_tasks(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, Error> {
        self.inner.unary(peer, ctx, Method::ListTasks, &req).await
    }

    async fn cancel_task(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: CancelTaskRequest,
    ) -> Result<Task, Error> {
        self.inner.unary(peer, ctx, Method::CancelTask, &req).await
    }

    async fn subscribe_to_task(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: SubscribeToTaskRequest,
    ) -> Result<EventStream, Error> {
        let task_id = Some(req.id.clone()).filter(|id| !id.is_empty());
        let method = (Method::SubscribeToTask, StreamKind::Subscribe);
        self.inner.stream(peer, ctx, method, &req, task_id).await
    }

    async fn create_task_push_notification_config(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, Error> {
        let method = Method::CreateTaskPushNotificationConfig;
        self.inner.unary(peer, ctx, method, &req).await
    }

    async fn get_task_push_notification_config(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, Error> {
        let method = Method::GetTaskPushNotificationConfig;
        self.inner.unary(peer, ctx, method, &req).await
    }

    async fn list_task_push_notification_configs(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, Error> {
        let method = Method::ListTaskPushNotificationConfigs;
        self.inner.unary(peer, ctx, method, &req).await
    }

    async fn get_extended_agent_card(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: GetExtendedAgentCardRequest,
    ) -> Result<AgentCard, Error> {
        self.inner
            .unary(peer, ctx, Method::GetExtendedAgentCard, &req)
            .await
    }

    async fn delete_task_push_notification_config(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), Error> {
        let method = Method::DeleteTaskPushNotificationConfig;
        let Ignored = self.inner.unary(peer, ctx, method, &req).await?;
        Ok(())
    }

    /// Fails calls in flight with [`Error::Closed`], ends open streams (dropping their
    /// connections), and waits for both to unwind within
    /// [`ClientConfig::close_deadline`](crate::ClientConfig::close_deadline); past it, [`Error::Timeout`]. Idempotent.
    async fn close(&self) -> Result<(), Error> {
        let span = tracing::info_span!("a2a.close", transport = "a2a");
        async {
            self.inner.tracker.close();
            self.inner
                .tracker
                .wait_idle(self.inner.config.close_deadline)
                .await
        }
        .instrument(span)
        .await
    }
}
