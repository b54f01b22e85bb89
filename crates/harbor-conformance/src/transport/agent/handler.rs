//! The agent's A2A surface: every RPC, each recorded with the identity it arrived with.

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream;
use harbor_a2a::{
    A2aError, AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, ErrorKind,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    ListTasksRequest, ListTasksResponse, SendMessageRequest, SendMessageResponse, StreamResponse,
    SubscribeToTaskRequest, Task, TaskPushNotificationConfig, TaskState, send_message_response,
    stream_response,
};
use harbor_distributed::{A2aHandler, CallContext, HandlerStream};

use super::work::Started;
use super::{ConformanceAgent, Gauge, card, list, push};
use crate::transport::model::{is_terminal, with_history};

fn message_ids(req: &SendMessageRequest) -> (Option<&str>, Option<&str>) {
    let message = req.message.as_ref();
    (
        message.map(|m| m.message_id.as_str()),
        message.map(|m| m.task_id.as_str()),
    )
}

fn history_limit(limit: Option<i32>) -> Result<Option<i32>, A2aError> {
    match limit {
        Some(n) if n < 0 => Err(A2aError::invalid_params(
            "historyLength must not be negative",
        )),
        other => Ok(other),
    }
}

impl ConformanceAgent {
    /// A stream that counts as open until it is dropped.
    fn tracked(
        &self,
        events: impl futures::Stream<Item = StreamResponse> + Send + 'static,
    ) -> HandlerStream {
        let gauge = Gauge::new(&self.shared.open_streams);
        events
            .map(move |event| {
                let _open = &gauge;
                Ok(event.into())
            })
            .boxed()
    }
}

#[async_trait]
impl A2aHandler for ConformanceAgent {
    async fn send_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2aError> {
        let (message_id, task_id) = message_ids(&req);
        self.record("SendMessage", ctx, message_id, task_id);
        let config = req.configuration.clone().unwrap_or_default();
        let history = history_limit(config.history_length)?;
        let payload = match self.start(&ctx.identity.owner(), req)? {
            Started::Reply(message) => send_message_response::Payload::Message(message),
            Started::Task {
                snapshot,
                execution,
            } if config.return_immediately => {
                tokio::spawn(execution.run());
                send_message_response::Payload::Task(with_history(*snapshot, history))
            }
            Started::Task {
                snapshot,
                execution,
            } => {
                execution.run().await;
                let task = self.tasks().snapshot(&snapshot.id).unwrap_or(*snapshot);
                send_message_response::Payload::Task(with_history(task, history))
            }
        };
        Ok(SendMessageResponse {
            payload: Some(payload),
        })
    }

    async fn send_streaming_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<HandlerStream, A2aError> {
        let (message_id, task_id) = message_ids(&req);
        self.record("SendStreamingMessage", ctx, message_id, task_id);
        let history = history_limit(req.configuration.as_ref().and_then(|c| c.history_length))?;
        Ok(match self.start(&ctx.identity.owner(), req)? {
            Started::Reply(message) => self.tracked(stream::iter([StreamResponse {
                payload: Some(stream_response::Payload::Message(message)),
            }])),
            Started::Task {
                snapshot,
                execution,
            } => {
                let first = StreamResponse {
                    payload: Some(stream_response::Payload::Task(with_history(
                        *snapshot, history,
                    ))),
                };
                let rest = stream::unfold(execution, |mut execution| async move {
                    let event = execution.next_event().await?;
                    Some((event, execution))
                });
                self.tracked(stream::iter([first]).chain(rest))
            }
        })
    }

    async fn get_task(&self, ctx: &CallContext, req: GetTaskRequest) -> Result<Task, A2aError> {
        self.record("GetTask", ctx, None, Some(&req.id));
        let history = history_limit(req.history_length)?;
        let task = self
            .tasks()
            .get(&ctx.identity.owner(), &req.id)?
            .task
            .clone();
        Ok(with_history(task, history))
    }

    async fn list_tasks(
        &self,
        ctx: &CallContext,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2aError> {
        self.record("ListTasks", ctx, None, None);
        list::list(&self.tasks(), &ctx.identity.owner(), &req)
    }

    async fn cancel_task(
        &self,
        ctx: &CallContext,
        req: CancelTaskRequest,
    ) -> Result<Task, A2aError> {
        self.record("CancelTask", ctx, None, Some(&req.id));
        let mut tasks = self.tasks();
        let record = tasks.get(&ctx.identity.owner(), &req.id)?;
        match record.state() {
            // Canceling twice has the effect of canceling once.
            TaskState::Canceled => return Ok(record.task.clone()),
            state if is_terminal(state) => {
                return Err(A2aError::new(
                    ErrorKind::TaskNotCancelable,
                    format!("task {} is already {}", req.id, state.as_str_name()),
                )
                .with_metadata("taskId", &req.id));
            }
            _ => {}
        }
        tasks.set_status(
            &req.id,
            TaskState::Canceled,
            Some("canceled by the client".to_owned()),
        );
        let task = tasks.snapshot(&req.id);
        task.ok_or_else(|| A2aError::task_not_found(&req.id))
    }

    async fn subscribe_to_task(
        &self,
        ctx: &CallContext,
        req: SubscribeToTaskRequest,
    ) -> Result<HandlerStream, A2aError> {
        self.record("SubscribeToTask", ctx, None, Some(&req.id));
        let (snapshot, events) = self.tasks().subscribe(&ctx.identity.owner(), &req.id)?;
        let first = StreamResponse {
            payload: Some(stream_response::Payload::Task(snapshot)),
        };
        Ok(self.tracked(stream::iter([first]).chain(events)))
    }

    async fn create_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.record(
            "CreateTaskPushNotificationConfig",
            ctx,
            None,
            Some(&req.task_id),
        );
        push::create(&mut self.tasks(), &ctx.identity.owner(), req)
    }

    async fn get_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.record(
            "GetTaskPushNotificationConfig",
            ctx,
            None,
            Some(&req.task_id),
        );
        push::get(&self.tasks(), &ctx.identity.owner(), &req)
    }

    async fn list_task_push_notification_configs(
        &self,
        ctx: &CallContext,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2aError> {
        self.record(
            "ListTaskPushNotificationConfigs",
            ctx,
            None,
            Some(&req.task_id),
        );
        push::list(&self.tasks(), &ctx.identity.owner(), &req)
    }

    async fn get_extended_agent_card(
        &self,
        ctx: &CallContext,
        _req: GetExtendedAgentCardRequest,
    ) -> Result<AgentCard, A2aError> {
        self.record("GetExtendedAgentCard", ctx, None, None);
        Ok(card::extended(self.name()))
    }

    async fn delete_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2aError> {
        self.record(
            "DeleteTaskPushNotificationConfig",
            ctx,
            None,
            Some(&req.task_id),
        );
        push::delete(&mut self.tasks(), &ctx.identity.owner(), &req)
    }

    async fn agent_card(&self) -> Result<AgentCard, A2aError> {
        Ok(self.card())
    }
}
