//! One execution of the agent.
//!
//! The agent runs inside the execution's own future (no task of its own): its events
//! arrive on a channel, are applied to the task at once, and are appended to the task's
//! log in batches, one append in flight at a time. While an append waits for its commit
//! the agent keeps running, and whatever it emits meanwhile goes into the next append:
//! a fast agent's events share commits, and every commit of the store is shared by the
//! executions of all tasks. Only after an append returned are its entries handed to the
//! task's feed (streams, waiting sends) and to the observer (push).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::sync::Arc;

use futures::FutureExt;
use harbor_a2a::{
    A2aError, ErrorKind, Message, Role, StreamResponse, Task, TaskPushNotificationConfig,
    TaskState, TaskStatus,
};
use harbor_distributed::store::project;
use harbor_distributed::{Error, Fence, LogEntry, Owner};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::apply::{self, now};
use super::core::{Kind, Runtime, STOPPED, Started, lock};
use super::feed::FeedHold;
use crate::executor::{AgentEvent, EventSink, RequestContext, text_part};

/// Events the agent may emit ahead of the execution before `emit` waits.
const CHANNEL: usize = 64;

/// Events queued for the next append at most: past it the execution stops taking events
/// until the append in flight is done, so a flood of events waits in the agent's `emit`.
const MAX_QUEUED: usize = 256;

/// One execution of the agent, as it is asked for; [`Run::drive`] runs it.
pub(super) struct Run {
    pub(super) rt: Arc<Runtime>,
    pub(super) owner: Owner,
    pub(super) ctx: RequestContext,
    /// The task's feed, once the task exists.
    pub(super) feed: Option<FeedHold>,
    /// Where a new task's send waits for how it started.
    pub(super) first: Option<oneshot::Sender<Result<Started, A2aError>>>,
    pub(super) kind: Kind,
    /// The task's run lock, held for the whole execution.
    pub(super) guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// An inline push config to register when the task is created.
    pub(super) push: Option<TaskPushNotificationConfig>,
    /// The task's lease the execution writes under, when the store has leases; released
    /// when it ends.
    pub(super) fence: Option<Fence>,
    /// Whether the task was created before the agent ran (by a front door, for a worker):
    /// a direct reply to it while SUBMITTED completes it with that message, since the
    /// send that asked has a task already.
    pub(super) task_made: bool,
}

/// An execution as it runs: what [`Run`] gave it, less the request's context, which the
/// agent got. It keeps the task's ids, the cancel token and, for a task not created yet,
/// the message that creates it.
struct Execution {
    rt: Arc<Runtime>,
    owner: Owner,
    task_id: String,
    context_id: String,
    cancel: tokio_util::sync::CancellationToken,
    /// The user message a new task is created with (its first history entry), until then.
    creating: Option<Message>,
    feed: Option<FeedHold>,
    first: Option<oneshot::Sender<Result<Started, A2aError>>>,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    push: Option<TaskPushNotificationConfig>,
    fence: Option<Fence>,
    task_made: bool,
}

/// An append on its way: the store's answer, the task it stored and its events.
type InFlight =
    Pin<Box<dyn Future<Output = (Result<u64, Error>, Task, Vec<StreamResponse>)> + Send>>;

/// The task as the execution sees it.
#[allow(
    clippy::large_enum_variant,
    reason = "one per execution, on its own stack"
)]
enum Phase {
    /// No event yet: the agent may still answer with a direct message.
    Starting,
    /// The agent answered with a message; there is no task.
    Replied,
    /// The task exists (or its creation is queued).
    Task(Writer),
}

/// What an execution writes, and what of it is durable.
struct Writer {
    /// The task with every accepted event applied.
    next: Task,
    /// The version durable in the log (0 until the task is created).
    version: u64,
    /// Events applied to `next` and not yet sent to the log.
    queued: Vec<StreamResponse>,
    in_flight: Option<InFlight>,
    /// Times the current events met a newer version of the task.
    conflicts: u32,
}

