//! The 11 RPCs and `close`: each a unary call or a stream of the shared state.

use std::sync::Arc;

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

use super::{A2aTransport, Inner, call_span};
use crate::binding::{self, Ignored, Wire};
use crate::events::{EventSource, StreamKind};

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

// Opening a stream lives here, beside its two callers, rather than in the parent module:
// the stream machinery (`crate::events`) reads the shared state, so the state's own module
// does not import it back.
impl Inner {
    async fn stream<Req: Wire>(
        self: &Arc<Self>,
        peer: &Peer,
        ctx: &CallContext,
        (method, kind): (Method, StreamKind),
        req: &Req,
        task_id: Option<String>,
    ) -> Result<EventStream, Error> {
        let span = call_span(peer, method);
        let opened = async {
            self.admit(ctx)?;
            self.tracker
                .run(async {
                    let prepared = self.prepare(peer, ctx).await?;
                    let connection =
                        binding::open_stream(&self.call(&prepared, method), req, None).await?;
                    Ok((connection, prepared.card.endpoint().binding))
                })
                .await
        }
        .instrument(span.clone())
        .await;
        let (connection, binding) = opened.inspect_err(|error| {
            tracing::debug!(%error, %peer, method = method.json_rpc_name(), "stream not opened");
        })?;
        let source = EventSource::new(
            Arc::clone(self),
            peer.clone(),
            ctx.clone(),
            kind,
            binding,
            connection,
            task_id,
        );
        Ok(Box::pin(self.tracker.track(source.into_stream(span))))
    }
}
