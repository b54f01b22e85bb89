//! What a bus shares with its tasks, subscriptions and deliveries: the connection pools
//! and statements ([`Db`]), the life cycle ([`Inner`]'s [`Lifecycle`] and tokens), and the items
//! of the publish and settle queues ([`PublishOp`], [`SettleOp`]).
//!
//! The bottom of the bus: it imports only the configuration, the statements and the
//! in-process [`Groups`]; publishing, settling, the listener, subscriptions and deliveries
//! import it, and the facade ([`PostgresBus`](crate::PostgresBus)) builds it.

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use harbor_distributed::kit::Lifecycle;
use harbor_distributed::{Envelope, Error, PublishReceipt};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::NoTls;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::PostgresBusConfig;
use crate::groups::Groups;
use crate::statements::Statements;

/// What every part of a bus reaches the database with.
#[derive(Debug)]
pub(crate) struct Db {
    pub(crate) config: PostgresBusConfig,
    /// Durable commits: publishes, group registration, the schema.
    pub(crate) pool: Pool,
    /// `synchronous_commit = off`: claims, acks, nacks and releases.
    pub(crate) settle_pool: Pool,
    pub(crate) sql: Statements,
}

pub(crate) fn build_pool(
    config: &PostgresBusConfig,
    server: tokio_postgres::Config,
) -> Result<Pool, Error> {
    let manager = Manager::from_config(
        server,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .wait_timeout(Some(config.connect_timeout * 2))
        .build()
        .map_err(|e| Error::InvalidConfig(format!("connection pool: {e}")))
}

/// One publish waiting for its batch.
pub(crate) struct PublishOp {
    pub(crate) envelope: Envelope,
    pub(crate) reply: oneshot::Sender<Result<PublishReceipt, Error>>,
}

/// A delivery to settle, named by its lease: (group, seq, attempts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LeaseKey {
    pub(crate) group: i32,
    pub(crate) seq: i64,
    pub(crate) attempt: i32,
}

/// What the settle batcher does.
pub(crate) enum SettleOp {
    /// Forget the delivery; answers `DeliveryExpired` when the lease is gone.
    Ack(LeaseKey, oneshot::Sender<Result<(), Error>>),
    /// Give back a delivery that was never handed to a consumer (its subscription went
    /// away): claimable at once, the attempt not counted.
    Release(LeaseKey),
}

/// The state a bus shares with its tasks, deliveries and subscriptions.
pub(crate) struct Inner {
    pub(crate) db: Arc<Db>,
    pub(crate) groups: Groups,
    /// Open (publishes and subscriptions taken), draining or closed; its close lock
    /// remembers a close that ran to its end.
    pub(crate) life: Lifecycle,
    /// `close` began: subscriptions drain and end once nothing is left.
    pub(crate) draining: CancellationToken,
    /// Subscriptions end now.
    pub(crate) ended: CancellationToken,
    /// The listener and the janitor stop.
    pub(crate) stopped: CancellationToken,
    pub(crate) stop_publishing: CancellationToken,
    pub(crate) stop_settling: CancellationToken,
    pub(crate) publisher: mpsc::UnboundedSender<PublishOp>,
    pub(crate) settler: mpsc::UnboundedSender<SettleOp>,
    pub(crate) subscriptions: TaskTracker,
    pub(crate) tasks: TaskTracker,
}

impl Inner {
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.is_cancelled()
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.ended.is_cancelled()
    }

    /// Stops everything at once, without draining (the bus was dropped unclosed).
    pub(crate) fn abandon(&self) {
        self.life.close();
        self.draining.cancel();
        self.ended.cancel();
        self.stopped.cancel();
        self.stop_publishing.cancel();
        self.stop_settling.cancel();
    }
}
