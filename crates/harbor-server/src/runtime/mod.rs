//! Executions: running the agent for a task, appending each of its events to the task's
//! durable log before anyone sees it, and following task logs for streams, subscribers
//! and waiting sends.
//!
//! Where things are written, in order, for one agent event:
//!
//! 1. the execution applies it to its copy of the task and queues its log event;
//! 2. [`TaskLog::append`] writes the queued events and the task after them (the
//!    projection) in one durable write: on the embedded engine, one group-committed redb
//!    transaction shared with the appends of other tasks;
//! 3. only then are the entries handed to the task's [`feed`](feed::TaskFeed), which wakes
//!    its readers (streams send them with their sequence as SSE `id:`, blocking sends
//!    return the projection), to push delivery (the configs of the task look at their
//!    cursors) and to the [`EventObserver`], if any.
//!
//! So nothing a client is told can be lost by a crash, and a log replayed from the store
//! gives the stored task back.

pub(crate) mod apply;
mod core;
mod fanout;
pub(crate) mod feed;
mod front_door;
mod lease;
mod leasing;
mod run;
pub(crate) mod work;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harbor_a2a::{
    A2aError, ErrorKind, Message, StreamResponse, Task, TaskPushNotificationConfig, TaskState,
};
use harbor_distributed::{
    CallContext, Error, Fence, LogEntry, MessageBus, Owner, StoredTask, TaskLog,
};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, warn};

pub use self::core::EventObserver;
use self::core::{Kind, lock};
pub(crate) use self::core::{Runtime, Started};
use crate::push::dispatch::Dispatcher;
pub(crate) use apply::{is_shown, limit_history};
use fanout::Fanout;
use feed::{FeedHold, Feeds};
use leasing::Leasing;
use run::Run;

use crate::executor::{AgentExecutor, RequestContext};

pub(crate) fn store_error(e: Error) -> A2aError {
    e.to_a2a()
}

impl Runtime {
    /// The runtime; with a `bus` it announces its appends there and follows the other
    /// processes' (which needs a tokio runtime). On a store with leases its executions
    /// run under leases of `lease.1` time to live, held as `lease.0` (this process's
    /// name), and it takes over the tasks of expired leases (which needs a tokio runtime).
    /// A `front_door` runs no agent: see [`work`].
    pub(crate) fn new(
        store: Arc<dyn TaskLog>,
        executor: Arc<dyn AgentExecutor>,
        observer: Option<Arc<dyn EventObserver>>,
        push: Option<Arc<Dispatcher>>,
        bus: Option<Arc<dyn MessageBus>>,
        (replica, lease_ttl): (&str, Duration),
        (cancel_timeout, front_door): (Duration, bool),
    ) -> Arc<Self> {
        let leasing = store
            .leases()
            .is_some()
            .then(|| Leasing::new(replica, lease_ttl));
        let rt = Arc::new(Self {
            executor,
            observer,
            push,
            feeds: Feeds::new(store),
            fanout: bus.map(|bus| Fanout::new(bus, replica.to_owned())),
            leasing,
            runs: Mutex::default(),
            tracker: TaskTracker::new(),
            front_door,
            draining: AtomicBool::new(false),
            shutdown: CancellationToken::new(),
            cancel_timeout,
        });
        if let Some(fanout) = &rt.fanout {
            fanout.follow(
                Arc::downgrade(&rt.feeds),
                rt.push.clone(),
                rt.shutdown.clone(),
            );
        }
        if let Some(leasing) = &rt.leasing {
            lease::start(leasing, &rt);
        }
        rt
    }

    /// Tells whoever follows a task about its durable `entries`: the other processes (on
    /// the bus), push delivery and the observer.
    pub(crate) fn appended(&self, owner: &Owner, task_id: &str, entries: &[LogEntry]) {
        if let Some(fanout) = &self.fanout {
            fanout.announce(owner, task_id, entries);
        }
        if let Some(push) = &self.push {
            push.appended(task_id, entries);
        }
        if let Some(observer) = &self.observer {
            for entry in entries.iter().filter(|e| is_shown(&e.event)) {
                observer.on_event(owner, task_id, entry);
            }
        }
    }