impl Run {
    /// Runs the agent on the request's context, to its end. (Not itself async: the
    /// execution's future is the only one, not held inside another with this `Run`.)
    pub(super) fn drive(self) -> impl Future<Output = ()> + Send + 'static {
        let Run {
            rt,
            owner,
            ctx,
            feed,
            first,
            kind,
            guard,
            push,
            fence,
            task_made,
        } = self;
        let execution = Execution {
            task_id: ctx.task_id.clone(),
            context_id: ctx.context_id.clone(),
            cancel: ctx.cancel.clone(),
            creating: feed.is_none().then(|| ctx.message.clone()),
            rt,
            owner,
            feed,
            first,
            guard,
            push,
            fence,
            task_made,
        };
        execution.run(ctx, kind)
    }
}

impl Execution {
    async fn run(mut self, ctx: RequestContext, kind: Kind) {
        let (tx, mut rx) = mpsc::channel(CHANNEL);
        let sink = EventSink::new(self.task_id.clone(), self.context_id.clone(), tx);
        let task_id = self.task_id.clone();
        lock(&self.rt.runs).insert(task_id.clone(), self.cancel.clone());
        let executor = Arc::clone(&self.rt.executor);
        let agent = match kind {
            Kind::Execute => executor.execute(ctx, sink),
            Kind::Cancel => executor.cancel(ctx, sink),
        };
        let mut agent = pin!(AssertUnwindSafe(agent).catch_unwind());
        let mut phase = match &self.feed {
            Some(feed) => {
                let (task, version) = feed.current();
                Phase::Task(Writer::new(task, version))
            }
            None => Phase::Starting,
        };
        let mut outcome: Option<Result<(), A2aError>> = None;
        let mut events_open = true;
        loop {
            let writer = match &mut phase {
                Phase::Task(writer) => Some(writer),
                _ => None,
            };
            let appending = writer.as_ref().is_some_and(|w| w.in_flight.is_some());
            let room = writer.as_ref().is_none_or(|w| w.queued.len() < MAX_QUEUED);
            if outcome.is_some() && !appending {
                if let Some(writer) = writer.filter(|w| !w.queued.is_empty()) {
                    writer.start(&self.rt, &self.owner, self.fence.as_ref());
                    continue;
                }
                break;
            }
            tokio::select! {
                biased;
                (result, task, events) = async {
                    match writer.and_then(|w| w.in_flight.as_mut()) {
                        Some(append) => append.await,
                        None => std::future::pending().await,
                    }
                }, if appending => {
                    self.appended(&mut phase, result, task, events).await;
                }
                event = rx.recv(), if events_open && room && outcome.is_none() => match event {
                    Some(event) => {
                        self.accept(&mut phase, event);
                        while let Ok(event) = rx.try_recv() {
                            self.accept(&mut phase, event);
                        }
                        self.flush(&mut phase);
                    }
                    None => events_open = false,
                },
                joined = &mut agent, if outcome.is_none() => {
                    outcome = Some(joined.unwrap_or_else(|_| {
                        Err(A2aError::internal("the agent panicked"))
                    }));
                    while let Ok(event) = rx.try_recv() {
                        self.accept(&mut phase, event);
                    }
                    self.flush(&mut phase);
                }
            }
        }
        lock(&self.rt.runs).remove(&task_id);
        self.finish(phase, outcome.unwrap_or(Ok(()))).await;
        if let Some(fence) = self.fence.take() {
            self.rt.release(&task_id, &fence).await;
        }
        if let Some(feed) = &self.feed {
            feed.run_ended();
        }
        drop(self.guard.take());
    }

    /// Applies one agent event: a direct reply, the creation of the task, or a change of it.
    fn accept(&mut self, phase: &mut Phase, event: AgentEvent) {
        match (&mut *phase, event) {
            (Phase::Starting, AgentEvent::Reply(message)) => {
                *phase = Phase::Replied;
                if let Some(first) = self.first.take() {
                    let _ = first.send(Ok(Started::Reply(message)));
                }
            }
            (Phase::Starting, event) => {
                let message = self.creating.take().unwrap_or_default();
                let mut writer = Writer::create(&self.task_id, &self.context_id, message);
                writer.apply(event);
                *phase = Phase::Task(writer);
            }
            (Phase::Replied, _) => {
                warn!(task_id = %self.task_id, "the agent emitted an event after its direct reply; dropped");
            }
            (Phase::Task(writer), AgentEvent::Reply(message))
                if self.task_made && writer.next.state() == TaskState::Submitted =>
            {
                writer.apply(AgentEvent::Status {
                    state: TaskState::Completed,
                    message: Some(message),
                });
            }
            (Phase::Task(writer), event) => writer.apply(event),
        }
    }

