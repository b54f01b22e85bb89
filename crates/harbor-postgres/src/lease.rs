//! Claimed deliveries and their leases: the right to settle one, counted in its
//! subscription's in-flight total, and given back when dropped unsettled.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use harbor_distributed::Envelope;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::core::{Inner, LeaseKey, SettleOp};
use crate::groups::Group;

/// A subscription's unsettled deliveries (claimed, queued or with the consumer).
#[derive(Debug, Default)]
pub(crate) struct Held {
    count: AtomicUsize,
    /// Told whenever a delivery is settled or given up.
    pub(crate) changed: Notify,
}

impl Held {
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// The right to settle one delivery; counts in its subscription's in-flight total.
pub(crate) struct Lease {
    pub(crate) bus: Arc<Inner>,
    pub(crate) group: Arc<Group>,
    pub(crate) key: LeaseKey,
    pub(crate) max_attempts: u32,
    /// When the engine makes it claimable again if unsettled (a local estimate).
    pub(crate) deadline: Instant,
    held: Arc<Held>,
}

impl Lease {
    pub(crate) fn new(
        bus: Arc<Inner>,
        group: Arc<Group>,
        key: LeaseKey,
        max_attempts: u32,
        deadline: Instant,
        held: Arc<Held>,
    ) -> Self {
        held.count.fetch_add(1, Ordering::SeqCst);
        Self {
            bus,
            group,
            key,
            max_attempts,
            deadline,
            held,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.held.count.fetch_sub(1, Ordering::SeqCst);
        self.held.changed.notify_one();
    }
}

/// A claimed delivery queued for its consumer. Dropped before it is handed out (the
/// subscription went away), it is given back at once.
pub(crate) struct Claimed {
    pub(crate) envelope: Option<Envelope>,
    pub(crate) lease: Option<Lease>,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            let _ = lease.bus.settler.send(SettleOp::Release(lease.key));
            lease.group.wake.notify_one();
        }
    }
}
