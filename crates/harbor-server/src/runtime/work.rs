//! Work for agent workers: what a front door publishes for an execution it does not run,
//! and how a worker takes it.
//!
//! A front door ([`DefaultHandlerBuilder::workers`](crate::DefaultHandlerBuilder::workers))
//! writes the task itself (created SUBMITTED, or a follow-up message appended) under a
//! lease of its own, then publishes one work envelope on [`EDGE`]: the task's owner and id
//! in the envelope's identity and `task_id`, the caller's session as the identity's
//! session, and the front door's fence in headers [`HOLDER`] and [`EPOCH`]. Workers share
//! the group [`DEFAULT_GROUP`](crate::worker::DEFAULT_GROUP) on that edge. A worker hands the
//! lease over from exactly that fence to itself
//! ([`Leases::hand_over`](harbor_distributed::Leases::hand_over)) and only then acks: from
//! there the lease, not the bus, is what recovers the execution. Work whose fence no longer
//! holds the lease (the task ended, was cancelled, or someone took it) is dropped.

use std::sync::Arc;

use harbor_a2a::{Role, Task};
use harbor_distributed::{CallContext, Envelope, Error, Fence, Identity, Owner, StoredTask};
use tracing::{Instrument, info, warn};

use super::core::{Kind, Runtime};
use super::feed::FeedHold;
use super::run::Run;

/// The edge work envelopes are published on.
pub const EDGE: &str = "harbor.work";
/// Header: the holder of the lease the work is handed over from.
pub(crate) const HOLDER: &str = "harbor-lease-holder";
/// Header: the epoch of that lease.
pub(crate) const EPOCH: &str = "harbor-lease-epoch";
/// Header: `follow-up` when the work is a follow-up message to an existing task, `new`
/// for a task the front door just created.
pub(crate) const KIND: &str = "harbor-work-kind";

/// One execution for a worker to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// Who asked, as the front door authenticated them: the task's owner and the session.
    pub identity: Identity,
    /// The task.
    pub task_id: String,
    /// The front door's lease the work is handed over from.
    pub fence: Fence,
    /// Whether the execution is for a follow-up message (else for a new task).
    pub follow_up: bool,
}

impl Work {
    /// The envelope of this work, from `source`.
    pub fn envelope(&self, source: &str) -> Envelope {
        let mut envelope = Envelope::new(
            EDGE,
            self.identity.clone(),
            // One work item per fence: publish dedup keeps one of a retried publish.
            format!(
                "{}:{}:{}",
                self.task_id, self.fence.holder, self.fence.epoch
            ),
            Vec::<u8>::new(),
        )
        .with_task(self.task_id.clone())
        .with_header(HOLDER, self.fence.holder.to_string())
        .with_header(EPOCH, self.fence.epoch.to_string())
        .with_header(KIND, if self.follow_up { "follow-up" } else { "new" });
        source.clone_into(&mut envelope.source);
        envelope
    }

    /// Reads the work an envelope carries.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEnvelope`] for an envelope that is not well-formed work.
    pub fn read(envelope: &Envelope) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidEnvelope(format!("not a work envelope: {why}"));
        let task_id = envelope
            .task_id
            .clone()
            .ok_or_else(|| invalid("no task id"))?;
        let header = |name: &str| {
            envelope
                .headers
                .get(name)
                .ok_or_else(|| invalid(&format!("no {name} header")))
        };
        let holder = header(HOLDER)?;
        let epoch = header(EPOCH)?
            .parse()
            .map_err(|_| invalid("the epoch is not a number"))?;
        let follow_up = match header(KIND)?.as_str() {
            "follow-up" => true,
            "new" => false,
            other => return Err(invalid(&format!("unknown kind {other:?}"))),
        };
        Ok(Self {
            identity: envelope.identity.clone(),
            task_id,
            fence: Fence {
                holder: holder.as_str().into(),
                epoch,
            },
            follow_up,
        })
    }
}

/// What a worker did with one piece of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Taken {
    /// The worker holds the lease and the execution runs.
    Running,
    /// Nothing to run, and why (the task ended, or its lease moved on).
    Dropped(&'static str),
}

impl Runtime {
    /// Whether this runtime is a front door: its executions run on workers.
    pub(crate) fn is_front_door(&self) -> bool {
        self.front_door
    }

