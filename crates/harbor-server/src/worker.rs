//! Agent workers: processes that run executions for front doors.
//!
//! A [`Worker`] takes work from the bus (edge [`WORK_EDGE`], one consumer group shared by
//! every worker, [`DEFAULT_GROUP`] by default) that front doors
//! ([`DefaultHandlerBuilder::workers`](crate::DefaultHandlerBuilder::workers)) publish, at
//! least once: for each delivery it hands the task's lease over from the front door's
//! fence to itself ([`Leases::hand_over`](harbor_distributed::Leases::hand_over)), acks,
//! and runs the agent under that lease, appending its events to the task's log and
//! announcing them on the bus for the front doors' streams. A transient error before the
//! lease is taken nacks the delivery (it comes back); work whose task ended or whose lease
//! moved on is acked and dropped with a log line. At most
//! [`concurrency`](WorkerConfig::concurrency) executions run at once.
//!
//! Once a worker holds a task's lease, the lease is what recovers the execution: a worker
//! that dies stops renewing it, and the sweeper of any process sharing the store (worker
//! or front door) takes the task over once it expires: a worker runs a
//! [`retry_safe`](crate::AgentExecutor::retry_safe) agent again, a front door publishes
//! its work again; any other agent's task ends FAILED, saying its execution was lost.
//! A cancel on a front door writes the final status; the worker's feed sees it on the bus
//! and stops the execution. See the repository's `docs/workers.md`.

use std::sync::Arc;
use std::time::Duration;

use harbor_distributed::{
    Error, IdentityScope, MessageBus, StartPosition, SubscribeOptions, TaskLog,
};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, warn};

use crate::executor::AgentExecutor;
use crate::runtime::Runtime;
use crate::runtime::work::{Taken, Work};

pub use crate::runtime::work::EDGE as WORK_EDGE;

/// The consumer group workers share by default.
pub const DEFAULT_GROUP: &str = "harbor-workers";

/// Longest wait between two attempts to subscribe, and the delay of a nacked delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Settings of a [`Worker`]. Data only.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's name: the prefix of its lease holder name and the session of its log
    /// notices; one edge segment (no dots, wildcards or spaces). Default: `worker-` and a
    /// random id.
    pub replica: String,
    /// The consumer group workers share on the bus. Default [`DEFAULT_GROUP`].
    pub group: String,
    /// Executions this worker runs at once (at least 1). Default 16.
    pub concurrency: usize,
    /// How long an execution's lease lives without renewal (renewed every third of it).
    /// Default [`DEFAULT_LEASE_TTL`](crate::DEFAULT_LEASE_TTL).
    pub lease_ttl: Duration,
    /// How long running executions get to finish once [`Worker::run`]'s shutdown fires;
    /// then they are cancelled (a task left active is FAILED, unless the agent is
    /// retry-safe: another process runs it again once its lease expires). Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            replica: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            group: DEFAULT_GROUP.to_owned(),
            concurrency: 16,
            lease_ttl: crate::DEFAULT_LEASE_TTL,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// A process's agent worker: runs the executions front doors publish as work.
