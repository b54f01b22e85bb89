//! SendMessage and SendStreamingMessage.

use futures::StreamExt;
use harbor_a2a::validate::Validate;
use harbor_a2a::{
    A2aError, SendMessageRequest, SendMessageResponse, StreamResponse, Task, send_message_response,
    stream_response::Payload,
};
use harbor_distributed::{CallContext, HandlerStream, StreamEvent};

use super::DefaultHandler;
use crate::runtime::feed::{FeedReader, Next};
use crate::runtime::{Started, is_shown, limit_history, store_error};

/// Whether a stream event settles a blocking send or ends a send stream: a terminal or
/// interrupted status.
fn settles(event: &StreamResponse) -> bool {
    event
        .state()
        .is_some_and(|s| s.is_terminal() || s.is_interrupted())
}

fn is_terminal_event(event: &StreamResponse) -> bool {
    event.state().is_some_and(|s| s.is_terminal())
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
            Started::Task { mut reader, .. } => {
                if !config.return_immediately {
                    wait_settled(&mut reader).await?;
                }
                let mut task = reader.feed().current().0;
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
                let event = StreamEvent::from(StreamResponse {
                    payload: Some(Payload::Message(message)),
                });
                Ok(futures::stream::once(async move { Ok(event) }).boxed())
            }
            Started::Task { head, reader } => {
                Ok(log_stream(head, reader, Until::Settled, history_length))
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
            Box::pin(
                self.rt
                    .register_push(&owner, config, &stored.task.id, stored.version, false),
            )
            .await?;
        }
        message.context_id.clone_from(&stored.task.context_id);
        // Boxed: see `Runtime::start_new`.
        Box::pin(self.rt.start_follow_up(ctx.clone(), message, stored)).await
    }
}

/// Reads until the task is terminal or interrupted, or no execution writes it any more.
async fn wait_settled(reader: &mut FeedReader) -> Result<(), A2aError> {
    loop {
        match reader.next(false, settles).await {
            Next::Entry(_) => return Ok(()),
            Next::Compacted(task, _) if task.state().is_terminal() => return Ok(()),
            Next::Compacted(..) => {}
            Next::Closed | Next::Idle => return Ok(()),
            Next::Failed(error) => return Err(error),
        }
    }
}

/// When a log stream ends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Until {
    /// At a terminal or interrupted state, or when no execution writes the task (a send).
    Settled,
    /// At a terminal state only (a subscription stays through INPUT_REQUIRED).
    Terminal,
}

/// A stream of a task's log: `head` (the task as of the reader's position) when given,
/// then every entry the reader reads that streams show, each with its sequence.
pub(super) fn log_stream(
    head: Option<(Task, u64)>,
    reader: FeedReader,
    until: Until,
    history_length: Option<i32>,
) -> HandlerStream {
    let snapshot = move |mut task: Task, version: u64| {
        limit_history(&mut task, history_length);
        StreamEvent::logged(StreamResponse::from(task), version)
    };
    // The head's own state ends the stream only when terminal: an interrupted task that
    // just received a follow-up is about to move on.
    let done = head
        .as_ref()
        .is_some_and(|(task, _)| task.state().is_terminal());
    let first = head.map(|(task, version)| Ok(snapshot(task, version)));
    let ends = move |event: &StreamResponse| match until {
        Until::Settled => settles(event),
        Until::Terminal => is_terminal_event(event),
    };
    let rest = futures::stream::unfold((reader, done), move |(mut reader, done)| async move {
        if done {
            return None;
        }
        let item = match reader.next(until == Until::Terminal, is_shown).await {
            Next::Entry(entry) => {
                let done = ends(&entry.event);
                let event = match entry.event.payload {
                    Some(Payload::Task(task)) => snapshot(task, entry.sequence),
                    _ => StreamEvent::logged(entry.event, entry.sequence),
                };
                (Ok(event), done)
            }
            Next::Compacted(task, version) => {
                let done = task.state().is_terminal();
                (Ok(snapshot(task, version)), done)
            }
            Next::Failed(error) => (Err(error), true),
            Next::Closed | Next::Idle => return None,
        };
        Some((item.0, (reader, item.1)))
    });
    futures::stream::iter(first).chain(rest).boxed()
}
