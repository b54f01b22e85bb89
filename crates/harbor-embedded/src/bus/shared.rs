//! What the bus, its subscriptions, its acknowledgers and its writer thread share.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, mpsc};

use harbor_distributed::Error;
use redb::Database;
use tokio::sync::{Notify, oneshot};

use super::config::BusConfig;
use super::group::Group;
use super::tail::Tail;
use super::timer::Timer;
use super::writer::Op;

pub(super) const OPEN: u8 = 0;
pub(super) const DRAINING: u8 = 1;
pub(super) const ENDED: u8 = 2;

/// The shared state of one bus.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) config: BusConfig,
    pub(super) db: Arc<Database>,
    pub(super) queue: mpsc::Sender<Op>,
    /// The newest committed envelopes; its end is the log's head.
    pub(super) tail: RwLock<Tail>,
    /// Notified after every commit that appended envelopes.
    pub(super) appended: Notify,
    /// Every consumer group, by key. The writer adds new ones.
    pub(super) groups: Mutex<HashMap<String, Arc<Group>>>,
    pub(super) phase: AtomicU8,
    /// Notified while `close` drains, whenever a group may have become drained.
    pub(super) drain: Notify,
    /// Serializes group creation, so concurrent first subscribers make one group.
    pub(super) creating: tokio::sync::Mutex<()>,
    /// Visibility timeouts and nack delays.
    pub(super) timer: Timer,
    /// Serializes `close`.
    pub(super) closing: tokio::sync::Mutex<()>,
}

impl Shared {
    pub(super) fn groups(&self) -> MutexGuard<'_, HashMap<String, Arc<Group>>> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The log's head: one past the newest committed sequence.
    pub(super) fn head(&self) -> u64 {
        self.tail
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .end()
    }

    /// Queues `op` with the writer.
    pub(super) fn send(&self, op: Op) -> Result<(), Error> {
        self.queue.send(op).map_err(|_| Error::Closed)
    }

    /// Waits until `group`'s changes so far are durable.
    pub(super) async fn sync(&self, group: &Arc<Group>) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        group.claim_sync();
        self.send(Op::Sync {
            group: Arc::clone(group),
            reply: Some(reply),
        })?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// Asks the writer to store `group`'s changes soon, unless that is already asked.
    pub(super) fn sync_later(&self, group: &Arc<Group>) {
        if group.claim_sync() {
            let _ = self.send(Op::Sync {
                group: Arc::clone(group),
                reply: None,
            });
        }
    }

    /// Tells a draining `close` to look again.
    pub(super) fn poke_drain(&self) {
        if self.phase.load(Ordering::Acquire) == DRAINING {
            self.drain.notify_waiters();
        }
    }
}
