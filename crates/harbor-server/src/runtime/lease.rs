//! Executions under leases, on a store several processes share ([`Leases`]).
//!
//! Every execution of this process writes under its task's lease: a new task is created
//! with one, a follow-up, a re-run or a take-over acquires one first, and the execution
//! releases it when it ends. One heartbeat renews all of this process's leases every third
//! of their time to live. A sweeper looks for tasks whose lease expired (their process
//! died, hung, or lost the store) every half of it, takes them over, and re-runs them
//! (for a [`retry_safe`](crate::AgentExecutor::retry_safe) agent) or ends them FAILED
//! saying the execution was lost; the other processes' streams see that through the bus.
//! The old holder, should it come back, finds its writes refused ([`Error::LeaseLost`]).
//! Push configs registered here are held the same way, and the sweeper claims those whose
//! holder stopped renewing, to deliver what is left from here.
//!
//! So a task stays SUBMITTED or WORKING without a live execution for at most its time to
//! live plus half of it.

use std::sync::{Arc, Weak};
use std::time::Duration;

use harbor_a2a::{StreamResponse, Task};
use harbor_distributed::{Error, Fence, Leases, Owner, TaskLog};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::core::{Runtime, lock};
use super::leasing::Leasing;

/// The status message of a task whose execution was lost with its lease.
pub(super) const LEASE_EXPIRED: &str =
    "the execution of this task was lost: the server running it stopped renewing its lease";

/// How many expired tasks one sweep reads at a time.
const SWEEP_PAGE: usize = 256;

/// Starts the heartbeat and the sweeper of `rt` under `leasing` (which needs a tokio
/// runtime); they end with [`Leasing::stop`] or when `rt` is dropped.
pub(super) fn start(leasing: &Leasing, rt: &Arc<Runtime>) {
    let renew_every = (leasing.ttl / 3).max(Duration::from_millis(10));
    let sweep_every = (leasing.ttl / 2).max(Duration::from_millis(10));
    tokio::spawn(every(
        renew_every,
        Arc::downgrade(rt),
        leasing.stopper().clone(),
        |rt| Box::pin(async move { rt.renew_leases().await }),
    ));
    tokio::spawn(every(
        sweep_every,
        Arc::downgrade(rt),
        leasing.stopper().clone(),
        |rt| Box::pin(async move { rt.sweep().await }),
    ));
}

/// [`TaskLog::append`], under `lease` (a fence and its time to live) when given and the
/// store has leases.
pub(super) async fn append(
    store: &dyn TaskLog,
    owner: &Owner,
    task: &Task,
    expected_version: u64,
    events: &[StreamResponse],
    lease: Option<(&Fence, Duration)>,
) -> Result<u64, Error> {
    match (lease, store.leases()) {
        (Some((fence, ttl)), Some(leases)) => {
            leases
                .append_fenced(owner, task, expected_version, events, fence, ttl)
                .await
        }
        _ => store.append(owner, task, expected_version, events).await,
    }
}

type Job = fn(Arc<Runtime>) -> futures::future::BoxFuture<'static, ()>;

/// Runs `job` every `period` while `rt` lives and `stop` is not cancelled.
async fn every(period: Duration, rt: Weak<Runtime>, stop: CancellationToken, job: Job) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let Some(rt) = rt.upgrade() else { return };
        job(rt).await;
    }
}

impl Runtime {
    /// The store's leases, when executions here run under them.
    pub(super) fn leases(&self) -> Option<(&Leasing, &dyn Leases)> {
        Some((self.leasing.as_ref()?, self.store().leases()?))
    }