    /// Sends queued events to the log when no append is in flight.
    fn flush(&self, phase: &mut Phase) {
        if let Phase::Task(writer) = phase
            && writer.in_flight.is_none()
            && !writer.queued.is_empty()
        {
            writer.start(&self.rt, &self.owner, self.fence.as_ref());
        }
    }

    /// Takes the store's answer to an append.
    async fn appended(
        &mut self,
        phase: &mut Phase,
        result: Result<u64, Error>,
        task: Task,
        events: Vec<StreamResponse>,
    ) {
        let Phase::Task(writer) = phase else {
            return;
        };
        writer.in_flight = None;
        match result {
            Ok(version) => {
                writer.version = version;
                writer.conflicts = 0;
                let first = version + 1 - events.len() as u64;
                let entries: Vec<LogEntry> = (first..)
                    .zip(events)
                    .map(|(sequence, event)| LogEntry { sequence, event })
                    .collect();
                self.publish(task, entries).await;
            }
            Err(Error::VersionConflict { .. }) if writer.conflicts < 2 => {
                // Written elsewhere meanwhile: apply the same events to the newer task.
                writer.conflicts += 1;
                match self.rt.store().get(&self.owner, &task.id).await {
                    Ok(stored) => {
                        if let Some(feed) = &self.feed {
                            feed.catch_up(&stored);
                        }
                        writer.rebase(stored.task, stored.version, events);
                    }
                    Err(error) => self.lost(writer, error),
                }
            }
            Err(error @ Error::LeaseLost { .. }) => self.lost(writer, error),
            Err(error) => {
                if writer.version == 0 {
                    if let Some(first) = self.first.take() {
                        let _ = first.send(Err(error.to_a2a()));
                    }
                    self.cancel.cancel();
                    writer.queued.clear();
                    return;
                }
                self.lost(writer, error);
            }
        }
        self.flush(phase);
    }

    /// An append failed for good: its events are lost, the agent is stopped, and the task
    /// is left as the log has it (and, when another process took its lease over, is that
    /// process's to run).
    fn lost(&mut self, writer: &mut Writer, error: Error) {
        if matches!(error, Error::LeaseLost { .. }) {
            info!(task_id = %self.task_id, "another server took the task's lease over; its execution here is stopped");
            self.fence = None;
        } else {
            warn!(task_id = %self.task_id, %error, "agent events could not be stored; stopping the execution");
        }
        self.cancel.cancel();
        writer.queued.clear();
        if let Some(feed) = &self.feed {
            (writer.next, writer.version) = feed.current();
        }
    }

    /// Hands durable entries to the feed (creating it with the task) and the observer.
    async fn publish(&mut self, task: Task, entries: Vec<LogEntry>) {
        if let Some(feed) = &self.feed {
            self.rt.appended(&self.owner, &task.id, &entries);
            feed.appended(task, entries);
            return;
        }
        // The task's first append: it exists now. Its inline push config is stored first,
        // so that it takes these very entries.
        if let Some(config) = self.push.take()
            && let Err(error) = self
                .rt
                .register_push(&self.owner, config, &task.id, 0, false)
                .await
        {
            warn!(task_id = %task.id, %error, "the inline push config was not stored");
        }
        self.rt.appended(&self.owner, &task.id, &entries);
        let feed = self.rt.feeds.create(self.owner.clone(), &task, entries);
        // A fresh lock: taking it cannot fail, and it keeps follow-ups behind this execution.
        self.guard = Arc::clone(&feed.run_lock).try_lock_owned().ok();
        feed.run_started(&self.cancel);
        if let Some(first) = self.first.take() {
            let reader = feed.reader(0);
            let _ = first.send(Ok(Started::Task { head: None, reader }));
        }
        self.feed = Some(feed);
    }

