//! The embedded [`MessageBus`]: a durable log with consumer groups in the data directory's
//! redb file.
//!
//! - **Log.** Every envelope is appended to the `harbor_bus_log` table under the next
//!   sequence number, as a compact, versioned, checksummed record (every field
//!   round-trips exactly; a damaged record fails to decode with a clear error). `publish`
//!   returns once the record is on disk; its receipt carries the sequence.
//! - **Group commit.** One writer thread commits whatever is queued (publishes, acks,
//!   group changes) in one write transaction with [`redb::Durability::Immediate`]: one
//!   fsync for many callers, each answered after the commit.
//! - **Publish dedup.** `(task_id, edge, event_id)` is indexed: a second publish of a key
//!   the log still holds stores nothing and reports `duplicate: true` with the first
//!   sequence.
//! - **Consumer groups.** A group is named per scope (tenant `a`'s `workers` and tenant
//!   `b`'s `workers` are two groups) and stored when its first subscription opens,
//!   starting at [`StartPosition::New`] (the head), [`StartPosition::Earliest`] (the
//!   oldest retained entry) or a [`StartPosition::Sequence`]; it then resumes where it
//!   is, across restarts, until deleted. Its subscriptions compete for its envelopes; each
//!   holds at most `max_in_flight` unsettled deliveries.
//! - **Settling.** An ack is durable when `ack` returns (acks are batched through the same
//!   writer). A nack redelivers after the delay; a delivery neither acked nor nacked
//!   within the visibility timeout is redelivered, its attempt counter raised. The
//!   delivery that reaches `max_attempts` and is nacked or times out is appended to
//!   [`dead_letter::edge`](harbor_distributed::bus::dead_letter::edge) in the same
//!   transaction that settles it.
//! - **Restarts.** A group stores its cursor (what it has delivered), its floor (below
//!   which everything is settled), the envelopes settled above the floor and the attempt
//!   counts of redelivered ones. After a restart, or a crash, what was delivered and not
//!   settled is delivered again with its attempt counter continuing. A delivery made just
//!   before a crash may come back with the same attempt number when the crash beat the
//!   writer to storing it; nack delays are not kept across restarts.
//! - **Retention.** Entries every group has settled stay for replay for
//!   [`EmbeddedBusConfig::retain_for`] and up to [`EmbeddedBusConfig::retain_max`] entries, then go (with
//!   their dedup keys); see [`EmbeddedBusConfig`].
//! - **Reading.** Subscribers read the newest committed envelopes from an in-memory tail
//!   ([`EmbeddedBusConfig::tail_cache`]) and older ones from the file in batches, off the runtime's
//!   worker threads. They wait on notifications (a commit, an ack, a timeout), never poll.
//! - **Backlog.** [`backlog`](harbor_distributed::MessageBus::backlog) is exact: per group
//!   of that name (one per scope), the envelopes it has read and not settled (waiting, in
//!   flight, nacked), plus the log entries past its read position that it admits, counted
//!   from the cache or, for a group far behind, read back from the file.
//! - **Order.** One subscriber of a group gets the envelopes in log order, redeliveries
//!   excepted.
//! - **Close.** [`close`](harbor_distributed::MessageBus::close) refuses new envelopes and subscriptions, lets
//!   subscribers finish what they hold and what is waiting for them (up to
//!   [`EmbeddedBusConfig::drain_timeout`]), ends every subscription and stores every group. The
//!   bus spawns no tokio task; dropping it stops its writer thread after the queued
//!   writes.
//!
//! # Tables
//!
//! | table | key | value |
//! |---|---|---|
//! | `harbor_bus_log` | sequence | envelope record |
//! | `harbor_bus_dedup` | `(task_id, edge, event_id)` | sequence |
//! | `harbor_bus_groups` | group key (scope + name) | edges, scope, cursor, floor |
//! | `harbor_bus_settled` | (group key, sequence) | — |
//! | `harbor_bus_attempts` | (group key, sequence) | deliveries made |
//!
//! # Example
//!
//! ```
//! use harbor_distributed::{Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions};
//! use harbor_embedded::{Embedded, EmbeddedConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), harbor_distributed::Error> {
//! # let dir = tempfile::tempdir().expect("tempdir");
//! let engine = Embedded::open(EmbeddedConfig::new(dir.path()))?;
//! let bus = engine.bus();
//! let scope = IdentityScope::Tenant("acme".into());
//! let mut sub = bus.subscribe(SubscribeOptions::new(["planner.*"], "planners", scope)).await?;
//! let who = Identity::new("acme", "ada", "s-1")?;
//! let receipt = bus
//!     .publish(Envelope::new("planner.next", who, "01J0000000000000000000000A", "hi"))
//!     .await?; // on disk now
//! assert_eq!(receipt.sequence, Some(0));
//! let delivery = sub.next().await.expect("a delivery")?;
//! assert_eq!(delivery.envelope().payload.as_ref(), b"hi");
//! delivery.ack().await?; // durable too
//! bus.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`MessageBus`]: harbor_distributed::MessageBus
//! [`StartPosition::New`]: harbor_distributed::StartPosition::New
//! [`StartPosition::Earliest`]: harbor_distributed::StartPosition::Earliest
//! [`StartPosition::Sequence`]: harbor_distributed::StartPosition::Sequence

