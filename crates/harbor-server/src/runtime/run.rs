//! One execution of the agent: its events are stored, logged and observed in order.

use std::sync::Arc;

use harbor_a2a::{
    A2aError, ErrorKind, Message, Role, StreamResponse, Task, TaskPushNotificationConfig,
    TaskState, TaskStatus,
};
use harbor_distributed::{Error, Owner};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::log::TaskLog;
use super::{Kind, Runtime, Started, apply, lock, now, store_error};
use crate::executor::{AgentEvent, EventSink, RequestContext, text_part};

/// One execution of the agent, from its first event to its end.
pub(super) struct Run {
    pub(super) rt: Arc<Runtime>,
    pub(super) owner: Owner,
    pub(super) ctx: RequestContext,
    /// The task's log, once the task exists.
    pub(super) log: Option<Arc<TaskLog>>,
    /// Where a new task's send waits for how it started.
    pub(super) first: Option<oneshot::Sender<Result<Started, A2aError>>>,
    pub(super) kind: Kind,
    /// The task's run lock, held for the whole execution.
    pub(super) guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// An inline push config to register when the task is created.
    pub(super) push: Option<TaskPushNotificationConfig>,
}

impl Run {
    pub(super) async fn drive(mut self) {
        let (tx, mut rx) = mpsc::channel(64);
        let sink = EventSink::new(self.ctx.task_id.clone(), self.ctx.context_id.clone(), tx);
        let task_id = self.ctx.task_id.clone();
        lock(&self.rt.runs).insert(task_id.clone(), self.ctx.cancel.clone());
        let executor = Arc::clone(&self.rt.executor);
        let ctx = self.ctx.clone();
        let kind = self.kind;
        let mut agent = self.rt.tracker.spawn(async move {
            match kind {
                Kind::Execute => executor.execute(ctx, sink).await,
                Kind::Cancel => executor.cancel(ctx, sink).await,
            }
        });
        let outcome = loop {
            tokio::select! {
                Some(event) = rx.recv() => self.on_event(event).await,
                joined = &mut agent => {
                    while let Ok(event) = rx.try_recv() {
                        self.on_event(event).await;
                    }
                    break joined.unwrap_or_else(|e| Err(A2aError::internal(format!("the agent panicked: {e}"))));
                }
            }
        };
        lock(&self.rt.runs).remove(&task_id);
        self.finish(outcome).await;
        if let Some(log) = &self.log {
            log.set_running(false);
            self.rt.forget_if_closed(&task_id, log);
        }
        drop(self.guard.take());
    }

    async fn on_event(&mut self, event: AgentEvent) {
        if self.log.is_none() {
            if let AgentEvent::Reply(message) = event {
                if let Some(first) = self.first.take() {
                    let _ = first.send(Ok(Started::Reply(message)));
                } else {
                    warn!(task_id = %self.ctx.task_id, "the agent replied twice; the second reply was dropped");
                }
                return;
            }
            if self.first.is_none() {
                warn!(task_id = %self.ctx.task_id, "event after a direct reply dropped");
                return;
            }
            if let Err(e) = self.create_task().await {
                if let Some(first) = self.first.take() {
                    let _ = first.send(Err(e));
                }
                return;
            }
        }
        if let Err(e) = self.store_event(event).await {
            warn!(task_id = %self.ctx.task_id, error = %e, "agent event not applied");
        }
    }

    /// Stores the new task (SUBMITTED, with the user message) and tells the sender.
    async fn create_task(&mut self) -> Result<(), A2aError> {
        let task = Task {
            id: self.ctx.task_id.clone(),
            context_id: self.ctx.context_id.clone(),
            status: Some(TaskStatus {
                state: TaskState::Submitted as i32,
                message: None,
                timestamp: Some(now()),
            }),
            history: vec![self.ctx.message.clone()],
            ..Task::default()
        };
        let version = self
            .rt
            .store
            .create(&self.owner, task.clone())
            .await
            .map_err(store_error)?;
        if let Some(config) = self.push.take() {
            self.rt.register_push(&self.owner, config, &task.id).await?;
        }
        let log = TaskLog::new(task, version, Arc::clone(&self.rt.readers));
        // A fresh lock: taking it cannot fail, and it keeps follow-ups behind this execution.
        self.guard = Arc::clone(&log.run_lock).try_lock_owned().ok();
        log.set_running(true);
        lock(&self.rt.logs).insert(self.ctx.task_id.clone(), Arc::clone(&log));
        let (snapshot, reader) = log.subscribe();
        if let Some(first) = self.first.take() {
            let _ = first.send(Ok(Started::Task(snapshot.clone(), reader)));
        }
        self.notify(&StreamResponse {
            payload: Some(harbor_a2a::stream_response::Payload::Task(snapshot)),
        });
        self.log = Some(log);
        Ok(())
    }

    /// Persists the event's effect first, then appends it to the log and notifies.
    async fn store_event(&mut self, event: AgentEvent) -> Result<(), A2aError> {
        let Some(log) = self.log.clone() else {
            return Ok(());
        };
        for attempt in 0..3 {
            let (mut task, version) = log.current();
            let update = apply::apply(&mut task, event.clone())?;
            match self
                .rt
                .store
                .update(&self.owner, task.clone(), version)
                .await
            {
                Ok(new_version) => {
                    log.append(task, new_version, Some(update.clone()));
                    self.notify(&update);
                    return Ok(());
                }
                Err(Error::VersionConflict { .. }) if attempt < 2 => {
                    // Someone else wrote the task: reload it and apply the event again.
                    let stored = self
                        .rt
                        .store
                        .get(&self.owner, &self.ctx.task_id)
                        .await
                        .map_err(store_error)?;
                    log.append(stored.task, stored.version, None);
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(A2aError::internal(
            "the task kept changing under the execution",
        ))
    }

    fn notify(&self, event: &StreamResponse) {
        if let Some(observer) = &self.rt.observer {
            observer.on_event(&self.owner, &self.ctx.task_id, event);
        }
    }

    /// Settles how the execution ended.
    async fn finish(&mut self, outcome: Result<(), A2aError>) {
        let Some(log) = self.log.clone() else {
            // No task was created.
            if let Some(first) = self.first.take() {
                let error = outcome.err().unwrap_or_else(|| {
                    A2aError::new(
                        ErrorKind::InvalidAgentResponse,
                        "the agent produced no task and no message",
                    )
                });
                let _ = first.send(Err(error));
            }
            return;
        };
        if let Err(error) = outcome
            && !log.is_closed()
        {
            let text = format!("the agent failed: {}", error.message());
            let message = Message {
                message_id: uuid::Uuid::new_v4().to_string(),
                role: Role::Agent as i32,
                parts: vec![text_part(&text)],
                ..Message::default()
            };
            let failed = AgentEvent::Status {
                state: TaskState::Failed,
                message: Some(message),
            };
            if let Err(e) = self.store_event(failed).await {
                warn!(task_id = %self.ctx.task_id, error = %e, "could not mark the task failed");
            }
        }
    }
}
