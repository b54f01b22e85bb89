//! Execution leases: which process runs a task's execution, until when, with a fencing
//! token, so that processes sharing a store find the executions a dead process held and a
//! process that lost its lease cannot write over its successor.
//!
//! A lease belongs to one task and one *holder* (a name unique to one process run). It has
//! an *epoch*, raised by one at every acquisition: the pair is the [`Fence`] an execution
//! writes with. [`Leases::append_fenced`] is [`TaskLog::append`](super::TaskLog::append)
//! that succeeds only while the fence is the task's current lease (expired or not: a
//! lease ends when someone else takes it, not at its deadline), so once another process
//! took a task over, every write of the old holder is refused with [`Error::LeaseLost`].
//!
//! The holder keeps its leases alive with [`Leases::renew`] (one write for all of them)
//! well within their time to live; a process that stops renewing (killed, paused, cut off
//! from the store) loses them to whoever finds them in [`Leases::expired`] and acquires
//! them. Push delivery is held the same way ([`Leases::hold_push`]): a config registered
//! on a process is delivered by it, and claimed by another once that one stops renewing.
//! Writes without a fence (a user's follow-up message, a cancel run by another
//! process) are not lease-checked: they are ordered by the log's versions like any write.
//!
//! Time is the store's clock, so processes whose clocks disagree still agree on expiry.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task};

use super::PushCursor;
use crate::{Error, Owner};

/// The right to write a task as its execution: who holds the lease, at which epoch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fence {
    /// The holder's name, unique to one process run.
    pub holder: Arc<str>,
    /// The lease's epoch: 1 for a task's first lease, one more at every acquisition.
    pub epoch: u64,
}

/// The execution leases of a [`TaskLog`](super::TaskLog) that several processes share.
#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the lease of `owner`'s task `task_id` for `holder`, for `ttl`, when nobody
    /// holds it or its holder let it expire (a holder may take its own lease again, at a new
    /// epoch). Returns the new fence, or `None` when another holder's lease is still alive.
    ///
    /// # Errors
    ///
    /// [`Error::TaskNotFound`] for a task that is missing or another owner's.
    async fn acquire(
        &self,
        owner: &Owner,
        task_id: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Fence>, Error>;

    /// Hands the lease of `owner`'s task `task_id` from exactly `from` to `to`, for `ttl`,
    /// at the next epoch: the compare-and-set a process that created or took a task uses
    /// to give its execution to another (a front door to a worker). It succeeds while
    /// `from` is the task's lease, alive or expired (nobody else took it); it returns
    /// `None`, changing nothing, once anyone took the lease (at a new epoch, `from`'s
    /// holder included), released it, or the task ended (a finished task holds no lease).
    ///
    /// # Errors
    ///
    /// [`Error::TaskNotFound`] for a task that is missing or another owner's.
    async fn hand_over(
        &self,
        owner: &Owner,
        task_id: &str,
        from: &Fence,
        to: &str,
        ttl: Duration,
    ) -> Result<Option<Fence>, Error>;

    /// Extends every lease and push hold `holder` still holds to `ttl` from now; returns
    /// how many.
    async fn renew(&self, holder: &str, ttl: Duration) -> Result<u64, Error>;

    /// Gives the lease of `task_id` up, if `fence` still holds it (else nothing happens):
    /// the execution ended.
    async fn release(&self, task_id: &str, fence: &Fence) -> Result<(), Error>;

    /// [`TaskLog::append`](super::TaskLog::append) under `fence`. Creating the task
    /// (`expected_version` 0) gives `fence` its lease, for `ttl`, which must be epoch 1;
    /// any other append requires `fence` to be the task's lease.
    ///
    /// # Errors
    ///
    /// [`Error::LeaseLost`] when another holder took the lease over, and every error of
    /// `append`. Nothing is written on any error.
    async fn append_fenced(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
        fence: &Fence,
        ttl: Duration,
    ) -> Result<u64, Error>;

    /// At most `limit` (at least 1) SUBMITTED or WORKING tasks whose id sorts after `after`
    /// ("" for the first), every owner's, in id order, whose lease expired or that have
    /// none (their execution ended without a final status, or was never leased): the
    /// tasks no execution holds.
    async fn expired(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error>;

    /// Marks `holder` as the process delivering push config `config_id` of `task_id`, for
    /// `ttl` (then renewed with its leases): another process claims it only once the hold
    /// expired. The hold ends by itself when the config's cursor is saved with nothing left
    /// to deliver (dead, or the task finished and everything delivered).
    async fn hold_push(
        &self,
        task_id: &str,
        config_id: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<(), Error>;

    /// Takes over at most `limit` push configs with something left to deliver whose
    /// holder's hold expired (its process died), for `holder` and `ttl`; returns their
    /// cursors. Processes claiming at once never claim the same config.
    async fn claim_pushes(
        &self,
        holder: &str,
        ttl: Duration,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error>;
}
