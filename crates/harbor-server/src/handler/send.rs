//! SendMessage and SendStreamingMessage.

use futures::StreamExt;
use harbor_a2a::validate::Validate;
use harbor_a2a::{
    A2aError, SendMessageRequest, SendMessageResponse, StreamResponse, Task, send_message_response,
    stream_response::Payload,
};
use harbor_distributed::{CallContext, HandlerStream};

use super::DefaultHandler;
use crate::runtime::log::{LogReader, Next, is_interrupted_state, is_terminal_state};
use crate::runtime::{Started, limit_history, store_error};

/// Whether a stream event settles a blocking send or ends a send stream: a terminal or
/// interrupted status.
fn settles(event: &StreamResponse) -> bool {
    match &event.payload {
        Some(Payload::StatusUpdate(update)) => {
            let state = update.status.as_ref().map_or(0, |s| s.state);
            is_terminal_state(state) || is_interrupted_state(state)
        }
        _ => false,
    }
}

impl DefaultHandler {
    pub(super) async fn send(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2aError> {
        req.validate()?;
        let config = req.configuration.clone().unwrap_or_default();
        let payload = match self.start(ctx, req).await? {
            Started::Reply(message) => send_message_response::Payload::Message(message),
            Started::Task(snapshot, mut reader) => {
                let mut task = if config.return_immediately {
                    snapshot
                } else {
                    wait_settled(&mut reader).await;
                    reader.log().current().0
                };
                limit_history(&mut task, config.history_length);
                send_message_response::Payload::Task(task)
            }
        };
        Ok(SendMessageResponse {
            payload: Some(payload),
        })
    }

    pub(super) async fn send_streaming(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<HandlerStream, A2aError> {
        req.validate()?;
        let history_length = req.configuration.as_ref().and_then(|c| c.history_length);
        match self.start(ctx, req).await? {
            Started::Reply(message) => {
                let event = StreamResponse {
                    payload: Some(Payload::Message(message)),
                };
                Ok(futures::stream::once(async move { Ok(event) }).boxed())
            }
            Started::Task(mut snapshot, reader) => {
                limit_history(&mut snapshot, history_length);
                Ok(task_stream(snapshot, reader, false))
            }
        }
    }

    /// Starts the agent: a follow-up for a message naming a task, else a new task.
    async fn start(&self, ctx: &CallContext, req: SendMessageRequest) -> Result<Started, A2aError> {
        let mut message = req.message.unwrap_or_default();
        let push = req
            .configuration
            .and_then(|c| c.task_push_notification_config);
        if push.is_some() {
            self.require_push()?;
        }
        let owner = ctx.identity.owner();
        if message.task_id.is_empty() {
            return self.rt.start_new(ctx.clone(), message, push).await;
        }
        let stored = self
            .rt
            .store()
            .get(&owner, &message.task_id)
            .await
            .map_err(store_error)?;
        if !message.context_id.is_empty() && message.context_id != stored.task.context_id {
            return Err(A2aError::invalid_params(format!(
                "message.contextId {:?} does not match the context of task {}",
                message.context_id, stored.task.id
            )));
        }
        if let Some(config) = push {
            self.rt
                .register_push(&owner, config, &stored.task.id)
                .await?;
        }
        message.context_id.clone_from(&stored.task.context_id);
        self.rt.start_follow_up(ctx.clone(), message, stored).await
    }
}

/// Reads until the task is terminal or interrupted, or no execution feeds it any more.
async fn wait_settled(reader: &mut LogReader) {
    loop {
        match reader.next(false).await {
            Next::Event(event) if settles(&event) => return,
            Next::Event(_) => {}
            Next::Closed | Next::Idle => return,
        }
    }
}

/// The snapshot, then every event after it. A send stream (`until_terminal` false) also
/// ends at an interrupted state; a subscription only at a terminal one.
pub(super) fn task_stream(
    snapshot: Task,
    reader: LogReader,
    until_terminal: bool,
) -> HandlerStream {
    // The snapshot's own state only ends the stream when terminal: an interrupted task that
    // just received a follow-up is about to move on.
    let done = crate::runtime::log::is_terminal(&snapshot);
    let first = StreamResponse {
        payload: Some(Payload::Task(snapshot)),
    };
    let rest = futures::stream::unfold((reader, done), move |(mut reader, done)| async move {
        if done {
            return None;
        }
        match reader.next(until_terminal).await {
            Next::Event(event) => {
                let done = if until_terminal {
                    is_terminal_event(&event)
                } else {
                    settles(&event)
                };
                Some((Ok(event), (reader, done)))
            }
            Next::Closed | Next::Idle => None,
        }
    });
    futures::stream::once(async move { Ok(first) })
        .chain(rest)
        .boxed()
}

fn is_terminal_event(event: &StreamResponse) -> bool {
    match &event.payload {
        Some(Payload::StatusUpdate(update)) => {
            is_terminal_state(update.status.as_ref().map_or(0, |s| s.state))
        }
        _ => false,
    }
}