pub struct Worker {
    rt: Arc<Runtime>,
    bus: Arc<dyn MessageBus>,
    config: WorkerConfig,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker running `executor` for the tasks of `store` (which must have execution
    /// leases: PostgreSQL), taking work from `bus`, with the default settings. Needs a
    /// tokio runtime: it starts following the task logs on the bus, the lease heartbeat
    /// and the sweeper of expired leases at once.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a store without leases.
    pub fn new(
        bus: Arc<dyn MessageBus>,
        store: Arc<dyn TaskLog>,
        executor: Arc<dyn AgentExecutor>,
    ) -> Result<Self, Error> {
        Self::with_config(bus, store, executor, WorkerConfig::default())
    }

    /// [`new`](Self::new) with `config`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a store without leases or a bad setting.
    pub fn with_config(
        bus: Arc<dyn MessageBus>,
        store: Arc<dyn TaskLog>,
        executor: Arc<dyn AgentExecutor>,
        config: WorkerConfig,
    ) -> Result<Self, Error> {
        if store.leases().is_none() {
            return Err(Error::InvalidArgument(
                "a worker needs a store with execution leases (PostgreSQL)".into(),
            ));
        }
        if config.concurrency == 0 {
            return Err(Error::InvalidArgument(
                "a worker's concurrency must be at least 1".into(),
            ));
        }
        harbor_distributed::edge::validate_edge(&config.replica)
            .ok()
            .filter(|()| !config.replica.contains('.'))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "worker name {:?} must be one edge segment (no dots, wildcards or spaces)",
                    config.replica
                ))
            })?;
        tokio::runtime::Handle::try_current().map_err(|_| {
            Error::InvalidArgument("a worker must be made inside a tokio runtime".into())
        })?;
        let rt = Runtime::new(
            store,
            executor,
            None,
            None,
            Some(Arc::clone(&bus)),
            (&config.replica, config.lease_ttl),
            (Duration::from_secs(5), false),
        );
        Ok(Self { rt, bus, config })
    }

    /// The settings.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Executions running now.
    pub fn running_executions(&self) -> usize {
        self.rt.running()
    }

    /// Takes and runs work until `shutdown` fires; then stops taking work and gives the
    /// running executions [`shutdown_grace`](WorkerConfig::shutdown_grace) (see there).
    ///
    /// # Errors
    ///
    /// The bus's error when the work subscription ends for good.
    pub async fn run(&self, shutdown: CancellationToken) -> Result<(), Error> {
        let span = tracing::info_span!("a2a.worker", group = %self.config.group);
        let result = self.take_work(&shutdown).instrument(span).await;
        self.rt.shutdown(self.config.shutdown_grace).await;
        result
    }

    async fn take_work(&self, shutdown: &CancellationToken) -> Result<(), Error> {
        let start = if self.bus.capabilities().replay {
            // Work published before the group's first worker started is not lost; work
            // long settled is dropped cheaply (its lease moved on).
            StartPosition::Earliest
        } else {
            StartPosition::New
        };
        let options =
            SubscribeOptions::new([WORK_EDGE], self.config.group.clone(), IdentityScope::Admin)
                .start(start)
                .max_in_flight(self.config.concurrency);
        let mut backoff = Duration::from_millis(50);
        let mut subscription = loop {
            match self.bus.subscribe(options.clone()).await {
                Ok(subscription) => break subscription,
                Err(error) if error.is_retryable() => {
                    warn!(%error, ?backoff, "cannot take work from the bus; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(error) => return Err(error),
            }
        };
        info!(group = %self.config.group, concurrency = self.config.concurrency, "taking work");
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        loop {
            // A slot first: a worker at its limit leaves the work to the others.
            let permit = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                permit = Arc::clone(&slots).acquire_owned() => {
                    permit.map_err(|_| Error::Closed)?
                }
            };
            let delivery = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                delivery = subscription.next() => delivery,
            };
            let delivery = match delivery {
                Some(Ok(delivery)) => delivery,
                Some(Err(error)) => {
                    warn!(%error, "the work subscription failed a delivery");
                    continue;
                }
                None => return Err(Error::Closed),
            };
            let work = match Work::read(delivery.envelope()) {
                Ok(work) => work,
                Err(error) => {
                    warn!(%error, "an envelope on the work edge was not work; dropped");
                    settle(delivery.ack().await);
                    continue;
                }
            };
            let task_id = work.task_id.clone();
            match self.rt.take_work(work, permit).await {
                Ok(Taken::Running) => {
                    info!(%task_id, attempt = delivery.attempt(), "took work");
                    settle(delivery.ack().await);
                }
                Ok(Taken::Dropped(why)) => {
                    info!(%task_id, "work dropped: {why}");
                    settle(delivery.ack().await);
                }
                Err(error) => {
                    warn!(%task_id, %error, "work could not be taken; it comes back");
                    let delay =
                        Duration::from_millis(100 * u64::from(delivery.attempt())).min(MAX_BACKOFF);
                    settle(delivery.nack_with_reason(delay, error.to_string()).await);
                }
            }
        }
    }
}

fn settle(result: Result<(), Error>) {
    if let Err(error) = result {
        debug!(%error, "a work delivery could not be settled; it may come back and is dropped then");
    }
}