    /// Takes the lease of `owner`'s task for an execution here: `Ok(None)` without
    /// leases. While another process's execution holds it, waits for that one to end (as a
    /// follow-up here waits for the execution here), at most the lease's time to live; then
    /// refuses.
    pub(super) async fn lease(&self, owner: &Owner, task_id: &str) -> Result<Option<Fence>, Error> {
        let Some((leasing, leases)) = self.leases() else {
            return Ok(None);
        };
        let give_up = tokio::time::Instant::now() + leasing.ttl;
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(fence) = leases
                .acquire(owner, task_id, &leasing.holder, leasing.ttl)
                .await?
            {
                return Ok(Some(fence));
            }
            if tokio::time::Instant::now() + pause > give_up {
                return Err(Error::Protocol(harbor_a2a::A2aError::unsupported(format!(
                    "task {task_id} is being run by another server; send to it again once it no longer works"
                ))));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Takes the lease of `owner`'s task if nobody else holds it, at once and without
    /// waiting: `Ok(None)` without leases or while another process's execution holds it.
    pub(super) async fn try_lease(
        &self,
        owner: &Owner,
        task_id: &str,
    ) -> Result<Option<Fence>, Error> {
        match self.leases() {
            Some((leasing, leases)) => {
                leases
                    .acquire(owner, task_id, &leasing.holder, leasing.ttl)
                    .await
            }
            None => Ok(None),
        }
    }

    /// `fence` with the time to live of this process's leases, for an append under it.
    pub(super) fn lease_of<'a>(&self, fence: Option<&'a Fence>) -> Option<(&'a Fence, Duration)> {
        Some((fence?, self.leasing.as_ref()?.ttl))
    }

    /// Gives up an execution's lease (it ended).
    pub(super) async fn release(&self, task_id: &str, fence: &Fence) {
        if let Some((_, leases)) = self.leases()
            && let Err(error) = leases.release(task_id, fence).await
        {
            warn!(%task_id, %error, "a lease could not be released; it expires by itself");
        }
    }

    /// Holds the delivery of a push config registered here (see [`Leases::hold_push`]).
    pub(super) async fn hold_push(&self, config: &harbor_a2a::TaskPushNotificationConfig) {
        let Some((leasing, leases)) = self.leases() else {
            return;
        };
        let held = leases
            .hold_push(&config.task_id, &config.id, &leasing.holder, leasing.ttl)
            .await;
        if let Err(error) = held {
            warn!(task_id = %config.task_id, config_id = %config.id, %error,
                "a push config's delivery could not be held; it is delivered from here, but not taken over should this server die");
        }
    }

    /// Renews every lease of this process.
    async fn renew_leases(self: Arc<Self>) {
        let Some((leasing, leases)) = self.leases() else {
            return;
        };
        if let Err(error) = leases.renew(&leasing.holder, leasing.ttl).await {
            warn!(%error, holder = %leasing.holder, "the execution leases could not be renewed");
        }
    }

    /// Takes over the tasks whose lease expired and resolves them (re-run for a retry-safe
    /// agent, else FAILED), and the push configs whose hold expired.
    async fn sweep(self: Arc<Self>) {
        if let Err(error) = self.take_over_expired().await {
            warn!(%error, "the tasks of expired leases could not be looked up");
        }
        if let Err(error) = self.claim_pushes().await {
            warn!(%error, "the push configs of expired holds could not be claimed");
        }
    }

    /// Delivers from here the push configs whose holder stopped renewing.
    async fn claim_pushes(&self) -> Result<(), Error> {
        let (Some((leasing, leases)), Some(push)) = (self.leases(), &self.push) else {
            return Ok(());
        };
        while !self.is_draining() {
            let claimed = leases
                .claim_pushes(&leasing.holder, leasing.ttl, SWEEP_PAGE)
                .await?;
            for cursor in &claimed {
                info!(task_id = %cursor.task_id, config_id = %cursor.config_id,
                    "a push config's server stopped renewing its hold; delivering it from here");
                push.adopt(cursor);
            }
            if claimed.len() < SWEEP_PAGE {
                break;
            }
        }
        Ok(())
    }

    async fn take_over_expired(self: &Arc<Self>) -> Result<(), Error> {
        let Some((leasing, leases)) = self.leases() else {
            return Ok(());
        };
        let mut after = String::new();
        while !self.is_draining() {
            let page = leases.expired(&after, SWEEP_PAGE).await?;
            let Some((_, last)) = page.last() else {
                return Ok(());
            };
            after.clone_from(last);
            for (owner, id) in page {
                if self.is_draining() || lock(&self.runs).contains_key(&id) {
                    continue;
                }
                let Some(fence) = leases
                    .acquire(&owner, &id, &leasing.holder, leasing.ttl)
                    .await?
                else {
                    continue; // another process took it first
                };
                self.take_over(owner, &id, fence).await;
            }
        }
        Ok(())
    }

    /// Resolves the task `id`, whose lease this process just took.
    async fn take_over(self: &Arc<Self>, owner: Owner, id: &str, fence: Fence) {
        let stored = match self.store().get(&owner, id).await {
            Ok(stored) if stored.task.state().is_active() => stored,
            Ok(_) | Err(Error::TaskNotFound { .. }) => {
                self.release(id, &fence).await;
                return;
            }
            Err(error) => {
                warn!(task_id = %id, %error, "a task of an expired lease could not be read");
                self.release(id, &fence).await;
                return;
            }
        };
        if self.executor.retry_safe() && self.is_front_door() {
            // No agent runs here: a worker gets the work again.
            self.republish(&owner, &stored, fence).await;
            return;
        }
        if self.executor.retry_safe() {
            info!(task_id = %id, "the task's execution was lost with its lease; running it again here");
            self.rerun(owner, stored, Some(fence)).await;
            return;
        }
        info!(task_id = %id, "the task's execution was lost with its lease; marking it failed");
        if let Err(error) = self
            .fail_lost(&owner, &stored, LEASE_EXPIRED, Some(&fence))
            .await
        {
            warn!(task_id = %id, %error, "a task of an expired lease could not be failed");
        }
        self.release(id, &fence).await;
    }
}