    /// Settles how the execution ended: a send still waiting learns why, and a task left
    /// active by a failing agent is marked FAILED.
    async fn finish(&mut self, phase: Phase, outcome: Result<(), A2aError>) {
        let mut writer = match phase {
            Phase::Task(writer) if writer.version > 0 => writer,
            _ => {
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
            }
        };
        let state = writer.next.state();
        if state.is_terminal() {
            return;
        }
        let text = if self.rt.stopping() && self.cancel.is_cancelled() {
            // Cancelled because the server stops: a retry-safe agent runs again at the next
            // start; any other leaves a task it held FAILED, so nothing waits on it forever.
            if self.rt.executor.retry_safe() || !state.is_active() {
                return;
            }
            STOPPED.to_owned()
        } else {
            match outcome {
                Err(error) => format!("the agent failed: {}", error.message()),
                Ok(()) => return,
            }
        };
        let message = Message {
            message_id: uuid::Uuid::new_v4().to_string(),
            role: Role::Agent as i32,
            parts: vec![text_part(&text)],
            ..Message::default()
        };
        writer.apply(AgentEvent::Status {
            state: TaskState::Failed,
            message: Some(message),
        });
        writer.start(&self.rt, &self.owner, self.fence.as_ref());
        let appended = match writer.in_flight.take() {
            Some(append) => append.await,
            None => return,
        };
        let (result, task, events) = appended;
        match result {
            Ok(version) => {
                let first = version + 1 - events.len() as u64;
                let entries = (first..)
                    .zip(events)
                    .map(|(sequence, event)| LogEntry { sequence, event })
                    .collect();
                self.publish(task, entries).await;
            }
            Err(e) => {
                warn!(task_id = %self.task_id, error = %e, "could not mark the task failed");
            }
        }
    }
}

impl Writer {
    fn new(next: Task, version: u64) -> Self {
        Self {
            next,
            version,
            queued: Vec::new(),
            in_flight: None,
            conflicts: 0,
        }
    }

    /// A writer of a new task: SUBMITTED with the user `message`, its snapshot queued as
    /// entry 1.
    fn create(task_id: &str, context_id: &str, message: Message) -> Self {
        let task = Task {
            id: task_id.to_owned(),
            context_id: context_id.to_owned(),
            status: Some(TaskStatus {
                state: TaskState::Submitted as i32,
                message: None,
                timestamp: Some(now()),
            }),
            history: vec![message],
            ..Task::default()
        };
        let mut writer = Self::new(task, 0);
        writer
            .queued
            .push(StreamResponse::from(writer.next.clone()));
        writer
    }

    /// Applies an agent event to `next` and queues its log event; a refused event is
    /// dropped with a warning (the agent broke the rules, the task goes on).
    fn apply(&mut self, event: AgentEvent) {
        match apply::apply(&mut self.next, event) {
            Ok(event) => self.queued.push(event),
            Err(error) => warn!(task_id = %self.next.id, %error, "agent event not applied"),
        }
    }

    /// Starts appending the queued events, under `fence` when given.
    fn start(&mut self, rt: &Runtime, owner: &Owner, fence: Option<&Fence>) {
        let events = std::mem::take(&mut self.queued);
        let task = self.next.clone();
        let (store, owner, expected) = (Arc::clone(rt.store()), owner.clone(), self.version);
        let lease = rt.lease_of(fence).map(|(fence, ttl)| (fence.clone(), ttl));
        self.in_flight = Some(Box::pin(async move {
            let lease = lease.as_ref().map(|(fence, ttl)| (fence, *ttl));
            let result =
                super::lease::append(&*store, &owner, &task, expected, &events, lease).await;
            if result.is_ok() {
                crate::telemetry::log_appended(events.len());
            }
            (result, task, events)
        }));
    }

    /// Starts over from a newer stored task: `unsent` and the queued events are applied to
    /// it again (those the task no longer accepts are dropped).
    fn rebase(&mut self, task: Task, version: u64, unsent: Vec<StreamResponse>) {
        let queued = std::mem::take(&mut self.queued);
        self.next = task;
        self.version = version;
        for event in unsent.into_iter().chain(queued) {
            if self.next.state().is_terminal() {
                warn!(task_id = %self.next.id, "the task ended elsewhere; an agent event was dropped");
                continue;
            }
            project(&mut self.next, &event);
            self.queued.push(event);
        }
    }
}