    /// Publishes work for the execution of `owner`'s task under `fence` (a front door's);
    /// on failure the task is ended FAILED (nothing would ever run it) and the lease given
    /// up.
    pub(super) async fn publish_work(
        &self,
        feed: &FeedHold,
        identity: &Identity,
        fence: Fence,
        follow_up: bool,
    ) {
        let (task, _) = feed.current();
        let work = Work {
            identity: identity.clone(),
            task_id: task.id.clone(),
            fence: fence.clone(),
            follow_up,
        };
        // Readers here wait for the worker's events rather than seeing an idle task.
        feed.run_elsewhere();
        let published = match &self.fanout {
            Some(fanout) => fanout.publish(work.envelope(fanout.source())).await,
            None => Err(Error::InvalidArgument("a front door needs a bus".into())),
        };
        let Err(error) = published else {
            return;
        };
        warn!(task_id = %task.id, %error, "work could not be published for a worker; the task is failed");
        let owner = identity.owner();
        let why = format!("no worker could be given this task: {error}");
        let _guard = Arc::clone(&feed.run_lock).lock_owned().await;
        if let Err(error) = self.fail_now(feed, &owner, &why, Some(&fence)).await {
            warn!(task_id = %task.id, %error, "a task without a worker could not be failed");
        }
        self.release(&task.id, &fence).await;
    }

    /// A front door's take-over of a task whose lease expired, for a retry-safe agent: work
    /// is published again under the new `fence`.
    pub(super) async fn republish(&self, owner: &Owner, stored: &StoredTask, fence: Fence) {
        let identity = Identity {
            tenant: owner.tenant.clone(),
            user: owner.user.clone(),
            session: "recovery".into(),
            run: None,
        };
        let feed = self.feed(stored);
        info!(task_id = %stored.task.id, "the task's execution was lost with its lease; publishing its work again");
        self.publish_work(&feed, &identity, fence, false).await;
    }

    /// Takes `work` as a worker: hands its lease over to this process and runs the agent
    /// under it, holding `permit` until the execution ends. Errors come before the lease
    /// is taken (so the work may be taken again); after it, the lease recovers the task.
    pub(crate) async fn take_work<P: Send + 'static>(
        self: &Arc<Self>,
        work: Work,
        permit: P,
    ) -> Result<Taken, Error> {
        let Some((leasing, leases)) = self.leases() else {
            return Err(Error::InvalidArgument(
                "a worker needs a store with execution leases".into(),
            ));
        };
        if self.is_draining() {
            return Err(Error::Closed);
        }
        let owner = work.identity.owner();
        let handed = match leases
            .hand_over(
                &owner,
                &work.task_id,
                &work.fence,
                &leasing.holder,
                leasing.ttl,
            )
            .await
        {
            Ok(Some(fence)) => fence,
            Ok(None) => {
                return Ok(Taken::Dropped(
                    "its lease moved on (the task ended, was cancelled or taken)",
                ));
            }
            Err(Error::TaskNotFound { .. }) => {
                return Ok(Taken::Dropped("the task does not exist"));
            }
            Err(error) => return Err(error),
        };
        let stored = match self.store().get(&owner, &work.task_id).await {
            Ok(stored) if !stored.task.state().is_terminal() => stored,
            Ok(_) => {
                self.release(&work.task_id, &handed).await;
                return Ok(Taken::Dropped("the task already ended"));
            }
            Err(error) => {
                // The lease is given up: the task is the sweepers' now.
                warn!(task_id = %work.task_id, %error, "a task handed over could not be read; its lease is given up");
                self.release(&work.task_id, &handed).await;
                return Ok(Taken::Dropped("the task could not be read"));
            }
        };
        self.run_work(work, stored, handed, permit).await;
        Ok(Taken::Running)
    }

    /// Runs the agent on the work's message, under `fence`.
    async fn run_work<P: Send + 'static>(
        self: &Arc<Self>,
        work: Work,
        stored: StoredTask,
        fence: Fence,
        permit: P,
    ) {
        let feed = self.feed(&stored);
        let guard = Arc::clone(&feed.run_lock).lock_owned().await;
        let (task, _) = feed.current();
        let (message, before) = agent_input(&task, work.follow_up);
        let ctx = self.request_context(
            CallContext::new(work.identity.clone()),
            message,
            before,
            task.id.clone(),
            task.context_id.clone(),
        );
        feed.run_started(&ctx.cancel);
        let run = Run {
            rt: Arc::clone(self),
            owner: work.identity.owner(),
            ctx,
            feed: Some(feed),
            first: None,
            kind: Kind::Execute,
            guard: Some(guard),
            push: None,
            fence: Some(fence),
            task_made: true,
        };
        let span = tracing::debug_span!("a2a.execute", task_id = %task.id, worker = true);
        self.tracker.spawn(
            async move {
                run.drive().await;
                drop(permit);
            }
            .instrument(span),
        );
    }
}

/// What the agent is given for a task written by a front door: the last user message,
/// and the task as it was before that message for a follow-up (none for a new task, as
/// an execution in the front door would have had).
fn agent_input(task: &Task, follow_up: bool) -> (harbor_a2a::Message, Option<Task>) {
    let last_user = task
        .history
        .iter()
        .rposition(|m| m.role == Role::User as i32);
    let message = last_user
        .and_then(|i| task.history.get(i).cloned())
        .unwrap_or_default();
    if !follow_up {
        return (message, None);
    }
    let mut before = task.clone();
    if let Some(i) = last_user {
        before.history.truncate(i);
    }
    (message, Some(before))
}