    /// Push delivery, when the agent offers it.
    pub(crate) fn push(&self) -> Option<&Arc<Dispatcher>> {
        self.push.as_ref()
    }

    /// Whether the server has started stopping.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The bus's health, when there is a bus.
    pub(crate) fn bus_health(&self) -> Option<Result<(), String>> {
        self.fanout.as_ref().map(Fanout::health)
    }

    pub(crate) fn store(&self) -> &Arc<dyn TaskLog> {
        self.feeds.store()
    }

    /// The feed of a stored task.
    pub(crate) fn feed(&self, stored: &StoredTask) -> FeedHold {
        self.feeds.hold(stored)
    }

    /// Starts the agent on a message for a new task.
    pub(crate) async fn start_new(
        self: &Arc<Self>,
        call: CallContext,
        mut message: Message,
        push: Option<TaskPushNotificationConfig>,
    ) -> Result<Started, A2aError> {
        self.admit()?;
        // Time-ordered ids (UUIDv7): new tasks sort after older ones, so a store's B-trees
        // take them at one edge instead of touching a random page per task.
        let task_id = uuid::Uuid::now_v7().to_string();
        let context_id = if message.context_id.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            message.context_id.clone()
        };
        message.task_id.clone_from(&task_id);
        message.context_id.clone_from(&context_id);
        if self.front_door {
            // Boxed, as every path but the common one: an unboxed future here would make
            // every send's future (copied into its box on each call) as large as it.
            return Box::pin(self.submit_new(call, message, push)).await;
        }
        let (first_tx, first_rx) = oneshot::channel();
        let owner = call.identity.owner();
        let ctx = self.request_context(call, message, None, task_id, context_id);
        let run = Run {
            rt: Arc::clone(self),
            owner,
            ctx,
            feed: None,
            first: Some(first_tx),
            kind: Kind::Execute,
            guard: None,
            push,
            // The task is created under its first lease.
            fence: self.leases().map(|(leasing, _)| leasing.first()),
            task_made: false,
        };
        let span = tracing::debug_span!("a2a.execute", task_id = %run.ctx.task_id);
        self.spawn_run(run, span);
        first_rx
            .await
            .unwrap_or_else(|_| Err(A2aError::internal("the execution ended without a result")))
    }

    /// Starts the agent on a follow-up message to an existing task: the message is
    /// appended to the task's log (its history), then the agent runs.
    pub(crate) async fn start_follow_up(
        self: &Arc<Self>,
        call: CallContext,
        mut message: Message,
        stored: StoredTask,
    ) -> Result<Started, A2aError> {
        self.admit()?;
        let feed = self.feed(&stored);
        let guard = Arc::clone(&feed.run_lock).lock_owned().await;
        let owner = call.identity.owner();
        let fence = self
            .lease(&owner, &stored.task.id)
            .await
            .map_err(store_error)?;
        let mut before = Task::default();
        let appended = self
            .append_one(&feed, &owner, fence.as_ref(), |task| {
                if task.state().is_terminal() {
                    return Err(A2aError::unsupported(format!(
                        "task {} is in a terminal state and accepts no more messages",
                        task.id
                    )));
                }
                before.clone_from(task);
                message.task_id.clone_from(&task.id);
                message.context_id.clone_from(&task.context_id);
                Ok(StreamResponse {
                    payload: Some(harbor_a2a::stream_response::Payload::Message(
                        message.clone(),
                    )),
                })
            })
            .await;
        let (task, version) = match appended {
            Ok(appended) => appended,
            Err(error) => {
                if let Some(fence) = &fence {
                    self.release(&stored.task.id, fence).await;
                }
                return Err(error);
            }
        };
        if self.front_door {
            // The worker the work goes to takes the task's run over.
            drop(guard);
            let reader = feed.reader(version);
            if let Some(fence) = fence {
                self.publish_work(&feed, &call.identity, fence, true).await;
            }
            return Ok(Started::Task {
                head: Some((task, version)),
                reader,
            });
        }
        let ctx = self.request_context(
            call,
            message,
            Some(before),
            task.id.clone(),
            task.context_id.clone(),
        );
        feed.run_started(&ctx.cancel);
        let reader = feed.reader(version);
        let run = Run {
            rt: Arc::clone(self),
            owner,
            ctx,
            feed: Some(feed),
            first: None,
            kind: Kind::Execute,
            guard: Some(guard),
            push: None,
            fence,
            task_made: false,
        };
        let span = tracing::debug_span!("a2a.execute", task_id = %task.id);
        self.spawn_run(run, span);
        Ok(Started::Task {
            head: Some((task, version)),
            reader,
        })
    }

    /// Cancels a task and returns it as it is afterwards.
    pub(crate) async fn cancel(
        self: &Arc<Self>,
        call: CallContext,
        stored: StoredTask,
    ) -> Result<Task, A2aError> {
        let task_id = stored.task.id.clone();
        match stored.task.state() {
            TaskState::Canceled => return Ok(stored.task),
            state if state.is_terminal() => {
                return Err(A2aError::new(
                    ErrorKind::TaskNotCancelable,
                    format!("task {task_id} is already terminal"),
                )
                .with_metadata("taskId", task_id.as_str()));
            }
            _ => {}
        }
        let feed = self.feed(&stored);
        if self.front_door {
            return self.cancel_here(&call.identity.owner(), &feed).await;
        }
        let (_, _, mut reader) = feed.subscribe();
        // Stop a running execution first; the cancel then runs as an execution of its own,
        // after it, so the task's events stay in order.
        if let Some(token) = lock(&self.runs).get(&task_id) {
            token.cancel();
        }
        let rt = Arc::clone(self);
        let cancel_feed = feed.clone();
        self.tracker.spawn(async move {
            let guard = Arc::clone(&cancel_feed.run_lock).lock_owned().await;
            let (task, _) = cancel_feed.current();
            if task.state().is_terminal() {
                return;
            }
            let message = task.history.last().cloned().unwrap_or_default();
            // Under the task's lease when no other process's execution holds it (that one
            // sees the cancel's final status and stops): never waiting for it.
            let owner = call.identity.owner();
            let fence = rt.try_lease(&owner, &task.id).await.ok().flatten();
            let ctx = rt.request_context(
                call.clone(),
                message,
                Some(task.clone()),
                task.id.clone(),
                task.context_id.clone(),
            );
            cancel_feed.run_started(&ctx.cancel);
            let run = Run {
                rt: Arc::clone(&rt),
                owner,
                ctx,
                feed: Some(cancel_feed),
                first: None,
                kind: Kind::Cancel,
                guard: Some(guard),
                push: None,
                fence,
                task_made: false,
            };
            run.drive().await;
        });
        let wait = async {
            // Pass over every entry, copying none, until the task is terminal (or nothing
            // writes it any more).
            let _ = reader.next(true, |_| false).await;
        };
        if tokio::time::timeout(self.cancel_timeout, wait)
            .await
            .is_err()
        {
            debug!(%task_id, "cancel did not reach a terminal state in time");
        }
        Ok(feed.current().0)
    }

    /// Appends the one event `event_of` makes of the task as it stands (the task's run lock
    /// is held by the caller), under `fence` when given, trying again on the newer task
    /// when another process wrote it meanwhile; returns the task after the event and its
    /// version.
    async fn append_one(
        &self,
        feed: &FeedHold,
        owner: &Owner,
        fence: Option<&Fence>,
        mut event_of: impl FnMut(&Task) -> Result<StreamResponse, A2aError>,
    ) -> Result<(Task, u64), A2aError> {
        let (mut task, mut version) = feed.current();
        for attempt in 0.. {
            let event = event_of(&task)?;
            let mut next = task.clone();
            harbor_distributed::store::project(&mut next, &event);
            let events = std::slice::from_ref(&event);
            let lease = self.lease_of(fence);
            match lease::append(&**self.store(), owner, &next, version, events, lease).await {
                Ok(appended) => {
                    crate::telemetry::log_appended(1);
                    let entry = LogEntry {
                        sequence: appended,
                        event,
                    };
                    self.appended(owner, &next.id, std::slice::from_ref(&entry));
                    feed.appended(next.clone(), vec![entry]);
                    return Ok((next, appended));
                }
                Err(Error::VersionConflict { .. }) if attempt < 2 => {
                    let stored = self
                        .store()
                        .get(owner, &task.id)
                        .await
                        .map_err(store_error)?;
                    feed.catch_up(&stored);
                    (task, version) = (stored.task, stored.version);
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        unreachable!("the loop returns by its third attempt")
    }

    /// Resolves the tasks whose execution died with an earlier process (SUBMITTED or
    /// WORKING in the store, not running here): re-run when the agent is
    /// [`retry_safe`](AgentExecutor::retry_safe), else FAILED with a status message saying
    /// the execution was lost. Only for a server that is its store's only writer.
    pub(crate) async fn recover(self: &Arc<Self>) -> Result<Recovered, Error> {
        let mut recovered = Recovered::default();
        if let Some(push) = &self.push {
            recovered.push_resumed = push.resume().await?;
        }
        let mut after = String::new();
        loop {
            let page = self.store().active_tasks(&after, 256).await?;
            let Some((_, last)) = page.last() else {
                return Ok(recovered);
            };
            after.clone_from(last);
            for (owner, id) in page {
                if lock(&self.runs).contains_key(&id) {
                    continue;
                }
                let stored = match self.store().get(&owner, &id).await {
                    Ok(stored) => stored,
                    Err(Error::TaskNotFound { .. }) => continue,
                    Err(e) => return Err(e),
                };
                if self.executor.retry_safe() {
                    self.rerun(owner, stored, None).await;
                    recovered.rerun += 1;
                } else {
                    match self.fail_lost(&owner, &stored, LOST, None).await {
                        Ok(()) => recovered.failed += 1,
                        Err(error) => {
                            warn!(task_id = %id, %error, "a lost execution's task could not be failed")
                        }
                    }
                }
            }
        }
    }

    /// Marks `stored` FAILED with `why` as the agent's status message (under `fence` when
    /// given), unless it has moved on meanwhile.
    async fn fail_lost(
        &self,
        owner: &Owner,
        stored: &StoredTask,
        why: &str,
        fence: Option<&Fence>,
    ) -> Result<(), A2aError> {
        let feed = self.feed(stored);
        let _guard = Arc::clone(&feed.run_lock).lock_owned().await;
        if !feed.current().0.state().is_active() {
            return Ok(());
        }
        self.fail_now(&feed, owner, why, fence).await
    }

    /// Marks the task of `feed` FAILED with `why` as the agent's status message (under
    /// `fence` when given); the caller holds the task's run lock.
    async fn fail_now(
        &self,
        feed: &FeedHold,
        owner: &Owner,
        why: &str,
        fence: Option<&Fence>,
    ) -> Result<(), A2aError> {
        self.append_one(feed, owner, fence, |task| {
            let message = Message {
                message_id: uuid::Uuid::new_v4().to_string(),
                role: harbor_a2a::Role::Agent as i32,
                parts: vec![crate::executor::text_part(why)],
                ..Message::default()
            };
            let mut task = task.clone();
            apply::apply(
                &mut task,
                crate::executor::AgentEvent::Status {
                    state: TaskState::Failed,
                    message: Some(message),
                },
            )
        })
        .await
        .map(drop)
    }

    /// Runs the agent again on the task's last user message, under `fence` when given.
    async fn rerun(self: &Arc<Self>, owner: Owner, stored: StoredTask, fence: Option<Fence>) {
        let feed = self.feed(&stored);
        let guard = Arc::clone(&feed.run_lock).lock_owned().await;
        let (task, _) = feed.current();
        let message = task
            .history
            .iter()
            .rev()
            .find(|m| m.role == harbor_a2a::Role::User as i32)
            .cloned()
            .unwrap_or_default();
        let identity = harbor_distributed::Identity {
            tenant: owner.tenant.clone(),
            user: owner.user.clone(),
            session: "recovery".into(),
            run: None,
        };
        let ctx = self.request_context(
            CallContext::new(identity),
            message,
            Some(task.clone()),
            task.id.clone(),
            task.context_id.clone(),
        );
        feed.run_started(&ctx.cancel);
        let run = Run {
            rt: Arc::clone(self),
            owner,
            ctx,
            feed: Some(feed),
            first: None,
            kind: Kind::Execute,
            guard: Some(guard),
            push: None,
            fence,
            task_made: false,
        };
        let span = tracing::debug_span!("a2a.execute", task_id = %task.id, recovered = true);
        self.spawn_run(run, span);
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

    /// Stores a push config for `task_id` and starts delivering the task's log entries
    /// after `after` to it (`poke`: look at the log at once, else at the next append): its
    /// task id is set, its id defaults to the task id (as other SDKs do), and the tenant
    /// routing field is not kept.
    pub(crate) async fn register_push(
        &self,
        owner: &Owner,
        mut config: TaskPushNotificationConfig,
        task_id: &str,
        after: u64,
        poke: bool,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        config.task_id = task_id.to_owned();
        if config.id.is_empty() {
            config.id = task_id.to_owned();
        }
        config.tenant.clear();
        let stored = match &self.push {
            Some(push) => push.track(owner, &config, after, poke).await,
            None => self.store().put_push_config(owner, config.clone()).await,
        };
        stored.map_err(store_error)?;
        if self.push.is_some() {
            self.hold_push(&config).await;
        }
        Ok(config)
    }

    /// Live readers of task logs: open streams, subscriptions and waiting sends.
    pub(crate) fn open_readers(&self) -> usize {
        self.feeds.readers()
    }

    /// Executions still running.
    pub(crate) fn running(&self) -> usize {
        lock(&self.runs).len()
    }

    /// Stops: running executions get `grace` to finish by themselves; then they are
    /// cancelled, and a task one of them leaves SUBMITTED or WORKING is marked FAILED
    /// (unless the agent is retry-safe: then the next start runs it again). Their streams
    /// see that final status. Waits for the executions' last writes at most
    /// [`FINAL_WRITES`] more.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        self.draining.store(true, Ordering::Relaxed);
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            debug!(
                running = self.running(),
                "executions outlived the grace period; cancelling them"
            );
            self.shutdown.cancel();
            let _ = tokio::time::timeout(FINAL_WRITES, self.tracker.wait()).await;
        }
        self.shutdown.cancel();
        if let Some(push) = &self.push {
            push.stop();
        }
        if let Some(leasing) = &self.leasing {
            leasing.stop();
        }
    }

    /// Runs `run` as a task of its own, in `span`. The execution's future is boxed first:
    /// it is large, and tokio moves a spawned future several times (into its task cell,
    /// out at completion), where a box is moved as a pointer.
    fn spawn_run(&self, run: Run, span: tracing::Span) {
        self.tracker.spawn(Box::pin(run.drive()).instrument(span));
    }

    /// Refuses new executions once the server stops.
    fn admit(&self) -> Result<(), A2aError> {
        if self.draining.load(Ordering::Relaxed) {
            return Err(A2aError::internal(
                "the server is shutting down and starts no new work; send to another server or try again later",
            ));
        }
        Ok(())
    }

    /// Whether the server is stopping (executions are being cancelled for it).
    pub(super) fn stopping(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}

/// How long a stopping server waits for cancelled executions to write their last event.
const FINAL_WRITES: Duration = Duration::from_secs(5);

/// The status message of a task whose execution died with an earlier process.
const LOST: &str = "the execution of this task was lost: the server stopped while it ran";

/// What [`DefaultHandler::recover`](crate::DefaultHandler::recover) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Tasks marked FAILED because their execution was lost.
    pub failed: u64,
    /// Tasks whose (retry-safe) agent was started again.
    pub rerun: u64,
    /// Push configs whose delivery resumed where their cursor stood.
    pub push_resumed: u64,
}
