//! Executions: running the agent for a task, storing each of its events before anyone
//! sees it, and fanning the events out to the task's live log and to push delivery.

mod apply;
pub(crate) mod log;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use harbor_a2a::{
    A2aError, ErrorKind, Message, Role, StreamResponse, Task, TaskPushNotificationConfig,
    TaskState, TaskStatus,
};
use harbor_distributed::{CallContext, Error, Owner, StoredTask, TaskStore};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, warn};

pub(crate) use apply::{limit_history, now};
use log::{LogReader, TaskLog, is_terminal};

use crate::executor::{AgentEvent, AgentExecutor, EventSink, RequestContext, text_part};

/// Told about every stored task event, for push delivery.
pub trait EventObserver: Send + Sync + 'static {
    /// `event` was stored for `owner`'s task `task_id`. Must not block.
    fn on_event(&self, owner: &Owner, task_id: &str, event: &StreamResponse);
}

/// How a send started.
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per send, never stored"
)]
pub(crate) enum Started {
    /// The agent answered with a message; no task.
    Reply(Message),
    /// A task runs: its snapshot and a reader of every later event.
    Task(Task, LogReader),
}

/// What an execution does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Execute,
    Cancel,
}

/// Everything executions share.
pub(crate) struct Runtime {
    store: Arc<dyn TaskStore>,
    executor: Arc<dyn AgentExecutor>,
    observer: Option<Arc<dyn EventObserver>>,
    logs: Mutex<HashMap<String, Arc<TaskLog>>>,
    /// The cancel token of each running execution, by task id.
    runs: Mutex<HashMap<String, CancellationToken>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    cancel_timeout: Duration,
    /// Live log readers (streams, subscriptions, waiting sends).
    readers: Arc<AtomicUsize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn store_error(e: Error) -> A2aError {
    e.to_a2a()
}

impl Runtime {
    pub(crate) fn new(
        store: Arc<dyn TaskStore>,
        executor: Arc<dyn AgentExecutor>,
        observer: Option<Arc<dyn EventObserver>>,
        cancel_timeout: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            executor,
            observer,
            logs: Mutex::default(),
            runs: Mutex::default(),
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            cancel_timeout,
            readers: Arc::default(),
        })
    }

    pub(crate) fn store(&self) -> &Arc<dyn TaskStore> {
        &self.store
    }

    /// The live log of a stored task, created from the store when nobody follows it yet.
    pub(crate) fn log_for(&self, stored: &StoredTask) -> Arc<TaskLog> {
        let mut logs = lock(&self.logs);
        let log = logs.entry(stored.task.id.clone()).or_insert_with(|| {
            TaskLog::new(
                stored.task.clone(),
                stored.version,
                Arc::clone(&self.readers),
            )
        });
        let (_, version) = log.current();
        if version < stored.version {
            // Written elsewhere (another replica): catch the snapshot up.
            log.append(stored.task.clone(), stored.version, None);
        }
        Arc::clone(log)
    }

    fn forget_if_closed(&self, task_id: &str, log: &Arc<TaskLog>) {
        if log.is_closed() {
            let mut logs = lock(&self.logs);
            if logs.get(task_id).is_some_and(|l| Arc::ptr_eq(l, log)) {
                logs.remove(task_id);
            }
        }
    }

    /// Starts the agent on a message for a new task.
    pub(crate) async fn start_new(
        self: &Arc<Self>,
        call: CallContext,
        mut message: Message,
        push: Option<TaskPushNotificationConfig>,
    ) -> Result<Started, A2aError> {
        let task_id = uuid::Uuid::new_v4().to_string();
        let context_id = if message.context_id.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            message.context_id.clone()
        };
        message.task_id.clone_from(&task_id);
        message.context_id.clone_from(&context_id);
        let (first_tx, first_rx) = oneshot::channel();
        let owner = call.identity.owner();
        let ctx = self.request_context(call, message, None, task_id, context_id);
        let run = Run {
            rt: Arc::clone(self),
            owner,
            ctx,
            log: None,
            first: Some(first_tx),
            kind: Kind::Execute,
            guard: None,
            push,
        };
        let span = tracing::debug_span!("a2a.execute", task_id = %run.ctx.task_id);
        self.tracker.spawn(run.drive().instrument(span));
        first_rx
            .await
            .unwrap_or_else(|_| Err(A2aError::internal("the execution ended without a result")))
    }

    /// Starts the agent on a follow-up message to an existing task.
    pub(crate) async fn start_follow_up(
        self: &Arc<Self>,
        call: CallContext,
        mut message: Message,
        stored: StoredTask,
    ) -> Result<Started, A2aError> {
        let log = self.log_for(&stored);
        let guard = Arc::clone(&log.run_lock).lock_owned().await;
        let owner = call.identity.owner();
        let stored = self
            .store
            .get(&owner, &stored.task.id)
            .await
            .map_err(store_error)?;
        let mut task = stored.task;
        if is_terminal(&task) {
            return Err(A2aError::unsupported(format!(
                "task {} is in a terminal state and accepts no more messages",
                task.id
            )));
        }
        message.task_id.clone_from(&task.id);
        message.context_id.clone_from(&task.context_id);
        let before = task.clone();
        task.history.push(message.clone());
        let version = self
            .store
            .update(&owner, task.clone(), stored.version)
            .await
            .map_err(store_error)?;
        log.append(task.clone(), version, None);
        let ctx = self.request_context(
            call,
            message,
            Some(before),
            task.id.clone(),
            task.context_id.clone(),
        );
        let run = Run {
            rt: Arc::clone(self),
            owner,
            ctx,
            log: Some(Arc::clone(&log)),
            first: None,
            kind: Kind::Execute,
            guard: Some(guard),
            push: None,
        };
        log.set_running(true);
        let (snapshot, reader) = log.subscribe();
        let span = tracing::debug_span!("a2a.execute", task_id = %task.id);
        self.tracker.spawn(run.drive().instrument(span));
        Ok(Started::Task(snapshot, reader))
    }

    /// Cancels a task and returns it as it is afterwards.
    pub(crate) async fn cancel(
        self: &Arc<Self>,
        call: CallContext,
        stored: StoredTask,
    ) -> Result<Task, A2aError> {
        let task_id = stored.task.id.clone();
        let state = stored.task.status.as_ref().map_or(0, |s| s.state);
        if state == TaskState::Canceled as i32 {
            return Ok(stored.task);
        }
        if is_terminal(&stored.task) {
            return Err(A2aError::new(
                ErrorKind::TaskNotCancelable,
                format!("task {task_id} is already terminal"),
            )
            .with_metadata("taskId", task_id.as_str()));
        }
        let log = self.log_for(&stored);
        let (_, mut reader) = log.subscribe();
        // Stop a running execution first; the cancel then runs as an execution of its own,
        // after it, so the task's events stay in order.
        if let Some(token) = lock(&self.runs).get(&task_id) {
            token.cancel();
        }
        let rt = Arc::clone(self);
        let cancel_log = Arc::clone(&log);
        self.tracker.spawn(async move {
            let guard = Arc::clone(&cancel_log.run_lock).lock_owned().await;
            let (task, _) = cancel_log.current();
            if is_terminal(&task) {
                return;
            }
            let message = task.history.last().cloned().unwrap_or_default();
            let ctx = rt.request_context(
                call.clone(),
                message,
                Some(task.clone()),
                task.id.clone(),
                task.context_id.clone(),
            );
            let run = Run {
                rt: Arc::clone(&rt),
                owner: call.identity.owner(),
                ctx,
                log: Some(Arc::clone(&cancel_log)),
                first: None,
                kind: Kind::Cancel,
                guard: Some(guard),
                push: None,
            };
            cancel_log.set_running(true);
            run.drive().await;
        });
        let wait = async {
            // Read until the task is terminal (or nothing feeds it any more).
            while let log::Next::Event(_) = reader.next(true).await {}
        };
        if tokio::time::timeout(self.cancel_timeout, wait)
            .await
            .is_err()
        {
            debug!(%task_id, "cancel did not reach a terminal state in time");
        }
        Ok(log.current().0)
    }

    fn request_context(
        &self,
        call: CallContext,
        message: Message,
        task: Option<Task>,
        task_id: String,
        context_id: String,
    ) -> RequestContext {
        RequestContext {
            message,
            task,
            task_id,
            context_id,
            call,
            cancel: self.shutdown.child_token(),
        }
    }

    /// Live readers of task logs: open streams, subscriptions and waiting sends.
    pub(crate) fn open_readers(&self) -> usize {
        self.readers.load(Ordering::Relaxed)
    }

    /// Executions still running.
    pub(crate) fn running(&self) -> usize {
        lock(&self.runs).len()
    }

    /// Cancels every execution and waits for them, at most `timeout`.
    pub(crate) async fn shutdown(&self, timeout: Duration) {
        self.shutdown.cancel();
        self.tracker.close();
        let _ = tokio::time::timeout(timeout, self.tracker.wait()).await;
    }
}

/// One execution of the agent, from its first event to its end.
struct Run {
    rt: Arc<Runtime>,
    owner: Owner,
    ctx: RequestContext,
    /// The task's log, once the task exists.
    log: Option<Arc<TaskLog>>,
    /// Where a new task's send waits for how it started.
    first: Option<oneshot::Sender<Result<Started, A2aError>>>,
    kind: Kind,
    /// The task's run lock, held for the whole execution.
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// An inline push config to register when the task is created.
    push: Option<TaskPushNotificationConfig>,
}

impl Run {
    async fn drive(mut self) {
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
        if let Some(mut config) = self.push.take() {
            config.task_id.clone_from(&task.id);
            if config.id.is_empty() {
                config.id.clone_from(&task.id);
            }
            self.rt
                .store
                .put_push_config(&self.owner, config)
                .await
                .map_err(store_error)?;
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
