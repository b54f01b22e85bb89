//! Executions: running the agent for a task, storing each of its events before anyone
//! sees it, and fanning the events out to the task's live log and to push delivery.

mod apply;
pub(crate) mod log;
mod run;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use harbor_a2a::{
    A2aError, ErrorKind, Message, StreamResponse, Task, TaskPushNotificationConfig, TaskState,
};
use harbor_distributed::{CallContext, Error, Owner, StoredTask, TaskStore};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug};

pub(crate) use apply::{limit_history, now};
use log::{LogReader, TaskLog, is_terminal};
use run::Run;

use crate::executor::{AgentExecutor, RequestContext};

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
pub(super) enum Kind {
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

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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

    /// Stores a push config for `task_id`: its task id is set, its id defaults to the task id
    /// (as other SDKs do), and the tenant routing field is not kept.
    pub(crate) async fn register_push(
        &self,
        owner: &Owner,
        mut config: TaskPushNotificationConfig,
        task_id: &str,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        config.task_id = task_id.to_owned();
        if config.id.is_empty() {
            config.id = task_id.to_owned();
        }
        config.tenant.clear();
        self.store
            .put_push_config(owner, config.clone())
            .await
            .map_err(store_error)?;
        Ok(config)
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
