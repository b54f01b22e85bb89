//! What the bus, its subscriptions, its acknowledgers and its threads share: the [`Shared`]
//! state, the bus's phase, the [`Op`]s queued for the writer thread and the [`Timer`] plan
//! the timer thread sleeps on. The threads themselves live above it, in `writer` and
//! `timer`.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, mpsc};
use std::time::Instant;

use harbor_distributed::kit::{self, Lifecycle};
use harbor_distributed::{Envelope, Error, PublishReceipt, StartPosition};
use redb::Database;
use tokio::sync::{Notify, oneshot};

use super::config::EmbeddedBusConfig;
use super::group::Group;
use super::tail::Tail;

/// The shared state of one bus.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) config: EmbeddedBusConfig,
    pub(super) db: Arc<Database>,
    pub(super) queue: mpsc::Sender<Op>,
    /// The newest committed envelopes; its end is the log's head.
    pub(super) tail: RwLock<Tail>,
    /// Notified after every commit that appended envelopes.
    pub(super) appended: Notify,
    /// Every consumer group, by key. The writer adds new ones.
    pub(super) groups: Mutex<HashMap<String, Arc<Group>>>,
    /// Open, draining or closed, and the lock that serializes `close`.
    pub(super) life: Lifecycle,
    /// Notified while `close` drains, whenever a group may have become drained.
    pub(super) drain: Notify,
    /// Serializes group creation, so concurrent first subscribers make one group.
    pub(super) creating: tokio::sync::Mutex<()>,
    /// Visibility timeouts and nack delays.
    pub(super) timer: Timer,
}

impl Shared {
    pub(super) fn groups(&self) -> MutexGuard<'_, HashMap<String, Arc<Group>>> {
        kit::lock(&self.groups)
    }

    /// The log's head: one past the newest committed sequence.
    pub(super) fn head(&self) -> u64 {
        kit::read(&self.tail).end()
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
        if self.life.is_draining() {
            self.drain.notify_waiters();
        }
    }
}

/// One thing for the writer to do.
pub(super) enum Op {
    /// Append an envelope (unless its dedup key is stored already).
    Publish {
        envelope: Arc<Envelope>,
        record: Vec<u8>,
        key: Vec<u8>,
        reply: oneshot::Sender<Result<PublishReceipt, Error>>,
    },
    /// Store the group's changes; answer once they are durable.
    Sync {
        group: Arc<Group>,
        reply: Option<oneshot::Sender<Result<(), Error>>>,
    },
    /// Store a new group starting at `start`, then register it.
    Create {
        group: Arc<Group>,
        start: StartPosition,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Finish the batch and end the thread.
    Stop,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Publish { .. } => "Publish",
            Self::Sync { .. } => "Sync",
            Self::Create { .. } => "Create",
            Self::Stop => "Stop",
        })
    }
}

#[derive(Debug, Default)]
struct Plan {
    next: Option<Instant>,
    stop: bool,
}

/// When the timer thread must look next.
#[derive(Debug, Default)]
pub(super) struct Timer {
    plan: Mutex<Plan>,
    wake: Condvar,
}

impl Timer {
    fn plan(&self) -> MutexGuard<'_, Plan> {
        kit::lock(&self.plan)
    }

    /// Makes sure the thread looks at `at` or earlier.
    pub(super) fn arm(&self, at: Instant) {
        let mut plan = self.plan();
        if plan.next.is_none_or(|next| at < next) {
            plan.next = Some(at);
            self.wake.notify_one();
        }
    }

    /// Ends the thread.
    pub(super) fn stop(&self) {
        self.plan().stop = true;
        self.wake.notify_one();
    }

    /// Waits for the next due time; false once stopped.
    pub(super) fn wait(&self) -> bool {
        let mut plan = self.plan();
        loop {
            if plan.stop {
                return false;
            }
            match plan.next {
                None => plan = kit::wait(&self.wake, plan),
                Some(at) => {
                    let now = Instant::now();
                    if at <= now {
                        plan.next = None;
                        return true;
                    }
                    plan = kit::wait_timeout(&self.wake, plan, at - now);
                }
            }
        }
    }
}