use std::fmt;
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::thread::JoinHandle;

use harbor_distributed::Error;
use harbor_distributed::kit::{self, Lifecycle};
use redb::Database;
use tokio::sync::Notify;

use crate::errors::failure;

mod acker;
mod backlog;
mod config;
mod core;
mod group;
mod lease;
mod message_bus;
pub(crate) mod record;
mod recover;
mod retention;
mod subscription;
mod tables;
mod tail;
mod timer;
mod writer;

pub use config::EmbeddedBusConfig;
pub use record::RecordError;

use self::core::{Op, Shared, Timer};
use group::Phase;
use tail::Tail;
use writer::Writer;

/// A durable [`MessageBus`](harbor_distributed::MessageBus) in the data directory's redb file; see the [module docs](self).
///
/// Subscriptions and acks need a tokio runtime (file reads run on its blocking pool).
pub struct EmbeddedBus {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for EmbeddedBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedBus")
            .field("config", &self.shared.config)
            .field("head", &self.shared.head())
            .finish_non_exhaustive()
    }
}

impl EmbeddedBus {
    /// Opens the bus tables of `db` (creating them when missing), reads back every
    /// consumer group and starts the writer thread.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the tables cannot be read, a stored group or an unsettled
    /// envelope does not decode, or the thread cannot start.
    pub fn new(db: Arc<Database>, config: EmbeddedBusConfig) -> Result<Self, Error> {
        let config = config.normalized();
        let recovered = recover::recover(&db)?;
        let (queue, ops) = mpsc::channel();
        let shared = Arc::new(Shared {
            tail: RwLock::new(Tail::new(recovered.next, config.tail_cache)),
            config,
            db: Arc::clone(&db),
            queue,
            appended: Notify::new(),
            groups: Mutex::new(recovered.groups),
            life: Lifecycle::new(),
            drain: Notify::new(),
            timer: Timer::default(),
            creating: tokio::sync::Mutex::new(()),
        });
        let writer = Writer {
            db,
            shared: Arc::clone(&shared),
            next: recovered.next,
        };
        let write = std::thread::Builder::new()
            .name("harbor-bus-write".into())
            .spawn(move || writer.run(&ops))
            .map_err(failure)?;
        let bus = Self {
            shared: Arc::clone(&shared),
            threads: Mutex::new(vec![write]),
        };
        let time = std::thread::Builder::new()
            .name("harbor-bus-timer".into())
            .spawn(move || timer::run(&shared))
            .map_err(failure)?;
        kit::lock(&bus.threads).push(time);
        Ok(bus)
    }

    /// The settings in use.
    pub fn config(&self) -> &EmbeddedBusConfig {
        &self.shared.config
    }

    /// The sequence the next envelope will get: one past the newest in the log.
    pub fn head(&self) -> u64 {
        self.shared.head()
    }

    /// Ends every subscription at once (no draining).
    fn end_groups(&self) {
        let groups: Vec<_> = self.shared.groups().values().cloned().collect();
        for group in groups {
            group.lock().phase = Phase::Ended;
            group.changed.notify_waiters();
        }
    }

    /// Every group, for `close`.
    fn group_list(&self) -> Vec<Arc<group::Group>> {
        self.shared.groups().values().cloned().collect()
    }
}

impl Drop for EmbeddedBus {
    fn drop(&mut self) {
        self.shared.life.close();
        self.end_groups();
        let _ = self.shared.send(Op::Stop);
        self.shared.timer.stop();
        let threads = std::mem::take(&mut *kit::lock(&self.threads));
        for thread in threads {
            if thread.join().is_err() {
                tracing::error!("an embedded bus thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests;
